//! An attempt's life outside the stages: an action arrives (or comes back for rework), and
//! an attempt ends released, rejected (then reworked or abandoned) or dropped.

use super::detection::{defective, latent};
use super::{Action, Ev, Sim};
use crate::rng::uniform;
use crate::stages::AuditItem;
use crate::workload::OnHalt;

impl<'a> Sim<'a> {
    pub(super) fn on_arrival(&mut self) {
        let next = self.arrivals.next_time();
        self.events.schedule_side(next);
        // Draw even while halted, so the workload's streams stay aligned across policies.
        let (class, u) = self.draws.draw();
        let z = latent(self.latent, self.draws.rng());
        let kind = self.draw_kind(class, true);
        let halted = self.now < self.halted_until;
        if halted && self.scenario.workload.on_halt == OnHalt::Lost {
            return; // the work is halted and this action is never done
        }
        if self.measuring() {
            self.tally.arrival(class);
        }
        let mut a = Action {
            created: self.now,
            class: class as u32,
            attempt: 1,
            live: true,
            z,
            defect_kind: kind,
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
        self.ledger.created += 1;
        if halted {
            self.held.push((id, u)); // it waits for the halt to end
        } else {
            self.produce(id, u);
        }
    }

    pub(super) fn on_rework(&mut self, id: u32) {
        let class = self.actions[id as usize].class as usize;
        let u = uniform(&mut self.rework_rng);
        let z = latent(self.latent, &mut self.rework_rng);
        let kind = self.draw_kind(class, false);
        let defective = defective(self.defect_loading, u, self.defect_prob(class), z);
        let a = &mut self.actions[id as usize];
        a.z = z;
        a.defect_kind = kind;
        a.attempt += 1;
        a.defective = defective;
        a.auto_passed = false;
        a.flagged = false;
        a.false_counted = false;
        a.escalated = 0;
        a.live = true;
        self.ledger.created += 1;
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
        self.ledger.released += 1;
        if self.measuring() {
            let class = &self.scenario.workload.classes[a.class as usize];
            let defect = a.defective.then_some(a.defect_kind);
            self.tally.released(class, a.class as usize, defect);
            self.latency.record(self.now - a.created);
        }
        self.sample_for_audits(&a);
    }

    pub(super) fn reject(&mut self, id: u32) {
        let a = self.actions[id as usize];
        self.ledger.rejected += 1;
        if self.measuring() {
            self.tally
                .rejected(a.class as usize, a.defective.then_some(a.defect_kind));
        }
        match &self.scenario.workload.rework {
            Some(rw) if (a.attempt as u32) < rw.max_attempts => {
                self.actions[id as usize].live = false;
                let delay = rw.delay.sample(&mut self.rework_rng);
                self.events.schedule(self.now + delay, Ev::Rework { action: id });
            }
            _ => {
                self.dispose(id);
                if self.measuring() {
                    self.tally.all.abandoned += 1;
                }
            }
        }
    }

    /// The kind an attempt's defect would be, by its class's shares, from the actions
    /// stream (`first` attempt) or the rework stream; drawn for every attempt, defective or
    /// not, so that the streams stay aligned across policies. One kind draws nothing.
    #[inline]
    fn draw_kind(&mut self, class: usize, first: bool) -> u8 {
        if !self.kinded {
            return 0;
        }
        let rng = if first {
            self.draws.rng()
        } else {
            &mut self.rework_rng
        };
        let u = uniform(rng);
        let shares = &self.scenario.workload.classes[class].kind_shares;
        let mut acc = 0.0;
        for (k, s) in shares.iter().enumerate() {
            acc += s;
            if u < acc {
                return k as u8;
            }
        }
        // Rounding left u above the last sum: the last kind the class has.
        shares.iter().rposition(|&s| s > 0.0).unwrap_or(0) as u8
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
                self.tally.all.false_rejects += 1;
            }
        }
    }

    /// A released defect found after release (by an audit or a lot of released work): if
    /// it was released in the window it is still an escape, with its harm weighted by
    /// `late` (the late harm factor).
    pub(super) fn late_catch(&mut self, item: &AuditItem, late: f64) {
        if item.released >= self.warmup {
            let harm = self.scenario.workload.classes[item.class as usize].harm;
            (self.tally).caught_late(harm, item.class as usize, item.defect_kind, late);
        }
    }
}
