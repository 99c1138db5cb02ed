//! Metrics that count everything: the money parts and their sum, net value, investigations,
//! severe escapes and the per-class rows, each against an exact identity or a closed form;
//! and a hair-trigger monitor, which does less harm by doing less work, loses on net value.

use crate::common;

use assert_cmd::Command;
use common::{assert_ci, run};
use oversim::engine::simulate;
use oversim::metrics::{RepResult, M};
use oversim::scenario::{self, Override};
use oversim::stats::summarize_at;
use tempfile::TempDir;

/// Every cost key set: the parts are what their definitions say, and they add up.
const PRICED: &str = r#"name = "priced"
[run]
replications = 20
horizon = "10d"
warmup = "1d"
seed = 61
[workload]
rate = "30/h"
[workload.drift]
every = "3d"
multiplier = 4.0
self_heal = "2d"
[[workload.class]]
name = "only"
share = 1.0
defect_prob = 0.05
harm = 40.0
value = 12.5
[costs]
reviewer_hour = 60.0
halt_hour = 200.0
harm_unit = 3.0
delay_hour = 0.75
[[policy]]
name = "p"
cost_per_day = 90.0
[[policy.stage]]
kind = "automated_check"
name = "judge"
detect = 0.7
cost = 0.02
[[policy.stage]]
kind = "human_review"
name = "review"
sample = 0.3
reviewers = 2
service = { dist = "exponential", mean = "5m" }
detect = 0.6
cost = 0.5
[[policy.stage]]
kind = "monitor"
watch = ["judge"]
method = "cusum"
p0 = 0.035
p1 = 0.1
h = 3.0
halt = "2h"
investigate = "90m"
"#;

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{what}: {a} vs {b}");
}

#[test]
fn money_parts_are_their_definitions_and_add_up() {
    let (sc, r) = run(PRICED);
    let horizon = sc.run.horizon;
    let stages = &sc.policies[0].stages;
    let mut alarms = 0.0;
    for x in &r.per_policy[0] {
        let m = |k: M| x.metrics.get(k);
        // The total is exactly the sum of its parts, and net value what is left of value.
        let parts = m(M::cost_review)
            + m(M::cost_halt)
            + m(M::cost_harm)
            + m(M::cost_delay)
            + m(M::cost_stages)
            + m(M::cost_fixed);
        assert_eq!(m(M::cost_total), parts);
        assert_eq!(m(M::net_value), m(M::value_released) - m(M::cost_total));
        // Each part is its definition.
        assert_eq!(m(M::value_released), 12.5 * m(M::released));
        assert_eq!(
            m(M::investigation_hours),
            1.5 * m(M::halts),
            "investigation = alarms × investigate"
        );
        close(m(M::cost_review), 60.0 * m(M::reviewer_hours), "review");
        close(m(M::cost_halt), 200.0 * m(M::halt_hours), "halt");
        close(m(M::cost_harm), 3.0 * m(M::harm), "harm");
        let delay_hours = m(M::latency_mean_min) / 60.0 * m(M::released);
        close(m(M::cost_delay), 0.75 * delay_hours, "delay");
        let entered: f64 = stages
            .iter()
            .zip(&x.stages)
            .map(|(s, st)| s.cost * st.entered)
            .sum();
        close(m(M::cost_stages), entered, "stages");
        close(m(M::cost_fixed), 90.0 * horizon / 24.0, "fixed");
        // Investigations are people's time: in reviewer hours beside the reviewers' duty.
        assert!(m(M::reviewer_hours) >= 2.0 * horizon + m(M::investigation_hours) - 1e-9);
        alarms += m(M::halts);
    }
    assert!(alarms > 0.0, "the check exercises investigations");
}

/// A severe class with defect probability q and no oversight: escapes are a thinned
/// Poisson process, so P(at least one in the horizon) = 1 − exp(−λ·T·q), the Poisson
/// mixture of 1 − (1 − q)^n; a check of detection d thins it to q·(1 − d).
#[test]
fn any_severe_is_one_minus_the_poisson_zero_probability() {
    let text = r#"name = "tail"
[run]
replications = 12000
horizon = "1h"
seed = 62
[workload]
rate = "10/h"
[[workload.class]]
name = "routine"
share = 0.5
defect_prob = 0.1
[[workload.class]]
name = "catastrophic"
share = 0.5
defect_prob = 0.2
severe = true
[[policy]]
name = "none"
[[policy]]
name = "check"
[[policy.stage]]
kind = "automated_check"
detect = 0.5
"#;
    let (_, r) = run(text);
    for (p, q) in [(0, 0.5 * 0.2f64), (1, 0.5 * 0.2 * 0.5)] {
        let any: Vec<f64> = r.per_policy[p]
            .iter()
            .map(|x| x.metrics.get(M::any_severe))
            .collect();
        assert_ci(
            &format!("P(any severe escape), policy {p}"),
            &any,
            1.0 - (-10.0 * 1.0 * q).exp(),
        );
        for x in &r.per_policy[p] {
            let severe = x.classes[1].escaped as f64;
            assert_eq!(x.metrics.get(M::severe_escapes), severe);
            assert_eq!(x.metrics.get(M::any_severe), (severe > 0.0) as u8 as f64);
        }
    }
}

