//! The results of a run as files: the CSV files (replications, summary, paired comparison,
//! stages, time series), the manifest, the terminal tables and the HTML report. Everything
//! here makes text from a [`RunData`]; `files` (feature `cli`) is what touches the filesystem.
//!
//! A run's files are written into a new folder beside the output folder and swapped in
//! whole ([`files::Output`]); the manifest is written last and lists the others' SHA-256.

pub mod explore;
#[cfg(feature = "native")]
pub mod files;
pub mod html;
pub mod manifest;
pub mod rows;
pub mod table;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::experiment::{RunData, Summaries};
use crate::metrics::{ratio, M};
use crate::scenario::Scenario;
use crate::stats::summarize_paired;

/// The files a run writes, in the order they are written.
pub const FILES: &[&str] = &[
    "replications.csv",
    "classes.csv",
    "kinds.csv",
    "summary.csv",
    "comparison.csv",
    "decision.csv",
    "stages.csv",
    "staffing.csv",
    "timeseries.csv",
    "report.html",
    "manifest.json",
];

/// The CSV files of a run, as text (bytes), in the order they are written.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultFiles {
    pub replications: Vec<u8>,
    pub classes: Vec<u8>,
    pub kinds: Vec<u8>,
    pub summary: Vec<u8>,
    pub comparison: Vec<u8>,
    /// The decision at every point: ranks, feasibility, margins ([`crate::decision`]).
    pub decision: Vec<u8>,
    pub stages: Vec<u8>,
    /// What each staffing rule chose at each point.
    pub staffing: Vec<u8>,
    /// Only when a time series was recorded.
    pub timeseries: Option<Vec<u8>>,
}

impl ResultFiles {
    /// The files of `run`, with its summaries and comparisons.
    pub fn of(run: &RunData, sums: &Summaries, comps: &Comparisons) -> ResultFiles {
        ResultFiles {
            replications: rows::replications_csv(run),
            classes: rows::classes_csv(run),
            kinds: rows::kinds_csv(run),
            summary: rows::summary_csv(run, sums),
            comparison: rows::comparison_csv(run, comps),
            decision: rows::decision_csv(run),
            stages: rows::stages_csv(run),
            staffing: rows::staffing_csv(run),
            timeseries: rows::timeseries_csv(run),
        }
    }

    /// (file name, bytes) in the order they are written; no timeseries.csv without a series.
    pub fn named(&self) -> Vec<(&'static str, &[u8])> {
        let mut v: Vec<(&'static str, &[u8])> = vec![
            ("replications.csv", &self.replications),
            ("classes.csv", &self.classes),
            ("kinds.csv", &self.kinds),
            ("summary.csv", &self.summary),
            ("comparison.csv", &self.comparison),
            ("decision.csv", &self.decision),
            ("stages.csv", &self.stages),
            ("staffing.csv", &self.staffing),
        ];
        if let Some(t) = &self.timeseries {
            v.push(("timeseries.csv", t));
        }
        v
    }
}

/// A paired difference of one metric between a policy and the baseline: a row of
/// comparison.csv.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Replications where both values are defined.
    pub n: usize,
    #[serde(with = "crate::field")]
    pub mean_diff: f64,
    #[serde(with = "crate::field")]
    pub ci_low: f64,
    #[serde(with = "crate::field")]
    pub ci_high: f64,
    /// mean_diff / |baseline mean| over the same replications, so that its sign is the
    /// difference's (an improvement over a negative baseline is not negative); undefined
    /// when the baseline's mean is 0.
    #[serde(with = "crate::field")]
    pub relative_change: f64,
}

/// Comparisons `[point][policy][metric]`; the baseline's own entries compare it to itself.
pub type Comparisons = Vec<Vec<Vec<Comparison>>>;

/// Paired differences of every policy against the baseline, replication by replication
/// (the same replication index saw the same workload: common random numbers).
pub fn comparisons(run: &RunData) -> Comparisons {
    run.points
        .iter()
        .map(|pt| {
            (0..pt.results.per_policy.len())
                .map(|p| {
                    M::ALL
                        .iter()
                        .map(|&m| {
                            let pairs = pt.pairs(p, run.baseline, m);
                            let s = summarize_paired(&pairs, m.is_indicator());
                            let base_mean = pairs.iter().map(|(_, b)| b).sum::<f64>() / pairs.len() as f64;
                            Comparison {
                                n: s.n,
                                mean_diff: s.mean,
                                ci_low: s.ci_low,
                                ci_high: s.ci_high,
                                relative_change: ratio(s.mean, base_mean.abs()),
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// One warning for each policy (and point) of `run` (of scenario `label`) with replications
/// stopped early by `run.max_backlog`.
pub fn cut_short_warnings(label: &str, run: &RunData) -> Vec<String> {
    let mut out = Vec::new();
    for pt in &run.points {
        for (pol, reps) in pt.scenario.policies.iter().zip(&pt.results.per_policy) {
            let n = reps.iter().filter(|r| r.cut_short).count();
            if n > 0 {
                out.push(format!(
                    "warning: {label}: {n} replications of policy `{}` stopped early: more than run.max_backlog = {} actions were in the system (an overloaded stage); their metrics cover only the time until then",
                    pol.name, pt.scenario.run.max_backlog
                ));
            }
        }
    }
    out
}

/// Warnings about what a run's numbers can say: a `severe` class whose escapes happen in
/// most replications of a policy is not rare, and `any_severe` (whether one happened) then
/// cannot tell the policies apart.
pub fn rare_event_warnings(run: &RunData, sums: &Summaries) -> Vec<String> {
    let mut out = Vec::new();
    for (k, pt) in run.points.iter().enumerate() {
        for (p, pol) in pt.scenario.policies.iter().enumerate() {
            let s = &sums[k][p][M::any_severe as usize];
            if s.mean > 0.5 {
                let at = if pt.values.is_empty() {
                    String::new()
                } else {
                    format!(" at {}", pt.values.join(", "))
                };
                out.push(format!(
                    "warning: policy `{}`{at}: a severe defect escapes in {:.0}% of replications (exact 95% interval {:.0}%–{:.0}%): severe escapes are not rare here, so any_severe cannot tell policies apart; compare severe_escapes",
                    pol.name,
                    100.0 * s.mean,
                    100.0 * s.ci_low,
                    100.0 * s.ci_high
                ));
            }
        }
    }
    out
}

/// Where a run's files go: `--out`, or `results/<scenario name>`.
pub fn output_dir(out: Option<&Path>, scenario: &Scenario, several: bool) -> PathBuf {
    match out {
        Some(o) if several => o.join(&scenario.name),
        Some(o) => o.to_path_buf(),
        None => Path::new("results").join(&scenario.name),
    }
}
