//! Result files (replications.csv, summary.csv, stages.csv, manifest.json) and the table
//! printed after a run.
//!
//! Every file is written to a temporary name in the output folder and renamed into place,
//! so a reader never sees a half-written file; the manifest is written last.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::metrics::{StageResult, M, NAMES, STAGE_COLUMNS};
use crate::montecarlo::Results;
use crate::scenario::Scenario;
use crate::stats::{summarize, Summary};

/// The files a run writes, in the order they are written.
pub const FILES: &[&str] = &["replications.csv", "summary.csv", "stages.csv", "manifest.json"];

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
pub fn prepare_output(dir: &Path, force: bool) -> Result<(), String> {
    if !force {
        if let Some(f) = FILES.iter().find(|f| dir.join(f).exists()) {
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

/// replications.csv: one row per (policy, replication).
pub fn replications_csv(scenario: &Scenario, results: &Results) -> Vec<u8> {
    let mut header = vec!["policy".to_string(), "replication".to_string()];
    header.extend(NAMES.iter().map(|s| s.to_string()));
    let rows = scenario
        .policies
        .iter()
        .zip(&results.per_policy)
        .flat_map(|(p, reps)| {
            reps.iter().enumerate().map(move |(i, r)| {
                let mut row = vec![p.name.clone(), i.to_string()];
                row.extend(r.metrics.0.iter().map(|&x| field(x)));
                row
            })
        });
    csv_bytes(&header, rows)
}

/// Summaries of every metric of every policy, in output order.
pub fn summaries(results: &Results) -> Vec<Vec<Summary>> {
    results
        .per_policy
        .iter()
        .map(|reps| {
            (0..NAMES.len())
                .map(|m| summarize(reps.iter().map(|r| r.metrics.0[m])))
                .collect()
        })
        .collect()
}

const SUMMARY_COLUMNS: &[&str] = &["n", "mean", "std", "ci_low", "ci_high", "p05", "p50", "p95"];

fn summary_fields(s: &Summary) -> Vec<String> {
    let mut v = vec![s.n.to_string()];
    v.extend([s.mean, s.std, s.ci_low, s.ci_high, s.p05, s.p50, s.p95].map(field));
    v
}

/// summary.csv: long format, one row per (policy, metric).
pub fn summary_csv(scenario: &Scenario, sums: &[Vec<Summary>]) -> Vec<u8> {
    let mut header = vec!["policy".to_string(), "metric".to_string()];
    header.extend(SUMMARY_COLUMNS.iter().map(|s| s.to_string()));
    let rows = scenario.policies.iter().zip(sums).flat_map(|(p, ms)| {
        ms.iter().zip(NAMES).map(move |(s, name)| {
            let mut row = vec![p.name.clone(), name.to_string()];
            row.extend(summary_fields(s));
            row
        })
    });
    csv_bytes(&header, rows)
}

/// stages.csv: per (policy, stage), the mean over replications of each stage count.
pub fn stages_csv(scenario: &Scenario, results: &Results) -> Vec<u8> {
    let mut header: Vec<String> = ["policy", "stage", "kind"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(STAGE_COLUMNS.iter().map(|s| s.to_string()));
    let rows = scenario
        .policies
        .iter()
        .zip(&results.per_policy)
        .flat_map(|(p, reps)| {
            p.stages.iter().enumerate().map(move |(i, s)| {
                let mut row = vec![p.name.clone(), s.name.clone(), s.kind.label().to_string()];
                for c in 0..STAGE_COLUMNS.len() {
                    let vals = reps.iter().map(|r| StageResult::values(&r.stages[i])[c]);
                    row.push(field(summarize(vals).mean));
                }
                row
            })
        });
    csv_bytes(&header, rows)
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

/// The policy × key-metric table with 95% confidence half-widths.
pub fn table(scenario: &Scenario, sums: &[Vec<Summary>]) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let shown: Vec<(M, &str)> = TABLE
        .iter()
        .filter(|(m, _, always)| *always || sums.iter().any(|ms| ms[*m as usize].mean > 0.0))
        .map(|(m, h, _)| (*m, *h))
        .collect();
    let mut head = vec!["policy".to_string()];
    head.extend(shown.iter().map(|(_, h)| h.to_string()));
    rows.push(head);
    for (p, ms) in scenario.policies.iter().zip(sums) {
        let mut row = vec![p.name.clone()];
        for (m, _) in &shown {
            let s = &ms[*m as usize];
            row.push(mean_pm(s.mean, s.half_width()));
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, v)| {
                let pad = widths[c] - v.chars().count();
                if c == 0 {
                    format!("{v}{}", " ".repeat(pad))
                } else {
                    format!("{}{v}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
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
