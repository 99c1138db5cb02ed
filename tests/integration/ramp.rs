//! Drifts that ramp (`workload.drift.ramp`), onsets that overlap (`overlap = true`) and an
//! agent that games the charts (`gaming`),
//! against closed forms: the time-average factor of a ramping drift (renewal), the mean
//! factor of overlapping drifts (a Poisson process's generating functional), and a ramp's
//! time to alarm against the CUSUM's Markov chain run forward through the ramp.

use super::common::{assert_ci, run};
use oversim::metrics::M;

/// One class with defect probability `p`, arriving at `rate`, a drift as `drift` (TOML
/// keys of `[workload.drift]`), and `stages` (TOML of `[[policy.stage]]` tables).
fn world(run: &str, rate: &str, p: f64, drift: &str, stages: &str) -> String {
    format!(
        r#"name = "ramp"
[run]
{run}
[workload]
rate = "{rate}"
[[workload.class]]
name = "only"
share = 1.0
defect_prob = {p}
[workload.drift]
{drift}
[[policy]]
name = "p"
{stages}
"#
    )
}

/// A check that sees every defect, watched by a CUSUM with k = 1/32 and h = 3 (the chain's
/// H = 96 in steps of 1/32).
const CHECK_AND_CUSUM: &str = r#"[[policy.stage]]
kind = "automated_check"
name = "check"
detect = 1.0
[[policy.stage]]
kind = "monitor"
watch = ["check"]
method = "cusum"
k = 0.03125
h = 3.0
"#;

/// Defects per release of each replication (no stages: everything is released).
fn defect_rate(text: &str) -> Vec<f64> {
    let (_, r) = run(text);
    (r.per_policy[0].iter())
        .map(|x| x.metrics.get(M::defects) / x.metrics.get(M::released))
        .collect()
}

/// One drift at a time, each lasting L = self_heal, its factor rising over r ≤ L from 1 to
/// m, the next onset an exponential gap (mean G) after it ends: over a renewal cycle of
/// mean length L + G the excess factor integrates to (m − 1)(L − r/2), so the time-average
/// factor is 1 + (m − 1)(L − r/2)/(L + G).
#[test]
fn a_ramping_drift_raises_the_defect_rate_by_its_time_average_factor() {
    let (m, l, r, g, p) = (4.0, 10.0, 4.0, 20.0, 0.02);
    let text = world(
        "replications = 30\nhorizon = \"1500h\"\nwarmup = \"30h\"\nseed = 41",
        "60/h",
        p,
        &format!("every = \"{g}h\"\nmultiplier = {m}\nself_heal = \"{l}h\"\nramp = \"{r}h\""),
        "",
    );
    let theory = p * (1.0 + (m - 1.0) * (l - r / 2.0) / (l + g));
    assert_ci("ramping drift: defects per release", &defect_rate(&text), theory);
    // A step (no ramp) gives the familiar 1 + (m − 1) L/(L + G).
    let step = text.replace(&format!("ramp = \"{r}h\""), "");
    let theory = p * (1.0 + (m - 1.0) * l / (l + g));
    assert_ci("step drift: defects per release", &defect_rate(&step), theory);
}

