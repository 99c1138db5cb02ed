//! The decision a run supports (`[decision]`): the metric to choose by (default `net_value`)
//! and constraints such as `"harm_p95 <= 250000"`, each judged with its 95% interval as met,
//! not met or uncertain. The best policy is the one that meets every constraint and does
//! best on the metric; decision.csv ranks the policies at every sweep point, and the verdict
//! says it in a sentence or two, with the margins and what is uncertain ([`verdict`]).

mod verdict;

pub use verdict::{verdict, verdicts};

use serde::{Deserialize, Serialize};

use crate::experiment::{PointRun, RunData};
use crate::metrics::{Direction, M};
use crate::production::Who;
use crate::stats::{quantiles, summarize, summarize_indicator, Summary};

/// Which number of a metric a constraint bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    /// The mean over replications (a probability, for a 0/1 metric).
    Mean,
    /// A quantile over replications: the bad months (`_p95`) or the good ones (`_p05`).
    Quantile(f64),
    /// Every replication's value: a duty is kept only if no replication breaks it.
    Every,
}

/// `<=` or `>=` (`<` and `>` read the same: intervals are continuous).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    AtMost,
    AtLeast,
}

/// One constraint: `metric[_p05|_p50|_p95] <= value` or `>= value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    pub text: String,
    pub metric: M,
    pub statistic: Statistic,
    pub bound: Bound,
    pub value: f64,
}

/// The scenario's `[decision]` (or the default: net value, no constraints).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub metric: M,
    pub constraints: Vec<Constraint>,
    /// The policy an agent policy must beat (`status_quo = "by-hand"`); when absent, the
    /// one policy whose work is done by hand, or else the baseline.
    pub status_quo: Option<String>,
}

impl Default for Decision {
    fn default() -> Decision {
        Decision {
            metric: M::net_value,
            constraints: Vec::new(),
            status_quo: None,
        }
    }
}

impl Decision {
    /// The index of the status quo among `scenario`'s policies: `status_quo` if it names
    /// one, else the only policy done by hand, else `baseline`.
    pub fn status_quo(&self, scenario: &crate::scenario::Scenario, baseline: usize) -> usize {
        let policies = &scenario.policies;
        if let Some(i) = (self.status_quo.as_ref()).and_then(|n| policies.iter().position(|p| &p.name == n)) {
            return i;
        }
        let classes = scenario.workload.classes.len();
        let by_hand: Vec<usize> = (0..policies.len())
            .filter(|&i| policies[i].work.all_by_hand(classes))
            .collect();
        match by_hand[..] {
            [only] => only,
            _ => baseline,
        }
    }
}

/// What a constraint's grammar allows, for messages.
pub const CONSTRAINT_HELP: &str = "a constraint is \"METRIC <= NUMBER\" or \"METRIC >= NUMBER\", where METRIC is a metric column (its mean) or one with _p05, _p50 or _p95 (that percentile over replications), e.g. \"harm_p95 <= 250000\", \"reviewer_hours <= 2000\", \"any_severe <= 0.05\"";

impl Constraint {
    /// The constraint the classes' duties set, if any class has one: no action of theirs
    /// is released without a person's review, in any replication (`duty_breaches` is 0 in
    /// every one). Its text names each duty and its classes.
    pub fn duties(classes: &[crate::workload::Class]) -> Option<Constraint> {
        let duties = duties(classes);
        (!duties.is_empty()).then(|| {
            let each: Vec<String> = (duties.iter())
                .flat_map(|d| {
                    d.classes
                        .iter()
                        .map(|&c| format!("{} ({})", classes[c].name, d.name))
                })
                .collect();
            Constraint {
                text: format!(
                    "a person reviews each action of {} before release",
                    each.join(", ")
                ),
                metric: M::duty_breaches,
                statistic: Statistic::Every,
                bound: Bound::AtMost,
                value: 0.0,
            }
        })
    }

