//! The simulation core as one call, for programs that embed oversim (the browser page, a
//! notebook, another tool): scenario text in, the result files' text out. Nothing here
//! reads files, starts threads or reads the clock, so it builds for
//! `wasm32-unknown-unknown`; the caller passes the executor and the manifest's context.
//!
//! The files are byte for byte those `oversim run` writes for the same scenario text,
//! overrides, seed and replications.

pub mod explore;

use crate::experiment::{self, baseline_index, Execution, Keep, Kept, Plan, RunData, Shard, Stop};
use crate::merge::{check_set, load_run, merged_manifest, sweep_plan, timeseries, ShardFiles};
use crate::montecarlo::Workers;
use crate::report::manifest::{Manifest, RunContext};
use crate::report::{self, ResultFiles};
use crate::scenario::{Override, SweepDim};

/// Why a call failed: a scenario's problems (each with its line and key path, for a caller
/// that shows them apart: Python's `ScenarioError`), or another of the command line's
/// messages.
#[derive(Debug)]
pub enum Failure {
    Scenario(crate::input::ScenarioError),
    Message(String),
}

impl From<String> for Failure {
    fn from(e: String) -> Failure {
        Failure::Message(e)
    }
}

impl From<crate::input::ScenarioError> for Failure {
    fn from(e: crate::input::ScenarioError) -> Failure {
        Failure::Scenario(e)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Scenario(e) => e.fmt(f),
            Failure::Message(m) => f.write_str(m),
        }
    }
}

/// What to run: the scenario and what the command line would add to it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// How the scenario is named in messages (a file name, or `<default scenario>`).
    pub label: String,
    pub text: String,
    /// `--set` overrides, in order; `-r N` and `--seed S` are `run.replications` and
    /// `run.seed` overrides (see [`Request::replications`] and [`Request::seed`]).
    pub overrides: Vec<Override>,
    /// `--sweep` dimensions.
    pub sweep: Vec<SweepDim>,
    /// `--baseline`: the policy comparisons are made against (default: the first).
    pub baseline: Option<String>,
    /// `--timeseries`: the interval, hours, of replication 0's time series.
    pub series: Option<f64>,
    /// `--shard K/N`: only replications i with i % N == K.
    pub shard: Option<Shard>,
    /// The memory, in bytes, a run's results must fit in (the browser's); `None`: no limit.
    pub memory: Option<f64>,
}

impl Request {
    /// The scenario `text`, named `label` in messages.
    pub fn new(label: &str, text: &str) -> Request {
        Request {
            label: label.to_string(),
            text: text.to_string(),
            ..Request::default()
        }
    }

    /// Refuses a run of `plan` that cannot fit: a time series over the cap, or results over
    /// [`Request::memory`]; as the command line refuses it, with its numbers. `keep` is what
    /// the run keeps of each replication.
    pub fn check_work(&self, plan: &Plan, keep: Keep) -> Result<(), String> {
        let work = crate::estimate::Work::of(plan, None, self.series, keep);
        let work = work.share(self.shard.map_or(1, |s| s.count));
        (work.check(self.memory.unwrap_or(f64::INFINITY), self.series))
            .map_err(|e| format!("error: {}: {e}", self.label))
    }

    /// As `-r N`.
    pub fn replications(mut self, n: u64) -> Request {
        self.overrides
            .push(Override::set("run.replications", &n.to_string()));
        self
    }

    /// As `--seed S`.
    pub fn seed(mut self, seed: u64) -> Request {
        self.overrides.push(Override::set("run.seed", &seed.to_string()));
        self
    }
}

/// What a run produced.
pub struct Output {
    pub run: RunData,
    pub sums: crate::experiment::Summaries,
    pub comps: report::Comparisons,
    pub files: ResultFiles,
    pub manifest: Manifest,
    pub stop: Stop,
    /// What solving the staffing rules has to say.
    pub warnings: Vec<String>,
}

