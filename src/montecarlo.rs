//! Many replications of every policy at every sweep point, in parallel, with common random
//! numbers.
//!
//! Replication `i` of every policy at every point draws its workload from the streams of
//! `(seed, i)`, so all policies face the same actions: paired differences between policies
//! are tight, and two identical policies give identical rows. Work is spread over a rayon
//! pool; results are gathered in (point, replication, policy) index order, so the output does
//! not depend on the number of threads or on which thread ran what.

use rayon::prelude::*;

use crate::engine::simulate;
use crate::metrics::RepResult;
use crate::scenario::Scenario;

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
pub fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        builder = builder.num_threads(t);
    }
    builder.build()
}

/// Runs, for each scenario `s` (a sweep point), the replications `reps[s]` of every policy.
/// `on_done` is called (from any thread) after each replication of a policy.
pub fn run_points(
    pool: &rayon::ThreadPool,
    scenarios: &[&Scenario],
    reps: &[Vec<u64>],
    on_done: &(dyn Fn() + Sync),
) -> Vec<Results> {
    let tasks: Vec<(usize, u64, usize)> = scenarios
        .iter()
        .enumerate()
        .flat_map(|(s, sc)| {
            reps[s]
                .iter()
                .flat_map(move |&r| (0..sc.policies.len()).map(move |p| (s, r, p)))
        })
        .collect();
    let flat: Vec<RepResult> = pool.install(|| {
        tasks
            .par_iter()
            .map(|&(s, r, p)| {
                let out = simulate(scenarios[s], p, r);
                on_done();
                out
            })
            .collect()
    });
    let mut out: Vec<Results> = scenarios
        .iter()
        .enumerate()
        .map(|(s, sc)| Results {
            per_policy: (0..sc.policies.len())
                .map(|_| Vec::with_capacity(reps[s].len()))
                .collect(),
        })
        .collect();
    for (&(s, _, p), r) in tasks.iter().zip(flat) {
        out[s].per_policy[p].push(r);
    }
    out
}

/// Runs replications `0..run.replications` of every policy of one scenario.
pub fn run(
    scenario: &Scenario,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Results, rayon::ThreadPoolBuildError> {
    let pool = pool(threads)?;
    let reps: Vec<u64> = (0..scenario.run.replications).collect();
    Ok(run_points(&pool, &[scenario], &[reps], on_done)
        .pop()
        .expect("one point"))
}
