//! The core's API (no threads, files or clock: what the browser build runs) returns the
//! CSV text `oversim run` writes, byte for byte, for the same scenario text, seed and
//! replications, with and without a sweep and a time series; a whole exploration returns
//! `oversim explore`'s.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use oversim::api::{self, Request};
use oversim::experiment::parse_sweep_arg;
use oversim::montecarlo::{Sequential, Workers};
use oversim::report::manifest::RunContext;
use oversim::scenario;
use tempfile::TempDir;

/// Runs `oversim run` with `args` into a fresh folder and returns it.
fn cli_run(tmp: &Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let out = tmp.join(name);
    Command::cargo_bin("oversim")
        .unwrap()
        .arg("run")
        .args(args)
        .args(["--quiet", "-o"])
        .arg(&out)
        .assert()
        .success();
    out
}

fn assert_same(dir: &Path, out: &api::Output) {
    let files = out.files.named();
    assert!(files.len() >= 4, "the four CSV files at least");
    for (name, bytes) in files {
        let cli = fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(cli == bytes, "{name} differs between the API and `oversim run`");
    }
    if out.files.timeseries.is_none() {
        assert!(!dir.join("timeseries.csv").exists());
    }
}

#[test]
fn api_files_are_the_cli_files() {
    let tmp = TempDir::new().unwrap();
    let ctx = RunContext::default();
    // The embedded default scenario, as `oversim run` with no file runs it.
    let dir = cli_run(tmp.path(), "default", &["--seed", "7", "-r", "6"]);
    let req = Request::new(scenario::DEFAULT_LABEL, scenario::DEFAULT_SCENARIO)
        .seed(7)
        .replications(6);
    let out = api::run(&req, Workers::new(&Sequential), &ctx, &|_| {}).unwrap();
    assert_eq!(out.run.points[0].reps.len(), 6);
    assert_same(&dir, &out);

    // A shipped scenario with a sweep, a baseline and a time series.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = root.join("scenarios/drifting-agent.toml");
    let text = fs::read_to_string(&file).unwrap();
    let args = [
        file.to_str().unwrap(),
        "--seed",
        "3",
        "-r",
        "4",
        "--sweep",
        "workload.rate=30/h,50/h",
        "--timeseries",
        "12h",
        "--set",
        "run.horizon=10d",
    ];
    let dir = cli_run(tmp.path(), "drift", &args);
    let mut req = Request::new(&file.display().to_string(), &text)
        .seed(3)
        .replications(4);
    req.overrides.insert(0, "run.horizon=10d".parse().unwrap());
    req.sweep
        .push(parse_sweep_arg("workload.rate=30/h,50/h").unwrap());
    req.series = Some(12.0);
    let out = api::run(&req, Workers::new(&Sequential), &ctx, &|_| {}).unwrap();
    assert_eq!(out.run.points.len(), 2);
    assert!(out.files.timeseries.is_some());
    assert_same(&dir, &out);
}

#[test]
fn api_errors_are_the_cli_messages() {
    let mut req = Request::new("bad.toml", scenario::DEFAULT_SCENARIO);
    req.overrides.push("bogus=1".parse().unwrap());
    let e = api::run(&req, Workers::new(&Sequential), &RunContext::default(), &|_| {})
        .err()
        .unwrap();
    assert!(e.starts_with("error: bad.toml"), "{e}");
    assert!(e.contains("unknown key `bogus`"), "{e}");
}

/// Shards run and merged in memory (as the browser's workers do) give the one-machine
/// files, and the merge refuses a set with a shard missing or twice.
#[test]
fn shards_merged_in_memory_are_the_whole_run() {
    use oversim::experiment::Shard;
    let ctx = RunContext::default();
    let base = Request::new(scenario::DEFAULT_LABEL, scenario::DEFAULT_SCENARIO)
        .seed(3)
        .replications(7);
    let whole = api::run(&base, Workers::new(&Sequential), &ctx, &|_| {}).unwrap();
    let shard = |index| {
        let mut r = base.clone();
        r.shard = Some(Shard { index, count: 3 });
        api::run_shard(&r, Workers::new(&Sequential), &ctx, &|_| {}).unwrap()
    };
    let shards = vec![shard(2), shard(0), shard(1)];
    let (_, files, manifest) = api::merge(&shards).unwrap();
    assert_eq!(files, whole.files);
    assert_eq!(manifest.replications_done, 7);
    let err = api::merge(&shards[..2]).unwrap_err();
    assert!(err.contains("missing shards: 1/3"), "{err}");
    let err = api::merge(&[shards[0].clone(), shards[0].clone(), shards[1].clone()]).unwrap_err();
    assert!(err.contains("appears twice"), "{err}");
}

