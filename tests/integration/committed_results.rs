//! The committed `results/examples/` are exactly what the current code produces: each shipped
//! scenario is run again as `scripts/teaching-results.sh` runs it (`--timeseries 6h`), and
//! every CSV file must match the committed one byte for byte. (manifest.json and
//! report.html hold times and paths, so they are not compared.) If this fails after an
//! intended change of results, run `scripts/teaching-results.sh` and commit.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

const SCENARIOS: &[&str] = &[
    "default",
    "drifting-agent",
    "rubber-stamping",
    "fatigue-and-breaks",
    "automation-bias",
    "layered-defence",
    "layered-defence-correlated",
    "governance-b12",
    "expert-review-wins",
    "catastrophic-tail",
    "realistic-layers",
];

/// The default scenario's committed results, in every `cargo test`.
#[test]
fn committed_results_of_the_default_match_the_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = fs::read_to_string(root.join("scripts/teaching-results.sh")).unwrap();
    for s in SCENARIOS {
        assert!(
            script.contains(s),
            "scripts/teaching-results.sh should regenerate {s}"
        );
    }
    check(&["default"]);
}

/// Every other shipped scenario's: about a minute, so in CI's own step (`.ci/run`).
#[test]
#[ignore = "slow: reruns ten scenarios; CI runs it (cargo test --release -- --ignored)"]
fn committed_results_match_the_code() {
    check(&SCENARIOS[1..]);
}

fn check(scenarios: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let t = TempDir::new().unwrap();
    for s in scenarios {
        let out = t.path().join(s);
        Command::cargo_bin("oversim")
            .unwrap()
            .arg("run")
            .arg(root.join("scenarios").join(format!("{s}.toml")))
            .args(["--timeseries", "6h", "--quiet", "-o"])
            .arg(&out)
            .assert()
            .success();
        for f in [
            "replications.csv",
            "classes.csv",
            "kinds.csv",
            "summary.csv",
            "comparison.csv",
            "decision.csv",
            "stages.csv",
            "timeseries.csv",
        ] {
            let committed = root.join("results/examples").join(s).join(f);
            let fresh = fs::read(out.join(f)).unwrap();
            let old = fs::read(&committed).unwrap_or_else(|e| panic!("{}: {e}", committed.display()));
            assert!(
                old == fresh,
                "results/examples/{s}/{f} differs from what the code produces: run scripts/teaching-results.sh"
            );
        }
    }
}
