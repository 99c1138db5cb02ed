//! Many replications of every policy at every sweep point, in parallel, with common random
//! numbers.
//!
//! Replication `i` of every policy at every point draws its workload from the streams of
//! `(seed, i)`, so all policies face the same actions: paired differences between policies
//! are tight, and two identical policies give identical rows. Work is spread by an
//! [`Executor`] (a rayon pool on the command line, one thread in the browser); results are
//! gathered in (point, replication, policy) index order, so the output does not depend on
//! the number of threads or on which thread ran what.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::engine::try_simulate_series;
use crate::metrics::RepResult;
use crate::scenario::Scenario;

/// Runs independent tasks `0..n`, in any order and on any threads, and returns their
/// results in task order.
pub trait Executor {
    fn map(&self, n: usize, task: &(dyn Fn(usize) -> Option<RepResult> + Sync)) -> Vec<Option<RepResult>>;
    /// How many tasks it runs at once.
    fn threads(&self) -> usize;
}

/// Every task on the calling thread, in order.
pub struct Sequential;

impl Executor for Sequential {
    fn map(&self, n: usize, task: &(dyn Fn(usize) -> Option<RepResult> + Sync)) -> Vec<Option<RepResult>> {
        (0..n).map(task).collect()
    }

    fn threads(&self) -> usize {
        1
    }
}

#[cfg(feature = "native")]
impl Executor for rayon::ThreadPool {
    fn map(&self, n: usize, task: &(dyn Fn(usize) -> Option<RepResult> + Sync)) -> Vec<Option<RepResult>> {
        use rayon::prelude::*;
        self.install(|| (0..n).into_par_iter().map(task).collect())
    }

    fn threads(&self) -> usize {
        self.current_num_threads()
    }
}

/// Results of one scenario: `per_policy[p][k]` is the `k`-th replication run of policy `p`.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub per_policy: Vec<Vec<RepResult>>,
}

impl Results {
    /// Appends another batch of replications of the same policies (taken whole, not
    /// copied, when there are none yet).
    pub fn extend(&mut self, more: Results) {
        for (mine, theirs) in self.per_policy.iter_mut().zip(more.per_policy) {
            if mine.is_empty() {
                *mine = theirs;
            } else {
                mine.extend(theirs);
            }
        }
    }
}

/// The command line's worker pool.
#[cfg(feature = "native")]
pub type Pool = rayon::ThreadPool;

/// A worker pool: `None` threads means all cores.
#[cfg(feature = "native")]
pub fn pool(threads: Option<usize>) -> Result<Pool, rayon::ThreadPoolBuildError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        builder = builder.num_threads(t);
    }
    builder.build()
}

/// Where replications run: an [`Executor`], and the token that cancels them. Once `cancel`
/// is set (from any thread: the command line's signal handler, a notebook's interrupt),
/// replications not yet started are skipped and running ones give up within
/// [`crate::engine::CANCEL_CHECK`] events. The core keeps no process-wide state: two runs
/// in one process cancel apart.
#[derive(Clone, Copy)]
pub struct Workers<'a> {
    pub executor: &'a dyn Executor,
    pub cancel: Option<&'a AtomicBool>,
}

