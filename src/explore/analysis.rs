//! What an exploration's runs say across the uncertainty: each policy's outcomes over the
//! draws, the probability that each policy is best (and beats each other), the
//! sensitivity indices of every outcome and paired difference, and sentences that say
//! what would flip the choice.
//!
//! Probabilities are over the design's independent draws of the inputs (the A and B sets
//! of a Sobol design, every set of a Latin hypercube). At each draw a policy's value is the
//! mean of its replications, so a probability includes the replication noise left in those
//! means; ties count as shared (half to each of two), so `p_best` sums to 1 over policies.
//! Its standard error is the binomial √(p(1−p)/n) of n independent draws; Sobol draws are
//! more even than independent ones, so it is conservative. Each probability also carries
//! an exact (Clopper–Pearson) 95% interval, from the wins rounded down for the lower bound
//! and up for the upper (shared ties make them fractional): "best in 32 of 32 draws" is
//! not "certainly best", and the interval says how far it is from that.

use crate::metrics::{Direction, M};
use crate::stats::{clopper_pearson, quantiles};

pub use super::choice::Choice;
use super::choice::{choices, constrained};
use super::design::DesignKind;
use super::fold::{outputs, Folded};
use super::sensitivity::{indices_of, Bootstrap, Indices};
use super::Exploration;

/// Level of the sensitivity intervals.
pub const LEVEL: f64 = 0.95;

/// What a standing ranks policies on at each draw: a metric's mean over the draw's
/// replications, or its bad month (the worse 5% quantile over them: `harm_p95`, named as a
/// `[decision]` constraint names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Mean(M),
    BadMonth(M),
}

/// The metrics whose bad month an exploration ranks too: the tail a board asks about.
pub const BAD_MONTHS: &[M] = &[M::harm];

impl Outcome {
    pub fn name(self) -> String {
        match self {
            Outcome::Mean(m) => m.name().to_string(),
            Outcome::BadMonth(m) => format!("{}_{}", m.name(), Self::bad_quantile(m).1),
        }
    }

    pub fn metric(self) -> M {
        match self {
            Outcome::Mean(m) | Outcome::BadMonth(m) => m,
        }
    }

    /// The bad month's quantile and its suffix: the 95th percentile where lower is better,
    /// the 5th where higher is.
    fn bad_quantile(m: M) -> (f64, &'static str) {
        match m.direction() {
            Some(Direction::Higher) => (0.05, "p05"),
            Some(Direction::Lower) | None => (0.95, "p95"),
        }
    }

    /// The outcome at one draw, from its replications' values.
    pub(super) fn of(self, v: Vec<f64>) -> f64 {
        match self {
            Outcome::Mean(_) => mean(&v),
            _ if v.iter().any(|x| x.is_nan()) => f64::NAN,
            Outcome::BadMonth(m) => quantiles(v, [Self::bad_quantile(m).0])[0],
        }
    }
}

/// One policy's standing on one outcome across the uncertainty.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub metric: Outcome,
    pub policy: usize,
    pub p_best: f64,
    pub p_best_se: f64,
    /// Exact 95% bounds on `p_best`.
    pub p_best_low: f64,
    pub p_best_high: f64,
    /// The policy's value over the draws: mean and 5/50/95% quantiles.
    pub mean: f64,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
}

/// How often `policy` beats `versus` on `metric`, and by how much.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub metric: M,
    pub policy: usize,
    pub versus: usize,
    pub p_beats: f64,
    pub p_beats_se: f64,
    /// Exact 95% bounds on `p_beats`.
    pub p_beats_low: f64,
    pub p_beats_high: f64,
    /// `policy − versus` over the draws: mean and 5/95% quantiles.
    pub mean: f64,
    pub p05: f64,
    pub p95: f64,
}

/// What is analysed for sensitivity: a policy's metric, or its paired difference from the
/// baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Policy(usize),
    Difference(usize),
}

/// The indices of one output of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Sensitivity {
    pub metric: M,
    pub output: Output,
    pub indices: Indices,
}

/// Everything the exploration's files and report are made from.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub standings: Vec<Standing>,
    /// The decision's choice under its constraints, per policy and for none.
    pub choices: Vec<Choice>,
    /// The constraints the choices are judged on (`[decision]`'s, as written).
    pub constraints: Vec<String>,
    pub pairs: Vec<Pair>,
    pub sensitivity: Vec<Sensitivity>,
    pub baseline: usize,
    /// Independent draws used for probabilities.
    pub draws: usize,
}

