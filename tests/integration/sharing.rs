//! Result folders that a shared folder cannot turn against their user: a run that fails
//! part way leaves the old run whole, a second run into the same folder is refused, planted
//! symbolic links are not followed, and `report` and `merge` refuse a folder whose files are
//! not one run's.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

fn oversim() -> Command {
    Command::cargo_bin("oversim").expect("binary built")
}

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("oversim")
}

/// Every file of a folder, by name (hidden files included).
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().into_string().unwrap(),
                fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The names in a folder.
fn names(dir: &Path) -> Vec<String> {
    files(dir).into_iter().map(|(n, _)| n).collect()
}

fn run(dir: &Path, args: &[&str]) {
    oversim()
        .current_dir(dir)
        .args(["run", "-q", "-r", "3"])
        .args(args)
        .assert()
        .success();
}

/// A `--force` run whose writes fail part way (the file-size limit stands in for a full
/// disk: replications.csv fits, summary.csv does not) exits 1 and leaves the old run whole.
#[test]
fn a_failed_force_run_leaves_the_old_run_whole() {
    let tmp = TempDir::new().unwrap();
    run(tmp.path(), &["-o", "out", "--seed", "1"]);
    let before = files(&tmp.path().join("out"));
    let size = |n: &str| before.iter().find(|(f, _)| f == n).unwrap().1.len() as u64;
    let limit = size("replications.csv").max(size("classes.csv")) + 100;
    assert!(limit < size("summary.csv"), "the limit must fail summary.csv");
    for killed in [false, true] {
        let mut cmd = std::process::Command::new(bin());
        cmd.current_dir(tmp.path())
            .args(["run", "-q", "-r", "3", "-o", "out", "--seed", "2", "--force"]);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
                if !killed {
                    // Without the signal the write fails with EFBIG; with it the system
                    // kills the process part way through, as a crash would.
                    libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                }
                Ok(())
            });
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if killed {
            assert!(!out.status.success(), "{stderr}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            assert!(
                stderr.contains("cannot write") && stderr.contains("summary.csv"),
                "{stderr}"
            );
        }
        assert_eq!(
            files(&tmp.path().join("out")),
            before,
            "killed {killed}: the old run changed"
        );
        oversim()
            .current_dir(tmp.path())
            .args(["report", "out"])
            .assert()
            .success();
        fs::remove_file(tmp.path().join("out/report.html")).unwrap();
    }
    // The interrupted run's hidden folder is cleared by the next run into the folder.
    run(tmp.path(), &["-o", "out", "--seed", "2", "--force"]);
    assert_eq!(names(tmp.path()), ["out"], "leftovers beside the folder");
    assert_ne!(files(&tmp.path().join("out")), before);
}

