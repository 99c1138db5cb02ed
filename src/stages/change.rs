//! People who change: a person's detection moves with what they have seen. Two mechanisms,
//! each off unless written, for any stage's people (reviewers, auditors, lot inspectors,
//! triage staff):
//!
//! - `prevalence`: rare targets are missed more (Wolfe, Horowitz & Kenner 2005). Each person
//!   keeps a running estimate of the share of targets among the items they handle (an
//!   exponentially weighted mean over about `memory` items, starting at `at`); their miss
//!   probability is multiplied by `(at / estimate)^slope`, capped at a sure miss.
//! - `experience`: practice on targets raises detection and disuse lowers it; turnover
//!   replaces people with novices. A person's ability `a` in [0, 1] sets their detection
//!   to `detect × (novice + (1 − novice) a)`; each target handled closes `1/learn` of the
//!   gap to 1, ability fades as `e^{−t/forget}` between targets, and after a tenure drawn
//!   from an exponential of mean `tenure` the person is replaced by a novice (a = 0) at a
//!   cost of `hire`.
//!
//! A target is a defective item for people who detect, and for triage staff an action their
//! rule would flag, weighted by its class's `flag` probability. Ability is linear in what
//! is seen, so its mean has a closed form (docs/model.md, "People who change").

use serde::Deserialize;

use super::At;
use crate::input::{Ctx, Num, S};
use crate::math::{normal_cdf, normal_quantile};
use crate::rng::{purpose, Keyed};

/// `prevalence` as read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prevalence {
    /// The target share at which `detect` holds.
    pub at: f64,
    /// The elasticity of the miss probability with respect to the share seen.
    pub slope: f64,
    /// Items the running estimate averages over (its weight per item is 1/memory).
    pub memory: f64,
}

/// `experience` as read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Experience {
    /// A novice's detection as a share of `detect`.
    pub novice: f64,
    /// Targets handled to close 1 − 1/e of the gap between a novice and `detect`.
    pub learn: f64,
    /// Hours for unused ability to fall by 1/e; `None`: it does not fade.
    pub forget: Option<f64>,
    /// Mean hours a person stays; `None`: nobody leaves.
    pub tenure: Option<f64>,
    /// USD to replace a person who leaves (recruiting and training).
    pub hire: f64,
    /// Everyone's ability at the start.
    pub start: f64,
}

