//! Break-evens: for each `[uncertain]` input alone, the others at their written values,
//! the value at which the choice between two policies flips on the decision metric.
//!
//! The pair is the best policy and the runner-up at the written values (or one the user
//! names). Each input is set to [`GRID`] values evenly spaced over its range (the 5% to 95%
//! quantiles of an unbounded distribution); the paired difference `policy − against` is
//! measured at each, over the same replications (common random numbers), with its
//! Student-t 95% interval. Where the mean difference changes sign between two grid values,
//! [`REFINE`] more values are run between them, and the flip is where the piecewise-linear
//! mean crosses zero. Its interval is where the difference's interval contains zero around
//! that crossing (the inverse of the pointwise intervals, as in inverse prediction): the
//! input values at which the data cannot tell which policy is better. Staffing rules are
//! solved at every value, as at every point of a run.

use serde::{Deserialize, Serialize};

use crate::experiment::{load_points, Plan, RunData};
use crate::metrics::{Direction, M};
use crate::scenario::{Override, ScenarioError, Uncertain};
use crate::stats::summarize_paired;

/// Values per input on the first pass.
pub const GRID: usize = 9;
/// Values added inside the bracket of a flip.
pub const REFINE: usize = 4;

/// The pair a break-even is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub policy: usize,
    pub against: usize,
}

/// Key of a breakeven.csv row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakEvenKey {
    pub metric: String,
    pub policy: String,
    pub against: String,
    pub input: String,
}

/// What one input does to the pair's choice: a row of breakeven.csv.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakEven {
    /// `flips`, `no flip within the range`, or `not a number (a choice)`.
    pub finding: String,
    /// Where the mean paired difference crosses zero (empty without a flip).
    #[serde(with = "crate::field")]
    pub flips_at: f64,
    /// Where the difference's 95% interval contains zero around the flip.
    #[serde(with = "crate::field")]
    pub ci_low: f64,
    #[serde(with = "crate::field")]
    pub ci_high: f64,
    /// Which of the two is better below the flip (at the low end without one).
    pub better_below: String,
    /// The range searched.
    #[serde(with = "crate::field")]
    pub low: f64,
    #[serde(with = "crate::field")]
    pub high: f64,
    /// Sign changes of the mean difference over the values run (more than one: the
    /// first is reported).
    pub crossings: usize,
    pub unit: String,
}

/// Key of a breakeven-points.csv row: one value of one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointKey {
    pub input: String,
    #[serde(with = "crate::field")]
    pub value: f64,
}

/// The paired difference at one value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    #[serde(with = "crate::field")]
    pub mean: f64,
    #[serde(with = "crate::field")]
    pub ci_low: f64,
    #[serde(with = "crate::field")]
    pub ci_high: f64,
    pub n: usize,
}

/// `count` values evenly spaced over `(lo, hi)`, or inside it without its ends.
fn spaced(lo: f64, hi: f64, count: usize, ends: bool) -> Vec<f64> {
    (0..count)
        .map(|g| {
            let t = match ends {
                true => g as f64 / (count - 1).max(1) as f64,
                false => (g + 1) as f64 / (count + 1) as f64,
            };
            lo + t * (hi - lo)
        })
        .collect()
}

/// The points of a pass: for each numeric input `i`, its values `xs[i]` (the others at their
/// written values), labelled by the input's path and value.
pub fn plan(
    label: &str,
    text: &str,
    overrides: &[Override],
    inputs: &[Uncertain],
    xs: &[Vec<f64>],
) -> Result<Plan, ScenarioError> {
    let mut points = Vec::new();
    for (u, values) in inputs.iter().zip(xs) {
        for &x in values {
            let v = u.value_at(x);
            let o = Override {
                path: u.path.clone(),
                value: v.toml.clone(),
                origin: format!("the break-even of [uncertain] \"{}\" at {}", u.path, v.label),
            };
            points.push((vec![u.path.clone(), v.label.clone()], vec![o]));
        }
    }
    let points = load_points(label, text, overrides, points)?;
    Ok(Plan {
        hash: None,
        dims: vec!["input".into(), "value".into()],
        points,
    })
}

/// The first pass's values of every input (empty for a choice).
pub fn first_pass(inputs: &[Uncertain]) -> Vec<Vec<f64>> {
    (inputs.iter())
        .map(|u| u.span().map_or(Vec::new(), |(lo, hi)| spaced(lo, hi, GRID, true)))
        .collect()
}

