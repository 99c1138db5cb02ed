//! Running a plan: the staffing rules solved at every point, every point's replications
//! run, the batches of a precision run, and what an interrupted run of the same plan kept
//! taken back instead of run again (`--resume`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use super::{achieved, Plan, PointRun, RunData, Shard, Target};
use crate::metrics::RepResult;
use crate::montecarlo::{run_points, Keep, Results, Workers};
use crate::scenario::{Loaded, Scenario};
use crate::staffing::{solve, written, Staffed, Starts};

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// Every replication asked for was run.
    Complete,
    /// The precision targets were met.
    PrecisionReached,
    /// `--max-replications` was reached before the targets.
    MaxReplications,
    /// A signal stopped the run; the completed replications were kept.
    Interrupted,
}

impl Stop {
    pub fn label(&self) -> &'static str {
        match self {
            Stop::Complete => "all replications run",
            Stop::PrecisionReached => "precision targets reached",
            Stop::MaxReplications => "max replications reached before the precision targets",
            Stop::Interrupted => "interrupted (SIGINT or SIGTERM); completed replications kept",
        }
    }
}

/// Replications read back from files: (point, policy, replication) → result.
pub type Found = BTreeMap<(usize, usize, u64), RepResult>;

/// What an interrupted run of the same plan kept (read back by `--resume`): none of it runs
/// again, so the finished run is the one an uninterrupted run gives, byte for byte.
#[derive(Debug, Default)]
pub struct Kept {
    pub found: Found,
    /// Per point, what its staffing rules chose (`None` where they were not yet solved).
    pub staffing: Vec<Option<Vec<Staffed>>>,
}

impl Kept {
    /// How many replications (of one policy at one point) it holds: the manifest's `resumed`.
    pub fn replications(&self) -> u64 {
        self.found.len() as u64
    }
}

/// What to run: the plan and how many replications.
pub struct Execution<'a> {
    pub plan: &'a Plan,
    pub baseline: usize,
    pub targets: &'a [Target],
    pub max_replications: u64,
    pub shard: Option<Shard>,
    /// Time-series interval (hours) for replication 0, if asked for.
    pub series: Option<f64>,
    /// What an interrupted run of this plan kept.
    pub kept: Option<&'a Kept>,
    pub keep: Keep,
}

/// The result of [`execute`]: everything the files are made from, and why it stopped.
pub struct Executed {
    pub run: RunData,
    pub stop: Stop,
    /// Worst relative half-width of each target, after the last batch.
    pub achieved: Vec<f64>,
    /// What solving the staffing rules has to say (rules that did not settle).
    pub warnings: Vec<String>,
}

/// A point ready to run: its scenario with the staffing chosen (the plan's own when it has
/// no rules: not copied), the rules' rows saying how, and the replications the search
/// already ran at the choice, per policy.
struct Staffing<'a> {
    loaded: Cow<'a, Loaded>,
    rows: Vec<Staffed>,
    results: Vec<Option<Vec<RepResult>>>,
}

/// With staffing rules and a fixed number of replications, points are solved and run a
/// chunk at a time, so an interrupt keeps every finished chunk: the first point alone (its
/// choices start every other search), then about this fraction of the rest at a time…
const CHUNKS: usize = 16;
/// … but at least this many points, to keep the pool busy.
const MIN_CHUNK: usize = 8;
/// A run that hands its points over as they finish ([`execute_into`]) runs chunks of about
/// this many replications (of one policy) per thread, so that it holds few at a time
/// whatever the number of points or replications, and each thread has enough work between
/// the chunks' ends (where the threads wait for the slowest replication).
const HANDED_PER_THREAD: u64 = 256;

/// Receives each point of a run as soon as its replications (the run's share of them) have
/// all finished, in index order: its results are handed over, not kept in the run.
pub type Sink<'s> = &'s mut dyn FnMut(usize, PointRun);

