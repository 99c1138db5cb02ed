//! Summaries across replications: mean, standard deviation, Student-t confidence interval
//! of the mean (Clopper–Pearson for a 0/1 metric) and percentiles (statrs).

use serde::{Deserialize, Serialize};
use statrs::distribution::{Beta, ContinuousCDF, Normal, StudentsT};
use statrs::statistics::{Data, OrderStatistics};

/// Summary of one metric over replications. Undefined values (`NaN`) are skipped, so `n`
/// counts the replications where the metric is defined. A row of summary.csv.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    #[serde(with = "crate::field")]
    pub mean: f64,
    #[serde(with = "crate::field")]
    pub std: f64,
    #[serde(with = "crate::field")]
    pub ci_low: f64,
    #[serde(with = "crate::field")]
    pub ci_high: f64,
    #[serde(with = "crate::field")]
    pub p05: f64,
    #[serde(with = "crate::field")]
    pub p50: f64,
    #[serde(with = "crate::field")]
    pub p95: f64,
}

impl Summary {
    /// Half-width of the confidence interval.
    pub fn half_width(&self) -> f64 {
        (self.ci_high - self.ci_low) / 2.0
    }
}

/// Two-sided Student-t quantile: the `level` interval is mean ± t·s/√n.
pub fn t_quantile(level: f64, df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .map(|t| t.inverse_cdf(0.5 + level / 2.0))
        .unwrap_or(f64::NAN)
}

/// Summarises `values` with a `level` (e.g. 0.95) t-interval of the mean.
/// The mean of the values that are numbers (NaN if none is): the plain sum over n, exact for
/// counts, so a mean of integers prints as the decimal it is. A summary's mean.
pub fn mean<I: IntoIterator<Item = f64>>(values: I) -> f64
where
    I::IntoIter: Clone,
{
    let numbers = values.into_iter().filter(|x| !x.is_nan());
    match numbers.clone().count() {
        0 => f64::NAN,
        n => numbers.sum::<f64>() / n as f64,
    }
}

pub fn summarize_at(values: impl IntoIterator<Item = f64>, level: f64) -> Summary {
    let v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
    let n = v.len();
    if n == 0 {
        let nan = f64::NAN;
        return Summary {
            n,
            mean: nan,
            std: nan,
            ci_low: nan,
            ci_high: nan,
            p05: nan,
            p50: nan,
            p95: nan,
        };
    }
    // Two-pass variance, about the mean.
    let mean = mean(v.iter().copied());
    let (std, half) = if n >= 2 {
        let s = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        (s, t_quantile(level, n - 1) * s / (n as f64).sqrt())
    } else {
        (f64::NAN, f64::NAN)
    };
    let [p05, p50, p95] = quantiles(v, [0.05, 0.5, 0.95]);
    Summary {
        n,
        mean,
        std,
        ci_low: mean - half,
        ci_high: mean + half,
        p05,
        p50,
        p95,
    }
}

/// Summarises a 0/1 metric (an event in a replication or not) with the exact binomial
/// interval of its probability (Clopper & Pearson 1934) at `level`: the t-interval of the
/// mean covers a rare event's probability far less often than it says (40% at p = 0.01 and
/// 50 replications), the exact one at least as often. With no event in n replications the
/// interval is [0, 1 − ((1 − level)/2)^(1/n)], about 3.7/n at 95% (the one-sided rule of
/// three, 3/n, is the 95% upper bound on its own).
pub fn summarize_indicator(values: impl IntoIterator<Item = f64>, level: f64) -> Summary {
    let v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
    let (x, n) = (v.iter().filter(|&&x| x > 0.5).count(), v.len());
    let (ci_low, ci_high) = clopper_pearson(x, n, level);
    Summary {
        ci_low,
        ci_high,
        ..summarize_at(v, level)
    }
}

/// The exact binomial interval of a probability from `x` events in `n` trials.
pub fn clopper_pearson(x: usize, n: usize, level: f64) -> (f64, f64) {
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let a = (1.0 - level) / 2.0;
    let (x, n) = (x as f64, n as f64);
    let q = |alpha: f64, beta: f64, p: f64| Beta::new(alpha, beta).map_or(f64::NAN, |b| b.inverse_cdf(p));
    let lo = if x == 0.0 { 0.0 } else { q(x, n - x + 1.0, a) };
    let hi = if x == n { 1.0 } else { q(x + 1.0, n - x, 1.0 - a) };
    (lo, hi)
}

/// The Wilson score interval of a probability from `x` events in `n` trials.
pub fn wilson(x: usize, n: usize, level: f64) -> (f64, f64) {
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let z = Normal::standard().inverse_cdf(0.5 + level / 2.0);
    let (x, n) = (x as f64, n as f64);
    let p = x / n;
    let d = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / d;
    let half = z / d * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The interval of the difference P(a) − P(b) of two 0/1 outcomes seen on the same
/// replications (paired): Newcombe's (1998) method 10, the Wilson intervals of the two
/// proportions squared and added with the correlation of the pairs (φ, with his
/// continuity correction). A Student-t interval of the differences covers far less often
/// than it says when the events are rare.
pub fn newcombe_paired(pairs: &[(bool, bool)], level: f64) -> (f64, f64) {
    let n = pairs.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let count = |f: fn(&(bool, bool)) -> bool| pairs.iter().filter(|p| f(p)).count() as f64;
    let (both, a_only, b_only, neither) = (
        count(|p| p.0 && p.1),
        count(|p| p.0 && !p.1),
        count(|p| !p.0 && p.1),
        count(|p| !p.0 && !p.1),
    );
    let nf = n as f64;
    let (p1, p2) = ((both + a_only) / nf, (both + b_only) / nf);
    let (l1, u1) = wilson((both + a_only) as usize, n, level);
    let (l2, u2) = wilson((both + b_only) as usize, n, level);
    let denom = (both + a_only) * (b_only + neither) * (both + b_only) * (a_only + neither);
    let phi = if denom == 0.0 {
        0.0
    } else {
        let num = both * neither - a_only * b_only;
        let corrected = if num > nf / 2.0 {
            num - nf / 2.0
        } else if num < 0.0 {
            num
        } else {
            0.0
        };
        corrected / denom.sqrt()
    };
    let delta = p1 - p2;
    let lo = delta - ((p1 - l1).powi(2) - 2.0 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2).powi(2)).sqrt();
    let hi = delta + ((u1 - p1).powi(2) - 2.0 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2).powi(2)).sqrt();
    (lo, hi)
}