pub(super) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// A probability from `wins` of `n` draws: (p, standard error, exact 95% low, high).
pub(super) fn share(wins: f64, n: usize) -> (f64, f64, f64, f64) {
    let p = wins / n as f64;
    let (low, _) = clopper_pearson(wins.floor() as usize, n, 0.95);
    let (_, high) = clopper_pearson(wins.ceil() as usize, n, 0.95);
    (p, (p * (1.0 - p) / n as f64).sqrt(), low, high)
}

/// Analyses the runs of an exploration without a map.
pub fn analyse(ex: &Exploration, folded: &Folded) -> Analysis {
    let n_pol = folded.sets[0].policies();
    let draws = ex.design.draws();
    let baseline = folded.baseline;
    let mut standings = Vec::new();
    let mut pairs = Vec::new();
    let outcomes =
        (M::ALL.iter().map(|&m| Outcome::Mean(m))).chain(BAD_MONTHS.iter().map(|&m| Outcome::BadMonth(m)));
    for o in outcomes {
        let m = o.metric();
        let Some(dir) = m.direction() else { continue };
        // f[p][d]: policy p's outcome at draw d; NaN where undefined in some replication.
        let f: Vec<Vec<f64>> = (0..n_pol)
            .map(|p| draws.iter().map(|&s| folded.sets[s].outcome(o, p)).collect())
            .collect();
        let defined = (0..draws.len()).filter(|&d| f.iter().all(|fp| !fp[d].is_nan()));
        let defined: Vec<usize> = defined.collect();
        if defined.is_empty() {
            continue;
        }
        let mut wins = vec![0.0; n_pol];
        for &d in &defined {
            let col: Vec<f64> = f.iter().map(|fp| fp[d]).collect();
            let best = col[super::best_index(&col, dir)];
            let tied: Vec<usize> = (0..n_pol).filter(|&p| col[p] == best).collect();
            for &p in &tied {
                wins[p] += 1.0 / tied.len() as f64;
            }
        }
        for p in 0..n_pol {
            let v: Vec<f64> = defined.iter().map(|&d| f[p][d]).collect();
            let (p_best, p_best_se, p_best_low, p_best_high) = share(wins[p], defined.len());
            let mean = mean(&v);
            let [p05, p50, p95] = quantiles(v, [0.05, 0.5, 0.95]);
            standings.push(Standing {
                metric: o,
                policy: p,
                p_best,
                p_best_se,
                p_best_low,
                p_best_high,
                mean,
                p05,
                p50,
                p95,
            });
        }
        if o != Outcome::Mean(m) {
            continue;
        }
        for p in 0..n_pol {
            for q in (0..n_pol).filter(|&q| q != p) {
                let d: Vec<f64> = defined.iter().map(|&i| f[p][i] - f[q][i]).collect();
                let beats: f64 = (defined.iter())
                    .map(|&i| match (dir.better(f[p][i], f[q][i]), f[p][i] == f[q][i]) {
                        (true, _) => 1.0,
                        (false, true) => 0.5,
                        (false, false) => 0.0,
                    })
                    .sum();
                let (p_beats, p_beats_se, p_beats_low, p_beats_high) = share(beats, defined.len());
                let mean = mean(&d);
                let [p05, p95] = quantiles(d, [0.05, 0.95]);
                pairs.push(Pair {
                    metric: m,
                    policy: p,
                    versus: q,
                    p_beats,
                    p_beats_se,
                    p_beats_low,
                    p_beats_high,
                    mean,
                    p05,
                    p95,
                });
            }
        }
    }
    let sensitivity = match ex.design.kind {
        DesignKind::Lhs => Vec::new(),
        DesignKind::Sobol => sensitivities(ex, folded, n_pol, baseline),
    };
    let decision = &ex.plan.base().decision;
    Analysis {
        standings,
        choices: choices(ex, folded, n_pol),
        constraints: decision.constraints.iter().map(|c| c.text.clone()).collect(),
        pairs,
        sensitivity,
        baseline,
        draws: draws.len(),
    }
}

