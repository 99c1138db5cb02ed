//! Signals during a real run: SIGINT and SIGTERM stop promptly, keep the completed
//! replications as a clearly marked partial result, exit 130, and never leave a
//! half-written file.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use tempfile::TempDir;

fn start(dir: &Path, args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("oversim"))
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("oversim starts")
}

fn signal(child: &Child, sig: &str) {
    // The shell's builtin kill: no dependency on procps.
    let ok = Command::new("sh")
        .args(["-c", &format!("kill -{sig} {}", child.id())])
        .status()
        .unwrap();
    assert!(ok.success(), "kill -{sig}");
}

/// Waits for the child, at most `limit`; returns its exit code and how long it took.
fn wait(child: &mut Child, limit: Duration) -> (Option<i32>, Duration) {
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), t.elapsed());
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            panic!("oversim did not stop within {limit:?} of the signal");
        }
        sleep(Duration::from_millis(20));
    }
}

/// What the stopped process wrote to standard error.
fn stderr(child: &mut Child) -> String {
    use std::io::Read;
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut err)
        .unwrap();
    err
}

/// Every file in `dir` is a complete CSV or JSON file, and no temporary file is left.
fn check_files(dir: &Path) -> serde_json::Value {
    for e in fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!name.starts_with('.'), "temporary file left: {name}");
        let text = fs::read_to_string(dir.join(&name)).unwrap();
        if name.ends_with(".csv") {
            let mut r = csv::Reader::from_reader(text.as_bytes());
            let width = r.headers().unwrap().len();
            for rec in r.records() {
                assert_eq!(rec.expect("whole CSV record").len(), width, "{name}");
            }
        }
    }
    serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).expect("whole manifest")
}

/// The default scenario's staffing as its rules choose it, written in: a run of a million
/// replications would otherwise spend its first seconds solving the rules on all of them,
/// and an interrupt then keeps nothing.
fn staffed(args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    for (p, x) in oversim::scenario::DEFAULT_STAFFING {
        v.extend(["--set".to_string(), format!("{p}={x}")]);
    }
    v
}

