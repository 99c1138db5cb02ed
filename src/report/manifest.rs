//! manifest.json: what a results folder holds and how it was made. One type is written by
//! `run`, by a shard and by `merge`, and read back by `merge` and the HTML report. Fields
//! are in alphabetical order, as JSON readers of earlier versions saw them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::experiment::{Execution, Stop};

/// The manifest of a results folder or shard folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub baseline: String,
    pub command_line: Vec<String>,
    /// Fewer replications than asked for (cut short, interrupted, or a precision cap).
    pub cut_short: bool,
    /// An exploration's design and inputs (`oversim explore`); absent for a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exploration: Option<ExplorationInfo>,
    /// The SHA-256 of every file written with this manifest (the report is not listed: it
    /// is made from the others); absent in a merge done in memory and in older folders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<BTreeMap<String, String>>,
    pub finished_at: String,
    /// A shard's format tag ([`SHARD_FORMAT`]); absent in a results folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    pub horizon_hours: f64,
    pub interrupted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replications: Option<u64>,
    /// The shard folders a merged result came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<Vec<String>>,
    pub oversim_version: String,
    /// Hash of everything that determines the results (see [`Plan::hash`]).
    pub plan_sha256: String,
    /// A shard's sweep points with their resolved scenarios, for `merge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<PointInfo>>,
    pub policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<Vec<PrecisionInfo>>,
    pub replications: u64,
    pub replications_cut_short: u64,
    pub replications_done: u64,
    /// Replications (of one policy at one point) an interrupted run of the same plan kept
    /// and `--resume` took back instead of running them again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed: Option<u64>,
    pub scenario: ScenarioInfo,
    pub seed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// How many shards a merged result came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<u64>,
    pub started_at: String,
    pub stopped: String,
    pub sweep: SweepInfo,
    pub threads: usize,
    pub wall_seconds: f64,
    pub warmup_hours: f64,
}

/// What an exploration was: its settings, inputs and the scenario before any draw, from
/// which `merge` rebuilds its plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplorationInfo {
    /// The scenario text with the command line's overrides, before any draw.
    pub base_resolved: String,
    pub inputs: Vec<InputInfo>,
    /// Sentences on the decision metric (what the terminal and the report say).
    #[serde(default)]
    pub sentences: Vec<String>,
    pub sets: usize,
    /// Time spent parsing and checking every set before the runs.
    pub setup_seconds: f64,
    pub spec: crate::explore::Spec,
    /// The pilot that chose the replications per set, when no count was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pilot: Option<PilotInfo>,
}

/// What the pilot that chose an exploration's replications per set found
/// (`explore::pilot`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PilotInfo {
    pub sets: usize,
    pub replications: u64,
    /// The most replication noise allowed, as a share of the output's variance.
    pub noise_share_target: f64,
    /// The output that needed the most replications: `policy − baseline` on the metric, or
    /// the one policy's metric.
    pub output: String,
    pub noise_share_at_pilot: f64,
    pub chosen: u64,
    pub noise_share_at_chosen: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputInfo {
    pub distribution: String,
    pub path: String,
}

impl ExplorationInfo {
    pub fn of(ex: &crate::explore::Exploration, setup_seconds: f64) -> ExplorationInfo {
        ExplorationInfo {
            base_resolved: ex.base_text.clone(),
            inputs: (ex.inputs.iter())
                .map(|u| InputInfo {
                    distribution: u.describe(),
                    path: u.path.clone(),
                })
                .collect(),
            sentences: Vec::new(),
            sets: ex.plan.points.len(),
            setup_seconds,
            spec: ex.spec.clone(),
            pilot: None,
        }
    }
}

/// The format tag of a shard's manifest (shard.json).
pub const SHARD_FORMAT: &str = "oversim-shard-2";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    pub description: String,
    pub name: String,
    /// The scenario file as given on the command line; none for the embedded default.
    pub path: Option<String>,
    /// The scenario text with every override applied.
    pub resolved: String,
    /// SHA-256 of the scenario file as read.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepInfo {
    pub dims: Vec<String>,
    pub points: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrecisionInfo {
    /// `None` while not yet defined (fewer than two replications).
    pub achieved_relative_half_width: Option<f64>,
    pub metric: String,
    pub target_relative_half_width: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub count: u64,
    pub index: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointInfo {
    pub resolved: String,
    pub values: Vec<String>,
}

/// What the caller knows that the simulation does not: where the scenario came from, the
/// command line, the threads, and the clock (passed in, so the core never reads it).
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    /// The scenario file's path; `None` for the embedded default or a text given directly.
    pub path: Option<String>,
    /// The scenario file's text as read (hashed into the manifest).
    pub text: String,
    pub command_line: Vec<String>,
    pub threads: usize,
    pub started_at: String,
    pub finished_at: String,
    pub wall_seconds: f64,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Manifest {
    /// The manifest of a run of `ex` that ended with `stop`, having completed
    /// `replications_done` replications (the fewest of any point), `cut` of them cut short,
    /// with the relative half-widths `achieved` of the precision targets.
    pub fn of_run(
        ex: &Execution,
        ctx: &RunContext,
        stop: &Stop,
        replications_done: u64,
        cut: u64,
        achieved: &[f64],
    ) -> Manifest {
        let plan = ex.plan;
        let sc = plan.base();
        let precision = (!ex.targets.is_empty()).then(|| {
            (ex.targets.iter().zip(achieved))
                .map(|(t, a)| PrecisionInfo {
                    achieved_relative_half_width: a.is_finite().then_some(*a),
                    metric: t.name(),
                    target_relative_half_width: t.rel,
                })
                .collect()
        });
        Manifest {
            baseline: sc.policies[ex.baseline].name.clone(),
            command_line: ctx.command_line.clone(),
            cut_short: cut > 0 || matches!(stop, Stop::MaxReplications | Stop::Interrupted),
            exploration: None,
            files: None,
            finished_at: ctx.finished_at.clone(),
            format: None,
            horizon_hours: sc.run.horizon,
            interrupted: *stop == Stop::Interrupted,
            max_replications: precision.as_ref().map(|_| ex.max_replications),
            merged_from: None,
            oversim_version: env!("CARGO_PKG_VERSION").to_string(),
            plan_sha256: plan.hash(),
            points: None,
            policies: sc.policies.iter().map(|p| p.name.clone()).collect(),
            precision,
            replications: sc.run.replications,
            replications_cut_short: cut,
            replications_done,
            resumed: None,
            scenario: ScenarioInfo {
                description: sc.description.clone(),
                name: sc.name.clone(),
                path: ctx.path.clone(),
                resolved: plan.points[0].loaded.resolved_text.clone(),
                sha256: sha256_hex(ctx.text.as_bytes()),
            },
            seed: sc.run.seed,
            shard: None,
            shards: None,
            started_at: ctx.started_at.clone(),
            stopped: stop.label().to_string(),
            sweep: SweepInfo {
                dims: plan.dims.clone(),
                points: plan.points.len(),
            },
            threads: ctx.threads,
            wall_seconds: ctx.wall_seconds,
            warmup_hours: sc.run.warmup,
        }
    }

    /// The JSON text, as written to manifest.json and shard.json.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the manifest serialises") + "\n"
    }

    pub fn from_json(text: &str) -> Result<Manifest, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}
