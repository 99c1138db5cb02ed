//! What one replication measures: the metric columns (docs/metrics.md), time averages over
//! the measured window, streaming percentiles, per-stage counts, and the whole-run counts
//! used to check conservation and Little's law.

use serde::{Deserialize, Serialize};

mod histogram;
pub use histogram::{DurationHistogram, SUB_BITS};

/// Declares the metric columns: the [`M`] enum that names each, and the [`MetricRow`] of one
/// replication's values, a serde row whose fields are the columns. `ratio` marks a metric
/// that is undefined (`NaN`, an empty field) when its denominator is zero; any other metric
/// is always a finite number.
macro_rules! metrics {
    ($($name:ident: $kind:ident $dir:ident),* $(,)?) => {
        /// Each metric column, in output order.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum M { $($name),* }

        impl M {
            /// Every metric, in output order.
            pub const ALL: &[M] = &[$(M::$name),*];

            /// Whether the metric may be undefined in a replication (a ratio over nothing).
            pub fn may_be_undefined(self) -> bool {
                match self {
                    $(M::$name => metrics!(@ratio $kind)),*
                }
            }

            /// Whether the metric is 0 or 1 in every replication (an event happened or not):
            /// its interval is the exact binomial one ([`crate::stats::summarize_indicator`]).
            pub fn is_indicator(self) -> bool {
                match self {
                    $(M::$name => metrics!(@indicator $kind)),*
                }
            }

            pub fn name(self) -> &'static str {
                NAMES[self as usize]
            }

            /// Which way is better, for the metrics where one is: `None` for counts of work
            /// and components whose best value depends on the rest (so that no metric
            /// rewards doing less work).
            pub fn direction(self) -> Option<Direction> {
                match self {
                    $(M::$name => metrics!(@dir $dir)),*
                }
            }
        }

        /// Column names, in output order (a public contract: see docs/metrics.md).
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];

        /// One replication's metric values; `NaN` marks an undefined ratio (written as an
        /// empty field).
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct MetricRow {
            $(#[serde(with = "crate::field")] pub $name: f64),*
        }

        impl std::ops::Index<M> for MetricRow {
            type Output = f64;
            #[inline]
            fn index(&self, m: M) -> &f64 {
                match m {
                    $(M::$name => &self.$name),*
                }
            }
        }

        impl std::ops::IndexMut<M> for MetricRow {
            #[inline]
            fn index_mut(&mut self, m: M) -> &mut f64 {
                match m {
                    $(M::$name => &mut self.$name),*
                }
            }
        }
    };
    (@dir up) => { Some(Direction::Higher) };
    (@dir down) => { Some(Direction::Lower) };
    (@dir none) => { None };
    (@ratio ratio) => { true };
    (@ratio always) => { false };
    (@ratio indicator) => { false };
    (@indicator indicator) => { true };
    (@indicator $other:ident) => { false };
}

metrics!(
    released: always up,
    rejected: always none,
    dropped: always down,
    abandoned: always down,
    throughput_per_hour: ratio up,
    defects: always none,
    escaped: always down,
    escape_rate: ratio down,
    escapes_per_1k: ratio down,
    caught_late: always none,
    harm: always down,
    false_rejects: always down,
    timeouts: always down,
    reviewer_hours: always none,
    work_hours: always none,
    work_utilization: ratio none,
    reviewer_utilization: ratio none,
    reviews_per_reviewer_hour: ratio none,
    mean_queue: ratio down,
    max_queue: always down,
    mean_wait_min: ratio down,
    p95_wait_min: ratio down,
    latency_mean_min: ratio down,
    latency_p95_min: ratio down,
    backlog_end: always down,
    halts: always none,
    halt_hours: always none,
    false_alarms: always down,
    drift_hours: always down,
    detection_delay_h: ratio down,
    learning_factor: always down,
    cost_total: always down,
    cost_per_release: ratio down,
    value_released: always up,
    net_value: always up,
    cost_review: always none,
    cost_work: always none,
    cost_halt: always none,
    cost_harm: always none,
    cost_delay: always none,
    cost_stages: always none,
    cost_fixed: always none,
    investigation_hours: always none,
    severe_escapes: always down,
    any_severe: indicator down,
    duty_breaches: always down,
    escapes_signed_off: always none,
    found_later: always none,
    blame_events: always none,
    blame_max_person: always none,
    root_cause_analyses: always none,
    analysis_hours: always none,
    fixes_people: always none,
    fixes_tools: always none,
    fixes_escapes: always none,
    people_replaced: always none,
    cost_hiring: always none,
    lots: always none,
    lots_rejected: always none,
);