/// How a stage's people change: nothing, unless written.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Change {
    pub prevalence: Option<Prevalence>,
    pub experience: Option<Experience>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrevalence {
    pub at: S<Num>,
    pub slope: Option<S<Num>>,
    pub memory: Option<S<Num>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExperience {
    pub novice: S<Num>,
    pub learn: S<Num>,
    pub forget: Option<S<String>>,
    pub tenure: Option<S<String>>,
    pub hire: Option<S<Num>>,
    pub start: Option<S<Num>>,
}

/// The prevalence effect's slope when none is written: Wolfe et al. (2005), 7% misses at
/// 50% prevalence against 30% at 1% (ln(30/7) / ln 50; docs/parameters.md A.14).
pub const WOLFE_SLOPE: f64 = 0.372;

/// Reads a stage's `prevalence` and `experience`; `people`: whether the stage has people
/// (triage without `reviewers` is automated and does not change).
pub fn change(
    ctx: &mut Ctx,
    at: &At,
    prevalence: &Option<S<RawPrevalence>>,
    experience: &Option<S<RawExperience>>,
    people: bool,
) -> Change {
    if !people {
        for (key, span) in [
            ("prevalence", prevalence.as_ref().map(S::span)),
            ("experience", experience.as_ref().map(S::span)),
        ] {
            if let Some(span) = span {
                ctx.err(
                    span,
                    &at.key(key),
                    format!("is for people who triage; set `reviewers` (and `service`) to use it, or remove `{key}` (automated triage does not change)"),
                );
            }
        }
        return Change::default();
    }
    let prevalence = prevalence.as_ref().map(|p| {
        let (p, fp) = (p.get_ref(), at.key("prevalence"));
        Prevalence {
            at: ctx.range(
                &p.at,
                &format!("{fp}.at"),
                1e-9,
                1.0,
                "a share of targets in (0, 1]",
            ),
            slope: p.slope.as_ref().map_or(WOLFE_SLOPE, |v| {
                ctx.range(v, &format!("{fp}.slope"), 0.0, 5.0, "an elasticity in [0, 5]")
            }),
            memory: p.memory.as_ref().map_or(200.0, |v| {
                ctx.range(v, &format!("{fp}.memory"), 1.0, 1e9, "a number of items ≥ 1")
            }),
        }
    });
    let experience = experience.as_ref().map(|e| {
        let (span, e, fp) = (e.span(), e.get_ref(), at.key("experience"));
        let tenure = e
            .tenure
            .as_ref()
            .map(|v| ctx.duration(v, &format!("{fp}.tenure"), false));
        if tenure.is_some() && e.hire.is_none() {
            ctx.missing(
                span,
                &fp,
                "hire",
                "what replacing a person who leaves costs in USD (recruiting and training), e.g. 5000",
            );
        }
        Experience {
            novice: ctx.prob(&e.novice, &format!("{fp}.novice")),
            learn: ctx.range(
                &e.learn,
                &format!("{fp}.learn"),
                1.0,
                1e9,
                "a number of targets ≥ 1",
            ),
            forget: e
                .forget
                .as_ref()
                .map(|v| ctx.duration(v, &format!("{fp}.forget"), false)),
            tenure,
            hire: e.hire.as_ref().map_or(0.0, |v| {
                ctx.range(v, &format!("{fp}.hire"), 0.0, 1e12, "a cost in USD ≥ 0")
            }),
            start: ctx.opt_prob(&e.start, &format!("{fp}.start"), 1.0),
        }
    });
    Change {
        prevalence,
        experience,
    }
}

/// One person's changing state: the target share they have seen and their ability.
#[derive(Debug, Clone, Copy)]
pub struct Mind {
    /// The running estimate of the share of targets seen.
    seen: f64,
    ability: f64,
    /// When `ability` was last brought up to date.
    last: f64,
    /// When the person leaves (infinite without turnover).
    leaves: f64,
    /// People who held this place before (the draws of each tenure are keyed by it).
    hired: u32,
    /// Replacements at or after `window` (the measured window's start).
    pub replaced: u32,
    window: f64,
    person: u32,
    keys: Keyed,
}

impl Mind {
    /// Person `person` of a stage whose draws are `keys`, with the window opening at
    /// `window`.
    pub fn new(c: &Change, keys: Keyed, person: usize, window: f64) -> Mind {
        let mut m = Mind {
            seen: c.prevalence.map_or(f64::NAN, |p| p.at),
            ability: c.experience.map_or(1.0, |e| e.start),
            last: 0.0,
            leaves: f64::INFINITY,
            hired: 0,
            replaced: 0,
            window,
            person: person as u32,
            keys,
        };
        m.leaves = m.tenure(c, 0.0);
        m
    }

    /// The leaving time of the person hired at `from` (infinite without turnover).
    fn tenure(&self, c: &Change, from: f64) -> f64 {
        match c.experience.and_then(|e| e.tenure) {
            Some(mean) => {
                let entity = (self.person as u64) << 32 | self.hired as u64;
                let u = self.keys.uniform(entity, purpose::TENURE);
                from - mean * libm::log(1.0 - u)
            }
            None => f64::INFINITY,
        }
    }

    /// Brings the person up to `now`: whoever left before `now` was replaced by a novice,
    /// and unused ability faded.
    pub fn catch_up(&mut self, c: &Change, now: f64) {
        let Some(e) = c.experience else { return };
        while self.leaves <= now {
            self.ability = 0.0;
            self.last = self.leaves;
            self.seen = c.prevalence.map_or(f64::NAN, |p| p.at);
            self.replaced += (self.leaves >= self.window) as u32;
            self.hired += 1;
            self.leaves = self.tenure(c, self.last);
        }
        if let Some(f) = e.forget {
            self.ability *= libm::exp(-(now - self.last) / f);
        }
        self.last = now;
    }

    /// The person's detection at `now` of what `d` is for a practised person who sees
    /// targets at the rate `detect` was measured at, with what it was before the share
    /// they have seen moved it ([`Judged`]); then they learn from the item, whose weight as a
    /// target is `target` (1 or 0 for a defect, a class's flag for triage).
    #[inline]
    pub fn inspect(&mut self, c: &Change, now: f64, d: f64, target: f64) -> Judged {
        if c.prevalence.is_none() && c.experience.is_none() {
            return Judged { detect: d, before: d };
        }
        self.catch_up(c, now);
        let judged = self.judge(c, d);
        if let Some(p) = c.prevalence {
            self.seen += (target - self.seen) / p.memory;
        }
        if let Some(e) = c.experience {
            self.ability += (1.0 - self.ability) * target / e.learn;
        }
        judged
    }

    /// What detection `d` becomes with this person's ability and the target share seen.
    pub fn detect(&self, c: &Change, d: f64) -> f64 {
        self.judge(c, d).detect
    }

    /// [`Mind::detect`], with the detection before the prevalence effect.
    fn judge(&self, c: &Change, d: f64) -> Judged {
        let mut before = d;
        if let Some(e) = c.experience {
            before *= e.novice + (1.0 - e.novice) * self.ability;
        }
        let detect = match c.prevalence {
            // 1 − (1 − d)·factor, written so that a factor of 1 leaves d exactly as it was.
            Some(p) => {
                let factor = libm::pow(p.at / self.seen, p.slope);
                (before - (1.0 - before) * (factor - 1.0)).max(0.0)
            }
            None => before,
        };
        Judged { detect, before }
    }
}

/// A person's detection of a defect, and what it was before the prevalence effect moved
/// it (the same without the effect). The criterion shift between the two is computed only
/// where a false alarm asks for it, off the path of every defect and every desk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judged {
    pub detect: f64,
    pub before: f64,
}

