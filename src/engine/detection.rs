//! Whether an attempt is defective and whether a layer catches it: independent draws, or
//! through a latent difficulty that the agent's errors and each layer's misses load on.

use rand_distr::{Distribution, StandardNormal};

use crate::math::normal_quantile;

use crate::rng::{uniform, Ahead, Draws};
use crate::scenario::Scenario;
use crate::workload::Class;

/// How attempts' defects are drawn and decided. Set for the whole scenario, so that every
/// policy draws the same workload numbers (common random numbers) whichever loadings its
/// own stages have.
pub(super) struct Defects {
    /// The agent's errors' loading on the latent difficulty, when not 0.
    loading: Option<Loading>,
    /// Whether attempts draw a latent difficulty at all.
    latent: bool,
    /// Whether attempts draw a defect kind (the workload has more than one).
    kinded: bool,
}

impl Defects {
    pub(super) fn new(scenario: &Scenario) -> Defects {
        let w = &scenario.workload;
        let loading = (w.defect_loading != 0.0).then(|| Loading::new(w.defect_loading));
        let latent = w.detection_correlation > 0.0
            || loading.is_some()
            || (scenario.policies.iter())
                .flat_map(|p| &p.stages)
                .any(|s| s.difficulty_loading.is_some());
        Defects {
            loading,
            latent,
            kinded: w.kinds.len() > 1,
        }
    }

    /// An attempt's latent difficulty and the kind its defect would be (by the shares of
    /// its class, `classes[class]`), drawn from the attempt's draws `rng` in that order
    /// after the uniform that decides its defect. A scenario without loadings draws no
    /// difficulty, and one kind draws nothing.
    #[inline]
    pub(super) fn draw(&self, rng: &mut Draws, classes: &[Class], class: usize) -> (f64, u8) {
        let z = if self.latent {
            StandardNormal.sample(rng)
        } else {
            0.0
        };
        let kind = if self.kinded {
            kind(uniform(rng), &classes[class].kind_shares)
        } else {
            0
        };
        (z, kind)
    }

    /// Whether an attempt with defect probability `p`, uniform draw `u` and latent
    /// difficulty `z` is defective: `u < p`, or with the agent's loading `l`,
    /// `s·Φ⁻¹(u) − l·z < Φ⁻¹(p)` (the same rule at l = 0; with l > 0 the agent errs more on
    /// hard actions).
    #[inline]
    pub(super) fn defective(&self, u: f64, p: f64, z: f64) -> bool {
        match self.loading {
            None => u < p,
            Some(_) if p <= 0.0 => false,
            Some(_) if p >= 1.0 => true,
            Some(Loading { l, s }) => s * normal_quantile(u) - l * z < normal_quantile(p),
        }
    }
}

/// The defect kind that uniform `u` picks by the shares.
fn kind(u: f64, shares: &[f64]) -> u8 {
    let mut acc = 0.0;
    for (k, s) in shares.iter().enumerate() {
        acc += s;
        if u < acc {
            return k as u8;
        }
    }
    // Rounding left u above the last sum: the last kind the class has.
    shares.iter().rposition(|&s| s > 0.0).unwrap_or(0) as u8
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
/// `e ~ N(0, 1)` (a hard defect, z high, is missed by layers that load positively). `rng`
/// gives the decision's draws, asked for only when the outcome is uncertain: keyed draws
/// need not be drawn to keep anything aligned, and a sure outcome costs no block.
#[inline]
pub(super) fn detects(rng: impl FnOnce() -> Draws, loading: Option<Loading>, d: f64, z: f64) -> bool {
    if d <= 0.0 {
        return false;
    }
    if d >= 1.0 {
        return true;
    }
    match loading {
        None => uniform(&mut rng()) < d,
        Some(Loading { l, s }) => {
            let e: f64 = StandardNormal.sample(&mut rng());
            l * z + s * e < normal_quantile(d)
        }
    }
}

/// Whether a layer whose decision draws are `detect` flags the clean attempt keyed
/// `entity`, with false-flag probability `p`: the draw that decides detection (an attempt is
/// defective or not, so the one number serves both), made only when `p` is above 0.
#[inline]
pub(super) fn false_flag(detect: &mut Ahead, entity: u64, p: f64) -> bool {
    p > 0.0 && detect.uniform_about(entity) < p
}
