//! Duties the law sets (`duty` on a class): each of the class's actions released without a
//! person's review counts in `duty_breaches`, and a policy that breaks a duty cannot be
//! chosen. Each path by which an action escapes review is checked against an identity or a
//! closed form.

use std::fs;

use assert_cmd::Command;
use tempfile::TempDir;

use super::common::{assert_ci, metric, run};
use oversim::metrics::M;

/// Two classes, `significant` bound by a duty, no defects (so every review approves and no
/// attempt is reworked), and one policy per way of reviewing (or not).
fn world(duty: bool) -> String {
    let duty = if duty { "duty = \"GDPR Art. 22\"" } else { "" };
    format!(
        r#"name = "duties"
[run]
replications = 20
horizon = "10d"
warmup = "1d"
seed = 11
[workload]
rate = "20/h"
[[workload.class]]
name = "routine"
share = 0.8
defect_prob = 0.0
[[workload.class]]
name = "significant"
share = 0.2
defect_prob = 0.0
{duty}

[[policy]]
name = "none"

[[policy]]
name = "reviewed"
[[policy.stage]]
kind = "human_review"
name = "review"
classes = ["significant"]
reviewers = 3
service = {{ dist = "exponential", mean = "6m" }}
detect = 0.8

[[policy]]
name = "sampled"
[[policy.stage]]
kind = "human_review"
name = "review"
sample = 0.3
reviewers = 4
service = {{ dist = "exponential", mean = "6m" }}
detect = 0.8

[[policy]]
name = "lots"
[[policy.stage]]
kind = "acceptance_sampling"
name = "lots"
classes = ["significant"]
lot = 20
n = 5
c = 0
reviewers = 2
service = {{ dist = "exponential", mean = "6m" }}
detect = 0.8

[[policy]]
name = "rushed"
[[policy.stage]]
kind = "human_review"
name = "review"
classes = ["significant"]
reviewers = 1
service = {{ dist = "exponential", mean = "20m" }}
detect = 0.8
max_wait = "30m"
on_timeout = "approve"

[[policy]]
name = "by-hand"
[policy.work]
by = "people"
classes = ["significant"]
people = 4
defect_prob = {{ significant = 0.0 }}
service = {{ dist = "exponential", mean = "20m" }}
"#
    )
}

/// The class rows' breaches of class `c` in each replication of policy `p`, and the
/// class's releases.
fn class_counts(results: &oversim::montecarlo::Results, p: usize, c: usize) -> Vec<(f64, f64)> {
    (results.per_policy[p].iter())
        .map(|r| (r.classes[c].duty_breaches as f64, r.classes[c].released as f64))
        .collect()
}

#[test]
fn each_way_past_a_person_counts_as_a_breach_and_nothing_else_changes() {
    let (sc, with) = run(&world(true));
    let (_, without) = run(&world(false));
    let p = |name: &str| sc.policies.iter().position(|x| x.name == name).unwrap();
    let (routine, significant) = (0, 1);
    // A duty only counts: every other number of every replication is what it was.
    for (k, (a, b)) in with.per_policy.iter().zip(&without.per_policy).enumerate() {
        for (i, (a, b)) in a.iter().zip(b).enumerate() {
            for &m in M::ALL.iter().filter(|&&m| m != M::duty_breaches) {
                let (x, y) = (a.metrics.get(m), b.metrics.get(m));
                assert!(
                    x == y || x.is_nan() && y.is_nan(),
                    "policy {k} rep {i}: {m:?} {x} against {y}"
                );
            }
            assert_eq!(b.metrics.get(M::duty_breaches), 0.0, "no duty, no breach");
        }
    }
    for k in 0..sc.policies.len() {
        for (r, rep) in with.per_policy[k].iter().enumerate() {
            // The class rows add up to the metric, and a class without a duty has none.
            let sum: u64 = rep.classes.iter().map(|c| c.duty_breaches).sum();
            assert_eq!(
                rep.metrics.get(M::duty_breaches),
                sum as f64,
                "policy {k} rep {r}"
            );
            assert_eq!(rep.classes[routine].duty_breaches, 0, "policy {k} rep {r}");
        }
    }
    // Nobody looks: every release of the class is a breach (an identity).
    for (b, released) in class_counts(&with, p("none"), significant) {
        assert_eq!(b, released);
        assert!(released > 500.0);
    }
    // A review of every action of the class, or people who make it: none.
    for name in ["reviewed", "by-hand"] {
        assert!(
            class_counts(&with, p(name), significant)
                .iter()
                .all(|&(b, _)| b == 0.0),
            "{name}"
        );
    }
    // A review of a 30% sample: each release is unreviewed with probability 0.7.
    let shares: Vec<f64> = (class_counts(&with, p("sampled"), significant).iter())
        .map(|&(b, n)| b / n)
        .collect();
    assert_ci("sampled review: share released unreviewed", &shares, 0.7);
    // Held lots of 20 with a sample of 5 and nothing to find: each lot is released whole,
    // its 15 uninspected attempts unreviewed (an identity).
    for (b, released) in class_counts(&with, p("lots"), significant) {
        assert!(released > 0.0 && released % 20.0 == 0.0, "{released}");
        assert_eq!(b, released * 15.0 / 20.0);
    }
    // A review that times out and approves: each timeout is a breach, and only those.
    for rep in &with.per_policy[p("rushed")] {
        let timeouts = rep.metrics.get(M::timeouts);
        assert!(timeouts > 0.0, "the rushed review must time out");
        assert_eq!(rep.metrics.get(M::duty_breaches), timeouts);
    }
    assert!(metric(&with, p("rushed"), M::duty_breaches).iter().sum::<f64>() > 100.0);
}

