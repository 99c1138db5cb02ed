//! The size of a run before it starts: how many actions it simulates, about how long that
//! takes, and whether its results fit in memory. `validate` prints it, a run prints it when
//! it is long, and a request that cannot fit is refused with its numbers (on the command
//! line and in the browser alike).

use crate::experiment::Plan;
use crate::metrics::{ClassResult, KindResult, RepResult, SeriesRow, StageResult, M};
use crate::montecarlo::Keep;
use crate::units::format_hours;

/// Seconds of one core per simulated action and policy: the slowest of the shipped
/// scenarios measured 170–310 ns (docs/performance.md), so estimates err long.
pub const SECONDS_PER_ACTION: f64 = 3.0e-7;

/// The most time-series rows a run records (replication 0 of every policy and point): about
/// 100 MB of memory and of timeseries.csv.
pub const MAX_SERIES_ROWS: f64 = 1.0e6;

/// The memory a run's results may take in the browser (WebAssembly's 32-bit memory holds
/// 4 GB, and the page's workers share the machine).
pub const BROWSER_MEMORY: f64 = 1.0e9;

/// A run is "long" from here on: a run prints its estimate before it starts.
pub const LONG_SECONDS: f64 = 60.0;

/// What a run of a plan will do.
#[derive(Debug, Clone, PartialEq)]
pub struct Work {
    /// Expected simulated actions over every point, policy and replication (warm-up included).
    pub actions: f64,
    /// Replications over every point and policy.
    pub replications: f64,
    /// Replications run to solve staffing rules, beyond `replications`: a policy with `k`
    /// rules runs at least its choice and one step below each rule, `k + 1` times its
    /// replications, of which the run keeps the first. Every shard runs them all.
    pub rule_runs: f64,
    /// The actions of `rule_runs`.
    pub rule_actions: f64,
    /// Time-series rows (replication 0 of every point and policy).
    pub series_rows: f64,
    /// Time-series intervals of one replication (the longest horizon's).
    pub series_intervals: f64,
    /// Memory the results take until the files are written, in bytes.
    pub bytes: f64,
}

impl Work {
    /// The work of running `plan` with `replications` per point and policy (the scenario's,
    /// or a precision run's cap) and a time series in intervals of `series` hours, keeping
    /// `keep` of each replication (an exploration, which keeps only its metrics, folds each
    /// set as it finishes: it holds the folds, and the replications of the sets in flight).
    pub fn of(plan: &Plan, replications: Option<u64>, series: Option<f64>, keep: Keep) -> Work {
        let mut w = Work {
            actions: 0.0,
            replications: 0.0,
            rule_runs: 0.0,
            rule_actions: 0.0,
            series_rows: 0.0,
            series_intervals: 0.0,
            bytes: 0.0,
        };
        // An exploration's sets in flight: at most a Sobol group (k + 2 sets, the plan's
        // columns being the set and its k inputs) waits for its last set.
        let mut in_flight: f64 = 0.0;
        for p in &plan.points {
            let sc = &p.loaded.scenario;
            let pols = sc.policies.len() as f64;
            let reps = replications.unwrap_or(sc.run.replications) as f64;
            let span = sc.run.horizon + sc.run.warmup;
            let rules = |k: usize| p.loaded.staffing.iter().filter(|s| s.policy_index == k).count() as f64;
            let extra: f64 = (0..sc.policies.len()).map(rules).sum::<f64>() * reps;
            w.actions += sc.workload.mean_rate() * span * reps * pols;
            w.replications += reps * pols;
            w.rule_runs += extra;
            w.rule_actions += sc.workload.mean_rate() * span * extra;
            let stages: usize = sc.policies.iter().map(|p| p.stages.len()).sum();
            match keep {
                Keep::All => {
                    let rows = stages.div_ceil(sc.policies.len().max(1)) * std::mem::size_of::<StageResult>()
                        + sc.workload.classes.len() * std::mem::size_of::<ClassResult>()
                        + sc.workload.kinds.len().max(1) * std::mem::size_of::<KindResult>();
                    w.bytes += reps * pols * (std::mem::size_of::<RepResult>() + rows) as f64;
                }
                Keep::Metrics => {
                    // Per policy a sum and a count of every metric; per output (each policy's
                    // metric and its difference from the baseline) the Sobol terms, at most
                    // 3 numbers a set.
                    let m = M::ALL.len() as f64;
                    w.bytes += pols * m * 12.0 + (2.0 * pols - 1.0) * m * 24.0;
                    let group = plan.dims.len() as f64 + 1.0;
                    in_flight = in_flight.max(group * reps * pols * std::mem::size_of::<RepResult>() as f64);
                }
            }
            if let Some(step) = series {
                let n = (sc.run.horizon / step).ceil();
                w.series_intervals = w.series_intervals.max(n);
                w.series_rows += n * pols;
            }
        }
        w.bytes += in_flight + w.series_rows * std::mem::size_of::<SeriesRow>() as f64;
        w
    }

    /// One shard's part of the run (`--shard K/N` runs every N-th replication).
    pub fn share(mut self, shards: u64) -> Work {
        let n = shards.max(1) as f64;
        self.actions /= n;
        self.replications /= n;
        self.bytes = (self.bytes - self.series_rows * std::mem::size_of::<SeriesRow>() as f64) / n
            + self.series_rows * std::mem::size_of::<SeriesRow>() as f64;
        self
    }

    /// About how long the run takes on `threads` cores, in seconds.
    pub fn seconds(&self, threads: usize) -> f64 {
        (self.actions + self.rule_actions) * SECONDS_PER_ACTION / threads.max(1) as f64
    }

