//! Triage: each action is flagged or not once, on its first attempt, and later stages with
//! a `tier` take one side.

use super::{Ev, Sim, StageRt};
use crate::rng::uniform;
use crate::stages::{Desk, StageKind, Triage};

impl<'a> Sim<'a> {
    /// Triage stage `i` decides for attempt `id` (on the action's first pass only) and
    /// counts it.
    pub(super) fn triage(&mut self, id: u32, i: usize, t: &Triage) {
        let a = self.actions[id as usize];
        let flagged = if a.triage_done {
            a.triaged
        } else {
            let p = t.flag[a.class as usize];
            // Draw only when the outcome is uncertain, so sure classes use no numbers.
            let flagged = p >= 1.0 || (p > 0.0 && uniform(&mut self.stage_rngs[i]) < p);
            let a = &mut self.actions[id as usize];
            a.triaged = flagged;
            a.triage_done = true;
            flagged
        };
        if self.measuring() {
            self.counts[i].flagged += flagged as u64;
            self.counts[i].passed += !flagged as u64;
        }
    }

    /// The delay of automated stage `i` (a check or triage) ends for attempt `id`.
    pub(super) fn on_automated_done(&mut self, id: u32, i: usize) {
        match &self.policy.stages[i].kind {
            StageKind::AutomatedCheck(_) => self.decide_check(id, i),
            StageKind::Triage(_) => self.route(id, i + 1),
            StageKind::HumanReview(_)
            | StageKind::Audit(_)
            | StageKind::Monitor(_)
            | StageKind::AcceptanceSampling(_) => unreachable!("stage {i} has no automated delay"),
        }
    }

    fn desk(&mut self, i: usize) -> &mut Desk<u32> {
        match &mut self.stages[i] {
            StageRt::TriageDesk(p) => p,
            StageRt::Automated
            | StageRt::Review(_)
            | StageRt::Audit(_)
            | StageRt::Monitor(_)
            | StageRt::Lots(_) => unreachable!("stage {i} has no people triaging"),
        }
    }

    /// Attempt `id` (already triaged) waits for a person at triage desk `i`.
    pub(super) fn join_desk(&mut self, id: u32, i: usize) {
        let now = self.now;
        let desk = self.desk(i);
        match desk.idle() {
            Some(r) => self.start_desk(i, r, id),
            None => desk.enqueue(now, id),
        }
    }

    fn start_desk(&mut self, i: usize, r: usize, id: u32) {
        let now = self.now;
        let StageKind::Triage(t) = &self.policy.stages[i].kind else {
            unreachable!()
        };
        let service = t
            .service
            .as_ref()
            .map_or(0.0, |d| d.sample(&mut self.stage_rngs[i]));
        self.desk(i).start(now, r, id);
        self.events.schedule(
            now + service,
            Ev::TriageDone {
                stage: i as u16,
                person: r as u32,
            },
        );
    }

    /// Person `r` of triage desk `i` is done with an attempt: it goes on.
    pub(super) fn on_triage_done(&mut self, i: usize, r: usize) {
        let now = self.now;
        let desk = self.desk(i);
        let id = desk.finish(now, r);
        if let Some(next) = desk.next(now) {
            self.start_desk(i, r, next);
        }
        self.route(id, i + 1);
    }
}
