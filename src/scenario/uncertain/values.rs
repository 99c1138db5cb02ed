//! What an uncertain input's draws are: the quantile function that maps a point of the
//! unit interval to a value, the value written back with its unit, grids and extremes for
//! maps and break-even searches, and the input's description.

use statrs::distribution::{Beta, ContinuousCDF, Normal};

use super::{InputDist, Uncertain};
use crate::scenario::SweepValue;

/// Formats a drawn number for a TOML document: shortest round-trip form, with its unit.
fn value_of(x: f64, unit: &str, whole: bool) -> SweepValue {
    let num = if whole {
        format!("{}", x as i64)
    } else {
        // Six significant digits: a design's draws need no more, and labels stay readable.
        let s = format!("{}", format!("{x:.5e}").parse::<f64>().unwrap_or(x) + 0.0);
        // TOML floats need a decimal point or exponent.
        if s.contains(['.', 'e', 'E']) {
            s
        } else {
            format!("{s}.0")
        }
    };
    if unit.is_empty() {
        SweepValue {
            label: num.clone(),
            toml: num,
        }
    } else {
        let label = format!("{num}{unit}");
        SweepValue {
            toml: format!("\"{label}\""),
            label,
        }
    }
}

impl Uncertain {
    /// The number at quantile `u` ∈ [0, 1) (`None` for a choice).
    pub fn number(&self, u: f64) -> Option<f64> {
        // Quantile functions of unbounded distributions are kept off 0 and 1.
        let inner = u.clamp(1e-12, 1.0 - 1e-12);
        let x = match &self.dist {
            InputDist::Uniform { low, high } if self.whole => {
                // Each whole number in [low, high] equally likely.
                let n = (high - low + 1.0).floor();
                return Some(low + (u * n).floor().min(n - 1.0));
            }
            InputDist::Uniform { low, high } => low + u * (high - low),
            InputDist::Triangular { low, mode, high } => {
                let f = (mode - low) / (high - low);
                if u < f {
                    low + (u * (high - low) * (mode - low)).sqrt()
                } else {
                    high - ((1.0 - u) * (high - low) * (high - mode)).sqrt()
                }
            }
            InputDist::Beta { a, b, .. } => Beta::new(*a, *b).expect("checked shapes").inverse_cdf(inner),
            InputDist::Lognormal { mu, sigma, .. } => {
                libm::exp(mu + sigma * Normal::standard().inverse_cdf(inner))
            }
            InputDist::Choice { .. } => return None,
        };
        Some(if self.whole { x.round() } else { x })
    }

    /// The value at quantile `u` ∈ [0, 1), as written into the scenario.
    pub fn value(&self, u: f64) -> SweepValue {
        match &self.dist {
            InputDist::Choice { values } => {
                let k = ((u * values.len() as f64) as usize).min(values.len() - 1);
                values[k].clone()
            }
            _ => value_of(self.number(u).expect("a number"), &self.unit, self.whole),
        }
    }

    /// The values that bound what the input can draw, checked before anything runs: the
    /// ends of a range, the 0.1% and 99.9% quantiles of an unbounded distribution, or
    /// every listed choice.
    pub fn extremes(&self) -> Vec<(String, SweepValue)> {
        match &self.dist {
            InputDist::Choice { values } => values
                .iter()
                .map(|v| ("a listed value".to_string(), v.clone()))
                .collect(),
            InputDist::Uniform { .. } | InputDist::Triangular { .. } => vec![
                ("the low end".to_string(), self.value(0.0)),
                ("the high end".to_string(), self.value(1.0 - 1e-15)),
            ],
            InputDist::Beta { .. } | InputDist::Lognormal { .. } => vec![
                ("the 0.1% quantile".to_string(), self.value(0.001)),
                ("the 99.9% quantile".to_string(), self.value(0.999)),
            ],
        }
    }

    /// The range a break-even is sought over: low to high, or the 5% and 95% quantiles of
    /// an unbounded distribution (`None` for a choice).
    pub fn span(&self) -> Option<(f64, f64)> {
        match &self.dist {
            InputDist::Choice { .. } => None,
            InputDist::Uniform { low, high } | InputDist::Triangular { low, high, .. } => Some((*low, *high)),
            InputDist::Beta { .. } | InputDist::Lognormal { .. } => {
                Some((self.number(0.05)?, self.number(0.95)?))
            }
        }
    }

    /// The value `x` as written into the scenario (rounded for whole-number inputs).
    pub fn value_at(&self, x: f64) -> SweepValue {
        value_of(if self.whole { x.round() } else { x }, &self.unit, self.whole)
    }

    /// `count` values evenly spaced over the input's range, for the axis of a decision map:
    /// from low to high, between the 5% and 95% quantiles of an unbounded distribution, or
    /// every listed choice. Whole numbers are not repeated.
    pub fn grid(&self, count: usize) -> Vec<SweepValue> {
        let (lo, hi) = match &self.dist {
            InputDist::Choice { values } => return values.clone(),
            InputDist::Uniform { low, high } | InputDist::Triangular { low, high, .. } => (*low, *high),
            InputDist::Beta { .. } | InputDist::Lognormal { .. } => (
                self.number(0.05).expect("a number"),
                self.number(0.95).expect("a number"),
            ),
        };
        let mut out: Vec<SweepValue> = Vec::with_capacity(count);
        for g in 0..count {
            let t = if count == 1 {
                0.5
            } else {
                g as f64 / (count - 1) as f64
            };
            let x = lo + t * (hi - lo);
            let v = value_of(if self.whole { x.round() } else { x }, &self.unit, self.whole);
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }

    /// A short description: `uniform(0.4, 0.8)`, `choice(2, 3, 4)`.
    pub fn describe(&self) -> String {
        let u = &self.unit;
        match &self.dist {
            InputDist::Uniform { low, high } => format!("uniform({low}{u}, {high}{u})"),
            InputDist::Triangular { low, mode, high } => {
                format!("triangular({low}{u}, {mode}{u}, {high}{u})")
            }
            InputDist::Beta { mean, sd, .. } => format!("beta(mean {mean}, sd {sd})"),
            InputDist::Lognormal { mean, sd, .. } => format!("lognormal(mean {mean}{u}, sd {sd}{u})"),
            InputDist::Choice { values } => {
                let v: Vec<&str> = values.iter().map(|v| v.label.as_str()).collect();
                format!("choice({})", v.join(", "))
            }
        }
    }
}
