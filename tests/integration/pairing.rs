//! Common random numbers that reach every decision (issue 27): each draw is keyed by what it
//! is about, so a stage that changes nothing changes no number, and policies that share a
//! stage share that stage's luck on every action they both send to it.

use std::collections::HashMap;
use std::path::Path;

use crate::common::generated_block;
use oversim::engine::{decisions, simulate, Decision};
use oversim::scenario::{self, Override, Scenario};

fn load(label: &str, text: &str, overrides: &[&str]) -> Scenario {
    let overrides: Vec<Override> = overrides.iter().map(|o| o.parse().unwrap()).collect();
    scenario::load(label, text, &overrides)
        .unwrap_or_else(|e| panic!("{e}"))
        .scenario
}

/// `text` with a check that never flags (detect 0, no false positives, no cost, no delay)
/// put in front of every policy's first stage.
fn with_a_silent_check_in_front(text: &str) -> String {
    const CHECK: &str = "[[policy.stage]]\nkind = \"automated_check\"\nname = \"silent\"\n\
                         detect = 0.0\nfalse_positive = 0.0\non_flag = \"reject\"\n\n";
    let mut out = String::new();
    let mut in_front = false;
    for line in text.lines() {
        let header = line.trim_start();
        if header.starts_with("[[policy]]") {
            in_front = true;
        } else if header.starts_with("[[policy.stage]]") && in_front {
            out.push_str(CHECK);
            in_front = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A review that saw the attempt pass a check is complacent (`complacency`): the silent
/// check would then change what reviewers do, which is the model, not a draw. The test
/// holds complacency at 1.
fn without_complacency(text: &str) -> String {
    (text.lines())
        .map(|l| match l.trim_start().starts_with("complacency") {
            true => "complacency = 1.0".to_string(),
            false => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_check_that_never_flags_put_in_front_changes_no_number_of_any_shipped_scenario() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the shipped scenarios: {files:?}");
    let mut compared = 0;
    for file in files {
        let label = file.display().to_string();
        let text = without_complacency(&std::fs::read_to_string(&file).unwrap());
        // A shorter window keeps the test quick; the default scenario's staffing rules are
        // resolved by `load` like any other file's.
        let short = ["run.horizon=240h", "run.warmup=24h"];
        let plain = load(&label, &text, &short);
        let checked = load(&label, &with_a_silent_check_in_front(&text), &short);
        assert_eq!(plain.policies.len(), checked.policies.len(), "{label}");
        for p in 0..plain.policies.len() {
            let name = &plain.policies[p].name;
            assert_eq!(checked.policies[p].stages[0].name, "silent", "{label}: {name}");
            for rep in 0..2 {
                let a = simulate(&plain, p, rep);
                let b = simulate(&checked, p, rep);
                let what = format!("{label}, policy {name}, replication {rep}");
                // Compared as printed, so that a NaN (a utilisation of no one) equals itself.
                let same = |x: &dyn std::fmt::Debug, y: &dyn std::fmt::Debug, part: &str| {
                    assert_eq!(format!("{x:?}"), format!("{y:?}"), "{what}: {part}")
                };
                same(&a.metrics, &b.metrics, "the metrics");
                same(&a.classes, &b.classes, "the classes");
                same(&a.kinds, &b.kinds, "the defect kinds");
                same(&a.ledger, &b.ledger, "the ledger");
                same(&&a.stages[..], &&b.stages[1..], "the other stages");
                assert_eq!(b.stages[0].flagged, 0.0, "{what}: the silent check flagged");
                compared += 1;
            }
        }
    }
    assert!(compared >= 40, "policy-replications compared: {compared}");
}

/// Two policies that differ only in the head count of one review: queues, waits and who
/// reviews what differ, but each action's defect and each review's outcome on an attempt
/// both policies review are the same draws, so with reviewers alike (no fatigue, one skill)
/// they agree on every such attempt.
#[test]
fn policies_that_differ_in_a_reviewer_count_share_every_defect_and_first_review_outcome() {
    let text = r#"name = "head-count"
[run]
horizon = "300h"
warmup = "10h"
seed = 27
[workload]
rate = "50/h"
[workload.rework]
max_attempts = 3
delay = { dist = "exponential", mean = "30m" }
[[workload.class]]
name = "routine"
share = 0.8
defect_prob = 0.06
[[workload.class]]
name = "novel"
share = 0.2
defect_prob = 0.15
[[policy]]
name = "three"
[[policy.stage]]
kind = "automated_check"
name = "checks"
detect = 0.5
false_positive = 0.05
on_flag = "reject"
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 3
service = { dist = "lognormal", mean = "3m", cv = 0.7 }
detect = 0.8
false_reject = 0.03
[[policy]]
name = "five"
[[policy.stage]]
kind = "automated_check"
name = "checks"
detect = 0.5
false_positive = 0.05
on_flag = "reject"
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 5
service = { dist = "lognormal", mean = "3m", cv = 0.7 }
detect = 0.8
false_reject = 0.03
"#;
    let sc = load("head-count.toml", text, &[]);
    let review = |p: usize| {
        sc.policies[p]
            .stages
            .iter()
            .position(|s| s.name == "review")
            .unwrap()
    };
    for rep in 0..3 {
        let by_attempt = |p: usize| -> HashMap<(u64, u16, u16), Decision> {
            (decisions(&sc, p, rep).into_iter())
                .map(|d| ((d.action, d.attempt, d.stage), d))
                .collect()
        };
        let (three, five) = (by_attempt(0), by_attempt(1));
        let (r3, r5) = (review(0) as u16, review(1) as u16);
        let mut shared = 0;
        let mut defects = 0;
        for (&(action, attempt, stage), a) in &three {
            let other = if stage == r3 { r5 } else { stage };
            let Some(b) = five.get(&(action, attempt, other)) else {
                continue;
            };
            assert_eq!(
                a.defective, b.defective,
                "action {action} attempt {attempt}: the defect"
            );
            assert_eq!(
                a.flagged, b.flagged,
                "action {action} attempt {attempt} at stage {stage}"
            );
            shared += 1;
            defects += a.defective as u32;
        }
        // Nearly every attempt is decided in both (they differ only in what is in flight at
        // the end of the window): 50/h over 310 h is about 15,500 actions.
        assert!(
            shared > 2 * 14_000,
            "replication {rep}: {shared} decisions shared"
        );
        assert!(
            defects > 1_000,
            "replication {rep}: {defects} defective attempts shared"
        );
    }
}

/// The width ratio of a paired comparison, `sqrt((s²_A + s²_B) / s²_(A−B))`: how many
/// times narrower the paired interval of the mean difference is than the interval of two
/// independent means from as many replications; and the replications a 95% interval of
/// ±5% of the mean difference needs, `(1.96 · s_(A−B) / (0.05 · |mean|))²`.
fn width_ratio(a: &[f64], b: &[f64]) -> (f64, f64) {
    let var = |x: &[f64]| {
        let m = x.iter().sum::<f64>() / x.len() as f64;
        x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64
    };
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    let vd = var(&d);
    (
        ((var(a) + var(b)) / vd).sqrt(),
        (1.96 * vd.sqrt() / (0.05 * mean.abs())).powi(2),
    )
}

/// The table docs/performance.md shows: the width ratios of every comparison the shipped
/// scenarios' committed results make (each policy against the baseline of comparison.csv)
/// on harm and net value, from their replications.csv; and the median over them.
fn width_ratio_table(root: &Path) -> String {
    use std::fmt::Write;
    let examples = root.join("results/examples");
    let mut names: Vec<String> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut out = String::from(
        "| scenario | policy | baseline | n | harm: ratio | reps for ±5% | net value: ratio | reps for ±5% |\n|---|---|---|---|---|---|---|---|\n",
    );
    let (mut harm, mut net) = (Vec::new(), Vec::new());
    for name in names {
        let dir = examples.join(&name);
        let mut rd = csv::Reader::from_path(dir.join("replications.csv")).unwrap();
        let header = rd.headers().unwrap().clone();
        let col = |m: &str| header.iter().position(|h| h == m).unwrap();
        let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
        let values = |policy: &str, m: &str| -> Vec<f64> {
            (rows.iter().filter(|r| &r[0] == policy))
                .map(|r| r[col(m)].parse().unwrap())
                .collect()
        };
        let mut rd = csv::Reader::from_path(dir.join("comparison.csv")).unwrap();
        let mut pairs: Vec<(String, String)> = (rd.records().map(Result::unwrap))
            .map(|r| (r[0].to_string(), r[1].to_string()))
            .collect();
        pairs.dedup();
        for (policy, baseline) in pairs {
            let (rh, nh) = width_ratio(&values(&policy, "harm"), &values(&baseline, "harm"));
            let (rn, nn) = width_ratio(&values(&policy, "net_value"), &values(&baseline, "net_value"));
            let n = values(&policy, "harm").len();
            let cell = |r: f64, reps: f64| match r.is_finite() {
                true => (format!("{r:.2}"), format!("{reps:.0}")),
                false => ("(no variance)".to_string(), "–".to_string()),
            };
            let ((rh_s, nh_s), (rn_s, nn_s)) = (cell(rh, nh), cell(rn, nn));
            writeln!(
                out,
                "| {name} | {policy} | {baseline} | {n} | {rh_s} | {nh_s} | {rn_s} | {nn_s} |"
            )
            .unwrap();
            harm.extend(rh.is_finite().then_some(rh));
            net.extend(rn.is_finite().then_some(rn));
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let k = v.len();
        match k % 2 {
            1 => v[k / 2],
            _ => (v[k / 2 - 1] + v[k / 2]) / 2.0,
        }
    };
    let (kh, kn) = (harm.len(), net.len());
    writeln!(
        out,
        "\nMedian width ratio: harm {:.2} over {kh} comparisons, net value {:.2} over {kn}.",
        median(&mut harm),
        median(&mut net)
    )
    .unwrap();
    out
}

/// docs/performance.md's table of width ratios is computed from the committed results
/// (`OVERSIM_BLESS=1` rewrites it).
#[test]
fn the_width_ratios_docs_show_are_the_committed_results() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let want = width_ratio_table(root);
    if generated_block("docs/performance.md", "width-ratios", &want).is_none() {
        return;
    }
    // A pair of identical worlds would give an infinite ratio, independent ones 1: the
    // ratio estimates from n replications have a relative sd near 1/sqrt(2(n − 1)), so
    // a shipped comparison's ratio below 0.7 would mean the pairing made it worse.
    assert!(!want.contains("| 0.6") && !want.contains("| 0.5"), "{want}");
    // The README's range for policies that share their layers (fatigue rules, head counts).
    let shared: Vec<f64> = (want.lines())
        .filter(|l| l.starts_with("| fatigue-and-breaks |") || l.starts_with("| rubber-stamping |"))
        .flat_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            [cells[5].parse::<f64>().unwrap(), cells[7].parse::<f64>().unwrap()]
        })
        .collect();
    let lo = shared.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = shared.iter().cloned().fold(0.0, f64::max);
    let stated = format!("against another, {lo:.1}–{hi:.1}×");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(readme.contains(&stated), "README should say `{stated}`");
}