fn interrupted_run_keeps_completed_replications(sig: &str) {
    let t = TempDir::new().unwrap();
    let args = staffed(&["run", "-r", "100000", "-o", "out", "-q", "-j", "2"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = start(t.path(), &args);
    sleep(Duration::from_millis(1500));
    signal(&child, sig);
    let (code, took) = wait(&mut child, Duration::from_secs(20));
    assert_eq!(code, Some(130), "exit code after SIG{sig}");
    assert!(took < Duration::from_secs(5), "stopped in {took:?}");
    let m = check_files(&t.path().join("out"));
    assert_eq!(m["interrupted"], true);
    assert_eq!(m["cut_short"], true);
    let done = m["replications_done"].as_u64().unwrap();
    assert!(done > 0, "some replications complete in 1.5 s");
    let reps = fs::read_to_string(t.path().join("out/replications.csv")).unwrap();
    assert_eq!(
        reps.lines().count() as u64,
        1 + 4 * done,
        "all four policies of every kept replication"
    );
    let err = stderr(&mut child);
    assert!(err.contains("partial results"), "{err}");
    assert!(
        !err.contains("interrupted again"),
        "one signal is a graceful stop: {err}"
    );
}

#[test]
fn sigint_keeps_completed_replications() {
    interrupted_run_keeps_completed_replications("INT");
}

#[test]
fn sigterm_keeps_completed_replications() {
    interrupted_run_keeps_completed_replications("TERM");
}

#[test]
fn a_long_replication_stops_promptly() {
    // Each replication simulates 200 years at 400 actions an hour: far longer than the test.
    let t = TempDir::new().unwrap();
    let mut child = start(
        t.path(),
        &[
            "run",
            "-r",
            "4",
            "-o",
            "out",
            "-q",
            "--set",
            "run.horizon=73000d",
            "--set",
            "workload.rate=400/h",
        ],
    );
    sleep(Duration::from_millis(1000));
    signal(&child, "INT");
    let (code, took) = wait(&mut child, Duration::from_secs(20));
    assert_eq!(code, Some(130));
    assert!(took < Duration::from_secs(2), "stopped in {took:?}");
    let m = check_files(&t.path().join("out"));
    assert_eq!(m["replications_done"], 0);
    assert_eq!(m["interrupted"], true);
}

#[test]
fn a_second_interrupt_exits_at_once_without_half_written_files() {
    let t = TempDir::new().unwrap();
    let args = staffed(&["run", "-r", "1000000", "-o", "out", "-q"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = start(t.path(), &args);
    sleep(Duration::from_millis(1000));
    signal(&child, "INT");
    // Apart, so that the kernel does not merge the two into one pending signal (which left
    // only the graceful stop, and made this test depend on how quickly that finishes).
    sleep(Duration::from_millis(200));
    signal(&child, "INT");
    let (code, took) = wait(&mut child, Duration::from_secs(20));
    assert_eq!(code, Some(130));
    assert!(took < Duration::from_secs(2), "stopped in {took:?}");
    // Both ways out exit 130: the message tells this one from the graceful stop.
    let err = stderr(&mut child);
    assert!(err.contains("interrupted again, exiting now"), "{err}");
    // The folder holds a whole run or none: a run is swapped into place complete, so an
    // exit at once leaves no folder (its hidden staging folder is cleared by the next run).
    let out = t.path().join("out");
    if out.exists() {
        oversim::report::files::verify(&out, "manifest.json").unwrap();
    }
}

/// Runs `args` to the end into `full`, then again into `part`, interrupted after half the
/// time the whole took (so some of the work is kept on any machine), then `--resume`s it:
/// every CSV file of the resumed folder is the uninterrupted one's, byte for byte, and the
/// manifest says how much was taken back. Returns the resumed count.
/// Names of hidden entries in `dir` (an exploration's spool, a staging folder): none may
/// remain in a results folder.
fn hidden(dir: &Path) -> Vec<String> {
    (fs::read_dir(dir).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// Runs `args` to the end, and again interrupted half way and resumed: the files are the
/// same. Returns how many replications the resumed run took back, and what the
/// interrupted one said.
fn interrupt_and_resume(args: &[String]) -> (u64, String) {
    let t = TempDir::new().unwrap();
    let with = |out: &str, extra: &[&str]| -> Vec<String> {
        let mut v = args.to_vec();
        v.extend(["-o".to_string(), out.to_string(), "-q".to_string()]);
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run_to_end = |v: Vec<String>| {
        let out = Command::new(assert_cmd::cargo::cargo_bin("oversim"))
            .current_dir(t.path())
            .args(&v)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{v:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let clock = Instant::now();
    run_to_end(with("full", &[]));
    let whole = clock.elapsed();

    let v = with("part", &[]);
    let v: Vec<&str> = v.iter().map(String::as_str).collect();
    let mut child = start(t.path(), &v);
    sleep(whole / 2);
    signal(&child, "INT");
    let (code, _) = wait(&mut child, Duration::from_secs(60));
    let said = stderr(&mut child);
    assert_eq!(code, Some(130), "interrupted half way: {said}");
    assert!(said.contains("--resume"), "the message says how to finish");
    let m = check_files(&t.path().join("part"));
    assert_eq!(m["interrupted"], true);
    assert_eq!(hidden(&t.path().join("part")), Vec::<String>::new());

    let err = run_to_end(with("part", &["--resume"]));
    let m = check_files(&t.path().join("part"));
    assert_eq!(m["interrupted"], false, "{err}");
    let resumed = m["resumed"]
        .as_u64()
        .expect("the manifest counts what was taken back");
    let full = t.path().join("full");
    let mut compared = 0;
    for e in fs::read_dir(&full).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".csv") {
            let a = fs::read(full.join(&name)).unwrap();
            let b = fs::read(t.path().join("part").join(&name))
                .unwrap_or_else(|e| panic!("the resumed folder lacks {name}: {e}"));
            assert!(a == b, "{name} differs after --resume");
            compared += 1;
        }
    }
    assert!(compared >= 5, "{compared} CSV files compared");
    // Only the run's files: what --resume read is gone.
    assert!(!t.path().join("part/stage-replications.csv").exists());

    // Once complete, --resume leaves the folder as it is.
    let before = fs::read(t.path().join("part/manifest.json")).unwrap();
    let err = run_to_end(with("part", &["--resume"]));
    assert!(err.contains("nothing to resume"), "{err}");
    assert_eq!(before, fs::read(t.path().join("part/manifest.json")).unwrap());
    for dir in ["part", "full"] {
        assert_eq!(hidden(&t.path().join(dir)), Vec::<String>::new(), "{dir}");
    }
    (resumed, said)
}

#[test]
fn an_interrupted_run_resumes_to_the_same_files() {
    // With a time series: replication 0 runs again (the kept files hold no series).
    let args = staffed(&["run", "-r", "600", "-j", "2", "--timeseries", "24h"]);
    let (resumed, _) = interrupt_and_resume(&args);
    assert!(
        resumed > 0 && resumed < 4 * 600,
        "{resumed} replications taken back"
    );
}

#[test]
fn an_interrupted_exploration_resumes_to_the_same_files() {
    // The staffing rules solved a chunk of sets at a time: the finished chunks are kept.
    let args: Vec<String> = [
        "explore",
        "--points",
        "2",
        "-r",
        "2",
        "--policies",
        "tiered,per-action",
        "-j",
        "2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (resumed, said) = interrupt_and_resume(&args);
    // "N of M sets finished": every finished set is kept whole (those already folded, from
    // the spool), its two replications of both policies, and not every set had finished.
    let counts: Vec<u64> = (said.rsplit("interrupted; ").next())
        .map(|s| s.split(' ').filter_map(|w| w.parse().ok()).take(2).collect())
        .unwrap_or_default();
    let [finished, sets] = counts[..] else {
        panic!("the message counts the finished sets: {said}")
    };
    assert!(
        finished > 0 && resumed >= finished * 2 * 2 && resumed < sets * 2 * 2,
        "{finished} of {sets} sets finished, {resumed} replications taken back"
    );
}

#[test]
fn an_exploration_interrupted_in_its_pilot_writes_nothing() {
    // The default scenario's pilot (16 sets of its four policies, staffing rules solved at
    // each) takes several seconds; a signal one second in stops it, or stops the run before
    // it starts where checking the plan (every input at the ends of its range) took longer.
    let t = TempDir::new().unwrap();
    let mut child = start(t.path(), &["explore", "--points", "8", "-j", "2", "-o", "out"]);
    sleep(Duration::from_secs(1));
    signal(&child, "INT");
    let (code, took) = wait(&mut child, Duration::from_secs(30));
    let err = stderr(&mut child);
    assert_eq!(code, Some(130), "{err}");
    assert!(
        err.contains("interrupted during the pilot; nothing written")
            || err.contains("interrupted before the run started; nothing written"),
        "{err}"
    );
    assert!(took < Duration::from_secs(5), "stopped {took:?} after the signal");
    let left: Vec<_> = match fs::read_dir(t.path().join("out")) {
        Ok(d) => d.map(|e| e.unwrap().file_name()).collect(),
        Err(_) => Vec::new(),
    };
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A shard of an exploration writes each set's rows as the set finishes: interrupted, it
/// keeps them (and the unfinished sets' finished replications) in whole files, each row as
/// the uninterrupted shard writes it and in its order (a shard is rerun whole, so these are
/// for reading, not for `--resume`).
#[test]
fn an_interrupted_exploration_shard_keeps_its_finished_rows() {
    let t = TempDir::new().unwrap();
    let args = |out: &str| -> Vec<String> {
        [
            "explore",
            "--points",
            "2",
            "-r",
            "4",
            "--policies",
            "tiered,per-action",
            "-j",
            "2",
            "--shard",
            "1/2",
            "-q",
            "-o",
            out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let clock = Instant::now();
    let full = Command::new(assert_cmd::cargo::cargo_bin("oversim"))
        .current_dir(t.path())
        .args(args("full"))
        .output()
        .unwrap();
    assert!(full.status.success(), "{}", String::from_utf8_lossy(&full.stderr));
    let whole = clock.elapsed();
    let v = args("part");
    let mut child = start(t.path(), &v.iter().map(String::as_str).collect::<Vec<_>>());
    sleep(whole / 2);
    signal(&child, "INT");
    let (code, _) = wait(&mut child, Duration::from_secs(60));
    assert_eq!(code, Some(130), "interrupted half way: {}", stderr(&mut child));
    let m = check_files(&t.path().join("part"));
    assert_eq!(m["interrupted"], true);
    for name in ["replications.csv", "cut-short.csv", "staffing.csv"] {
        let read = |dir: &str| fs::read_to_string(t.path().join(dir).join(name)).unwrap();
        let (kept, all) = (read("part"), read("full"));
        let (kept_header, kept_rows) = kept.split_once('\n').unwrap();
        let (all_header, all_rows) = all.split_once('\n').unwrap();
        assert_eq!(kept_header, all_header, "{name}");
        // The kept rows are the full shard's, in its order (a subsequence of them).
        let mut rest = all_rows.lines();
        for row in kept_rows.lines() {
            assert!(
                rest.any(|r| r == row),
                "{name}: a kept row out of place or not the shard's: {row}"
            );
        }
        if name == "replications.csv" {
            let (k, n) = (kept_rows.lines().count(), all_rows.lines().count());
            assert!(k > 0 && k < n, "{k} of {n} rows kept");
        }
    }
}
