//! Whether an attempt is defective and whether a layer catches it: independent draws, or
//! through a latent difficulty that the agent's errors and each layer's misses load on.

use rand_distr::{Distribution, StandardNormal};

use crate::rng::{uniform, StreamRng};

/// A latent difficulty `z ~ N(0, 1)`, drawn only when some loading uses it (so scenarios
/// without one draw exactly the random numbers they would without the feature).
#[inline(always)]
pub(super) fn latent(used: bool, rng: &mut StreamRng) -> f64 {
    if used {
        StandardNormal.sample(rng)
    } else {
        0.0
    }
}

/// A loading `l` on the latent difficulty: a quantity `l·z + s·e` with `s = sqrt(1 − l²)`
/// and its own `e ~ N(0, 1)`, so that two quantities with loadings `l₁`, `l₂` have
/// correlation `l₁·l₂` (negative when the signs differ).
#[derive(Debug, Clone, Copy)]
pub(super) struct Loading {
    l: f64,
    s: f64,
}

impl Loading {
    pub(super) fn new(l: f64) -> Loading {
        Loading {
            l,
            s: (1.0 - l * l).max(0.0).sqrt(),
        }
    }

    /// The loading `sqrt(r)` that `workload.detection_correlation = r` gives every layer.
    pub(super) fn of_correlation(r: f64) -> Loading {
        Loading {
            l: r.sqrt(),
            s: (1.0 - r).sqrt(),
        }
    }
}

/// Whether a layer with detection probability `d` catches a defect of latent difficulty
/// `z`: a uniform draw below `d`, or with a loading, `l·z + s·e < Φ⁻¹(d)` with fresh
/// `e ~ N(0, 1)` (a hard defect, z high, is missed by layers that load positively).
#[inline]
pub(super) fn detects(rng: &mut StreamRng, loading: Option<Loading>, d: f64, z: f64) -> bool {
    match loading {
        None => uniform(rng) < d,
        Some(Loading { l, s }) => {
            let e: f64 = StandardNormal.sample(rng);
            if d <= 0.0 {
                false
            } else if d >= 1.0 {
                true
            } else {
                l * z + s * e < normal_quantile(d)
            }
        }
    }
}

/// Whether an attempt with defect probability `p`, uniform draw `u` and latent difficulty
/// `z` is defective: `u < p`, or with the agent's loading `l`, `s·Φ⁻¹(u) − l·z < Φ⁻¹(p)`
/// (the same rule at l = 0; with l > 0 the agent errs more on hard actions).
#[inline]
pub(super) fn defective(loading: Option<Loading>, u: f64, p: f64, z: f64) -> bool {
    match loading {
        None => u < p,
        Some(_) if p <= 0.0 => false,
        Some(_) if p >= 1.0 => true,
        Some(Loading { l, s }) => s * normal_quantile(u) - l * z < normal_quantile(p),
    }
}

/// Φ⁻¹(p), the standard normal quantile, for p in (0, 1).
fn normal_quantile(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(2.0 * p)
}
