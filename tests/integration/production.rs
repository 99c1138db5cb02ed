//! Who does the work (`[policy.work]`): people by hand as an M/M/c workforce against its
//! closed forms, their own errors caught by the same stages (escapes p·(1 − d)), what the
//! work costs, and what happens to work that arrives during a halt (`workload.on_halt`).

use oversim::metrics::M;

use crate::common::{assert_ci, assert_ci_within, erlang_c, metric, run};

/// Two classes with people's own defect rates, a check of detection `d` and no rework.
fn by_hand(run: &str, people: u32, stages: &str) -> String {
    format!(
        r#"name = "t"
[run]
{run}
[workload]
rate = "100/h"
[[workload.class]]
name = "routine"
share = 0.5
defect_prob = 0.9
[[workload.class]]
name = "hard"
share = 0.5
defect_prob = 0.9
[costs]
reviewer_hour = 60.0
[[policy]]
name = "agent"
[policy.work]
cost_per_action = 0.13
{stages}
[[policy]]
name = "by-hand"
[policy.work]
by = "people"
people = {people}
service = {{ dist = "exponential", mean = "2.5m" }}
defect_prob = {{ routine = 0.1, hard = 0.3 }}
{stages}
"#
    )
}

const CHECK: &str = "[[policy.stage]]\nkind = \"automated_check\"\ndetect = 0.6\nfalse_positive = 0.0";

/// B.2 with people doing the work: M/M/5, λ = 100/h, μ = 24/h. An action's latency is its
/// wait for a person plus the work, Wq + 1/μ = 1.860 + 2.5 min; the people are busy
/// a/c = 0.833 of the time and paid for every hour on duty. People's defects (0.1 and 0.3,
/// not the agent's 0.9) meet a check of detection 0.6: escapes per action Σ share·p·(1 − d)
/// = 0.08, releases 1 − Σ share·p·d = 0.88.
#[test]
fn by_hand_is_an_mmc_workforce() {
    let text = by_hand(
        "replications = 40\nhorizon = \"600h\"\nwarmup = \"10h\"\nseed = 81",
        5,
        CHECK,
    );
    let (_, r) = run(&text);
    let (lambda, mu, c) = (100.0, 24.0, 5);
    let a = lambda / mu;
    let wq = erlang_c(c, a) / (c as f64 * mu - lambda);
    assert_ci(
        "by hand: latency (min)",
        &metric(&r, 1, M::latency_mean_min),
        60.0 * (wq + 1.0 / mu),
    );
    assert_ci(
        "by hand: utilization",
        &metric(&r, 1, M::work_utilization),
        a / c as f64,
    );
    assert_ci(
        "by hand: escapes per 1k released",
        &metric(&r, 1, M::escapes_per_1k),
        1000.0 * 0.08 / 0.88,
    );
    assert_ci(
        "by hand: releases per hour",
        &metric(&r, 1, M::throughput_per_hour),
        lambda * 0.88,
    );
    for x in &r.per_policy[1] {
        // Paid for every hour on duty, busy or not; no per-attempt cost set.
        assert_eq!(x.metrics.get(M::work_hours), 5.0 * 600.0);
        assert!((x.metrics.get(M::cost_work) - 60.0 * 3000.0).abs() < 1e-6);
        assert_eq!(
            x.metrics.get(M::reviewer_hours),
            0.0,
            "doing the work is not oversight"
        );
    }
    // The agent makes every attempt at once, at its own rate, and pays per attempt.
    assert_ci(
        "agent: escapes per 1k released",
        &metric(&r, 0, M::escapes_per_1k),
        1000.0 * 0.36 / 0.46,
    );
    for x in &r.per_policy[0] {
        let attempts = x.metrics.get(M::released) + x.metrics.get(M::rejected);
        assert!((x.metrics.get(M::cost_work) - 0.13 * attempts).abs() < 1e-6);
        assert_eq!(x.metrics.get(M::work_hours), 0.0);
        assert!(x.metrics.get(M::work_utilization).is_nan());
        assert_eq!(x.metrics.get(M::latency_mean_min), 0.0);
    }
}

/// Rework comes back to the people: with rejected attempts reworked up to three times and
/// a check that catches every defect, each attempt of a class-p action is defective with
/// p, so attempts per action are 1 + p + p² and the people's offered load rises by that.
#[test]
fn rework_returns_to_the_people() {
    let text = by_hand(
        "replications = 30\nhorizon = \"400h\"\nwarmup = \"10h\"\nseed = 82",
        8,
        "[[policy.stage]]\nkind = \"automated_check\"\ndetect = 1.0\nfalse_positive = 0.0",
    )
    .replace("[[workload.class]]\nname = \"routine\"", "[workload.rework]\ndelay = { dist = \"constant\", value = \"0h\" }\nmax_attempts = 3\n[[workload.class]]\nname = \"routine\"");
    let (_, r) = run(&text);
    let per_action = 0.5 * (1.0 + 0.1 + 0.01) + 0.5 * (1.0 + 0.3 + 0.09);
    let rho = 100.0 * per_action * (2.5 / 60.0) / 8.0;
    assert_ci(
        "by hand with rework: utilization",
        &metric(&r, 1, M::work_utilization),
        rho,
    );
}

/// `on_halt`: with "wait" the actions that arrive during a halt are all done later (none is
/// lost: arrivals are Poisson over the whole window); with "lost" they are never done, so
/// arrivals are λ·(H − halt hours).
#[test]
fn halted_work_waits_or_is_lost() {
    let text = |on_halt: &str| {
        format!(
            r#"name = "t"
[run]
replications = 40
horizon = "200h"
warmup = "0h"
seed = 83
[workload]
rate = "30/h"
on_halt = "{on_halt}"
[[workload.class]]
name = "only"
share = 1.0
defect_prob = 0.1
[[policy]]
name = "p"
[[policy.stage]]
kind = "automated_check"
name = "check"
detect = 0.9
[[policy.stage]]
kind = "monitor"
watch = ["check"]
method = "cusum"
k = 0.1
h = 2.0
halt = "2h"
"#
        )
    };
    let arrivals = |r: &oversim::montecarlo::Results| -> Vec<f64> {
        r.per_policy[0]
            .iter()
            .map(|x| x.classes.iter().map(|c| c.actions as f64).sum())
            .collect()
    };
    let (_, wait) = run(&text("wait"));
    let (_, lost) = run(&text("lost"));
    assert_ci("on_halt = wait: arrivals", &arrivals(&wait), 30.0 * 200.0);
    for x in &wait.per_policy[0] {
        assert!(
            x.metrics.get(M::halt_hours) > 10.0,
            "the monitor should halt often"
        );
        let done = x.metrics.get(M::released) + x.metrics.get(M::rejected) + x.metrics.get(M::backlog_end);
        let arrived: f64 = x.classes.iter().map(|c| c.actions as f64).sum();
        assert_eq!(
            done, arrived,
            "every action that waited is done or still in the system"
        );
    }
    let gap: Vec<f64> = (lost.per_policy[0].iter().zip(arrivals(&lost)))
        .map(|(x, n)| n - 30.0 * (200.0 - x.metrics.get(M::halt_hours)))
        .collect();
    // Resolution: 2% of the arrivals.
    assert_ci_within("on_halt = lost: arrivals − λ(H − halt hours)", &gap, 0.0, 120.0);
    // Waiting work is delayed by the halts; lost work is not.
    let mean = |r: &oversim::montecarlo::Results| metric(r, 0, M::latency_mean_min).iter().sum::<f64>();
    assert!(mean(&wait) > mean(&lost));
}
