//! Random numbers: keyed draws for the simulation, and seeded streams for the rest.
//!
//! **Keyed draws** (`Keyed`, `Draws`). Every random decision of a replication takes its
//! numbers from Philox4x32-10 (Salmon et al. 2011, "Parallel random numbers: as easy as 1,
//! 2, 3"), a counter-based generator: block `i` of the draws about `(entity, purpose)` is the
//! Philox bijection of the counter `(i, purpose, entity)` under a 64-bit key, and the key is
//! derived from `(master seed, replication, domain)`, where the domain is the workload or a
//! stage's name. A draw therefore depends on what it is about (this action's third attempt at
//! the stage named "review", its service time), never on how many numbers were drawn before
//! it: policies that order events differently still give the same action the same luck
//! (synchronised common random numbers), and a stage put in front moves nothing else.
//! Philox is written here (40 lines, checked against the Random123 known-answer vectors)
//! because no maintained crate provides it, and a block costs ten rounds of two 32-bit
//! multiplies, cheap enough to compute afresh per decision; ChaCha (rand_chacha) has streams
//! and word positions too, but computes four blocks at a time.
//!
//! **Seeded streams** (`stream_rng`). An exploration's design and bootstrap draw in order
//! from xoshiro256++ (`rand_xoshiro`), whose state is derived from `(master seed,
//! replication, stream)` with SplitMix64.

use std::convert::Infallible;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator used for every stream.
pub type StreamRng = Xoshiro256PlusPlus;

/// Seeded streams of an exploration (replication 0).
pub mod stream {
    /// An exploration's design: the Sobol scramble and the Latin hypercube.
    pub const DESIGN: u64 = 6;
    /// An exploration's bootstrap resamples.
    pub const BOOTSTRAP: u64 = 7;
}

/// Domains of keyed draws that are not a stage's (a stage's domain is its name).
pub mod domain {
    /// The workload: arrivals, each action's class and each attempt's defect draws.
    pub const WORKLOAD: u64 = 1;
    /// Rework: the delay before an attempt comes back.
    pub const REWORK: u64 = 3;
    /// The agent's drift episodes.
    pub const DRIFT: u64 = 4;
    /// People doing the work by hand.
    pub const WORK: u64 = 8;
}

/// What a keyed draw is for, within its domain and entity.
pub mod purpose {
    /// The gap before arrival `n` (and the thinning of the daily profile).
    pub const ARRIVAL: u32 = 1;
    /// An action's class.
    pub const CLASS: u32 = 2;
    /// An attempt's defect uniform, latent difficulty and defect kind, in that order.
    pub const ATTEMPT: u32 = 3;
    /// Whether a sampling stage takes the attempt.
    pub const ENTER: u32 = 4;
    /// A layer's outcome: detection of a defect, or a false flag on clean work.
    pub const DETECT: u32 = 5;
    /// A person's time on the attempt (a review, an audit, a triage, the work itself).
    pub const SERVICE: u32 = 6;
    /// An automated stage's delay, or the delay before rework.
    pub const DELAY: u32 = 7;
    /// Whether triage flags the action.
    pub const TRIAGE: u32 = 8;
    /// Whether a finding's root cause is fixed.
    pub const LEARN: u32 = 9;
    /// Which of a lot's items are sampled (entity: the attempt that opened the lot).
    pub const LOT: u32 = 10;
    /// A person's own detection (entity: the person).
    pub const SKILL: u32 = 12;
    /// The gap before drift onset `k`.
    pub const ONSET: u32 = 13;
    /// Whether alarm `k` of a monitor finds the drift.
    pub const FIND: u32 = 14;
    /// Which cause an attempt's defect would come from (the residual share or a root cause of
    /// its class), so that a fix removes the same defects in every policy.
    pub const CAUSE: u32 = 15;
    /// Whether a finding reaches a root-cause investigation (a culture's `reporting`).
    pub const REPORT: u32 = 16;
    /// Whether an escape comes to light by itself (`workload.found_later`).
    pub const SURFACE: u32 = 17;
    /// How long a person stays (entity: the place, and how many held it before).
    pub const TENURE: u32 = 18;
}

/// The entity of an attempt: action number `n` (its arrival index in the replication) and
/// attempt `attempt` (1 for the first).
#[inline(always)]
pub fn attempt_entity(n: u64, attempt: u16) -> u64 {
    n << ATTEMPT_BITS | attempt as u64
}

/// Bits of an attempt's entity that hold the attempt ([`attempt_entity`]).
pub const ATTEMPT_BITS: u32 = 16;