/// The class rows add up to the replication's totals.
fn assert_classes_add_up(x: &RepResult, what: &str) {
    let sum = |f: fn(&oversim::metrics::ClassResult) -> f64| x.classes.iter().map(f).sum::<f64>();
    for (m, total) in [
        (M::released, sum(|c| c.released as f64)),
        (M::rejected, sum(|c| c.rejected as f64)),
        (M::dropped, sum(|c| c.dropped as f64)),
        (M::defects, sum(|c| c.defects as f64)),
        (M::escaped, sum(|c| c.escaped as f64)),
        (M::caught_late, sum(|c| c.caught_late as f64)),
    ] {
        assert_eq!(x.metrics.get(m), total, "{what}: {m:?}");
    }
    close(x.metrics.get(M::harm), sum(|c| c.harm), &format!("{what}: harm"));
}

#[test]
fn class_rows_add_up_to_the_totals() {
    // Three classes, rework, timeouts that drop, an audit with late catches.
    let text = r#"name = "classes"
[run]
replications = 10
horizon = "5d"
seed = 63
[workload]
rate = "60/h"
[workload.rework]
delay = { dist = "exponential", mean = "1h" }
max_attempts = 2
[[workload.class]]
name = "a"
share = 0.5
defect_prob = 0.05
[[workload.class]]
name = "b"
share = 0.3
defect_prob = 0.1
harm = 5.0
[[workload.class]]
name = "c"
share = 0.2
defect_prob = 0.2
harm = 0.5
[[policy]]
name = "p"
[[policy.stage]]
kind = "automated_check"
detect = 0.4
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 1
service = { dist = "exponential", mean = "1m" }
detect = 0.7
max_wait = "5m"
on_timeout = "drop"
[[policy.stage]]
kind = "audit"
sample = 0.5
reviewers = 1
service = { dist = "exponential", mean = "1m" }
detect = 0.8
"#;
    let (_, r) = run(text);
    for (i, x) in r.per_policy[0].iter().enumerate() {
        assert_classes_add_up(x, &format!("replication {i}"));
        assert!(x.metrics.get(M::dropped) > 0.0 && x.metrics.get(M::caught_late) > 0.0);
    }
}

/// classes.csv, as `oversim run` writes it, adds up to replications.csv row by row.
#[test]
fn classes_csv_adds_up_to_replications_csv() {
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("out");
    Command::cargo_bin("oversim")
        .unwrap()
        .args(["run", "-r", "4", "-q", "-o"])
        .arg(&out)
        .assert()
        .success();
    let read = |f: &str| -> Vec<csv::StringRecord> {
        let mut rd = csv::Reader::from_path(out.join(f)).unwrap();
        rd.records().map(|r| r.unwrap()).collect()
    };
    let headers = |f: &str| {
        csv::Reader::from_path(out.join(f))
            .unwrap()
            .headers()
            .unwrap()
            .clone()
    };
    let (hr, hc) = (headers("replications.csv"), headers("classes.csv"));
    let col = |h: &csv::StringRecord, name: &str| h.iter().position(|x| x == name).unwrap();
    let reps = read("replications.csv");
    let classes = read("classes.csv");
    for r in &reps {
        let key = (&r[col(&hr, "policy")], &r[col(&hr, "replication")]);
        let mine: Vec<&csv::StringRecord> = classes
            .iter()
            .filter(|c| (&c[col(&hc, "policy")], &c[col(&hc, "replication")]) == key)
            .collect();
        let n_classes = scenario::load("default", scenario::DEFAULT_SCENARIO, &[])
            .unwrap()
            .scenario
            .workload
            .classes
            .len();
        assert_eq!(mine.len(), n_classes, "one row per class");
        for m in [
            "released",
            "rejected",
            "dropped",
            "defects",
            "escaped",
            "caught_late",
            "harm",
        ] {
            let total: f64 = r[col(&hr, m)].parse().unwrap();
            let sum: f64 = mine.iter().map(|c| c[col(&hc, m)].parse::<f64>().unwrap()).sum();
            close(sum, total, &format!("{key:?} {m}"));
        }
    }
}