/// Runs `req` on `executor`; `progress` is told of each replication of a policy as it
/// completes. Errors are the command line's messages (a scenario's, one per line).
pub fn run(
    req: &Request,
    workers: Workers,
    ctx: &RunContext,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Output, String> {
    let plan =
        experiment::plan(&req.label, &req.text, &req.overrides, &req.sweep).map_err(|e| e.to_string())?;
    run_plan(&plan, req, workers, &|| ctx.clone(), progress)
}

/// Plans `req` and checks what `oversim validate` checks of it (the scenario, its
/// overrides and sweep, and its `[uncertain]` inputs at the ends of their ranges): the
/// plan, or every problem found, each with its line and key path.
pub fn validate(req: &Request) -> Result<Plan, crate::input::ScenarioError> {
    let plan = experiment::plan(&req.label, &req.text, &req.overrides, &req.sweep)?;
    crate::explore::check_inputs(&req.label, &req.text, &req.overrides, &plan.base().uncertain)?;
    Ok(plan)
}

/// The replications a run of `plan` makes, every policy's counted, before any staffing
/// rule's evaluations (which a progress count adds as they come); a shard's share.
pub fn replications(plan: &Plan, shard: Option<Shard>) -> u64 {
    let all: u64 = (plan.points.iter())
        .map(|p| p.loaded.scenario.run.replications * p.loaded.scenario.policies.len() as u64)
        .sum();
    shard.map_or(all, |s| all.div_ceil(s.count))
}

/// Runs shard `req.shard` of `req` and returns the files `oversim run --shard` writes.
pub fn run_shard(
    req: &Request,
    workers: Workers,
    ctx: &RunContext,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ShardFiles, String> {
    let shard = req.shard.ok_or("a shard run needs a shard (K/N)")?;
    let plan =
        experiment::plan(&req.label, &req.text, &req.overrides, &req.sweep).map_err(|e| e.to_string())?;
    let out = run_plan(&plan, req, workers, &|| ctx.clone(), progress)?;
    Ok(ShardFiles::of(&plan, &out.run, shard, out.manifest))
}

/// Merges the shards of one run (of a scenario, not an exploration) into the files the
/// one-machine run writes, and its manifest; as `oversim merge` does.
pub fn merge(shards: &[ShardFiles]) -> Result<(RunData, ResultFiles, Manifest), String> {
    let first = shards.first().ok_or("no shards to merge")?;
    if first.manifest.exploration.is_some() {
        return Err(format!(
            "{}: the shards of an exploration merge with `oversim merge`",
            first.origin
        ));
    }
    let count = check_set(shards)?;
    let plan = sweep_plan(&first.manifest)?;
    let merged = load_run(shards, &plan, None)?;
    let run = merged.run;
    let sums = run.summaries();
    let comps = report::comparisons(&run);
    let mut files = ResultFiles::of(&run, &sums, &comps);
    files.timeseries = timeseries(shards);
    let manifest = merged_manifest(shards, &run, count, merged.cut_short);
    Ok((run, files, manifest))
}

/// Runs `plan` (of `req`, planned already) as `req` asks; `ctx` is asked for the manifest's
/// context once the run has ended.
pub fn run_plan(
    plan: &Plan,
    req: &Request,
    workers: Workers,
    ctx: &dyn Fn() -> RunContext,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Output, String> {
    req.check_work(plan, Keep::All)?;
    let baseline = baseline_index(plan.base(), req.baseline.as_deref())?;
    let ex = Execution {
        plan,
        baseline,
        targets: &[],
        max_replications: plan.base().run.replications,
        shard: req.shard,
        series: req.series,
        kept: None,
        keep: Keep::All,
    };
    execute(&ex, workers, ctx, progress)
}

/// Runs `ex` and makes its files and manifest: the pipeline every front end (the command
/// line, the browser, a notebook) calls, adding only what is native to it. `ctx` is asked
/// for the manifest's context once the run has ended (its clock and wall time).
pub fn execute(
    ex: &Execution,
    workers: Workers,
    ctx: &dyn Fn() -> RunContext,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Output, String> {
    let executed = experiment::execute(ex, workers, progress)?;
    let run = executed.run;
    let done = run.points.iter().map(|p| p.reps.len() as u64).min().unwrap_or(0);
    let mut manifest = Manifest::of_run(
        ex,
        &ctx(),
        &executed.stop,
        done,
        run.cut_short(),
        &executed.achieved,
    );
    manifest.resumed = ex.kept.map(Kept::replications);
    let sums = run.summaries();
    let comps = report::comparisons(&run);
    let files = ResultFiles::of(&run, &sums, &comps);
    Ok(Output {
        run,
        sums,
        comps,
        files,
        manifest,
        stop: executed.stop,
        warnings: executed.warnings,
    })
}

/// A slider of the browser lab: a `--set` path, its label, range and current value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Slider {
    pub path: String,
    pub label: String,
    pub min: f64,
    pub max: f64,
    pub step: f64,
    /// Written after the number (`/h`, `d`), or empty.
    pub unit: String,
    pub value: f64,
}

impl Slider {
    /// A slider over `min..=max` in steps of `step` that can show `value`: the range grows
    /// to hold it, and the steps shift so that it lies on one (a range input snaps to them).
    fn showing(
        path: String,
        label: String,
        (min, max, step): (f64, f64, f64),
        unit: &str,
        value: f64,
    ) -> Slider {
        let min = min.min(value);
        let min = value - step * ((value - min) / step + 1e-9).floor();
        Slider {
            path,
            label,
            min,
            max: max.max(value),
            step,
            unit: unit.to_string(),
            value,
        }
    }
}

/// What the lab can move in a scenario, the policies a run of it compares, the
/// `[uncertain]` inputs an exploration of it varies (their paths), and the file's own run
/// settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Levers {
    pub policies: Vec<String>,
    pub sliders: Vec<Slider>,
    pub uncertain: Vec<String>,
    /// The measured simulated time of a replication (`run.horizon`), hours.
    pub horizon_hours: f64,
    /// The file's `run.replications`.
    pub replications: u64,
    /// The file's `run.seed`, as text (a JavaScript number holds only 53 bits).
    pub seed: String,
}

/// The levers the lab offers for scenario `text`: AI actions per hour, how often the agent
/// drifts, each class's harm and value, and each stage's own levers ([`crate::stages::Kind::LEVERS`]),
/// where the scenario writes the key as a number.
pub fn levers(label: &str, text: &str) -> Result<Levers, String> {
    let sc = crate::scenario::load(label, text, &[])
        .map_err(|e| e.to_string())?
        .scenario;
    let number = |path: &str| crate::scenario::overrides::get(text, path).and_then(|v| v.parse::<f64>().ok());
    let mut out = vec![Slider::showing(
        "workload.rate".into(),
        "AI actions per hour".into(),
        (5.0, 200.0, 5.0),
        "/h",
        sc.workload.rate,
    )];
    if let Some(d) = &sc.workload.drift {
        out.push(Slider::showing(
            "workload.drift.every".into(),
            "days between drifts (mean)".into(),
            (1.0, 60.0, 1.0),
            "d",
            d.every / 24.0,
        ));
    }
    for c in &sc.workload.classes {
        for (key, what, v) in [
            ("harm", "harm of a defect", c.harm),
            ("value", "value of an action", c.value),
        ] {
            if v > 0.0 {
                out.push(Slider::showing(
                    format!("workload.class.{}.{key}", c.name),
                    format!("{}: {what}", c.name),
                    (0.0, (4.0 * v).max(10.0), if v >= 10.0 { 1.0 } else { 0.1 }),
                    "",
                    v,
                ));
            }
        }
    }
    for p in &sc.policies {
        for s in &p.stages {
            for l in s.kind.levers() {
                let path = format!("policy.{}.{}.{}", p.name, s.name, l.key);
                if let Some(value) = number(&path) {
                    let label = format!("{} {}: {}", p.name, s.name, l.label);
                    out.push(Slider::showing(path, label, (l.min, l.max, l.step), "", value));
                }
            }
        }
    }
    Ok(Levers {
        policies: sc.policies.iter().map(|p| p.name.clone()).collect(),
        sliders: out,
        uncertain: sc.uncertain.iter().map(|u| u.path.clone()).collect(),
        horizon_hours: sc.run.horizon,
        replications: sc.run.replications,
        seed: sc.run.seed.to_string(),
    })
}