    /// Reads `harm_p95 <= 250000`.
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let (at, op) = ["<=", ">=", "<", ">"]
            .iter()
            .find_map(|op| text.find(op).map(|i| (i, *op)))
            .ok_or_else(|| format!("`{text}` has no <= or >=; {CONSTRAINT_HELP}"))?;
        let (name, number) = (text[..at].trim(), text[at + op.len()..].trim());
        let value: f64 = number
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("`{number}` in `{text}` is not a number; {CONSTRAINT_HELP}"))?;
        let (base, statistic) = match name.rsplit_once('_') {
            Some((b, "p05")) => (b, Statistic::Quantile(0.05)),
            Some((b, "p50")) => (b, Statistic::Quantile(0.5)),
            Some((b, "p95")) if !M::ALL.iter().any(|m| m.name() == name) => (b, Statistic::Quantile(0.95)),
            _ => (name, Statistic::Mean),
        };
        let metric = (M::ALL.iter().copied())
            .find(|m| m.name() == base)
            .ok_or_else(|| {
                crate::input::unknown(
                    format!("`{name}` in `{text}` is not a metric"),
                    base,
                    crate::metrics::NAMES,
                    Some("metrics are"),
                )
            })?;
        let bound = if op.starts_with('<') {
            Bound::AtMost
        } else {
            Bound::AtLeast
        };
        Ok(Constraint {
            text: text.trim().to_string(),
            metric,
            statistic,
            bound,
            value,
        })
    }

    /// The estimate and its 95% interval from one policy's replications: the mean's (exact
    /// binomial for a 0/1 metric) or the quantile's (distribution-free, from order
    /// statistics; an end that the replications cannot bound is infinite).
    fn estimate(&self, values: &[f64]) -> (f64, f64, f64) {
        let v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        match self.statistic {
            Statistic::Mean => {
                let s = summary_of(self.metric, &v);
                (s.mean, s.ci_low, s.ci_high)
            }
            Statistic::Quantile(q) => {
                let [est] = quantiles(v.clone(), [q]);
                let (lo, hi) = quantile_interval(v, q);
                (est, lo, hi)
            }
            Statistic::Every => {
                let s = summary_of(self.metric, &v);
                (s.mean, s.ci_low, s.ci_high)
            }
        }
    }

    /// Whether `x` is on the allowed side of the bound.
    fn allows(&self, x: f64) -> bool {
        match self.bound {
            Bound::AtMost => x <= self.value,
            Bound::AtLeast => x >= self.value,
        }
    }

    /// Whether the estimate from `values` meets the bound (an exploration's draw has a few
    /// replications, too few for an interval to settle it); for [`Statistic::Every`],
    /// whether every replication does.
    pub fn holds(&self, values: &[f64]) -> bool {
        match self.statistic {
            Statistic::Every => values.iter().all(|&x| self.allows(x)),
            Statistic::Mean | Statistic::Quantile(_) => self.allows(self.estimate(values).0),
        }
    }

    /// Met, not met or uncertain, with the estimate and interval it was judged on. A
    /// constraint on every replication is met when each replication meets it and not met
    /// when one does not: what happened is not uncertain.
    pub fn judge(&self, values: &[f64]) -> (Judgement, f64, f64, f64) {
        let (est, lo, hi) = self.estimate(values);
        if self.statistic == Statistic::Every {
            let j = match self.holds(values) {
                true => Judgement::Met,
                false => Judgement::NotMet,
            };
            return (j, est, lo, hi);
        }
        let j = match self.bound {
            _ if !(lo.is_finite() || hi.is_finite()) => Judgement::Uncertain,
            Bound::AtMost if hi <= self.value => Judgement::Met,
            Bound::AtMost if lo > self.value => Judgement::NotMet,
            Bound::AtLeast if lo >= self.value => Judgement::Met,
            Bound::AtLeast if hi < self.value => Judgement::NotMet,
            _ => Judgement::Uncertain,
        };
        (j, est, lo, hi)
    }
}

/// A duty on some classes: a person reviews each of their actions before release.
#[derive(Debug, Clone, PartialEq)]
pub struct Duty {
    /// What sets it (`"GDPR Art. 22"`), as the classes' `duty` says.
    pub name: String,
    /// The classes it binds, by index, in the scenario's order.
    pub classes: Vec<usize>,
}

