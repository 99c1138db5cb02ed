//! Integration tests that drive the `oversim` binary: runs, output files, determinism,
//! common random numbers, overrides, and refusals.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

fn oversim() -> Command {
    Command::cargo_bin("oversim").expect("binary built")
}

const SMALL: &str = r#"name = "small"
[run]
replications = 12
horizon = "3d"
warmup = "6h"
seed = 7
[workload]
rate = "30/h"
[[workload.class]]
name = "routine"
share = 0.8
defect_prob = 0.05
[[workload.class]]
name = "high-impact"
share = 0.2
defect_prob = 0.2
harm = 20
[workload.rework]
delay = { dist = "exponential", mean = "20m" }
max_attempts = 2
[costs]
reviewer_hour = 60
harm_unit = 100
[[policy]]
name = "review-all"
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 3
service = { dist = "lognormal", mean = "5m", cv = 1.2 }
detect = 0.6
false_reject = 0.02
fatigue = { tau = "30m", floor = 0.85, break_after = "90m", break_length = "15m" }
pressure = { queue = 10, speedup = 2, detect_factor = 0.6 }
max_wait = "2h"
[[policy]]
name = "tiered"
[[policy.stage]]
kind = "automated_check"
name = "checks"
detect = 0.55
false_positive = 0.05
on_flag = "escalate"
escalate_to = "review"
[[policy.stage]]
kind = "human_review"
name = "review"
classes = ["high-impact"]
reviewers = 1
service = { dist = "lognormal", mean = "5m", cv = 1.2 }
detect = 0.6
complacency = 1.3
shifts = { on = "16h", period = "24h" }
discipline = "priority"
"#;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

const CSVS: &[&str] = &["replications.csv", "summary.csv", "stages.csv"];

fn run_to(dir: &Path, file: &Path, out: &str, extra: &[&str]) {
    oversim()
        .current_dir(dir)
        .arg("run")
        .arg(file)
        .args(["--quiet", "--out", out])
        .args(extra)
        .assert()
        .success();
}

fn read(dir: &Path, out: &str, f: &str) -> Vec<u8> {
    fs::read(dir.join(out).join(f)).unwrap()
}