/// Runs the plan. Without targets, replications `0..run.replications` of each point (those
/// of the shard, if any). With targets, batches `[0, n0)`, `[n0, 2n0)`, `[2n0, 4n0)`, …
/// (n0 = `run.replications`, capped by `max_replications`) until every target is met: the
/// batches and the stopping rule depend only on results, never on threads.
///
/// Staffing rules are solved first at every point ([`crate::staffing`]), from the same
/// starts however the points are chunked; `progress` is told of their runs too. What
/// `ex.kept` holds is taken, not run.
///
/// Fails if a replication's metrics are not numbers where they must be (a fault of the
/// simulator, never to be summarised as if the value were undefined), or if a staffing
/// rule cannot be met.
pub fn execute(
    ex: &Execution,
    workers: Workers,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Executed, String> {
    execute_into(ex, workers, progress, None)
}

/// [`execute`], handing each point to `sink` as it finishes (a run of a fixed number of
/// replications; with precision targets every point is kept to the end, as the targets
/// read them all): the run returned holds no results of the points handed over (their
/// scenarios, replication indices and staffing rows stay), and, if interrupted, the results
/// of the points not finished.
pub fn execute_into(
    ex: &Execution,
    workers: Workers,
    progress: &(dyn Fn(u64) + Sync),
    mut sink: Option<Sink>,
) -> Result<Executed, String> {
    let tick = || progress(1);
    let points = &ex.plan.points;
    let n = points.len();
    let first = &points[0].loaded;
    let kept_first = ex.kept.and_then(|k| k.staffing.first()?.as_ref());
    let mut starts = match (first.staffing.is_empty(), kept_first) {
        (true, _) => Some(Starts::of(first, &[])),
        (false, Some(rows)) => Some(Starts::of_rows(first, rows)),
        (false, None) => None,
    };
    let mut staffed: Vec<Option<Staffing>> = (0..n).map(|_| None).collect();
    let mut warnings = Vec::new();
    let mut results: Vec<Results> = (points.iter())
        .map(|p| Results {
            per_policy: vec![Vec::new(); p.loaded.scenario.policies.len()],
        })
        .collect();
    let mut reps_run: Vec<Vec<u64>> = vec![Vec::new(); n];
    let ruled = points.iter().any(|p| !p.loaded.staffing.is_empty());
    let fixed = ex.targets.is_empty();
    let handed = sink.is_some() && fixed;
    let chunks: Vec<Range<usize>> = match (ruled && fixed, handed) {
        (false, false) => std::iter::once(0..n).collect(),
        (ruled, handed) => {
            let mut size = if ruled {
                (n - 1).div_ceil(CHUNKS).max(MIN_CHUNK)
            } else {
                n
            };
            if handed {
                let base = &points[0].loaded.scenario;
                let per_point = base.policies.len() as u64 * ex.owned(0..base.run.replications).len() as u64;
                let chunk = HANDED_PER_THREAD * workers.executor.threads() as u64;
                size = size.min(chunk.div_ceil(per_point.max(1)) as usize).max(1);
            }
            let first = if ruled { 1 } else { 0 };
            let rest = (first..n).step_by(size).map(|a| a..(a + size).min(n));
            (0..first).map(|_| 0..1).chain(rest).collect()
        }
    };
    let mut stop = Stop::Complete;
    for range in chunks {
        if !staff(
            ex,
            range.clone(),
            &mut starts,
            &mut staffed,
            &mut warnings,
            workers,
            &tick,
        )? {
            stop = Stop::Interrupted;
            break;
        }
        if !fixed {
            break;
        }
        let batch: Vec<Vec<u64>> = (range.clone())
            .map(|k| ex.owned(0..points[k].loaded.scenario.run.replications))
            .collect();
        if !run_batch(
            ex,
            range.clone(),
            &staffed,
            &batch,
            &mut results,
            &mut reps_run,
            workers,
            &tick,
        )? {
            stop = Stop::Interrupted;
            break;
        }
        if let Some(sink) = sink.as_mut() {
            for k in range {
                let s = staffed[k].as_mut().expect("staffed before it runs");
                // The search's replications at the choice were taken by the run.
                s.results.iter_mut().for_each(|r| *r = None);
                let empty = Results {
                    per_policy: vec![Vec::new(); results[k].per_policy.len()],
                };
                sink(
                    k,
                    PointRun {
                        values: points[k].values.clone(),
                        scenario: s.loaded.scenario.clone(),
                        reps: reps_run[k].clone(),
                        results: std::mem::replace(&mut results[k], empty),
                    },
                );
            }
        }
    }
    let mut achieved_now = Vec::new();
    if !fixed && stop == Stop::Complete {
        let initial: Vec<u64> = (staffed.iter())
            .map(|s| s.as_ref().expect("staffed").loaded.scenario.run.replications)
            .collect();
        let mut done: Vec<u64> = vec![0; n];
        loop {
            let upto: Vec<u64> = (done.iter().zip(&initial))
                .map(|(&d, &n0)| {
                    let goal = if d == 0 { n0 } else { 2 * d };
                    goal.min(ex.max_replications.max(n0))
                })
                .collect();
            let batch: Vec<Vec<u64>> = (done.iter().zip(&upto)).map(|(&d, &u)| ex.owned(d..u)).collect();
            if !run_batch(
                ex,
                0..n,
                &staffed,
                &batch,
                &mut results,
                &mut reps_run,
                workers,
                &tick,
            )? {
                stop = Stop::Interrupted;
                break;
            }
            done = upto;
            let copied =
                (staffed.iter()).map(|s| s.as_ref().map(|s| (s.loaded.scenario.clone(), s.rows.clone())));
            let run = assemble(ex, copied, results.clone(), reps_run.clone());
            achieved_now = achieved(&run, ex.targets);
            if achieved_now.iter().zip(ex.targets).all(|(a, t)| *a <= t.rel) {
                stop = Stop::PrecisionReached;
                break;
            }
            if done.iter().all(|&d| d >= ex.max_replications) {
                stop = Stop::MaxReplications;
                break;
            }
        }
    }
    Ok(Executed {
        run: assemble(
            ex,
            staffed
                .into_iter()
                .map(|s| s.map(|s| (s.loaded.into_owned().scenario, s.rows))),
            results,
            reps_run,
        ),
        stop,
        achieved: achieved_now,
        warnings,
    })
}

impl Execution<'_> {
    /// Drops from `reps` what [`Self::keep`] does not keep (the staffing search's own
    /// replications, which the run takes).
    fn trim<'r>(&self, reps: impl Iterator<Item = &'r mut RepResult>) {
        if self.keep == Keep::Metrics {
            reps.for_each(RepResult::keep_metrics);
        }
    }

    /// The replications of `range` this run owns (all of them, or its shard's).
    fn owned(&self, range: Range<u64>) -> Vec<u64> {
        range.filter(|i| self.shard.is_none_or(|s| s.owns(*i))).collect()
    }
}