/// The classes' duties, each once, in the order the classes first name them.
pub fn duties(classes: &[crate::workload::Class]) -> Vec<Duty> {
    let mut out: Vec<Duty> = Vec::new();
    for (c, class) in classes.iter().enumerate() {
        let Some(name) = &class.duty else { continue };
        match out.iter_mut().find(|d| &d.name == name) {
            Some(d) => d.classes.push(c),
            None => out.push(Duty {
                name: name.clone(),
                classes: vec![c],
            }),
        }
    }
    out
}

/// A metric's summary over replications: the exact interval for a 0/1 metric.
fn summary_of(m: M, values: &[f64]) -> Summary {
    match m.is_indicator() {
        true => summarize_indicator(values.iter().copied(), 0.95),
        false => summarize(values.iter().copied()),
    }
}

/// The distribution-free 95% interval of the `q` quantile: order statistics whose ranks
/// come from Binomial(n, q) (the rank of the quantile among n draws). An end beyond the
/// sample is infinite: 20 replications cannot bound a 95th percentile from above.
fn quantile_interval(mut v: Vec<f64>, q: f64) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    // P(B ≤ k) for B ~ Binomial(n, q), by the same exact binomial as the interval of a
    // probability: P(B ≤ k) < a  ⇔  q above the upper end of k events in n.
    let cdf = |k: usize| -> f64 {
        let mut log_c = 0.0;
        let mut total = 0.0;
        for x in 0..=k.min(n) {
            if x > 0 {
                log_c += libm::log((n - x + 1) as f64) - libm::log(x as f64);
            }
            total += libm::exp(log_c + x as f64 * libm::log(q) + (n - x) as f64 * libm::log(1.0 - q));
        }
        total
    };
    let a = 0.025;
    // Lower: the largest l with P(B < l) ≤ a, i.e. x_(l) (1-based) is below the quantile
    // with probability ≥ 1 − a; upper: the smallest u with P(B < u) ≥ 1 − a.
    let lower = (1..=n).take_while(|&l| cdf(l - 1) <= a).last();
    let upper = (1..=n).find(|&u| cdf(u - 1) >= 1.0 - a);
    (
        lower.map_or(f64::NEG_INFINITY, |l| v[l - 1]),
        upper.map_or(f64::INFINITY, |u| v[u - 1]),
    )
}

/// How a constraint stands for a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    Met,
    NotMet,
    Uncertain,
}

impl Judgement {
    pub fn label(self) -> &'static str {
        match self {
            Judgement::Met => "met",
            Judgement::NotMet => "not met",
            Judgement::Uncertain => "uncertain",
        }
    }
}

/// Key of a decision.csv row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionKey {
    pub policy: String,
}

/// A decision.csv row: a policy at a sweep point, its rank among the policies that meet
/// every constraint, the decision metric, and paired differences to the best policy and to
/// the status quo (the baseline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRow {
    /// Who does the policy's work: `agent`, `people` (all by hand) or `agent and people`
    /// (people do some classes).
    pub by: Who,
    /// The status quo the others must beat (`yes`; empty for the others).
    #[serde(with = "crate::field::yes_or_empty")]
    pub status_quo: bool,
    /// 1 = best among the policies that meet every constraint; empty for the others.
    pub rank: Option<usize>,
    /// `yes` (every constraint met), `no` (one not met) or `uncertain` (none failed, one
    /// not settled by its interval).
    pub feasible: String,
    pub metric: String,
    /// The metric's unit and period (`USD per 30d`), from `[costs]` and the horizon.
    pub unit: String,
    #[serde(with = "crate::field")]
    pub mean: f64,
    #[serde(with = "crate::field")]
    pub ci_low: f64,
    #[serde(with = "crate::field")]
    pub ci_high: f64,
    /// A bad month: the metric's worse 5% quantile over replications (the 5th percentile
    /// where higher is better, the 95th where lower is).
    #[serde(with = "crate::field")]
    pub bad_month: f64,
    /// This policy − the best, paired over replications, with its 95% interval.
    #[serde(with = "crate::field")]
    pub vs_best: f64,
    #[serde(with = "crate::field")]
    pub vs_best_low: f64,
    #[serde(with = "crate::field")]
    pub vs_best_high: f64,
    /// This policy − the status quo (the baseline), paired.
    #[serde(with = "crate::field")]
    pub vs_status_quo: f64,
    #[serde(with = "crate::field")]
    pub vs_status_quo_low: f64,
    #[serde(with = "crate::field")]
    pub vs_status_quo_high: f64,
    /// Each constraint: `harm_p95 <= 250000: met (182000 [150000 .. 230000])`, `; `-separated.
    pub constraints: String,
    /// The duties the policy breaks, with how often: `GDPR Art. 22 (high-impact: 41.2
    /// released unreviewed per 30d, in 20 of 20 replications)`, `; `-separated; empty when
    /// it breaks none.
    pub duties_broken: String,
}