#[test]
fn default_scenario_runs_and_prints_a_table() {
    let tmp = TempDir::new().unwrap();
    let out = oversim()
        .current_dir(tmp.path())
        .args(["run", "-r", "4"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("per-action") && stdout.contains("tiered"),
        "{stdout}"
    );
    assert!(stdout.contains("escape rate"), "{stdout}");
    for f in ["replications.csv", "summary.csv", "stages.csv", "manifest.json"] {
        assert!(tmp.path().join("results/default").join(f).exists(), "{f} missing");
    }
    // No temporary files are left behind.
    let leftovers: Vec<_> = fs::read_dir(tmp.path().join("results/default"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(tmp.path().join("results/default/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["replications"], 4);
    assert_eq!(manifest["seed"], 2026);
    assert_eq!(manifest["interrupted"], false);
    assert_eq!(manifest["scenario"]["sha256"].as_str().unwrap().len(), 64);
    assert!(manifest["scenario"]["resolved"]
        .as_str()
        .unwrap()
        .contains("replications = 4"));
}

#[test]
fn output_is_identical_for_any_thread_count_and_seed_dependent() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    run_to(tmp.path(), &file, "t1", &["-j", "1"]);
    run_to(tmp.path(), &file, "t2", &["-j", "2"]);
    run_to(tmp.path(), &file, "t2again", &["-j", "2"]);
    run_to(tmp.path(), &file, "seed8", &["--seed", "8"]);
    for f in CSVS {
        assert_eq!(
            read(tmp.path(), "t1", f),
            read(tmp.path(), "t2", f),
            "{f}: -j1 vs -j2"
        );
        assert_eq!(
            read(tmp.path(), "t2", f),
            read(tmp.path(), "t2again", f),
            "{f}: same seed twice"
        );
        assert_ne!(
            read(tmp.path(), "t1", f),
            read(tmp.path(), "seed8", f),
            "{f}: another seed"
        );
    }
}

#[test]
fn identical_policies_give_identical_rows() {
    // Common random numbers: the same policy twice under two names sees the same world.
    let tmp = TempDir::new().unwrap();
    let twin = SMALL.replace("name = \"tiered\"", "name = \"tiered-twin\"");
    assert_ne!(twin, SMALL, "the policy to copy is named `tiered`");
    let start = SMALL.find("[[policy]]\nname = \"tiered\"").unwrap();
    let text = format!("{SMALL}{}", &twin[start..]);
    let file = write(tmp.path(), "twin.toml", &text);
    run_to(tmp.path(), &file, "out", &[]);
    let csv = String::from_utf8(read(tmp.path(), "out", "replications.csv")).unwrap();
    let rows = |p: &str| -> Vec<String> {
        csv.lines()
            .filter(|l| l.starts_with(&format!("{p},")))
            .map(|l| l.split_once(',').unwrap().1.to_string())
            .collect()
    };
    assert_eq!(rows("tiered").len(), 12);
    assert_eq!(rows("tiered"), rows("tiered-twin"));
    assert_ne!(rows("tiered"), rows("review-all"));
}

#[test]
fn summary_agrees_with_replications() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    run_to(tmp.path(), &file, "out", &[]);
    let mut reps =
        csv::Reader::from_reader(std::io::Cursor::new(read(tmp.path(), "out", "replications.csv")));
    let headers = reps.headers().unwrap().clone();
    let col = headers.iter().position(|h| h == "escapes_per_1k").unwrap();
    let values: Vec<f64> = reps
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[0] == "tiered")
        .map(|r| r[col].parse().unwrap())
        .collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let mut sum = csv::Reader::from_reader(std::io::Cursor::new(read(tmp.path(), "out", "summary.csv")));
    let row = sum
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[0] == "tiered" && &r[1] == "escapes_per_1k")
        .expect("summary row");
    assert_eq!(&row[2], "12");
    let m: f64 = row[3].parse().unwrap();
    assert!((m - mean).abs() < 1e-9 * mean.abs().max(1.0), "{m} vs {mean}");
    let (lo, hi): (f64, f64) = (row[5].parse().unwrap(), row[6].parse().unwrap());
    assert!(lo < m && m < hi);
    // Stage counts of both policies are present.
    let stages = String::from_utf8(read(tmp.path(), "out", "stages.csv")).unwrap();
    assert!(stages.contains("tiered,checks,automated_check,"), "{stages}");
    assert!(stages.contains("review-all,review,human_review,"), "{stages}");
}

#[test]
fn refuses_to_overwrite_without_force() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    run_to(tmp.path(), &file, "out", &[]);
    let before = read(tmp.path(), "out", "replications.csv");
    oversim()
        .current_dir(tmp.path())
        .args(["run", "small.toml", "--quiet", "--out", "out", "--seed", "99"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already holds results").and(predicate::str::contains("--force")));
    assert_eq!(
        before,
        read(tmp.path(), "out", "replications.csv"),
        "results were touched"
    );
    run_to(tmp.path(), &file, "out", &["--force", "--seed", "99"]);
    assert_ne!(before, read(tmp.path(), "out", "replications.csv"));
}

#[test]
fn resume_continues_only_the_same_command() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    // An empty folder: --resume starts afresh.
    run_to(tmp.path(), &file, "out", &["--resume"]);
    let before = read(tmp.path(), "out", "replications.csv");
    // Another seed is another run: refused, and the folder is untouched.
    oversim()
        .current_dir(tmp.path())
        .args([
            "run",
            "small.toml",
            "--quiet",
            "--out",
            "out",
            "--seed",
            "99",
            "--resume",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("holds the results of another run")
                .and(predicate::str::contains("--force")),
        );
    assert_eq!(before, read(tmp.path(), "out", "replications.csv"));
    oversim()
        .current_dir(tmp.path())
        .args([
            "run",
            "small.toml",
            "--quiet",
            "--out",
            "sh",
            "--shard",
            "0/2",
            "--resume",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--resume cannot be combined with --shard",
        ));
    oversim()
        .current_dir(tmp.path())
        .args([
            "explore", "--quiet", "--out", "out", "--points", "2", "-r", "2", "--resume",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds the results of another run"));
    assert_eq!(before, read(tmp.path(), "out", "replications.csv"));
}

#[test]
fn unwritable_output_fails_before_simulating() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    fs::write(tmp.path().join("blocker"), "a file, not a folder").unwrap();
    oversim()
        .current_dir(tmp.path())
        .args(["run", "small.toml", "--quiet", "--out", "blocker/out"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot create output folder"));
    let _ = file;
}

#[test]
fn set_overrides_change_the_scenario() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    run_to(tmp.path(), &file, "base", &[]);
    run_to(
        tmp.path(),
        &file,
        "more",
        &[
            "--set",
            "policy.review-all.review.reviewers=6",
            "--set",
            "workload.rate=20/h",
        ],
    );
    let base = String::from_utf8(read(tmp.path(), "base", "summary.csv")).unwrap();
    let more = String::from_utf8(read(tmp.path(), "more", "summary.csv")).unwrap();
    assert_ne!(base, more);
    let manifest = String::from_utf8(read(tmp.path(), "more", "manifest.json")).unwrap();
    assert!(manifest.contains("reviewers = 6"), "{manifest}");
    oversim()
        .current_dir(tmp.path())
        .args([
            "run",
            "small.toml",
            "--out",
            "x",
            "--set",
            "policy.review-al.review.reviewers=6",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no policy named `review-al`; did you mean `review-all`?",
        ));
    oversim()
        .current_dir(tmp.path())
        .args([
            "run",
            "small.toml",
            "--out",
            "x",
            "--set",
            "policy.tiered.review.reviewers=0",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("policy[tiered].stage[review].reviewers")
                .and(predicate::str::contains("set by --set")),
        );
    assert!(!tmp.path().join("x").exists(), "no output folder for a bad run");
}

#[test]
fn validate_reports_offered_load_and_warns_on_overload() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    // review-all: 30/h × 5 min / 3 = 0.833, over the 90/105 of time not on break: 0.972.
    oversim()
        .arg("validate")
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("review-all/review: 0.972"));
    oversim()
        .arg("validate")
        .arg(&file)
        .args(["--set", "workload.rate=60/h"])
        .assert()
        .success()
        .stderr(predicate::str::contains("offered load 1.94 ≥ 1"));
}

#[test]
fn overloaded_scenario_runs_with_a_warning_and_reports_backlog() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "small.toml", SMALL);
    let out = oversim()
        .current_dir(tmp.path())
        .args([
            "run",
            "small.toml",
            "--quiet",
            "--out",
            "o",
            "--set",
            "workload.rate=80/h",
            "-r",
            "2",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning"));
    let _ = (out, file);
    let csv = String::from_utf8(read(tmp.path(), "o", "summary.csv")).unwrap();
    let backlog = csv
        .lines()
        .find(|l| l.starts_with("review-all,backlog_end,"))
        .unwrap();
    let mean: f64 = backlog.split(',').nth(3).unwrap().parse().unwrap();
    assert!(mean > 20.0, "backlog {backlog}");
}

/// `oversim validate ... | head` ends quietly when the reader goes away: no panic (Rust
/// ignores SIGPIPE, so a write to a closed pipe would otherwise panic in `println!`).
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_output_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command as Process, Stdio};
    // Enough offered-load lines (a 3000-point sweep) to fill any pipe buffer.
    let rates: Vec<String> = (1..=3000).map(|r| format!("{r}/h")).collect();
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("oversim"))
        .args([
            "validate",
            "--sweep",
            &format!("workload.rate={}", rates.join(",")),
        ])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.toml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("ok:"), "{first}");
    // The reader is dropped here: the pipe is closed.
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "a panic's exit code");
}

