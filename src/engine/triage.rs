//! Triage: each action is flagged or not once, on its first attempt, and later stages with
//! a `tier` take one side.

use super::Sim;
use crate::rng::uniform;
use crate::stages::{StageKind, Triage};

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
}
