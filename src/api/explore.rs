//! Explorations as calls, for the command line and the browser lab alike: run one (or a
//! shard of one), merge shards, and conclude — analyse the runs and make the files and
//! sentences `oversim explore` writes and prints.

use super::{Failure, Request};
use crate::experiment::{self, baseline_index, Execution, Keep, Kept, PointRun, RunData, Stop};
use crate::explore::analysis::{analyse, sentences, Analysis};
use crate::explore::design::DesignKind;
use crate::explore::fold::{Folded, Folder};
use crate::explore::map::{cells, Cell};
use crate::explore::{self, pilot, Exploration, Spec};
use crate::merge::{check_set, load_run, merged_baseline, merged_manifest, ShardFiles};
use crate::montecarlo::{Results, Workers};
use crate::report::explore::{verdict, ExploreFiles};
use crate::report::manifest::{ExplorationInfo, Manifest, PilotInfo, RunContext};
use crate::scenario::Override;

/// What an exploration concluded: its files, its manifest (with the sentences) and, without
/// a map, the analysis the terminal's table shows; with the exploration itself.
pub struct Explored {
    pub exploration: Exploration,
    pub files: ExploreFiles,
    pub manifest: Manifest,
    pub sentences: Vec<String>,
    pub analysis: Option<Analysis>,
}

/// What [`run`] produced: a whole exploration's conclusions, or a shard's files.
pub enum Outcome {
    Whole(Box<Explored>),
    Shard(Box<ShardFiles>),
}