/// `--policies` (`run.policies`) runs a subset in the listed order: each policy's numbers
/// are the full run's (its streams do not depend on the others), and the first listed is
/// the baseline.
#[test]
fn a_subset_of_policies_gives_the_full_runs_numbers() {
    let t = TempDir::new().unwrap();
    let d = t.path();
    let run = |out: &str, extra: &[&str]| {
        oversim()
            .current_dir(d)
            .args(["run", "-r", "4", "--seed", "3", "-q", "-o", out])
            .args(extra)
            .assert()
            .success();
        fs::read_to_string(d.join(out).join("summary.csv")).unwrap()
    };
    let full = run("full", &[]);
    let sub = run("sub", &["--policies", "tiered,per-action"]);
    let rows = |text: &str, policy: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with(&format!("{policy},")))
            .map(str::to_string)
            .collect()
    };
    for p in ["per-action", "tiered"] {
        assert!(!rows(&full, p).is_empty());
        assert_eq!(rows(&full, p), rows(&sub, p), "{p}");
    }
    assert!(sub.lines().nth(1).unwrap().starts_with("tiered,"), "listed order");
    let cmp = fs::read_to_string(d.join("sub/comparison.csv")).unwrap();
    assert!(
        cmp.lines().skip(1).all(|l| l.starts_with("per-action,tiered,")),
        "baseline first listed"
    );
    let only = run("only", &["--set", "run.policies=[\"per-action\"]"]);
    assert_eq!(rows(&only, "per-action"), rows(&full, "per-action"));
    assert!(rows(&only, "tiered").is_empty());
}
