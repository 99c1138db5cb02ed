//! Time distributions (service and rework delays), validated once and sampled without
//! allocation.

use rand::distr::Distribution;
use rand::Rng;
use rand_distr::{Exp1, Gamma, LogNormal, Triangular, Uniform};
use serde::Deserialize;

use crate::input::{Ctx, Num, S};

/// A validated distribution of durations, in hours.
#[derive(Debug, Clone)]
pub enum Dist {
    Constant(f64),
    Exponential {
        mean: f64,
    },
    LogNormal {
        mean: f64,
        cv: f64,
        inner: LogNormal<f64>,
    },
    Gamma {
        mean: f64,
        cv: f64,
        inner: Gamma<f64>,
    },
    Uniform {
        min: f64,
        max: f64,
        inner: Uniform<f64>,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
        inner: Triangular<f64>,
    },
}

impl Dist {
    pub fn constant(value: f64) -> Dist {
        Dist::Constant(value)
    }

    pub fn exponential(mean: f64) -> Dist {
        Dist::Exponential { mean }
    }

    /// Lognormal with the given mean and coefficient of variation (both > 0).
    pub fn lognormal(mean: f64, cv: f64) -> Result<Dist, String> {
        let s2 = libm::log(1.0 + cv * cv);
        let mu = libm::log(mean) - s2 / 2.0;
        let inner = LogNormal::new(mu, s2.sqrt()).map_err(|e| e.to_string())?;
        Ok(Dist::LogNormal { mean, cv, inner })
    }

    /// Gamma with the given mean and coefficient of variation (both > 0).
    pub fn gamma(mean: f64, cv: f64) -> Result<Dist, String> {
        let shape = 1.0 / (cv * cv);
        let inner = Gamma::new(shape, mean / shape).map_err(|e| e.to_string())?;
        Ok(Dist::Gamma { mean, cv, inner })
    }

    pub fn uniform(min: f64, max: f64) -> Result<Dist, String> {
        let inner = Uniform::new(min, max).map_err(|e| e.to_string())?;
        Ok(Dist::Uniform { min, max, inner })
    }

    pub fn triangular(min: f64, mode: f64, max: f64) -> Result<Dist, String> {
        let inner = Triangular::new(min, max, mode).map_err(|e| e.to_string())?;
        Ok(Dist::Triangular {
            min,
            mode,
            max,
            inner,
        })
    }

    /// Draws one duration in hours. The exponential and the constant, the common cases, are
    /// inlined at the call; the others are a call away.
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                mean * e
            }
            Dist::Constant(v) => *v,
            _ => self.sample_other(rng),
        }
    }

    #[inline(never)]
    fn sample_other<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                mean * e
            }
            Dist::LogNormal { inner, .. } => inner.sample(rng),
            Dist::Gamma { inner, .. } => inner.sample(rng),
            Dist::Uniform { inner, .. } => inner.sample(rng),
            Dist::Triangular { inner, .. } => inner.sample(rng),
        }
    }

    /// The mean, in hours.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } | Dist::LogNormal { mean, .. } | Dist::Gamma { mean, .. } => *mean,
            Dist::Uniform { min, max, .. } => (min + max) / 2.0,
            Dist::Triangular { min, mode, max, .. } => (min + mode + max) / 3.0,
        }
    }

    /// The squared coefficient of variation.
    pub fn scv(&self) -> f64 {
        match self {
            Dist::Constant(_) => 0.0,
            Dist::Exponential { .. } => 1.0,
            Dist::LogNormal { cv, .. } | Dist::Gamma { cv, .. } => cv * cv,
            Dist::Uniform { min, max, .. } => {
                let m = self.mean();
                (max - min).powi(2) / 12.0 / (m * m)
            }
            Dist::Triangular { min, mode, max, .. } => {
                let (a, b, c) = (*min, *max, *mode);
                let var = (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0;
                let m = self.mean();
                var / (m * m)
            }
        }
    }
}

/// A distribution as written: `{ dist = "lognormal", mean = "6m", cv = 1.0 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
    pub dist: S<String>,
    pub mean: Option<S<String>>,
    pub cv: Option<S<Num>>,
    pub value: Option<S<String>>,
    pub min: Option<S<String>>,
    pub mode: Option<S<String>>,
    pub max: Option<S<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Exponential,
    LogNormal,
    Gamma,
    Constant,
    Uniform,
    Triangular,
}

impl Family {
    const NAMES: &[(&str, Family)] = &[
        ("exponential", Family::Exponential),
        ("lognormal", Family::LogNormal),
        ("gamma", Family::Gamma),
        ("constant", Family::Constant),
        ("uniform", Family::Uniform),
        ("triangular", Family::Triangular),
    ];