/// Overlapping drifts: onsets a Poisson process of rate λ = 1/every, each drift lasting L
/// with factor f(a) at age a, the factors multiplying. The number on at a time is Poisson
/// and the mean product is exp(λ ∫₀ᴸ (f(a) − 1) da) = exp(λ (m − 1)(L − r/2)) (Campbell's
/// theorem for the generating functional), exp(λL(m − 1)) for a step.
#[test]
fn overlapping_drifts_compound_as_the_poisson_functional_says() {
    let (m, l, g, p): (f64, f64, f64, f64) = (1.5, 10.0, 10.0, 0.01);
    for ramp in [0.0, 4.0] {
        let key = if ramp > 0.0 {
            format!("ramp = \"{ramp}h\"")
        } else {
            String::new()
        };
        let text = world(
            "replications = 30\nhorizon = \"1500h\"\nwarmup = \"20h\"\nseed = 43",
            "60/h",
            p,
            &format!("every = \"{g}h\"\nmultiplier = {m}\nself_heal = \"{l}h\"\noverlap = true\n{key}"),
            "",
        );
        let theory = p * ((m - 1.0) * (l - ramp / 2.0) / g).exp();
        assert_ci(
            &format!("overlapping drifts, ramp {ramp}h: defects per release"),
            &defect_rate(&text),
            theory,
        );
        // Without overlap the same onsets give the renewal answer, lower.
        let one = text.replace("overlap = true", "");
        let single = p * (1.0 + (m - 1.0) * (l - ramp / 2.0) / (l + g));
        assert_ci(
            &format!("one drift at a time, ramp {ramp}h: defects per release"),
            &defect_rate(&one),
            single,
        );
    }
}

/// The expected number of observations to a Bernoulli CUSUM's alarm (k = 1/m, h = H/m,
/// from S = 0) when observation j (1, 2, …) is a defect with probability `p(j)`: the
/// Brook–Evans chain B = m·S run forward, E[J] = Σ_j P(no alarm in the first j).
fn cusum_time_to_alarm(p: impl Fn(usize) -> f64, m: usize, big_h: usize) -> f64 {
    let mut state = vec![0.0f64; big_h];
    state[0] = 1.0;
    let (mut expected, mut alive, mut j) = (0.0, 1.0, 0);
    while alive > 1e-12 {
        expected += alive;
        j += 1;
        let q = p(j);
        let mut next = vec![0.0f64; big_h];
        for (b, &w) in state.iter().enumerate() {
            if w == 0.0 {
                continue;
            }
            let up = b + m - 1;
            if up < big_h {
                next[up] += w * q;
            }
            next[b.saturating_sub(1)] += w * (1.0 - q);
        }
        alive = next.iter().sum();
        state = next;
        assert!(j < 10_000_000, "the chart never alarms");
    }
    expected
}

/// A drift that ramps from nothing (p0 = 10⁻⁶) to p = 0.04 over 5 hours, watched through a
/// check that sees every defect by a CUSUM (k = 1/32, h = 3) that never alarms in control:
/// the mean time from onset to the alarm is the chain's expected observations to alarm,
/// with observation j's defect probability the ramp's at j/rate, divided by the rate.
#[test]
fn a_ramps_time_to_alarm_is_the_cusum_chain_run_through_the_ramp() {
    let (rate, p0, m, ramp) = (200.0, 1e-6, 40_000.0, 5.0);
    let text = world(
        "replications = 30\nhorizon = \"1000h\"\nseed = 47",
        &format!("{rate}/h"),
        p0,
        &format!("every = \"50h\"\nmultiplier = {m}\nramp = \"{ramp}h\""),
        CHECK_AND_CUSUM,
    );
    let (_, r) = run(&text);
    let delays: Vec<f64> = (r.per_policy[0].iter())
        .map(|x| x.metrics.get(M::detection_delay_h))
        .collect();
    let p = |j: usize| (p0 * (1.0 + (m - 1.0) * (j as f64 / rate / ramp).min(1.0))).min(1.0);
    let theory = cusum_time_to_alarm(p, 32, 96) / rate;
    // The chart finds the drift while it is still ramping: the ramp matters.
    let step = cusum_time_to_alarm(|_| p0 * m, 32, 96) / rate;
    assert!(theory > 2.0 * step, "ramp {theory} h against step {step} h");
    assert_ci("ramping drift: hours from onset to alarm", &delays, theory);
    // No false alarm: the chart is quiet in control.
    for x in &r.per_policy[0] {
        assert_eq!(x.metrics.get(M::false_alarms), 0.0);
    }
}