/// The paired difference a − b of metric `m` over the replications where both are
/// defined (Newcombe's interval for a 0/1 metric).
fn paired(m: M, a: &[f64], b: &[f64]) -> Summary {
    let pairs: Vec<(f64, f64)> = a.iter().copied().zip(b.iter().copied()).collect();
    crate::stats::summarize_paired(&pairs, m.is_indicator())
}

/// The decision at one point: a row per policy, in the scenario's order.
pub fn decide(pt: &PointRun, baseline: usize, d: &Decision) -> Vec<DecisionRow> {
    let status_quo = d.status_quo(&pt.scenario, baseline);
    let duties = duties(&pt.scenario.workload.classes);
    let values =
        |p: usize, m: M| -> Vec<f64> { pt.results.per_policy[p].iter().map(|r| r.metrics[m]).collect() };
    let n = pt.scenario.policies.len();
    let mut rows: Vec<DecisionRow> = (0..n)
        .map(|p| {
            let judged: Vec<(Judgement, String)> = (d.constraints.iter())
                .map(|c| {
                    let (j, est, lo, hi) = c.judge(&values(p, c.metric));
                    let text = format!(
                        "{}: {} ({} [{} .. {}])",
                        c.text,
                        j.label(),
                        num(est),
                        num(lo),
                        num(hi)
                    );
                    (j, text)
                })
                .collect();
            let feasible = if judged.iter().any(|(j, _)| *j == Judgement::NotMet) {
                "no"
            } else if judged.iter().any(|(j, _)| *j == Judgement::Uncertain) {
                "uncertain"
            } else {
                "yes"
            };
            let s = summary_of(d.metric, &values(p, d.metric));
            let sq = paired(d.metric, &values(p, d.metric), &values(status_quo, d.metric));
            let worse = match d.metric.direction() {
                Some(Direction::Lower) => 0.95,
                _ => 0.05,
            };
            let defined: Vec<f64> = values(p, d.metric).into_iter().filter(|x| !x.is_nan()).collect();
            let [bad_month] = if defined.is_empty() {
                [f64::NAN]
            } else {
                quantiles(defined, [worse])
            };
            DecisionRow {
                by: (pt.scenario.policies[p].work).who(pt.scenario.workload.classes.len()),
                status_quo: p == status_quo,
                rank: None,
                feasible: feasible.to_string(),
                metric: d.metric.name().to_string(),
                unit: pt
                    .scenario
                    .costs
                    .unit(d.metric, &crate::units::format_hours(pt.scenario.run.horizon)),
                mean: s.mean,
                ci_low: s.ci_low,
                ci_high: s.ci_high,
                bad_month,
                vs_best: f64::NAN,
                vs_best_low: f64::NAN,
                vs_best_high: f64::NAN,
                vs_status_quo: sq.mean,
                vs_status_quo_low: sq.ci_low,
                vs_status_quo_high: sq.ci_high,
                constraints: judged.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join("; "),
                duties_broken: broken(pt, p, &duties),
            }
        })
        .collect();
    let better = |a: f64, b: f64| match d.metric.direction() {
        Some(Direction::Lower) => a < b,
        _ => a > b,
    };
    let mut feasible: Vec<usize> = (0..n)
        .filter(|&p| rows[p].feasible == "yes" && rows[p].mean.is_finite())
        .collect();
    feasible.sort_by(|&a, &b| {
        let (x, y) = (rows[a].mean, rows[b].mean);
        if better(x, y) {
            std::cmp::Ordering::Less
        } else if better(y, x) {
            std::cmp::Ordering::Greater
        } else {
            a.cmp(&b)
        }
    });
    for (rank, &p) in feasible.iter().enumerate() {
        rows[p].rank = Some(rank + 1);
    }
    if let Some(&best) = feasible.first() {
        for (p, row) in rows.iter_mut().enumerate() {
            let s = paired(d.metric, &values(p, d.metric), &values(best, d.metric));
            (row.vs_best, row.vs_best_low, row.vs_best_high) = (s.mean, s.ci_low, s.ci_high);
        }
    }
    rows
}

