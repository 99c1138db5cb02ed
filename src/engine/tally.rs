//! The window's outcomes, each counted once: in all (the metric row), per workload class
//! (classes.csv) and per defect kind (kinds.csv). Every ending of an attempt is one call
//! here, so the three agree by construction (over classes and kinds they add up to the
//! totals).

use crate::metrics::{ClassResult, KindResult};
use crate::workload::Class;

/// Window counters that become the metric row.
#[derive(Default)]
pub(super) struct Counters {
    pub released: u64,
    pub rejected: u64,
    pub dropped: u64,
    pub abandoned: u64,
    pub defects: u64,
    pub escaped: u64,
    pub harm: f64,
    pub false_rejects: u64,
    pub timeouts: u64,
    pub caught_late: u64,
    /// Actions that arrived (were created) in the window.
    pub arrivals: u64,
    pub halts: u64,
    pub false_alarms: u64,
    pub delay_sum: f64,
    pub delay_n: u64,
    /// Value of the actions released.
    pub value: f64,
    pub severe_escapes: u64,
    /// People's hours investigating alarms.
    pub investigation: f64,
    /// Lots sampled by acceptance sampling stages, and those whose sample failed.
    pub lots: u64,
    pub lots_rejected: u64,
    /// Attempts the agent made (first attempts and rework).
    pub agent_attempts: u64,
    /// Actions released without the personal review their class's duty requires.
    pub duty_breaches: u64,
    /// Escapes a person signed off.
    pub escapes_signed_off: u64,
    /// Escapes that came to light by themselves.
    pub found_later: u64,
    /// Escapes charged to the person who signed them off (a culture of blame).
    pub blame_events: u64,
    /// Root-cause investigations, and people's hours on them.
    pub analyses: u64,
    pub analysis_hours: f64,
    /// Root causes fixed, by source (`engine::culture::Source`).
    pub fixes: [u64; 3],
}

pub(super) struct Tally {
    /// Totals, and the window's counters that are not kept per class.
    pub all: Counters,
    pub classes: Vec<ClassResult>,
    pub defect_kinds: Vec<KindResult>,
}

impl Tally {
    pub fn new(classes: usize, defect_kinds: usize) -> Tally {
        Tally {
            all: Counters::default(),
            classes: vec![ClassResult::default(); classes],
            defect_kinds: vec![KindResult::default(); defect_kinds],
        }
    }

    /// An action of class `ci` arrived.
    #[inline]
    pub fn arrival(&mut self, ci: usize) {
        self.all.arrivals += 1;
        self.classes[ci].actions += 1;
    }

    /// An attempt of `class` (index `ci`) was released; `defect` is its defect's kind if it
    /// is defective (an escape); `breach`: released without the personal review the
    /// class's duty requires.
    #[inline]
    pub fn released(&mut self, class: &Class, ci: usize, defect: Option<u8>, breach: bool) {
        let counts = &mut self.classes[ci];
        self.all.released += 1;
        counts.released += 1;
        self.all.value += class.value;
        self.all.duty_breaches += breach as u64;
        counts.duty_breaches += breach as u64;
        if let Some(k) = defect {
            self.all.defects += 1;
            self.all.escaped += 1;
            self.all.harm += class.harm;
            counts.defects += 1;
            counts.escaped += 1;
            counts.harm += class.harm;
            let kind = &mut self.defect_kinds[k as usize];
            kind.defects += 1;
            kind.escaped += 1;
            kind.harm += class.harm;
            self.all.severe_escapes += class.severe as u64;
        }
    }

    /// An attempt of class `ci` was rejected; `defect` as for [`Tally::released`].
    #[inline]
    pub fn rejected(&mut self, ci: usize, defect: Option<u8>) {
        let counts = &mut self.classes[ci];
        self.all.rejected += 1;
        counts.rejected += 1;
        if let Some(k) = defect {
            self.all.defects += 1;
            counts.defects += 1;
            self.defect_kinds[k as usize].defects += 1;
        }
    }

    /// An attempt of class `ci` was dropped (timed out with `on_timeout = "drop"`).
    pub fn dropped(&mut self, ci: usize) {
        self.all.dropped += 1;
        self.classes[ci].dropped += 1;
    }

    /// An escape of class `ci` with harm `harm` and defect kind `k` was found after
    /// release: its harm is weighted by `late` (the late harm factor).
    pub fn caught_late(&mut self, harm: f64, ci: usize, k: u8, late: f64) {
        let saved = harm * (1.0 - late);
        self.all.caught_late += 1;
        self.all.harm -= saved;
        let counts = &mut self.classes[ci];
        counts.caught_late += 1;
        counts.harm -= saved;
        let kind = &mut self.defect_kinds[k as usize];
        kind.caught_late += 1;
        kind.harm -= saved;
    }
}
