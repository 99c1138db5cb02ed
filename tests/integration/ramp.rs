//! Drifts that ramp (`workload.drift.ramp`) and onsets that overlap (`overlap = true`),
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
        r#"[[policy.stage]]
kind = "automated_check"
name = "check"
detect = 1.0
[[policy.stage]]
kind = "monitor"
watch = ["check"]
method = "cusum"
k = 0.03125
h = 3.0
"#,
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
