//! The scenario: what a scenario file says, parsed in two phases.
//!
//! 1. `raw`: serde types mirroring the TOML, `deny_unknown_fields`, every value `Spanned`.
//! 2. `validate`: a checked model ([`Scenario`]) with units resolved, names resolved to
//!    indices and every error collected with its line and key path.
//!
//! Command-line overrides (`--set PATH=VALUE`) are applied to the TOML document before phase
//! one ([`overrides`]), so overridden values are validated exactly like written ones.

pub mod overrides;
mod raw;
pub mod staffing;
pub mod uncertain;
mod validate;

pub use crate::input::{did_you_mean, limits, Diagnostic, ScenarioError};
pub use overrides::Override;
pub use uncertain::Uncertain;

use crate::stages::{LoadAt, Stage};
use crate::workload::Workload;

/// The embedded default scenario (`scenarios/default.toml`), run by `oversim run` with no file.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.toml");
/// How the embedded default scenario is named in messages and the manifest.
/// The largest master seed: `run.seed` is a TOML integer (a signed 64-bit one).
pub const MAX_SEED: u64 = i64::MAX as u64;
pub const DEFAULT_LABEL: &str = "<default scenario>";

/// What the default scenario's staffing rules choose at its written values and seed
/// (results/examples/default/staffing.csv; a test checks it), as `--set` paths and values:
/// for benchmarks and tests that run the engine on the loaded scenario directly, where a
/// rule's placeholder (1) would stand in.
pub const DEFAULT_STAFFING: &[(&str, &str)] = &[
    ("policy.by-hand.work.people", "17"),
    ("policy.by-hand.review.reviewers", "2"),
    ("policy.per-action.review.reviewers", "7"),
    ("policy.per-action.spc.h", "8"),
    ("policy.tiered.review.reviewers", "2"),
    ("policy.tiered.spc.h", "8"),
    ("policy.split.work.people", "2"),
    ("policy.split.review.reviewers", "2"),
    ("policy.split.spc.h", "8"),
];

/// [`DEFAULT_STAFFING`] as overrides.
pub fn default_staffing() -> Vec<Override> {
    DEFAULT_STAFFING
        .iter()
        .map(|(p, v)| Override::set(p, v))
        .collect()
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub run: RunConfig,
    pub workload: Workload,
    pub costs: Costs,
    pub policies: Vec<Policy>,
    /// The file's `[sweep]` table, in file order.
    pub sweep: Vec<SweepDim>,
    /// The file's `[uncertain]` inputs, in file order (what `oversim explore` varies).
    pub uncertain: Vec<Uncertain>,
    /// `[decision]`: what to choose by, under which constraints.
    pub decision: crate::decision::Decision,
}

/// One swept key path and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepDim {
    pub path: String,
    pub values: Vec<SweepValue>,
    /// `[sweep]` or `--sweep`, for messages.
    pub origin: &'static str,
}

/// Whether `path` names free text (a `name` or `description`): it changes no number, so
/// it cannot be swept, and a sweep's values are never text a user typed freely.
pub fn is_free_text(path: &str) -> bool {
    matches!(path.rsplit('.').next(), Some("name" | "description"))
}

/// What a sweep of free text is told.
pub const FREE_TEXT_SWEEP: &str = "is free text (a name or description) and changes no number, so it cannot be swept; sweep a key the simulation uses, e.g. \"workload.rate\" = [\"20/h\", \"40/h\"]";

/// One value of a sweep: `label` as shown in output columns (`20/h`), `toml` as applied
/// to the scenario (`"20/h"`).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepValue {
    pub label: String,
    pub toml: String,
}