/// Chooses the staffing of the points `range`: what `ex.kept` says they chose, else by
/// solving their rules from `starts` (set by the first point's solution). False if
/// cancelled.
fn staff<'a>(
    ex: &Execution<'a>,
    range: Range<usize>,
    starts: &mut Option<Starts>,
    staffed: &mut [Option<Staffing<'a>>],
    warnings: &mut Vec<String>,
    workers: Workers,
    tick: &(dyn Fn() + Sync),
) -> Result<bool, String> {
    let points = &ex.plan.points;
    let mut unknown = Vec::new();
    for k in range {
        let p = &points[k].loaded;
        let none = || vec![None; p.scenario.policies.len()];
        let chosen = ex.kept.and_then(|kept| kept.staffing.get(k)?.as_ref());
        staffed[k] = match (p.staffing.is_empty(), chosen) {
            (true, _) => Some(Staffing {
                loaded: Cow::Borrowed(p),
                rows: Vec::new(),
                results: none(),
            }),
            (false, Some(rows)) => Some(Staffing {
                loaded: Cow::Owned(without_text(written(p, rows)?)),
                rows: rows.clone(),
                results: none(),
            }),
            (false, None) => {
                unknown.push(k);
                None
            }
        };
    }
    if unknown.is_empty() {
        return Ok(true);
    }
    let loaded: Vec<&Loaded> = unknown.iter().map(|&k| &points[k].loaded).collect();
    let Some(solved) = solve(&loaded, starts.as_ref(), workers, tick)? else {
        return Ok(false);
    };
    // Without starts, `unknown` begins with the first point, which the solver took them from.
    starts.get_or_insert(solved.starts);
    warnings.extend(solved.warnings);
    let each = (solved.points.into_iter()).zip(solved.rows).zip(solved.results);
    for (&k, ((loaded, rows), mut results)) in unknown.iter().zip(each) {
        ex.trim(results.iter_mut().flatten().flatten());
        staffed[k] = Some(Staffing {
            loaded: Cow::Owned(without_text(loaded)),
            rows,
            results,
        });
    }
    Ok(true)
}

