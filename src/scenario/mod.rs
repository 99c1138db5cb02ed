//! The scenario: what a scenario file says, parsed in two phases.
//!
//! 1. `raw`: serde types mirroring the TOML, `deny_unknown_fields`, every value `Spanned`.
//! 2. `validate`: a checked model ([`Scenario`]) with units resolved, names resolved to
//!    indices and every error collected with its line and key path.
//!
//! Command-line overrides (`--set PATH=VALUE`) are applied to the TOML document before phase
//! one ([`overrides`]), so overridden values are validated exactly like written ones.

mod error;
pub mod overrides;
mod raw;
mod validate;

pub use error::{did_you_mean, Diagnostic, ScenarioError};
pub use overrides::Override;

use crate::dist::Dist;

/// The embedded default scenario (`scenarios/default.toml`), run by `oversim run` with no file.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.toml");
/// How the embedded default scenario is named in messages and the manifest.
pub const DEFAULT_LABEL: &str = "<default scenario>";

/// Upper bounds that keep a typo from asking for years of computing or all the memory.
pub mod limits {
    /// Results are one row (about 0.5 KB) per replication and policy, held until written.
    pub const MAX_REPLICATIONS: i64 = 1_000_000;
    pub const MAX_REVIEWERS: i64 = 100_000;
    pub const MAX_CLASSES: usize = 64;
    pub const MAX_STAGES: usize = 64;
    pub const MAX_ATTEMPTS: i64 = 1000;
    /// 1000 years of simulated time, in hours.
    pub const MAX_HOURS: f64 = 1000.0 * 8766.0;
    /// Actions in the system at which a replication stops: about 100 MB of state.
    pub const DEFAULT_MAX_BACKLOG: u64 = 1_000_000;
    pub const MAX_BACKLOG: i64 = 1_000_000_000;
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
}

/// One swept key path and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepDim {
    pub path: String,
    pub values: Vec<SweepValue>,
    /// `[sweep]` or `--sweep`, for messages.
    pub origin: &'static str,
}

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

#[derive(Debug, Clone)]
pub struct Workload {
    /// Base arrival rate, actions per hour.
    pub rate: f64,
    /// Hourly multipliers of the rate, repeating daily.
    pub profile: Option<[f64; 24]>,
    pub classes: Vec<Class>,
    pub rework: Option<Rework>,
    pub drift: Option<Drift>,
    /// Correlation r of detection across layers (latent difficulty), in [0, 1).
    pub detection_correlation: f64,
    /// Lowest value of the learning factor.
    pub learning_floor: f64,
}

/// Regime shifts of the agent's defect rate.
#[derive(Debug, Clone, Copy)]
pub struct Drift {
    /// Mean gap between onsets, hours (Poisson onsets).
    pub every: f64,
    /// Defect probabilities are multiplied by this while a drift is active.
    pub multiplier: f64,
    /// A drift ends by itself after this long, if set.
    pub self_heal: Option<f64>,
}