    /// One line: `about 1.22e6 actions in 40 replications (about 0.4 s on 2 threads)`.
    pub fn describe(&self, threads: usize) -> String {
        let rules = match self.rule_runs {
            0.0 => String::new(),
            r => format!(" and at least {} more to solve the staffing rules", count(r)),
        };
        format!(
            "about {} simulated actions in {} replications{rules} (about {} on {threads} thread{}; results {} in memory)",
            count(self.actions + self.rule_actions),
            count(self.replications),
            duration(self.seconds(threads)),
            if threads == 1 { "" } else { "s" },
            bytes(self.bytes),
        )
    }

    /// Refuses a run that cannot fit: a time series over [`MAX_SERIES_ROWS`], or results
    /// over `memory` bytes.
    pub fn check(&self, memory: f64, series: Option<f64>) -> Result<(), String> {
        if let Some(step) = series {
            if self.series_rows > MAX_SERIES_ROWS {
                let need = step * self.series_rows / MAX_SERIES_ROWS;
                return Err(format!(
                    "a time series in intervals of {} records {} rows ({} intervals a replication, for every policy and point), more than the {} a run may record; use intervals of at least {}",
                    format_hours(step),
                    count(self.series_rows),
                    count(self.series_intervals),
                    count(MAX_SERIES_ROWS),
                    format_hours(need),
                ));
            }
        }
        if self.bytes > memory {
            return Err(format!(
                "the results of {} replications need {} of memory until they are written, more than the {} there are; run fewer replications, or split the run with --shard",
                count(self.replications),
                bytes(self.bytes),
                bytes(memory),
            ));
        }
        Ok(())
    }
}

/// A count for people: `720`, `28.8 thousand`, `1.22 million`, `7.2e14`.
fn count(x: f64) -> String {
    let three = |v: f64| {
        let s = match v {
            v if v >= 100.0 => format!("{v:.0}"),
            v if v >= 10.0 => format!("{v:.1}"),
            v => format!("{v:.2}"),
        };
        match s.contains('.') {
            true => s.trim_end_matches('0').trim_end_matches('.').to_string(),
            false => s,
        }
    };
    match x {
        x if x < 1e4 => format!("{x:.0}"),
        x if x < 1e6 => format!("{} thousand", three(x / 1e3)),
        x if x < 1e9 => format!("{} million", three(x / 1e6)),
        x if x < 1e12 => format!("{} billion", three(x / 1e9)),
        x => format!("{x:.2e}"),
    }
}

/// A duration for people: `0.4 s`, `3 min`, `2.5 h`, `41 days`, `7.3 years`.
fn duration(s: f64) -> String {
    match s {
        s if s < 10.0 => format!("{s:.1} s"),
        s if s < 120.0 => format!("{s:.0} s"),
        s if s < 7200.0 => format!("{:.0} min", s / 60.0),
        s if s < 2.0 * 86400.0 => format!("{:.1} h", s / 3600.0),
        s if s < 730.0 * 86400.0 => format!("{:.0} days", s / 86400.0),
        s if s < 1000.0 * 365.25 * 86400.0 => format!("{:.0} years", s / (365.25 * 86400.0)),
        s => format!("{:.1e} years", s / (365.25 * 86400.0)),
    }
}

/// A memory size: `12 KB`, `340 MB`, `2.1 GB`.
fn bytes(b: f64) -> String {
    match b {
        b if b < 1e6 => format!("{:.0} KB", (b / 1e3).max(1.0)),
        b if b < 1e9 => format!("{:.0} MB", b / 1e6),
        b if b < 1e12 => format!("{:.1} GB", b / 1e9),
        b => format!("{:.1} TB", b / 1e12),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_durations_read_as_words() {
        assert_eq!(count(720.0), "720");
        assert_eq!(count(28_800.0), "28.8 thousand");
        assert_eq!(count(1_221_187.0), "1.22 million");
        assert_eq!(count(250e6), "250 million");
        assert_eq!(count(7.2e14), "7.20e14");
        assert_eq!(duration(0.37), "0.4 s");
        assert_eq!(duration(300.0), "5 min");
        assert_eq!(duration(3.0e9), "95 years");
        assert_eq!(duration(3.0e12), "9.5e4 years");
        assert_eq!(bytes(2.5e9), "2.5 GB");
        assert_eq!(bytes(1.872e12), "1.9 TB");
    }

    /// An exploration folds each set as it finishes: its estimate counts the folds and the
    /// replications of one group of sets in flight, so more replications add only to the
    /// group's; a run counts every replication with its stage, class and kind rows.
    #[test]
    fn an_explorations_results_count_its_folds_and_the_sets_in_flight() {
        let sc = crate::scenario::DEFAULT_SCENARIO;
        let plan = crate::experiment::plan("default", sc, &[], &[]).unwrap();
        let all = Work::of(&plan, Some(10), None, Keep::All);
        let metrics = Work::of(&plan, Some(10), None, Keep::Metrics);
        let more = Work::of(&plan, Some(1000), None, Keep::Metrics);
        let pols = plan.points[0].loaded.scenario.policies.len() as f64;
        // One point without swept columns: a group of one set.
        let group = |reps: f64| reps * pols * std::mem::size_of::<RepResult>() as f64;
        assert_eq!(more.bytes - metrics.bytes, group(1000.0) - group(10.0));
        assert!(metrics.bytes > group(10.0), "the folds count");
        assert!(
            all.bytes > metrics.bytes,
            "{} against {}",
            all.bytes,
            metrics.bytes
        );
        assert_eq!(all.actions, metrics.actions);
    }
}
