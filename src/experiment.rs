//! Experiments: the grid of sweep points a run covers.
//!
//! A sweep comes from the scenario's `[sweep]` table and from `--sweep PATH=v1,v2,...`
//! (a command-line sweep of a path replaces the file's). The grid is the full factorial
//! product, first dimension slowest. Every point is the base scenario with its values
//! applied as overrides, validated before anything runs.

use std::str::FromStr;

use sha2::{Digest, Sha256};

mod execute;
mod shard;

pub use crate::montecarlo::Keep;
pub use execute::{execute, execute_into, Executed, Execution, Found, Kept, Sink, Stop};
pub use shard::Shard;

use crate::input::unknown;
use crate::metrics::{M, NAMES};
use crate::montecarlo::Results;
use crate::scenario::{self, Diagnostic, Loaded, Override, Scenario, ScenarioError, SweepDim, SweepValue};
use crate::stats::{summarize, summarize_indicator, summarize_paired, Summary};

/// Most sweep points a run may have.
pub const MAX_POINTS: usize = 100_000;

/// Parses `--sweep PATH=v1,v2,...`.
pub fn parse_sweep_arg(s: &str) -> Result<SweepDim, String> {
    let (path, values) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not PATH=v1,v2,... (for example workload.rate=20/h,40/h)"))?;
    let path = path.trim();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(format!("`{path}` is not a key path (for example workload.rate)"));
    }
    let values: Vec<SweepValue> = values
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| SweepValue {
            label: v.to_string(),
            toml: v.to_string(),
        })
        .collect();
    if values.is_empty() {
        return Err(format!("`{s}` lists no values"));
    }
    Ok(SweepDim {
        path: path.to_string(),
        values,
        origin: "--sweep",
    })
}

/// One point of the grid: the value of every swept path, and the scenario there.
#[derive(Debug, Clone)]
pub struct Point {
    /// Labels of the values, one per sweep dimension (empty without a sweep).
    pub values: Vec<String>,
    pub loaded: Loaded,
}

/// All points of a run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Swept paths (the leading output columns).
    pub dims: Vec<String>,
    pub points: Vec<Point>,
    /// The plan's hash ([`Plan::hash`]), when it was taken before
    /// the points' texts were dropped (an exploration's sets keep their text only where a
    /// staffing rule is still to solve).
    pub hash: Option<String>,
}

impl Plan {
    /// The scenario at the first point (name, run settings shared by all points).
    pub fn base(&self) -> &scenario::Scenario {
        &self.points[0].loaded.scenario
    }

    /// Hash of everything that determines a run's results: dimensions and every point's
    /// resolved scenario (which includes the seed and replications): the manifest's
    /// `plan_sha256`, by which `--resume` and `merge` know a run.
    pub fn hash(&self) -> String {
        if let Some(h) = &self.hash {
            return h.clone();
        }
        let mut hasher = PlanHasher::new(&self.dims);
        for p in &self.points {
            hasher.point(&p.values, &p.loaded.resolved_text);
        }
        hasher.finish()
    }
}

/// [`Plan::hash`] taken a point at a time: the text is hashed as it is read, never
/// gathered (an exploration's sets' texts together are many megabytes).
pub struct PlanHasher(Sha256);

impl PlanHasher {
    pub fn new(dims: &[String]) -> PlanHasher {
        let mut h = Sha256::new();
        h.update(dims.join("\u{1f}").as_bytes());
        PlanHasher(h)
    }

    /// Adds the next point: its sweep values and resolved text.
    pub fn point(&mut self, values: &[String], text: &str) {
        self.0.update("\u{1e}".as_bytes());
        self.0.update(values.join("\u{1f}").as_bytes());
        self.0.update("\u{1d}".as_bytes());
        self.0.update(text.as_bytes());
    }

    pub fn finish(self) -> String {
        crate::report::manifest::hex(&self.0.finalize())
    }
}

