//! Statistical validation against closed-form results (docs/parameters.md, Part B).
//!
//! Each test runs independent replications and checks that the theoretical value lies in
//! the 99.9% Student-t confidence interval of the simulated mean (see `common::LEVEL`). The
//! tolerance is therefore derived from the replications themselves, never tuned by hand.
//! Every run also checks conservation and Little's law on every replication.

use crate::common;

use common::{assert_ci, assert_ci_within, erlang_c, metric, run, scenario};
use oversim::metrics::M;

fn review(reviewers: u32, service: &str, extra: &str) -> String {
    format!(
        r#"[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = {reviewers}
service = {service}
detect = 0.0
{extra}"#
    )
}

/// Little's law in its usual form on a long stationary run: L = λ·W with λ the rate of
/// entries into the queue (all attempts enter, so λ is the arrival rate).
fn check_little(results: &oversim::montecarlo::Results, lambda: f64) {
    let l = metric(results, 0, M::mean_queue);
    let w = metric(results, 0, M::mean_wait_min);
    let lw: Vec<f64> = w.iter().map(|w| lambda * w / 60.0).collect();
    let gap: Vec<f64> = l.iter().zip(&lw).map(|(l, lw)| l - lw).collect();
    // Resolution: 10% of L, as the other checks resolve 10% of their value.
    let mean_l = l.iter().sum::<f64>() / l.len() as f64;
    assert_ci_within("Little: L − λW on the review queue", &gap, 0.0, 0.1 * mean_l);
}

