//! Explorations: many parameter sets drawn from the scenario's `[uncertain]` inputs, every
//! policy run at each under common random numbers, and what the results say about the
//! choice across the uncertainty.

pub mod design;
pub mod sensitivity;