/// Plans `req` with the exploration `spec`, runs it (or shard `req.shard` of it) on
/// `executor`, and concludes. `progress` hears of each replication of a policy as it ends.
pub fn run(
    req: &Request,
    spec: &Spec,
    workers: Workers,
    ctx: &RunContext,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Outcome, String> {
    let ex = explore::plan(&req.label, &req.text, &req.overrides, spec).map_err(|e| e.to_string())?;
    req.check_work(&ex.plan, Keep::Metrics)?;
    let exec = Execution {
        plan: &ex.plan,
        baseline: baseline_index(ex.plan.base(), req.baseline.as_deref())?,
        targets: &[],
        max_replications: ex.plan.base().run.replications,
        shard: req.shard,
        series: None,
        kept: None,
        keep: Keep::Metrics,
    };
    let ran = execute(&ex, &exec, 0.0, workers, &|| ctx.clone(), progress, None)?;
    Ok(match (req.shard, ran.folded) {
        (Some(s), _) => Outcome::Shard(Box::new(ShardFiles::of(&ex.plan, &ran.run, s, ran.manifest))),
        (None, Some(folded)) => Outcome::Whole(Box::new(conclude(ex, &ran.run, &folded, ran.manifest))),
        (None, None) => return Err("the exploration was interrupted".into()),
    })
}

/// What a pilot chose ([`pilot`]), and whether it was interrupted (then nothing was chosen).
pub enum Piloted {
    Chose(pilot::Choice),
    Interrupted,
}

/// Runs the pilot of the exploration of `text` with `overrides` and `spec` on `workers`,
/// and chooses its replications per set for noise share `target` on `spec`'s metric,
/// against `baseline` ([`crate::explore::pilot`]).
pub fn pilot(
    label: &str,
    text: &str,
    overrides: &[Override],
    spec: &Spec,
    baseline: Option<&str>,
    target: f64,
    workers: Workers,
) -> Result<Piloted, String> {
    let mut overrides = overrides.to_vec();
    overrides.push(Override::set(
        "run.replications",
        &pilot::PILOT_REPLICATIONS.to_string(),
    ));
    let pilot_spec = Spec {
        design: DesignKind::Lhs,
        points: pilot::PILOT_SETS,
        map: None,
        ..spec.clone()
    };
    let ex = explore::plan(label, text, &overrides, &pilot_spec).map_err(|e| e.to_string())?;
    let base = baseline_index(ex.plan.base(), baseline)?;
    let exec = Execution {
        plan: &ex.plan,
        baseline: base,
        targets: &[],
        max_replications: pilot::PILOT_REPLICATIONS,
        shard: None,
        series: None,
        kept: None,
        keep: Keep::Metrics,
    };
    let executed = experiment::execute(&exec, workers, &|_| {})?;
    if executed.stop == experiment::Stop::Interrupted {
        return Ok(Piloted::Interrupted);
    }
    Ok(Piloted::Chose(pilot::choose(
        &executed.run,
        ex.metric,
        base,
        target,
    )))
}

/// Runs the pilot ([`pilot`]) and plans the exploration with the replications it chose,
/// written into `overrides` (so the manifest's scenario, and a merge, have them); with what
/// it found, for the manifest. `Ok(None)`: interrupted, nothing chosen. The replanned
/// scenario's problems come apart ([`Failure::Scenario`]) from the pilot's failures.
pub fn piloted(
    label: &str,
    text: &str,
    overrides: &mut Vec<Override>,
    spec: &Spec,
    baseline: Option<&str>,
    target: f64,
    workers: Workers,
) -> Result<Option<(Exploration, PilotInfo)>, Failure> {
    let c = match pilot(label, text, overrides, spec, baseline, target, workers)? {
        Piloted::Chose(c) => c,
        Piloted::Interrupted => return Ok(None),
    };
    overrides.retain(|o| o.path != "run.replications");
    overrides.push(Override::set("run.replications", &c.replications.to_string()));
    let ex = explore::plan(label, text, overrides, spec)?;
    let policies = &ex.plan.base().policies;
    let output = match policies.len() {
        1 => format!("{} of {}", ex.metric.name(), policies[0].name),
        _ => format!(
            "{} of {} − {}",
            ex.metric.name(),
            policies[c.policy].name,
            policies[baseline_index(ex.plan.base(), baseline)?].name
        ),
    };
    let info = PilotInfo {
        sets: pilot::PILOT_SETS,
        replications: pilot::PILOT_REPLICATIONS,
        noise_share_target: target,
        output,
        noise_share_at_pilot: c.at_pilot,
        chosen: c.replications,
        noise_share_at_chosen: c.at_chosen,
    };
    Ok(Some((ex, info)))
}

/// What the break-even search found: its files and a sentence for each input.
pub struct BreakEvens {
    pub files: [(&'static str, Vec<u8>); 2],
    pub sentences: Vec<String>,
}

/// Runs the break-even search of `ex`'s inputs for `pair` (policy names), or the best and
/// the runner-up at the written values ([`crate::explore::breakeven`]). `Ok(None)`:
/// interrupted.
pub fn breakevens(
    label: &str,
    ex: &Exploration,
    pair: Option<(&str, &str)>,
    workers: Workers,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Option<BreakEvens>, String> {
    let found = crate::explore::breakeven::search(
        label,
        &ex.base_text,
        &ex.inputs,
        ex.metric,
        pair,
        workers,
        progress,
    )?;
    Ok(found.map(|found| BreakEvens {
        sentences: (found.rows.iter())
            .map(|(k, v)| crate::explore::breakeven::sentence(k, v))
            .collect(),
        files: found.files(),
    }))
}

/// What a whole exploration on one machine asks beyond its [`Spec`]: what `oversim
/// explore`'s flags add.
#[derive(Debug, Clone, Default)]
pub struct Asks {
    /// The policy the differences are taken against (default: the first).
    pub baseline: Option<String>,
    /// With `Some(share)`, a pilot chooses the replications per set for this noise share.
    pub pilot: Option<f64>,
    /// The break-even search: for the pair named, or (`Some(None)`) the best and the
    /// runner-up.
    pub breakeven: Option<Option<(String, String)>>,
}

/// A whole exploration's conclusions, the files of its break-even search, if asked, and
/// what solving the staffing rules has to say.
pub struct Whole {
    pub explored: Explored,
    pub breakevens: Option<BreakEvens>,
    pub warnings: Vec<String>,
}

impl Whole {
    /// Every file `oversim explore` writes but the manifest (and report), in order.
    pub fn named(&self) -> Vec<(&str, &[u8])> {
        let mut out = self.explored.files.named();
        if let Some(b) = &self.breakevens {
            out.extend(b.files.iter().map(|(n, t)| (*n, t.as_slice())));
        }
        out
    }
}

/// Runs a whole exploration of `req` on one machine as `oversim explore` does: the pilot
/// if asked, the sets, the break-even search if asked, and the conclusions. `Ok(None)`:
/// interrupted (nothing is kept). `total` is told the replications the sets make once they
/// are planned (after the pilot; staffing rules and the search add theirs as they come).
/// Errors are the command line's messages; the scenario's problems come apart.
pub fn whole(
    req: &Request,
    spec: &Spec,
    asks: &Asks,
    workers: Workers,
    ctx: &dyn Fn() -> RunContext,
    total: &dyn Fn(u64),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Option<Whole>, Failure> {
    let mut overrides = req.overrides.clone();
    if asks.pilot.is_some() {
        // A provisional count, until the pilot chooses (as the command line plans it).
        let r = explore::DEFAULT_REPLICATIONS.to_string();
        overrides.push(Override::set("run.replications", &r));
    }
    let ex = explore::plan(&req.label, &req.text, &overrides, spec)?;
    let baseline =
        baseline_index(ex.plan.base(), asks.baseline.as_deref()).map_err(|e| format!("error: {e}"))?;
    if asks.breakeven.is_some() && ex.map.is_some() {
        let e = "error: --breakeven runs without --map: it chooses its values from what it finds";
        return Err(Failure::Message(e.into()));
    }
    req.check_work(&ex.plan, Keep::Metrics)?;
    let (ex, pilot) = match asks.pilot {
        None => (ex, None),
        Some(share) => {
            let base = asks.baseline.as_deref();
            match piloted(&req.label, &req.text, &mut overrides, spec, base, share, workers)? {
                None => return Ok(None),
                Some((ex, info)) => (ex, Some(info)),
            }
        }
    };
    total(crate::api::replications(&ex.plan, None));
    let exec = Execution {
        plan: &ex.plan,
        baseline,
        targets: &[],
        max_replications: ex.plan.base().run.replications,
        shard: None,
        series: None,
        kept: None,
        keep: Keep::Metrics,
    };
    let ran = execute(&ex, &exec, 0.0, workers, ctx, progress, None)?;
    let (Some(folded), mut manifest) = (ran.folded, ran.manifest) else {
        return Ok(None);
    };
    if let Some(info) = manifest.exploration.as_mut() {
        info.pilot = pilot;
    }
    let breakevens = match &asks.breakeven {
        None => None,
        Some(pair) => {
            let pair = pair.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
            match breakevens(&req.label, &ex, pair, workers, progress)? {
                None => return Ok(None),
                found => found,
            }
        }
    };
    let mut explored = conclude(ex, &ran.run, &folded, manifest);
    if let Some(b) = &breakevens {
        explored.sentences.extend(b.sentences.iter().cloned());
    }
    Ok(Some(Whole {
        explored,
        breakevens,
        warnings: ran.warnings,
    }))
}

/// What [`execute`] ran: the sets' runs, their folds, the manifest, why it stopped and what
/// solving the staffing rules has to say.
pub struct Ran {
    /// The sets, without the results of those folded; a shard's, or an interrupted
    /// exploration's unfinished sets, with theirs.
    pub run: RunData,
    /// Every set folded: a whole exploration that finished (`None` for a shard, which holds
    /// a share of each set's replications, and for an interrupted exploration).
    pub folded: Option<Folded>,
    pub manifest: Manifest,
    pub stop: crate::experiment::Stop,
    pub warnings: Vec<String>,
}

/// Sees each finished set of a whole exploration before it is folded ([`execute`]).
pub type Spool<'s> = &'s mut dyn FnMut(usize, &PointRun);

/// Runs the sets of `ex` as `exec` says and makes the manifest: the pipeline every front
/// end calls (`setup_seconds`: the time planning took; `ctx` is asked once the run ends).
/// A whole exploration folds each set as it finishes ([`Folder`]) and keeps none of its
/// replications; `spool`, if given, first sees each finished set (the command line writes
/// a whole exploration's aside, for `--resume`, and a shard's to its files), and a shard
/// with a spool keeps none either.
pub fn execute(
    ex: &Exploration,
    exec: &Execution,
    setup_seconds: f64,
    workers: Workers,
    ctx: &dyn Fn() -> RunContext,
    progress: &(dyn Fn(u64) + Sync),
    mut spool: Option<Spool>,
) -> Result<Ran, String> {
    let whole = exec.shard.is_none();
    // A shard holds a share of each set's replications, so it cannot fold them: without a
    // spool to take them as they finish, it keeps them.
    let handed = whole || spool.is_some();
    let mut folder = Folder::new(ex, exec.baseline);
    // Replications cut short in the sets handed over (the manifest counts them all).
    let mut cut_short = 0;
    let mut fold = |k: usize, point: PointRun| {
        cut_short += (point.results.per_policy.iter().flatten())
            .filter(|r| r.cut_short)
            .count() as u64;
        if let Some(spool) = spool.as_mut() {
            spool(k, &point);
        }
        if whole {
            folder.add(k, point.results);
        }
    };
    let executed = match handed {
        false => experiment::execute(exec, workers, progress)?,
        true => experiment::execute_into(exec, workers, progress, Some(&mut fold))?,
    };
    let mut run = executed.run;
    // Points a run with precision targets kept to the end (an exploration has none).
    // A whole exploration that was not interrupted has every set folded.
    let complete = whole && executed.stop != Stop::Interrupted;
    if complete {
        for (k, point) in run.points.iter_mut().enumerate() {
            if point.results.per_policy.iter().any(|r| !r.is_empty()) {
                let empty = Results {
                    per_policy: vec![Vec::new(); point.results.per_policy.len()],
                };
                fold(
                    k,
                    PointRun {
                        results: std::mem::replace(&mut point.results, empty),
                        ..point.clone()
                    },
                );
            }
        }
    }
    let done = run.points.iter().map(|p| p.reps.len() as u64).min().unwrap_or(0);
    let cut_short = run.cut_short() + cut_short;
    let mut manifest = Manifest::of_run(exec, &ctx(), &executed.stop, done, cut_short, &[]);
    manifest.exploration = Some(ExplorationInfo::of(ex, setup_seconds));
    manifest.resumed = exec.kept.map(Kept::replications);
    let folded = complete.then(|| folder.finish());
    Ok(Ran {
        run,
        folded,
        manifest,
        stop: executed.stop,
        warnings: executed.warnings,
    })
}

/// Merges an exploration's shards: rebuilds the plan from the design the manifest records,
/// gathers the replications and concludes, as the one-machine exploration would.
pub fn merge(shards: &[ShardFiles]) -> Result<Explored, String> {
    let first = shards.first().ok_or("no shards to merge")?;
    let info = (first.manifest.exploration.as_ref())
        .ok_or_else(|| format!("{}: not the shard of an exploration", first.origin))?;
    let count = check_set(shards)?;
    let label = crate::merge::label_of(&first.manifest);
    // The recorded scenario loaded when the shards ran; if it no longer does, the shard
    // files were changed (a message without the scenario's own `error:` prefix).
    let ex = explore::plan(&label, &info.base_resolved, &[], &info.spec).map_err(|e| {
        let first = e
            .diagnostics
            .first()
            .map(|d| format!("{}: {}", d.path, d.message));
        format!(
            "{label}: the exploration the manifest records does not load: {}",
            first.unwrap_or_default()
        )
    })?;
    let mut folder = Folder::new(&ex, merged_baseline(shards, &ex.plan));
    let merged = load_run(
        shards,
        &ex.plan,
        Some(&mut |k, point: PointRun| folder.add(k, point.results)),
    )?;
    let folded = folder.finish();
    let manifest = merged_manifest(shards, &merged.run, count, merged.cut_short);
    Ok(conclude(ex, &merged.run, &folded, manifest))
}

/// Analyses an exploration's runs: the files, and the sentences on its decision metric
/// (also recorded in the manifest).
pub fn conclude(ex: Exploration, run: &RunData, folded: &Folded, mut manifest: Manifest) -> Explored {
    let (analysis, map_cells): (Option<Analysis>, Option<Vec<Cell>>) = match &ex.map {
        Some(layout) => (None, Some(cells(layout, folded, ex.metric))),
        None => (Some(analyse(&ex, folded)), None),
    };
    let said = match (&analysis, &map_cells) {
        (Some(a), _) => sentences(&ex, folded, a),
        (None, Some(c)) => map_sentences(&ex, c),
        (None, None) => Vec::new(),
    };
    if let Some(info) = manifest.exploration.as_mut() {
        info.sentences = said.clone();
    }
    Explored {
        files: ExploreFiles::of(&ex, run, folded, analysis.as_ref(), map_cells.as_deref()),
        exploration: ex,
        manifest,
        sentences: said,
        analysis,
    }
}

/// What a map says: how many cells each policy wins, and how many are too close to call.
fn map_sentences(ex: &Exploration, cells: &[Cell]) -> Vec<String> {
    let names = ex.policies();
    let mut out = Vec::new();
    let close = cells.iter().filter(|c| c.close).count();
    for (p, name) in names.iter().enumerate() {
        let won = cells.iter().filter(|c| !c.close && c.best == p).count();
        if won > 0 {
            out.push(format!(
                "`{name}` is best on {} in {won} of {} cells.",
                ex.metric.name(),
                cells.len()
            ));
        }
    }
    if close > 0 {
        out.push(format!(
            "{close} of {} cells are {} (the 95% interval of best − runner-up includes 0).",
            cells.len(),
            verdict(&cells[cells.iter().position(|c| c.close).unwrap_or(0)])
        ));
    }
    out
}
