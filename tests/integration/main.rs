//! The integration tests, in one binary (as ripgrep does): one link instead of one per
//! file, which cuts the test build (see docs/performance.md). `interrupt` and `memory` stay
//! binaries of their own: they time a process and measure peak memory, and must not share
//! the machine with the other tests of their binary.

// Tests and benchmarks print with the standard macros; the CLI prints through say!/tell!.
#![allow(clippy::disallowed_macros)]
// Closed forms are checked within a tolerance, so the platform's math library serves them.
#![allow(clippy::disallowed_methods)]

mod common;

mod api;
mod bad_input;
mod calendars;
mod cli;
mod committed_results;
mod costs;
mod culture;
mod decision;
mod docs;
mod duties;
mod experiments;
mod explore;
mod floor;
mod fuzz;
mod invariants;
mod model;
mod overload;
mod pairing;
mod people;
mod pilot;
mod process;
mod production;
mod ramp;
mod report;
mod sharing;
mod staffing;
mod timeseries;
mod validation;
