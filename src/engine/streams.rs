//! The replication's random draws, keyed by what they are about (`crate::rng`): the
//! workload's, rework's, each stage's and the work's, and the helpers the stages decide with.

use super::detection::{detects, false_flag};
use super::Sim;
use crate::rng::{purpose, Ahead, Draws, Keyed, ATTEMPT_BITS};
use crate::workload::{Actions, Arrivals};

/// The replication's keys: the workload's, rework's, each stage's and the work's.
pub(super) struct Streams {
    pub(super) arrivals: Arrivals,
    /// Each action's class, and each attempt's defect, latent difficulty and defect kind.
    pub(super) actions: Actions,
    /// Rework delays.
    pub(super) rework: Keyed,
    /// One per stage, keyed by its name: who enters (sampling), outcomes, service times,
    /// the people's own detection.
    pub(super) stages: Vec<StageStreams>,
    /// People doing the work by hand: service times (first attempts' taken ahead).
    pub(super) work: Ahead,
}

/// A stage's draws. Nearly every action asks each stage whether it enters, what the layer
/// decides about its first attempt and how long a person takes on it, so those are taken
/// ahead ([`Ahead`]: the same numbers, computed several at a time).
pub(super) struct StageStreams {
    pub(super) keys: Keyed,
    pub(super) enter: Ahead,
    pub(super) detect: Ahead,
    pub(super) service: Ahead,
}

impl StageStreams {
    pub(super) fn new(keys: Keyed) -> StageStreams {
        let first = |purpose| Ahead::new(keys, purpose, ATTEMPT_BITS, 1);
        StageStreams {
            keys,
            enter: first(purpose::ENTER),
            detect: first(purpose::DETECT),
            service: first(purpose::SERVICE),
        }
    }
}

impl<'a> Sim<'a> {
    /// Whether layer `i` with detection probability `d` catches the defect of the attempt
    /// keyed `entity`, of latent difficulty `z` (see [`detects`]).
    #[inline]
    pub(super) fn detects(&mut self, i: usize, entity: u64, d: f64, z: f64) -> bool {
        let detect = &mut self.streams.stages[i].detect;
        detects(|| detect.draws_about(entity), self.wiring.loadings[i], d, z)
    }

    /// Whether layer `i` flags the clean attempt keyed `entity` (see [`false_flag`]).
    #[inline]
    pub(super) fn false_flags(&mut self, i: usize, entity: u64, p: f64) -> bool {
        false_flag(&mut self.streams.stages[i].detect, entity, p)
    }

    /// The draws of stage `i` about attempt `id` for `purpose`.
    #[inline(always)]
    pub(super) fn stage_draws(&self, i: usize, id: u32, purpose: u32) -> Draws {
        self.streams.stages[i]
            .keys
            .draws(self.actions[id as usize].entity(), purpose)
    }

    /// The uniform that decides whether sampling stage `i` takes attempt `id`.
    #[inline(always)]
    pub(super) fn enters(&mut self, i: usize, id: u32) -> f64 {
        let entity = self.actions[id as usize].entity();
        self.streams.stages[i].enter.uniform_about(entity)
    }

    /// The first uniform of [`Sim::stage_draws`].
    #[inline(always)]
    pub(super) fn stage_uniform(&self, i: usize, id: u32, purpose: u32) -> f64 {
        self.streams.stages[i]
            .keys
            .uniform(self.actions[id as usize].entity(), purpose)
    }
}