impl Judged {
    /// A false-alarm probability `f` under the same criterion shift: the prevalence effect
    /// is a criterion shift (Wolfe et al. 2005, 2007), so at a fixed sensitivity d′ a
    /// person who says "defect" less often to real ones says it less often to clean work:
    /// Φ⁻¹(f′) − Φ⁻¹(f) = Φ⁻¹(d′) − Φ⁻¹(d) (a sure miss, d′ = 0, gives f′ = 0). Exactly
    /// `f` without a shift.
    pub fn false_alarm(&self, f: f64) -> f64 {
        let (d, shifted) = (self.before, self.detect);
        if shifted == d || d <= 0.0 || d >= 1.0 || f <= 0.0 || f >= 1.0 {
            f
        } else {
            normal_cdf(normal_quantile(f) + (normal_quantile(shifted) - normal_quantile(d)))
        }
    }
}

/// One [`Mind`] for each of `n` people of a stage.
pub fn minds(c: &Change, keys: Keyed, n: usize, window: f64) -> Vec<Mind> {
    (0..n).map(|r| Mind::new(c, keys, r, window)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keyed {
        Keyed::new(1, 0, 99)
    }

    fn experience(forget: Option<f64>, tenure: Option<f64>) -> Change {
        Change {
            prevalence: None,
            experience: Some(Experience {
                novice: 0.5,
                learn: 10.0,
                forget,
                tenure,
                hire: 0.0,
                start: 1.0,
            }),
        }
    }

    #[test]
    fn nothing_changes_unless_written() {
        let c = Change::default();
        let mut m = Mind::new(&c, keys(), 0, 0.0);
        for t in 0..100 {
            let judged = m.inspect(&c, t as f64, 0.7, 1.0);
            assert_eq!((judged.detect, judged.false_alarm(0.05)), (0.7, 0.05));
        }
    }

    #[test]
    fn the_prevalence_effect_reproduces_wolfe() {
        // Trained at 50% prevalence with 7% misses, a person who has come to see 1% misses 30%.
        let c = Change {
            prevalence: Some(Prevalence {
                at: 0.5,
                slope: WOLFE_SLOPE,
                memory: 100.0,
            }),
            experience: None,
        };
        let mut m = Mind::new(&c, keys(), 0, 0.0);
        assert_eq!(m.detect(&c, 0.93), 0.93);
        m.seen = 0.01;
        assert!(
            (1.0 - m.detect(&c, 0.93) - 0.30).abs() < 0.002,
            "{}",
            m.detect(&c, 0.93)
        );
        // A criterion shift: the false alarms move by the hits' shift in z, so the
        // sensitivity d′ = Φ⁻¹(hits) − Φ⁻¹(false alarms) stays what it was.
        let judged = m.judge(&c, 0.93);
        let f = judged.false_alarm(0.05);
        let sensitivity = |h: f64, f: f64| normal_quantile(h) - normal_quantile(f);
        assert!(f < 0.05 && f > 0.0, "{f}");
        assert!((sensitivity(judged.detect, f) - sensitivity(0.93, 0.05)).abs() < 1e-9);
        assert_eq!(judged.false_alarm(0.0), 0.0);
        // The estimate is an exponentially weighted mean.
        let mut m = Mind::new(&c, keys(), 0, 0.0);
        m.inspect(&c, 0.0, 0.9, 0.0);
        assert!((m.seen - 0.5 * 0.99).abs() < 1e-15);
    }

    #[test]
    fn practice_disuse_and_turnover() {
        // Disuse: ability fades as e^{-t/forget}.
        let c = experience(Some(100.0), None);
        let mut m = Mind::new(&c, keys(), 0, 0.0);
        m.catch_up(&c, 100.0);
        assert!((m.ability - libm::exp(-1.0)).abs() < 1e-15);
        assert!((m.detect(&c, 0.8) - 0.8 * (0.5 + 0.5 * libm::exp(-1.0))).abs() < 1e-15);
        // Practice: each target closes 1/learn of the gap.
        let before = m.ability;
        m.inspect(&c, 100.0, 0.8, 1.0);
        assert!((m.ability - (before + (1.0 - before) / 10.0)).abs() < 1e-15);
        // Turnover: replaced by novices, each tenure its own keyed draw.
        let c = experience(None, Some(10.0));
        let mut m = Mind::new(&c, keys(), 3, 50.0);
        m.catch_up(&c, 1000.0);
        assert!(m.hired > 50 && m.hired < 200, "{}", m.hired);
        assert!(m.replaced < m.hired);
        let mut again = Mind::new(&c, keys(), 3, 50.0);
        again.catch_up(&c, 400.0);
        again.catch_up(&c, 1000.0);
        assert_eq!((again.hired, again.replaced), (m.hired, m.replaced));
    }
}
