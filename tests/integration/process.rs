//! Validation of the process-level safeguards: audits, correlated layers, monitors (against
//! Markov-chain and binomial run lengths), drift, learning and halts. Tolerances are 99.9%
//! confidence intervals over replications (see `common::LEVEL`).

use crate::common;

use common::{assert_ci, metric, run, LEVEL};
use oversim::metrics::M;
use oversim::montecarlo::Results;
use oversim::stats::summarize_at;

fn workload(run: &str, rate: &str, p: f64, extra: &str) -> String {
    format!(
        r#"name = "t"
[run]
{run}
[workload]
rate = "{rate}"
{extra}
[[workload.class]]
name = "only"
share = 1.0
defect_prob = {p}
"#
    )
}

/// Audit: a fraction `sample × detect` of escaped defects is caught late, and each late
/// catch weighs `late_harm_factor` of its harm.
#[test]
fn audit_late_catch_fraction_and_harm() {
    let text = workload(
        "replications = 40\nhorizon = \"1000h\"\nseed = 31",
        "60/h",
        0.1,
        "",
    ) + r#"[[policy]]
name = "p"
[[policy.stage]]
kind = "automated_check"
detect = 0.5
[[policy.stage]]
kind = "audit"
sample = 0.2
reviewers = 3
service = { dist = "exponential", mean = "15m" }
detect = 0.9
late_harm_factor = 0.25
"#;
    let (_, r) = run(&text);
    let late: Vec<f64> = r.per_policy[0]
        .iter()
        .map(|x| x.metrics.get(M::caught_late) / x.metrics.get(M::escaped))
        .collect();
    assert_ci("audit: late-catch fraction of escapes", &late, 0.2 * 0.9);
    for x in &r.per_policy[0] {
        let expected = x.metrics.get(M::escaped) - 0.75 * x.metrics.get(M::caught_late);
        assert!(
            (x.metrics.get(M::harm) - expected).abs() < 1e-9,
            "harm {} vs {expected}",
            x.metrics.get(M::harm)
        );
        // Audit hours count as reviewer hours: 3 auditors × 1000 h.
        assert_eq!(x.metrics.get(M::reviewer_hours), 3000.0);
    }
}

