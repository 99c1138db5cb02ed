//! The experiment layer through the binary: sweeps, paired comparisons, precision targets,
//! shards and merge.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

fn oversim(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("oversim").expect("binary built");
    c.current_dir(dir);
    c
}

const SCENARIO: &str = r#"name = "exp"
[run]
replications = 8
horizon = "2d"
seed = 5
[workload]
rate = "30/h"
[[workload.class]]
name = "routine"
share = 0.9
defect_prob = 0.05
[[workload.class]]
name = "high-impact"
share = 0.1
defect_prob = 0.2
harm = 20
[workload.drift]
every = "1d"
multiplier = 2
self_heal = "12h"
[costs]
reviewer_hour = 60
harm_unit = 100
[[policy]]
name = "five"
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 5
service = { dist = "lognormal", mean = "8m", cv = 1.0 }
detect = 0.6
[[policy]]
name = "six"
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 6
service = { dist = "lognormal", mean = "8m", cv = 1.0 }
detect = 0.6
[[policy]]
name = "process"
[[policy.stage]]
kind = "automated_check"
name = "checks"
detect = 0.55
[[policy.stage]]
kind = "audit"
sample = 0.05
reviewers = 1
service = { dist = "exponential", mean = "15m" }
detect = 0.9
[[policy.stage]]
kind = "monitor"
watch = ["checks"]
method = "cusum"
p0 = 0.03
p1 = 0.06
h = 4
halt = "1h"
"#;

fn setup() -> TempDir {
    let t = TempDir::new().unwrap();
    fs::write(t.path().join("exp.toml"), SCENARIO).unwrap();
    t
}

fn read(dir: &Path, f: &str) -> String {
    fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(f).display()))
}

fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (h, rows)
}

fn run(dir: &Path, out: &str, extra: &[&str]) {
    oversim(dir)
        .args(["run", "exp.toml", "-q", "-o", out])
        .args(extra)
        .assert()
        .success();
}

