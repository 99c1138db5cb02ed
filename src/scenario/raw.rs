//! Phase one of parsing: the scenario file exactly as written, with the position of every
//! value. Unknown keys are rejected here (`deny_unknown_fields`); meaning and ranges are
//! checked in [`super::validate`].

use serde::Deserialize;
use toml::Spanned;

pub type S<T> = Spanned<T>;

/// A number that may be written as an integer or a float.
#[derive(Debug, Clone, Copy)]
pub struct Num(pub f64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
                Ok(Num(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Num {
    pub fn get(self) -> f64 {
        self.0
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: S<String>,
    pub description: Option<S<String>>,
    pub run: Option<S<RawRun>>,
    pub workload: S<RawWorkload>,
    pub costs: Option<S<RawCosts>>,
    #[serde(default)]
    pub policy: Vec<S<RawPolicy>>,
    pub sweep: Option<S<toml::Table>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub replications: Option<S<i64>>,
    pub horizon: Option<S<String>>,
    pub warmup: Option<S<String>>,
    pub seed: Option<S<i64>>,
    pub max_backlog: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub rate: S<String>,
    pub profile: Option<S<Vec<S<Num>>>>,
    pub detection_correlation: Option<S<Num>>,
    pub learning_floor: Option<S<Num>>,
    #[serde(default)]
    pub class: Vec<S<RawClass>>,
    pub rework: Option<S<RawRework>>,
    pub drift: Option<S<RawDrift>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDrift {
    pub every: S<String>,
    pub multiplier: S<Num>,
    pub self_heal: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    pub name: S<String>,
    pub share: S<Num>,
    pub defect_prob: S<Num>,
    pub harm: Option<S<Num>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRework {
    pub delay: S<RawDist>,
    pub max_attempts: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCosts {
    pub reviewer_hour: Option<S<Num>>,
    pub halt_hour: Option<S<Num>>,
    pub harm_unit: Option<S<Num>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub name: S<String>,
    pub description: Option<S<String>>,
    #[serde(default)]
    pub stage: Vec<S<RawStage>>,
}

/// Every key any stage kind may have; which ones a kind accepts is checked in validation,
/// so that the message can say "`reviewers` is not a key of an automated_check stage".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub kind: S<String>,
    pub name: Option<S<String>>,
    pub classes: Option<S<Vec<S<String>>>>,
    pub sample: Option<S<Num>>,
    // shared by checks and reviews
    pub service: Option<S<RawDist>>,
    pub detect: Option<S<Num>>,
    // automated_check
    pub false_positive: Option<S<Num>>,
    pub on_flag: Option<S<String>>,
    pub escalate_to: Option<S<String>>,
    // human_review
    pub reviewers: Option<S<i64>>,
    pub false_reject: Option<S<Num>>,
    pub discipline: Option<S<String>>,
    pub fatigue: Option<S<RawFatigue>>,
    pub complacency: Option<S<Num>>,
    pub pressure: Option<S<RawPressure>>,
    pub max_wait: Option<S<String>>,
    pub on_timeout: Option<S<String>>,
    pub shifts: Option<S<RawShifts>>,
    // checks, reviews and audits
    pub learn: Option<S<Num>>,
    // audit
    pub late_harm_factor: Option<S<Num>>,
    // monitor
    pub watch: Option<S<Vec<S<String>>>>,
    pub method: Option<S<String>>,
    pub k: Option<S<Num>>,
    pub p0: Option<S<Num>>,
    pub p1: Option<S<Num>>,
    pub h: Option<S<Num>>,
    pub lambda: Option<S<Num>>,
    #[serde(rename = "L")]
    pub big_l: Option<S<Num>>,
    pub n: Option<S<i64>>,
    pub halt: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFatigue {
    pub tau: S<String>,
    pub floor: S<Num>,
    pub break_after: Option<S<String>>,
    pub break_length: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPressure {
    pub queue: S<i64>,
    pub speedup: Option<S<Num>>,
    pub detect_factor: Option<S<Num>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShifts {
    pub on: S<String>,
    pub period: S<String>,
    pub start: Option<S<String>>,
}

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