/// `report` and `merge` refuse a folder that mixes two runs or lacks its manifest.
#[test]
fn mixed_or_incomplete_folders_are_refused() {
    let tmp = TempDir::new().unwrap();
    run(tmp.path(), &["-o", "one", "--seed", "1"]);
    run(tmp.path(), &["-o", "two", "--seed", "2"]);
    let two = tmp.path().join("two");
    fs::copy(
        tmp.path().join("one/replications.csv"),
        two.join("replications.csv"),
    )
    .unwrap();
    oversim()
        .current_dir(tmp.path())
        .args(["report", "two"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "replications.csv is not the file its manifest.json lists",
        ));
    fs::remove_file(two.join("manifest.json")).unwrap();
    oversim()
        .current_dir(tmp.path())
        .args(["report", "two"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a complete oversim results folder"));
    assert!(!two.join("report.html").exists());

    for k in 0..2 {
        run(
            tmp.path(),
            &["-o", &format!("s{k}"), "--shard", &format!("{k}/2")],
        );
    }
    fs::write(tmp.path().join("s1/kinds.csv"), "policy,replication,kind\n").unwrap();
    oversim()
        .current_dir(tmp.path())
        .args(["merge", "s0", "s1", "-o", "merged", "-q"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "kinds.csv is not the file its shard.json lists",
        ));
    assert!(!tmp.path().join("merged").exists());
}

/// A second run into a folder another run is writing is refused; the first run's results
/// stand.
#[test]
fn a_second_run_into_a_busy_folder_is_refused() {
    let tmp = TempDir::new().unwrap();
    // The first run holds the folder for a few seconds: its staffing written in (solving the
    // rules would only make it longer), on one thread.
    let staffing = (oversim::scenario::DEFAULT_STAFFING.iter())
        .flat_map(|(p, x)| ["--set".to_string(), format!("{p}={x}")]);
    let mut first = std::process::Command::new(bin())
        .current_dir(tmp.path())
        .args(["run", "-q", "-r", "200", "-j", "1", "-o", "out", "--seed", "1"])
        .args(staffing)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lock = tmp.path().join(".out.oversim-lock");
    let start = Instant::now();
    while !lock.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the first run never locked"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    oversim()
        .current_dir(tmp.path())
        .args(["run", "-q", "-r", "3", "-o", "out", "--seed", "2", "--force"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("another oversim is writing to out"));
    let status = first.wait().unwrap();
    assert!(status.success(), "the first run failed");
    let manifest = fs::read_to_string(tmp.path().join("out/manifest.json")).unwrap();
    assert!(manifest.contains("\"seed\": 1,"), "{manifest}");
    assert!(manifest.contains("\"replications_done\": 200,"));
    assert_eq!(names(tmp.path()), ["out"], "the lock file is left behind");
}

/// Symbolic links planted in a shared folder are never followed: not as the lock, not as a
/// result file, not as a leftover temporary folder, not as the output folder itself.
#[test]
fn planted_symbolic_links_are_not_followed() {
    use std::os::unix::fs::symlink;
    let tmp = TempDir::new().unwrap();
    let shared = tmp.path().join("shared");
    let outside = tmp.path().join("outside");
    fs::create_dir_all(&shared).unwrap();
    fs::create_dir_all(outside.join("folder")).unwrap();
    let victim = outside.join("victim.txt");
    fs::write(&victim, "precious").unwrap();
    fs::write(outside.join("folder/keep.txt"), "precious").unwrap();

    // The lock file.
    symlink(&victim, shared.join(".out.oversim-lock")).unwrap();
    oversim()
        .current_dir(&shared)
        .args(["run", "-q", "-r", "3", "-o", "out"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot create the lock file"));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    fs::remove_file(shared.join(".out.oversim-lock")).unwrap();

    // Result files and report.html that are links into another folder, and a link with the
    // name of a leftover temporary folder.
    run(&shared, &["-o", "out"]);
    for name in ["summary.csv", "replications.csv", "report.html"] {
        fs::remove_file(shared.join("out").join(name)).ok();
        symlink(&victim, shared.join("out").join(name)).unwrap();
    }
    symlink(
        outside.join("folder"),
        shared.join(".out.oversim-new-0123456789abcdef"),
    )
    .unwrap();
    run(&shared, &["-o", "out", "--force", "--report"]);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(
        fs::read_to_string(outside.join("folder/keep.txt")).unwrap(),
        "precious"
    );
    for name in ["summary.csv", "replications.csv", "report.html"] {
        let m = fs::symlink_metadata(shared.join("out").join(name)).unwrap();
        assert!(m.is_file(), "{name} is still a link");
    }
    // `report` replaces a planted report.html link, not what it points to.
    fs::remove_file(shared.join("out/report.html")).unwrap();
    symlink(&victim, shared.join("out/report.html")).unwrap();
    oversim()
        .current_dir(&shared)
        .args(["report", "out"])
        .assert()
        .success();
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");

    // The output folder itself.
    symlink(outside.join("folder"), shared.join("linked")).unwrap();
    oversim()
        .current_dir(&shared)
        .args(["run", "-q", "-r", "3", "-o", "linked"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a symbolic link"));
    assert_eq!(names(&outside.join("folder")), ["keep.txt"]);
}

/// Other files in an output folder (notes, shard folders) survive a run swapped in over
/// it; the current folder cannot be an output folder.
#[test]
fn other_files_move_with_the_folder() {
    let tmp = TempDir::new().unwrap();
    run(tmp.path(), &["-o", "out"]);
    fs::write(tmp.path().join("out/notes.txt"), "mine").unwrap();
    fs::create_dir(tmp.path().join("out/shard-1-of-2")).unwrap();
    run(tmp.path(), &["-o", "out", "--force", "--seed", "5"]);
    assert_eq!(
        fs::read_to_string(tmp.path().join("out/notes.txt")).unwrap(),
        "mine"
    );
    assert!(tmp.path().join("out/shard-1-of-2").is_dir());
    let out = tmp.path().join("out");
    oversim()
        .current_dir(&out)
        .args(["run", "-q", "-r", "3", "-o", ".", "--force"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is the current folder"));
    oversim()
        .current_dir(&out)
        .args(["run", "-q", "-r", "3", "-o", "..", "--force"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is the current folder or holds it"));
}

/// A cell a spreadsheet would run as a formula is written with a leading `'` (OWASP), read
/// back as the text it was, and free text cannot be swept at all.
#[test]
fn formula_cells_are_quoted_and_free_text_is_not_swept() {
    use oversim::report::rows::{from_cell, to_cell};
    for (text, cell) in [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("+20/h", "'+20/h"),
        ("-2+3", "'-2+3"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'quoted", "''quoted"),
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        ("20/h", "20/h"),
        ("", ""),
    ] {
        assert_eq!(to_cell(text), cell, "{text:?}");
        assert_eq!(from_cell(&to_cell(text)), text, "{text:?} does not read back");
    }
    // From the command line: a sweep value that begins with `+`, quoted in every file and
    // read back by the report.
    let tmp = TempDir::new().unwrap();
    run(
        tmp.path(),
        &["-o", "out", "--sweep", "workload.rate=+20/h,40/h", "--report"],
    );
    let csvs = (oversim::report::FILES.iter()).filter(|f| f.ends_with(".csv") && **f != "timeseries.csv");
    for name in csvs {
        let text = fs::read_to_string(tmp.path().join("out").join(name)).unwrap();
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert!(!rows.is_empty(), "{name}");
        let (quoted, plain) = rows
            .iter()
            .partition::<Vec<&str>, _>(|l| l.starts_with("'+20/h,"));
        assert!(plain.iter().all(|l| l.starts_with("40/h,")), "{name}: {plain:?}");
        assert_eq!(quoted.len(), plain.len(), "{name}");
    }
    let html = fs::read_to_string(tmp.path().join("out/report.html")).unwrap();
    assert!(html.contains("+20/h") && !html.contains("&#39;+20/h") && !html.contains("'+20/h"));
    oversim()
        .current_dir(tmp.path())
        .args([
            "run",
            "-q",
            "-r",
            "2",
            "-o",
            "d",
            "--sweep",
            "description==cmd|x,@SUM(1)",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "description: --sweep description: is free text",
        ));
    assert!(!tmp.path().join("d").exists());
}

/// Control characters in a shared file's keys, in `--set` paths and in flag values are
/// shown escaped, never sent to the terminal.
#[test]
fn control_characters_in_messages_are_escaped() {
    let tmp = TempDir::new().unwrap();
    let title = "\u{1b}]0;pwned\u{7}\u{1b}[2J";
    fs::write(
        tmp.path().join("esc.toml"),
        "name = \"x\"\n[run]\n\"\\u001b]0;pwned\\u0007\\u001b[2J\\u202e\" = 3\n",
    )
    .unwrap();
    let cases: [&[&str]; 3] = [
        &["validate", "esc.toml"],
        &["run", "-q", "--set", &format!("run.{title}=1")],
        &["run", "-q", "--threads", title],
    ];
    for args in cases {
        let out = oversim().current_dir(tmp.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            !stderr
                .chars()
                .any(|c| c.is_control() && c != '\n' || c == '\u{202e}'),
            "{args:?}: {stderr:?}"
        );
        assert!(
            stderr.contains("\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"),
            "{args:?}: {stderr}"
        );
    }
}

/// The work of a run is estimated before it starts: `validate` says it, a long run says it
/// first, and a run that cannot fit (a time series too fine, results larger than the
/// machine's memory) is refused with its numbers before anything is written.
#[test]
fn work_is_estimated_and_what_cannot_fit_is_refused() {
    let tmp = TempDir::new().unwrap();
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.toml");
    // 40/h over 30 days and a 1-day warm-up, 100 replications of 4 policies, and at least
    // one more run of 100 replications per staffing rule (9 rules) to solve them.
    let expected = 40.0 * (720.0 + 24.0) * 100.0 * (4.0 + 9.0);
    assert_eq!(expected, 38.688e6);
    oversim()
        .args(["validate", default.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "work: about 38.7 million simulated actions in 400 replications and at least 900 more to solve the staffing rules",
        ));
    oversim()
        .current_dir(tmp.path())
        .args(["run", "-q", "--timeseries", "1s", "-o", "ts"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "a time series in intervals of 1s records 10.4 million rows (2.59 million intervals a replication",
        ))
        .stderr(predicate::str::contains("use intervals of at least 10.368s"));
    let rates: Vec<String> = (1..=1000).map(|r| format!("{r}/h")).collect();
    oversim()
        .current_dir(tmp.path())
        .args(["run", "-q", "-r", "1000000", "-o", "mem", "--sweep"])
        .arg(format!("workload.rate={}", rates.join(",")))
        .assert()
        .code(2)
        .stderr(predicate::str::is_match(
            // The size follows the replication's row (estimate.rs tests the sum).
            r"the results of 4 billion replications need [34]\.\d TB of memory until they are written, more than the",
        ).unwrap());
    // A run of years says so before it starts (here it then stops at its output folder).
    fs::write(tmp.path().join("blocker"), "a file").unwrap();
    oversim()
        .current_dir(tmp.path())
        .args(["run", "-q", "--set", "workload.rate=1e12/h", "-o", "blocker/x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "note: <default scenario>: about 9.67e17 simulated actions in 400 replications and at least 900 more to solve the staffing rules (about",
        ))
        .stderr(predicate::str::contains(" years on "));
    assert_eq!(names(tmp.path()), ["blocker"], "something was written");
}