/// Halts cost the work not done: a hair-trigger monitor (h = 0.5) halts the agent most of
/// the time, so it does less harm than a moderate one (h = 4), but releases far less value.
/// The same replications at each h (common random numbers), so the comparison is paired.
#[test]
fn a_hair_trigger_monitor_loses_on_net_value() {
    let base = scenario::load("priced.toml", PRICED, &[]).unwrap().resolved_text;
    let at = |h: &str| {
        let set = [
            Override::set("policy.p.monitor.h", h),
            Override::set("policy.p.monitor.find", "0.9"),
        ];
        scenario::load("priced.toml", &base, &set).unwrap().scenario
    };
    let sweep: Vec<_> = ["0.5", "1", "2", "4"].iter().map(|h| at(h)).collect();
    let net = |k: usize| -> Vec<f64> {
        (0..20)
            .map(|i| simulate(&sweep[k], 0, i).metrics.get(M::net_value))
            .collect()
    };
    let (hair, moderate) = (net(0), net(3));
    let diff: Vec<f64> = moderate.iter().zip(&hair).map(|(m, h)| m - h).collect();
    let s = summarize_at(diff, common::LEVEL);
    assert!(
        s.ci_low > 0.0,
        "a moderate monitor should beat a hair-trigger one on net value: {s:?}"
    );
    let harm = |k: usize| {
        (0..20)
            .map(|i| simulate(&sweep[k], 0, i).metrics.get(M::harm))
            .sum::<f64>()
    };
    assert!(
        harm(0) < harm(3),
        "the hair trigger does less harm by doing less work"
    );
}

/// `find = 0`: alarms never fix a drift, so drift lasts until it heals itself, as with no
/// monitor: the time in drift is self_heal / (self_heal + every).
#[test]
fn alarms_that_never_find_leave_drift_to_heal_itself() {
    let text = r#"name = "find"
[run]
replications = 40
horizon = "3000h"
warmup = "500h"
seed = 64
[workload]
rate = "10/h"
[workload.drift]
every = "50h"
multiplier = 3.0
self_heal = "100h"
[[workload.class]]
name = "only"
share = 1.0
defect_prob = 0.02
[[policy]]
name = "p"
[[policy.stage]]
kind = "automated_check"
name = "check"
detect = 1.0
[[policy.stage]]
kind = "monitor"
watch = ["check"]
method = "cusum"
k = 0.02
h = 0.5
find = 0.0
"#;
    let (_, r) = run(text);
    let frac: Vec<f64> = r.per_policy[0]
        .iter()
        .map(|x| x.metrics.get(M::drift_hours) / 3000.0)
        .collect();
    assert_ci("find = 0: fraction of time in drift", &frac, 100.0 / 150.0);
    assert!(r.per_policy[0]
        .iter()
        .all(|x| x.metrics.get(M::halts) > 0.0 && x.stages[1].caught == 0.0));
}

/// The report leads with net value once actions have value, then the tail: harm's 95th
/// percentile and the chance of a severe escape.
#[test]
fn the_report_leads_with_net_value_and_the_tail() {
    let text = r#"name = "worth"
[run]
replications = 8
horizon = "2d"
[workload]
rate = "20/h"
[[workload.class]]
name = "routine"
share = 0.9
defect_prob = 0.05
value = 4.0
[[workload.class]]
name = "grave"
share = 0.1
defect_prob = 0.05
harm = 100.0
value = 4.0
severe = true
[costs]
reviewer_hour = 40.0
harm_unit = 1.0
[[policy]]
name = "none"
[[policy]]
name = "review"
[[policy.stage]]
kind = "human_review"
reviewers = 1
service = { dist = "exponential", mean = "2m" }
detect = 0.8
"#;
    let tmp = TempDir::new().unwrap();
    std::fs::write(tmp.path().join("worth.toml"), text).unwrap();
    Command::cargo_bin("oversim")
        .unwrap()
        .current_dir(tmp.path())
        .args(["run", "worth.toml", "-q", "--report", "-o", "out"])
        .assert()
        .success();
    let html = std::fs::read_to_string(tmp.path().join("out/report.html")).unwrap();
    let first = html.find("<li>").unwrap();
    assert!(
        html[first..].starts_with("<li><b>review</b> is worth"),
        "net value first"
    );
    for text in [
        "net (value released less every cost)",
        "In its worst 5% of replications",
        "the share of replications in which a severe defect escapes is",
        "harm p95",
    ] {
        assert!(html.contains(text), "report: `{text}`");
    }
}
