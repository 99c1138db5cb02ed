//! Phase one of parsing: the scenario file exactly as written, with the position of every
//! value. Unknown keys are rejected here (`deny_unknown_fields`); meaning and ranges are
//! checked in [`super::validate`]. A stage's own keys depend on its kind, so only its
//! `kind` and `name` are read here; [`crate::stages`] reads the rest.

use serde::Deserialize;

use crate::input::{Num, S};
use crate::workload::RawWorkload;

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
    pub decision: Option<S<RawDecision>>,
    /// `[culture.NAME]`: the cultures policies may choose.
    pub culture: Option<S<crate::culture::RawCultures>>,
    /// Read from the document with positions by [`super::uncertain`]; only admitted here.
    #[serde(rename = "uncertain")]
    pub _uncertain: Option<serde::de::IgnoredAny>,
}

/// `[decision]`: the metric to choose by and the constraints a choice must meet.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDecision {
    pub metric: Option<S<String>>,
    pub constraints: Option<Vec<S<String>>>,
    pub status_quo: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub replications: Option<S<i64>>,
    pub horizon: Option<S<String>>,
    pub warmup: Option<S<String>>,
    pub seed: Option<S<i64>>,
    pub max_backlog: Option<S<i64>>,
    /// Only these of the file's policies run, in this order (the first is the baseline).
    pub policies: Option<S<Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCosts {
    pub reviewer_hour: Option<S<Num>>,
    pub halt_hour: Option<S<Num>>,
    pub harm_unit: Option<S<Num>>,
    pub delay_hour: Option<S<Num>>,
    /// How money is named in the verdict (`USD`, `EUR`).
    pub currency: Option<S<String>>,
    /// How a unit of harm is named in the verdict (`customer complaints`).
    pub harm_name: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub name: S<String>,
    pub description: Option<S<String>>,
    pub cost_per_day: Option<S<Num>>,
    /// Who does the work (`[policy.work]`); the agent when absent.
    pub work: Option<S<crate::production::RawWork>>,
    /// The name of the policy's culture (`[culture.NAME]`).
    pub culture: Option<S<String>>,
    #[serde(default)]
    pub stage: Vec<S<RawStageHead>>,
}

/// What every stage has: its kind and, optionally, its name. The other keys are left for
/// the kind to read (so this struct does not deny them).
#[derive(Debug, Deserialize)]
pub struct RawStageHead {
    pub kind: S<String>,
    pub name: Option<S<String>>,
}
