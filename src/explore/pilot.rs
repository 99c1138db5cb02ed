//! How many replications an exploration runs per set when none are asked for: enough that
//! replication noise is at most a stated share of what the decision turns on, judged from
//! a pilot.
//!
//! At each set the exploration compares policies on the mean of R replications, and that
//! mean carries noise of variance σ²/R (σ² the replication variance of the paired
//! difference from the baseline; the pairing is what common random numbers buy). Across
//! the draws of the inputs the differences vary by V. The noise share of an output is then
//! (σ²/R) / (V + σ²/R), the share sensitivity.csv reports as `noise_share`. The pilot, a
//! Latin hypercube of [`PILOT_SETS`] sets at [`PILOT_REPLICATIONS`] replications (the same
//! streams and staffing rules as the exploration), estimates σ² (the mean within-set
//! variance) and V (the variance of the set means less their noise, σ²/R₀) for the decision
//! metric's difference of every policy from the baseline, and the exploration runs the
//! fewest replications, at least [`MIN`] and at most [`MAX`], that bring the largest noise
//! share to the target.

use crate::experiment::RunData;
use crate::metrics::M;

/// Sets the pilot draws.
pub const PILOT_SETS: usize = 16;
/// Replications per set in the pilot.
pub const PILOT_REPLICATIONS: u64 = 5;
/// Fewest replications chosen: the worse 5% month of a set (`harm_p95`) is a quantile of its
/// replications and needs a few.
pub const MIN: u64 = 5;
/// Most replications chosen.
pub const MAX: u64 = 200;
/// The noise share aimed at unless `--noise-share` says otherwise.
pub const DEFAULT_NOISE_SHARE: f64 = 0.1;
/// Allowed targets: above 0, and at most one half (noise as large as the inputs' effect).
pub const NOISE_SHARES: std::ops::RangeInclusive<f64> = 0.001..=0.5;

/// What the pilot found and chose.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Replications per set chosen.
    pub replications: u64,
    /// The output that needs the most: the policy whose difference it is (or, with one
    /// policy, the policy itself).
    pub policy: usize,
    /// That output's noise share at the pilot's replications, and at the chosen ones.
    pub at_pilot: f64,
    pub at_chosen: f64,
}

/// The replications that bring the noise share of `metric`'s difference of every policy
/// from `baseline` to at most `target`, from the pilot's runs `run` (with one policy, of
/// its own value).
pub fn choose(run: &RunData, metric: M, baseline: usize, target: f64) -> Choice {
    let policies = run.points.first().map_or(0, |p| p.results.per_policy.len());
    let outputs: Vec<usize> = if policies <= 1 {
        vec![0]
    } else {
        (0..policies).filter(|&p| p != baseline).collect()
    };
    let mut worst: Option<Choice> = None;
    for p in outputs {
        let sets = sets_of(run, p, (policies > 1).then_some(baseline), metric);
        let c = needed(&sets, target, p);
        if worst.as_ref().is_none_or(|w| c.replications > w.replications) {
            worst = Some(c);
        }
    }
    worst.unwrap_or(Choice {
        replications: MIN,
        policy: 0,
        at_pilot: 0.0,
        at_chosen: 0.0,
    })
}

/// The choice for one output (of `policy`) from its values `sets[s][r]` at the pilot.
fn needed(sets: &[Vec<f64>], target: f64, policy: usize) -> Choice {
    let (sigma2, v, r0) = variances(sets);
    let share = |r: f64| {
        let noise = sigma2 / r;
        if noise + v > 0.0 {
            noise / (noise + v)
        } else {
            0.0
        }
    };
    // Fewest R with share(R) ≤ target: σ²/R ≤ t/(1−t)·V.
    let replications = if sigma2 <= 0.0 {
        MIN
    } else if v <= 0.0 {
        MAX
    } else {
        let r = (sigma2 * (1.0 - target) / (target * v)).ceil();
        if r.is_finite() {
            (r as u64).clamp(MIN, MAX)
        } else {
            MAX
        }
    };
    Choice {
        replications,
        policy,
        at_pilot: share(r0),
        at_chosen: share(replications as f64),
    }
}