/// The paired difference `pair.policy − pair.against` of `m` at each point of `run`.
pub fn differences(run: &RunData, pair: &Pair, m: M) -> Vec<Difference> {
    (run.points.iter())
        .map(|pt| {
            let pairs: Vec<(f64, f64)> = (pt.results.per_policy[pair.policy].iter())
                .zip(&pt.results.per_policy[pair.against])
                .map(|(a, b)| (a.metrics[m], b.metrics[m]))
                .collect();
            let s = summarize_paired(&pairs, m.is_indicator());
            Difference {
                mean: s.mean,
                ci_low: s.ci_low,
                ci_high: s.ci_high,
                n: s.n,
            }
        })
        .collect()
}

/// Where the mean crosses zero between `k` and `k + 1`, by linear interpolation.
fn root(x: &[f64], y: &[f64], k: usize) -> f64 {
    let (x0, x1, y0, y1) = (x[k], x[k + 1], y[k], y[k + 1]);
    if y1 == y0 {
        (x0 + x1) / 2.0
    } else {
        x0 + (x1 - x0) * y0 / (y0 - y1)
    }
}

/// The brackets (k, k + 1) where the mean difference changes sign.
pub fn brackets(d: &[Difference]) -> Vec<usize> {
    (0..d.len().saturating_sub(1))
        .filter(|&k| d[k].mean.is_finite() && d[k + 1].mean.is_finite())
        // Zero counts with the positive side, so a mean that lands on zero is one crossing.
        .filter(|&k| (d[k].mean >= 0.0) != (d[k + 1].mean >= 0.0))
        .collect()
}

/// The values to run inside the first bracket, if there is one.
pub fn refinement(x: &[f64], d: &[Difference]) -> Vec<f64> {
    match brackets(d).first() {
        Some(&k) => spaced(x[k], x[k + 1], REFINE, false),
        None => Vec::new(),
    }
}

/// The finding for one input from its values `x` (ascending) and the differences there.
pub fn find(u: &Uncertain, x: &[f64], d: &[Difference], dir: Direction, names: (&str, &str)) -> BreakEven {
    let (low, high) = u.span().unwrap_or((f64::NAN, f64::NAN));
    let mut row = BreakEven {
        finding: "no flip within the range".into(),
        flips_at: f64::NAN,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
        better_below: String::new(),
        low,
        high,
        crossings: 0,
        unit: u.unit.clone(),
    };
    if u.span().is_none() {
        row.finding = "not a number (a choice)".into();
        return row;
    }
    let better = |diff: f64| match dir.better(diff, 0.0) {
        true => names.0,
        false => names.1,
    };
    let brackets = brackets(d);
    row.crossings = brackets.len();
    let Some(&k) = brackets.first() else {
        if let Some(first) = d.iter().find(|v| v.mean.is_finite()) {
            row.better_below = better(first.mean).into();
        }
        return row;
    };
    let mean: Vec<f64> = d.iter().map(|v| v.mean).collect();
    let at = root(x, &mean, k);
    row.finding = "flips".into();
    row.flips_at = at;
    // Below the flip: the nearest value below it whose mean is not exactly zero.
    let below = (0..=k)
        .rev()
        .map(|j| d[j].mean)
        .find(|&v| v != 0.0)
        .unwrap_or(d[k].mean);
    row.better_below = better(below).into();
    // The interval: outward from the flip, to where a band (low or high end of the
    // difference's interval) crosses zero, i.e. where the sign is told apart.
    let excludes = |v: &Difference| v.ci_low > 0.0 || v.ci_high < 0.0;
    let band = |v: &Difference| if v.ci_low > 0.0 { v.ci_low } else { v.ci_high };
    row.ci_low = match (0..=k).rev().find(|&j| excludes(&d[j])) {
        None => low,
        Some(j) => {
            // Between j (excluded) and j + 1 (not, or the flip's bracket): where the band
            // through d[j] reaches zero, but not past the flip.
            let b0 = band(&d[j]);
            let b1 = if d[j].ci_low > 0.0 {
                d[j + 1].ci_low
            } else {
                d[j + 1].ci_high
            };
            let t = if b0 == b1 {
                1.0
            } else {
                (b0 / (b0 - b1)).clamp(0.0, 1.0)
            };
            (x[j] + t * (x[j + 1] - x[j])).min(at)
        }
    };
    row.ci_high = match (k + 1..d.len()).find(|&j| excludes(&d[j])) {
        None => high,
        Some(j) => {
            let b1 = band(&d[j]);
            let b0 = if d[j].ci_low > 0.0 {
                d[j - 1].ci_low
            } else {
                d[j - 1].ci_high
            };
            let t = if b0 == b1 {
                0.0
            } else {
                (b0 / (b0 - b1)).clamp(0.0, 1.0)
            };
            (x[j - 1] + t * (x[j] - x[j - 1])).max(at)
        }
    };
    row
}