impl<'a> Workers<'a> {
    /// Work on `executor` that nothing cancels.
    pub fn new(executor: &'a dyn Executor) -> Workers<'a> {
        Workers {
            executor,
            cancel: None,
        }
    }

    /// The same work, stopped once `cancel` is set.
    pub fn cancelled_by(self, cancel: &'a AtomicBool) -> Workers<'a> {
        Workers {
            cancel: Some(cancel),
            ..self
        }
    }
}

/// Runs one replication, giving up (`None`) once `cancel` is set.
fn simulate(
    cancel: Option<&AtomicBool>,
    scenario: &Scenario,
    policy: usize,
    replication: u64,
    series: Option<f64>,
) -> Option<RepResult> {
    let never = AtomicBool::new(false);
    let cancel = cancel.unwrap_or(&never);
    if cancel.load(Ordering::Relaxed) {
        return None;
    }
    try_simulate_series(scenario, policy, replication, cancel, series)
}

/// Tasks [`run_points`] gives the executor at a time: enough to keep every thread of a
/// large machine busy (a chunk ends when its slowest replication does), few enough that a
/// chunk's results are small beside the batch's.
const RUN_CHUNK: usize = 4096;

/// What [`run_points`] ran.
pub struct Batch {
    /// Per point, the replications whose every policy completed, in order.
    pub reps: Vec<Vec<u64>>,
    pub results: Vec<Results>,
    /// True if cancellation stopped the batch before every replication completed.
    pub interrupted: bool,
    /// A replication whose metrics are not numbers where they must be: a fault, reported,
    /// never summarised.
    pub fault: Option<String>,
}

/// What a run already has: `have(s, r, p)` is replication `r` of policy `p` at point `s`
/// if it was run before (by the staffing rules' search), so it is not run again.
pub type Have<'a> = &'a (dyn Fn(usize, u64, usize) -> Option<RepResult> + Sync);

/// What a run keeps of each replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Everything: a run's files report its stages, classes and kinds.
    All,
    /// Its metrics, ledger and flags: an exploration's analysis reads nothing else, and the
    /// stage, class and kind rows are most of a replication's memory.
    Metrics,
}

impl Keep {
    /// Drops from `r` what is not kept.
    pub fn trim(self, r: &mut RepResult) {
        match self {
            Keep::All => {}
            Keep::Metrics => r.keep_metrics(),
        }
    }
}

/// Runs, for each scenario `s` (a sweep point), the replications `reps[s]` of every policy
/// that `have` does not already hold, keeping of each what `keep` says. `on_done` is called (from any thread) after each
/// replication of a policy. If cancelled, only replications completed for every policy are
/// kept. With `series`, replication 0 records a time series in intervals of
/// that many hours.
pub fn run_points(
    workers: Workers,
    scenarios: &[&Scenario],
    reps: &[Vec<u64>],
    series: Option<f64>,
    keep: Keep,
    have: Have,
    on_done: &(dyn Fn() + Sync),
) -> Batch {
    let all: Vec<(usize, u64, usize)> = scenarios
        .iter()
        .enumerate()
        .flat_map(|(s, sc)| {
            reps[s]
                .iter()
                .flat_map(move |&r| (0..sc.policies.len()).map(move |p| (s, r, p)))
        })
        .collect();
    // What is held, by task index (few or none: kept sparse, as a run may have millions).
    let mut held: std::collections::BTreeMap<usize, RepResult> = std::collections::BTreeMap::new();
    for (k, &(s, r, p)) in all.iter().enumerate() {
        if let Some(x) = have(s, r, p) {
            held.insert(k, x);
        }
    }
    let tasks: Vec<(usize, u64, usize)> = (all.iter().enumerate())
        .filter(|(k, _)| !held.contains_key(k))
        .map(|(_, t)| *t)
        .collect();
    let cancel = workers.cancel;
    let run = |k: usize| {
        let (s, r, p) = tasks[k];
        // The time series, if asked for, comes from replication 0.
        let out = simulate(cancel, scenarios[s], p, r, series.filter(|_| r == 0));
        on_done();
        out
    };
    let mut interrupted = false;
    let mut fault = None;
    // The tasks run a chunk at a time and their results are sorted into place as they
    // come, so that a batch holds its results once, plus one chunk in flight (an
    // exploration's batch is every set's replications).
    let mut done = 0;
    let mut chunk = Vec::new().into_iter();
    let mut ran = std::iter::from_fn(|| {
        if chunk.len() == 0 && done < tasks.len() {
            let n = RUN_CHUNK.min(tasks.len() - done);
            chunk = Default::default(); // the spent chunk's buffer goes before the next's comes
            let part = workers.executor.map(n, &|i| run(done + i));
            interrupted |= part.iter().any(Option::is_none);
            if fault.is_none() {
                fault = tasks[done..].iter().zip(&part).find_map(|(&(s, r, p), out)| {
                    let e = out.as_ref()?.metrics.check().err()?;
                    Some(format!(
                        "replication {r} of policy `{}`: {e}",
                        scenarios[s].policies[p].name
                    ))
                });
            }
            done += n;
            chunk = part.into_iter();
        }
        chunk.next()
    });
    let mut results: Vec<Results> = scenarios
        .iter()
        .enumerate()
        .map(|(s, sc)| Results {
            per_policy: (0..sc.policies.len())
                .map(|_| Vec::with_capacity(reps[s].len()))
                .collect(),
        })
        .collect();
    let mut kept: Vec<Vec<u64>> = vec![Vec::new(); scenarios.len()];
    {
        // Every (point, replication, policy), held or run, in order.
        let mut flat = (0..all.len()).map(|k| {
            let mut x = match held.remove(&k) {
                Some(x) => Some(x),
                None => ran.next().flatten(),
            };
            x.iter_mut().for_each(|x| keep.trim(x));
            x
        });
        // The tasks of one (point, replication) are consecutive: keep it only if all
        // completed.
        let mut k = 0;
        while k < all.len() {
            let (s, r, _) = all[k];
            let n = scenarios[s].policies.len();
            let group: Vec<Option<RepResult>> = flat.by_ref().take(n).collect();
            if group.iter().all(Option::is_some) {
                kept[s].push(r);
                for (p, res) in group.into_iter().enumerate() {
                    results[s].per_policy[p].extend(res);
                }
            }
            k += n;
        }
    }
    Batch {
        reps: kept,
        results,
        interrupted,
        fault,
    }
}

/// One policy of one scenario, over replications `0..replications`.
pub struct Job<'a> {
    pub scenario: &'a Scenario,
    pub policy: usize,
    pub replications: u64,
}