/// Loads every point: `text` with `overrides`, then the point's own. Every problem of every
/// point is reported once, before anything runs.
pub fn load_points(
    label: &str,
    text: &str,
    overrides: &[Override],
    points: Vec<(Vec<String>, Vec<Override>)>,
) -> Result<Vec<Point>, ScenarioError> {
    load_points_with(label, text, overrides, points, &mut |_| {})
}

/// [`load_points`], giving `each` every point as it is loaded, in order.
pub fn load_points_with(
    label: &str,
    text: &str,
    overrides: &[Override],
    points: Vec<(Vec<String>, Vec<Override>)>,
    each: &mut dyn FnMut(&mut Point),
) -> Result<Vec<Point>, ScenarioError> {
    let mut out = Vec::with_capacity(points.len());
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for (values, own) in points {
        let ov: Vec<Override> = overrides.iter().cloned().chain(own).collect();
        match scenario::load(label, text, &ov) {
            Ok(loaded) => {
                let mut point = Point { values, loaded };
                each(&mut point);
                out.push(point);
            }
            Err(e) => {
                for d in e.diagnostics {
                    if !diagnostics.contains(&d) {
                        diagnostics.push(d);
                    }
                }
            }
        }
    }
    ScenarioError::check(label, diagnostics)?;
    Ok(out)
}

/// Loads `text`, applies `overrides`, and expands the sweep (file dimensions, then
/// `cli_dims`) into validated points.
pub fn plan(
    label: &str,
    text: &str,
    overrides: &[Override],
    cli_dims: &[SweepDim],
) -> Result<Plan, ScenarioError> {
    if let Some(d) = cli_dims.iter().find(|d| scenario::is_free_text(&d.path)) {
        let message = format!("--sweep {}: {}", d.path, scenario::FREE_TEXT_SWEEP);
        return Err(ScenarioError::one(label, &d.path, message));
    }
    let base = scenario::load(label, text, overrides)?;
    let mut dims: Vec<SweepDim> = base.scenario.sweep.clone();
    for d in cli_dims {
        match dims.iter_mut().find(|x| x.path == d.path) {
            Some(x) => *x = d.clone(),
            None => dims.push(d.clone()),
        }
    }
    if dims.is_empty() {
        return Ok(Plan {
            hash: None,
            dims: Vec::new(),
            points: vec![Point {
                values: Vec::new(),
                loaded: base,
            }],
        });
    }
    let size = dims
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(d.values.len()));
    if size.is_none_or(|n| n > MAX_POINTS) {
        return Err(ScenarioError::one(
            label,
            "sweep",
            format!("the sweep grid has more than {MAX_POINTS} points; sweep fewer values"),
        ));
    }
    let size = size.unwrap_or(0);
    let mut grid = Vec::with_capacity(size);
    for k in 0..size {
        // Mixed-radix digits of k, last dimension fastest.
        let mut rest = k;
        let mut chosen = vec![0; dims.len()];
        for (j, d) in dims.iter().enumerate().rev() {
            chosen[j] = rest % d.values.len();
            rest /= d.values.len();
        }
        let mut ov = Vec::with_capacity(dims.len());
        let mut values = Vec::with_capacity(dims.len());
        for (d, &c) in dims.iter().zip(&chosen) {
            let v = &d.values[c];
            let origin = match d.origin {
                "--sweep" => format!("--sweep {}={}", d.path, v.label),
                _ => format!("[sweep] \"{}\" = {}", d.path, v.toml),
            };
            ov.push(Override {
                path: d.path.clone(),
                value: v.toml.clone(),
                origin,
            });
            values.push(v.label.clone());
        }
        grid.push((values, ov));
    }
    let points = load_points(label, text, overrides, grid)?;
    Ok(Plan {
        hash: None,
        dims: dims.into_iter().map(|d| d.path).collect(),
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"name = "s"
[workload]
rate = "40/h"
[[workload.class]]
name = "a"
share = 1.0
defect_prob = 0.1
[[policy]]
name = "p"
[[policy.stage]]
kind = "human_review"
name = "r"
reviewers = 2
service = { dist = "constant", value = "1m" }
detect = 0.5
[sweep]
"workload.rate" = ["20/h", "40/h"]
"policy.p.r.reviewers" = [1, 2, 3]
"#;

    #[test]
    fn full_factorial_grid_in_order() {
        let p = plan("s.toml", TEXT, &[], &[]).unwrap();
        assert_eq!(p.dims, ["workload.rate", "policy.p.r.reviewers"]);
        let vals: Vec<String> = p.points.iter().map(|x| x.values.join("|")).collect();
        assert_eq!(vals, ["20/h|1", "20/h|2", "20/h|3", "40/h|1", "40/h|2", "40/h|3"]);
        assert_eq!(p.points[4].loaded.scenario.workload.rate, 40.0);
    }

    #[test]
    fn command_line_sweeps_replace_and_extend() {
        let cli = [
            parse_sweep_arg("workload.rate=10/h").unwrap(),
            parse_sweep_arg("run.seed=1,2").unwrap(),
        ];
        let p = plan("s.toml", TEXT, &[], &cli).unwrap();
        assert_eq!(p.dims, ["workload.rate", "policy.p.r.reviewers", "run.seed"]);
        assert_eq!(p.points.len(), 6);
        assert_eq!(p.points[5].loaded.scenario.run.seed, 2);
    }

    #[test]
    fn bad_values_are_named() {
        let cli = [parse_sweep_arg("workload.rate=20/h,0/h").unwrap()];
        let e = plan("s.toml", TEXT, &[], &cli).unwrap_err().to_string();
        assert!(
            e.contains("workload.rate") && e.contains("--sweep workload.rate=0/h"),
            "{e}"
        );
        let cli = [parse_sweep_arg("policy.q.r.reviewers=1").unwrap()];
        let e = plan("s.toml", TEXT, &[], &cli).unwrap_err().to_string();
        assert!(e.contains("no policy named `q`"), "{e}");
        assert!(parse_sweep_arg("workload.rate=").is_err());
    }
}

/// `--precision METRIC=REL`: stop when the 95% CI half-width of METRIC is within REL of its
/// mean, for every policy and point. `--precision diff.METRIC=REL`: the same of METRIC's
/// paired difference from the baseline (as comparison.csv has it), for every other policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub metric: usize,
    pub rel: f64,
    /// On the paired differences from the baseline, not the policies' own means.
    pub diff: bool,
}

