//! The performance floor: the Kiefer–Wolfowitz recursion (Lindley's for one server) for the
//! reference model — one FIFO review stage with `c` reviewers, Poisson arrivals,
//! exponential reviews, defect draws and detection — with no event list at all.
//!
//! It draws from the same streams, in the same order, as the engine does on that model
//! (arrival gaps; class and defect uniforms; service time then decision at service start,
//! which under FIFO is arrival order), so its waits are the engine's sample path. Benchmarks
//! divide the engine's time per action by this one's; tests check that both agree.

use rand_distr::{Distribution, Exp1};

use crate::rng::{stream, stream_rng, uniform};

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
    let mut arrivals = stream_rng(seed, replication, stream::ARRIVALS);
    let mut actions = stream_rng(seed, replication, stream::ACTIONS);
    let mut stage = stream_rng(seed, replication, stream::STAGE_BASE);
    let gap = 1.0 / m.rate;
    let mut free = vec![0.0f64; m.reviewers.max(1)];
    let (mut t, mut n, mut wait, mut escaped, mut released) = (0.0, 0u64, 0.0, 0u64, 0u64);
    loop {
        let e: f64 = Exp1.sample(&mut arrivals);
        t += e * gap;
        if t >= m.horizon {
            break;
        }
        let _class = uniform(&mut actions);
        let defective = uniform(&mut actions) < m.defect_prob;
        // Kiefer–Wolfowitz: the earliest-free reviewer (lowest index on ties) serves next.
        let (k, &f) = free
            .iter()
            .enumerate()
            .fold((0, &f64::INFINITY), |b, x| if *x.1 < *b.1 { x } else { b });
        let start = if f > t { f } else { t };
        let s: f64 = Exp1.sample(&mut stage);
        free[k] = start + s * m.mean_service;
        let caught = if defective {
            uniform(&mut stage) < m.detect
        } else {
            uniform(&mut stage) < 0.0
        };
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