/// B.1: M/M/1 with λ = 50/h, μ = 60/h: Wq = 5 min, Lq = 4.1667, ρ = 0.8333.
#[test]
fn mm1_waiting_time_queue_and_utilization() {
    let text = scenario(
        "replications = 40\nhorizon = \"500h\"\nwarmup = \"20h\"\nseed = 11",
        "50/h",
        0.0,
        &review(1, r#"{ dist = "exponential", mean = "1m" }"#, ""),
    );
    let (_, r) = run(&text);
    let (lambda, mu) = (50.0, 60.0);
    let rho: f64 = lambda / mu;
    assert_ci(
        "M/M/1 Wq (min)",
        &metric(&r, 0, M::mean_wait_min),
        60.0 * rho / (mu - lambda),
    );
    assert_ci("M/M/1 Lq", &metric(&r, 0, M::mean_queue), rho * rho / (1.0 - rho));
    assert_ci("M/M/1 utilization", &metric(&r, 0, M::reviewer_utilization), rho);
    check_little(&r, lambda);
}

/// B.2: M/M/5 with λ = 100/h, μ = 24/h (Erlang C): Wq = 1.860 min, Lq = 3.1007.
#[test]
fn mmc_erlang_c() {
    let text = scenario(
        "replications = 40\nhorizon = \"1200h\"\nwarmup = \"10h\"\nseed = 12",
        "100/h",
        0.0,
        &review(5, r#"{ dist = "exponential", mean = "2.5m" }"#, ""),
    );
    let (_, r) = run(&text);
    let (lambda, mu, c) = (100.0, 24.0, 5);
    let a = lambda / mu;
    let pc = erlang_c(c, a);
    assert!((pc - 0.6201).abs() < 1e-4, "Erlang C helper: {pc}");
    let wq = pc / (c as f64 * mu - lambda);
    assert_ci("M/M/5 Wq (min)", &metric(&r, 0, M::mean_wait_min), 60.0 * wq);
    assert_ci("M/M/5 Lq", &metric(&r, 0, M::mean_queue), lambda * wq);
    assert_ci(
        "M/M/5 utilization",
        &metric(&r, 0, M::reviewer_utilization),
        a / c as f64,
    );
    check_little(&r, lambda);
}

/// B.3: Pollaczek–Khinchine, λ = 50/h, E[S] = 1 min: Wq = ρ·E[S]·(1 + c²)/(2(1 − ρ)).
fn mg1(service: &str, scv: f64, seed: u64, reps: u32, horizon: &str) {
    let text = scenario(
        &format!("replications = {reps}\nhorizon = \"{horizon}\"\nwarmup = \"20h\"\nseed = {seed}"),
        "50/h",
        0.0,
        &review(1, service, ""),
    );
    let (_, r) = run(&text);
    let rho = 50.0 / 60.0;
    let wq_min = rho * 1.0 * (1.0 + scv) / (2.0 * (1.0 - rho));
    assert_ci(
        &format!("M/G/1 Wq (min), scv {scv}"),
        &metric(&r, 0, M::mean_wait_min),
        wq_min,
    );
    check_little(&r, 50.0);
}

#[test]
fn md1_pollaczek_khinchine() {
    mg1(r#"{ dist = "constant", value = "1m" }"#, 0.0, 13, 40, "400h");
}

#[test]
fn mg1_lognormal_pollaczek_khinchine() {
    // cv = 1.5: heavy right tail, so more replications and a longer horizon.
    mg1(
        r#"{ dist = "lognormal", mean = "1m", cv = 1.5 }"#,
        2.25,
        14,
        60,
        "1000h",
    );
}

/// B.3b: M/M/1 with deterministic patience D: P(abandon) =
/// (1−ρ)·ρ·e^{−(μ−λ)D} / (1 − ρ²·e^{−(μ−λ)D}), for ρ < 1 and ρ > 1.
#[test]
fn mm1_deterministic_max_wait_abandonment() {
    for (lambda, mu, d, seed) in [(0.9, 1.0, 1.0, 15), (1.5, 1.0, 2.0, 16)] {
        let text = scenario(
            &format!("replications = 40\nhorizon = \"20000h\"\nwarmup = \"200h\"\nseed = {seed}"),
            &format!("{lambda}/h"),
            0.0,
            &review(
                1,
                &format!(r#"{{ dist = "exponential", mean = "{}h" }}"#, 1.0 / mu),
                &format!("max_wait = \"{d}h\"\non_timeout = \"drop\""),
            ),
        );
        let (_, r) = run(&text);
        let rho: f64 = lambda / mu;
        let x = (-(mu - lambda) * d).exp();
        let theory = (1.0 - rho) * rho * x / (1.0 - rho * rho * x);
        let frac: Vec<f64> = r.per_policy[0]
            .iter()
            .map(|x| x.stages[0].timeouts / x.stages[0].entered)
            .collect();
        assert_ci(&format!("M/M/1+D abandonment, λ={lambda} D={d}"), &frac, theory);
        // Dropped attempts are exactly the timeouts.
        assert_eq!(metric(&r, 0, M::dropped), metric(&r, 0, M::timeouts));
    }
}

/// One review stage with ample reviewers: escape rate 1 − d and throughput λ(1 − p·d).
#[test]
fn single_review_escape_rate_and_throughput() {
    let text = scenario(
        "replications = 40\nhorizon = \"2000h\"\nseed = 17",
        "40/h",
        0.1,
        r#"[[policy.stage]]
kind = "human_review"
reviewers = 50
service = { dist = "exponential", mean = "6m" }
detect = 0.7"#,
    );
    let (_, r) = run(&text);
    assert_ci("single review escape rate", &metric(&r, 0, M::escape_rate), 0.3);
    assert_ci(
        "single review throughput (/h)",
        &metric(&r, 0, M::throughput_per_hour),
        40.0 * (1.0 - 0.1 * 0.7),
    );
}

fn check(name: &str, detect: f64) -> String {
    format!("[[policy.stage]]\nkind = \"automated_check\"\nname = \"{name}\"\ndetect = {detect}\n")
}

/// B.6: two independent layers: escape = (1 − d₁)(1 − d₂).
#[test]
fn two_independent_checks_product_rule() {
    let stages = check("first", 0.6) + &check("second", 0.7);
    let text = scenario(
        "replications = 40\nhorizon = \"2000h\"\nseed = 18",
        "100/h",
        0.2,
        &stages,
    );
    let (_, r) = run(&text);
    assert_ci(
        "two checks escape rate",
        &metric(&r, 0, M::escape_rate),
        0.4 * 0.3,
    );
}

/// Automation bias: after a check with d₁, a reviewer with complacency m misses an
/// auto-passed defect with probability m(1 − d₂): escape = (1 − d₁)·m·(1 − d₂).
#[test]
fn complacency_raises_escapes_by_its_factor() {
    let reviewer = |m: f64| {
        format!(
            "[[policy.stage]]\nkind = \"human_review\"\nreviewers = 40\nservice = {{ dist = \"exponential\", mean = \"6m\" }}\ndetect = 0.7\ncomplacency = {m}\n"
        )
    };
    for (m, seed) in [(1.0, 19), (1.3, 20)] {
        let stages = check("first", 0.6) + &reviewer(m);
        let text = scenario(
            &format!("replications = 40\nhorizon = \"2000h\"\nseed = {seed}"),
            "100/h",
            0.2,
            &stages,
        );
        let (_, r) = run(&text);
        assert_ci(
            &format!("check + review escape, complacency {m}"),
            &metric(&r, 0, M::escape_rate),
            0.4 * m * 0.3,
        );
    }
}

/// B.11: vigilance decrement. A saturated reviewer works `T` = 2 h, breaks 15 min, and
/// starts each item at time on task k·s (constant service s = T/1024), so the average
/// detection over a stretch of work is the left Riemann sum of
/// d(t) = d∞ + (d0 − d∞)e^{−t/τ}; as s → 0 it tends to the closed form
/// d̄ = d∞ + (d0 − d∞)(τ/T)(1 − e^{−T/τ}) = 0.7368 (d0 = 0.85, d∞ = 0.70, τ = 30 min).
#[test]
fn fatigue_average_detection_over_a_session() {
    let (d0, dinf, tau, t) = (0.85f64, 0.70f64, 0.5f64, 2.0f64);
    let n = 1024.0;
    let s = t / n;
    let closed = dinf + (d0 - dinf) * (tau / t) * (1.0 - (-t / tau).exp());
    assert!((closed - 0.7368).abs() < 1e-4, "closed form {closed}");
    let discrete = dinf + (d0 - dinf) * (1.0 - (-t / tau).exp()) / (n * (1.0 - (-s / tau).exp()));
    assert!(
        (discrete - closed).abs() < 1e-4,
        "item-level average {discrete} vs continuous {closed}"
    );

    // Arrivals at twice the service rate keep the reviewer busy; a short max_wait bounds
    // the queue.
    let text = scenario(
        "replications = 10\nhorizon = \"1125h\"\nseed = 21",
        "1024/h",
        1.0,
        &format!(
            r#"[[policy.stage]]
kind = "human_review"
reviewers = 1
service = {{ dist = "constant", value = "{}s" }}
detect = {d0}
fatigue = {{ tau = "30m", floor = {}, break_after = "2h", break_length = "15m" }}
max_wait = "3m"
on_timeout = "drop"
"#,
            s * 3600.0,
            dinf / d0
        ),
    );
    let (_, r) = run(&text);
    let caught: Vec<f64> = r.per_policy[0]
        .iter()
        .map(|x| x.stages[0].caught / (x.stages[0].passed + x.stages[0].flagged))
        .collect();
    assert_ci("fatigue: mean detection over sessions", &caught, discrete);
}

/// B.12: the shipped governance scenario reproduces the closed-form escapes per 1000
/// actions of all four oversight models (ample staffing, no rework, no fatigue).
#[test]
fn governance_b12_scenario_matches_closed_form() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/governance-b12.toml"
    ))
    .unwrap();
    let (sc, r) = run(&text);
    let shares = [0.7, 0.2, 0.1];
    let p = [0.02, 0.08, 0.25];
    let d = 0.6;
    let miss = |checks: bool, human: [bool; 3]| -> f64 {
        (0..3)
            .map(|c| {
                let mut m = 1.0;
                if checks {
                    m *= 1.0 - d;
                }
                if human[c] {
                    m *= 1.0 - d;
                }
                shares[c] * p[c] * m
            })
            .sum::<f64>()
            * 1000.0
    };
    let expected = [
        ("a-human-all", miss(false, [true; 3])),
        ("b-checks-only", miss(true, [false; 3])),
        ("c-tiered", miss(true, [false, false, true])),
        ("d-checks-and-human", miss(true, [true; 3])),
    ];
    for (i, (name, theory)) in expected.iter().enumerate() {
        assert_eq!(sc.policies[i].name, *name);
        let per_1k_actions: Vec<f64> = r.per_policy[i]
            .iter()
            .map(|x| {
                1000.0 * x.metrics.get(M::escaped) / (x.metrics.get(M::released) + x.metrics.get(M::rejected))
            })
            .collect();
        assert_ci(
            &format!("B.12 {name}: escapes per 1000 actions"),
            &per_1k_actions,
            *theory,
        );
    }
    assert!((expected[2].1 - 16.0).abs() < 1e-9 && (expected[3].1 - 8.8).abs() < 1e-9);
}

/// Rework: each attempt is defective with p and a check flags it with d, so an attempt is
/// rejected with q = p·d. With k attempts in all, an action is abandoned with q^k, so
/// throughput is λ(1 − q^k), rejections λ(q + … + q^k), and a release is defective with
/// p(1 − d)(1 + q + … + q^{k−1}) / (1 − q^k).
#[test]
fn rework_loop_closed_form() {
    let (lambda, p, d, k) = (100.0, 0.3, 0.8, 3);
    let text = format!(
        r#"name = "rework"
[run]
replications = 40
horizon = "500h"
warmup = "5h"
seed = 22
[workload]
rate = "{lambda}/h"
[workload.rework]
delay = {{ dist = "exponential", mean = "20m" }}
max_attempts = {k}
[[workload.class]]
name = "only"
share = 1.0
defect_prob = {p}
[[policy]]
name = "p"
[[policy.stage]]
kind = "automated_check"
detect = {d}
"#
    );
    let (_, r) = run(&text);
    let q: f64 = p * d;
    let geometric: f64 = (0..k).map(|j| q.powi(j)).sum();
    assert_ci(
        "rework: throughput (/h)",
        &metric(&r, 0, M::throughput_per_hour),
        lambda * (1.0 - q.powi(k)),
    );
    let rejected_per_hour: Vec<f64> = metric(&r, 0, M::rejected).iter().map(|x| x / 500.0).collect();
    assert_ci(
        "rework: rejections (/h)",
        &rejected_per_hour,
        lambda * q * geometric,
    );
    let abandoned_per_hour: Vec<f64> = metric(&r, 0, M::abandoned).iter().map(|x| x / 500.0).collect();
    assert_ci(
        "rework: abandoned actions (/h)",
        &abandoned_per_hour,
        lambda * q.powi(k),
    );
    let defective_release: Vec<f64> = metric(&r, 0, M::escapes_per_1k)
        .iter()
        .map(|x| x / 1000.0)
        .collect();
    assert_ci(
        "rework: P(release defective)",
        &defective_release,
        p * (1.0 - d) * geometric / (1.0 - q.powi(k)),
    );
}

/// Timeouts that approve: a reviewer who catches every defect (d = 1) lets through exactly
/// the defects that timed out, so the escape rate is the M/M/1+D abandonment probability.
#[test]
fn timeout_approve_escapes_equal_abandonment() {
    let (lambda, mu, dl) = (0.9, 1.0, 1.0);
    let text = scenario(
        "replications = 40\nhorizon = \"20000h\"\nwarmup = \"200h\"\nseed = 23",
        &format!("{lambda}/h"),
        0.5,
        r#"[[policy.stage]]
kind = "human_review"
reviewers = 1
service = { dist = "exponential", mean = "1h" }
detect = 1.0
max_wait = "1h"
on_timeout = "approve""#,
    );
    let (_, r) = run(&text);
    let rho: f64 = lambda / mu;
    let x = (-(mu - lambda) * dl).exp();
    assert_ci(
        "timeout-approve escape rate",
        &metric(&r, 0, M::escape_rate),
        (1.0 - rho) * rho * x / (1.0 - rho * rho * x),
    );
}

/// A 0/1 metric's interval is the exact (Clopper–Pearson) one: its coverage, computed
/// exactly as Σₓ C(n,x) pˣ(1−p)ⁿ⁻ˣ·[p in the interval of x], is at least 95% for every p,
/// where the Student-t interval of the mean covers a rare event's p far less often (about
/// 40% at p = 0.01 with 50 replications: no event, and the interval is [0, 0]).
#[test]
fn rare_event_intervals_cover_as_they_say() {
    use oversim::stats::{clopper_pearson, summarize};
    let coverage = |n: usize, p: f64, interval: &dyn Fn(usize) -> (f64, f64)| -> f64 {
        let mut log_c = 0.0; // ln C(n, x), built up term by term
        let mut total = 0.0;
        for x in 0..=n {
            if x > 0 {
                log_c += ((n - x + 1) as f64).ln() - (x as f64).ln();
            }
            let prob = (log_c + x as f64 * p.ln() + (n - x) as f64 * (1.0 - p).ln()).exp();
            let (lo, hi) = interval(x);
            if lo <= p && p <= hi {
                total += prob;
            }
        }
        total
    };
    let t_interval = |n: usize| {
        move |x: usize| {
            let s = summarize((0..n).map(|i| if i < x { 1.0 } else { 0.0 }));
            (s.ci_low, s.ci_high)
        }
    };
    for n in [10, 50, 200] {
        for p in [0.001, 0.01, 0.02, 0.05, 0.1, 0.3, 0.5, 0.9, 0.99] {
            let c = coverage(n, p, &|x| clopper_pearson(x, n, 0.95));
            assert!(
                c >= 0.95 - 1e-12,
                "Clopper–Pearson covers p = {p} at n = {n} only {c}"
            );
        }
    }
    let t = coverage(50, 0.01, &t_interval(50));
    assert!(
        (0.39..0.40).contains(&t),
        "the t-interval's coverage at p = 0.01, n = 50: {t}"
    );
    assert!(coverage(50, 0.02, &t_interval(50)) < 0.7);
}

/// summary.csv gives `any_severe` its exact interval from the replications' events, and a
/// comparison's relative change has the difference's sign when the baseline is negative.
#[test]
fn indicator_summaries_and_relative_change_from_the_files() {
    let t = tempfile::TempDir::new().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_cmd::Command::cargo_bin("oversim")
        .unwrap()
        .arg("run")
        .arg(root.join("scenarios/catastrophic-tail.toml"))
        .args(["-r", "100", "-q", "--baseline", "per-action", "-o"])
        .arg(t.path().join("out"))
        .assert()
        .success();
    let read = |f: &str| std::fs::read_to_string(t.path().join("out").join(f)).unwrap();
    let reps = read("replications.csv");
    let header: Vec<&str> = reps.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "any_severe").unwrap();
    let summary = read("summary.csv");
    let mut seen = 0;
    for policy in ["per-action", "tiered"] {
        let x = (reps.lines().skip(1))
            .filter(|l| l.starts_with(&format!("{policy},")))
            .filter(|l| l.split(',').nth(col) == Some("1"))
            .count();
        seen += x;
        let row: Vec<f64> = (summary.lines())
            .find(|l| l.starts_with(&format!("{policy},any_severe,")))
            .unwrap()
            .split(',')
            .skip(2)
            .map(|v| v.parse().unwrap())
            .collect();
        let (lo, hi) = oversim::stats::clopper_pearson(x, 100, 0.95);
        assert_eq!((row[0], row[3], row[4]), (100.0, lo, hi), "{policy}: {x} of 100");
    }
    assert!(
        seen > 0 && seen < 200,
        "the test wants a rare event that happens: {seen}"
    );
    // Net value: the baseline's mean is negative; relative_change = Δ / |baseline|.
    let base: f64 = (summary.lines())
        .find(|l| l.starts_with("per-action,net_value,"))
        .and_then(|l| l.split(',').nth(3))
        .unwrap()
        .parse()
        .unwrap();
    assert!(base < 0.0, "net value of per-action: {base}");
    let comparison = read("comparison.csv");
    let row: Vec<&str> = (comparison.lines())
        .find(|l| l.starts_with("tiered,per-action,net_value,"))
        .unwrap()
        .split(',')
        .collect();
    let (diff, rel): (f64, f64) = (row[4].parse().unwrap(), row[7].parse().unwrap());
    assert_eq!(rel.signum(), diff.signum());
    assert!((rel - diff / base.abs()).abs() < 1e-12 * rel.abs().max(1.0));
}

