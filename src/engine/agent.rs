//! The agent's condition: drift that raises its defect rate, learning from findings that
//! lowers it, and halts (an alarm stops it; work that arrives meanwhile waits or is lost).

use rand_distr::{Distribution, Exp1};

use super::{Ev, Sim};
use crate::metrics::TimeAvg;
use crate::rng::{purpose, Keyed};
use crate::workload::Workload;

/// The agent's drift, learning and halts (one per replication and policy).
pub(super) struct Agent {
    pub(super) drift: Drift,
    /// Root causes fixed so far, per class, and the learning factors they give.
    pub(super) learning: Learning,
    /// When the current halt ends (in the past when none is on).
    halted_until: f64,
    /// Whether the agent is halted, over time (its area is the halted hours).
    pub(super) halted: TimeAvg,
    /// Actions that arrived during a halt and wait for it to end (`on_halt = "wait"`), each
    /// with its defect draw.
    pub(super) held: Vec<(u32, f64)>,
}

impl Agent {
    /// For the window from `warmup` to `end`, with the drift's keys.
    pub(super) fn new(w: &Workload, drift: Keyed, warmup: f64, end: f64) -> Agent {
        Agent {
            drift: Drift {
                keys: drift,
                onsets: 0,
                investigations: 0,
                episodes: Vec::new(),
                generation: 0,
                hours: TimeAvg::new(warmup, end),
            },
            learning: Learning::new(w),
            halted_until: 0.0,
            halted: TimeAvg::new(warmup, end),
            held: Vec::new(),
        }
    }

    #[inline]
    pub(super) fn is_halted(&self, now: f64) -> bool {
        now < self.halted_until
    }

    /// An alarm halts the agent for `length` hours from `now` (a halt already on ends at
    /// the later of the two); returns when the halt ends.
    pub(super) fn halt(&mut self, now: f64, length: f64) -> f64 {
        self.halted_until = self.halted_until.max(now + length);
        self.halted.set(now, 1.0);
        self.halted_until
    }

    /// A halt's end is due at `now`: whether the agent is free again (false when a later
    /// alarm extended the halt).
    pub(super) fn halt_ends(&mut self, now: f64) -> bool {
        let ends = now >= self.halted_until;
        if ends {
            self.halted.set(now, 0.0);
        }
        ends
    }

    /// `min(1, defect_prob × drift factor) × the class's learning factor`, at `now`
    /// (`low`: a strategic agent holds its drift back).
    #[inline]
    pub(super) fn defect_prob(&self, w: &Workload, class: usize, now: f64, low: bool) -> f64 {
        self.unlearnt_defect_prob(w, class, now, low) * self.learning.factor[class]
    }

    /// `min(1, defect_prob × drift factor)` at `now`: the rate before learning, which
    /// `Learning::still_possible` then thins. A strategic agent lying low errs at its
    /// normal rate.
    #[inline]
    pub(super) fn unlearnt_defect_prob(&self, w: &Workload, class: usize, now: f64, low: bool) -> f64 {
        let drift = match &w.drift {
            Some(d) if self.drift.active() && !low => self.drift.factor(d, now),
            _ => 1.0,
        };
        (w.classes[class].defect_prob * drift).min(1.0)
    }

    /// Opens the time averages (at the end of the warm-up).
    pub(super) fn open(&mut self) {
        self.drift.hours.open();
        self.halted.open();
    }

    /// Closes the time averages at `end`.
    pub(super) fn close(&mut self, end: f64) {
        self.drift.hours.finish_at(end);
        self.halted.finish_at(end);
    }
}

/// Regime shifts of the agent.
pub(super) struct Drift {
    keys: Keyed,
    /// Onsets scheduled so far (the number of the next): onset `k`'s gap is keyed by `k`,
    /// so every policy sees the same onsets whatever it does about them.
    onsets: u64,
    /// Alarms investigated so far: investigation `k`'s finding is keyed by `k`.
    pub(super) investigations: u64,
    /// The drifts on: each one's onset and generation, in onset order (at most one unless
    /// onsets overlap).
    episodes: Vec<(f64, u32)>,
    /// Changes at every onset, so a stale self-heal event is recognised.
    generation: u32,
    /// Whether a drift is on, over time (its area is the drift hours).
    pub(super) hours: TimeAvg,
}

impl Drift {
    /// Whether a drift is on.
    #[inline]
    pub(super) fn active(&self) -> bool {
        !self.episodes.is_empty()
    }

    /// The onset of the earliest drift on (what an alarm's detection delay counts from).
    pub(super) fn onset(&self) -> f64 {
        self.episodes.first().map_or(f64::NAN, |e| e.0)
    }

    /// The factor on defect probabilities at `now`: the product of each drift's factor
    /// (one drift's, exactly `multiplier` once its ramp is over).
    #[inline]
    fn factor(&self, d: &crate::workload::Drift, now: f64) -> f64 {
        match self.episodes.as_slice() {
            [(onset, _)] => d.factor(now - onset),
            many => many.iter().map(|(onset, _)| d.factor(now - onset)).product(),
        }
    }