/// A staffed copy of a point, without its resolved text: the plan's point keeps the text
/// the manifest and shards record, and a copy's (tens of kilobytes for a commented
/// scenario, at every set of an exploration) is never read again.
fn without_text(mut loaded: Loaded) -> Loaded {
    loaded.resolved_text = String::new();
    loaded
}

/// Runs the replications `batch[s]` of each point `range.start + s`, taking what the
/// staffing search or the kept run already has, and adds them to `results`. False if
/// cancelled (the replications completed for every policy are added).
#[allow(clippy::too_many_arguments)]
fn run_batch(
    ex: &Execution,
    range: Range<usize>,
    staffed: &[Option<Staffing>],
    batch: &[Vec<u64>],
    results: &mut [Results],
    reps_run: &mut [Vec<u64>],
    workers: Workers,
    tick: &(dyn Fn() + Sync),
) -> Result<bool, String> {
    let at = range.start;
    let scenarios: Vec<&Scenario> = (staffed[range].iter())
        .map(|s| &s.as_ref().expect("staffed before it runs").loaded.scenario)
        .collect();
    // Replication 0 runs again when a time series is asked for: neither the search nor
    // the kept files record one.
    let have = |s: usize, r: u64, p: usize| {
        if ex.series.is_some() && r == 0 {
            return None;
        }
        let k = at + s;
        let searched = staffed[k].as_ref()?.results[p].as_ref();
        match searched.and_then(|v| v.get(r as usize)) {
            Some(x) => Some(x.clone()),
            None => ex.kept?.found.get(&(k, p, r)).cloned(),
        }
    };
    let out = run_points(workers, &scenarios, batch, ex.series, ex.keep, &have, tick);
    if let Some(fault) = out.fault {
        return Err(format!(
            "internal error: {fault}; please report this with the scenario"
        ));
    }
    for (s, (r, reps)) in out.results.into_iter().zip(out.reps).enumerate() {
        results[at + s].extend(r);
        reps_run[at + s].extend(reps);
    }
    Ok(!out.interrupted)
}

/// The run so far, taking its replications' results (an exploration's largest part: not
/// copied) and each staffed point's scenario and rules' rows (the caller moves them out at
/// the end of a run, and copies them before); points not yet staffed have their scenario
/// as written and no rows.
fn assemble(
    ex: &Execution,
    staffed: impl IntoIterator<Item = Option<(Scenario, Vec<Staffed>)>>,
    results: Vec<Results>,
    reps: Vec<Vec<u64>>,
) -> RunData {
    let mut rows = Vec::with_capacity(results.len());
    let points = (ex.plan.points.iter().zip(staffed))
        .zip(results.into_iter().zip(reps))
        .map(|((p, s), (results, reps))| {
            let (scenario, staffed_rows) = s.unwrap_or_else(|| (p.loaded.scenario.clone(), Vec::new()));
            rows.push(staffed_rows);
            PointRun {
                values: p.values.clone(),
                scenario,
                reps,
                results,
            }
        })
        .collect();
    RunData {
        dims: ex.plan.dims.clone(),
        points,
        staffing: rows,
        baseline: ex.baseline,
    }
}
