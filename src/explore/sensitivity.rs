//! Variance-based global sensitivity indices from a Saltelli design, with the replication
//! noise of a stochastic simulator handled explicitly.
//!
//! For input `i`, with A, B and AB^i the design's blocks ([`super::design`]) and V the
//! variance of the output over the A and B sets:
//!
//! - first order, centred (Saltelli et al. 2010, Table 2 (b), with f(B_j) less the mean f̄ of
//!   the A and B outputs, as SALib does by standardising the outputs first and as Owen
//!   (2013, "Better estimation of small Sobol' sensitivity indices") advises):
//!   S_i = mean_j (f(B_j) − f̄)·(f(AB^i_j) − f(A_j)) / V. Centring leaves the expectation as it
//!   is (mean_j (f(AB^i_j) − f(A_j)) is 0 in expectation) and removes the variance the
//!   output's level adds: for an output far from zero the uncentred estimator's interval
//!   is many times wider.
//! - total (Jansen 1999; Saltelli et al. 2010, Table 2 (f)): ST_i = mean_j (f(A_j) − f(AB^i_j))² / (2V)
//!
//! **Noise.** Each f here is a mean of R replications, so it carries noise; the replication
//! streams are common to all sets (common random numbers), so the noise of two sets is
//! correlated. For means of the same R streams, E[f̄_x·f̄_y] = μ_x·μ_y + Cov_r(y_x, y_y)/R,
//! so each product above is corrected by the sample covariance of the replication-level
//! values over R: the products' noise is subtracted exactly in expectation. The noise in
//! V is Var(ε̄_A − ε̄_B)/2, estimated from the replication-level differences of A_j and
//! B_j (independent inputs, same streams); its share of V is reported as `noise_share`.
//! Indices are shares of V, so a single input that alone decides the output has total
//! index 1 − noise_share, and the indices and the noise account for the whole variance.
//!
//! Confidence intervals are percentile bootstrap intervals over the base points (Efron &
//! Tibshirani 1993; as in SALib), with the same resamples for every output.

use crate::rng::{stream, stream_rng};
use crate::stats::quantiles;

use super::design::{Block, Design};

/// An estimate with a percentile bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ci {
    pub est: f64,
    pub low: f64,
    pub high: f64,
}

/// The indices of one output.
#[derive(Debug, Clone, PartialEq)]
pub struct Indices {
    /// Per input.
    pub first: Vec<Ci>,
    pub total: Vec<Ci>,
    /// Per input, the correlation of its draws with the output over the A and B sets: its
    /// effect's direction (positive: a higher input raises the output).
    pub correlation: Vec<f64>,
    /// Share of V that is replication noise.
    pub noise: Ci,
    /// V: the output's variance over the A and B sets.
    pub variance: f64,
}

/// Resamples of the base points, shared by every output of an exploration.
pub struct Bootstrap {
    /// Base-point indices, each drawn as a `usize` and held as a `u32` (half the memory:
    /// a thousand resamples of N points).
    resamples: Vec<Vec<u32>>,
}

impl Bootstrap {
    pub fn new(n: usize, count: usize, seed: u64) -> Bootstrap {
        let mut rng = stream_rng(seed, 0, stream::BOOTSTRAP);
        let resamples = (0..count)
            .map(|_| {
                (0..n)
                    .map(|_| to_index(rand::RngExt::random_range(&mut rng, 0..n)))
                    .collect()
            })
            .collect();
        Bootstrap { resamples }
    }
}

/// A base point's index as the resamples hold it (a design has far fewer than 2³² points).
fn to_index(j: usize) -> u32 {
    u32::try_from(j).expect("a design has fewer than 2^32 base points")
}

/// Per base point, the corrected terms whose means over the base points make the indices,
/// input by input.
struct Terms {
    a: Vec<f64>,
    b: Vec<f64>,
    noise: Vec<f64>,
    /// `s1[i][j]`: f(B)(f(AB^i) − f(A)) at base point `j` (uncentred, corrected for
    /// noise); `d[i][j]` = f(AB^i) − f(A) (for the centring); `st[i][j]`: (f(AB^i) − f(A))²
    /// corrected.
    s1: Vec<Vec<f64>>,
    d: Vec<Vec<f64>>,
    st: Vec<Vec<f64>>,
}

