//! Overload: a review stage at offered load 2 for a simulated year runs (with a warning), in
//! bounded memory, and reports the growing backlog honestly; no NaN or infinity ever
//! reaches a CSV.

use crate::common;

use std::fs;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

const OVERLOAD: &str = r#"name = "overload"
[run]
replications = 20
horizon = "365d"
seed = 3
[workload]
rate = "4/h"
[[workload.class]]
name = "only"
share = 1.0
defect_prob = 0.05
[[policy]]
name = "per-action"
[[policy.stage]]
kind = "human_review"
reviewers = 1
service = { dist = "exponential", mean = "30m" }
detect = 0.6
[[policy]]
name = "no-oversight"
"#;

fn column(csv_text: &str, policy: &str, name: &str) -> Vec<f64> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let h = r.headers().unwrap().clone();
    let c = h.iter().position(|x| x == name).unwrap();
    r.records()
        .map(|x| x.unwrap())
        .filter(|x| &x[0] == policy)
        .map(|x| x[c].parse().unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn a_year_at_load_two_reports_the_growing_backlog() {
    let t = TempDir::new().unwrap();
    fs::write(t.path().join("o.toml"), OVERLOAD).unwrap();
    Command::cargo_bin("oversim")
        .unwrap()
        .current_dir(t.path())
        .args(["run", "o.toml", "-q", "-o", "out"])
        .assert()
        .success()
        .stderr(predicate::str::contains("offered load 2.00 ≥ 1"));
    let reps = fs::read_to_string(t.path().join("out/replications.csv")).unwrap();
    // The queue grows at λ − μ = 2/h: after a year about 17,520 actions wait.
    common::assert_ci(
        "overload: backlog after a year",
        &column(&reps, "per-action", "backlog_end"),
        2.0 * 8760.0,
    );
    // Throughput is set by the reviewer, not the arrivals: μ = 2/h reviews, less the
    // rejected defects (p·d = 0.05 × 0.6).
    common::assert_ci(
        "overload: throughput",
        &column(&reps, "per-action", "throughput_per_hour"),
        2.0 * (1.0 - 0.03),
    );
    // Undefined ratios are empty fields, never NaN or inf.
    for f in ["replications.csv", "summary.csv", "comparison.csv", "stages.csv"] {
        let text = fs::read_to_string(t.path().join("out").join(f)).unwrap();
        for bad in ["NaN", "nan", "inf"] {
            assert!(!text.contains(bad), "{f} contains {bad}");
        }
    }
    // no-oversight has no reviewers: utilization is undefined, written empty.
    assert!(reps
        .lines()
        .any(|l| l.starts_with("no-oversight,0,") && l.contains(",,")));
}

#[test]
fn the_backlog_cap_bounds_memory_and_marks_the_run() {
    let t = TempDir::new().unwrap();
    fs::write(t.path().join("o.toml"), OVERLOAD).unwrap();
    Command::cargo_bin("oversim")
        .unwrap()
        .current_dir(t.path())
        .args([
            "run",
            "o.toml",
            "-q",
            "-o",
            "out",
            "--set",
            "run.max_backlog=1000",
        ])
        .assert()
        .success()
        .stderr(
            predicate::str::contains("stopped early").and(predicate::str::contains("run.max_backlog = 1000")),
        );
    let m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(t.path().join("out/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["cut_short"], true);
    assert_eq!(m["replications_cut_short"], 20);
    let reps = fs::read_to_string(t.path().join("out/replications.csv")).unwrap();
    // The engine checks the backlog every 1024 events, so it overshoots by at most that.
    for b in column(&reps, "per-action", "backlog_end") {
        assert!((1000.0..=1000.0 + 1024.0).contains(&b), "backlog {b}");
    }
}