    /// A drift begins at `now`; returns its generation.
    fn begin(&mut self, now: f64) -> u32 {
        self.generation = self.generation.wrapping_add(1);
        self.episodes.push((now, self.generation));
        self.hours.set(now, 1.0);
        self.generation
    }

    /// Every drift on ends at `now` (found by an alarm's investigation: the cause is fixed).
    pub(super) fn end(&mut self, now: f64) {
        self.episodes.clear();
        self.hours.set(now, 0.0);
    }

    /// The drift of `generation` ends by itself at `now`, unless it ended before.
    fn heal(&mut self, generation: u32, now: f64) {
        self.episodes.retain(|e| e.1 != generation);
        if self.episodes.is_empty() {
            self.hours.set(now, 0.0);
        }
    }
}

impl<'a> Sim<'a> {
    pub(super) fn schedule_drift_onset(&mut self) {
        if let Some(d) = &self.scenario.workload.drift {
            let k = self.agent.drift.onsets;
            self.agent.drift.onsets += 1;
            let gap: f64 = Exp1.sample(&mut self.agent.drift.keys.draws(k, purpose::ONSET));
            self.events.schedule(self.now + gap * d.every, Ev::DriftOnset);
        }
    }

    pub(super) fn on_drift_onset(&mut self) {
        self.schedule_drift_onset();
        let overlap = self.scenario.workload.drift.as_ref().is_some_and(|d| d.overlap);
        if self.agent.drift.active() && !overlap {
            return; // an onset during an active drift is ignored
        }
        let now = self.now;
        let generation = self.agent.drift.begin(now);
        if let Some(heal) = self.scenario.workload.drift.as_ref().and_then(|d| d.self_heal) {
            self.events.schedule(now + heal, Ev::DriftEnd { generation });
        }
    }

    /// A drift ends by itself, unless an alarm's investigation ended it first (then
    /// `generation` is stale).
    pub(super) fn on_drift_end(&mut self, generation: u32) {
        let now = self.now;
        self.agent.drift.heal(generation, now);
    }

    /// The halt is over, unless a later alarm extended it: the work held is made.
    pub(super) fn on_halt_end(&mut self) {
        if self.agent.halt_ends(self.now) {
            self.resume_held();
        }
    }
}

/// Learning from root causes. A class's defects come from `root_causes` causes of equal
/// share and a residual share `learning_floor` that no fix removes; its learning factor is
/// `floor + (1 − floor) × unfixed / root_causes`. Each attempt of the agent's has the cause
/// its defect would come from (a uniform keyed by the attempt, `Learning::cause`); the
/// attempt is defective only if that cause is still open, and a finding fixes its cause
/// with probability `learn` once reported and investigated (`engine::culture`).
pub(super) struct Learning {
    unfixed: Vec<u32>,
    /// Per class, whether each root cause is fixed.
    fixed: Vec<Vec<bool>>,
    /// Per class, the learning factor on its defect probability.
    pub(super) factor: Vec<f64>,
}

/// What a defect comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    /// The residual share no fix removes.
    Residual,
    /// Root cause `k` of its class.
    Root(u32),
}

impl Learning {
    pub(super) fn new(w: &Workload) -> Learning {
        Learning {
            unfixed: w.classes.iter().map(|c| c.root_causes).collect(),
            fixed: (w.classes.iter())
                .map(|c| vec![false; c.root_causes as usize])
                .collect(),
            factor: vec![1.0; w.classes.len()],
        }
    }

    /// The cause uniform `v` picks in `class`: the residual share with probability
    /// `learning_floor` (all of it when the class has no root causes), else each root cause
    /// with equal probability.
    pub(super) fn cause(w: &Workload, class: usize, v: f64) -> Cause {
        let (floor, n) = (w.learning_floor, w.classes[class].root_causes);
        if n == 0 || v < floor {
            return Cause::Residual;
        }
        Cause::Root((((v - floor) / (1.0 - floor) * n as f64) as u32).min(n - 1))
    }

    /// Whether a defect of `class` can still happen, its cause picked by the uniform
    /// `cause` gives (drawn only once some cause is fixed).
    #[inline]
    pub(super) fn still_possible(&self, w: &Workload, class: usize, cause: impl FnOnce() -> f64) -> bool {
        if self.unfixed[class] == w.classes[class].root_causes {
            return true; // nothing fixed yet
        }
        match Learning::cause(w, class, cause()) {
            Cause::Residual => true,
            Cause::Root(k) => !self.fixed[class][k as usize],
        }
    }

    /// Root cause `k` of `class` is fixed, if it was not already (then true).
    pub(super) fn fix(&mut self, w: &Workload, class: usize, k: u32) -> bool {
        let fixed = &mut self.fixed[class][k as usize];
        if *fixed {
            return false;
        }
        *fixed = true;
        let (floor, n) = (w.learning_floor, w.classes[class].root_causes as f64);
        self.unfixed[class] -= 1;
        self.factor[class] = floor + (1.0 - floor) * self.unfixed[class] as f64 / n;
        true
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