fn sensitivities(ex: &Exploration, folded: &Folded, n_pol: usize, baseline: usize) -> Vec<Sensitivity> {
    let boot = Bootstrap::new(ex.design.n, ex.spec.bootstrap, ex.plan.base().run.seed);
    let mut out = Vec::new();
    for (o, (metric, output)) in outputs(n_pol, baseline).into_iter().enumerate() {
        // An output undefined in some replication (no terms at some base point) has no
        // variance to share out.
        let Some(at) = folded.terms(o) else {
            continue;
        };
        if let Some(indices) = indices_of(&ex.design, &at, &boot, LEVEL) {
            out.push(Sensitivity {
                metric,
                output,
                indices,
            });
        }
    }
    out
}

/// Sentences on the decision metric: which policy is best how often, what moves each
/// difference most, and where an input flips the sign of a difference.
pub fn sentences(ex: &Exploration, folded: &Folded, a: &Analysis) -> Vec<String> {
    let m = ex.metric;
    let dir = m.direction().expect("a decision metric has a direction");
    let names = ex.policies();
    let mut out = Vec::new();
    let mut st: Vec<&Standing> = (a.standings.iter())
        .filter(|s| s.metric == Outcome::Mean(m))
        .collect();
    st.sort_by(|x, y| y.p_best.total_cmp(&x.p_best));
    if let Some(top) = st.first() {
        let rest: Vec<String> = (st.iter().skip(1))
            .map(|s| format!("`{}` in {}", names[s.policy], pct(s.p_best)))
            .collect();
        out.push(format!(
            "Across the uncertainty ({} draws), `{}` is best on {} ({} is better) in {}{}.",
            a.draws,
            names[top.policy],
            m.name(),
            dir.label(),
            how_often(top.p_best, top.p_best_low, top.p_best_high, a.draws),
            if rest.is_empty() {
                String::new()
            } else {
                format!("; {}", rest.join(", "))
            }
        ));
    }
    out.extend(disagreement(a, &names, m));
    out.extend(constrained(a, &names, m));
    for p in (0..names.len()).filter(|&p| p != a.baseline) {
        let b = a.baseline;
        if let Some(pair) = a
            .pairs
            .iter()
            .find(|x| x.metric == m && x.policy == p && x.versus == b)
        {
            out.push(format!(
                "`{}` beats `{}` on {} in {}; the difference ranges from {} to {} (5% to 95% of draws).",
                names[p],
                names[b],
                m.name(),
                how_often(pair.p_beats, pair.p_beats_low, pair.p_beats_high, a.draws),
                num(pair.p05),
                num(pair.p95)
            ));
        }
        let Some(sens) = (a.sensitivity.iter()).find(|s| s.metric == m && s.output == Output::Difference(p))
        else {
            continue;
        };
        let mut order: Vec<usize> = (0..ex.inputs.len()).collect();
        order.sort_by(|&i, &j| sens.indices.total[j].est.total_cmp(&sens.indices.total[i].est));
        let top: Vec<String> = (order.iter().take(3))
            .map(|&i| {
                let t = sens.indices.total[i];
                let interval = match super::sensitivity::points_needed(t, ex.design.n) {
                    None => format!("{:.2} to {:.2}", t.low, t.high),
                    Some(n) => format!("too few points for an interval: about {n} base points would do"),
                };
                let way = match sens.indices.correlation[i] {
                    c if c > 0.1 => ", higher raises it",
                    c if c < -0.1 => ", higher lowers it",
                    _ => "",
                };
                format!(
                    "{} (total index {:.2}, {interval}{way})",
                    ex.inputs[i].path, t.est
                )
            })
            .collect();
        out.push(format!(
            "What moves `{}` − `{}` on {} most: {}. Replication noise is {} of its variance.",
            names[p],
            names[b],
            m.name(),
            top.join("; "),
            pct(sens.indices.noise.est)
        ));
        if let Some(flip) = flip(ex, folded, p, b, order[0]) {
            out.push(flip);
        }
    }
    out
}

/// The outcomes a decision weighs besides its metric: which policy is most often best on
/// each, and whether they agree with the decision metric.
const OUTCOMES: &[Outcome] = &[
    Outcome::Mean(M::net_value),
    Outcome::Mean(M::harm),
    Outcome::BadMonth(M::harm),
    Outcome::Mean(M::escapes_per_1k),
    Outcome::Mean(M::latency_p95_min),
    Outcome::Mean(M::throughput_per_hour),
];