/// Standard normal density and upper tail.
fn phi(x: f64) -> f64 {
    (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt()
}
fn upper_tail(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(x / std::f64::consts::SQRT_2)
}
fn quantile(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(2.0 * p)
}

/// P(both layers miss) under the latent model: X_i = √r·Z + √(1−r)·E_i misses when
/// X_i ≥ Φ⁻¹(d_i); conditioning on Z, P = ∫ φ(z) Π_i Φ̄((a_i − √r z)/√(1−r)) dz (Simpson).
fn bivariate_miss(d1: f64, d2: f64, r: f64) -> f64 {
    let (a1, a2) = (quantile(d1), quantile(d2));
    let (sr, s1) = (r.sqrt(), (1.0 - r).sqrt());
    let f = |z: f64| phi(z) * upper_tail((a1 - sr * z) / s1) * upper_tail((a2 - sr * z) / s1);
    let (lo, hi, n) = (-9.0, 9.0, 20_000);
    let h = (hi - lo) / n as f64;
    let mut s = f(lo) + f(hi);
    for i in 1..n {
        s += f(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

/// Correlated layers: two checks miss together with the bivariate-normal probability;
/// r = 0 gives the product rule.
#[test]
fn correlated_layers_follow_the_bivariate_normal() {
    assert!((bivariate_miss(0.6, 0.7, 0.0) - 0.12).abs() < 1e-9);
    for (r, seed) in [(0.0, 32), (0.5, 33), (0.9, 34)] {
        let text = workload(
            &format!("replications = 40\nhorizon = \"1000h\"\nseed = {seed}"),
            "100/h",
            0.2,
            &format!("detection_correlation = {r}"),
        ) + r#"[[policy]]
name = "p"
[[policy.stage]]
kind = "automated_check"
name = "first"
detect = 0.6
[[policy.stage]]
kind = "automated_check"
name = "second"
detect = 0.7
"#;
        let (_, res) = run(&text);
        let theory = bivariate_miss(0.6, 0.7, r);
        assert_ci(
            &format!("two checks, correlation {r}: escape rate"),
            &metric(&res, 0, M::escape_rate),
            theory,
        );
        // Each layer keeps its marginal detection.
        let first: Vec<f64> = res.per_policy[0]
            .iter()
            .map(|x| x.stages[0].caught / x.metrics.get(M::defects))
            .collect();
        assert_ci(
            &format!("correlation {r}: first layer's marginal detection"),
            &first,
            0.6,
        );
    }
    assert!(
        bivariate_miss(0.6, 0.7, 0.5) > 0.15,
        "correlation makes layers fail together"
    );
}

/// A scenario where a check with detect 1 and no false positives feeds a monitor, so the
/// monitor sees i.i.d. Bernoulli(p) observations; its ARL is observations per alarm.
fn monitor_arl(p: f64, chart: &str, seed: u64, horizon: &str) -> Vec<f64> {
    let text = workload(
        &format!("replications = 30\nhorizon = \"{horizon}\"\nseed = {seed}"),
        "1000/h",
        p,
        "",
    ) + &format!(
        r#"[[policy]]
name = "p"
[[policy.stage]]
kind = "automated_check"
name = "check"
detect = 1.0
[[policy.stage]]
kind = "monitor"
watch = ["check"]
{chart}
"#
    );
    let (_, r) = run(&text);
    r.per_policy[0]
        .iter()
        .map(|x| x.stages[1].entered / x.stages[1].flagged)
        .collect()
}

/// Exact ARL of a Bernoulli CUSUM with k = 1/m: B = m·S moves to max(0, B + m·x − 1) and
/// alarms at B ≥ H = h·m; ARL(b) = 1 + p·ARL(b + m − 1) + (1 − p)·ARL(max(0, b − 1)),
/// solved by Gaussian elimination over b = 0..H−1 (Brook & Evans 1972).
fn cusum_arl(p: f64, m: usize, big_h: usize) -> f64 {
    let n = big_h;
    let mut a = vec![vec![0.0; n + 1]; n];
    for b in 0..n {
        a[b][b] += 1.0;
        a[b][n] = 1.0;
        let up = b + m - 1;
        if up < n {
            a[b][up] -= p;
        }
        a[b][b.saturating_sub(1)] -= 1.0 - p;
    }
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap();
        a.swap(col, piv);
        for row in 0..n {
            if row != col {
                let f = a[row][col] / a[col][col];
                if f != 0.0 {
                    let pivot = a[col].clone();
                    for (x, p) in a[row][col..].iter_mut().zip(&pivot[col..]) {
                        *x -= f * p;
                    }
                }
            }
        }
    }
    a[0][n] / a[0][0]
}

/// CUSUM run lengths match the Markov-chain ARL, in and out of control.
#[test]
fn cusum_arl_matches_markov_chain() {
    // k = 1/32 and h = 3 (H = 96), exact in binary; near docs/parameters.md B.9b's design.
    for (p, seed, horizon) in [(0.02, 35, "400h"), (0.04, 36, "100h"), (0.06, 37, "50h")] {
        let theory = cusum_arl(p, 32, 96);
        let sim = monitor_arl(p, "method = \"cusum\"\nk = 0.03125\nh = 3.0", seed, horizon);
        assert_ci(&format!("CUSUM ARL at p = {p}"), &sim, theory);
    }
    // The helper agrees with docs/parameters.md B.9b (k = 1/35, h = 3): ARL0 ≈ 1141, ARL1 ≈ 185.
    assert!((cusum_arl(0.02, 35, 105) - 1141.0).abs() < 1.0);
    assert!((cusum_arl(0.04, 35, 105) - 185.0).abs() < 1.0);
}

/// ARL of the Bernoulli EWMA z ← λx + (1 − λ)z from z = p0, alarm at z > limit, by the
/// Brook–Evans Markov chain on a fine grid of z (cell midpoints), solved by iteration.
fn ewma_arl(p: f64, lambda: f64, l: f64, p0: f64) -> f64 {
    let limit = p0 + l * (p0 * (1.0 - p0) * lambda / (2.0 - lambda)).sqrt();
    let n = 40_000;
    let w = limit / n as f64;
    let cell = |z: f64| -> Option<usize> { (z <= limit).then(|| ((z / w) as usize).min(n - 1)) };
    let next: Vec<(usize, Option<usize>)> = (0..n)
        .map(|i| {
            let z = (i as f64 + 0.5) * w;
            (
                cell((1.0 - lambda) * z).unwrap(),
                cell(lambda + (1.0 - lambda) * z),
            )
        })
        .collect();
    let mut arl = vec![0.0f64; n];
    loop {
        let mut change = 0.0f64;
        for i in 0..n {
            let (zero, one) = next[i];
            let v = 1.0 + (1.0 - p) * arl[zero] + p * one.map_or(0.0, |j| arl[j]);
            change = change.max((v - arl[i]).abs());
            arl[i] = v;
        }
        if change < 1e-9 {
            break;
        }
    }
    // From z = p0 (exact position, interpolated between midpoints).
    let x = p0 / w - 0.5;
    let (i, f) = (x.floor() as usize, x - x.floor());
    arl[i] * (1.0 - f) + arl[(i + 1).min(n - 1)] * f
}

/// EWMA run lengths match the Markov-chain ARL.
#[test]
fn ewma_arl_matches_markov_chain() {
    for (p, seed, horizon) in [(0.05, 38, "300h"), (0.1, 39, "60h")] {
        let theory = ewma_arl(p, 0.1, 2.5, 0.05);
        let sim = monitor_arl(
            p,
            "method = \"ewma\"\nlambda = 0.1\nL = 2.5\np0 = 0.05",
            seed,
            horizon,
        );
        assert_ci(&format!("EWMA ARL at p = {p}"), &sim, theory);
    }
}

/// Shewhart p-chart: a window of n alarms with probability q = P(Bin(n, p) > n·limit),
/// so the ARL in observations is n / q.
#[test]
fn shewhart_arl_is_n_over_alarm_probability() {
    let (n, p0) = (20u32, 0.05f64);
    let limit = p0 + 3.0 * (p0 * (1.0 - p0) / n as f64).sqrt();
    let q = |p: f64| -> f64 {
        (0..=n)
            .filter(|&x| x as f64 / n as f64 > limit)
            .map(|x| {
                let c = (0..x).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64);
                c * p.powi(x as i32) * (1.0 - p).powi((n - x) as i32)
            })
            .sum()
    };
    for (p, seed, horizon) in [(0.05, 40, "400h"), (0.15, 41, "20h")] {
        let sim = monitor_arl(
            p,
            &format!("method = \"shewhart\"\nn = {n}\np0 = {p0}"),
            seed,
            horizon,
        );
        assert_ci(&format!("Shewhart ARL at p = {p}"), &sim, n as f64 / q(p));
    }
}

const DRIFTING: &str = r#"[workload.drift]
every = "50h"
multiplier = 3.0
self_heal = "100h""#;

/// Without a monitor, every drift lasts exactly `self_heal`; onsets during a drift are
/// ignored and the next onset after one ends is Exp(every) away, so the long-run fraction
/// of time in drift is self_heal / (self_heal + every).
#[test]
fn drift_without_monitor_lasts_until_self_heal() {
    let text = workload(
        "replications = 40\nhorizon = \"3000h\"\nwarmup = \"500h\"\nseed = 42",
        "10/h",
        0.02,
        DRIFTING,
    ) + "[[policy]]\nname = \"none\"\n";
    let (_, r) = run(&text);
    let frac: Vec<f64> = metric(&r, 0, M::drift_hours).iter().map(|h| h / 3000.0).collect();
    assert_ci("drift: fraction of time in drift", &frac, 100.0 / 150.0);
    assert!(metric(&r, 0, M::detection_delay_h).iter().all(|d| d.is_nan()));
    // While drifting, defects are 3× as frequent: the defect fraction is the mixture.
    let p: Vec<f64> = r.per_policy[0]
        .iter()
        .map(|x| x.metrics.get(M::defects) / x.metrics.get(M::released))
        .collect();
    assert_ci(
        "drift: defect fraction",
        &p,
        0.02 * (1.0 / 3.0) + 0.06 * (2.0 / 3.0),
    );
}

fn paired_diff_ci_excludes_zero(r: &Results, a: usize, b: usize, m: M) -> (f64, f64) {
    let d: Vec<f64> = r.per_policy[a]
        .iter()
        .zip(&r.per_policy[b])
        .map(|(x, y)| x.metrics.get(m) - y.metrics.get(m))
        .collect();
    let s = summarize_at(d, LEVEL);
    (s.ci_low, s.ci_high)
}

/// With a monitor, a more sensitive chart (smaller h) detects drift sooner: detection delay
/// and drift hours shrink. Policies share the drift onsets (common random numbers), so the
/// comparison is paired.
#[test]
fn more_sensitive_monitors_detect_drift_sooner() {
    let mut text = workload(
        "replications = 40\nhorizon = \"3000h\"\nwarmup = \"200h\"\nseed = 43",
        "50/h",
        0.02,
        DRIFTING,
    );
    for h in [8.0, 5.0, 3.0] {
        text += &format!(
            r#"[[policy]]
name = "h{h}"
[[policy.stage]]
kind = "automated_check"
name = "check"
detect = 0.8
[[policy.stage]]
kind = "monitor"
watch = ["check"]
method = "cusum"
p0 = 0.016
p1 = 0.048
h = {h}
"#
        );
    }
    let (_, r) = run(&text);
    for m in [M::detection_delay_h, M::drift_hours] {
        for (less, more) in [(1, 0), (2, 1)] {
            let (lo, hi) = paired_diff_ci_excludes_zero(&r, less, more, m);
            assert!(
                hi < 0.0,
                "{m:?}: policy {less} should be below policy {more}: diff CI [{lo}, {hi}]"
            );
        }
    }
    // And more sensitive charts raise more false alarms.
    let (lo, _) = paired_diff_ci_excludes_zero(&r, 2, 0, M::false_alarms);
    assert!(lo > 0.0, "h = 3 should have more false alarms than h = 8");
}

/// Learning from root causes. A class's defects come from N causes of equal share and a
/// residual share φ (`learning_floor`) no fix removes. A check of detection d finds a
/// defect and, with probability f (`learn`), fixes its cause. Each unfixed cause makes
/// defects at rate λp(1 − φ)/N and is fixed at rate a = λp(1 − φ)·d·f/N, independently of
/// the others (Poisson thinning), so it survives to t with probability e^(−at). Hence the
/// learning factor at T is φ + (1 − φ)e^(−aT), and the expected number of defective
/// attempts in [0, T] is λp[φT + (1 − φ)(1 − e^(−aT))/a].
#[test]
fn learning_fixes_root_causes_at_the_closed_form_rate() {
    // a·T = 1.125: about a third of the causes are left at the end.
    let (lambda, p, floor, n, d, f, t) = (60.0f64, 0.2f64, 0.25f64, 16.0f64, 0.8f64, 0.05f64, 50.0f64);
    let text = workload(
        "replications = 400\nhorizon = \"50h\"\nseed = 44",
        "60/h",
        p,
        &format!("learning_floor = {floor}"),
    ) + &format!(
        r#"root_causes = {n}
[[policy]]
name = "p"
[[policy.stage]]
kind = "automated_check"
detect = {d}
learn = {f}
"#
    );
    let (_, r) = run(&text);
    let a = lambda * p * (1.0 - floor) * d * f / n;
    let factor: Vec<f64> = metric(&r, 0, M::learning_factor);
    assert_ci(
        "learning factor at T",
        &factor,
        floor + (1.0 - floor) * (-a * t).exp(),
    );
    let defects = metric(&r, 0, M::defects);
    let expected = lambda * p * (floor * t + (1.0 - floor) * (1.0 - (-a * t).exp()) / a);
    assert_ci("defective attempts in [0, T]", &defects, expected);
    // The factor only takes the values φ + (1 − φ)k/N, and never goes below φ.
    for x in &factor {
        let k = (x - floor) / (1.0 - floor) * n;
        assert!((k - k.round()).abs() < 1e-9 && *x >= floor, "factor {x}");
    }
}

/// Learning acts on the class whose defect was found: a class nobody inspects keeps its
/// defect rate.
#[test]
fn learning_acts_on_the_class_found() {
    let text = r#"name = "t"
[run]
replications = 20
horizon = "200h"
seed = 46
[workload]
rate = "60/h"
learning_floor = 0.0
[[workload.class]]
name = "checked"
share = 0.5
defect_prob = 0.3
root_causes = 4
[[workload.class]]
name = "unchecked"
share = 0.5
defect_prob = 0.3
root_causes = 4
[[policy]]
name = "p"
[[policy.stage]]
kind = "automated_check"
classes = ["checked"]
detect = 1.0
learn = 1.0
"#;
    let (_, r) = run(text);
    for x in &r.per_policy[0] {
        // All four causes of the checked class are fixed within the first few defects; the
        // unchecked class keeps all of its: the share-weighted factor is 0.5.
        assert_eq!(x.metrics.get(M::learning_factor), 0.5);
        assert!(
            x.classes[0].defects < 20 && x.classes[1].defects > 1000,
            "{:?}",
            x.classes
        );
    }
}

/// Halts with `on_halt = "lost"`: while halted the agent produces nothing; halt hours and
/// their cost are counted.
#[test]
fn halts_stop_arrivals_and_cost_money() {
    let base = |halt: &str| {
        workload(
            "replications = 10\nhorizon = \"500h\"\nseed = 46",
            "30/h",
            0.1,
            "on_halt = \"lost\"",
        ) + &format!(
            r#"[costs]
halt_hour = 100.0
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
halt = "{halt}"
"#
        )
    };
    let (_, no_halt) = run(&base("0h"));
    let (_, halting) = run(&base("2h"));
    for (a, b) in no_halt.per_policy[0].iter().zip(&halting.per_policy[0]) {
        assert_eq!(a.metrics.get(M::halt_hours), 0.0);
        let hours = b.metrics.get(M::halt_hours);
        assert!(hours > 0.0 && hours <= 2.0 * b.metrics.get(M::halts) + 1e-9);
        assert!(b.ledger.created < a.ledger.created, "halts should cut arrivals");
        assert!((b.metrics.get(M::cost_total) - 100.0 * hours).abs() < 1e-6);
    }
}

/// Audit hours count in reviewer hours and cost, but review utilization and reviews per
/// hour are about human review stages only.
#[test]
fn audit_hours_do_not_dilute_review_utilization() {
    let text = workload("replications = 4\nhorizon = \"200h\"\nseed = 47", "30/h", 0.1, "")
        + r#"[costs]
reviewer_hour = 10.0
[[policy]]
name = "p"
[[policy.stage]]
kind = "human_review"
reviewers = 2
service = { dist = "exponential", mean = "2m" }
detect = 0.5
[[policy.stage]]
kind = "audit"
sample = 0.1
reviewers = 3
service = { dist = "exponential", mean = "10m" }
detect = 0.9
"#;
    let (_, r) = run(&text);
    for x in &r.per_policy[0] {
        assert_eq!(x.metrics.get(M::reviewer_hours), 5.0 * 200.0);
        assert_eq!(x.metrics.get(M::reviewer_utilization), x.stages[0].utilization);
        assert!((x.metrics.get(M::cost_total) - 10.0 * 1000.0).abs() < 1e-6);
    }
}

/// P(Bin(n, p) = x), by the product form (exact enough for n ≤ a few thousand).
fn binomial_pmf(n: u32, p: f64, x: u32) -> f64 {
    let ln_c: f64 = (0..x).map(|i| ((n - i) as f64 / (i + 1) as f64).ln()).sum();
    (ln_c + x as f64 * p.ln() + (n - x) as f64 * (1.0 - p).ln()).exp()
}

/// `p0 = "auto"` after learning. The agent's one root cause is fixed by its first few
/// findings (learn = 1), so well before the warm-up ends findings are i.i.d. Bernoulli(q)
/// with q = floor × p. The chart is a p-chart of n observations and p0 is re-estimated
/// from every block of W observations (W a multiple of n, so each window is judged with
/// the estimate of an earlier, independent block). With p̂ = clamp(j/W, 0.5/W, 1 − 0.5/W)
/// for j findings in a block, a window alarms with probability
///   Σ_j P(Bin(W, q) = j) · P(Bin(n, q) > n·(p̂ + 3·sqrt(p̂(1 − p̂)/n))),
/// the false-alarm rate after learning; its value per observation is that over n. A chart
/// with p0 fixed at the rate before learning never alarms: it is blind.
#[test]
fn auto_p0_false_alarm_rate_after_learning_matches_the_binomial_mixture() {
    let (p, floor, n, w) = (0.25f64, 0.2f64, 20u32, 200u32);
    let q = p * floor;
    let window_alarm = |p0: f64| -> f64 {
        let limit = p0 + 3.0 * (p0 * (1.0 - p0) / n as f64).sqrt();
        (0..=n)
            .filter(|&x| x as f64 / n as f64 > limit)
            .map(|x| binomial_pmf(n, q, x))
            .sum()
    };
    let per_window: f64 = (0..=w)
        .map(|j| {
            let p_hat = (j as f64 / w as f64).clamp(0.5 / w as f64, 1.0 - 0.5 / w as f64);
            binomial_pmf(w, q, j) * window_alarm(p_hat)
        })
        .sum();
    let theory = per_window / n as f64;
    // docs/model.md quotes this rate and the one a chart with the true p0 would have.
    let known = window_alarm(q) / n as f64;
    let model = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/model.md"))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let quoted = format!("{theory:.5} per observation against {known:.5} with the true p0");
    assert!(model.contains(&quoted), "docs/model.md should say `{quoted}`");
    let mut text = workload(
        "replications = 40\nhorizon = \"250h\"\nwarmup = \"10h\"\nseed = 47",
        "1000/h",
        p,
        &format!("learning_floor = {floor}"),
    ) + "root_causes = 1\n";
    for (name, p0) in [
        ("auto", format!("\"auto\"\nwindow = {w}")),
        ("fixed", format!("{p}")),
    ] {
        text += &format!(
            r#"[[policy]]
name = "{name}"
[[policy.stage]]
kind = "automated_check"
name = "check"
detect = 1.0
learn = 1.0
[[policy.stage]]
kind = "monitor"
watch = ["check"]
method = "shewhart"
n = {n}
p0 = {p0}
"#
        );
    }
    let (_, r) = run(&text);
    let rate: Vec<f64> = r.per_policy[0]
        .iter()
        .map(|x| x.metrics.get(M::false_alarms) / x.stages[1].entered)
        .collect();
    assert_ci(
        "auto p0 after learning: false alarms per observation",
        &rate,
        theory,
    );
    for x in &r.per_policy[0] {
        assert_eq!(x.metrics.get(M::learning_factor), floor, "learning is done");
    }
    assert!(
        metric(&r, 1, M::false_alarms).iter().all(|&a| a == 0.0),
        "a chart fixed at the rate before learning is blind"
    );
}

/// Learning blinds a chart whose p0 is the rate before learning: after the fixes, even a
/// drift's rate is below it. With p0 = "auto" the chart follows the learned rate and
/// still ends drifts: fewer drift hours, paired over the same drifts.
#[test]
fn auto_p0_keeps_a_monitor_seeing_drift_after_learning() {
    let mut text = workload(
        "replications = 40\nhorizon = \"3000h\"\nwarmup = \"200h\"\nseed = 48",
        "50/h",
        0.05,
        &format!("learning_floor = 0.2\n{DRIFTING}"),
    );
    for (name, p0) in [
        ("fixed", "p0 = 0.04\np1 = 0.12"),
        ("auto", "p0 = \"auto\"\nwindow = 2000\nshift = 3.0"),
    ] {
        text += &format!(
            r#"[[policy]]
name = "{name}"
[[policy.stage]]
kind = "automated_check"
name = "check"
detect = 0.8
learn = 0.5
[[policy.stage]]
kind = "monitor"
watch = ["check"]
method = "cusum"
{p0}
h = 5.0
"#
        );
    }
    let (_, r) = run(&text);
    let (lo, hi) = paired_diff_ci_excludes_zero(&r, 1, 0, M::drift_hours);
    assert!(hi < 0.0, "auto p0 should cut drift hours: diff CI [{lo}, {hi}]");
    let (lo, _) = paired_diff_ci_excludes_zero(&r, 1, 0, M::halts);
    assert!(lo > 0.0, "the blinded chart alarms less");
}

/// Triage with errors: the routing tree. Each action is flagged with its class's
/// probability f; a check (detection d_c) sees every action, a review (d_r) only flagged
/// ones and a second check (d_u) only unflagged ones. Without rework every action makes
/// one attempt, so a class's escape rate is (1 − d_c)·[f·(1 − d_r) + (1 − f)·(1 − d_u)],
/// and the triage stage flags a fraction Σ share·f of actions.
#[test]
fn triage_escapes_follow_the_routing_tree() {
    let (dc, dr, du) = (0.5, 0.7, 0.4);
    let classes = [("risky", 0.3, 0.3, 0.8), ("plain", 0.7, 0.1, 0.1)];
    let mut text = "name = \"t\"\n[run]\nreplications = 40\nhorizon = \"400h\"\nseed = 49\n[workload]\nrate = \"200/h\"\n".to_string();
    for (name, share, p, _) in classes {
        text += &format!("[[workload.class]]\nname = \"{name}\"\nshare = {share}\ndefect_prob = {p}\n");
    }
    text += &format!(
        r#"[[policy]]
name = "p"
[[policy.stage]]
kind = "triage"
name = "triage"
flag = {{ risky = {}, plain = {} }}
[[policy.stage]]
kind = "automated_check"
name = "check"
detect = {dc}
[[policy.stage]]
kind = "human_review"
name = "review"
tier = "flagged"
reviewers = 40
service = {{ dist = "exponential", mean = "1m" }}
detect = {dr}
[[policy.stage]]
kind = "automated_check"
name = "second"
tier = "unflagged"
detect = {du}
"#,
        classes[0].3, classes[1].3
    );
    let (_, r) = run(&text);
    for (ci, (name, _, _, f)) in classes.iter().enumerate() {
        let rate: Vec<f64> = r.per_policy[0]
            .iter()
            .map(|x| x.classes[ci].escaped as f64 / x.classes[ci].defects as f64)
            .collect();
        let theory = (1.0 - dc) * (f * (1.0 - dr) + (1.0 - f) * (1.0 - du));
        assert_ci(&format!("triage: escape rate of class {name}"), &rate, theory);
    }
    let flagged: Vec<f64> = r.per_policy[0]
        .iter()
        .map(|x| x.stages[0].flagged / x.stages[0].entered)
        .collect();
    let share_flagged: f64 = classes.iter().map(|(_, s, _, f)| s * f).sum();
    assert_ci("triage: fraction flagged", &flagged, share_flagged);
}

/// ∫ φ(z)·f(z) dz over the latent difficulty (Simpson's rule on [−9, 9]).
fn over_latent(f: impl Fn(f64) -> f64) -> f64 {
    let (lo, hi, n) = (-9.0, 9.0, 20_000);
    let h = (hi - lo) / n as f64;
    let g = |z: f64| phi(z) * f(z);
    let mut s = g(lo) + g(hi);
    for i in 1..n {
        s += g(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

/// P(a quantity with loading `l` on z is at least `a`, given z).
fn above(a: f64, l: f64, z: f64) -> f64 {
    upper_tail((a - l * z) / (1.0 - l * l).sqrt())
}

/// Signed loadings: two checks with loadings l₁ and l₂ on the latent difficulty have
/// misses with correlation l₁·l₂, so they miss together with the bivariate-normal
/// probability at ρ = +0.5 (aligned holes) and ρ = −0.5 (complementary layers: one misses
/// what the other catches).
#[test]
fn signed_loadings_follow_the_bivariate_normal_at_both_signs() {
    let l = 0.5f64.sqrt();
    let (d1, d2) = (0.6, 0.7);
    for (sign, seed) in [(1.0, 50), (-1.0, 51)] {
        let text = workload(
            &format!("replications = 40\nhorizon = \"1000h\"\nseed = {seed}"),
            "100/h",
            0.2,
            "",
        ) + &format!(
            r#"[[policy]]
name = "p"
[[policy.stage]]
kind = "automated_check"
name = "first"
detect = {d1}
difficulty_loading = {l}
[[policy.stage]]
kind = "automated_check"
name = "second"
detect = {d2}
difficulty_loading = {}
"#,
            sign * l
        );
        let (_, res) = run(&text);
        let (a1, a2) = (quantile(d1), quantile(d2));
        let theory = over_latent(|z| above(a1, l, z) * above(a2, sign * l, z));
        let rho = sign * 0.5;
        assert_ci(
            &format!("loadings with correlation {rho}: both layers miss"),
            &metric(&res, 0, M::escape_rate),
            theory,
        );
        // ρ = 0.5 agrees with the symmetric model of detection_correlation = 0.5.
        if sign > 0.0 {
            assert!((theory - bivariate_miss(d1, d2, 0.5)).abs() < 1e-9);
        }
    }
    // Complementary layers beat independence, aligned ones fall short of it.
    let (a1, a2) = (quantile(d1), quantile(d2));
    let neg = over_latent(|z| above(a1, l, z) * above(a2, -l, z));
    assert!(neg < (1.0 - d1) * (1.0 - d2) && bivariate_miss(d1, d2, 0.5) > (1.0 - d1) * (1.0 - d2));
}

/// Checks that share the agent's blind spots: with the agent's errors loading λ_A on the
/// latent difficulty (it errs more on hard actions) and a check loading λ_c, a defect is
/// caught with probability P(X < Φ⁻¹(d), Y < Φ⁻¹(p)) / p, where X and Y are standard
/// normals with correlation −λ_A·λ_c; below d when both load positively. A policy without
/// loadings in the same scenario sees the same actions (common random numbers).
#[test]
fn a_check_that_shares_the_agents_blind_spots_catches_less() {
    let (p, d, la, lc) = (0.1f64, 0.7f64, 0.6f64, 0.7f64);
    let text = workload(
        "replications = 40\nhorizon = \"1000h\"\nseed = 52",
        "100/h",
        p,
        &format!("defect_loading = {la}"),
    ) + &format!(
        r#"[[policy]]
name = "shared"
[[policy.stage]]
kind = "automated_check"
detect = {d}
difficulty_loading = {lc}
[[policy.stage]]
kind = "automated_check"
name = "independent-of-it"
detect = {d}
difficulty_loading = 0
[[policy]]
name = "plain"
[[policy.stage]]
kind = "automated_check"
detect = 0.5
"#
    );
    let (_, res) = run(&text);
    // X = lc·z + …, defect when Y = −la·z + … < Φ⁻¹(p).
    let (qd, qp) = (quantile(d), quantile(p));
    let caught = over_latent(|z| (1.0 - above(qd, lc, z)) * (1.0 - above(qp, -la, z))) / p;
    assert!(caught < d, "shared blind spots lower detection: {caught}");
    let model = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/model.md"))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let quoted = format!(
        "a check with detect {d} catches {:.0}% of the agent's defects",
        100.0 * caught
    );
    assert!(model.contains(&quoted), "docs/model.md should say `{quoted}`");
    let first: Vec<f64> = res.per_policy[0]
        .iter()
        .map(|x| x.stages[0].caught / x.metrics.get(M::defects))
        .collect();
    assert_ci(
        "a check sharing the agent's blind spots: detection",
        &first,
        caught,
    );
    // A layer with loading 0 keeps its detection on what the first one let through.
    let second: Vec<f64> = res.per_policy[0]
        .iter()
        .map(|x| x.stages[1].caught / (x.metrics.get(M::defects) - x.stages[0].caught))
        .collect();
    assert_ci("a layer independent of the difficulty", &second, d);
    // The defect rate itself is still p.
    let rate: Vec<f64> = res.per_policy[0]
        .iter()
        .map(|x| x.metrics.get(M::defects) / x.classes[0].actions as f64)
        .collect();
    assert_ci("the agent's defect rate with a loading", &rate, p);
    for (x, y) in res.per_policy[0].iter().zip(&res.per_policy[1]) {
        assert_eq!(
            x.classes[0].actions, y.classes[0].actions,
            "same actions in every policy"
        );
    }
}

/// Reviewers who differ: each reviewer's detection is drawn once per replication from
/// Beta(mean, sd). Work goes to the idle reviewer with the lowest index, which does not look
/// at skill, so the expected detection is the mean skill. With one reviewer a
/// replication's detection is that reviewer's skill plus binomial noise, so its variance
/// over replications is sd² + (mean(1 − mean) − sd²)/D for D defects reviewed; the sample
/// variance must lie in the chi-square interval around it. An audit's auditors draw theirs
/// the same way.
#[test]
fn reviewer_skill_spread_keeps_the_mean_and_adds_the_variance() {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    let (mean, sd) = (0.7f64, 0.1f64);
    let stage = |reviewers: u32| {
        format!(
            r#"[[policy]]
name = "r{reviewers}"
[[policy.stage]]
kind = "human_review"
reviewers = {reviewers}
service = {{ dist = "exponential", mean = "1m" }}
detect = {{ dist = "beta", mean = {mean}, sd = {sd} }}
[[policy.stage]]
kind = "audit"
sample = 1.0
reviewers = 4
service = {{ dist = "exponential", mean = "1m" }}
detect = {{ dist = "beta", mean = {mean}, sd = {sd} }}
"#
        )
    };
    let text = workload(
        "replications = 300\nhorizon = \"100h\"\nseed = 53",
        "30/h",
        0.1,
        "",
    ) + &stage(1)
        + &stage(3);
    let (_, r) = run(&text);
    let detection = |p: usize| -> Vec<f64> {
        r.per_policy[p]
            .iter()
            .map(|x| x.stages[0].caught / x.metrics.get(M::defects))
            .collect()
    };
    for p in [0, 1] {
        assert_ci(
            &format!("skill spread, policy {p}: mean detection"),
            &detection(p),
            mean,
        );
        let audit: Vec<f64> = r.per_policy[p]
            .iter()
            .map(|x| x.metrics.get(M::caught_late) / x.metrics.get(M::escaped))
            .collect();
        assert_ci(
            &format!("skill spread, policy {p}: audit detection"),
            &audit,
            mean,
        );
    }
    // One reviewer: the variance over replications.
    let d = detection(0);
    let n = d.len() as f64;
    let defects = metric(&r, 0, M::defects).iter().sum::<f64>() / n;
    let theory = sd * sd + (mean * (1.0 - mean) - sd * sd) / defects;
    let m = d.iter().sum::<f64>() / n;
    let s2 = d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let chi = ChiSquared::new(n - 1.0).unwrap();
    let (lo, hi) = (
        (n - 1.0) * s2 / chi.inverse_cdf(1.0 - (1.0 - LEVEL) / 2.0),
        (n - 1.0) * s2 / chi.inverse_cdf((1.0 - LEVEL) / 2.0),
    );
    eprintln!(
        "skill spread, one reviewer: variance {s2:.5} (99.9% CI {lo:.5} .. {hi:.5}), theory {theory:.5}"
    );
    assert!(
        lo <= theory && theory <= hi,
        "variance of detection over replications"
    );
    // Without the spread it would be the binomial part alone, well outside the interval.
    assert!((mean * (1.0 - mean)) / defects < lo);
}

/// Defect kinds: each defective attempt is of one kind (by its class's shares), and each
/// layer detects each kind with its own probability, so per kind the product rule holds:
/// a defect of kind k escapes two independent checks with probability (1 − d₁ₖ)(1 − d₂ₖ).
/// A class's own shares override the workload's: here every defect of "novel" work is
/// semantic, so its escape rate is the semantic one.
#[test]
fn defect_kinds_follow_the_product_rule_per_kind() {
    let text = r#"name = "t"
[run]
replications = 40
horizon = "500h"
seed = 54
[workload]
rate = "100/h"
[[workload.defect_kind]]
name = "syntax"
share = 0.6
[[workload.defect_kind]]
name = "semantic"
share = 0.4
[[workload.class]]
name = "routine"
share = 0.8
defect_prob = 0.2
[[workload.class]]
name = "novel"
share = 0.2
defect_prob = 0.2
kinds = { semantic = 1.0 }
[[policy]]
name = "p"
[[policy.stage]]
kind = "automated_check"
name = "tests"
detect = { syntax = 0.9, semantic = 0.1 }
[[policy.stage]]
kind = "human_review"
reviewers = 20
service = { dist = "exponential", mean = "1m" }
detect = { syntax = 0.3, semantic = 0.7 }
"#;
    let (sc, r) = run(text);
    assert_eq!(sc.workload.kinds, ["syntax", "semantic"]);
    for (k, name, theory) in [(0, "syntax", 0.1 * 0.7), (1, "semantic", 0.9 * 0.3)] {
        let rate: Vec<f64> = r.per_policy[0]
            .iter()
            .map(|x| x.kinds[k].escaped as f64 / x.kinds[k].defects as f64)
            .collect();
        assert_ci(&format!("kind {name}: escape rate"), &rate, theory);
    }
    // The kinds' mix: routine defects are 60% syntax, novel ones all semantic.
    let syntax: Vec<f64> = r.per_policy[0]
        .iter()
        .map(|x| x.kinds[0].defects as f64 / x.metrics.get(M::defects))
        .collect();
    assert_ci("share of syntax defects", &syntax, 0.8 * 0.6);
    let novel: Vec<f64> = r.per_policy[0]
        .iter()
        .map(|x| x.classes[1].escaped as f64 / x.classes[1].defects as f64)
        .collect();
    assert_ci("novel work: the semantic escape rate", &novel, 0.9 * 0.3);
}

/// Detection by action class: each layer detects the defects of each class with its own
/// probability ("my reviewers catch 70% of bad refunds but 60% of bad account changes"),
/// so per class the product rule holds: a defect of class c escapes a check and a review
/// with probability (1 − d₁c)(1 − d₂c). A people's stage (the review) and a check take the
/// same table.
#[test]
fn detection_by_class_follows_the_product_rule_per_class() {
    let text = r#"name = "t"
[run]
replications = 40
horizon = "500h"
seed = 59
[workload]
rate = "100/h"
[[workload.class]]
name = "refund"
share = 0.7
defect_prob = 0.2
[[workload.class]]
name = "account-change"
share = 0.3
defect_prob = 0.2
[[policy]]
name = "p"
[[policy.stage]]
kind = "automated_check"
name = "tests"
detect = { refund = 0.5, account-change = 0.2 }
[[policy.stage]]
kind = "human_review"
reviewers = 20
service = { dist = "exponential", mean = "1m" }
detect = { refund = 0.7, account-change = 0.6 }
"#;
    let (_, r) = run(text);
    for (c, name, theory) in [(0, "refund", 0.5 * 0.3), (1, "account-change", 0.8 * 0.4)] {
        let rate: Vec<f64> = r.per_policy[0]
            .iter()
            .map(|x| x.classes[c].escaped as f64 / x.classes[c].defects as f64)
            .collect();
        assert_ci(&format!("class {name}: escape rate"), &rate, theory);
    }
}

/// Lot acceptance sampling (n = 80, c = 2, the ISO 2859-1 plan for a lot of 501–1,200 at
/// AQL 1.0). With perfect inspection and defects independent with probability p, the
/// sample's defect count is Binomial(n, p) whatever the lot size, so a lot is accepted with
/// probability Pa = P(Bin(n, p) ≤ c): 0.953, 0.784, 0.375 and 0.134 at p = 1, 2, 4, 6%
/// (the OC curve). A rejected lot is inspected in full and loses every defect, an accepted
/// one lets through the defects of its N − n uninspected attempts, so the average outgoing
/// quality (escapes per attempt) is AOQ = p·Pa·(N − n)/N.
#[test]
fn acceptance_sampling_follows_the_oc_curve_and_aoq() {
    let (lot, n, c) = (200u32, 80u32, 2u32);
    let pa = |p: f64| -> f64 { (0..=c).map(|k| binomial_pmf(n, p, k)).sum() };
    for (p, stated) in [(0.01, 0.953), (0.02, 0.784), (0.04, 0.375), (0.06, 0.134)] {
        assert!(
            (pa(p) - stated).abs() < 5e-4,
            "the OC curve at p = {p}: {}",
            pa(p)
        );
    }
    for (p, seed) in [(0.01, 55), (0.02, 56), (0.04, 57), (0.06, 58)] {
        let text = workload(
            &format!("replications = 60\nhorizon = \"200h\"\nwarmup = \"2h\"\nseed = {seed}"),
            "1000/h",
            p,
            "",
        ) + &format!(
            r#"[[policy]]
name = "lots"
[[policy.stage]]
kind = "acceptance_sampling"
name = "lots"
lot = {lot}
n = {n}
c = {c}
reviewers = 40
service = {{ dist = "exponential", mean = "1m" }}
detect = 1.0
[[policy]]
name = "released"
[[policy.stage]]
kind = "acceptance_sampling"
name = "lots"
hold = false
lot = {lot}
n = {n}
c = {c}
reviewers = 40
service = {{ dist = "exponential", mean = "1m" }}
detect = 1.0
late_harm_factor = 0.0
"#
        );
        let (_, r) = run(&text);
        let accepted: Vec<f64> = r.per_policy[0]
            .iter()
            .map(|x| 1.0 - x.metrics.get(M::lots_rejected) / x.metrics.get(M::lots))
            .collect();
        assert_ci(
            &format!("acceptance sampling: P(accept) at p = {p}"),
            &accepted,
            pa(p),
        );
        let aoq: Vec<f64> = r.per_policy[0]
            .iter()
            .map(|x| x.metrics.get(M::escaped) / x.stages[0].entered)
            .collect();
        let theory = p * pa(p) * (lot - n) as f64 / lot as f64;
        assert_ci(&format!("acceptance sampling: AOQ at p = {p}"), &aoq, theory);
        // Sampling released work: the same plan finds the same defects after release, so
        // the defects it does not find, per attempt, are again the AOQ; with
        // late_harm_factor 0 they are the only harm.
        let accepted: Vec<f64> = r.per_policy[1]
            .iter()
            .map(|x| 1.0 - x.metrics.get(M::lots_rejected) / x.metrics.get(M::lots))
            .collect();
        assert_ci(&format!("released lots: P(accept) at p = {p}"), &accepted, pa(p));
        let uncaught: Vec<f64> = r.per_policy[1]
            .iter()
            .map(|x| (x.metrics.get(M::escaped) - x.metrics.get(M::caught_late)) / x.stages[0].entered)
            .collect();
        assert_ci(&format!("released lots: AOQ at p = {p}"), &uncaught, theory);
        for x in &r.per_policy[1] {
            let missed = x.metrics.get(M::escaped) - x.metrics.get(M::caught_late);
            assert!(
                (x.metrics.get(M::harm) - missed).abs() < 1e-6,
                "harm is the defects missed"
            );
        }
    }
}

/// Auditors tire as reviewers do. A saturated auditor with constant service s, fatigue
/// (tau, floor) and a break after `after` hours of work audits m = ceil(after/s) items per
/// stretch, at time on task 0, s, …, (m − 1)s, so its mean detection is
/// d·[floor + (1 − floor)·(1/m)·Σⱼ e^(−j·s/tau)]. Every action is defective, so detection
/// is caught over audits done (passed + flagged).
#[test]
fn tired_auditors_follow_the_fatigue_curve_between_breaks() {
    let (d, floor, tau, s, after) = (0.8f64, 0.5f64, 0.5f64, 0.1f64, 1.0f64);
    let m = (after / s).ceil() as i32;
    let mean_decay: f64 = (0..m).map(|j| (-(j as f64) * s / tau).exp()).sum::<f64>() / m as f64;
    let theory = d * (floor + (1.0 - floor) * mean_decay);
    let text = workload(
        "replications = 40\nhorizon = \"300h\"\nwarmup = \"1h\"\nseed = 59",
        "100/h",
        1.0,
        "",
    ) + &format!(
        r#"[[policy]]
name = "p"
[[policy.stage]]
kind = "audit"
sample = 1.0
reviewers = 1
service = {{ dist = "constant", value = "6m" }}
detect = {d}
fatigue = {{ tau = "30m", floor = {floor}, break_after = "1h", break_length = "10m" }}
"#
    );
    let (_, r) = run(&text);
    let detection: Vec<f64> = r.per_policy[0]
        .iter()
        .map(|x| x.stages[0].caught / (x.stages[0].passed + x.stages[0].flagged))
        .collect();
    assert_ci("tired auditors: mean detection", &detection, theory);
    // The schedule is deterministic: 10 items and a 10-minute break every 70 minutes, so
    // 300 hours hold 2571 or 2572 audits (where the window cuts a stretch).
    for x in &r.per_policy[0] {
        let done = x.stages[0].passed + x.stages[0].flagged;
        assert!((done - 300.0 * 60.0 / 70.0 * 10.0).abs() <= 10.0, "{done} audits");
    }
}

/// Lot inspectors tire as auditors and reviewers do: the same closed form, with a saturated
/// inspector who inspects every item of every lot (n = lot: the sample is the whole lot,
/// so nothing more is inspected whatever it finds).
#[test]
fn tired_lot_inspectors_follow_the_fatigue_curve_between_breaks() {
    let (d, floor, tau, s, after) = (0.8f64, 0.5f64, 0.5f64, 0.1f64, 1.0f64);
    let m = (after / s).ceil() as i32;
    let mean_decay: f64 = (0..m).map(|j| (-(j as f64) * s / tau).exp()).sum::<f64>() / m as f64;
    let theory = d * (floor + (1.0 - floor) * mean_decay);
    let text = workload(
        "replications = 40\nhorizon = \"300h\"\nwarmup = \"1h\"\nseed = 61",
        "100/h",
        1.0,
        "",
    ) + &format!(
        r#"[[policy]]
name = "p"
[[policy.stage]]
kind = "acceptance_sampling"
lot = 10
n = 10
c = 9
reviewers = 1
service = {{ dist = "constant", value = "6m" }}
detect = {d}
fatigue = {{ tau = "30m", floor = {floor}, break_after = "1h", break_length = "10m" }}
"#
    );
    let (_, r) = run(&text);
    let detection: Vec<f64> = r.per_policy[0]
        .iter()
        .map(|x| x.stages[0].caught / (x.stages[0].passed + x.stages[0].flagged))
        .collect();
    assert_ci("tired lot inspectors: mean detection", &detection, theory);
    // 10 items and a 10-minute break every 70 minutes; a lot's items pass when its last
    // is inspected, so the window's end may cut one lot.
    for x in &r.per_policy[0] {
        let done = x.stages[0].passed + x.stages[0].flagged;
        assert!(
            (done - 300.0 * 60.0 / 70.0 * 10.0).abs() <= 20.0,
            "{done} inspections"
        );
    }
}

/// People who triage tire too: a tired person flags less (fewer hits and fewer false
/// alarms: the criterion shift of parameters.md A.2), so the share flagged follows the same
/// closed form as detection, with the class's flag probability as the fresh value.
#[test]
fn tired_triage_flags_less_by_the_fatigue_curve() {
    let (p, floor, tau, s, after) = (0.8f64, 0.5f64, 0.5f64, 0.1f64, 1.0f64);
    let m = (after / s).ceil() as i32;
    let mean_decay: f64 = (0..m).map(|j| (-(j as f64) * s / tau).exp()).sum::<f64>() / m as f64;
    let theory = p * (floor + (1.0 - floor) * mean_decay);
    let text = workload(
        "replications = 40\nhorizon = \"300h\"\nwarmup = \"1h\"\nseed = 62",
        "100/h",
        0.1,
        "",
    ) + &format!(
        r#"[[policy]]
name = "p"
[[policy.stage]]
kind = "triage"
flag = {{ only = {p} }}
reviewers = 1
service = {{ dist = "constant", value = "6m" }}
fatigue = {{ tau = "30m", floor = {floor}, break_after = "1h", break_length = "10m" }}
"#
    );
    let (_, r) = run(&text);
    let share: Vec<f64> = r.per_policy[0]
        .iter()
        .map(|x| x.stages[0].flagged / (x.stages[0].flagged + x.stages[0].passed))
        .collect();
    assert_ci("tired triage: share flagged", &share, theory);
}

/// People who triage: one FIFO queue with `reviewers` people, always on duty. With Poisson
/// arrivals at 30/h and one person taking Exp(1 minute) per action, the desk is an M/M/1
/// queue: each action spends 1/(μ − λ) = 2 minutes there on average, its only delay here,
/// and the person's 200 hours count as reviewer hours. The flags are as automated
/// triage's.
#[test]
fn a_triage_desk_is_an_mm1_queue() {
    let text = workload(
        "replications = 40\nhorizon = \"200h\"\nwarmup = \"10h\"\nseed = 60",
        "30/h",
        0.1,
        "",
    ) + r#"[[policy]]
name = "desk"
[[policy.stage]]
kind = "triage"
flag = { only = 0.3 }
reviewers = 1
service = { dist = "exponential", mean = "1m" }
"#;
    let (_, r) = run(&text);
    assert_ci(
        "triage desk: mean time in the system (min)",
        &metric(&r, 0, M::latency_mean_min),
        2.0,
    );
    assert!(metric(&r, 0, M::reviewer_hours).iter().all(|&h| h == 200.0));
    let flagged: Vec<f64> = r.per_policy[0]
        .iter()
        .map(|x| x.stages[0].flagged / x.stages[0].entered)
        .collect();
    assert_ci("triage desk: fraction flagged", &flagged, 0.3);
}