/// A paired difference of a 0/1 metric (two policies' `any_severe` on the same
/// replications) gets Newcombe's interval (method 10). Its coverage, computed exactly over
/// every 2×2 table of 50 pairs (the multinomial of the four cells), is at least 95% at
/// each of these cell probabilities (both, first only, second only, neither); the
/// Student-t interval of the differences covers a rare event's difference far less often
/// (63% at the first). Newcombe's interval is not exact: elsewhere its coverage can fall
/// below 95%.
#[test]
fn paired_rare_event_differences_cover_as_they_say() {
    use oversim::stats::{newcombe_paired, summarize};
    let n = 50usize;
    let ln_fact = |k: usize| (1..=k).map(|i| (i as f64).ln()).sum::<f64>();
    type Interval<'a> = &'a dyn Fn(&[(bool, bool)]) -> (f64, f64);
    let coverage = |q: [f64; 4], interval: Interval| -> f64 {
        let delta = (q[0] + q[1]) - (q[0] + q[2]);
        let mut total = 0.0;
        for a in 0..=n {
            for b in 0..=n - a {
                for c in 0..=n - a - b {
                    let d = n - a - b - c;
                    let counts = [a, b, c, d];
                    if counts.iter().zip(q).any(|(&k, p)| k > 0 && p == 0.0) {
                        continue;
                    }
                    let ln_p = ln_fact(n) - counts.iter().map(|&k| ln_fact(k)).sum::<f64>()
                        + counts
                            .iter()
                            .zip(q)
                            .filter(|(&k, _)| k > 0)
                            .map(|(&k, p)| k as f64 * p.ln())
                            .sum::<f64>();
                    let mut pairs = vec![(true, true); a];
                    pairs.extend(vec![(true, false); b]);
                    pairs.extend(vec![(false, true); c]);
                    pairs.extend(vec![(false, false); d]);
                    let (lo, hi) = interval(&pairs);
                    if lo - 1e-12 <= delta && delta <= hi + 1e-12 {
                        total += ln_p.exp();
                    }
                }
            }
        }
        total
    };
    let t = |pairs: &[(bool, bool)]| {
        let s = summarize(pairs.iter().map(|(x, y)| *x as u8 as f64 - *y as u8 as f64));
        (s.ci_low, s.ci_high)
    };
    for q in [
        [0.005, 0.015, 0.005, 0.975],
        [0.0, 0.02, 0.01, 0.97],
        [0.05, 0.05, 0.02, 0.88],
        [0.1, 0.1, 0.1, 0.7],
        [0.01, 0.05, 0.0, 0.94],
    ] {
        let c = coverage(q, &|p| newcombe_paired(p, 0.95));
        assert!(c >= 0.95, "Newcombe covers {q:?} only {c}");
    }
    let c = coverage([0.005, 0.015, 0.005, 0.975], &t);
    assert!((0.62..0.65).contains(&c), "the t-interval's coverage: {c}");
}