/// Runs every job's replications in parallel: per job, its results in replication order.
/// `None` if cancelled; `Err` on a fault, as [`run_points`] reports it.
pub fn run_jobs(
    workers: Workers,
    jobs: &[Job],
    on_done: &(dyn Fn() + Sync),
) -> Result<Option<Vec<Vec<RepResult>>>, String> {
    let tasks: Vec<(usize, u64)> = (jobs.iter().enumerate())
        .flat_map(|(j, job)| (0..job.replications).map(move |r| (j, r)))
        .collect();
    let cancel = workers.cancel;
    let flat = workers.executor.map(tasks.len(), &|k| {
        let (j, r) = tasks[k];
        let out = simulate(cancel, jobs[j].scenario, jobs[j].policy, r, None);
        on_done();
        out
    });
    if flat.iter().any(Option::is_none) {
        return Ok(None);
    }
    let mut out: Vec<Vec<RepResult>> = jobs
        .iter()
        .map(|j| Vec::with_capacity(j.replications as usize))
        .collect();
    for (&(j, r), res) in tasks.iter().zip(flat) {
        let res = res.expect("checked above");
        if let Err(e) = res.metrics.check() {
            let name = &jobs[j].scenario.policies[jobs[j].policy].name;
            return Err(format!("replication {r} of policy `{name}`: {e}"));
        }
        out[j].push(res);
    }
    Ok(Some(out))
}

/// Runs replications `0..run.replications` of every policy of one scenario.
#[cfg(feature = "native")]
pub fn run(
    scenario: &Scenario,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Results, rayon::ThreadPoolBuildError> {
    let pool = pool(threads)?;
    let reps: Vec<u64> = (0..scenario.run.replications).collect();
    Ok(run_points(
        Workers::new(&pool),
        &[scenario],
        &[reps],
        None,
        Keep::All,
        &|_, _, _| None,
        on_done,
    )
    .results
    .pop()
    .expect("one point"))
}