/// A scenario where the policy that skips the duty-bound review earns the most: the duty
/// makes it infeasible, decision.csv says which duty it breaks, and the verdict says so.
const CHEAPEST_BREAKS_THE_DUTY: &str = r#"name = "duty-decides"
[run]
replications = 10
horizon = "7d"
warmup = "1d"
seed = 5
[workload]
rate = "20/h"
[[workload.class]]
name = "routine"
share = 0.9
defect_prob = 0.01
value = 20.0
[[workload.class]]
name = "credit-decision"
share = 0.1
defect_prob = 0.02
value = 20.0
duty = "GDPR Art. 22"
[costs]
reviewer_hour = 60.0
currency = "USD"

[[policy]]
name = "checks-only"
[[policy.stage]]
kind = "automated_check"
name = "checks"
detect = 0.5
on_flag = "reject"

[[policy]]
name = "checks-and-review"
[[policy.stage]]
kind = "automated_check"
name = "checks"
detect = 0.5
on_flag = "reject"
[[policy.stage]]
kind = "human_review"
name = "review"
classes = ["credit-decision"]
reviewers = 2
service = { dist = "exponential", mean = "5m" }
detect = 0.7
"#;

use super::common::csv_rows as rows;

#[test]
fn a_policy_that_breaks_a_duty_cannot_be_chosen_and_the_report_says_which() {
    let tmp = TempDir::new().unwrap();
    let file = tmp.path().join("duty.toml");
    fs::write(&file, CHEAPEST_BREAKS_THE_DUTY).unwrap();
    let out = Command::cargo_bin("oversim")
        .unwrap()
        .args(["run", file.to_str().unwrap(), "-o"])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let d = rows(&tmp.path().join("out/decision.csv"));
    let (only, both) = (&d[0], &d[1]);
    assert_eq!(only["policy"], "checks-only");
    // Without the duty checks-only would win: it saves the reviewers' hours.
    let mean = |r: &std::collections::BTreeMap<String, String>| r["mean"].parse::<f64>().unwrap();
    assert!(mean(only) > mean(both), "{} against {}", mean(only), mean(both));
    assert_eq!((only["feasible"].as_str(), only["rank"].as_str()), ("no", ""));
    assert_eq!((both["feasible"].as_str(), both["rank"].as_str()), ("yes", "1"));
    assert!(
        only["duties_broken"].starts_with("GDPR Art. 22 (credit-decision: ")
            && only["duties_broken"].ends_with("released unreviewed per 7d, in 10 of 10 replications)"),
        "{}",
        only["duties_broken"]
    );
    assert_eq!(both["duties_broken"], "");
    assert!(
        only["constraints"].starts_with(
            "a person reviews each action of credit-decision (GDPR Art. 22) before release: not met ("
        ),
        "{}",
        only["constraints"]
    );
    assert!(
        both["constraints"].ends_with(": met (0 [0 .. 0])"),
        "{}",
        both["constraints"]
    );
    assert!(
        stdout.contains(
            "Decision on net_value: checks-and-review is the only policy that meets every constraint"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("so a policy that releases one unreviewed cannot be chosen: checks-only breaks GDPR Art. 22 (credit-decision: "),
        "{stdout}"
    );
    // The terminal table shows the column once a policy breaks a duty.
    assert!(stdout.contains("duty breaches"), "{stdout}");
    // The breaches are the class's releases in classes.csv, replication by replication.
    let classes = rows(&tmp.path().join("out/classes.csv"));
    for c in classes.iter().filter(|c| c["class"] == "credit-decision") {
        let want = if c["policy"] == "checks-only" {
            &c["released"]
        } else {
            "0"
        };
        assert_eq!(c["duty_breaches"], want, "{c:?}");
    }
}

/// An exploration's choice respects the duty at every draw: the policy that breaks it is
/// never chosen and never feasible.
#[test]
fn an_exploration_never_chooses_a_policy_that_breaks_a_duty() {
    let tmp = TempDir::new().unwrap();
    let file = tmp.path().join("duty.toml");
    let text = format!(
        "{CHEAPEST_BREAKS_THE_DUTY}\n[uncertain]\n\"costs.reviewer_hour\" = {{ dist = \"uniform\", low = 0.0, high = 100.0 }}\n\"workload.class.routine.value\" = {{ dist = \"uniform\", low = 10.0, high = 30.0 }}\n"
    );
    fs::write(&file, text).unwrap();
    let out = Command::cargo_bin("oversim")
        .unwrap()
        .args([
            "explore",
            file.to_str().unwrap(),
            "-q",
            "--points",
            "8",
            "-r",
            "3",
            "-o",
        ])
        .arg(tmp.path().join("ex"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let choices = rows(&tmp.path().join("ex/choice.csv"));
    let choice = |p: &str| choices.iter().find(|r| r["policy"] == p).unwrap().clone();
    let only = choice("checks-only");
    assert_eq!(
        (only["p_chosen"].as_str(), only["p_feasible"].as_str()),
        ("0", "0"),
        "{only:?}"
    );
    let both = choice("checks-and-review");
    assert_eq!(
        (both["p_chosen"].as_str(), both["p_feasible"].as_str()),
        ("1", "1"),
        "{both:?}"
    );
    assert!(
        both["constraints"].contains("credit-decision (GDPR Art. 22)"),
        "{both:?}"
    );
}