/// The stationary distribution of the Brook–Evans chain B = m·S (k = 1/m, alarm at
/// B ≥ H, then back to 0) with the agent drifting or not: drifting, an attempt is
/// defective with probability `p(b)`; not drifting (after an alarm, until the next onset),
/// with `p_off`, and each attempt finds the drift still off with probability `stay_off`
/// (the next arrival comes before the next onset). An alarm ends the drift. The long-run
/// share of defects per attempt, Σ π·p, and of alarms.
fn stationary_rates(
    p: impl Fn(usize) -> f64,
    p_off: f64,
    stay_off: f64,
    m: usize,
    big_h: usize,
) -> (f64, f64) {
    // State (b, on) at index 2b + on.
    let n = 2 * big_h;
    let mut pi = vec![1.0 / n as f64; n];
    for _ in 0..1_000_000 {
        let mut next = vec![0.0f64; n];
        for (i, &w) in pi.iter().enumerate() {
            let (b, on) = (i / 2, i % 2 == 1);
            let q = if on { p(b) } else { p_off };
            // Where the drift is at the next attempt: on stays on; off turns on by then
            // with probability 1 − stay_off (also after an alarm, which ends it).
            let mut put = |b: usize, on: bool, w: f64| {
                if on {
                    next[2 * b + 1] += w;
                } else {
                    next[2 * b] += w * stay_off;
                    next[2 * b + 1] += w * (1.0 - stay_off);
                }
            };
            let up = b + m - 1;
            if up < big_h {
                put(up, on, w * q);
            } else {
                put(0, false, w * q);
            }
            put(b.saturating_sub(1), on, w * (1.0 - q));
        }
        let change: f64 = next.iter().zip(&pi).map(|(a, b)| (a - b).abs()).sum();
        pi = next;
        if change < 1e-15 {
            break;
        }
    }
    let q = |i: usize| if i % 2 == 1 { p(i / 2) } else { p_off };
    let defects = pi.iter().enumerate().map(|(i, w)| w * q(i)).sum();
    let alarms = (pi.iter().enumerate())
        .filter(|(i, _)| i / 2 + m > big_h)
        .map(|(i, w)| w * q(i))
        .sum();
    (defects, alarms)
}

/// A strategic agent (`gaming = θ`) drifting for good under a CUSUM (k = 1/32, h = 3) fed
/// by a check that sees every defect: it errs at ×8 while S < θ·h and at its normal rate
/// otherwise. An alarm finds the drift, and the next onset follows within seconds (every
/// 10 s against 1000 arrivals an hour: each attempt meanwhile is honest). The chart is the
/// Brook–Evans chain with the defect probability a function of its state and of whether
/// the drift is on, reset to 0 at each alarm: its stationary distribution gives the
/// agent's defect rate and the alarms per observation. With θ = 1 the agent never holds back (S reaches h
/// only at an alarm): the numbers of an agent that does not game.
#[test]
fn a_strategic_agent_stays_under_the_chart_at_the_chains_stationary_rate() {
    let (p0, m, rate) = (0.01, 8.0, 1000.0);
    let text = |gaming: &str, horizon: &str| {
        world(
            &format!("replications = 30\nhorizon = \"{horizon}\"\nwarmup = \"10h\"\nseed = 53"),
            &format!("{rate}/h"),
            p0,
            &format!("every = \"10s\"\nmultiplier = {m}\n{gaming}"),
            CHECK_AND_CUSUM,
        )
    };
    let (_, r) = run(&text("gaming = 0.5", "400h"));
    let per_attempt = |x: &oversim::metrics::RepResult, k: M| {
        x.metrics.get(k) / (x.metrics.get(M::released) + x.metrics.get(M::rejected))
    };
    // An attempt finds the drift still off after an alarm when it arrives before the onset.
    let stay_off = rate / (rate + 3600.0 / 10.0);
    let (defects, alarms) = stationary_rates(|b| if b < 48 { p0 * m } else { p0 }, p0, stay_off, 32, 96);
    let (honest, _) = stationary_rates(|_| p0 * m, p0, stay_off, 32, 96);
    assert!(
        defects < 0.8 * honest && defects > 1.5 * p0,
        "{defects} against {honest}"
    );
    let sim = |k| {
        r.per_policy[0]
            .iter()
            .map(|x| per_attempt(x, k))
            .collect::<Vec<_>>()
    };
    assert_ci(
        "strategic agent under a CUSUM: defects per attempt",
        &sim(M::defects),
        defects,
    );
    assert_ci(
        "strategic agent under a CUSUM: alarms per observation",
        &sim(M::halts),
        alarms,
    );
    // θ = 1: the agent never holds back.
    let (_, all_out) = run(&text("gaming = 1.0", "50h"));
    let (_, plain) = run(&text("", "50h"));
    for (a, b) in all_out.per_policy[0].iter().zip(&plain.per_policy[0]) {
        for &k in M::ALL {
            let (x, y) = (a.metrics.get(k), b.metrics.get(k));
            assert!(x == y || x.is_nan() && y.is_nan(), "{k:?}: {x} against {y}");
        }
    }
    let sim: Vec<f64> = plain.per_policy[0]
        .iter()
        .map(|x| per_attempt(x, M::defects))
        .collect();
    assert_ci("an agent that does not game: defects per attempt", &sim, honest);
}