/// How many numbers [`terms_at`] gives for `k` inputs.
pub fn terms_len(k: usize) -> usize {
    3 + 3 * k
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Sample covariance of `x` and `y` over replications divided by R: the covariance of their
/// means. Zero with fewer than two replications (a deterministic output).
fn cov_of_means(x: &[f64], y: &[f64]) -> f64 {
    let r = x.len();
    if r < 2 {
        return 0.0;
    }
    let (mx, my) = (mean(x), mean(y));
    let s: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    s / (r - 1) as f64 / r as f64
}

/// Appends to `out` the terms of one base point from the replication-level values of its
/// sets, `y[0]` its A set, `y[1]` its B set and `y[2 + i]` its AB^i set (a group of the
/// design, in order): f(A), f(B), the noise of V, then per input the s1, d and st terms of
/// [`Terms`] ([`terms_len`] numbers: the form an exploration keeps of a base point).
pub fn terms_at(y: &[Vec<f64>], out: &mut Vec<f64>) {
    let k = y.len() - 2;
    let diff = |x: &[f64], z: &[f64]| -> Vec<f64> { x.iter().zip(z).map(|(p, q)| p - q).collect() };
    let (ya, yb) = (&y[0][..], &y[1][..]);
    let (fa, fb) = (mean(ya), mean(yb));
    let d_ab = diff(ya, yb);
    let at = out.len();
    out.extend([fa, fb, cov_of_means(&d_ab, &d_ab) / 2.0]);
    out.resize(at + terms_len(k), 0.0);
    for (i, yi) in y[2..].iter().enumerate() {
        let fi = mean(yi);
        let d = diff(yi, ya);
        out[at + 3 + i] = fb * (fi - fa) - cov_of_means(yb, &d);
        out[at + 3 + k + i] = fi - fa;
        out[at + 3 + 2 * k + i] = (fi - fa).powi(2) - cov_of_means(&d, &d);
    }
}

/// The terms of every base point of `design` from `y[s]`, the replication-level values at
/// set `s`.
fn terms(design: &Design, y: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let g = design.group();
    (0..design.n)
        .map(|j| {
            debug_assert_eq!(design.roles[j * g], (j, Block::A));
            debug_assert_eq!(design.roles[j * g + 1], (j, Block::B));
            let mut t = Vec::with_capacity(terms_len(design.k));
            terms_at(&y[j * g..(j + 1) * g], &mut t);
            t
        })
        .collect()
}

/// The base points' terms ([`terms_at`]), input by input.
fn transpose(at: &[&[f64]], k: usize) -> Terms {
    let by_input =
        |from: usize| -> Vec<Vec<f64>> { (0..k).map(|i| at.iter().map(|t| t[from + i]).collect()).collect() };
    Terms {
        a: at.iter().map(|t| t[0]).collect(),
        b: at.iter().map(|t| t[1]).collect(),
        noise: at.iter().map(|t| t[2]).collect(),
        s1: by_input(3),
        d: by_input(3 + k),
        st: by_input(3 + 2 * k),
    }
}

/// Indices over the base points `js` (a bootstrap resample, or all of them):
/// (first, total, noise share, V).
fn estimate(t: &Terms, js: &[u32]) -> (Vec<f64>, Vec<f64>, f64, f64) {
    let m = js.len() as f64;
    let js = js.iter().map(|&j| j as usize);
    let mean_ab = js.clone().map(|j| t.a[j] + t.b[j]).sum::<f64>() / (2.0 * m);
    let ss: f64 = (js.clone())
        .map(|j| (t.a[j] - mean_ab).powi(2) + (t.b[j] - mean_ab).powi(2))
        .sum();
    let v = ss / (2.0 * m - 1.0);
    let avg = |x: &[f64]| js.clone().map(|j| x[j]).sum::<f64>() / m;
    // Centred: mean (f(B) − f̄)(f(AB) − f(A)) = mean f(B)(f(AB) − f(A)) − f̄·mean (f(AB) − f(A));
    // the noise correction is the same (f̄ is a constant within the resample).
    // `+ 0.0` writes an exact zero as 0, not -0.
    let first = (t.s1.iter().zip(&t.d))
        .map(|(x, d)| (avg(x) - mean_ab * avg(d)) / v + 0.0)
        .collect();
    let total = t.st.iter().map(|x| avg(x) / (2.0 * v) + 0.0).collect();
    (first, total, avg(&t.noise) / v, v)
}

/// The indices of one output, `y[s]` being its replication-level values at set `s` (the
/// same replications at every set). `None` if the output does not vary over the design.
pub fn indices(design: &Design, y: &[Vec<f64>], boot: &Bootstrap, level: f64) -> Option<Indices> {
    let at = terms(design, y);
    indices_of(
        design,
        &at.iter().map(Vec::as_slice).collect::<Vec<_>>(),
        boot,
        level,
    )
}

/// The indices of one output from its terms at each base point ([`terms_at`]). `None` if the
/// output does not vary over the design.
pub fn indices_of(design: &Design, at: &[&[f64]], boot: &Bootstrap, level: f64) -> Option<Indices> {
    let t = transpose(at, design.k);
    let all: Vec<u32> = (0..design.n).map(to_index).collect();
    let (first, total, noise, v) = estimate(&t, &all);
    if !(v > 0.0 && v.is_finite()) {
        return None;
    }
    let k = design.k;
    let mut bf = vec![Vec::with_capacity(boot.resamples.len()); k];
    let mut bt = vec![Vec::with_capacity(boot.resamples.len()); k];
    let mut bn = Vec::with_capacity(boot.resamples.len());
    for js in &boot.resamples {
        let (f, tt, nz, bv) = estimate(&t, js);
        // A resample in which the output does not vary says nothing about shares.
        if bv.is_nan() || bv <= 0.0 {
            continue;
        }
        for i in 0..k {
            bf[i].push(f[i]);
            bt[i].push(tt[i]);
        }
        bn.push(nz);
    }
    let ci = |est: f64, xs: Vec<f64>| {
        let a = (1.0 - level) / 2.0;
        let [low, high] = quantiles(xs, [a, 1.0 - a]);
        Ci { est, low, high }
    };
    let correlation = (0..k).map(|i| correlation(design, &t, i)).collect();
    Some(Indices {
        correlation,
        first: first.iter().zip(bf).map(|(&e, xs)| ci(e, xs)).collect(),
        total: total.iter().zip(bt).map(|(&e, xs)| ci(e, xs)).collect(),
        noise: ci(noise, bn),
        variance: v,
    })
}

/// The Pearson correlation of input `i`'s draws (on the unit scale) with the output, over
/// the A and B sets; 0 where either does not vary.
fn correlation(design: &Design, t: &Terms, i: usize) -> f64 {
    let g = design.group();
    let (mut u, mut f) = (Vec::with_capacity(2 * design.n), Vec::with_capacity(2 * design.n));
    for j in 0..design.n {
        u.push(design.rows[j * g][i]);
        f.push(t.a[j]);
        u.push(design.rows[j * g + 1][i]);
        f.push(t.b[j]);
    }
    let (mu, mf) = (mean(&u), mean(&f));
    let (mut suf, mut suu, mut sff) = (0.0, 0.0, 0.0);
    for (x, y) in u.iter().zip(&f) {
        suf += (x - mu) * (y - mf);
        suu += (x - mu) * (x - mu);
        sff += (y - mf) * (y - mf);
    }
    if suu > 0.0 && sff > 0.0 {
        suf / (suu * sff).sqrt() + 0.0
    } else {
        0.0
    }
}

/// Base points that would bring an index's interval inside [0, 1]: the interval narrows as
/// 1/√N, so N grows with the square of (half-width / room), the room being the distance
/// from the estimate to the nearer end (at least 0.05), and at least twice `n`. `None` if it
/// is inside already.
pub fn points_needed(c: Ci, n: usize) -> Option<u64> {
    if c.low >= 0.0 && c.high <= 1.0 || c.low.is_nan() {
        return None;
    }
    let half = (c.high - c.low) / 2.0;
    let room = c.est.min(1.0 - c.est).max(0.05);
    // A lopsided bootstrap interval can leave [0, 1] though its half-width fits: at least
    // twice the points then.
    // u64 on every target (a 32-bit usize would cap it in WebAssembly).
    Some(((n as f64 * (half / room).powi(2)).ceil() as u64).max(2 * n as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::design::DesignKind;
    use std::f64::consts::PI;

    fn ishigami(x: &[f64]) -> f64 {
        let (x1, x2, x3) = (x[0], x[1], x[2]);
        libm::sin(x1) + 7.0 * libm::sin(x2).powi(2) + 0.1 * x3.powi(4) * libm::sin(x1)
    }

    fn ishigami_at(u: &[f64]) -> f64 {
        let x: Vec<f64> = u.iter().map(|u| -PI + 2.0 * PI * u).collect();
        ishigami(&x)
    }

    /// Analytic indices of the Ishigami function with a = 7, b = 0.1 (Ishigami & Homma
    /// 1990; Saltelli et al. 2008, §4.5; SALib's test values).
    const S1: [f64; 3] = [0.3139, 0.4424, 0.0];
    const ST: [f64; 3] = [0.5576, 0.4424, 0.2437];
    /// Var f = a²/8 + b·π⁴/5 + b²·π⁸/18 + 1/2.
    fn variance() -> f64 {
        49.0 / 8.0 + 0.1 * PI.powi(4) / 5.0 + 0.01 * PI.powi(8) / 18.0 + 0.5
    }

    /// Six intervals at once: each at 1 − 0.05/6 (Bonferroni), so all six cover together
    /// with probability at least 95%.
    const LEVEL: f64 = 1.0 - 0.05 / 6.0;
    const N: usize = 8192;

    #[test]
    fn ishigami_indices_within_their_bootstrap_intervals() {
        let d = Design::new(DesignKind::Sobol, N, 3, 11);
        let y: Vec<Vec<f64>> = d.rows.iter().map(|u| vec![ishigami_at(u)]).collect();
        let boot = Bootstrap::new(N, 500, 11);
        let ix = indices(&d, &y, &boot, LEVEL).unwrap();
        assert!(
            (ix.variance - variance()).abs() / variance() < 0.02,
            "{}",
            ix.variance
        );
        assert_eq!(ix.noise.est, 0.0);
        for i in 0..3 {
            let (f, t) = (ix.first[i], ix.total[i]);
            assert!(f.low <= S1[i] && S1[i] <= f.high, "S1[{i}] = {S1:?}: {f:?}");
            assert!(t.low <= ST[i] && ST[i] <= t.high, "ST[{i}]: {t:?}");
            // The intervals are narrow enough for the check to mean something.
            assert!(f.high - f.low < 0.1 && t.high - t.low < 0.1, "{f:?} {t:?}");
        }
    }

    #[test]
    fn the_first_order_estimator_is_centred() {
        // Ishigami + 1000: the same indices, the same interval widths (the centred estimator
        // does not see the output's level), still covering the analytic values; the
        // uncentred one (Saltelli 2010 Table 2 (b) as printed) is far off at this N.
        let n = 2048;
        let d = Design::new(DesignKind::Sobol, n, 3, 11);
        let boot = Bootstrap::new(n, 500, 11);
        let at = |offset: f64| {
            let y: Vec<Vec<f64>> = d.rows.iter().map(|u| vec![ishigami_at(u) + offset]).collect();
            (indices(&d, &y, &boot, LEVEL).unwrap(), y)
        };
        let ((near, _), (far, y)) = (at(0.0), at(1000.0));
        for (i, (&a, &b)) in near.first.iter().zip(&far.first).enumerate() {
            assert!((a.est - b.est).abs() < 1e-9, "S1[{i}]: {a:?} {b:?}");
            assert!(
                ((a.high - a.low) - (b.high - b.low)).abs() < 1e-9,
                "S1[{i}] widths"
            );
            assert!(b.low <= S1[i] && S1[i] <= b.high, "S1[{i}] = {}: {b:?}", S1[i]);
            assert!(b.high - b.low < 0.15, "S1[{i}]: {b:?}");
        }
        // The uncentred estimate of S1 for x3 (analytic 0), from the same design.
        let t = terms(&d, &y);
        let v = far.variance;
        let uncentred = t.iter().map(|t| t[3 + 2]).sum::<f64>() / n as f64 / v;
        let f3 = far.first[2];
        assert!(
            (uncentred - f3.est).abs() > f3.high - f3.low,
            "{uncentred} {f3:?}"
        );
        // The direction of each effect: x2 enters as sin², x1 through sin x1 (both even in
        // their middle), so neither is monotone; x3 alone has no first-order effect.
        assert!(far.correlation.iter().all(|c| c.abs() <= 1.0));
    }

    #[test]
    fn an_interval_outside_zero_one_asks_for_more_points() {
        let c = |est, low, high| Ci { est, low, high };
        assert_eq!(points_needed(c(0.5, 0.4, 0.6), 64), None);
        // Half-width 0.5 around 0.3 (room 0.3): (0.5 / 0.3)² × 64 = 178.
        assert_eq!(points_needed(c(0.3, -0.2, 0.8), 64), Some(178));
        // An estimate below zero: room 0.05.
        assert_eq!(points_needed(c(-0.1, -0.3, 0.1), 100), Some(1600));
    }

    #[test]
    fn a_monotone_input_shows_its_direction() {
        let n = 512;
        let d = Design::new(DesignKind::Sobol, n, 2, 3);
        let boot = Bootstrap::new(n, 200, 3);
        let y: Vec<Vec<f64>> = d.rows.iter().map(|u| vec![3.0 * u[0] - u[1]]).collect();
        let ix = indices(&d, &y, &boot, 0.95).unwrap();
        assert!(
            ix.correlation[0] > 0.9 && ix.correlation[1] < -0.2,
            "{:?}",
            ix.correlation
        );
        // Linear and additive: S1 = ST = a_i² / Σ a²: 0.9 and 0.1.
        assert!(
            (ix.first[0].est - 0.9).abs() < 0.05 && (ix.first[1].est - 0.1).abs() < 0.05,
            "{ix:?}"
        );
    }

    #[test]
    fn noise_is_separated_from_the_parameters() {
        // Ishigami plus independent normal noise of sd σ in each of R replications: the
        // mean of R has noise variance σ²/R; the indices are the analytic ones scaled by
        // Var f / (Var f + σ²/R), and the noise share is the rest.
        use rand_distr::{Distribution, StandardNormal};
        let (sigma, r) = (6.0, 4usize);
        let d = Design::new(DesignKind::Sobol, N, 3, 5);
        let mut rng = stream_rng(5, 0, 99);
        let y: Vec<Vec<f64>> = d
            .rows
            .iter()
            .map(|u| {
                (0..r)
                    .map(|_| {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        ishigami_at(u) + sigma * z
                    })
                    .collect()
            })
            .collect();
        let boot = Bootstrap::new(N, 500, 5);
        let ix = indices(&d, &y, &boot, LEVEL).unwrap();
        let noise = sigma * sigma / r as f64;
        let share = noise / (variance() + noise);
        assert!(
            ix.noise.low <= share && share <= ix.noise.high,
            "{share} {:?}",
            ix.noise
        );
        for i in 0..3 {
            let (s1, st) = (S1[i] * (1.0 - share), ST[i] * (1.0 - share));
            let (f, t) = (ix.first[i], ix.total[i]);
            assert!(f.low <= s1 && s1 <= f.high, "S1[{i}] {s1}: {f:?}");
            assert!(t.low <= st && st <= t.high, "ST[{i}] {st}: {t:?}");
        }
        // Without the correction, the total index of x3 would carry the noise σ²/R twice
        // over: (ST·Var f + σ²/R) / V, outside the interval.
        let naive = (ST[2] * variance() + noise) / (variance() + noise);
        assert!(naive > ix.total[2].high, "{naive} {:?}", ix.total[2]);
    }
}
