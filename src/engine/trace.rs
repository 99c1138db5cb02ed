//! What each layer decided, action by action, when asked for: tests and lessons follow
//! single actions across policies with it.

use std::sync::atomic::AtomicBool;

use super::Sim;
use crate::scenario::Scenario;

/// A layer's decision on one attempt: what `decisions` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The action's number (its arrival index in the replication).
    pub action: u64,
    pub attempt: u16,
    /// The stage's index in its policy.
    pub stage: u16,
    pub defective: bool,
    /// Flagged, rejected or found.
    pub flagged: bool,
}

/// Every decision a flagging stage, review, audit or lot inspection makes in replication
/// `replication` of policy `policy`, in the order they are made (for tests and lessons
/// that follow single actions across policies).
pub fn decisions(scenario: &Scenario, policy: usize, replication: u64) -> Vec<Decision> {
    let mut sim = Sim::new(scenario, policy, replication);
    sim.trace = Some(Vec::new());
    sim.run(&AtomicBool::new(false));
    sim.trace.take().unwrap_or_default()
}

impl<'a> Sim<'a> {
    /// Layer `i` decided on the attempt keyed `entity`: the monitors watching it observe
    /// the outcome, and the trace records it when asked for.
    #[inline]
    pub(super) fn decided(&mut self, i: usize, entity: u64, defective: bool, flagged: bool) {
        if let Some(t) = &mut self.trace {
            t.push(Decision {
                action: entity >> 16,
                attempt: entity as u16,
                stage: i as u16,
                defective,
                flagged,
            });
        }
        self.observe(i, flagged);
    }
}