    /// The keys each family takes.
    fn needs(self) -> &'static [&'static str] {
        match self {
            Family::Exponential => &["mean"],
            Family::LogNormal | Family::Gamma => &["mean", "cv"],
            Family::Constant => &["value"],
            Family::Uniform => &["min", "max"],
            Family::Triangular => &["min", "mode", "max"],
        }
    }
}

impl Dist {
    /// Checks a written distribution at `path` (durations; a constant may be zero if
    /// `allow_zero`); a placeholder after a problem, which `ctx` holds.
    pub fn parse(ctx: &mut Ctx, d: &S<RawDist>, path: &str, allow_zero: bool) -> Dist {
        let span = d.span();
        let r = d.get_ref();
        let Some(family) = ctx.choice(&r.dist, &format!("{path}.dist"), Family::NAMES) else {
            return Dist::constant(1.0);
        };
        let name = r.dist.get_ref();
        let needs = family.needs();
        let present = [
            ("mean", r.mean.as_ref().map(|v| v.span())),
            ("cv", r.cv.as_ref().map(|v| v.span())),
            ("value", r.value.as_ref().map(|v| v.span())),
            ("min", r.min.as_ref().map(|v| v.span())),
            ("mode", r.mode.as_ref().map(|v| v.span())),
            ("max", r.max.as_ref().map(|v| v.span())),
        ];
        let mut ok = true;
        for (key, sp) in &present {
            match (needs.contains(key), sp) {
                (true, None) => {
                    ctx.missing(
                        span.clone(),
                        path,
                        key,
                        &format!("the keys {} for dist = \"{name}\"", needs.join(", ")),
                    );
                    ok = false;
                }
                (false, Some(sp)) => {
                    ctx.err(
                        sp.clone(),
                        &format!("{path}.{key}"),
                        format!(
                            "`{key}` does not apply to dist = \"{name}\"; it takes {}",
                            needs.join(", ")
                        ),
                    );
                    ok = false;
                }
                _ => {}
            }
        }
        if !ok {
            return Dist::constant(1.0);
        }
        let mut dur = |v: &Option<S<String>>, key: &str, zero: bool| {
            ctx.duration(
                v.as_ref().expect("presence checked"),
                &format!("{path}.{key}"),
                zero,
            )
        };
        let built = match family {
            Family::Exponential => Ok(Dist::exponential(dur(&r.mean, "mean", false))),
            Family::LogNormal | Family::Gamma => {
                let mean = dur(&r.mean, "mean", false);
                let cvv = r.cv.as_ref().expect("presence checked");
                let cv = ctx.range(
                    cvv,
                    &format!("{path}.cv"),
                    1e-6,
                    100.0,
                    "a coefficient of variation in (0, 100]; use dist = \"constant\" for no variation",
                );
                if family == Family::LogNormal {
                    Dist::lognormal(mean, cv)
                } else {
                    Dist::gamma(mean, cv)
                }
            }
            Family::Constant => Ok(Dist::constant(dur(&r.value, "value", allow_zero))),
            Family::Uniform => {
                let (lo, hi) = (dur(&r.min, "min", true), dur(&r.max, "max", false));
                if lo >= hi {
                    ctx.err(span.clone(), path, "`min` must be less than `max`");
                }
                Dist::uniform(lo, hi.max(lo + 1e-9))
            }
            Family::Triangular => {
                let (lo, mode, hi) = (
                    dur(&r.min, "min", true),
                    dur(&r.mode, "mode", true),
                    dur(&r.max, "max", false),
                );
                if !(lo <= mode && mode <= hi && lo < hi) {
                    ctx.err(span.clone(), path, "needs min ≤ mode ≤ max with min < max");
                }
                Dist::triangular(lo, mode.clamp(lo, hi), hi.max(lo + 1e-9))
            }
        };
        built.unwrap_or_else(|e| {
            ctx.err(span, path, e);
            Dist::constant(1.0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn moments(d: &Dist) -> (f64, f64) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let n = 400_000;
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let x = d.sample(&mut rng);
            assert!(x >= 0.0 && x.is_finite());
            s += x;
            s2 += x * x;
        }
        let m = s / n as f64;
        (m, (s2 / n as f64 - m * m) / (m * m))
    }

    #[test]
    fn mean_and_cv_match_parameters() {
        for d in [
            Dist::exponential(0.1),
            Dist::lognormal(0.1, 0.8).unwrap(),
            Dist::gamma(0.1, 0.5).unwrap(),
            Dist::uniform(0.05, 0.15).unwrap(),
            Dist::triangular(0.0, 0.05, 0.2).unwrap(),
        ] {
            let (m, scv) = moments(&d);
            assert!((m / d.mean() - 1.0).abs() < 0.01, "{d:?}: mean {m}");
            assert!(
                (scv / d.scv() - 1.0).abs() < 0.05,
                "{d:?}: scv {scv} vs {}",
                d.scv()
            );
        }
    }
}
