//! Many replications of every policy, in parallel, with common random numbers.
//!
//! Replication `i` of every policy draws its workload from the streams of `(seed, i)`, so
//! all policies face the same actions: paired differences between policies are tight, and
//! two identical policies give identical rows. Work is spread over a rayon pool; results
//! are gathered in (replication, policy) index order, so the output does not depend on the
//! number of threads or on which thread ran what.

use rayon::prelude::*;

use crate::engine::simulate;
use crate::metrics::RepResult;
use crate::scenario::Scenario;

/// Results of a run: `per_policy[p][i]` is replication `i` of policy `p`.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub per_policy: Vec<Vec<RepResult>>,
}

/// Runs every replication of every policy. `threads = None` uses all cores; `on_done` is
/// called (from any thread) after each replication, for progress reporting.
pub fn run(
    scenario: &Scenario,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Results, rayon::ThreadPoolBuildError> {
    let reps = scenario.run.replications;
    let n_pol = scenario.policies.len() as u64;
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        builder = builder.num_threads(t);
    }
    let pool = builder.build()?;
    let flat: Vec<RepResult> = pool.install(|| {
        (0..reps * n_pol)
            .into_par_iter()
            .map(|task| {
                let (rep, policy) = (task / n_pol, (task % n_pol) as usize);
                let r = simulate(scenario, policy, rep);
                on_done();
                r
            })
            .collect()
    });
    let mut per_policy: Vec<Vec<RepResult>> = (0..n_pol).map(|_| Vec::with_capacity(reps as usize)).collect();
    for (task, r) in flat.into_iter().enumerate() {
        per_policy[task % n_pol as usize].push(r);
    }
    Ok(Results { per_policy })
}