const PHILOX_M0: u32 = 0xD251_1F53;
const PHILOX_M1: u32 = 0xCD9E_8D57;
const PHILOX_W0: u32 = 0x9E37_79B9;
const PHILOX_W1: u32 = 0xBB67_AE85;

/// The Philox4x32-10 bijection of `ctr` under `key`.
#[inline(always)]
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    #[inline(always)]
    fn round(c: [u32; 4], k0: u32, k1: u32) -> [u32; 4] {
        let p0 = PHILOX_M0 as u64 * c[0] as u64;
        let p1 = PHILOX_M1 as u64 * c[2] as u64;
        [
            (p1 >> 32) as u32 ^ c[1] ^ k0,
            p1 as u32,
            (p0 >> 32) as u32 ^ c[3] ^ k1,
            p0 as u32,
        ]
    }
    let (k0, k1) = (key[0], key[1]);
    let k = |r: u32| {
        (
            k0.wrapping_add(r.wrapping_mul(PHILOX_W0)),
            k1.wrapping_add(r.wrapping_mul(PHILOX_W1)),
        )
    };
    let mut c = ctr;
    // Ten rounds, written out, with round r's key bumped r times.
    let (a, b) = k(0);
    c = round(c, a, b);
    let (a, b) = k(1);
    c = round(c, a, b);
    let (a, b) = k(2);
    c = round(c, a, b);
    let (a, b) = k(3);
    c = round(c, a, b);
    let (a, b) = k(4);
    c = round(c, a, b);
    let (a, b) = k(5);
    c = round(c, a, b);
    let (a, b) = k(6);
    c = round(c, a, b);
    let (a, b) = k(7);
    c = round(c, a, b);
    let (a, b) = k(8);
    c = round(c, a, b);
    let (a, b) = k(9);
    round(c, a, b)
}

/// The key of one domain of one replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyed {
    key: [u32; 2],
}

impl Keyed {
    /// The key of `domain` in replication `replication` under `master` seed.
    pub fn new(master: u64, replication: u64, domain: u64) -> Keyed {
        let mut s = master;
        let a = splitmix64(&mut s);
        let mut s = a ^ replication.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let b = splitmix64(&mut s);
        let mut s = b ^ domain.wrapping_mul(0x8CB9_2BA7_2F3D_8DD7);
        let k = splitmix64(&mut s);
        Keyed {
            key: [k as u32, (k >> 32) as u32],
        }
    }

    /// The key of the stage named `name` (same-named stages share draws across policies).
    pub fn of_name(master: u64, replication: u64, name: &str) -> Keyed {
        Keyed::new(master, replication, name_domain(name))
    }

    /// The draws about `entity` for `purpose`.
    #[inline(always)]
    pub fn draws(self, entity: u64, purpose: u32) -> Draws {
        let ctr = [0, purpose, entity as u32, (entity >> 32) as u32];
        // The first block now: nearly every use needs it, and the sampler's first word then
        // comes without a branch.
        Draws {
            key: self.key,
            ctr: [1, purpose, entity as u32, (entity >> 32) as u32],
            buf: philox4x32_10(ctr, self.key),
            used: 0,
        }
    }

    /// The first uniform of the draws about `entity` for `purpose`.
    #[inline(always)]
    pub fn uniform(self, entity: u64, purpose: u32) -> f64 {
        first_uniform(philox4x32_10(
            [0, purpose, entity as u32, (entity >> 32) as u32],
            self.key,
        ))
    }
}

/// Blocks taken ahead: how many consecutive entities [`Ahead`] computes at once.
const AHEAD: usize = 64;

/// Entities of a window that must be asked for before the next window is taken ahead: a
/// block taken ahead costs about a quarter of one computed on demand.
const DENSE: u32 = (AHEAD / 4) as u32;

/// The first blocks of the draws for one purpose about consecutive entities `n << shift |
/// low` (arrival `n`, or its first attempt), computed [`AHEAD`] at a time from the first
/// `n` asked for beyond the window. The numbers are exactly [`Keyed::draws`]'s; computing
/// independent blocks together lets the processor work on several at once (with AVX2 where
/// it has it) instead of waiting on each in turn, about a quarter of the time per block.
/// That pays only where most entities are asked for: a window in which fewer than
/// [`DENSE`] were is followed by one computed on demand (counted the same way), and an `n`
/// behind the window is computed on its own.
#[derive(Debug, Clone)]
pub struct Ahead {
    keys: Keyed,
    purpose: u32,
    shift: u32,
    low: u64,
    /// The window `[base, end)` of `n` (empty until first asked), whether `blocks` holds
    /// it (else its draws are computed on demand), and how many of its `n` were asked for.
    base: u64,
    end: u64,
    filled: bool,
    asked: u32,
    blocks: Box<[[u32; 4]; AHEAD]>,
}