pub const N_METRICS: usize = NAMES.len();

/// Which value of a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Higher,
    Lower,
}

impl Direction {
    pub fn label(self) -> &'static str {
        match self {
            Direction::Higher => "higher",
            Direction::Lower => "lower",
        }
    }

    /// Whether `a` is better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Higher => a > b,
            Direction::Lower => a < b,
        }
    }
}

impl MetricRow {
    pub fn get(&self, m: M) -> f64 {
        self[m]
    }

    /// The values in column order.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        M::ALL.iter().map(|&m| self[m])
    }

    /// A metric that must always be a number but is not (`NaN` or infinite): a fault, never
    /// to be skipped as "undefined" in a summary.
    pub fn check(&self) -> Result<(), String> {
        match M::ALL
            .iter()
            .find(|&&m| !m.may_be_undefined() && !self[m].is_finite())
        {
            None => Ok(()),
            Some(m) => Err(format!(
                "metric `{}` is {}, but it is always defined",
                m.name(),
                self[*m]
            )),
        }
    }
}

/// A ratio, undefined (`NaN`) when the denominator is zero.
pub fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        f64::NAN
    } else {
        num / den
    }
}

/// Time average of a piecewise-constant quantity over the window `[w0, w1)`.
///
/// The engine calls [`TimeAvg::open`] when the clock reaches `w0` (before any event at `w0`
/// or later), so an update is one multiply-add with no clipping; what accumulated before
/// the window is discarded there. Updates stop before `w1` (the event loop ends there), and
/// [`TimeAvg::finish_at`] closes the window.
#[derive(Debug, Clone)]
pub struct TimeAvg {
    w0: f64,
    w1: f64,
    last: f64,
    value: f64,
    area: f64,
    max: f64,
}

impl TimeAvg {
    pub fn new(w0: f64, w1: f64) -> TimeAvg {
        TimeAvg {
            w0,
            w1,
            last: 0.0,
            value: 0.0,
            area: 0.0,
            max: 0.0,
        }
    }

    /// The quantity changes to `v` at time `now` (non-decreasing across calls, and before
    /// the window's end).
    #[inline]
    pub fn set(&mut self, now: f64, v: f64) {
        self.area += self.value * (now - self.last);
        self.last = now;
        self.value = v;
        if v > self.max {
            self.max = v;
        }
    }

    #[inline]
    pub fn add(&mut self, now: f64, dv: f64) {
        let v = self.value + dv;
        self.set(now, v);
    }

    pub fn value(&self) -> f64 {
        self.value
    }

    /// Starts the window: the clock has reached `w0`, and no change at `w0` or later has
    /// been made yet. Area and maximum count from here.
    pub fn open(&mut self) {
        self.last = self.w0;
        self.area = 0.0;
        self.max = self.value;
    }

    /// Closes the window at `t` (its end, or earlier for a run cut short); call once. A
    /// window never opened (a run cut short in its warm-up) is opened and closed at `w0`.
    pub fn finish_at(&mut self, t: f64) {
        if self.last < self.w0 {
            self.open();
        }
        self.w1 = t.min(self.w1).max(self.w0);
        self.area += self.value * (self.w1 - self.last);
        self.last = self.w1;
    }

