//! The performance floor: the Kiefer–Wolfowitz recursion (Lindley's for one server) for the
//! reference model — one FIFO review stage with `c` reviewers, Poisson arrivals,
//! exponential reviews, defect draws and detection — with no event list at all.
//!
//! It makes the same keyed draws as the engine does on that model (each arrival's gap, each
//! action's defect uniform, and the review's service time and, for a defect, its decision,
//! keyed by the stage's name, `STAGE`), so its waits are the engine's sample path. Benchmarks divide
//! the engine's time per action by this one's; tests check that both agree.

use rand_distr::{Distribution, Exp1};

use crate::rng::{attempt_entity, domain, purpose, uniform, Ahead, Keyed, ATTEMPT_BITS};

/// The name of the reference model's review stage (the default name of a `human_review`).
pub const STAGE: &str = "human-review";

/// The reference model's parameters.
#[derive(Debug, Clone, Copy)]
pub struct Reference {
    /// Arrivals per hour.
    pub rate: f64,
    /// Mean review time, hours.
    pub mean_service: f64,
    pub reviewers: usize,
    pub defect_prob: f64,
    pub detect: f64,
    pub horizon: f64,
}

/// What one replication of the recursion measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloorResult {
    /// Actions that arrived in the horizon.
    pub arrivals: u64,
    /// Mean queue wait, hours, of arrivals in the horizon.
    pub mean_wait: f64,
    pub escaped: u64,
    pub released: u64,
}

/// One replication: `w` holds each reviewer's next free time.
pub fn simulate(m: &Reference, seed: u64, replication: u64) -> FloorResult {
    // The draws the engine takes ahead ([`Ahead`]), taken ahead here too.
    let workload = Keyed::new(seed, replication, domain::WORKLOAD);
    let mut gaps = Ahead::new(workload, purpose::ARRIVAL, 0, 0);
    let mut attempts = Ahead::new(workload, purpose::ATTEMPT, ATTEMPT_BITS, 1);
    let stage = Keyed::of_name(seed, replication, STAGE);
    let mut detect = Ahead::new(stage, purpose::DETECT, ATTEMPT_BITS, 1);
    let gap = 1.0 / m.rate;
    let mut free = vec![0.0f64; m.reviewers.max(1)];
    let (mut t, mut n, mut wait, mut escaped, mut released) = (0.0, 0u64, 0.0, 0u64, 0u64);
    loop {
        let e: f64 = Exp1.sample(&mut gaps.draws(n));
        t += e * gap;
        if t >= m.horizon {
            break;
        }
        // One class: the engine draws no class.
        let entity = attempt_entity(n, 1);
        let defective = uniform(&mut attempts.draws(n)) < m.defect_prob;
        // Kiefer–Wolfowitz: the earliest-free reviewer (lowest index on ties) serves next.
        let (k, &f) = free
            .iter()
            .enumerate()
            .fold((0, &f64::INFINITY), |b, x| if *x.1 < *b.1 { x } else { b });
        let start = if f > t { f } else { t };
        let s: f64 = Exp1.sample(&mut stage.draws(entity, purpose::SERVICE));
        free[k] = start + s * m.mean_service;
        // The engine draws the decision only when it is uncertain (no false rejects here).
        let caught = defective && detect.uniform(n) < m.detect;
        wait += start - t;
        n += 1;
        if !caught {
            released += 1;
            escaped += defective as u64;
        }
    }
    FloorResult {
        arrivals: n,
        mean_wait: if n > 0 { wait / n as f64 } else { f64::NAN },
        escaped,
        released,
    }
}