impl Ahead {
    /// The draws of `keys` for `purpose` about entities `n << shift | low`.
    pub fn new(keys: Keyed, purpose: u32, shift: u32, low: u64) -> Ahead {
        Ahead {
            keys,
            purpose,
            shift,
            low,
            base: 0,
            end: 0,
            filled: false,
            asked: DENSE,
            blocks: Box::new([[0; 4]; AHEAD]),
        }
    }

    /// The draws about entity `n << shift | low`: those of [`Keyed::draws`].
    #[inline(always)]
    pub fn draws(&mut self, n: u64) -> Draws {
        let entity = n << self.shift | self.low;
        if n < self.base {
            // A straggler behind the window: computed on its own, the window stays.
            return self.keys.draws(entity, self.purpose);
        }
        if n >= self.end {
            self.next_window(n);
        }
        self.asked += 1;
        if !self.filled {
            return self.keys.draws(entity, self.purpose);
        }
        Draws {
            key: self.keys.key,
            ctr: [1, self.purpose, entity as u32, (entity >> 32) as u32],
            buf: self.blocks[(n - self.base) as usize],
            used: 0,
        }
    }

    /// The first uniform of [`Ahead::draws`].
    #[inline(always)]
    pub fn uniform(&mut self, n: u64) -> f64 {
        first_uniform(self.draws(n).buf)
    }

    /// The draws about `entity` for this purpose, whatever the entity: taken ahead when it
    /// is one of the window's kind (`n << shift | low`, a first attempt), computed on its
    /// own otherwise (a later attempt).
    #[inline(always)]
    pub fn draws_about(&mut self, entity: u64) -> Draws {
        if entity & ((1 << self.shift) - 1) == self.low {
            self.draws(entity >> self.shift)
        } else {
            self.keys.draws(entity, self.purpose)
        }
    }

    /// The first uniform of [`Ahead::draws_about`].
    #[inline(always)]
    pub fn uniform_about(&mut self, entity: u64) -> f64 {
        first_uniform(self.draws_about(entity).buf)
    }

    /// Starts the window at `from`: filled if the last one was asked for densely.
    #[inline(never)]
    fn next_window(&mut self, from: u64) {
        self.base = from;
        self.end = from.saturating_add(AHEAD as u64);
        self.filled = self.asked >= DENSE;
        self.asked = 0;
        if self.filled {
            self.fill();
        }
    }

    fn fill(&mut self) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2 (checked just now).
            unsafe { self.fill_avx2() };
            return;
        }
        self.fill_here();
    }

    /// [`Ahead::fill_here`] compiled for AVX2: the same integer arithmetic, so the same
    /// blocks, four or eight at a time.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn fill_avx2(&mut self) {
        self.fill_here();
    }

    #[inline(always)]
    fn fill_here(&mut self) {
        let (key, purpose, shift, low, base) = (self.keys.key, self.purpose, self.shift, self.low, self.base);
        for (k, b) in self.blocks.iter_mut().enumerate() {
            let e = (base + k as u64) << shift | low;
            *b = philox4x32_10([0, purpose, e as u32, (e >> 32) as u32], key);
        }
    }
}

/// The domain of a stage's name: FNV-1a over its bytes, with the top bit set so that it
/// never equals the small fixed domains.
fn name_domain(name: &str) -> u64 {
    let h = name.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3)
    });
    h | 1 << 63
}

/// The numbers about one (entity, purpose): Philox blocks 0, 1, 2, … of its counter, each
/// giving two 64-bit words. Samplers draw from it like any generator.
#[derive(Debug, Clone)]
pub struct Draws {
    key: [u32; 2],
    ctr: [u32; 4],
    buf: [u32; 4],
    /// Words of `buf` already used (4: none left).
    used: u8,
}

impl Draws {
    #[inline(always)]
    fn refill(&mut self) {
        self.buf = philox4x32_10(self.ctr, self.key);
        self.ctr[0] = self.ctr[0].wrapping_add(1);
        self.used = 0;
    }
}

impl rand::TryRng for Draws {
    type Error = Infallible;

    #[inline(always)]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        if self.used >= 4 {
            self.refill();
        }
        let w = self.buf[self.used as usize];
        self.used += 1;
        Ok(w)
    }

    #[inline(always)]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        if self.used >= 3 {
            self.refill();
        }
        let i = self.used as usize;
        self.used += 2;
        Ok(self.buf[i] as u64 | (self.buf[i + 1] as u64) << 32)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(4) {
            let w = self.try_next_u32()?.to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Ok(())
    }
}

