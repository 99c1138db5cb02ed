//! The files of an exploration: design.csv, explore.csv, robustness.csv, choice.csv, pairwise.csv,
//! sensitivity.csv (Sobol designs) and map.csv (decision maps). Rows are serde types; the
//! inputs' columns are named by their paths.

use serde::{Deserialize, Serialize};

use crate::experiment::RunData;
use crate::explore::analysis::{Analysis, Outcome, Output};
use crate::explore::design::Block;
use crate::explore::fold::Folded;
use crate::explore::map::Cell;
use crate::explore::sensitivity::points_needed;
use crate::explore::Exploration;
use crate::metrics::{MetricRow, M};

use super::rows::write;

/// The files an exploration may write, in the order they are written.
pub const FILES: &[&str] = &[
    "design.csv",
    "explore.csv",
    "robustness.csv",
    "choice.csv",
    "pairwise.csv",
    "sensitivity.csv",
    "map.csv",
    "report.html",
    "manifest.json",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DesignKey {
    /// The base point (Sobol) or set (Latin hypercube, map) the set belongs to.
    pub base: usize,
    /// A, B or AB (Saltelli blocks), LHS, or MAP.
    pub block: String,
    /// For an AB set, the input taken from B.
    pub swapped: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExploreKey {
    pub policy: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RobustnessKey {
    pub metric: String,
    /// Which value is better: higher or lower.
    pub direction: String,
    pub policy: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RobustnessRow {
    /// Probability over the uncertainty that the policy is best (ties shared).
    #[serde(with = "crate::field")]
    pub p_best: f64,
    #[serde(with = "crate::field")]
    pub p_best_se: f64,
    /// Exact (Clopper–Pearson) 95% bounds on `p_best`.
    #[serde(with = "crate::field")]
    pub p_best_low: f64,
    #[serde(with = "crate::field")]
    pub p_best_high: f64,
    /// The policy's value (mean of its replications) over the draws.
    #[serde(with = "crate::field")]
    pub mean: f64,
    #[serde(with = "crate::field")]
    pub p05: f64,
    #[serde(with = "crate::field")]
    pub p50: f64,
    #[serde(with = "crate::field")]
    pub p95: f64,
    pub draws: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChoiceKey {
    /// A policy, or `none` for the draws where no policy meets the constraints.
    pub policy: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChoiceRow {
    /// The `[decision]` constraints, `; `-separated (empty: none).
    pub constraints: String,
    /// The metric the choice is made on (`--metric`).
    pub metric: String,
    /// Probability over the uncertainty that the policy is the choice: it meets every
    /// constraint at the draw and is best on `metric` among those that do (ties shared).
    #[serde(with = "crate::field")]
    pub p_chosen: f64,
    #[serde(with = "crate::field")]
    pub p_chosen_low: f64,
    #[serde(with = "crate::field")]
    pub p_chosen_high: f64,
    /// Probability that the policy meets every constraint (for `none`: that no policy does).
    #[serde(with = "crate::field")]
    pub p_feasible: f64,
    #[serde(with = "crate::field")]
    pub p_feasible_low: f64,
    #[serde(with = "crate::field")]
    pub p_feasible_high: f64,
    pub draws: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairKey {
    pub metric: String,
    pub direction: String,
    pub policy: String,
    pub versus: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairRow {
    /// Probability over the uncertainty that `policy` is better than `versus` (ties half).
    #[serde(with = "crate::field")]
    pub p_beats: f64,
    #[serde(with = "crate::field")]
    pub p_beats_se: f64,
    /// Exact (Clopper–Pearson) 95% bounds on `p_beats`.
    #[serde(with = "crate::field")]
    pub p_beats_low: f64,
    #[serde(with = "crate::field")]
    pub p_beats_high: f64,
    /// `policy − versus` over the draws.
    #[serde(with = "crate::field")]
    pub mean_difference: f64,
    #[serde(with = "crate::field")]
    pub difference_p05: f64,
    #[serde(with = "crate::field")]
    pub difference_p95: f64,
    pub draws: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SensitivityKey {
    pub metric: String,
    /// `policy`: the policy's value; `difference`: policy − baseline, paired.
    pub output: String,
    pub policy: String,
    /// The baseline of a difference; empty for a policy's own value.
    pub baseline: String,
    pub input: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SensitivityRow {
    #[serde(with = "crate::field")]
    pub first_order: f64,
    #[serde(with = "crate::field")]
    pub first_low: f64,
    #[serde(with = "crate::field")]
    pub first_high: f64,
    #[serde(with = "crate::field")]
    pub total_order: f64,
    #[serde(with = "crate::field")]
    pub total_low: f64,
    #[serde(with = "crate::field")]
    pub total_high: f64,
    /// Share of the output's variance over the design that is replication noise.
    #[serde(with = "crate::field")]
    pub noise_share: f64,
    #[serde(with = "crate::field")]
    pub noise_low: f64,
    #[serde(with = "crate::field")]
    pub noise_high: f64,
    #[serde(with = "crate::field")]
    pub variance: f64,
    pub base_points: usize,
    pub replications: u64,
    /// The correlation of the input's draws with the output: the direction of its effect.
    #[serde(with = "crate::field")]
    pub correlation: f64,
    /// Base points that would bring both intervals inside [0, 1]; 0 when they are.
    pub points_needed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MapKey {
    pub metric: String,
    pub direction: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MapRow {
    pub best: String,
    pub runner_up: String,
    #[serde(with = "crate::field")]
    pub best_mean: f64,
    #[serde(with = "crate::field")]
    pub runner_up_mean: f64,
    /// best − runner-up, with its 95% interval.
    #[serde(with = "crate::field")]
    pub difference: f64,
    #[serde(with = "crate::field")]
    pub difference_low: f64,
    #[serde(with = "crate::field")]
    pub difference_high: f64,
    /// `best`, or `too close to call` when the interval includes 0.
    pub verdict: String,
    pub sets: usize,
    pub replications: u64,
}

/// The text of an exploration's CSV files; `None` for a file it does not write.
#[derive(Debug, Clone, PartialEq)]
pub struct ExploreFiles {
    pub design: Vec<u8>,
    pub explore: Vec<u8>,
    /// What the staffing rules chose at every set.
    pub staffing: Vec<u8>,
    pub robustness: Option<Vec<u8>>,
    pub choice: Option<Vec<u8>>,
    pub pairwise: Option<Vec<u8>>,
    pub sensitivity: Option<Vec<u8>>,
    pub map: Option<Vec<u8>>,
}

/// Verdict text of a map cell.
pub fn verdict(c: &Cell) -> &'static str {
    if c.close {
        "too close to call"
    } else {
        "best"
    }
}

impl ExploreFiles {
    pub fn of(
        ex: &Exploration,
        run: &RunData,
        folded: &Folded,
        analysis: Option<&Analysis>,
        cells: Option<&[Cell]>,
    ) -> ExploreFiles {
        let names = ex.policies();
        ExploreFiles {
            design: design_csv(ex, run),
            explore: explore_csv(run, folded),
            staffing: super::rows::staffing_csv(run),
            robustness: analysis.map(|a| robustness_csv(&names, a)),
            choice: analysis.map(|a| choice_csv(&names, a, ex.metric)),
            pairwise: analysis.map(|a| pairwise_csv(&names, a)),
            sensitivity: analysis
                .filter(|_| ex.design.kind == crate::explore::design::DesignKind::Sobol)
                .map(|a| sensitivity_csv(ex, run, &names, a)),
            map: cells.map(|c| map_csv(ex, run, &names, c)),
        }
    }

    /// (file name, bytes) in the order they are written.
    pub fn named(&self) -> Vec<(&'static str, &[u8])> {
        let mut v: Vec<(&'static str, &[u8])> = vec![
            ("design.csv", &self.design),
            ("explore.csv", &self.explore),
            ("staffing.csv", &self.staffing),
        ];
        let more = [
            ("robustness.csv", &self.robustness),
            ("choice.csv", &self.choice),
            ("pairwise.csv", &self.pairwise),
            ("sensitivity.csv", &self.sensitivity),
            ("map.csv", &self.map),
        ];
        for (name, bytes) in more {
            if let Some(b) = bytes {
                v.push((name, b));
            }
        }
        v
    }
}

fn design_csv(ex: &Exploration, run: &RunData) -> Vec<u8> {
    let keys: Vec<DesignKey> = (0..run.points.len())
        .map(|s| match &ex.map {
            Some(m) => DesignKey {
                base: s / m.per_cell,
                block: "MAP".into(),
                swapped: String::new(),
            },
            None => {
                let (j, b) = ex.design.roles[s];
                DesignKey {
                    base: j,
                    block: b.label().into(),
                    swapped: match b {
                        Block::AB(i) => ex.inputs[i].path.clone(),
                        Block::A | Block::B | Block::Lhs => String::new(),
                    },
                }
            }
        })
        .collect();
    #[derive(Serialize, Deserialize)]
    struct Nothing {}
    let rows = run
        .points
        .iter()
        .zip(keys)
        .map(|(pt, k)| (&pt.values[..], k, &Nothing {}));
    write::<DesignKey, Nothing>(&run.dims, rows)
}

/// Each set's mean of every metric, per policy (means alone: an exploration's summaries of
/// every metric would be its largest allocation).
fn explore_csv(run: &RunData, folded: &Folded) -> Vec<u8> {
    let rows: Vec<(&[String], ExploreKey, MetricRow)> = (run.points.iter().zip(&folded.sets))
        .flat_map(|(pt, set)| {
            (pt.scenario.policies.iter().enumerate()).map(move |(p, pol)| {
                let mut row = MetricRow::default();
                for &m in M::ALL {
                    row[m] = set.mean_of_defined(p, m);
                }
                (
                    &pt.values[..],
                    ExploreKey {
                        policy: pol.name.clone(),
                    },
                    row,
                )
            })
        })
        .collect();
    write(&run.dims, rows.iter().map(|(v, k, r)| (*v, k.clone(), r)))
}

fn robustness_csv(names: &[String], a: &Analysis) -> Vec<u8> {
    let rows: Vec<(RobustnessKey, RobustnessRow)> = (a.standings.iter())
        .map(|s| {
            (
                RobustnessKey {
                    metric: s.metric.name(),
                    direction: dir(s.metric.metric()),
                    policy: names[s.policy].clone(),
                },
                RobustnessRow {
                    p_best: s.p_best,
                    p_best_se: s.p_best_se,
                    p_best_low: s.p_best_low,
                    p_best_high: s.p_best_high,
                    mean: s.mean,
                    p05: s.p05,
                    p50: s.p50,
                    p95: s.p95,
                    draws: a.draws,
                },
            )
        })
        .collect();
    keyed(&rows)
}

fn choice_csv(names: &[String], a: &Analysis, metric: M) -> Vec<u8> {
    let rows: Vec<(ChoiceKey, ChoiceRow)> = (a.choices.iter())
        .map(|c| {
            (
                ChoiceKey {
                    policy: c.policy.map_or_else(|| "none".to_string(), |p| names[p].clone()),
                },
                ChoiceRow {
                    constraints: a.constraints.join("; "),
                    metric: metric.name().into(),
                    p_chosen: c.p_chosen,
                    p_chosen_low: c.p_chosen_low,
                    p_chosen_high: c.p_chosen_high,
                    p_feasible: c.p_feasible,
                    p_feasible_low: c.p_feasible_low,
                    p_feasible_high: c.p_feasible_high,
                    draws: a.draws,
                },
            )
        })
        .collect();
    keyed(&rows)
}

/// Rows without input columns.
fn keyed<K: Serialize + serde::de::DeserializeOwned + Clone, V: Serialize + serde::de::DeserializeOwned>(
    rows: &[(K, V)],
) -> Vec<u8> {
    write(&[], rows.iter().map(|(k, v)| (&[][..], k.clone(), v)))
}

fn dir(m: M) -> String {
    m.direction().map_or("", |d| d.label()).to_string()
}

fn pairwise_csv(names: &[String], a: &Analysis) -> Vec<u8> {
    let rows: Vec<(PairKey, PairRow)> = (a.pairs.iter())
        .map(|p| {
            (
                PairKey {
                    metric: p.metric.name().into(),
                    direction: dir(p.metric),
                    policy: names[p.policy].clone(),
                    versus: names[p.versus].clone(),
                },
                PairRow {
                    p_beats: p.p_beats,
                    p_beats_se: p.p_beats_se,
                    p_beats_low: p.p_beats_low,
                    p_beats_high: p.p_beats_high,
                    mean_difference: p.mean,
                    difference_p05: p.p05,
                    difference_p95: p.p95,
                    draws: a.draws,
                },
            )
        })
        .collect();
    keyed(&rows)
}

fn sensitivity_csv(ex: &Exploration, run: &RunData, names: &[String], a: &Analysis) -> Vec<u8> {
    let reps = run.points[0].reps.len() as u64;
    let mut rows = Vec::new();
    for s in &a.sensitivity {
        let (output, policy, baseline) = match s.output {
            Output::Policy(p) => ("policy", names[p].clone(), String::new()),
            Output::Difference(p) => ("difference", names[p].clone(), names[a.baseline].clone()),
        };
        for (i, input) in ex.inputs.iter().enumerate() {
            let (f, t, n) = (s.indices.first[i], s.indices.total[i], s.indices.noise);
            rows.push((
                SensitivityKey {
                    metric: s.metric.name().into(),
                    output: output.into(),
                    policy: policy.clone(),
                    baseline: baseline.clone(),
                    input: input.path.clone(),
                },
                SensitivityRow {
                    first_order: f.est,
                    first_low: f.low,
                    first_high: f.high,
                    total_order: t.est,
                    total_low: t.low,
                    total_high: t.high,
                    noise_share: n.est,
                    noise_low: n.low,
                    noise_high: n.high,
                    variance: s.indices.variance,
                    base_points: ex.design.n,
                    replications: reps,
                    correlation: s.indices.correlation[i],
                    points_needed: [f, t]
                        .into_iter()
                        .filter_map(|c| points_needed(c, ex.design.n))
                        .max()
                        .unwrap_or(0),
                },
            ));
        }
    }
    keyed(&rows)
}

fn map_csv(ex: &Exploration, run: &RunData, names: &[String], cells: &[Cell]) -> Vec<u8> {
    let m = ex.map.as_ref().expect("a map");
    let reps = run.points[0].reps.len() as u64;
    let dims: Vec<String> = ex.spec.map.as_ref().expect("a map").paths.clone();
    let rows: Vec<(Vec<String>, MapKey, MapRow)> = (cells.iter())
        .map(|c| {
            (
                c.values.to_vec(),
                MapKey {
                    metric: ex.metric.name().into(),
                    direction: dir(ex.metric),
                },
                MapRow {
                    best: names[c.best].clone(),
                    runner_up: names[c.runner_up].clone(),
                    best_mean: c.best_mean,
                    runner_up_mean: c.runner_up_mean,
                    difference: c.difference,
                    difference_low: c.low,
                    difference_high: c.high,
                    verdict: verdict(c).into(),
                    sets: m.per_cell,
                    replications: reps,
                },
            )
        })
        .collect();
    write(&dims, rows.iter().map(|(v, k, r)| (&v[..], k.clone(), r)))
}

/// The terminal's table on the decision metric: each policy's probability of being best
/// and its value across the draws (mean, 5% and 95%: the tails, not only the mean).
pub fn table(names: &[String], a: &Analysis, metric: M) -> String {
    let rows: Vec<[String; 5]> = (a.standings.iter())
        .filter(|s| s.metric == Outcome::Mean(metric))
        .map(|s| {
            [
                names[s.policy].clone(),
                format!("{:.2} ± {:.2}", s.p_best, s.p_best_se),
                short(s.mean),
                short(s.p05),
                short(s.p95),
            ]
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let head = [
        "policy".to_string(),
        "P(best)".into(),
        format!("mean {}", metric.name()),
        "5% of draws".into(),
        "95% of draws".into(),
    ];
    let mut width = [0usize; 5];
    for r in std::iter::once(&head).chain(&rows) {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(&head).chain(&rows) {
        let cells: Vec<String> = (r.iter().zip(width).enumerate())
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn short(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x.abs() >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.3}")
    }
}
