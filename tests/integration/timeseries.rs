//! `--timeseries STEP`: the series of replication 0 adds up to that replication's own
//! metrics, and recording it changes no result.

use std::fs;

use assert_cmd::Command;
use tempfile::TempDir;

fn rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().iter().map(str::to_string).collect();
    (
        h,
        r.records()
            .map(|x| x.unwrap().iter().map(str::to_string).collect())
            .collect(),
    )
}

fn col(h: &[String], name: &str) -> usize {
    h.iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn series_add_up_to_the_replication_metrics() {
    let t = TempDir::new().unwrap();
    let run = |out: &str, extra: &[&str]| {
        Command::cargo_bin("oversim")
            .unwrap()
            .current_dir(t.path())
            .args(["run", "-r", "4", "-q", "-o", out])
            .args(extra)
            .assert()
            .success();
    };
    run("plain", &[]);
    run("series", &["--timeseries", "7h"]);
    for f in ["replications.csv", "summary.csv", "stages.csv"] {
        assert_eq!(
            fs::read(t.path().join("plain").join(f)).unwrap(),
            fs::read(t.path().join("series").join(f)).unwrap(),
            "{f} changed by --timeseries"
        );
    }
    assert!(!t.path().join("plain/timeseries.csv").exists());
    let (sh, series) = rows(&fs::read_to_string(t.path().join("series/timeseries.csv")).unwrap());
    let (rh, reps) = rows(&fs::read_to_string(t.path().join("series/replications.csv")).unwrap());
    for policy in ["per-action", "tiered"] {
        let s: Vec<&Vec<String>> = series.iter().filter(|r| r[0] == policy).collect();
        let rep = reps.iter().find(|r| r[0] == policy && r[1] == "0").unwrap();
        let get =
            |r: &Vec<String>, h: &[String], c: &str| -> f64 { r[col(h, c)].parse().unwrap_or(f64::NAN) };
        let sum = |c: &str| -> f64 { s.iter().map(|r| get(r, &sh, c)).sum() };
        let weighted = |c: &str| -> f64 {
            s.iter()
                .map(|r| get(r, &sh, c) * (get(r, &sh, "t_end_h") - get(r, &sh, "t_start_h")))
                .sum()
        };
        // Intervals tile the measured window: 1 day of warm-up, 30 days measured.
        assert_eq!(get(s[0], &sh, "t_start_h"), 24.0);
        assert_eq!(get(s[s.len() - 1], &sh, "t_end_h"), 24.0 + 720.0);
        assert_eq!(sum("releases"), get(rep, &rh, "released"), "{policy}: releases");
        assert_eq!(sum("escapes"), get(rep, &rh, "escaped"), "{policy}: escapes");
        let close = |a: f64, b: f64, what: &str| {
            assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "{policy}: {what}: {a} vs {b}"
            )
        };
        close(
            weighted("mean_queue") / 720.0,
            get(rep, &rh, "mean_queue"),
            "mean queue",
        );
        close(
            weighted("on_duty_reviewers"),
            get(rep, &rh, "reviewer_hours")
                - get(rep, &rh, "investigation_hours")
                - if policy == "tiered" { 720.0 } else { 0.0 },
            "on-duty hours (the audit's 720 h and investigations are not review hours)",
        );
        close(weighted("drift"), get(rep, &rh, "drift_hours"), "drift hours");
        close(weighted("halted"), get(rep, &rh, "halt_hours"), "halt hours");
        // The defect probability moves with drift and learning, never above 3 × 0.055.
        assert!(s
            .iter()
            .all(|r| (0.0..=0.165 + 1e-9).contains(&get(r, &sh, "defect_prob"))));
    }
}
