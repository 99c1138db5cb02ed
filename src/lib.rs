//! oversim: a discrete-event, parallel Monte Carlo simulator of AI oversight policies.
//!
//! A scenario ([`scenario`]) describes an AI workload ([`workload`]) and oversight policies,
//! each with who does the work ([`production`]: the agent or people by hand) and its
//! stages ([`stages`], one module per kind), checked with the tools of [`input`];
//! the [`engine`] runs one replication of one policy; [`montecarlo`] runs many with common
//! random numbers on an executor; [`experiment`] plans sweeps and precision targets,
//! solving staffing rules at every point with [`staffing`];
//! [`stats`] summarises and [`report`] makes the result files' text. [`api`] is the core
//! as one call; `cli` (feature `cli`, on by default) is the command line, and `merge`
//! joins the shards of a sharded run.
//!
//! The model, file formats and metrics are described in `docs/`.

pub mod api;
#[cfg(feature = "cli")]
pub mod cli;
pub mod culture;
pub mod decision;
pub mod dist;
pub mod engine;
pub mod estimate;
pub mod experiment;
pub mod explore;
pub mod field;
pub mod floor;
pub mod input;
pub mod math;
pub mod merge;
pub mod metrics;
pub mod montecarlo;
pub mod production;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod staffing;
pub mod stages;
pub mod stats;
pub mod units;
#[cfg(target_arch = "wasm32")]
pub mod web;
pub mod workload;