/// The prefix of a target on paired differences.
const DIFF: &str = "diff.";

impl Target {
    /// As written: `harm` or `diff.harm`.
    pub fn name(&self) -> String {
        let prefix = if self.diff { DIFF } else { "" };
        format!("{prefix}{}", NAMES[self.metric])
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Target, String> {
        let (m, r) = s.split_once('=').ok_or_else(|| {
            format!(
                "`{s}` is not METRIC=REL or diff.METRIC=REL (for example escape_rate=0.05, diff.harm=0.05)"
            )
        })?;
        let m = m.trim();
        let (diff, m) = match m.strip_prefix(DIFF) {
            Some(rest) => (true, rest),
            None => (false, m),
        };
        let metric = NAMES.iter().position(|n| *n == m).ok_or_else(|| {
            let head = format!("`{m}` is not a metric");
            unknown(head, m, NAMES, None) + "; see docs/metrics.md for the list"
        })?;
        let rel: f64 = r
            .trim()
            .parse()
            .map_err(|_| format!("`{}` is not a number", r.trim()))?;
        if !(rel > 0.0 && rel.is_finite()) {
            return Err(format!("the relative half-width must be positive, got {rel}"));
        }
        Ok(Target { metric, rel, diff })
    }
}

/// Resolves `--baseline` to a policy index of `sc`.
pub fn baseline_index(sc: &Scenario, name: Option<&str>) -> Result<usize, String> {
    let Some(name) = name else { return Ok(0) };
    sc.policies.iter().position(|p| p.name == name).ok_or_else(|| {
        let names: Vec<&str> = sc.policies.iter().map(|p| p.name.as_str()).collect();
        let head = format!("--baseline: scenario `{}` has no policy named `{name}`", sc.name);
        unknown(head, name, &names, Some("policies are"))
    })
}

/// One sweep point's scenario and results.
#[derive(Debug, Clone)]
pub struct PointRun {
    /// Value labels of the swept paths (empty without a sweep).
    pub values: Vec<String>,
    pub scenario: Scenario,
    /// Replication indices, in the order of `results`.
    pub reps: Vec<u64>,
    pub results: Results,
}

impl PointRun {
    /// Metric `m` of policy `p` and of policy `base`, replication by replication (the same
    /// replication index saw the same workload: common random numbers), where both are
    /// defined.
    pub fn pairs(&self, p: usize, base: usize, m: M) -> Vec<(f64, f64)> {
        let per = &self.results.per_policy;
        (per[p].iter().zip(&per[base]))
            .map(|(x, b)| (x.metrics[m], b.metrics[m]))
            .filter(|(x, b)| x.is_finite() && b.is_finite())
            .collect()
    }
}

/// What a run produced: everything its files are made from.
#[derive(Debug, Clone)]
pub struct RunData {
    /// Swept paths: the leading columns of every file.
    pub dims: Vec<String>,
    pub points: Vec<PointRun>,
    /// Per point, the staffing rules solved there (staffing.csv), in file order.
    pub staffing: Vec<Vec<crate::staffing::Staffed>>,
    /// Index of the baseline policy of comparisons.
    pub baseline: usize,
}

/// Summaries `[point][policy][metric]`.
pub type Summaries = Vec<Vec<Vec<Summary>>>;

impl RunData {
    /// How many replications (of any policy, at any point) stopped at `run.max_backlog`.
    pub fn cut_short(&self) -> u64 {
        (self.points.iter())
            .flat_map(|p| p.results.per_policy.iter().flatten())
            .filter(|r| r.cut_short)
            .count() as u64
    }

