//! Making an attempt: the agent makes it the moment it is asked; people doing the work by
//! hand take it from a FIFO desk and need their service time. Either way the attempt then
//! walks the policy's stages from the first.

use super::{Ev, Sim, StageRt};
use crate::production::People;
use crate::stages::Desk;

impl<'a> Sim<'a> {
    /// The people who do class `class`, if it is done by hand.
    #[inline]
    fn people_for(&self, class: usize) -> Option<&'a People> {
        self.policy.work.people_for(class)
    }

    /// Decides whether action `id`'s first attempt is defective, with its draw `u`, at the
    /// defect probability of whoever makes it, and begins the attempt.
    pub(super) fn produce(&mut self, id: u32, u: f64) {
        let (class, z) = {
            let a = &self.actions[id as usize];
            (a.class as usize, a.z)
        };
        let entity = self.actions[id as usize].entity();
        self.actions[id as usize].defective = self.is_defective(class, u, z, entity);
        self.begin(id);
    }

    /// An attempt of action `id` (its defect decided) is made: routed at once by the
    /// agent, or queued for the people doing its class.
    pub(super) fn begin(&mut self, id: u32) {
        let class = self.actions[id as usize].class as usize;
        let now = self.now;
        match (&mut self.work, self.policy.work.people_for(class)) {
            (Some(desk), Some(_)) => match desk.idle() {
                Some(r) => self.start_work(r, id, now),
                None => desk.enqueue(now, id),
            },
            _ => {
                if self.measuring() {
                    self.measures.tally.all.agent_attempts += 1;
                }
                self.route(id, 0)
            }
        }
    }

    /// Person `r` starts on action `id`'s attempt, queued since `since`.
    fn start_work(&mut self, r: usize, id: u32, since: f64) {
        let class = self.actions[id as usize].class as usize;
        let people = self.people_for(class).expect("work by hand");
        let entity = self.actions[id as usize].entity();
        let service = people.service.sample(&mut self.streams.work.draws_about(entity));
        let now = self.now;
        self.work_desk().start(now, r, id, since);
        self.events
            .schedule(now + service, Ev::WorkDone { person: r as u32 });
    }

    /// Person `r` finishes an attempt: it goes to the stages, and the person takes the next.
    pub(super) fn on_work_done(&mut self, r: usize) {
        let now = self.now;
        let desk = self.work_desk();
        let id = desk.finish(now, r);
        if let Some((since, next)) = desk.next(now) {
            self.start_work(r, next, since);
        }
        self.route(id, 0);
    }

    fn work_desk(&mut self) -> &mut Desk<u32> {
        self.work.as_deref_mut().expect("work by hand")
    }

    /// The halt is over: the actions that waited for it are made, in arrival order, until
    /// a new halt begins.
    pub(super) fn resume_held(&mut self) {
        let held = std::mem::take(&mut self.agent.held);
        let mut rest = held.into_iter();
        while let Some((id, u)) = rest.next() {
            if self.agent.is_halted(self.now) {
                self.agent.held.push((id, u));
                self.agent.held.extend(rest);
                return;
            }
            self.produce(id, u);
        }
    }

    /// Whether attempt `entity` of `class` made now, with its defect draws `u` and `z`, is
    /// defective: the one place an attempt's defect is decided (first attempts, work held
    /// during a halt, rework). People err at their own rate. The agent errs at its rate
    /// with drift, and then only if the cause its defect would come from (drawn for the
    /// attempt, the same in every policy) is not fixed: so the chance is the rate times the
    /// learning factor, and a cause fixed in two policies removes the same defects in both.
    #[inline]
    pub(super) fn is_defective(&self, class: usize, u: f64, z: f64, entity: u64) -> bool {
        let w = &self.scenario.workload;
        match self.people_for(class) {
            Some(p) => self.defects.defective(u, p.defect_prob[class], z),
            None => {
                self.defects.defective(
                    u,
                    self.agent
                        .unlearnt_defect_prob(w, class, self.now, self.lying_low()),
                    z,
                ) && (self.agent.learning).still_possible(w, class, || self.streams.actions.cause(entity))
            }
        }
    }

    /// Whether a strategic agent (`drift.gaming`) holds back its drift now: some control
    /// chart of the policy is at or past the share of the way to its alarm it keeps under.
    #[inline]
    fn lying_low(&self) -> bool {
        let Some(theta) = self.scenario.workload.drift.as_ref().and_then(|d| d.gaming) else {
            return false;
        };
        self.agent.drift.active()
            && (self.stages.iter()).any(|s| matches!(s, StageRt::Monitor(c) if c.closeness() >= theta))
    }

    /// The probability that an attempt of `class` made now is defective: people's own
    /// rate by hand; the agent's rate with its drift and learning otherwise.
    pub(super) fn defect_prob(&self, class: usize) -> f64 {
        match self.people_for(class) {
            Some(p) => p.defect_prob[class],
            None => self
                .agent
                .defect_prob(&self.scenario.workload, class, self.now, self.lying_low()),
        }
    }
}