/// Lesson 11 (docs/teaching.md): the drifting agent's scenario with a strategic agent, from
/// the command line. Policies with charts drift longer, per-action review (no chart) gives
/// the honest agent's numbers exactly, and the status quo wins.
#[test]
fn lesson_11_a_strategic_agent_beats_the_charts() {
    let lesson = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/teaching.md")).unwrap();
    let lesson = lesson.split_whitespace().collect::<Vec<_>>().join(" ");
    for stated in [
        "--set workload.drift.gaming=0.5",
        "Against the strategic agent the status quo wins clearly",
        "per-action review without a chart gives exactly the numbers it gave against the honest agent",
    ] {
        assert!(lesson.contains(stated), "docs/teaching.md should say `{stated}`");
    }
    let tmp = tempfile::TempDir::new().unwrap();
    let run = |out: &str, sets: &[&str]| {
        let dir =
            super::common::oversim_run("scenarios/drifting-agent.toml", 30, &tmp.path().join(out), sets);
        (
            super::common::csv_rows(&dir.join("summary.csv")),
            super::common::csv_rows(&dir.join("decision.csv")),
        )
    };
    let (honest, _) = run("honest", &[]);
    let (gaming, decision) = run("gaming", &["workload.drift.gaming=0.5"]);
    let mean = |rows: &[std::collections::BTreeMap<String, String>], p: &str, m: &str| -> String {
        rows.iter()
            .find(|r| r["policy"] == p && r["metric"] == m)
            .unwrap()["mean"]
            .clone()
    };
    for p in ["process", "hybrid", "per-action-spc"] {
        let (a, b) = (mean(&honest, p, "drift_hours"), mean(&gaming, p, "drift_hours"));
        assert!(
            b.parse::<f64>().unwrap() > 2.0 * a.parse::<f64>().unwrap(),
            "{p}: {a} → {b}"
        );
    }
    for m in ["net_value", "harm", "escaped", "drift_hours"] {
        assert_eq!(
            mean(&honest, "per-action", m),
            mean(&gaming, "per-action", m),
            "{m}"
        );
    }
    let best = decision.iter().find(|r| r["rank"] == "1").unwrap();
    assert_eq!(best["policy"], "by-hand");
    let second = decision.iter().find(|r| r["rank"] == "2").unwrap();
    assert!(
        second["vs_best_high"].parse::<f64>().unwrap() < 0.0,
        "the status quo wins clearly"
    );
}