/// The sentence of a break-even row.
pub fn sentence(k: &BreakEvenKey, r: &BreakEven) -> String {
    let n = |x: f64| format!("{}{}", crate::report::table::sig3(x), r.unit);
    let other = |name: &str| if name == k.policy { &k.against } else { &k.policy };
    match r.finding.as_str() {
        "flips" => format!(
            "`{}` is better than `{}` on {} while {} is below {} ({} to {}), `{}` above it (the other inputs at their written values).",
            r.better_below,
            other(&r.better_below),
            k.metric,
            k.input,
            n(r.flips_at),
            n(r.ci_low),
            n(r.ci_high),
            other(&r.better_below),
        ),
        "no flip within the range" => format!(
            "`{}` stays better than `{}` on {} over all of {} from {} to {} (the other inputs at their written values).",
            r.better_below,
            other(&r.better_below),
            k.metric,
            k.input,
            n(r.low),
            n(r.high)
        ),
        _ => format!("{}: {} has no break-even.", k.input, r.finding),
    }
}

/// What [`search`] found: rows of breakeven.csv and of breakeven-points.csv, in input order.
pub struct Found {
    pub rows: Vec<(BreakEvenKey, BreakEven)>,
    pub points: Vec<(PointKey, Difference)>,
}

/// Runs the break-even search of every input of scenario `text` (its overrides applied)
/// for the pair `named` (policy names), or the best and the runner-up on `m` at the written
/// values. `Ok(None)` if interrupted.
pub fn search(
    label: &str,
    text: &str,
    inputs: &[Uncertain],
    m: M,
    named: Option<(&str, &str)>,
    workers: crate::montecarlo::Workers,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Option<Found>, String> {
    use crate::experiment::{execute, Execution, Keep, Stop};
    let dir = m
        .direction()
        .ok_or_else(|| format!("{} has no better direction", m.name()))?;
    let err = |e: ScenarioError| e.to_string();
    let exec = |plan: &Plan| {
        let ex = Execution {
            plan,
            baseline: 0,
            targets: &[],
            max_replications: plan.base().run.replications,
            shard: None,
            series: None,
            kept: None,
            keep: Keep::Metrics,
        };
        execute(&ex, workers, progress).map(|x| (x.stop != Stop::Interrupted).then_some(x.run))
    };
    let base = load_points(label, text, &[], vec![(Vec::new(), Vec::new())]).map_err(err)?;
    let names: Vec<String> = base[0]
        .loaded
        .scenario
        .policies
        .iter()
        .map(|p| p.name.clone())
        .collect();
    let (a, b) = match named {
        Some((a, b)) => {
            for n in [a, b] {
                if !names.iter().any(|x| x == n) {
                    return Err(crate::input::unknown(
                        format!("--breakeven: no policy named `{n}`"),
                        n,
                        &names.iter().map(String::as_str).collect::<Vec<_>>(),
                        Some("policies are"),
                    ));
                }
            }
            (a.to_string(), b.to_string())
        }
        None => {
            // The best and the runner-up at the written values.
            let plan = Plan {
                hash: None,
                dims: Vec::new(),
                points: base,
            };
            let Some(run) = exec(&plan)? else { return Ok(None) };
            let mean = |p: usize| {
                let v: Vec<f64> = run.points[0].results.per_policy[p]
                    .iter()
                    .map(|r| r.metrics[m])
                    .collect();
                crate::stats::summarize(v).mean
            };
            let mut order: Vec<usize> = (0..names.len()).collect();
            order.sort_by(|&x, &y| match dir.better(mean(x), mean(y)) {
                true => std::cmp::Ordering::Less,
                false if mean(x) == mean(y) => std::cmp::Ordering::Equal,
                false => std::cmp::Ordering::Greater,
            });
            if order.len() < 2 {
                return Err("--breakeven needs two policies".into());
            }
            (names[order[0]].clone(), names[order[1]].clone())
        }
    };
    // Only the pair runs, in this order: policy 0 against policy 1.
    let pair_text = crate::scenario::overrides::apply(text, &[Override::policies(&format!("{a},{b}"))])
        .map_err(|d| format!("{label}: {d:?}"))?
        .0;
    let pair = Pair {
        policy: 0,
        against: 1,
    };
    let mut xs = first_pass(inputs);
    let Some(run) = exec(&plan(label, &pair_text, &[], inputs, &xs).map_err(err)?)? else {
        return Ok(None);
    };
    let mut ds: Vec<Vec<Difference>> = Vec::new();
    let mut all = differences(&run, &pair, m).into_iter();
    for x in &xs {
        ds.push(all.by_ref().take(x.len()).collect());
    }
    let more: Vec<Vec<f64>> = xs.iter().zip(&ds).map(|(x, d)| refinement(x, d)).collect();
    if more.iter().any(|v| !v.is_empty()) {
        let Some(run) = exec(&plan(label, &pair_text, &[], inputs, &more).map_err(err)?)? else {
            return Ok(None);
        };
        let mut extra = differences(&run, &pair, m).into_iter();
        for ((x, d), add) in xs.iter_mut().zip(&mut ds).zip(&more) {
            let mut merged: Vec<(f64, Difference)> = x.iter().copied().zip(d.iter().copied()).collect();
            merged.extend(add.iter().copied().zip(extra.by_ref().take(add.len())));
            merged.sort_by(|p, q| p.0.total_cmp(&q.0));
            *x = merged.iter().map(|p| p.0).collect();
            *d = merged.iter().map(|p| p.1).collect();
        }
    }
    let mut found = Found {
        rows: Vec::new(),
        points: Vec::new(),
    };
    for ((u, x), d) in inputs.iter().zip(&xs).zip(&ds) {
        let key = BreakEvenKey {
            metric: m.name().into(),
            policy: a.clone(),
            against: b.clone(),
            input: u.path.clone(),
        };
        found.rows.push((key, find(u, x, d, dir, (&a, &b))));
        for (&x, &d) in x.iter().zip(d) {
            found.points.push((
                PointKey {
                    input: u.path.clone(),
                    value: x,
                },
                d,
            ));
        }
    }
    Ok(Some(found))
}

impl Found {
    /// breakeven.csv and breakeven-points.csv.
    pub fn files(&self) -> [(&'static str, Vec<u8>); 2] {
        let rows = self.rows.iter().map(|(k, v)| (&[][..], k.clone(), v));
        let points = self.points.iter().map(|(k, v)| (&[][..], k.clone(), v));
        [
            ("breakeven.csv", crate::report::rows::write(&[], rows)),
            ("breakeven-points.csv", crate::report::rows::write(&[], points)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(mean: f64, half: f64) -> Difference {
        Difference {
            mean,
            ci_low: mean - half,
            ci_high: mean + half,
            n: 10,
        }
    }

    fn input() -> Uncertain {
        let text = "name = \"t\"\n[workload]\nrate = \"40/h\"\n[[workload.class]]\nname = \"a\"\nshare = 1.0\ndefect_prob = 0.1\n[[policy]]\nname = \"p\"\n[[policy.stage]]\nkind = \"automated_check\"\nname = \"c\"\ndetect = 0.5\n[uncertain]\n\"policy.p.c.detect\" = { dist = \"uniform\", low = 0.0, high = 1.0 }\n";
        crate::scenario::load("t.toml", text, &[])
            .unwrap()
            .scenario
            .uncertain[0]
            .clone()
    }

    #[test]
    fn a_linear_difference_flips_where_it_crosses_zero() {
        // d(x) = 2 − 4x with a half-width of 0.4 everywhere: flips at 0.5; the interval is
        // where |2 − 4x| ≤ 0.4: 0.4 to 0.6.
        let u = input();
        let x = spaced(0.0, 1.0, 11, true);
        let d: Vec<Difference> = x.iter().map(|&x| diff(2.0 - 4.0 * x, 0.4)).collect();
        let r = find(&u, &x, &d, Direction::Higher, ("p", "q"));
        assert_eq!(r.finding, "flips");
        assert!((r.flips_at - 0.5).abs() < 1e-12, "{r:?}");
        assert!(
            (r.ci_low - 0.4).abs() < 1e-12 && (r.ci_high - 0.6).abs() < 1e-12,
            "{r:?}"
        );
        assert_eq!(r.better_below, "p");
        assert_eq!(r.crossings, 1);
        // Lower is better: the other way round.
        assert_eq!(find(&u, &x, &d, Direction::Lower, ("p", "q")).better_below, "q");
    }

    #[test]
    fn no_sign_change_is_no_flip() {
        let u = input();
        let x = spaced(0.0, 1.0, 5, true);
        let d: Vec<Difference> = x.iter().map(|&x| diff(1.0 + x, 0.1)).collect();
        let r = find(&u, &x, &d, Direction::Higher, ("p", "q"));
        assert_eq!(r.finding, "no flip within the range");
        assert!(r.flips_at.is_nan());
        assert_eq!(r.better_below, "p");
        assert!(refinement(&x, &d).is_empty());
        // A flip's bracket is refined inside, without its ends.
        let d: Vec<Difference> = x.iter().map(|&x| diff(0.3 - x, 0.1)).collect();
        assert_eq!(refinement(&x, &d), spaced(0.25, 0.5, REFINE, false));
    }
}
