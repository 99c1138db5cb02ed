//! Result files (replications.csv, summary.csv, stages.csv, manifest.json) and the table
//! printed after a run.
//!
//! Every file is written to a temporary name in the output folder and renamed into place,
//! so a reader never sees a half-written file; the manifest is written last.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::metrics::{ratio, M, NAMES, SERIES_COLUMNS, STAGE_COLUMNS};
use crate::montecarlo::Results;
use crate::scenario::Scenario;
use crate::stats::{summarize, Summary};

/// The files a run writes, in the order they are written.
pub const FILES: &[&str] = &[
    "replications.csv",
    "summary.csv",
    "comparison.csv",
    "stages.csv",
    "timeseries.csv",
    "report.html",
    "manifest.json",
];

/// Formats a value for a CSV field: shortest exact decimal, empty when undefined.
pub fn field(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// Writes `bytes` to `dir/name` atomically (temporary file, fsync, rename).
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Checks, before any simulation, that results can be written to `dir`: it is created if
/// needed, must be writable, and must not already hold results unless `force`.
pub fn prepare_output(dir: &Path, files: &[&str], force: bool) -> Result<(), String> {
    if !force {
        if let Some(f) = files.iter().find(|f| dir.join(f).exists()) {
            return Err(format!(
                "{} already holds results ({f}); pass --force to overwrite them or --out to write elsewhere",
                dir.display()
            ));
        }
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create output folder {}: {e}", dir.display()))?;
    let probe = dir.join(format!(".oversim-write-test-{}", std::process::id()));
    fs::write(&probe, b"").map_err(|e| format!("cannot write to output folder {}: {e}", dir.display()))?;
    let _ = fs::remove_file(probe);
    Ok(())
}

fn csv_bytes(header: &[String], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for r in rows {
        w.write_record(&r).expect("writing to memory");
    }
    w.into_inner().expect("flushing to memory")
}

/// One sweep point's scenario and results.
#[derive(Debug, Clone)]
pub struct PointRun {
    /// Value labels of the swept paths (empty without a sweep).
    pub values: Vec<String>,
    pub scenario: Scenario,
    /// Replication indices, in the order of `results`.
    pub reps: Vec<u64>,
    pub results: Results,
}

/// Everything a run's files are made from.
#[derive(Debug, Clone)]
pub struct RunData {
    /// Swept paths: the leading columns of every file.
    pub dims: Vec<String>,
    pub points: Vec<PointRun>,
    /// Index of the baseline policy of comparisons.
    pub baseline: usize,
}

fn header(dims: &[String], rest: &[&str]) -> Vec<String> {
    dims.iter()
        .cloned()
        .chain(rest.iter().map(|s| s.to_string()))
        .collect()
}

/// Summaries `[point][policy][metric]`.
pub type Summaries = Vec<Vec<Vec<Summary>>>;

impl RunData {
    pub fn summaries(&self) -> Summaries {
        self.points
            .iter()
            .map(|pt| {
                pt.results
                    .per_policy
                    .iter()
                    .map(|reps| {
                        (0..NAMES.len())
                            .map(|m| summarize(reps.iter().map(|r| r.metrics.0[m])))
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }

    /// Rows of (point, policy) in output order, with their values.
    fn rows<'a>(&'a self) -> impl Iterator<Item = (&'a PointRun, usize, &'a str)> + 'a {
        self.points.iter().flat_map(|pt| {
            pt.scenario
                .policies
                .iter()
                .enumerate()
                .map(move |(p, pol)| (pt, p, pol.name.as_str()))
        })
    }
}

/// replications.csv: one row per (point, policy, replication).
pub fn replications_csv(run: &RunData) -> Vec<u8> {
    let mut h = header(&run.dims, &["policy", "replication"]);
    h.extend(NAMES.iter().map(|s| s.to_string()));
    let rows = run.rows().flat_map(|(pt, p, name)| {
        pt.reps.iter().zip(&pt.results.per_policy[p]).map(move |(i, r)| {
            let mut row = pt.values.clone();
            row.push(name.to_string());
            row.push(i.to_string());
            row.extend(r.metrics.0.iter().map(|&x| field(x)));
            row
        })
    });
    csv_bytes(&h, rows)
}

/// The per-replication stage values a shard hands to `oversim merge`.
pub fn stage_replications_csv(run: &RunData) -> Vec<u8> {
    let mut h = header(&run.dims, &["policy", "replication", "stage"]);
    h.extend(STAGE_COLUMNS.iter().map(|s| s.to_string()));
    let rows = run.rows().flat_map(|(pt, p, name)| {
        pt.reps
            .iter()
            .zip(&pt.results.per_policy[p])
            .flat_map(move |(i, r)| {
                pt.scenario.policies[p]
                    .stages
                    .iter()
                    .zip(&r.stages)
                    .map(move |(st, v)| {
                        let mut row = pt.values.clone();
                        row.extend([name.to_string(), i.to_string(), st.name.clone()]);
                        row.extend(v.values().map(field));
                        row
                    })
            })
    });
    csv_bytes(&h, rows)
}

const SUMMARY_COLUMNS: &[&str] = &["n", "mean", "std", "ci_low", "ci_high", "p05", "p50", "p95"];

fn summary_fields(s: &Summary) -> Vec<String> {
    let mut v = vec![s.n.to_string()];
    v.extend([s.mean, s.std, s.ci_low, s.ci_high, s.p05, s.p50, s.p95].map(field));
    v
}

/// summary.csv: long format, one row per (point, policy, metric).
pub fn summary_csv(run: &RunData, sums: &Summaries) -> Vec<u8> {
    let mut h = header(&run.dims, &["policy", "metric"]);
    h.extend(SUMMARY_COLUMNS.iter().map(|s| s.to_string()));
    let rows = run.points.iter().zip(sums).flat_map(|(pt, ps)| {
        pt.scenario.policies.iter().zip(ps).flat_map(move |(pol, ms)| {
            ms.iter().zip(NAMES).map(move |(s, name)| {
                let mut row = pt.values.clone();
                row.extend([pol.name.clone(), name.to_string()]);
                row.extend(summary_fields(s));
                row
            })
        })
    });
    csv_bytes(&h, rows)
}

/// A paired difference of one metric between a policy and the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Replications where both values are defined.
    pub n: usize,
    pub mean_diff: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// mean_diff / baseline mean over the same replications.
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
            let base = &pt.results.per_policy[run.baseline];
            pt.results
                .per_policy
                .iter()
                .map(|reps| {
                    (0..NAMES.len())
                        .map(|m| {
                            let pairs: Vec<(f64, f64)> = reps
                                .iter()
                                .zip(base)
                                .map(|(x, b)| (x.metrics.0[m], b.metrics.0[m]))
                                .filter(|(x, b)| x.is_finite() && b.is_finite())
                                .collect();
                            let s = summarize(pairs.iter().map(|(x, b)| x - b));
                            let base_mean = pairs.iter().map(|(_, b)| b).sum::<f64>() / pairs.len() as f64;
                            Comparison {
                                n: s.n,
                                mean_diff: s.mean,
                                ci_low: s.ci_low,
                                ci_high: s.ci_high,
                                relative_change: ratio(s.mean, base_mean),
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// comparison.csv: per (point, policy other than the baseline, metric).
pub fn comparison_csv(run: &RunData, comps: &Comparisons) -> Vec<u8> {
    let h = header(
        &run.dims,
        &[
            "policy",
            "baseline",
            "metric",
            "n",
            "mean_diff",
            "ci_low",
            "ci_high",
            "relative_change",
        ],
    );
    let rows = run.points.iter().zip(comps).flat_map(|(pt, ps)| {
        let base = pt.scenario.policies[run.baseline].name.clone();
        pt.scenario
            .policies
            .iter()
            .zip(ps)
            .enumerate()
            .filter(|(p, _)| *p != run.baseline)
            .flat_map(move |(_, (pol, ms))| {
                let base = base.clone();
                ms.iter().zip(NAMES).map(move |(c, name)| {
                    let mut row = pt.values.clone();
                    row.extend([pol.name.clone(), base.clone(), name.to_string(), c.n.to_string()]);
                    row.extend([c.mean_diff, c.ci_low, c.ci_high, c.relative_change].map(field));
                    row
                })
            })
    });
    csv_bytes(&h, rows)
}

/// timeseries.csv: the time series of replication 0 of every (point, policy), if recorded.
pub fn timeseries_csv(run: &RunData) -> Option<Vec<u8>> {
    let any = run.points.iter().any(|pt| {
        pt.results
            .per_policy
            .iter()
            .any(|r| r.first().is_some_and(|x| x.series.is_some()))
    });
    if !any {
        return None;
    }
    let mut h = header(&run.dims, &["policy", "replication", "t_start_h", "t_end_h"]);
    h.extend(SERIES_COLUMNS.iter().map(|s| s.to_string()));
    let rows = run.rows().flat_map(|(pt, p, name)| {
        let first = pt.reps.first().copied().zip(pt.results.per_policy[p].first());
        first
            .and_then(|(i, r)| r.series.as_ref().map(|s| (i, s)))
            .into_iter()
            .flat_map(move |(i, series)| {
                series.iter().map(move |row| {
                    let mut out = pt.values.clone();
                    out.extend([name.to_string(), i.to_string()]);
                    out.extend(row.iter().map(|&x| field(x)));
                    out
                })
            })
    });
    Some(csv_bytes(&h, rows))
}

/// stages.csv: per (point, policy, stage), the mean over replications of each stage value.
pub fn stages_csv(run: &RunData) -> Vec<u8> {
    let mut h = header(&run.dims, &["policy", "stage", "kind"]);
    h.extend(STAGE_COLUMNS.iter().map(|s| s.to_string()));
    let rows = run.rows().flat_map(|(pt, p, name)| {
        let reps = &pt.results.per_policy[p];
        pt.scenario.policies[p]
            .stages
            .iter()
            .enumerate()
            .map(move |(i, s)| {
                let mut row = pt.values.clone();
                row.extend([name.to_string(), s.name.clone(), s.kind.label().to_string()]);
                for c in 0..STAGE_COLUMNS.len() {
                    row.push(field(
                        summarize(reps.iter().map(|r| r.stages[i].values()[c])).mean,
                    ));
                }
                row
            })
    });
    csv_bytes(&h, rows)
}

/// Where a run's files go: `--out`, or `results/<scenario name>`.
pub fn output_dir(out: Option<&Path>, scenario: &Scenario, several: bool) -> PathBuf {
    match out {
        Some(o) if several => o.join(&scenario.name),
        Some(o) => o.to_path_buf(),
        None => Path::new("results").join(&scenario.name),
    }
}

/// Decimals that show `x` to three significant digits (at most 6).
fn decimals(x: f64) -> usize {
    if !x.is_finite() || x == 0.0 {
        return 0;
    }
    let mag = x.abs().log10().floor() as i32;
    (2 - mag).clamp(0, 6) as usize
}

/// Three significant digits, as in the terminal table.
pub fn sig3(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let d = decimals(x);
    format!("{x:.d$}")
}

/// `mean ± half-width`, both to the precision of the mean.
pub fn mean_pm(mean: f64, half: f64) -> String {
    if !mean.is_finite() {
        return "–".into();
    }
    let d = decimals(mean);
    if half.is_finite() {
        format!("{mean:.d$} ± {half:.d$}")
    } else {
        format!("{mean:.d$}")
    }
}

/// The columns of the terminal table: metric, heading, and whether the column is shown
/// even when it is zero (or undefined) for every policy.
const TABLE: &[(M, &str, bool)] = &[
    (M::throughput_per_hour, "released/h", true),
    (M::escape_rate, "escape rate", true),
    (M::escapes_per_1k, "escapes/1k", true),
    (M::caught_late, "caught late", false),
    (M::harm, "harm", true),
    (M::reviewer_hours, "reviewer h", true),
    (M::reviewer_utilization, "utilization", false),
    (M::p95_wait_min, "p95 wait min", false),
    (M::timeouts, "timeouts", false),
    (M::halts, "halts", false),
    (M::drift_hours, "drift h", false),
    (M::cost_per_release, "cost/release", true),
];

/// Lays out rows as aligned columns: the first `left` columns left-aligned, the rest
/// right-aligned.
fn align(rows: &[Vec<String>], left: usize) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, v)| {
                let pad = " ".repeat(widths[c] - v.chars().count());
                if c < left {
                    format!("{v}{pad}")
                } else {
                    format!("{pad}{v}")
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The (point ×) policy × key-metric table with 95% confidence half-widths.
pub fn table(run: &RunData, sums: &Summaries) -> String {
    let shown: Vec<(M, &str)> = TABLE
        .iter()
        .filter(|(m, _, always)| *always || sums.iter().flatten().any(|ms| ms[*m as usize].mean > 0.0))
        .map(|(m, h, _)| (*m, *h))
        .collect();
    let mut head = header(&run.dims, &["policy"]);
    head.extend(shown.iter().map(|(_, h)| h.to_string()));
    let mut rows = vec![head];
    for (pt, ps) in run.points.iter().zip(sums) {
        for (pol, ms) in pt.scenario.policies.iter().zip(ps) {
            let mut row = pt.values.clone();
            row.push(pol.name.clone());
            row.extend(shown.iter().map(|(m, _)| {
                let s = &ms[*m as usize];
                mean_pm(s.mean, s.half_width())
            }));
            rows.push(row);
        }
    }
    align(&rows, run.dims.len() + 1)
}

/// Metrics of the comparison table.
const COMPARE: &[(M, &str)] = &[
    (M::escapes_per_1k, "Δ escapes/1k"),
    (M::harm, "Δ harm"),
    (M::reviewer_hours, "Δ reviewer h"),
    (M::cost_per_release, "Δ cost/release"),
];

/// Paired differences against the baseline for the key metrics: `Δ (95% CI) relative`.
pub fn comparison_table(run: &RunData, comps: &Comparisons) -> String {
    let mut head = header(&run.dims, &["policy"]);
    head.extend(COMPARE.iter().map(|(_, h)| h.to_string()));
    let mut rows = vec![head];
    for (pt, ps) in run.points.iter().zip(comps) {
        for (p, (pol, ms)) in pt.scenario.policies.iter().zip(ps).enumerate() {
            if p == run.baseline {
                continue;
            }
            let mut row = pt.values.clone();
            row.push(pol.name.clone());
            row.extend(COMPARE.iter().map(|(m, _)| {
                let c = &ms[*m as usize];
                if !c.mean_diff.is_finite() {
                    return "–".to_string();
                }
                let d = decimals(c.mean_diff.abs().max(c.ci_high - c.ci_low));
                let rel = if c.relative_change.is_finite() {
                    format!(" {:+.0}%", 100.0 * c.relative_change)
                } else {
                    String::new()
                };
                if c.ci_low.is_finite() {
                    format!(
                        "{:+.d$} ({:+.d$} .. {:+.d$}){rel}",
                        c.mean_diff, c.ci_low, c.ci_high
                    )
                } else {
                    format!("{:+.d$}{rel}", c.mean_diff)
                }
            }));
            rows.push(row);
        }
    }
    align(&rows, run.dims.len() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_digits() {
        assert_eq!(field(f64::NAN), "");
        assert_eq!(field(f64::INFINITY), "");
        assert_eq!(field(3.0), "3");
        assert_eq!(field(0.1), "0.1");
        assert_eq!(sig3(38.2149), "38.2");
        assert_eq!(sig3(0.0123456), "0.0123");
        assert_eq!(sig3(12345.6), "12346");
        assert_eq!(mean_pm(240.0, 1e-7), "240 ± 0");
        assert_eq!(mean_pm(0.4612, 0.00429), "0.461 ± 0.004");
        assert_eq!(mean_pm(f64::NAN, 1.0), "–");
    }
}
pub mod html;
