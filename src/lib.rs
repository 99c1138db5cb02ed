//! oversim: a discrete-event, parallel Monte Carlo simulator of AI oversight policies.
//!
//! A scenario ([`scenario`]) describes an AI workload ([`workload`]) and oversight policies
//! made of stages ([`stages`]); the [`engine`] runs one replication of one policy; the
//! [`montecarlo`] module runs many in parallel with common random numbers; [`stats`]
//! summarises them and [`report`] writes the result files. [`cli`] is the command line.
//!
//! The model, file formats and metrics are described in `docs/`.

#[cfg(feature = "cli")]
pub mod cli;
pub mod dist;
pub mod engine;
pub mod experiment;
pub mod field;
pub mod floor;
pub mod input;
#[cfg(feature = "cli")]
pub mod merge;
pub mod metrics;
pub mod montecarlo;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod stages;
pub mod stats;
pub mod units;
pub mod workload;