fn disagreement(a: &Analysis, names: &[String], m: M) -> Option<String> {
    let most = |metric: Outcome| {
        (a.standings.iter())
            .filter(|s| s.metric == metric)
            .max_by(|x, y| x.p_best.total_cmp(&y.p_best))
            .map(|s| (s.policy, s.p_best))
    };
    let (lead, _) = most(Outcome::Mean(m))?;
    let others: Vec<(Outcome, usize, f64)> = (OUTCOMES.iter())
        .filter(|&&o| o != Outcome::Mean(m))
        .filter_map(|&o| most(o).map(|(p, share)| (o, p, share)))
        .collect();
    if others.is_empty() {
        return None;
    }
    let list: Vec<String> = (others.iter())
        .map(|(o, p, share)| format!("{} `{}` ({})", o.name(), names[*p], pct(*share)))
        .collect();
    let differ: Vec<String> = (others.iter())
        .filter(|(_, p, _)| *p != lead)
        .map(|(o, _, _)| o.name())
        .collect();
    Some(format!(
        "Most often best on the other outcomes: {}; {}.",
        list.join(", "),
        match differ.is_empty() {
            true => format!("they agree with {}", m.name()),
            false => format!(
                "{} {} with {}'s `{}`, so the choice trades {} away",
                differ.join(" and "),
                if differ.len() == 1 {
                    "disagrees"
                } else {
                    "disagree"
                },
                m.name(),
                names[lead],
                if differ.len() == 1 { "it" } else { "them" }
            ),
        }
    ))
}

/// Where input `i` flips the sign of `p − b` on the decision metric: the mean difference in
/// five equal-probability bins of the input, over the draws (the other inputs averaged).
fn flip(ex: &Exploration, folded: &Folded, p: usize, b: usize, i: usize) -> Option<String> {
    const BINS: usize = 5;
    let m = ex.metric;
    let dir = m.direction()?;
    let names = ex.policies();
    let mut sum = [0.0; BINS];
    let mut count = [0usize; BINS];
    for s in ex.design.draws() {
        let u = ex.design.rows[s][i];
        let k = ((u * BINS as f64) as usize).min(BINS - 1);
        let d = folded.sets[s].mean(p, m) - folded.sets[s].mean(b, m);
        if !d.is_nan() {
            sum[k] += d;
            count[k] += 1;
        }
    }
    if count.contains(&0) {
        return None;
    }
    let means: Vec<f64> = sum.iter().zip(&count).map(|(s, &c)| s / c as f64).collect();
    let wins: Vec<bool> = means.iter().map(|&d| dir.better(d, 0.0)).collect();
    if wins.iter().all(|&w| w) || wins.iter().all(|&w| !w) {
        return None;
    }
    let input = &ex.inputs[i];
    let edge = |k: usize| -> String {
        match input.number((k as f64 / BINS as f64).min(1.0 - 1e-15)) {
            Some(x) => num(x) + &input.unit,
            None => format!("{} of its range", pct(k as f64 / BINS as f64)),
        }
    };
    // Runs of adjacent winning bins, as value ranges.
    let mut ranges: Vec<String> = Vec::new();
    let mut k = 0;
    while k < BINS {
        if !wins[k] {
            k += 1;
            continue;
        }
        let start = k;
        while k < BINS && wins[k] {
            k += 1;
        }
        ranges.push(format!("{} to {}", edge(start), edge(k)));
    }
    Some(format!(
        "The choice flips with {}: `{}` beats `{}` on {} on average where it is {} (fifths of its distribution, other inputs averaged), and loses elsewhere.",
        input.path,
        names[p],
        names[b],
        m.name(),
        ranges.join(" or ")
    ))
}

/// "all 32 draws (it lost in none; 95% upper bound on losing 9%)", "75% of draws (95%
/// interval 57% to 89%)": a share of draws with its exact bounds. At 0 or 1 the bound is
/// one-sided (1 − 0.05^(1/n)), as "lost in none of n" asks.
pub fn how_often(p: f64, low: f64, high: f64, n: usize) -> String {
    let one_sided = 1.0 - libm::pow(0.05, 1.0 / n as f64);
    if p == 1.0 {
        format!(
            "all {n} draws (lost in none; 95% upper bound on losing {})",
            pct(one_sided)
        )
    } else if p == 0.0 {
        format!("none of {n} draws (95% upper bound {})", pct(one_sided))
    } else {
        format!("{} of draws (95% interval {} to {})", pct(p), pct(low), pct(high))
    }
}

pub fn pct(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

pub fn num(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}
