//! Explorations: many parameter sets drawn from the scenario's `[uncertain]` inputs, every
//! policy run at each under common random numbers (replication `r` draws from the same
//! streams at every set and for every policy), and what the results say about the choice
//! across the uncertainty: the probability that each policy is best, which inputs drive
//! each outcome and each paired difference (with the replication noise separated), and,
//! with a map, which policy is best over a grid of two inputs.
//!
//! An exploration is a sweep whose points are the design's sets, so it runs, shards and
//! merges as a run does ([`crate::experiment`], [`crate::merge`]); its own files come from
//! [`analysis`] and [`map`].

pub mod analysis;
pub mod breakeven;
mod choice;
pub mod design;
pub mod fold;
pub mod map;
pub mod pilot;
pub mod sensitivity;

use serde::{Deserialize, Serialize};

use crate::experiment::{load_points, load_points_with, Plan, PlanHasher};
use crate::input::{unknown, Diagnostic, ScenarioError};
use crate::metrics::{Direction, M, NAMES};
use crate::scenario::{self, Override, SweepValue, Uncertain};

use design::{Design, DesignKind, MAX_SOBOL_INPUTS, MAX_SOBOL_POINTS};

/// Most sets an exploration may run (as for a sweep's points).
pub const MAX_SETS: usize = crate::experiment::MAX_POINTS;

/// What an exploration is, beyond the scenario: enough to rebuild its plan (the manifest
/// records it, and `merge` rebuilds the plan from it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub design: DesignKind,
    /// Base points of a Sobol design, sets of a Latin hypercube, or, for a map that
    /// integrates over the other inputs, the draws of them in each cell.
    pub points: usize,
    /// The metric the map and the sentences decide on.
    pub metric: String,
    /// Bootstrap resamples for the sensitivity intervals.
    pub bootstrap: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<MapSpec>,
}

/// The bare `oversim explore` of the default scenario: 8 base points (192 sets for its 22
/// inputs) of 5 replications, about a minute on two cores with its staffing rules solved
/// at every set: a first look, whose intervals say when more points are needed.
pub const DEFAULT_POINTS: u64 = 8;
/// Replications per set before a pilot has chosen (and the fewest it chooses).
pub const DEFAULT_REPLICATIONS: u64 = pilot::MIN;
/// The metric an exploration decides on unless told.
pub const DEFAULT_METRIC: &str = "net_value";
/// Values per map axis unless told.
pub const DEFAULT_GRID: usize = 9;
/// Bootstrap resamples for the sensitivity intervals unless told.
pub const DEFAULT_BOOTSTRAP: u64 = 1000;

/// Allowed `points` (base points, sets, or draws per map cell) and bootstrap resamples: the
/// command line's flags and the browser's requests take the same.
pub const POINTS: std::ops::RangeInclusive<u64> = 1..=65536;
pub const BOOTSTRAP: std::ops::RangeInclusive<u64> = 100..=100_000;

impl Spec {
    /// Checks `points` and `bootstrap` against [`POINTS`] and [`BOOTSTRAP`] (the command
    /// line's parser does this for its flags).
    pub fn check_sizes(&self) -> Result<(), String> {
        let within = |n: usize, r: &std::ops::RangeInclusive<u64>| r.contains(&(n as u64));
        if within(self.points, &POINTS) && within(self.bootstrap, &BOOTSTRAP) {
            return Ok(());
        }
        Err(format!(
            "points must be {} to {} (not {}) and bootstrap {} to {} (not {}), as for `oversim explore`",
            POINTS.start(),
            POINTS.end(),
            self.points,
            BOOTSTRAP.start(),
            BOOTSTRAP.end(),
            self.bootstrap
        ))
    }
}

/// `--map PATH1,PATH2`: a grid over two inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapSpec {
    pub paths: Vec<String>,
    /// Values per axis (a choice input has its listed values).
    pub grid: usize,
    pub others: Others,
}

/// What the inputs not on a map's axes do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Others {
    /// Keep the values written in the scenario.
    Base,
    /// Vary over their uncertainty: the same Latin hypercube draws in every cell.
    Integrate,
}