/// An LLM judge (`kind = "llm_judge"`) flags as a check does and is priced per call. With
/// two defect kinds (shares 0.7, 0.3) and detection { 0.9, 0.5 } its detection is
/// d̄ = 0.78; flags (p·d̄ + (1 − p)·fp of attempts) escalate to a review that takes nothing
/// else, so escape = (1 − d̄) + d̄·(1 − d_review), the review's utilization is
/// λ(p·d̄ + (1 − p)·fp)·E[S]/c (which the offered-load rule must say too), and the stage
/// costs `cost` per call. Rejecting instead, every released attempt waited exactly the
/// judge's constant latency.
#[test]
fn llm_judge_detects_escalates_and_costs_by_closed_form() {
    let text = |on_flag: &str, seed: u64| {
        format!(
            r#"name = "t"
[run]
replications = 40
horizon = "1000h"
seed = {seed}
[workload]
rate = "100/h"
[[workload.class]]
name = "only"
share = 1.0
defect_prob = 0.2
[[workload.defect_kind]]
name = "syntax"
share = 0.7
[[workload.defect_kind]]
name = "semantic"
share = 0.3
[[policy]]
name = "p"
[[policy.stage]]
kind = "llm_judge"
name = "judge"
detect = {{ syntax = 0.9, semantic = 0.5 }}
false_positive = 0.05
latency = {{ dist = "constant", value = "2m" }}
cost = 0.02
{on_flag}
[[policy.stage]]
kind = "human_review"
name = "review"
classes = []
reviewers = 40
service = {{ dist = "exponential", mean = "6m" }}
detect = 0.6
"#
        )
    };
    let (lambda, p, d, fp, service, c, cost, horizon) = (100.0, 0.2, 0.78, 0.05, 0.1, 40.0, 0.02, 1000.0);
    let flagged = p * d + (1.0 - p) * fp;
    let (sc, r) = run(&text("on_flag = \"escalate\"\nescalate_to = \"review\"", 41));
    assert_ci(
        "judge + review escape rate",
        &metric(&r, 0, M::escape_rate),
        (1.0 - d) + d * 0.4,
    );
    let utilization = lambda * flagged * service / c;
    assert_ci(
        "review utilization from the judge's escalations",
        &metric(&r, 0, M::reviewer_utilization),
        utilization,
    );
    // The load rule (validate's overload warning) counts the judge's escalations.
    let policy = &sc.policies[0];
    let load = oversim::stages::LoadAt {
        lambda,
        classes: &sc.workload.classes,
        stages: &policy.stages,
        index: 1,
    };
    let rule = policy.stages[1].kind.offered_load(&policy.stages[1], &load);
    assert!(
        rule.is_some_and(|rho| (rho - utilization).abs() < 1e-12),
        "offered load {rule:?}, closed form {utilization}"
    );
    assert_ci(
        "judge cost per run",
        &metric(&r, 0, M::cost_stages),
        cost * lambda * horizon,
    );

    let (_, r) = run(&text("on_flag = \"reject\"", 42));
    assert_ci("judge alone escape rate", &metric(&r, 0, M::escape_rate), 1.0 - d);
    for latency in metric(&r, 0, M::latency_mean_min) {
        assert!(
            (latency - 2.0).abs() < 1e-9,
            "latency {latency} min, not the judge's 2 min"
        );
    }
}
