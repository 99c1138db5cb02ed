//! What moves the agent's defect rate, and what watches it: learning from findings,
//! drift, and monitors whose alarms halt the agent.

use rand_distr::{Distribution, Exp1};

use crate::rng::{uniform, StreamRng};
use crate::workload::Workload;

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
        let Role::Monitor(mon) = self.wiring.roles[m] else {
            unreachable!()
        };
        if measuring {
            self.tally.all.halts += 1;
            self.tally.all.investigation += mon.investigate;
        }
        if self.drift.active {
            // The investigation finds the drift with probability `find` (drawn only when
            // it may fail, so a sure find draws nothing).
            let found = mon.find >= 1.0 || uniform(&mut self.stage_rngs[m]) < mon.find;
            if found {
                let StageRt::Monitor(chart) = &mut self.stages[m] else {
                    unreachable!()
                };
                chart.found_drift();
                if measuring {
                    self.tally.all.delay_sum += now - self.drift.onset;
                    self.tally.all.delay_n += 1;
                    self.counts[m].caught += 1;
                }
                self.end_drift();
            }
        } else if measuring {
            self.tally.all.false_alarms += 1;
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

    /// Stage `i` found a defect of class `class`: with probability `learn` its root cause
    /// is found and fixed, if it has one left to fix (a defect from the residual share has
    /// none).
    #[inline(always)]
    pub(super) fn learn(&mut self, i: usize, class: usize) {
        let f = self.policy.stages[i].learn;
        if f > 0.0 {
            self.learning.learn(&self.scenario.workload, class, f);
        }
    }

    /// `min(1, defect_prob × drift multiplier × the class's learning factor)`.
    #[inline]
    pub(super) fn agent_defect_prob(&self, class: usize) -> f64 {
        let w = &self.scenario.workload;
        let drift = match (&w.drift, self.drift.active) {
            (Some(d), true) => d.multiplier,
            _ => 1.0,
        };
        (w.classes[class].defect_prob * drift * self.learning.factor[class]).min(1.0)
    }
}

/// Learning from root causes. A class's defects come from `root_causes` causes of equal
/// share and a residual share `learning_floor` that no fix removes; its learning factor is
/// `floor + (1 − floor) × unfixed / root_causes`. A finding fixes its cause with
/// probability `learn` (drawn from the learning stream, only by stages that learn).
pub(super) struct Learning {
    rng: StreamRng,
    unfixed: Vec<u32>,
    /// Per class, the learning factor on its defect probability.
    pub(super) factor: Vec<f64>,
}

impl Learning {
    pub(super) fn new(w: &Workload, rng: StreamRng) -> Learning {
        Learning {
            rng,
            unfixed: w.classes.iter().map(|c| c.root_causes).collect(),
            factor: vec![1.0; w.classes.len()],
        }
    }

    fn learn(&mut self, w: &Workload, class: usize, f: f64) {
        let u = self.unfixed[class];
        if u == 0 {
            return;
        }
        let (floor, n) = (w.learning_floor, w.classes[class].root_causes as f64);
        // The chance that this defect came from an unfixed cause, times the chance its cause
        // is found and fixed.
        let fixable = (1.0 - floor) * u as f64 / n / self.factor[class];
        if uniform(&mut self.rng) < f * fixable {
            self.unfixed[class] = u - 1;
            self.factor[class] = floor + (1.0 - floor) * (u - 1) as f64 / n;
        }
    }

    /// The share-weighted learning factor over the classes (normalised by the sum of the
    /// shares, so that no learning is exactly 1 whatever the shares' rounding).
    pub(super) fn mean_factor(&self, w: &Workload) -> f64 {
        let weighted: f64 = (w.classes.iter().zip(&self.factor))
            .map(|(c, f)| c.share * f)
            .sum();
        weighted / w.classes.iter().map(|c| c.share).sum::<f64>()
    }
}

/// A monitor's row: each observation of a watched stage entered; alarms are flagged.
pub(super) fn close(counts: &StageCounts) -> StageResult {
    let mut r = counts.result(None);
    r.passed = r.entered - r.flagged;
    r
}