    /// Integral over the window (value × hours).
    pub fn area(&self) -> f64 {
        self.area
    }

    /// Integral over the (open) window up to `now`, not before the last change, without
    /// changing anything.
    #[inline]
    pub fn area_at(&self, now: f64) -> f64 {
        self.area + self.value * (now - self.last)
    }

    pub fn mean(&self) -> f64 {
        ratio(self.area, self.w1 - self.w0)
    }

    pub fn max(&self) -> f64 {
        self.max
    }
}

/// Per-stage counts of one replication, over the measured window: a row of stages.csv.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageResult {
    #[serde(with = "crate::field")]
    pub entered: f64,
    #[serde(with = "crate::field")]
    pub passed: f64,
    /// Attempts flagged by a check or rejected by a reviewer.
    #[serde(with = "crate::field")]
    pub flagged: f64,
    /// Defective attempts flagged or rejected.
    #[serde(with = "crate::field")]
    pub caught: f64,
    #[serde(with = "crate::field")]
    pub timeouts: f64,
    /// Busy / on-duty time (human stages); `NaN` for checks.
    #[serde(with = "crate::field")]
    pub utilization: f64,
    /// Time-average queue length (human stages).
    #[serde(with = "crate::field")]
    pub mean_queue: f64,
    /// Mean queue wait, minutes (human stages).
    #[serde(with = "crate::field")]
    pub mean_wait_min: f64,
    /// 95th-percentile queue wait, minutes (human stages): what a `p95_wait` staffing rule
    /// judges.
    #[serde(with = "crate::field")]
    pub p95_wait_min: f64,
    /// Escapes the stage's people signed off that were charged to them (a culture of
    /// blame), and the most any one of them carries.
    #[serde(with = "crate::field")]
    pub blame_events: f64,
    #[serde(with = "crate::field")]
    pub blame_max_person: f64,
}

impl StageResult {
    /// The mean of each value over replications `rows` (a row of stages.csv).
    pub fn mean_of<'a>(rows: impl Iterator<Item = &'a StageResult> + Clone) -> StageResult {
        let mean = |f: fn(&StageResult) -> f64| crate::stats::summarize(rows.clone().map(f)).mean;
        StageResult {
            entered: mean(|r| r.entered),
            passed: mean(|r| r.passed),
            flagged: mean(|r| r.flagged),
            caught: mean(|r| r.caught),
            timeouts: mean(|r| r.timeouts),
            utilization: mean(|r| r.utilization),
            mean_queue: mean(|r| r.mean_queue),
            mean_wait_min: mean(|r| r.mean_wait_min),
            p95_wait_min: mean(|r| r.p95_wait_min),
            blame_events: mean(|r| r.blame_events),
            blame_max_person: mean(|r| r.blame_max_person),
        }
    }
}

/// One class's counts in one replication, over the measured window: a row of classes.csv.
/// Over the classes they add up to the replication's totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassResult {
    /// Actions of the class that arrived (none while the work is halted with `on_halt = "lost"`).
    pub actions: u64,
    /// Defective attempts that ended (rejected or released).
    pub defects: u64,
    pub released: u64,
    pub rejected: u64,
    pub dropped: u64,
    /// Defective attempts released.
    pub escaped: u64,
    /// Escapes an audit found after release.
    pub caught_late: u64,
    #[serde(with = "crate::field")]
    pub harm: f64,
    /// Actions released without the personal review the class's `duty` requires.
    pub duty_breaches: u64,
}

/// One defect kind's counts in one replication, over the measured window: a row of
/// kinds.csv. Over the kinds they add up to the replication's defects, escapes, late
/// catches and harm.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KindResult {
    /// Defective attempts of the kind that ended (rejected or released).
    pub defects: u64,
    /// Defective attempts of the kind released.
    pub escaped: u64,
    /// Escapes of the kind an audit found after release.
    pub caught_late: u64,
    #[serde(with = "crate::field")]
    pub harm: f64,
}