/// SplitMix64 step (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
#[inline]
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator for `stream` of replication `replication` under `master` seed.
pub fn stream_rng(master: u64, replication: u64, stream: u64) -> StreamRng {
    let mut s = master;
    let a = splitmix64(&mut s);
    let mut s = a ^ replication.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let b = splitmix64(&mut s);
    let mut s = b ^ stream.wrapping_mul(0x8CB9_2BA7_2F3D_8DD7);
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_exact_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut s).to_le_bytes());
    }
    StreamRng::from_seed(seed)
}

/// A uniform draw in [0, 1) with 53 random bits.
#[inline]
pub fn uniform<R: rand::Rng + ?Sized>(rng: &mut R) -> f64 {
    to_unit(rng.next_u64())
}

/// The uniform of a block's first two words (what `uniform` draws first).
#[inline(always)]
fn first_uniform(b: [u32; 4]) -> f64 {
    to_unit(b[0] as u64 | (b[1] as u64) << 32)
}

/// The top 53 bits of `x` as a number in [0, 1).
#[inline(always)]
fn to_unit(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_fixed_and_distinct() {
        // Pinned values: a change here changes every result oversim has ever produced.
        let mut r = stream_rng(2026, 0, stream::DESIGN);
        let first = r.next_u64();
        assert_eq!(first, stream_rng(2026, 0, stream::DESIGN).next_u64());
        assert_ne!(first, stream_rng(2026, 1, stream::DESIGN).next_u64());
        assert_ne!(first, stream_rng(2026, 0, stream::BOOTSTRAP).next_u64());
        assert_ne!(first, stream_rng(2027, 0, stream::DESIGN).next_u64());
        assert_eq!(stream_rng(0, 0, 0).next_u64(), PINNED);
    }

    const PINNED: u64 = 4526510421850589242;

    /// Random123's known-answer vectors for Philox4x32-10 (counter, key, output).
    #[test]
    fn philox_gives_the_published_known_answers() {
        let kat: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
            ([0; 4], [0; 2], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]),
            (
                [u32::MAX; 4],
                [u32::MAX; 2],
                [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
            ),
            (
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0],
                [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
            ),
        ];
        for (ctr, key, out) in kat {
            assert_eq!(philox4x32_10(ctr, key), out, "counter {ctr:x?}, key {key:x?}");
        }
    }

    #[test]
    fn draws_are_the_blocks_of_their_counter_in_order() {
        let k = Keyed::new(2026, 3, domain::WORKLOAD);
        let mut d = k.draws(77, purpose::SERVICE);
        for i in 0..3u32 {
            let b = philox4x32_10([i, purpose::SERVICE, 77, 0], k.key);
            assert_eq!(d.next_u64(), b[0] as u64 | (b[1] as u64) << 32);
            assert_eq!(d.next_u64(), b[2] as u64 | (b[3] as u64) << 32);
        }
        assert_eq!(
            k.uniform(77, purpose::SERVICE),
            uniform(&mut k.draws(77, purpose::SERVICE))
        );
        // Keyed by what they are about: another entity, purpose, domain, replication or seed
        // gives other numbers.
        let u = k.uniform(77, purpose::SERVICE);
        assert_ne!(u, k.uniform(78, purpose::SERVICE));
        assert_ne!(u, k.uniform(77, purpose::DETECT));
        assert_ne!(
            u,
            Keyed::new(2026, 3, domain::REWORK).uniform(77, purpose::SERVICE)
        );
        assert_ne!(
            u,
            Keyed::new(2026, 4, domain::WORKLOAD).uniform(77, purpose::SERVICE)
        );
        assert_ne!(
            u,
            Keyed::new(2027, 3, domain::WORKLOAD).uniform(77, purpose::SERVICE)
        );
        assert_ne!(Keyed::of_name(1, 0, "review"), Keyed::of_name(1, 0, "review2"));
        assert_eq!(Keyed::of_name(1, 0, "review"), Keyed::of_name(1, 0, "review"));
    }

    #[test]
    fn draws_taken_ahead_are_the_keyed_draws() {
        let k = Keyed::new(2026, 5, domain::WORKLOAD);
        let mut ahead = Ahead::new(k, purpose::ATTEMPT, ATTEMPT_BITS, 1);
        let same = |mut a: Draws, mut b: Draws| (0..6).all(|_| a.next_u64() == b.next_u64());
        // In order across windows, a jump ahead, stragglers behind the window (which stays),
        // and later attempts, which are never in a window.
        for n in (0..200).chain([1000, 1001, 3, 1002, 999, 5000]) {
            let direct = k.draws(attempt_entity(n, 1), purpose::ATTEMPT);
            assert!(same(ahead.draws(n), direct.clone()), "n = {n}");
            assert!(same(ahead.draws_about(attempt_entity(n, 1)), direct), "n = {n}");
            assert_eq!(
                ahead.uniform(n),
                k.uniform(attempt_entity(n, 1), purpose::ATTEMPT)
            );
            let later = attempt_entity(n, 2);
            assert!(same(ahead.draws_about(later), k.draws(later, purpose::ATTEMPT)));
            assert_eq!(ahead.uniform_about(later), k.uniform(later, purpose::ATTEMPT));
        }
        assert_eq!(ahead.base, 5000, "a straggler does not move the window");
        // Asked for sparsely (one in ten), the windows are computed on demand; densely
        // again, taken ahead again; the numbers the same throughout.
        for n in (10_000..12_000).step_by(10).chain(12_000..12_200) {
            let direct = k.draws(attempt_entity(n, 1), purpose::ATTEMPT);
            assert!(same(ahead.draws(n), direct), "n = {n}");
            if n == 11_990 {
                assert!(!ahead.filled, "sparse windows are not taken ahead");
            }
        }
        assert!(ahead.filled, "dense windows are taken ahead");
        let mut gaps = Ahead::new(k, purpose::ARRIVAL, 0, 0);
        for n in [0, 63, 64, 65, 10, 200] {
            assert!(same(gaps.draws(n), k.draws(n, purpose::ARRIVAL)), "n = {n}");
        }
    }

    /// Pearson's statistic of `counts` against equal expected counts.
    fn chi_square(counts: &[u64]) -> f64 {
        let n: u64 = counts.iter().sum();
        let e = n as f64 / counts.len() as f64;
        counts.iter().map(|&c| (c as f64 - e).powi(2) / e).sum()
    }

    /// The chi-square tests below use 256 cells (255 degrees of freedom: mean 255, sd
    /// 22.6); 380 is about the 1 − 10⁻⁶ quantile (Wilson–Hilferty), so a sound generator
    /// fails one of them about once in a million runs.
    const CHI2_255: f64 = 380.0;

    #[test]
    fn keyed_uniforms_pass_chi_square_in_one_and_two_dimensions() {
        let k = Keyed::new(7, 0, domain::WORKLOAD);
        // The first uniform of consecutive entities (how the engine uses them), and the
        // uniforms along one entity's draws.
        let firsts: Vec<f64> = (0..1u64 << 20).map(|n| k.uniform(n, purpose::DETECT)).collect();
        let mut d = k.draws(5, purpose::SERVICE);
        let along: Vec<f64> = (0..1 << 20).map(|_| uniform(&mut d)).collect();
        for (what, us) in [
            ("first uniforms by entity", &firsts),
            ("one entity's draws", &along),
        ] {
            let mut one = [0u64; 256];
            for &u in us.iter() {
                one[(u * 256.0) as usize] += 1;
            }
            let x = chi_square(&one);
            assert!(x < CHI2_255, "{what}: chi-square {x:.1} on 255 df");
            // Pairs of neighbours on a 16 × 16 grid.
            let mut two = [0u64; 256];
            for p in us.chunks_exact(2) {
                two[(p[0] * 16.0) as usize * 16 + (p[1] * 16.0) as usize] += 1;
            }
            let x = chi_square(&two);
            assert!(x < CHI2_255, "{what}, pairs: chi-square {x:.1} on 255 df");
        }
        // Two purposes of one entity are independent: their pairs fill the grid evenly.
        let mut two = [0u64; 256];
        for n in 0..1u64 << 19 {
            let (a, b) = (k.uniform(n, purpose::DETECT), k.uniform(n, purpose::SERVICE));
            two[(a * 16.0) as usize * 16 + (b * 16.0) as usize] += 1;
        }
        let x = chi_square(&two);
        assert!(
            x < CHI2_255,
            "detect against service: chi-square {x:.1} on 255 df"
        );
    }

    #[test]
    fn uniform_in_unit_interval() {
        let mut r = stream_rng(1, 2, 3);
        let mean: f64 = (0..100_000).map(|_| uniform(&mut r)).sum::<f64>() / 100_000.0;
        assert!((mean - 0.5).abs() < 0.005);
    }
}
