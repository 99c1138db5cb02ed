//! What moves the agent's defect rate, and what watches it: learning from findings,
//! drift, and monitors whose alarms halt the agent.

use rand_distr::{Distribution, Exp1};

use crate::rng::uniform;

use super::{Ev, Sim, StageRt};
use crate::metrics::StageResult;
use crate::stages::{StageCounts, StageKind};

impl<'a> Sim<'a> {
    /// Stage `i` inspected an attempt (`finding` = flagged, rejected or found): every
    /// monitor watching it takes the observation.
    #[inline(always)]
    pub(super) fn observe(&mut self, i: usize, finding: bool) {
        if self.watchers[i] != 0 {
            self.observe_watched(i, finding);
        }
    }

    #[inline(never)]
    pub(super) fn observe_watched(&mut self, i: usize, finding: bool) {
        let mut monitors = self.watchers[i];
        while monitors != 0 {
            let m = monitors.trailing_zeros() as usize;
            monitors &= monitors - 1;
            let StageRt::Monitor(chart) = &mut self.stages[m] else {
                unreachable!()
            };
            let alarm = chart.observe(finding);
            if self.now >= self.warmup {
                self.counts[m].entered += 1;
                self.counts[m].flagged += alarm as u64;
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
        let StageKind::Monitor(mon) = &self.policy.stages[m].kind else {
            unreachable!()
        };
        if measuring {
            self.c.halts += 1;
            self.c.investigation += mon.investigate;
        }
        if self.drift.active {
            // The investigation finds the drift with probability `find` (drawn only when
            // it may fail, so a sure find draws nothing).
            let found = mon.find >= 1.0 || uniform(&mut self.stage_rngs[m]) < mon.find;
            if found {
                if measuring {
                    self.c.delay_sum += now - self.drift.onset;
                    self.c.delay_n += 1;
                    self.counts[m].caught += 1;
                }
                self.end_drift();
            }
        } else if measuring {
            self.c.false_alarms += 1;
        }
        if mon.halt > 0.0 {
            self.halted_until = self.halted_until.max(now + mon.halt);
            self.halted.set(now, 1.0);
            self.events.schedule(self.halted_until, Ev::HaltEnd);
        }
    }

    pub(super) fn schedule_drift_onset(&mut self) {
        if let Some(d) = &self.scenario.workload.drift {
            let gap: f64 = Exp1.sample(&mut self.drift.rng);
            self.events.schedule(self.now + gap * d.every, Ev::DriftOnset);
        }
    }

    pub(super) fn on_drift_onset(&mut self) {
        self.schedule_drift_onset();
        if self.drift.active {
            return; // an onset during an active drift is ignored
        }
        let now = self.now;
        let d = &mut self.drift;
        d.active = true;
        d.onset = now;
        d.generation = d.generation.wrapping_add(1);
        d.hours.set(now, 1.0);
        if let Some(heal) = self.scenario.workload.drift.as_ref().and_then(|d| d.self_heal) {
            let generation = self.drift.generation;
            self.events.schedule(now + heal, Ev::DriftEnd { generation });
        }
    }

    pub(super) fn end_drift(&mut self) {
        self.drift.active = false;
        self.drift.hours.set(self.now, 0.0);
    }

    /// Stage `i` found a defect: the agent learns from it.
    #[inline(always)]
    pub(super) fn learn(&mut self, i: usize) {
        let f = self.policy.stages[i].learn;
        if f > 0.0 {
            let floor = self.scenario.workload.learning_floor;
            self.learning = (self.learning * (1.0 - f)).max(floor);
        }
    }

    /// `min(1, defect_prob × drift multiplier × learning factor)`.
    #[inline]
    pub(super) fn defect_prob(&self, class: usize) -> f64 {
        let w = &self.scenario.workload;
        let drift = match (&w.drift, self.drift.active) {
            (Some(d), true) => d.multiplier,
            _ => 1.0,
        };
        (w.classes[class].defect_prob * drift * self.learning).min(1.0)
    }
}

/// A monitor's row: each observation of a watched stage entered; alarms are flagged.
pub(super) fn close(counts: &StageCounts) -> StageResult {
    let mut r = counts.result(None);
    r.passed = r.entered - r.flagged;
    r
}