/// Policy `p`'s finite values of `m` (less the baseline's, replication by replication)
/// at each set.
fn sets_of(run: &RunData, p: usize, baseline: Option<usize>, m: M) -> Vec<Vec<f64>> {
    (run.points.iter())
        .map(|point| match baseline {
            Some(b) => point.pairs(p, b, m).iter().map(|(x, y)| x - y).collect(),
            None => (point.results.per_policy[p].iter())
                .map(|r| r.metrics[m])
                .filter(|x| x.is_finite())
                .collect(),
        })
        .collect()
}

/// (σ², V, R₀) of `sets[s][r]`: the mean within-set variance, the variance of the set
/// means less their noise σ²/R₀ (at least 0), and the mean replications per set. Sets with
/// fewer than two values are left out.
fn variances(sets: &[Vec<f64>]) -> (f64, f64, f64) {
    let sets: Vec<&Vec<f64>> = sets.iter().filter(|v| v.len() >= 2).collect();
    if sets.len() < 2 {
        return (0.0, 0.0, PILOT_REPLICATIONS as f64);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let var = |v: &[f64]| {
        let m = mean(v);
        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64
    };
    let sigma2 = mean(&sets.iter().map(|v| var(v)).collect::<Vec<f64>>());
    let r0 = mean(&sets.iter().map(|v| v.len() as f64).collect::<Vec<f64>>());
    let means: Vec<f64> = sets.iter().map(|v| mean(v)).collect();
    let v = (var(&means) - sigma2 / r0).max(0.0);
    (sigma2, v, r0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, StandardNormal};

    /// `n` sets of `r` values: set means N(0, v), values N(mean, σ²).
    fn synthetic(n: usize, r: usize, v: f64, sigma2: f64) -> Vec<Vec<f64>> {
        let mut rng = crate::rng::stream_rng(11, 0, 0);
        let mut z = || -> f64 { StandardNormal.sample(&mut rng) };
        (0..n)
            .map(|_| {
                let m = v.sqrt() * z();
                (0..r).map(|_| m + sigma2.sqrt() * z()).collect()
            })
            .collect()
    }

    #[test]
    fn the_choice_brings_the_noise_share_to_the_target() {
        // σ² = 4, V = 0.5, target 0.1: R = σ²(1 − t)/(t·V) = 72, and the noise share at
        // the pilot's 5 is 0.8/1.3 = 0.615. From 4,000 sets of 5 the estimates of σ² and V
        // have relative standard errors of about 1.1% and 4.5%, so R is within 15% (over
        // 3 standard errors).
        let c = needed(&synthetic(4000, 5, 0.5, 4.0), 0.1, 1);
        assert!((c.replications as f64 / 72.0 - 1.0).abs() < 0.15, "{c:?}");
        assert!((c.at_pilot - 0.8 / 1.3).abs() < 0.03, "{c:?}");
        assert!(c.at_chosen <= 0.1, "{c:?}");
        // The estimates' own identity: the share at the chosen R is at most the target and
        // one replication fewer would exceed it.
        let (s2, v, _) = variances(&synthetic(4000, 5, 0.5, 4.0));
        let share = |r: f64| (s2 / r) / (s2 / r + v);
        assert!(share(c.replications as f64 - 1.0) > 0.1 && share(c.replications as f64) <= 0.1);
    }

    #[test]
    fn little_noise_keeps_the_fewest_and_noise_alone_asks_the_most() {
        assert_eq!(needed(&synthetic(200, 5, 1.0, 0.01), 0.1, 1).replications, MIN);
        assert_eq!(needed(&synthetic(2000, 5, 0.0, 1.0), 0.1, 1).replications, MAX);
        // No noise at all (a deterministic output): the fewest.
        let flat: Vec<Vec<f64>> = (0..10).map(|s| vec![s as f64; 5]).collect();
        assert_eq!(needed(&flat, 0.1, 1).replications, MIN);
    }
}
