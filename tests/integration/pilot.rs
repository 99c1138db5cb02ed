//! An exploration without `-r`: a pilot chooses the replications per set from the noise
//! share, and the exploration is then exactly the one run with that many (any thread
//! count, sharded or not); the exploration's own noise share is within the aim.

use std::path::Path;

use tempfile::TempDir;

use crate::explore::{files as csvs, oversim_output, TEXT};

/// `oversim ARGS` in `dir`: its exit code and standard error.
fn oversim(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = oversim_output(dir, args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_pilot_chooses_the_replications_and_the_exploration_is_the_one_run_with_them() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    // b's reviewers vary little (0.58 to 0.62), so replication noise is a large share of
    // how b − a varies across the draws: the pilot must ask for more than its fewest.
    let text = TEXT.replace("low = 0.2, high = 0.9", "low = 0.58, high = 0.62");
    std::fs::write(d.join("n.toml"), text).unwrap();
    let common = ["explore", "n.toml", "--metric", "escaped", "--points", "8"];
    let with = |more: &[&str]| -> (i32, String) {
        let args: Vec<&str> = common.iter().chain(more).copied().collect();
        oversim(d, &args)
    };
    let (code, err) = with(&["-o", "auto", "-j", "1"]);
    assert_eq!(code, 0, "{err}");
    let line = err.lines().find(|l| l.contains("chosen by a pilot")).expect(&err);
    let chosen: u64 = line
        .trim_start_matches("oversim explore: ")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(chosen > 5, "the pilot kept its fewest: {line}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("auto/manifest.json")).unwrap()).unwrap();
    let pilot = &manifest["exploration"]["pilot"];
    assert_eq!(pilot["chosen"], chosen, "{pilot}");
    assert_eq!(manifest["replications"], chosen);
    assert!(pilot["noise_share_at_pilot"].as_f64().unwrap() > 0.1, "{pilot}");
    assert!(pilot["noise_share_at_chosen"].as_f64().unwrap() <= 0.1, "{pilot}");
    assert_eq!(pilot["output"], "escaped of b − a");

    // The same files as the exploration run with that many, on two threads; and as its
    // shards (each runs the same pilot) merged.
    let r = chosen.to_string();
    assert_eq!(with(&["-o", "fixed", "-q", "-r", &r, "-j", "2"]).0, 0);
    assert_eq!(with(&["-o", "s0", "-q", "--shard", "0/2"]).0, 0);
    assert_eq!(with(&["-o", "s1", "-q", "--shard", "1/2"]).0, 0);
    assert_eq!(oversim(d, &["merge", "s0", "s1", "-o", "merged", "-q"]).0, 0);
    let auto = csvs(&d.join("auto"));
    assert_eq!(auto.len(), 7);
    assert_eq!(auto, csvs(&d.join("fixed")), "the pilot's count run with -r");
    assert_eq!(auto, csvs(&d.join("merged")), "the pilot's shards merged");

    // The exploration's own estimate of the noise share of b − a (sensitivity.csv, with
    // its bootstrap interval) does not exclude the aim.
    let mut rd = csv::Reader::from_path(d.join("auto/sensitivity.csv")).unwrap();
    let h = rd.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|x| x == name).unwrap();
    let row = rd
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[col("metric")] == "escaped" && &r[col("output")] == "difference")
        .unwrap();
    let low: f64 = row[col("noise_low")].parse().unwrap();
    assert!(
        low <= 0.1,
        "noise share {} [{low}, {}]",
        &row[col("noise_share")],
        &row[col("noise_high")]
    );

    // -r, or --set run.replications, is taken as written: no pilot.
    let (code, err) = with(&["-o", "set", "--set", "run.replications=3"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("pilot"), "{err}");
    // Quiet: no line.
    let (_, err) = with(&["-o", "quiet", "-q"]);
    assert!(err.is_empty(), "{err}");
}

#[test]
fn a_noise_share_outside_its_range_is_refused() {
    let tmp = TempDir::new().unwrap();
    std::fs::write(tmp.path().join("s.toml"), TEXT).unwrap();
    for bad in ["0", "0.6", "1", "ten"] {
        let (code, err) = oversim(
            tmp.path(),
            &["explore", "s.toml", "--noise-share", bad, "-o", "x"],
        );
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(
            err.contains("--noise-share") && err.contains("a share from 0.001 to 0.5"),
            "{bad}: {err}"
        );
        assert!(!tmp.path().join("x").exists(), "{bad}: an output folder was made");
    }
}