/// One interval of a replication's time series (a row of timeseries.csv): counts in the
/// interval, time averages over it (queue, reviewers, drift and halt fractions), and the
/// share-weighted defect probability at its end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesRow {
    #[serde(with = "crate::field")]
    pub t_start_h: f64,
    #[serde(with = "crate::field")]
    pub t_end_h: f64,
    pub arrivals: u64,
    pub releases: u64,
    pub escapes: u64,
    #[serde(with = "crate::field")]
    pub mean_queue: f64,
    #[serde(with = "crate::field")]
    pub busy_reviewers: f64,
    #[serde(with = "crate::field")]
    pub on_duty_reviewers: f64,
    #[serde(with = "crate::field")]
    pub defect_prob: f64,
    #[serde(with = "crate::field")]
    pub drift: f64,
    #[serde(with = "crate::field")]
    pub halted: f64,
}

/// Whole-run counts (warm-up included) for invariant checks; not written to files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ledger {
    pub created: u64,
    pub released: u64,
    pub rejected: u64,
    pub dropped: u64,
    /// Attempts in the system when the run ended.
    pub in_system: u64,
    /// ∫ (total review queue length) dt over the window.
    pub queue_area: f64,
    /// Σ over attempts of their time in a review queue inside the window.
    pub queue_time: f64,
    /// Attempts that joined a review queue inside the window.
    pub queue_entries: u64,
}

impl Ledger {
    /// Attempts created = released + rejected + dropped + still in the system.
    pub fn conserved(&self) -> bool {
        self.created == self.released + self.rejected + self.dropped + self.in_system
    }

    /// Little's law in its exact sample-path form: the area under the queue-length curve
    /// equals the total time attempts spent queued, both clipped to the window.
    pub fn little_gap(&self) -> f64 {
        (self.queue_area - self.queue_time).abs() / self.queue_area.max(1e-12)
    }
}

/// Everything one replication of one policy produces.
#[derive(Debug, Clone, PartialEq)]
pub struct RepResult {
    pub metrics: MetricRow,
    pub stages: Vec<StageResult>,
    /// Per workload class, in the scenario's order.
    pub classes: Vec<ClassResult>,
    /// Per defect kind, in the scenario's order (one when none are declared).
    pub kinds: Vec<KindResult>,
    pub ledger: Ledger,
    /// The replication stopped early: its backlog passed `run.max_backlog`.
    pub cut_short: bool,
    /// Per-interval time series, when asked for (`--timeseries`).
    pub series: Option<Vec<SeriesRow>>,
}

impl RepResult {
    /// Keeps the metrics, ledger and flags, and frees the stage, class and kind rows.
    pub fn keep_metrics(&mut self) {
        self.stages = Vec::new();
        self.classes = Vec::new();
        self.kinds = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_average_counts_from_the_window() {
        let mut t = TimeAvg::new(10.0, 20.0);
        t.set(2.0, 9.0); // before the window: neither area nor maximum
        t.set(5.0, 3.0); // 3 from 5 to 12: counts 2 h in the window
        t.open();
        t.set(12.0, 1.0); // 1 from 12 to the end: counts 8 h
        t.finish_at(20.0);
        assert_eq!(t.area(), 3.0 * 2.0 + 8.0);
        assert_eq!(t.mean(), 1.4);
        assert_eq!(t.max(), 3.0);
        // A run cut short: the window ends at 15.
        let mut t = TimeAvg::new(10.0, 20.0);
        t.set(5.0, 2.0);
        t.open();
        t.finish_at(15.0);
        assert_eq!((t.area(), t.mean()), (10.0, 2.0));
        // Cut before the window opened: an empty window.
        let mut t = TimeAvg::new(10.0, 20.0);
        t.set(5.0, 2.0);
        t.finish_at(7.0);
        assert_eq!(t.area(), 0.0);
    }
}