/// The paired difference a − b over the pairs where both are numbers: its mean and 95%
/// interval (Newcombe's for a 0/1 metric, Student-t otherwise).
pub fn summarize_paired(pairs: &[(f64, f64)], indicator: bool) -> Summary {
    let defined: Vec<(f64, f64)> = (pairs.iter().copied())
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    let s = summarize(defined.iter().map(|(a, b)| a - b));
    if !indicator {
        return s;
    }
    let flags: Vec<(bool, bool)> = defined.iter().map(|(a, b)| (*a > 0.5, *b > 0.5)).collect();
    let (ci_low, ci_high) = newcombe_paired(&flags, 0.95);
    Summary { ci_low, ci_high, ..s }
}

/// Quantiles `qs` of `values` (statrs' estimator, the one a summary's percentiles use).
pub fn quantiles<const N: usize>(values: Vec<f64>, qs: [f64; N]) -> [f64; N] {
    let mut data = Data::new(values);
    qs.map(|q| data.quantile(q))
}

/// Summary with a 95% interval, as written to summary.csv.
pub fn summarize(values: impl IntoIterator<Item = f64>) -> Summary {
    summarize_at(values, 0.95)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Newcombe's interval against a second implementation of his method 10, written from
    /// the formula in Python (Altman et al. 2000, Table 6.2's 2×2: 14, 5, 0, 22), and
    /// the degenerate tables: no events at all, and the same events in every pair.
    /// The Python implementation's interval for Table 6.2 (14, 5, 0, 22).
    const NEWCOMBE_ALTMAN: (f64, f64) = (0.011483241383033277, 0.22649268435121123);

    #[test]
    fn newcombe_known_values() {
        let table = |a: usize, b: usize, c: usize, d: usize| -> Vec<(bool, bool)> {
            let mut v = vec![(true, true); a];
            v.extend(vec![(true, false); b]);
            v.extend(vec![(false, true); c]);
            v.extend(vec![(false, false); d]);
            v
        };
        let (lo, hi) = newcombe_paired(&table(14, 5, 0, 22), 0.95);
        assert!(
            (lo - NEWCOMBE_ALTMAN.0).abs() < 1e-9 && (hi - NEWCOMBE_ALTMAN.1).abs() < 1e-9,
            "{lo} {hi}"
        );
        let (lo, hi) = newcombe_paired(&table(0, 0, 0, 50), 0.95);
        assert!(lo < 0.0 && hi > 0.0 && (lo + hi).abs() < 1e-12, "{lo} {hi}");
        let (lo, hi) = newcombe_paired(&table(3, 0, 0, 47), 0.95);
        assert!(lo < 0.0 && hi > 0.0, "{lo} {hi}");
    }

    /// Wilson's interval of 0 in 50 reaches 0.0714 (3.84 / 53.84), close to the rule of
    /// three's 3/50.
    #[test]
    fn wilson_zero_events() {
        let (lo, hi) = wilson(0, 50, 0.95);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.0714).abs() < 1e-3, "{hi}");
    }

    #[test]
    fn known_values() {
        let s = summarize([1.0, 2.0, 3.0, 4.0, f64::NAN]);
        assert_eq!(s.n, 4);
        assert_eq!(s.mean, 2.5);
        assert!((s.std - 1.2909944487358056).abs() < 1e-12);
        // t(0.975, 3) = 3.182446305284263
        assert!((s.half_width() - 3.182446305284263 * 1.2909944487358056 / 2.0).abs() < 1e-9);
        assert_eq!(s.p50, 2.5);
        let one = summarize([5.0]);
        assert_eq!(one.mean, 5.0);
        assert!(one.ci_low.is_nan());
        assert!(summarize([f64::NAN]).mean.is_nan());
    }

    #[test]
    fn clopper_pearson_known_values() {
        // None in 50: the upper end is 1 − 0.025^(1/50) in closed form.
        let (lo, hi) = clopper_pearson(0, 50, 0.95);
        assert_eq!(lo, 0.0);
        assert!((hi - (1.0 - libm::pow(0.025, 1.0 / 50.0))).abs() < 1e-9, "{hi}");
        // All in 50: the mirror image.
        let (lo, hi) = clopper_pearson(50, 50, 0.95);
        assert!((lo - libm::pow(0.025, 1.0 / 50.0)).abs() < 1e-9 && hi == 1.0);
        // 1 in 10 (R's binom.test: 0.002528579 0.445016117).
        let (lo, hi) = clopper_pearson(1, 10, 0.95);
        assert!(
            (lo - 0.002528579).abs() < 1e-8 && (hi - 0.445016117).abs() < 1e-8,
            "{lo} {hi}"
        );
    }
}
