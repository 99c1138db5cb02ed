//! A people stage's detection: the same for every person, or each person's own, drawn once
//! per replication from a beta distribution (`detect = { dist = "beta", mean = 0.7,
//! sd = 0.1 }`), for reviewers and auditors who differ.

use rand_distr::{Beta, Distribution};
use serde::de::{self, MapAccess, Visitor};
use serde::Deserialize;

use super::At;
use crate::input::{Ctx, Num, S};
use crate::rng::StreamRng;

/// Detection of a review's or an audit's people.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Skill {
    /// Everyone detects with this probability.
    Same(f64),
    /// Each person's detection is drawn from Beta(a, b) with this mean and sd.
    Beta { mean: f64, sd: f64 },
}

impl Skill {
    /// The mean detection over people.
    pub fn mean(self) -> f64 {
        match self {
            Skill::Same(d) | Skill::Beta { mean: d, .. } => d,
        }
    }

    /// The detection of each of `n` people; draws from `rng` only for a beta (its own
    /// stream, so the stage's other draws are unchanged).
    pub fn draw(self, n: usize, rng: &mut StreamRng) -> Vec<f64> {
        match self {
            Skill::Same(d) => vec![d; n],
            Skill::Beta { mean, sd } => {
                let k = mean * (1.0 - mean) / (sd * sd) - 1.0;
                let beta = Beta::new(mean * k, (1.0 - mean) * k).expect("checked when read");
                (0..n).map(|_| beta.sample(rng)).collect()
            }
        }
    }
}

/// `detect` as written: a probability, or a table `{ dist = "beta", mean, sd }`.
#[derive(Debug)]
pub enum RawSkill {
    Same(Num),
    Dist(RawSkillDist),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSkillDist {
    pub dist: S<String>,
    pub mean: Option<S<Num>>,
    pub sd: Option<S<Num>>,
}

impl<'de> Deserialize<'de> for RawSkill {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawSkill;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a probability, or a table { dist = \"beta\", mean = ..., sd = ... }")
            }
            fn visit_i64<E>(self, v: i64) -> Result<RawSkill, E> {
                Ok(RawSkill::Same(Num(v as f64)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<RawSkill, E> {
                Ok(RawSkill::Same(Num(v as f64)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<RawSkill, E> {
                Ok(RawSkill::Same(Num(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawSkill, A::Error> {
                RawSkillDist::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawSkill::Dist)
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads a people stage's `detect` (required).
pub fn skill(ctx: &mut Ctx, at: &At, v: &Option<S<RawSkill>>) -> Skill {
    let Some(v) = v else {
        ctx.missing(
            at.span.clone(),
            at.path,
            "detect",
            "a probability in [0, 1], or { dist = \"beta\", mean = ..., sd = ... }",
        );
        return Skill::Same(0.0);
    };
    let path = at.key("detect");
    match v.get_ref() {
        RawSkill::Same(d) => Skill::Same(ctx.prob(&S::new(v.span(), *d), &path)),
        RawSkill::Dist(t) => {
            ctx.choice(&t.dist, &format!("{path}.dist"), &[("beta", ())]);
            let mean = match &t.mean {
                Some(m) => ctx.range(
                    m,
                    &format!("{path}.mean"),
                    1e-6,
                    1.0 - 1e-6,
                    "a mean detection strictly between 0 and 1",
                ),
                None => {
                    ctx.missing(v.span(), &path, "mean", "the mean detection, in (0, 1)");
                    0.5
                }
            };
            let limit = (mean * (1.0 - mean)).sqrt();
            let sd = match &t.sd {
                Some(s) => {
                    let allowed = format!("a spread above 0 and below sqrt(mean·(1 − mean)) = {limit:.4}");
                    let sd = s.get_ref().get();
                    if !(sd > 0.0 && sd < limit) {
                        ctx.err(
                            s.span(),
                            &format!("{path}.sd"),
                            format!("{sd} is out of range; allowed: {allowed}"),
                        );
                        limit / 2.0
                    } else {
                        sd
                    }
                }
                None => {
                    ctx.missing(
                        v.span(),
                        &path,
                        "sd",
                        "the spread of detection between people, above 0",
                    );
                    limit / 2.0
                }
            };
            Skill::Beta { mean, sd }
        }
    }
}