impl Workload {
    /// Long-run mean arrival rate, actions per hour.
    pub fn mean_rate(&self) -> f64 {
        match &self.profile {
            Some(p) => self.rate * p.iter().sum::<f64>() / 24.0,
            None => self.rate,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Class {
    pub name: String,
    pub share: f64,
    pub defect_prob: f64,
    pub harm: f64,
}

#[derive(Debug, Clone)]
pub struct Rework {
    pub delay: Dist,
    /// Attempts in all, including the first.
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Costs {
    pub reviewer_hour: f64,
    pub halt_hour: f64,
    pub harm_unit: f64,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub description: String,
    pub stages: Vec<Stage>,
}

/// A set of workload classes, by index (at most [`limits::MAX_CLASSES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassSet(pub u64);

impl ClassSet {
    pub fn all(n: usize) -> ClassSet {
        ClassSet(if n >= 64 { u64::MAX } else { (1u64 << n) - 1 })
    }
    #[inline]
    pub fn contains(self, class: usize) -> bool {
        self.0 >> class & 1 == 1
    }
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub name: String,
    /// Classes that enter this stage (others skip it unless escalated to it).
    pub classes: ClassSet,
    /// Fraction of eligible attempts that enter.
    pub sample: f64,
    /// Each defect this stage finds multiplies the agent's learning factor by `1 − learn`.
    pub learn: f64,
    pub kind: StageKind,
}

#[derive(Debug, Clone)]
pub enum StageKind {
    AutomatedCheck(AutomatedCheck),
    HumanReview(HumanReview),
    Audit(Audit),
    Monitor(Monitor),
}

impl StageKind {
    pub fn label(&self) -> &'static str {
        match self {
            StageKind::AutomatedCheck(_) => "automated_check",
            StageKind::HumanReview(_) => "human_review",
            StageKind::Audit(_) => "audit",
            StageKind::Monitor(_) => "monitor",
        }
    }

    /// Stages that attempts pass through before release (audits and monitors act after).
    pub fn is_pre_release(&self) -> bool {
        matches!(self, StageKind::AutomatedCheck(_) | StageKind::HumanReview(_))
    }
}

/// Post-release sampling audit: a queue of released attempts served by `reviewers`.
#[derive(Debug, Clone)]
pub struct Audit {
    pub reviewers: u32,
    pub service: Dist,
    pub detect: f64,
    /// Harm of a defect the audit finds is multiplied by this.
    pub late_harm_factor: f64,
}

/// Statistical process control over the findings of the watched stages.
#[derive(Debug, Clone)]
pub struct Monitor {
    /// Watched stages (bit per stage index).
    pub watch: u64,
    pub chart: Chart,
    /// Hours the agent halts on an alarm.
    pub halt: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Chart {
    /// Bernoulli CUSUM: `S = max(0, S + x − k)`, alarm when `S ≥ h`.
    Cusum { k: f64, h: f64 },
    /// EWMA `z = λx + (1 − λ)z` from `z = p0`, alarm when
    /// `z > p0 + L·sqrt(p0(1 − p0)·λ/(2 − λ))` (asymptotic limit).
    Ewma { lambda: f64, l: f64, p0: f64 },
    /// p-chart over consecutive windows of `n` observations, alarm when the window's
    /// fraction exceeds `p0 + 3·sqrt(p0(1 − p0)/n)`.
    Shewhart { n: u32, p0: f64 },
}

impl Chart {
    /// The reference value of a Bernoulli CUSUM designed to detect a shift from p0 to p1
    /// (Reynolds & Stoumbos 1999).
    pub fn cusum_k(p0: f64, p1: f64) -> f64 {
        ((1.0 - p0) / (1.0 - p1)).ln() / (p1 * (1.0 - p0) / (p0 * (1.0 - p1))).ln()
    }

    /// Upper control limit: `h` for a CUSUM, the limit on `z` or on the window fraction.
    pub fn limit(&self) -> f64 {
        match *self {
            Chart::Cusum { h, .. } => h,
            Chart::Ewma { lambda, l, p0 } => p0 + l * (p0 * (1.0 - p0) * lambda / (2.0 - lambda)).sqrt(),
            Chart::Shewhart { n, p0 } => p0 + 3.0 * (p0 * (1.0 - p0) / n as f64).sqrt(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AutomatedCheck {
    /// Delay of an infinite-server check; `None` is instantaneous.
    pub service: Option<Dist>,
    pub detect: f64,
    pub false_positive: f64,
    pub on_flag: OnFlag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFlag {
    Reject,
    /// Send to the human stage with this index (always later in the policy).
    Escalate(usize),
}

#[derive(Debug, Clone)]
pub struct HumanReview {
    pub reviewers: u32,
    pub service: Dist,
    pub detect: f64,
    pub false_reject: f64,
    pub discipline: Discipline,
    pub fatigue: Option<Fatigue>,
    /// Multiplier (≥ 1) of the miss probability for auto-passed attempts.
    pub complacency: f64,
    pub pressure: Option<Pressure>,
    /// Hours an attempt may wait before it leaves unreviewed.
    pub max_wait: Option<f64>,
    pub on_timeout: OnTimeout,
    pub shifts: Option<Shifts>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discipline {
    Fifo,
    /// Higher-harm classes first, FIFO within a class.
    Priority,
}

#[derive(Debug, Clone, Copy)]
pub struct Fatigue {
    pub tau: f64,
    pub floor: f64,
    pub break_after: Option<f64>,
    pub break_length: Option<f64>,
}

impl Fatigue {
    /// Detection after `t` hours on task, for a fresh detection `d`.
    #[inline]
    pub fn detect(&self, d: f64, t: f64) -> f64 {
        let low = self.floor * d;
        low + (d - low) * (-t / self.tau).exp()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Pressure {
    pub queue: u32,
    pub speedup: f64,
    pub detect_factor: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    /// Passes the stage unreviewed (a rubber stamp).
    Approve,
    Drop,
}

/// Reviewers are on duty during `[start + k·period, start + k·period + on)`.
#[derive(Debug, Clone, Copy)]
pub struct Shifts {
    pub on: f64,
    pub period: f64,
    /// Offset of the first shift from time 0 (midnight of day 0), less than `period`.
    pub start: f64,
}

/// A scenario after overrides, with the TOML text it was built from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub scenario: Scenario,
    /// The scenario text with all overrides applied (what the manifest records).
    pub resolved_text: String,
}

/// Parses and validates scenario `text` (named `label` in messages), after applying
/// `overrides` in order.
pub fn load(label: &str, text: &str, overrides: &[Override]) -> Result<Loaded, ScenarioError> {
    let fail = |diagnostics: Vec<Diagnostic>| ScenarioError {
        file: label.to_string(),
        diagnostics,
    };
    let (resolved_text, from_cli) = overrides::apply(text, overrides).map_err(fail)?;
    let scenario = validate::parse(&resolved_text, &from_cli).map_err(fail)?;
    Ok(Loaded {
        scenario,
        resolved_text,
    })
}

impl Scenario {
    /// Offered load (λ·E\[S\]/c) of each human review and audit stage, with its policy and
    /// stage name. For audits λ is the arrival rate of the sampled classes (an upper bound
    /// on their releases).
    ///
    /// λ counts the attempts routed to the stage by class and sample plus, as an upper
    /// bound, every attempt an earlier check may escalate to it; rework and upstream
    /// rejections are ignored. Capacity counts on-duty time (shifts) less planned breaks
    /// (fatigue), but not the speed-up of reviewers under pressure.
    pub fn offered_loads(&self) -> Vec<(String, String, f64)> {
        let lambda = self.workload.mean_rate();
        let classes = &self.workload.classes;
        let mut out = Vec::new();
        for p in &self.policies {
            for (i, s) in p.stages.iter().enumerate() {
                if let StageKind::Audit(a) = &s.kind {
                    let frac: f64 = classes
                        .iter()
                        .enumerate()
                        .filter(|(ci, _)| s.classes.contains(*ci))
                        .map(|(_, c)| c.share * s.sample)
                        .sum();
                    let rho = lambda * frac * a.service.mean() / a.reviewers as f64;
                    out.push((p.name.clone(), s.name.clone(), rho));
                    continue;
                }
                let StageKind::HumanReview(h) = &s.kind else {
                    continue;
                };
                let mut frac = 0.0;
                for (ci, c) in classes.iter().enumerate() {
                    let direct = if s.classes.contains(ci) { s.sample } else { 0.0 };
                    let mut escalated = 0.0;
                    for e in &p.stages[..i] {
                        if let StageKind::AutomatedCheck(a) = &e.kind {
                            if a.on_flag == OnFlag::Escalate(i) && e.classes.contains(ci) {
                                let flag =
                                    c.defect_prob * a.detect + (1.0 - c.defect_prob) * a.false_positive;
                                escalated += e.sample * flag;
                            }
                        }
                    }
                    frac += c.share * (direct + (1.0 - direct) * escalated.min(1.0));
                }
                let duty = h.shifts.map_or(1.0, |s| s.on / s.period);
                // A saturated reviewer spends break_length of every break_after + break_length
                // on a break.
                let working = h
                    .fatigue
                    .and_then(|f| f.break_after.zip(f.break_length))
                    .map_or(1.0, |(after, length)| after / (after + length));
                let rho = lambda * frac * h.service.mean() / (h.reviewers as f64 * duty * working);
                out.push((p.name.clone(), s.name.clone(), rho));
            }
        }
        out
    }
}