#[test]
fn sweep_grid_covers_every_point_once_with_the_values_applied() {
    let t = setup();
    let d = t.path();
    run(
        d,
        "grid",
        &[
            "--sweep",
            "workload.rate=20/h,30/h",
            "--sweep",
            "policy.five.review.reviewers=4,5,7",
        ],
    );
    let (h, rows) = csv_rows(&read(&d.join("grid"), "replications.csv"));
    assert_eq!(
        &h[..4],
        [
            "workload.rate",
            "policy.five.review.reviewers",
            "policy",
            "replication"
        ]
    );
    assert_eq!(rows.len(), 6 * 3 * 8);
    let mut points: Vec<(String, String)> = rows.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    points.dedup();
    assert_eq!(
        points,
        [
            ("20/h", "4"),
            ("20/h", "5"),
            ("20/h", "7"),
            ("30/h", "4"),
            ("30/h", "5"),
            ("30/h", "7")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // Sweep columns lead every file.
    for f in ["summary.csv", "comparison.csv", "stages.csv"] {
        assert!(
            read(&d.join("grid"), f).starts_with("workload.rate,policy.five.review.reviewers,"),
            "{f}"
        );
    }
    // One point equals a --set run with the same values: identical rows.
    run(
        d,
        "one",
        &[
            "--set",
            "workload.rate=20/h",
            "--set",
            "policy.five.review.reviewers=7",
        ],
    );
    let (_, single) = csv_rows(&read(&d.join("one"), "replications.csv"));
    let at: Vec<Vec<String>> = rows
        .iter()
        .filter(|r| r[0] == "20/h" && r[1] == "7")
        .map(|r| r[2..].to_vec())
        .collect();
    assert_eq!(at, single);
}

#[test]
fn sweep_table_in_the_file_and_bad_sweeps_fail_before_running() {
    let t = setup();
    let d = t.path();
    let text = format!("{SCENARIO}[sweep]\n\"costs.harm_unit\" = [100, 1000]\n");
    fs::write(d.join("swept.toml"), text).unwrap();
    oversim(d)
        .args(["run", "swept.toml", "-q", "-o", "s"])
        .assert()
        .success();
    let (h, rows) = csv_rows(&read(&d.join("s"), "summary.csv"));
    assert_eq!(h[0], "costs.harm_unit");
    assert!(rows.iter().any(|r| r[0] == "1000"));
    oversim(d)
        .args([
            "run",
            "exp.toml",
            "-o",
            "bad",
            "--sweep",
            "policy.five.reviw.reviewers=3,4",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no stage named `reviw`")
                .and(predicate::str::contains("did you mean `review`?")),
        );
    oversim(d)
        .args([
            "run",
            "exp.toml",
            "-o",
            "bad",
            "--sweep",
            "workload.rate=20/h,-3/h",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("workload.rate")
                .and(predicate::str::contains("--sweep workload.rate=-3/h")),
        );
    assert!(!d.join("bad").exists());
}

#[test]
fn common_random_numbers_make_paired_intervals_narrow() {
    let t = setup();
    let d = t.path();
    run(d, "crn", &["-r", "40"]);
    let (h, rows) = csv_rows(&read(&d.join("crn"), "replications.csv"));
    let col = h.iter().position(|c| c == "harm").unwrap();
    let get = |p: &str| -> Vec<f64> {
        rows.iter()
            .filter(|r| r[0] == p)
            .map(|r| r[col].parse().unwrap())
            .collect()
    };
    let (a, b) = (get("five"), get("six"));
    let var = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
    };
    let diffs: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
    let paired_se = (var(&diffs) / 40.0).sqrt();
    let unpaired_se = ((var(&a) + var(&b)) / 40.0).sqrt();
    assert!(
        unpaired_se > 3.0 * paired_se,
        "paired SE {paired_se} vs unpaired {unpaired_se}"
    );
    // comparison.csv holds the paired interval.
    let (ch, crow) = csv_rows(&read(&d.join("crn"), "comparison.csv"));
    let row = crow.iter().find(|r| r[0] == "six" && r[2] == "harm").unwrap();
    assert_eq!(row[1], "five");
    let mean: f64 = row[ch.iter().position(|c| c == "mean_diff").unwrap()]
        .parse()
        .unwrap();
    let m = -diffs.iter().sum::<f64>() / 40.0;
    assert!((mean - m).abs() < 1e-9 * m.abs().max(1.0), "{mean} vs {m}");

    // Two identical policies: a zero difference, exactly.
    let twin = format!("{SCENARIO}[[policy]]\nname = \"five-again\"\n[[policy.stage]]\nkind = \"human_review\"\nname = \"review\"\nreviewers = 5\nservice = {{ dist = \"lognormal\", mean = \"8m\", cv = 1.0 }}\ndetect = 0.6\n");
    fs::write(d.join("twin.toml"), twin).unwrap();
    oversim(d)
        .args(["run", "twin.toml", "-q", "-o", "twin"])
        .assert()
        .success();
    let (_, crow) = csv_rows(&read(&d.join("twin"), "comparison.csv"));
    for r in crow.iter().filter(|r| r[0] == "five-again") {
        assert!(r[4] == "0" || r[4].is_empty(), "{r:?}");
    }
}

#[test]
fn baseline_flag_selects_the_reference_policy() {
    let t = setup();
    let d = t.path();
    run(d, "b", &["--baseline", "process"]);
    let (_, rows) = csv_rows(&read(&d.join("b"), "comparison.csv"));
    assert!(rows.iter().all(|r| r[1] == "process" && r[0] != "process"));
    oversim(d)
        .args(["run", "exp.toml", "-o", "x", "--baseline", "proces"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `process`?"));
}

/// Relative half-widths of `metric` per (point, policy) over the first `n` replications.
fn rel_half_widths(text: &str, metric: &str, n: usize) -> Vec<f64> {
    let (h, rows) = csv_rows(text);
    let col = h.iter().position(|c| c == metric).unwrap();
    let pcol = h.iter().position(|c| c == "policy").unwrap();
    let mut out = Vec::new();
    let mut policies: Vec<&String> = rows.iter().map(|r| &r[pcol]).collect();
    policies.dedup();
    for p in policies {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| &r[pcol] == p)
            .take(n)
            .map(|r| r[col].parse().unwrap())
            .collect();
        let s = oversim::stats::summarize(v);
        out.push(oversim::experiment::relative_half_width(&s));
    }
    out
}

#[test]
fn precision_targets_stop_when_met_and_not_before() {
    let t = setup();
    let d = t.path();
    run(
        d,
        "p1",
        &["-r", "5", "--precision", "escape_rate=0.03", "-j", "1"],
    );
    run(
        d,
        "p2",
        &["-r", "5", "--precision", "escape_rate=0.03", "-j", "2"],
    );
    for f in ["replications.csv", "summary.csv", "comparison.csv", "stages.csv"] {
        assert_eq!(
            read(&d.join("p1"), f),
            read(&d.join("p2"), f),
            "{f} differs with threads"
        );
    }
    let manifest: serde_json::Value = serde_json::from_str(&read(&d.join("p1"), "manifest.json")).unwrap();
    assert_eq!(manifest["stopped"], "precision targets reached");
    let n = manifest["replications_done"].as_u64().unwrap() as usize;
    assert!(n > 5 && (n / 5).is_power_of_two(), "batches double from 5: {n}");
    let reps = read(&d.join("p1"), "replications.csv");
    assert!(
        rel_half_widths(&reps, "escape_rate", n)
            .iter()
            .all(|&w| w <= 0.03),
        "met at {n}"
    );
    assert!(
        rel_half_widths(&reps, "escape_rate", n / 2)
            .iter()
            .any(|&w| w > 0.03),
        "not met at {}",
        n / 2
    );
    // A cap stops it early, and the manifest says why.
    run(
        d,
        "cap",
        &[
            "-r",
            "5",
            "--precision",
            "escape_rate=0.001",
            "--max-replications",
            "20",
        ],
    );
    let m: serde_json::Value = serde_json::from_str(&read(&d.join("cap"), "manifest.json")).unwrap();
    assert_eq!(m["replications_done"], 20);
    assert_eq!(m["cut_short"], true);
    assert!(m["stopped"].as_str().unwrap().contains("max replications"));
    oversim(d)
        .args(["run", "exp.toml", "-o", "x", "--precision", "escape_rat=0.1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `escape_rate`?"));
}

/// Relative half-widths of `metric`'s paired difference from policy `base`, per other
/// policy, over the first `n` replications (the single-point run's replications.csv).
fn rel_half_widths_of_differences(text: &str, metric: &str, base: &str, n: usize) -> Vec<f64> {
    let (h, rows) = csv_rows(text);
    let col = h.iter().position(|c| c == metric).unwrap();
    let pcol = h.iter().position(|c| c == "policy").unwrap();
    let values = |p: &str| -> Vec<f64> {
        (rows.iter().filter(|r| r[pcol] == p).take(n))
            .map(|r| r[col].parse().unwrap())
            .collect()
    };
    let mut policies: Vec<&String> = rows.iter().map(|r| &r[pcol]).collect();
    policies.dedup();
    let b = values(base);
    (policies.into_iter().filter(|p| *p != base))
        .map(|p| {
            let pairs: Vec<(f64, f64)> = values(p).into_iter().zip(b.iter().copied()).collect();
            let s = oversim::stats::summarize_paired(&pairs, false);
            oversim::experiment::relative_half_width(&s)
        })
        .collect()
}

#[test]
fn precision_on_differences_stops_when_every_paired_interval_is_met_and_not_before() {
    let t = setup();
    let d = t.path();
    let args = [
        "-r",
        "5",
        "--baseline",
        "process",
        "--precision",
        "diff.net_value=0.1",
    ];
    run(d, "d", &args);
    let manifest: serde_json::Value = serde_json::from_str(&read(&d.join("d"), "manifest.json")).unwrap();
    assert_eq!(manifest["stopped"], "precision targets reached");
    assert_eq!(manifest["precision"][0]["metric"], "diff.net_value");
    let n = manifest["replications_done"].as_u64().unwrap() as usize;
    assert!(n > 5 && (n / 5).is_power_of_two(), "batches double from 5: {n}");
    let reps = read(&d.join("d"), "replications.csv");
    let met = rel_half_widths_of_differences(&reps, "net_value", "process", n);
    assert_eq!(met.len(), 2, "five and six against process");
    assert!(met.iter().all(|&w| w <= 0.1), "met at {n}: {met:?}");
    let before = rel_half_widths_of_differences(&reps, "net_value", "process", n / 2);
    assert!(
        before.iter().any(|&w| w > 0.1),
        "not met at {}: {before:?}",
        n / 2
    );
    // What the run met is what comparison.csv reports.
    let (h, rows) = csv_rows(&read(&d.join("d"), "comparison.csv"));
    let at = |c: &str| h.iter().position(|x| x == c).unwrap();
    for r in rows
        .iter()
        .filter(|r| r[at("metric")] == "net_value" && r[at("policy")] != "process")
    {
        let num = |c: &str| r[at(c)].parse::<f64>().unwrap();
        let half = (num("ci_high") - num("ci_low")) / 2.0;
        assert!(half <= 0.1 * num("mean_diff").abs() * (1.0 + 1e-9), "{r:?}");
    }
    // The achieved figure in the manifest is the worst of them.
    let worst = met.iter().copied().fold(0.0, f64::max);
    let recorded = manifest["precision"][0]["achieved_relative_half_width"]
        .as_f64()
        .unwrap();
    assert!(
        (recorded - worst).abs() <= 1e-9 * worst,
        "{recorded} against {worst}"
    );
    // A target on differences needs a second policy; a misspelt metric is named.
    oversim(d)
        .args([
            "run",
            "exp.toml",
            "-o",
            "x",
            "--policies",
            "five",
            "--precision",
            "diff.harm=0.1",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--precision diff.harm: exp.toml has one policy",
        ))
        .stderr(predicate::str::contains("--precision harm=REL"));
    oversim(d)
        .args(["run", "exp.toml", "-o", "x", "--precision", "diff.harn=0.1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`harn` is not a metric"))
        .stderr(predicate::str::contains("did you mean `harm`?"));
    assert!(!d.join("x").exists(), "nothing written on bad input");
}

#[test]
fn shards_merge_byte_identical_to_the_whole_run() {
    let t = setup();
    let d = t.path();
    let sweep = ["--sweep", "workload.rate=20/h,30/h"];
    run(d, "whole", &sweep);
    for n in [1, 3, 4] {
        let mut dirs = Vec::new();
        for k in 0..n {
            let dir = format!("s{n}/{k}");
            run(d, &dir, &[&sweep[..], &["--shard", &format!("{k}/{n}")]].concat());
            dirs.push(dir);
        }
        let out = format!("merged{n}");
        oversim(d)
            .arg("merge")
            .args(&dirs)
            .args(["-q", "-o", &out])
            .assert()
            .success();
        for f in ["replications.csv", "summary.csv", "comparison.csv", "stages.csv"] {
            assert_eq!(read(&d.join(&out), f), read(&d.join("whole"), f), "N = {n}: {f}");
        }
    }
    // Shard via the Slurm environment.
    oversim(d)
        .args(["run", "exp.toml", "-q", "-o", "auto", "--shard", "auto"])
        .args(sweep)
        .env("SLURM_ARRAY_TASK_ID", "2")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .assert()
        .success();
    assert_eq!(
        read(&d.join("auto"), "replications.csv"),
        read(&d.join("s3/2"), "replications.csv")
    );
}

#[test]
fn merge_rejects_mixed_missing_and_duplicate_shards() {
    let t = setup();
    let d = t.path();
    for k in 0..3 {
        run(d, &format!("a/{k}"), &["--shard", &format!("{k}/3")]);
    }
    run(d, "other", &["--shard", "2/3", "--seed", "6"]);
    run(d, "four", &["--shard", "2/4"]);
    let merge = |dirs: &[&str]| {
        oversim(d)
            .arg("merge")
            .args(dirs)
            .args(["-q", "-o", "m"])
            .assert()
    };
    merge(&["a/0", "a/1"])
        .code(2)
        .stderr(predicate::str::contains("missing shards: 2/3"));
    merge(&["a/0", "a/1", "a/1", "a/2"])
        .code(2)
        .stderr(predicate::str::contains("shard 1/3 appears twice"));
    merge(&["a/0", "a/1", "other"])
        .code(2)
        .stderr(predicate::str::contains("different runs"));
    merge(&["a/0", "a/1", "four"])
        .code(2)
        .stderr(predicate::str::contains("shard of 4"));
    merge(&["a/0", "exp.toml"])
        .code(2)
        .stderr(predicate::str::contains("not a shard folder"));
    assert!(!d.join("m").exists());
    merge(&["a/0", "a/1", "a/2"]).success();
    oversim(d)
        .args([
            "run",
            "exp.toml",
            "-o",
            "x",
            "--shard",
            "1/3",
            "--precision",
            "harm=0.1",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be combined"));
}
