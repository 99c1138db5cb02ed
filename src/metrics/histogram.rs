//! Streaming percentiles of durations (waits, latencies) in bounded memory.

use super::ratio;

/// Streaming percentiles of durations in bounded memory: a log-linear histogram indexed by
/// the exponent and the top [`SUB_BITS`] mantissa bits of the `f64` value (hours), so each
/// octave has 1024 buckets of relative width 2⁻¹⁰ and a reported quantile is within 0.05%
/// of the exact sample quantile (the bucket's midpoint). Zeros are counted exactly; values
/// outside [2⁻²⁴ h, 2²⁴ h) ≈ [0.2 ms, 1900 years) fall in the end buckets.
///
/// Recording is a few bit operations (why not the `hdrhistogram` crate:
/// docs/performance.md).
#[derive(Debug, Clone, Default)]
pub struct DurationHistogram {
    /// Allocated on the first positive value.
    counts: Option<Box<[u64; BUCKETS]>>,
    zeros: u64,
    n: u64,
    sum_hours: f64,
}

/// Mantissa bits per octave.
pub const SUB_BITS: u32 = 10;
const MIN_EXP: i64 = -24;
const MAX_EXP: i64 = 24;
const BUCKETS: usize = ((MAX_EXP - MIN_EXP) as usize) << SUB_BITS;

/// A zeroed bucket array, allocated on the heap (it is 384 KiB: too large for the stack).
fn zeroed() -> Box<[u64; BUCKETS]> {
    vec![0; BUCKETS]
        .into_boxed_slice()
        .try_into()
        .expect("BUCKETS long")
}

impl DurationHistogram {
    pub fn new() -> DurationHistogram {
        DurationHistogram::default()
    }

    /// The bucket of a positive `hours`: for positive floats the bits above the top
    /// [`SUB_BITS`] mantissa bits are (biased exponent, sub-bucket), so one shift, one
    /// subtraction and a clamp to the end buckets give the index.
    #[inline]
    fn index(hours: f64) -> usize {
        let i = (hours.to_bits() >> (52 - SUB_BITS)) as i64 - ((1023 + MIN_EXP) << SUB_BITS);
        i.clamp(0, BUCKETS as i64 - 1) as usize
    }

    /// The midpoint of bucket `i`, hours.
    fn value(i: usize) -> f64 {
        let exp = (i >> SUB_BITS) as i64 + MIN_EXP;
        let sub = (i & ((1 << SUB_BITS) - 1)) as f64;
        2f64.powi(exp as i32) * (1.0 + (sub + 0.5) / (1u64 << SUB_BITS) as f64)
    }

    #[inline]
    pub fn record(&mut self, hours: f64) {
        self.n += 1;
        self.sum_hours += hours;
        if hours > 0.0 {
            self.counts.get_or_insert_with(zeroed)[Self::index(hours)] += 1;
        } else {
            self.zeros += 1;
        }
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    /// The exact sum of the recorded durations, hours.
    pub fn sum_hours(&self) -> f64 {
        self.sum_hours
    }

    /// Adds another histogram's samples to this one.
    pub fn merge(&mut self, other: &DurationHistogram) {
        if let Some(theirs) = &other.counts {
            let ours = self.counts.get_or_insert_with(zeroed);
            for (a, b) in ours.iter_mut().zip(theirs.iter()) {
                *a += b;
            }
        }
        self.zeros += other.zeros;
        self.n += other.n;
        self.sum_hours += other.sum_hours;
    }

    /// Mean in minutes (exact, not from the histogram); `NaN` when empty.
    pub fn mean_min(&self) -> f64 {
        ratio(self.sum_hours * 60.0, self.n as f64)
    }

    /// The nearest-rank quantile `q` in minutes; `NaN` when empty.
    pub fn quantile_min(&self, q: f64) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        if rank <= self.zeros {
            return 0.0;
        }
        let mut seen = self.zeros;
        for (i, &c) in self.counts.iter().flat_map(|c| c.iter()).enumerate() {
            seen += c;
            if seen >= rank {
                return Self::value(i) * 60.0;
            }
        }
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_matches_exact_quantiles() {
        use rand::SeedableRng;
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(9);
        let mut h = DurationHistogram::new();
        let mut v: Vec<f64> = (0..100_000)
            .map(|i| {
                let x: f64 = rand_distr::Distribution::sample(&rand_distr::Exp1, &mut rng);
                if i % 10 == 0 {
                    0.0
                } else {
                    x * 0.3
                }
            })
            .collect();
        for &x in &v {
            h.record(x);
        }
        v.sort_by(f64::total_cmp);
        for q in [0.05, 0.5, 0.9, 0.95, 0.99] {
            let exact = v[((q * v.len() as f64).ceil() as usize).max(1) - 1] * 60.0;
            let got = h.quantile_min(q);
            assert!(
                (got / exact - 1.0).abs() < 0.0005 || exact == got,
                "q {q}: {got} vs {exact}"
            );
        }
        assert_eq!(h.quantile_min(0.05), 0.0, "10% zeros");
        let mut merged = DurationHistogram::new();
        merged.merge(&h);
        assert_eq!(merged.quantile_min(0.95), h.quantile_min(0.95));
    }

    #[test]
    fn histogram_quantiles() {
        let mut h = DurationHistogram::new();
        for i in 1..=1000 {
            h.record(i as f64 / 60.0); // i minutes
        }
        assert!((h.quantile_min(0.95) - 950.0).abs() < 1.0);
        assert!((h.mean_min() - 500.5).abs() < 1e-9);
        assert!(DurationHistogram::new().quantile_min(0.5).is_nan());
    }
}
