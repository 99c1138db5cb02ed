//! An attempt's life outside the stages: an action arrives (or comes back for rework), and
//! an attempt ends released, rejected (then reworked or abandoned) or dropped.

use super::culture::Signer;
use super::{Action, Ev, Sim};
use crate::rng::{attempt_entity, purpose, uniform};
use crate::stages::AuditItem;
use crate::workload::OnHalt;

impl<'a> Sim<'a> {
    pub(super) fn on_arrival(&mut self) {
        let number = self.streams.arrivals.last(); // this arrival's, before the next is drawn
        let next = self.streams.arrivals.next_time();
        self.events.schedule_side(next);
        let class = self.streams.actions.class(number);
        let mut rng = self.streams.actions.attempt(number, 1);
        let u = uniform(&mut rng);
        let classes = &self.scenario.workload.classes;
        let (z, kind) = self.defects.draw(&mut rng, classes, class);
        let halted = self.agent.is_halted(self.now);
        if halted && self.scenario.workload.on_halt == OnHalt::Lost {
            return; // the work is halted and this action is never done
        }
        if self.measuring() {
            self.measures.tally.arrival(class);
        }
        let mut a = Action {
            created: self.now,
            class: class as u32,
            attempt: 1,
            live: true,
            z,
            defect_kind: kind,
            number,
            ..Action::default()
        };
        let id = match self.free.pop() {
            Some(id) => {
                // Keep the token moving, so stale timeouts and queue entries of the slot's
                // previous action never match the new one.
                a.token = self.actions[id as usize].token.wrapping_add(1);
                self.actions[id as usize] = a;
                id
            }
            None => {
                self.actions.push(a);
                (self.actions.len() - 1) as u32
            }
        };
        self.measures.ledger.created += 1;
        if halted {
            self.agent.held.push((id, u)); // it waits for the halt to end
        } else {
            self.produce(id, u);
        }
    }

    pub(super) fn on_rework(&mut self, id: u32) {
        let a = self.actions[id as usize];
        let class = a.class as usize;
        let mut rng = self.streams.actions.attempt(a.number, a.attempt + 1);
        let u = uniform(&mut rng);
        let classes = &self.scenario.workload.classes;
        let (z, kind) = self.defects.draw(&mut rng, classes, class);
        let defective = self.is_defective(class, u, z, attempt_entity(a.number, a.attempt + 1));
        let a = &mut self.actions[id as usize];
        a.z = z;
        a.defect_kind = kind;
        a.attempt += 1;
        a.defective = defective;
        a.auto_passed = false;
        a.flagged = false;
        a.false_counted = false;
        a.escalated = 0;
        a.signer = Signer::NOBODY;
        a.live = true;
        self.measures.ledger.created += 1;
        self.begin(id);
    }

    #[inline]
    pub(super) fn dispose(&mut self, id: u32) {
        self.actions[id as usize].live = false;
        self.free.push(id);
    }

    #[inline]
    pub(super) fn release(&mut self, id: u32) {
        let a = self.actions[id as usize];
        self.dispose(id);
        self.measures.ledger.released += 1;
        let ci = a.class as usize;
        if self.measuring() {
            let class = &self.scenario.workload.classes[ci];
            let defect = a.defective.then_some(a.defect_kind);
            // People who make the action decide it themselves: nothing is left to review.
            let breach =
                class.duty.is_some() && !a.signer.is_some() && self.policy.work.people_for(ci).is_none();
            self.measures.tally.released(class, ci, defect, breach);
            self.measures.tally.all.escapes_signed_off += (a.defective && a.signer.is_some()) as u64;
            self.measures.latency.record(self.now - a.created);
        }
        let surfaced = a.defective && self.released_escape(ci, a.entity(), a.signer);
        self.sample_for_audits(&a, surfaced);
    }

    pub(super) fn reject(&mut self, id: u32) {
        let a = self.actions[id as usize];
        self.measures.ledger.rejected += 1;
        if self.measuring() {
            self.measures
                .tally
                .rejected(a.class as usize, a.defective.then_some(a.defect_kind));
        }
        match &self.scenario.workload.rework {
            Some(rw) if (a.attempt as u32) < rw.max_attempts => {
                self.actions[id as usize].live = false;
                let delay = rw
                    .delay
                    .sample(&mut self.streams.rework.draws(a.entity(), purpose::DELAY));
                self.events.schedule(self.now + delay, Ev::Rework { action: id });
            }
            _ => {
                self.dispose(id);
                if self.measuring() {
                    self.measures.tally.all.abandoned += 1;
                }
            }
        }
    }

    /// A flag on a clean attempt (a false positive or a false reject) counts once per
    /// attempt in `false_rejects`.
    #[inline]
    pub(super) fn count_false_flag(&mut self, id: u32) {
        let measuring = self.measuring();
        let a = &mut self.actions[id as usize];
        if !a.defective && !a.false_counted {
            a.false_counted = true;
            if measuring {
                self.measures.tally.all.false_rejects += 1;
            }
        }
    }

    /// A released defect found after release (by an audit or a lot of released work): if
    /// it was released in the window it is still an escape, with its harm weighted by
    /// `late` (the late harm factor).
    pub(super) fn late_catch(&mut self, item: &AuditItem, late: f64) {
        if item.released >= self.warmup {
            let harm = self.scenario.workload.classes[item.class as usize].harm;
            (self.measures.tally).caught_late(harm, item.class as usize, item.defect_kind, late);
        }
    }
}