impl Others {
    pub const ALL: &[(&str, Others)] = &[("base", Others::Base), ("integrate", Others::Integrate)];
}

/// A decision map's layout: the sets of cell `c` are `c·per_cell .. (c+1)·per_cell`.
#[derive(Debug, Clone)]
pub struct MapLayout {
    pub axes: [Vec<SweepValue>; 2],
    /// Per cell, its value index on each axis (first axis slowest).
    pub cells: Vec<(usize, usize)>,
    pub per_cell: usize,
}

/// An exploration ready to run: its inputs, design and plan.
#[derive(Debug, Clone)]
pub struct Exploration {
    pub spec: Spec,
    pub inputs: Vec<Uncertain>,
    /// The design of the sets (without a map), or of the other inputs in each map cell.
    pub design: Design,
    pub map: Option<MapLayout>,
    pub plan: Plan,
    /// The decision metric.
    pub metric: M,
    /// The scenario text with the command line's overrides, before any draw.
    pub base_text: String,
}

impl Exploration {
    /// Policy names, in order.
    pub fn policies(&self) -> Vec<String> {
        (self.plan.base().policies.iter())
            .map(|p| p.name.clone())
            .collect()
    }
}

/// The first output column of every exploration file: the set's index.
pub const SET_COLUMN: &str = "set";

/// Parses a decision metric: one with a better direction.
pub fn decision_metric(name: &str) -> Result<M, String> {
    let directed: Vec<&str> = (M::ALL.iter())
        .filter(|m| m.direction().is_some())
        .map(|m| m.name())
        .collect();
    match M::ALL.iter().find(|m| m.name() == name) {
        Some(m) if m.direction().is_some() => Ok(*m),
        Some(_) => Err(format!(
            "`{name}` has no better direction (it counts work or is a part of a total), so no policy is best on it; metrics with one: {}",
            directed.join(", ")
        )),
        None => Err(unknown(format!("`{name}` is not a metric"), name, NAMES, None)
            + "; see docs/metrics.md for the list"),
    }
}

/// An override of `input` with `value`, named in messages by where it came from.
fn draw(input: &Uncertain, value: &SweepValue, what: &str) -> Override {
    Override {
        path: input.path.clone(),
        value: value.toml.clone(),
        origin: format!("[uncertain] \"{}\" at {what} {}", input.path, value.label),
    }
}

/// Checks each `[uncertain]` input alone at the ends of its range (the others at their
/// written values): a message names the input, the value and the entry's line.
pub fn check_inputs(
    label: &str,
    text: &str,
    overrides: &[Override],
    inputs: &[Uncertain],
) -> Result<(), ScenarioError> {
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for u in inputs {
        let ends: Vec<(Vec<String>, Vec<Override>)> = (u.extremes().into_iter())
            .map(|(what, v)| (Vec::new(), vec![draw(u, &v, &what)]))
            .collect();
        if let Err(e) = load_points(label, text, overrides, ends) {
            for mut d in e.diagnostics {
                // The base scenario is valid, so the input caused it: point at its entry.
                d.line = u.line.or(d.line);
                if d.path.starts_with("[uncertain]") {
                    // The path could not be applied: the same for every value it draws.
                    d.path = format!("uncertain.\"{}\"", u.path);
                } else if !d.message.contains("(set by") {
                    d.message
                        .push_str(&format!(" (set by [uncertain] \"{}\")", u.path));
                }
                if !diagnostics.contains(&d) {
                    diagnostics.push(d);
                }
            }
        }
    }
    ScenarioError::check(label, diagnostics)
}

