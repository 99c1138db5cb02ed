//! The policy's culture at work: who signed an attempt off, findings reported (or not) to a
//! root-cause investigation, escapes that come to light charged to a person (blame) or
//! investigated at their root (learning). docs/model.md, "Culture".

use super::agent::{Cause, Learning};
use super::Sim;
use crate::culture::OnEscape;
use crate::stages::AuditItem;

/// The person who last signed an attempt off before its release (a reviewer who approved
/// it, a lot inspector who inspected it), or nobody. Packed as stage and person, plus one,
/// so that the default (0) is nobody.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Signer(u32);

impl Signer {
    pub(super) const NOBODY: Signer = Signer(0);

    /// Person `r` of stage `stage` (at most 255 stages and 2^24 − 1 people a stage, well
    /// above the limits a scenario is checked against).
    #[inline]
    pub(super) fn person(stage: usize, r: usize) -> Signer {
        debug_assert!(stage < 256 && r < (1 << 24) - 1);
        Signer(((stage as u32) << 24 | r as u32) + 1)
    }

    #[inline]
    pub(super) fn is_some(self) -> bool {
        self.0 != 0
    }

    /// As kept in an [`crate::stages::AuditItem`].
    #[inline]
    pub(super) fn packed(self) -> u32 {
        self.0
    }

    #[inline]
    pub(super) fn unpack(v: u32) -> Signer {
        Signer(v)
    }

    /// The stage and person, if someone signed.
    fn who(self) -> Option<(usize, usize)> {
        let v = self.0.checked_sub(1)?;
        Some(((v >> 24) as usize, (v & 0xff_ffff) as usize))
    }
}

/// Where a root-cause fix came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// A finding people made (a review, a lot inspection, an audit).
    People = 0,
    /// A finding a tool made (a check, an LLM judge).
    Tools = 1,
    /// An escape that came to light by itself.
    Escapes = 2,
}

impl<'a> Sim<'a> {
    /// Stage `i` found a defect of class `class` in the attempt keyed `entity`. The finding
    /// reaches a root-cause investigation with the culture's reporting probability (people's
    /// or a tool's), and one reported is investigated with the stage's probability `learn`;
    /// a defect made by people has no cause of the agent's to investigate.
    #[inline(always)]
    pub(super) fn learn(&mut self, i: usize, class: usize, entity: u64) {
        let f = self.policy.stages[i].learn;
        if f > 0.0 && self.policy.work.people_for(class).is_none() {
            let by_people = self.wiring.roles[i].by_people();
            let r = self.policy.culture.reporting_of(by_people);
            // Keyed by the defect, not the stage: whichever layer finds it, in whichever
            // policy, the same numbers decide whether it is reported and investigated.
            if r < 1.0 && self.streams.actions.report(entity) >= r {
                return;
            }
            if self.streams.actions.learn(entity) < f {
                let source = if by_people { Source::People } else { Source::Tools };
                self.investigate(class, entity, source);
            }
        }
    }

    /// A root-cause investigation of the defect of class `class` in the attempt keyed
    /// `entity`: people's hours, and its cause fixed if it has one still open (a defect from
    /// the residual share has none).
    fn investigate(&mut self, class: usize, entity: u64, source: Source) {
        let measuring = self.measuring();
        if measuring {
            let c = &mut self.measures.tally.all;
            c.analyses += 1;
            c.analysis_hours += self.policy.culture.investigation;
        }
        let w = &self.scenario.workload;
        if let Cause::Root(k) = Learning::cause(w, class, self.streams.actions.cause(entity)) {
            if self.agent.learning.fix(w, class, k) && measuring {
                self.measures.tally.all.fixes[source as usize] += 1;
            }
        }
    }

    /// An escape of class `class` (the attempt keyed `entity`, signed off by `signer`) is
    /// released now: whether it comes to light by itself (`workload.found_later`, a draw
    /// keyed by the attempt, the same in every policy), and if so what follows. Returns
    /// whether it came to light.
    pub(super) fn released_escape(&mut self, class: usize, entity: u64, signer: Signer) -> bool {
        let p = self.scenario.workload.found_later;
        if p == 0.0 || self.streams.actions.found_later(entity) >= p {
            return false;
        }
        if self.measuring() {
            self.measures.tally.all.found_later += 1;
        }
        if !self.blamed(signer, self.measuring()) && self.policy.work.people_for(class).is_none() {
            let l = self.policy.culture.escape_learn;
            if l > 0.0 && self.streams.actions.learn(entity) < l {
                self.investigate(class, entity, Source::Escapes);
            }
        }
        true
    }

    /// Stage `i` (an audit, a lot of released work) found the released escape `item`:
    /// unless it came to light by itself before, its signer is blamed under a culture of
    /// blame, or the finding goes to a root-cause investigation like any other.
    pub(super) fn escape_found(&mut self, i: usize, item: &AuditItem) {
        // Counted like its late catch: when it was released in the window.
        let counted = item.released >= self.warmup;
        if !item.surfaced && !self.blamed(Signer::unpack(item.signer), counted) {
            self.learn(i, item.class as usize, item.entity);
        }
    }

    /// An escape signed off by `signer` came to light: under a culture of blame the person
    /// who signed it off carries it (true: no root cause is sought), counted when `counted`.
    fn blamed(&mut self, signer: Signer, counted: bool) -> bool {
        let Some((stage, r)) = signer.who() else {
            return false;
        };
        if self.policy.culture.escapes != OnEscape::Blame {
            return false;
        }
        if counted {
            self.measures.tally.all.blame_events += 1;
            let people = &mut self.measures.blame[stage];
            if people.len() <= r {
                people.resize(r + 1, 0);
            }
            people[r] += 1;
        }
        true
    }
}
