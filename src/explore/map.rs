//! Decision maps: which policy is best over a grid of two inputs, and where the evidence
//! is too thin to say.
//!
//! Each cell runs every policy with the map's inputs at the cell's values. The other
//! inputs keep their written values (`others = base`), or vary over their uncertainty
//! (`others = integrate`): the same Latin hypercube draws of them in every cell, so cells
//! differ only in the map's inputs. A cell names the best policy on the decision metric
//! and the runner-up; it is "too close to call" when the 95% interval of their paired
//! difference includes 0. With `base`, that interval is over replications (paired by
//! common random numbers); with `integrate`, over the cell's draws of the other inputs,
//! each the mean of its replications.

use crate::input::{unknown, ScenarioError};
use crate::metrics::{Direction, M};
use crate::scenario::{SweepValue, Uncertain};
use crate::stats::summarize;

use super::design::{Design, DesignKind};
use super::fold::Folded;
use super::{best_index, MapLayout, MapSpec, Others, Spec};

/// Most values on a map's axis.
pub const MAX_GRID: usize = 101;

/// The layout of a map, its inner design and each set's input values.
#[allow(clippy::type_complexity)]
pub fn layout(
    label: &str,
    inputs: &[Uncertain],
    m: &MapSpec,
    spec: &Spec,
    seed: u64,
) -> Result<(Design, Option<MapLayout>, Vec<Vec<(usize, SweepValue)>>), ScenarioError> {
    let paths: Vec<&str> = inputs.iter().map(|u| u.path.as_str()).collect();
    let mut axis = [0usize; 2];
    if m.paths.len() != 2 || m.paths[0] == m.paths[1] {
        return Err(ScenarioError::one(
            label,
            "--map",
            "--map takes two different [uncertain] paths: PATH1,PATH2".into(),
        ));
    }
    for (a, p) in m.paths.iter().enumerate() {
        axis[a] = paths.iter().position(|x| x == p).ok_or_else(|| {
            let head = format!("`{p}` is not an [uncertain] input of the scenario");
            ScenarioError::one(label, "--map", unknown(head, p, &paths, Some("inputs are")))
        })?;
    }
    if !(2..=MAX_GRID).contains(&m.grid) {
        return Err(ScenarioError::one(
            label,
            "--grid",
            format!("a map has 2 to {MAX_GRID} values per axis, got {}", m.grid),
        ));
    }
    let others: Vec<usize> = (0..inputs.len()).filter(|i| !axis.contains(i)).collect();
    let inner = match m.others {
        Others::Base => Design::new(DesignKind::Lhs, 1, 0, seed),
        Others::Integrate if others.is_empty() => Design::new(DesignKind::Lhs, 1, 0, seed),
        Others::Integrate => Design::new(DesignKind::Lhs, spec.points, others.len(), seed),
    };
    let axes = [inputs[axis[0]].grid(m.grid), inputs[axis[1]].grid(m.grid)];
    let cells: Vec<(usize, usize)> = (0..axes[0].len())
        .flat_map(|a| (0..axes[1].len()).map(move |b| (a, b)))
        .collect();
    let per_cell = inner.rows.len();
    if cells.len() * per_cell > super::MAX_SETS {
        return Err(ScenarioError::one(
            label,
            "--map",
            format!(
                "the map has {} sets; at most {} are allowed",
                cells.len() * per_cell,
                super::MAX_SETS
            ),
        ));
    }
    let mut rows = Vec::with_capacity(cells.len() * per_cell);
    for &(a, b) in &cells {
        for row in &inner.rows {
            let mut r = vec![(axis[0], axes[0][a].clone()), (axis[1], axes[1][b].clone())];
            if m.others == Others::Integrate {
                r.extend(others.iter().zip(row).map(|(&i, &u)| (i, inputs[i].value(u))));
            }
            rows.push(r);
        }
    }
    Ok((
        inner,
        Some(MapLayout {
            axes,
            cells,
            per_cell,
        }),
        rows,
    ))
}

/// One cell's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub values: [String; 2],
    pub best: usize,
    pub runner_up: usize,
    pub best_mean: f64,
    pub runner_up_mean: f64,
    /// Best minus runner-up, with its 95% interval.
    pub difference: f64,
    pub low: f64,
    pub high: f64,
    pub close: bool,
}

/// The best of `means` in `dir` and the runner-up (the best when there is one policy);
/// `NaN` is never better, so the best of the rest skips the best.
pub(super) fn ranked(means: &[f64], dir: Direction) -> (usize, usize) {
    let best = best_index(means, dir);
    if means.len() < 2 {
        return (best, best);
    }
    let rest: Vec<f64> = (means.iter().enumerate())
        .map(|(p, &m)| if p == best { f64::NAN } else { m })
        .collect();
    let mut r = if best == 0 { 1 } else { 0 };
    for (p, &v) in rest.iter().enumerate() {
        if p != best && dir.better(v, rest[r]) {
            r = p;
        }
    }
    (best, r)
}

/// The verdict of every cell on `metric` (the exploration's: a one-set cell's interval is
/// folded on it).
pub fn cells(layout: &MapLayout, folded: &Folded, metric: M) -> Vec<Cell> {
    let dir = metric.direction().expect("a decision metric has a direction");
    let n_pol = folded.sets[0].policies();
    (layout.cells.iter().enumerate())
        .map(|(c, &(a, b))| {
            let sets = &folded.sets[c * layout.per_cell..(c + 1) * layout.per_cell];
            let means: Vec<f64> = (0..n_pol)
                .map(|p| sets.iter().map(|s| s.mean(p, metric)).sum::<f64>() / sets.len() as f64)
                .collect();
            let (best, runner_up) = ranked(&means, dir);
            let sum = match sets {
                [one] => one.cell().expect("a one-set cell's interval is folded").clone(),
                _ => summarize(
                    sets.iter()
                        .map(|s| s.mean(best, metric) - s.mean(runner_up, metric))
                        .collect::<Vec<_>>(),
                ),
            };
            let close = n_pol < 2 || !(sum.ci_low > 0.0 || sum.ci_high < 0.0);
            Cell {
                values: [layout.axes[0][a].label.clone(), layout.axes[1][b].label.clone()],
                best,
                runner_up,
                best_mean: means[best],
                runner_up_mean: means[runner_up],
                difference: sum.mean,
                low: sum.ci_low,
                high: sum.ci_high,
                close,
            }
        })
        .collect()
}