/// Loads the scenario, checks its `[uncertain]` inputs (each at the ends of its range,
/// with the others at their written values), draws the design and loads every set.
pub fn plan(
    label: &str,
    text: &str,
    overrides: &[Override],
    spec: &Spec,
) -> Result<Exploration, ScenarioError> {
    let base = scenario::load(label, text, overrides)?;
    let sc = &base.scenario;
    let inputs = sc.uncertain.clone();
    let metric = decision_metric(&spec.metric).map_err(|e| ScenarioError::one(label, "--metric", e))?;
    if inputs.is_empty() {
        return Err(ScenarioError::one(
            label,
            "uncertain",
            "the scenario has no [uncertain] inputs to explore; add e.g. [uncertain] \"workload.rate\" = { dist = \"uniform\", low = \"20/h\", high = \"80/h\" }".into(),
        ));
    }
    if !sc.sweep.is_empty() {
        return Err(ScenarioError::one(
            label,
            "sweep",
            "an exploration varies the [uncertain] inputs and takes no [sweep]; remove the [sweep] table, or make its keys uncertain inputs (a `choice` lists values)".into(),
        ));
    }
    if sc.run.replications < 2 {
        return Err(ScenarioError::one(
            label,
            "run.replications",
            "an exploration needs at least 2 replications per set, to tell replication noise from the inputs' effects".into(),
        ));
    }
    check_inputs(label, text, overrides, &inputs)?;

    let k = inputs.len();
    let (design, map, rows) = match &spec.map {
        None => {
            if spec.design == DesignKind::Sobol {
                if k > MAX_SOBOL_INPUTS {
                    return Err(ScenarioError::one(
                        label,
                        "uncertain",
                        format!(
                            "a Sobol design varies at most {MAX_SOBOL_INPUTS} inputs; this scenario has {k}"
                        ),
                    ));
                }
                if spec.points > MAX_SOBOL_POINTS {
                    return Err(ScenarioError::one(
                        label,
                        "--points",
                        format!("a Sobol design has at most {MAX_SOBOL_POINTS} base points"),
                    ));
                }
            }
            let d = Design::new(spec.design, spec.points, k, sc.run.seed);
            if d.rows.len() > MAX_SETS {
                return Err(ScenarioError::one(
                    label,
                    "--points",
                    format!(
                        "the design has {} sets (N·(k+2) for Sobol); at most {MAX_SETS} are allowed",
                        d.rows.len()
                    ),
                ));
            }
            let rows: Vec<Vec<(usize, SweepValue)>> = (d.rows.iter())
                .map(|row| (0..k).map(|i| (i, inputs[i].value(row[i]))).collect())
                .collect();
            (d, None, rows)
        }
        Some(m) => map::layout(label, &inputs, m, spec, sc.run.seed)?,
    };
    let points: Vec<(Vec<String>, Vec<Override>)> = (rows.iter().enumerate())
        .map(|(s, row)| {
            let mut values = vec![s.to_string()];
            let mut ov = Vec::with_capacity(row.len());
            for (i, v) in row {
                values.push(v.label.clone());
                ov.push(draw(&inputs[*i], v, &format!("set {s}:")));
            }
            (values, ov)
        })
        .collect();
    let dims: Vec<String> = std::iter::once(SET_COLUMN.to_string())
        .chain(match &spec.map {
            None => inputs.iter().map(|u| u.path.clone()).collect::<Vec<_>>(),
            Some(_) => rows
                .first()
                .map(|r| r.iter().map(|(i, _)| inputs[*i].path.clone()).collect())
                .unwrap_or_default(),
        })
        .collect();
    // The manifest records the base text and the design, from which a merge rebuilds the
    // sets: a set's own text (a commented scenario is tens of kilobytes, at every set) is
    // hashed as the set is loaded and kept only where a staffing rule needs it; a set's
    // own copy of the inputs it was drawn from (`inputs` above) is dropped.
    let mut hasher = PlanHasher::new(&dims);
    let points = load_points_with(label, text, overrides, points, &mut |p| {
        hasher.point(&p.values, &p.loaded.resolved_text);
        if p.loaded.staffing.is_empty() {
            p.loaded.resolved_text = String::new();
        }
        p.loaded.scenario.uncertain = Vec::new();
    })?;
    let plan = Plan {
        dims,
        points,
        hash: Some(hasher.finish()),
    };
    Ok(Exploration {
        spec: spec.clone(),
        inputs,
        design,
        map,
        plan,
        metric,
        base_text: base.resolved_text,
    })
}

/// The best of `values` in `dir`, ties to the first.
pub fn best_index(values: &[f64], dir: Direction) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate().skip(1) {
        if dir.better(v, values[best]) {
            best = i;
        }
    }
    best
}
