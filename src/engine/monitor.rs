//! Monitors: they watch the findings of stages, and their alarms halt the agent and end
//! a drift the investigation finds.

use crate::rng::purpose;

use super::{Ev, Sim, StageRt};
use crate::metrics::StageResult;
use crate::stages::{Role, StageCounts};

impl<'a> Sim<'a> {
    /// Stage `i` inspected an attempt (`finding` = flagged, rejected or found): every
    /// monitor watching it takes the observation.
    #[inline(always)]
    pub(super) fn observe(&mut self, i: usize, finding: bool) {
        if self.wiring.watchers[i] != 0 {
            self.observe_watched(i, finding);
        }
    }

    #[inline(never)]
    pub(super) fn observe_watched(&mut self, i: usize, finding: bool) {
        let mut monitors = self.wiring.watchers[i];
        while monitors != 0 {
            let m = monitors.trailing_zeros() as usize;
            monitors &= monitors - 1;
            let StageRt::Monitor(chart) = &mut self.stages[m] else {
                unreachable!()
            };
            let alarm = chart.observe(finding);
            if self.now >= self.warmup {
                self.measures.counts[m].entered += 1;
                self.measures.counts[m].flagged += alarm as u64;
            }
            if alarm {
                self.alarm(m);
            }
        }
    }

    /// Monitor `m` alarms: halt the agent, fix an active drift.
    pub(super) fn alarm(&mut self, m: usize) {
        let now = self.now;
        let measuring = self.measuring();
        let Role::Monitor(mon) = self.wiring.roles[m] else {
            unreachable!()
        };
        if measuring {
            self.measures.tally.all.halts += 1;
            self.measures.tally.all.investigation += mon.investigate;
        }
        if self.agent.drift.active() {
            // The investigation finds the drift with probability `find` (drawn only when
            // it may fail, so a sure find draws nothing).
            let k = self.agent.drift.investigations;
            self.agent.drift.investigations += 1;
            let found = mon.find >= 1.0 || self.streams.stages[m].keys.uniform(k, purpose::FIND) < mon.find;
            if found {
                let StageRt::Monitor(chart) = &mut self.stages[m] else {
                    unreachable!()
                };
                chart.found_drift();
                if measuring {
                    self.measures.tally.all.delay_sum += now - self.agent.drift.onset();
                    self.measures.tally.all.delay_n += 1;
                    self.measures.counts[m].caught += 1;
                }
                self.agent.drift.end(now);
            }
        } else if measuring {
            self.measures.tally.all.false_alarms += 1;
        }
        if mon.halt > 0.0 {
            let until = self.agent.halt(now, mon.halt);
            self.events.schedule(until, Ev::HaltEnd);
        }
    }
}

/// A monitor's row: each observation of a watched stage entered; alarms are flagged.
pub(super) fn close(counts: &StageCounts) -> StageResult {
    let mut r = counts.result(None);
    r.passed = r.entered - r.flagged;
    r
}