/// The lab's levers: the policies a run compares, and a slider for each lever the file
/// writes as a number, with its current value read by `--set` path; moving a slider is a
/// `--set` override the scenario accepts.
#[test]
fn levers_are_set_paths_with_the_files_values() {
    let levers = api::levers(scenario::DEFAULT_LABEL, scenario::DEFAULT_SCENARIO).unwrap();
    assert_eq!(levers.policies, ["by-hand", "per-action", "tiered", "split"]);
    assert_eq!(levers.uncertain.len(), 32, "{:?}", levers.uncertain);
    assert!(levers.uncertain.contains(&"policy.*.review.detect".to_string()));
    assert_eq!(levers.horizon_hours, 720.0);
    let value = |path: &str| {
        let s = levers.sliders.iter().find(|s| s.path == path);
        s.unwrap_or_else(|| panic!("no slider {path}")).value
    };
    assert_eq!(value("workload.rate"), 40.0);
    assert_eq!(value("policy.per-action.review.detect"), 0.6);
    // A number its staffing rule sets has no slider: the rule sets it at every run.
    assert!(!levers
        .sliders
        .iter()
        .any(|s| s.path == "policy.per-action.review.reviewers"));
    assert_eq!(value("policy.tiered.audit.sample"), 0.03);
    assert_eq!(value("workload.class.high-impact.harm"), 50.0);
    for s in &levers.sliders {
        assert!(s.min <= s.value && s.value <= s.max, "{s:?}");
        let moved = format!("{}{}", s.max, s.unit);
        scenario::load(
            scenario::DEFAULT_LABEL,
            scenario::DEFAULT_SCENARIO,
            &[scenario::Override::set(&s.path, &moved)],
        )
        .unwrap_or_else(|e| panic!("{} = {moved}: {e}", s.path));
    }
    let err = api::levers("scenario.toml", "[run\n").unwrap_err();
    assert!(err.contains("scenario.toml:1"), "{err}");
}

/// Every shipped scenario's levers show the file's own values (500/h is not shown as 200/h,
/// nor 4/h as 5/h): each lies in its slider's range and on one of its steps; and the file's
/// replications and seed come with them.
#[test]
fn levers_show_every_scenarios_own_values() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let levers = api::levers("s.toml", &text).unwrap();
        let sc = scenario::load("s.toml", &text, &[]).unwrap().scenario;
        assert_eq!(levers.replications, sc.run.replications);
        assert_eq!(levers.seed, sc.run.seed.to_string());
        for s in &levers.sliders {
            let steps = (s.value - s.min) / s.step;
            assert!(
                s.min <= s.value && s.value <= s.max && (steps - steps.round()).abs() < 1e-6,
                "{}: {s:?}",
                path.display()
            );
        }
        let rate = levers.sliders.iter().find(|s| s.path == "workload.rate").unwrap();
        assert_eq!(rate.value, sc.workload.rate, "{}", path.display());
    }
    let b12 = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/governance-b12.toml"),
    )
    .unwrap();
    let rate = api::levers("b12.toml", &b12).unwrap().sliders[0].clone();
    assert_eq!((rate.value, rate.max >= 500.0), (500.0, true));
}

/// A whole exploration on one machine (`api::explore::whole`, what Python's `explore`
/// calls) writes `oversim explore`'s files, byte for byte: the pilot choosing the
/// replications and the break-even search included.
#[test]
fn a_whole_exploration_is_the_cli_exploration() {
    use oversim::api::explore::{whole, Asks};
    use oversim::explore::{design::DesignKind, pilot::DEFAULT_NOISE_SHARE, Spec};
    let tmp = TempDir::new().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = root.join("scenarios/automation-bias.toml");
    let out = tmp.path().join("cli");
    Command::cargo_bin("oversim")
        .unwrap()
        .args([
            "explore",
            file.to_str().unwrap(),
            "--points",
            "2",
            "--seed",
            "5",
            "--breakeven",
            "-q",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    let text = fs::read_to_string(&file).unwrap();
    let req = Request::new(file.to_str().unwrap(), &text).seed(5);
    let spec = Spec {
        design: DesignKind::Sobol,
        points: 2,
        metric: oversim::explore::DEFAULT_METRIC.into(),
        bootstrap: oversim::explore::DEFAULT_BOOTSTRAP as usize,
        map: None,
    };
    let asks = Asks {
        baseline: None,
        pilot: Some(DEFAULT_NOISE_SHARE),
        breakeven: Some(None),
    };
    let total = std::sync::atomic::AtomicU64::new(0);
    let done = std::sync::atomic::AtomicU64::new(0);
    let ordering = std::sync::atomic::Ordering::SeqCst;
    let found = whole(
        &req,
        &spec,
        &asks,
        Workers::new(&Sequential),
        &RunContext::default,
        &|n| total.store(n, ordering),
        &|n| {
            done.fetch_add(n, ordering);
        },
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .expect("not interrupted");
    let names: Vec<&str> = found.named().iter().map(|(n, _)| *n).collect();
    assert!(
        names.contains(&"breakeven.csv") && names.contains(&"choice.csv"),
        "{names:?}"
    );
    for (name, bytes) in found.named() {
        let cli = fs::read(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            cli == bytes,
            "{name} differs between api::explore::whole and `oversim explore`"
        );
    }
    // The progress counts reach the planned replications (the search adds its own).
    assert!(total.load(ordering) > 0 && done.load(ordering) >= total.load(ordering));
}

/// `api::validate` gives a scenario's problems apart, each with its line and key path, as
/// `oversim validate` prints them.
#[test]
fn validate_gives_each_problem_with_its_line_and_path() {
    let text = scenario::DEFAULT_SCENARIO.replace("rate = \"40/h\"", "rate = \"-40/h\"");
    let at = text
        .lines()
        .position(|l| l.starts_with("rate = \"-40/h\""))
        .unwrap()
        + 1;
    let e = api::validate(&Request::new("x.toml", &text)).unwrap_err();
    assert_eq!(e.file, "x.toml");
    assert_eq!(e.diagnostics[0].line, Some(at));
    assert_eq!(e.diagnostics[0].path, "workload.rate");
    assert!(e
        .to_string()
        .starts_with(&format!("error: x.toml:{at}: workload.rate: ")));
    assert!(api::validate(&Request::new("ok.toml", scenario::DEFAULT_SCENARIO)).is_ok());
}
