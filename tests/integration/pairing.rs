//! Common random numbers that reach every decision (issue 27): each draw is keyed by what it
//! is about, so a stage that changes nothing changes no number, and policies that share a
//! stage share that stage's luck on every action they both send to it.

use std::collections::HashMap;
use std::path::Path;

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
    let review = |p: usize| sc.policies[p].stages.iter().position(|s| s.name == "review").unwrap();
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
            assert_eq!(a.defective, b.defective, "action {action} attempt {attempt}: the defect");
            assert_eq!(a.flagged, b.flagged, "action {action} attempt {attempt} at stage {stage}");
            shared += 1;
            defects += a.defective as u32;
        }
        // Nearly every attempt is decided in both (they differ only in what is in flight at
        // the end of the window): 50/h over 310 h is about 15,500 actions.
        assert!(shared > 2 * 14_000, "replication {rep}: {shared} decisions shared");
        assert!(defects > 1_000, "replication {rep}: {defects} defective attempts shared");
    }
}