/// The duties policy `p` breaks at a point, with how many actions of each duty's classes it
/// released unreviewed (a mean over the replications) and in how many replications; empty
/// when it breaks none. A run keeps each replication's class rows, which say whose duty.
fn broken(pt: &PointRun, p: usize, duties: &[Duty]) -> String {
    let reps = &pt.results.per_policy[p];
    let period = crate::units::format_hours(pt.scenario.run.horizon);
    let each: Vec<String> = (duties.iter())
        .filter_map(|d| {
            let per_rep: Vec<u64> = (reps.iter())
                .map(|r| d.classes.iter().map(|&c| r.classes[c].duty_breaches).sum())
                .collect();
            let hit = per_rep.iter().filter(|&&x| x > 0).count();
            let mean = per_rep.iter().sum::<u64>() as f64 / reps.len().max(1) as f64;
            let names: Vec<&str> = (d.classes.iter())
                .map(|&c| pt.scenario.workload.classes[c].name.as_str())
                .collect();
            (hit > 0).then(|| {
                format!(
                    "{} ({}: {} released unreviewed per {period}, in {hit} of {} replications)",
                    d.name,
                    names.join(", "),
                    num(mean),
                    reps.len()
                )
            })
        })
        .collect();
    each.join("; ")
}

/// Every point's decision rows (by the point's `[decision]`).
pub fn decisions(run: &RunData) -> Vec<Vec<DecisionRow>> {
    (run.points.iter())
        .map(|pt| decide(pt, run.baseline, &pt.scenario.decision))
        .collect()
}

/// A number in a sentence or a constraint's note: three significant digits, or whole units.
pub(crate) fn num(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 { "∞".into() } else { "−∞".into() };
    }
    crate::report::table::sig3(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_parse() {
        let c = Constraint::parse("harm_p95 <= 250000").unwrap();
        assert_eq!(
            (c.metric, c.statistic, c.bound, c.value),
            (M::harm, Statistic::Quantile(0.95), Bound::AtMost, 250000.0)
        );
        let c = Constraint::parse("any_severe<=0.05").unwrap();
        assert_eq!((c.metric, c.statistic), (M::any_severe, Statistic::Mean));
        let c = Constraint::parse("throughput_per_hour >= 30").unwrap();
        assert_eq!(c.bound, Bound::AtLeast);
        // A metric whose own name ends in _p95 is that metric's mean.
        let c = Constraint::parse("latency_p95_min <= 60").unwrap();
        assert_eq!((c.metric, c.statistic), (M::latency_p95_min, Statistic::Mean));
        assert!(Constraint::parse("harm = 3").unwrap_err().contains("no <= or >="));
        assert!(Constraint::parse("harm <= lots")
            .unwrap_err()
            .contains("not a number"));
        assert!(Constraint::parse("harms <= 3")
            .unwrap_err()
            .contains("did you mean `harm`"));
    }

    #[test]
    fn quantile_interval_covers() {
        // The 95th percentile of 1..=100: x_(91) .. x_(99) (ranks from Binomial(100, 0.95)).
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let (lo, hi) = quantile_interval(v, 0.95);
        assert!(
            (89.0..=92.0).contains(&lo) && (98.0..=100.0).contains(&hi),
            "{lo} {hi}"
        );
        // Twenty replications cannot bound a 95th percentile from above.
        let (_, hi) = quantile_interval((1..=20).map(f64::from).collect(), 0.95);
        assert!(hi.is_infinite());
    }
}
