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
}

/// Every task on the calling thread, in order.
pub struct Sequential;

impl Executor for Sequential {
    fn map(&self, n: usize, task: &(dyn Fn(usize) -> Option<RepResult> + Sync)) -> Vec<Option<RepResult>> {
        (0..n).map(task).collect()
    }
}

#[cfg(feature = "cli")]
impl Executor for rayon::ThreadPool {
    fn map(&self, n: usize, task: &(dyn Fn(usize) -> Option<RepResult> + Sync)) -> Vec<Option<RepResult>> {
        use rayon::prelude::*;
        self.install(|| (0..n).into_par_iter().map(task).collect())
    }
}

/// Results of one scenario: `per_policy[p][k]` is the `k`-th replication run of policy `p`.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub per_policy: Vec<Vec<RepResult>>,
}

impl Results {
    /// Appends another batch of replications of the same policies.
    pub fn extend(&mut self, more: Results) {
        for (mine, theirs) in self.per_policy.iter_mut().zip(more.per_policy) {
            mine.extend(theirs);
        }
    }
}

/// A worker pool: `None` threads means all cores.
#[cfg(feature = "cli")]
pub fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        builder = builder.num_threads(t);
    }
    builder.build()
}

/// Set by the command line's signal handler: replications not yet started are skipped and
/// running ones give up within [`crate::engine::CANCEL_CHECK`] events.
pub static CANCEL: AtomicBool = AtomicBool::new(false);

/// What [`run_points`] ran.
pub struct Batch {
    /// Per point, the replications whose every policy completed, in order.
    pub reps: Vec<Vec<u64>>,
    pub results: Vec<Results>,
    /// True if [`CANCEL`] stopped the batch before every replication completed.
    pub interrupted: bool,
    /// A replication whose metrics are not numbers where they must be: a fault, reported,
    /// never summarised.
    pub fault: Option<String>,
}

/// What a run already has: `have(s, r, p)` is replication `r` of policy `p` at point `s`
/// if it was run before (by the staffing rules' search), so it is not run again.
pub type Have<'a> = &'a (dyn Fn(usize, u64, usize) -> Option<RepResult> + Sync);

/// Runs, for each scenario `s` (a sweep point), the replications `reps[s]` of every policy
/// that `have` does not already hold. `on_done` is called (from any thread) after each
/// replication of a policy. If [`CANCEL`] is set, only replications completed for every
/// policy are kept. With `series`, replication 0 records a time series in intervals of
/// that many hours.
pub fn run_points(
    pool: &(impl Executor + ?Sized),
    scenarios: &[&Scenario],
    reps: &[Vec<u64>],
    series: Option<f64>,
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
    let flat = pool.map(tasks.len(), &|k| {
        let (s, r, p) = tasks[k];
        if CANCEL.load(Ordering::Relaxed) {
            return None;
        }
        // The time series, if asked for, comes from replication 0.
        let out = try_simulate_series(scenarios[s], p, r, &CANCEL, series.filter(|_| r == 0));
        on_done();
        out
    });
    let interrupted = flat.iter().any(Option::is_none);
    let fault = tasks.iter().zip(&flat).find_map(|(&(s, r, p), out)| {
        let e = out.as_ref()?.metrics.check().err()?;
        Some(format!(
            "replication {r} of policy `{}`: {e}",
            scenarios[s].policies[p].name
        ))
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
    // Every (point, replication, policy), held or run, in order.
    let mut ran = flat.into_iter();
    let mut flat = (0..all.len()).map(|k| match held.remove(&k) {
        Some(x) => Some(x),
        None => ran.next().flatten(),
    });
    let tasks = all;
    // The tasks of one (point, replication) are consecutive: keep it only if all completed.
    let mut k = 0;
    while k < tasks.len() {
        let (s, r, _) = tasks[k];
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
/// `None` if [`CANCEL`] stopped it; `Err` on a fault, as [`run_points`] reports it.
pub fn run_jobs(
    pool: &(impl Executor + ?Sized),
    jobs: &[Job],
    on_done: &(dyn Fn() + Sync),
) -> Result<Option<Vec<Vec<RepResult>>>, String> {
    let tasks: Vec<(usize, u64)> = (jobs.iter().enumerate())
        .flat_map(|(j, job)| (0..job.replications).map(move |r| (j, r)))
        .collect();
    let flat = pool.map(tasks.len(), &|k| {
        let (j, r) = tasks[k];
        if CANCEL.load(Ordering::Relaxed) {
            return None;
        }
        let out = try_simulate_series(jobs[j].scenario, jobs[j].policy, r, &CANCEL, None);
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
#[cfg(feature = "cli")]
pub fn run(
    scenario: &Scenario,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Results, rayon::ThreadPoolBuildError> {
    let pool = pool(threads)?;
    let reps: Vec<u64> = (0..scenario.run.replications).collect();
    Ok(
        run_points(&pool, &[scenario], &[reps], None, &|_, _, _| None, on_done)
            .results
            .pop()
            .expect("one point"),
    )
}