impl SweepValue {
    pub fn from_toml(v: &toml::Value) -> SweepValue {
        match v {
            toml::Value::String(s) => SweepValue {
                label: s.clone(),
                toml: v.to_string(),
            },
            other => SweepValue {
                label: other.to_string(),
                toml: other.to_string(),
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub replications: u64,
    /// Measured simulated time per replication, hours.
    pub horizon: f64,
    /// Simulated before measuring, hours.
    pub warmup: f64,
    pub seed: u64,
    /// A replication with more actions than this in the system stops early (bounded memory).
    pub max_backlog: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Costs {
    pub reviewer_hour: f64,
    pub halt_hour: f64,
    pub harm_unit: f64,
    /// Money per action-hour from arrival to release.
    pub delay_hour: f64,
    /// The name of money (`USD`); empty: "money units".
    pub currency: String,
    /// The name of a unit of harm; empty: "harm units".
    pub harm_name: String,
}

impl Costs {
    /// The unit of metric `m` over a replication's measured time `period` (`30d`): money
    /// totals in the currency per period, cost per release per release, harm in its unit per
    /// period; empty for counts, rates and probabilities.
    pub fn unit(&self, m: crate::metrics::M, period: &str) -> String {
        use crate::metrics::M;
        let or = |s: &str, d: &str| {
            if s.is_empty() {
                d.to_string()
            } else {
                s.to_string()
            }
        };
        let money = or(&self.currency, "money units");
        match m {
            M::cost_per_release => format!("{money} per release"),
            M::cost_total
            | M::cost_review
            | M::cost_work
            | M::cost_halt
            | M::cost_harm
            | M::cost_delay
            | M::cost_stages
            | M::cost_fixed
            | M::value_released
            | M::net_value => format!("{money} per {period}"),
            M::harm => format!("{} per {period}", or(&self.harm_name, "harm units")),
            _ => String::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub description: String,
    /// Fixed cost of the policy's tooling and monitoring, money per day.
    pub cost_per_day: f64,
    /// Who does the work: the agent, or people by hand.
    pub work: crate::production::Production,
    /// How the policy treats findings and escapes (`culture`).
    pub culture: crate::culture::Culture,
    pub stages: Vec<Stage>,
}

/// A scenario after overrides, with the TOML text it was built from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The scenario, with a placeholder number where a staffing rule stands.
    pub scenario: Scenario,
    /// The scenario text with all overrides applied (what the manifest records).
    pub resolved_text: String,
    /// The staffing rules still to solve, in file order ([`crate::staffing`] solves them).
    pub staffing: Vec<staffing::Site>,
    /// How the file is named in messages.
    pub label: String,
}

/// Parses and validates scenario `text` (named `label` in messages), after applying
/// `overrides` in order.
pub fn load(label: &str, text: &str, overrides: &[Override]) -> Result<Loaded, ScenarioError> {
    let fail = |diagnostics: Vec<Diagnostic>| ScenarioError {
        file: label.to_string(),
        diagnostics,
    };
    let (mut resolved_text, from_cli) = overrides::apply(text, overrides).map_err(fail)?;
    // Kept per point of a sweep or set of an exploration: without the encoder's spare capacity.
    resolved_text.shrink_to_fit();
    let (numbers, sites, mut problems) = staffing::extract(&resolved_text, &from_cli);
    let scenario = match validate::parse(&numbers, &from_cli) {
        Ok(sc) if problems.is_empty() => sc,
        Ok(_) => return Err(fail(problems)),
        Err(mut more) => {
            problems.append(&mut more);
            problems.sort_by_key(|d| d.line.unwrap_or(0));
            return Err(fail(problems));
        }
    };
    Ok(Loaded {
        staffing: staffing::resolve(sites, &scenario),
        scenario,
        resolved_text,
        label: label.to_string(),
    })
}

impl Loaded {
    /// The scenario with `values` written in place of its rules: `values[i]` is the step
    /// index of `self.staffing[i]`. Its text is what a run with those numbers written in
    /// would read.
    pub fn with_staffing(&self, values: &[i64]) -> Result<Loaded, ScenarioError> {
        let set: Vec<Override> = (self.staffing.iter().zip(values))
            .map(|(s, &k)| s.set(k))
            .collect();
        load(&self.label, &self.resolved_text, &set)
    }
}

impl Scenario {
    /// Offered load (λ·E\[S\]/c) of each stage with people (human reviews and audits),
    /// with its policy and stage name; each kind states its rule
    /// ([`crate::stages::Kind::offered_load`]).
    pub fn offered_loads(&self) -> Vec<(String, String, f64)> {
        let mut out = Vec::new();
        for p in &self.policies {
            if let Some(rho) = p
                .work
                .offered_load(self.workload.mean_rate(), &self.workload.classes)
            {
                out.push((p.name.clone(), "work".to_string(), rho));
            }
            for (i, s) in p.stages.iter().enumerate() {
                let load = LoadAt {
                    lambda: self.workload.mean_rate(),
                    classes: &self.workload.classes,
                    stages: &p.stages,
                    index: i,
                };
                if let Some(rho) = s.kind.offered_load(s, &load) {
                    out.push((p.name.clone(), s.name.clone(), rho));
                }
            }
        }
        out
    }
}