    /// Metric `m`'s paired difference from the baseline of every other policy at every
    /// point, over the replications where both are defined (Newcombe's interval for a 0/1
    /// metric): the `mean_diff` and interval of comparison.csv.
    pub fn differences(&self, m: M) -> Vec<Summary> {
        let mut out = Vec::new();
        for pt in &self.points {
            for p in (0..pt.results.per_policy.len()).filter(|&p| p != self.baseline) {
                out.push(summarize_paired(&pt.pairs(p, self.baseline, m), m.is_indicator()));
            }
        }
        out
    }

    /// Each metric summarised over the replications, per point and policy.
    pub fn summaries(&self) -> Summaries {
        self.points
            .iter()
            .map(|pt| {
                pt.results
                    .per_policy
                    .iter()
                    .map(|reps| {
                        M::ALL
                            .iter()
                            .map(|&m| {
                                let values = reps.iter().map(|r| r.metrics[m]);
                                match m.is_indicator() {
                                    true => summarize_indicator(values, 0.95),
                                    false => summarize(values),
                                }
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }
}

/// Relative half-width `hw / |mean|` of a summary: 0 when both are 0, infinite when it is
/// not yet defined (fewer than two values, or a zero mean with spread).
pub fn relative_half_width(s: &Summary) -> f64 {
    let hw = s.half_width();
    if hw == 0.0 && s.mean == 0.0 {
        0.0
    } else if hw.is_finite() && s.mean != 0.0 {
        hw / s.mean.abs()
    } else {
        f64::INFINITY
    }
}

/// The worst relative half-width of each target over every point and policy (for a target
/// on differences, every policy but the baseline).
pub fn achieved(run: &RunData, targets: &[Target]) -> Vec<f64> {
    let sums = targets.iter().any(|t| !t.diff).then(|| run.summaries());
    targets
        .iter()
        .map(|t| match (t.diff, &sums) {
            (false, Some(sums)) => (sums.iter().flatten())
                .map(|ms| relative_half_width(&ms[t.metric]))
                .fold(0.0, f64::max),
            _ => (run.differences(M::ALL[t.metric]).iter())
                .map(relative_half_width)
                .fold(0.0, f64::max),
        })
        .collect()
}
