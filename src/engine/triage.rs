//! Triage: each action is flagged or not once, on its first attempt, and later stages with
//! a `tier` take one side.

use super::{Ev, Sim, StageRt};
use crate::rng::purpose;
use crate::stages::desk::idle_person;
use crate::stages::{Role, Triage, TriageDesk};

impl<'a> Sim<'a> {
    /// Triage stage `i` decides for attempt `id` (on the action's first pass only) and
    /// counts it; `judged` gives the probability of a flag from the class's `flag` (the
    /// identity for automated triage, a person's vigilance and what they have seen for
    /// people).
    pub(super) fn triage(&mut self, id: u32, i: usize, t: &Triage, judged: impl FnOnce(f64) -> f64) {
        let a = self.actions[id as usize];
        let flagged = if a.triage_done {
            a.triage_flagged
        } else {
            let p = judged(t.flag[a.class as usize]);
            // Draw only when the outcome is uncertain, so sure classes use no numbers.
            let flagged = p >= 1.0 || (p > 0.0 && self.stage_uniform(i, id, purpose::TRIAGE) < p);
            let a = &mut self.actions[id as usize];
            a.triage_flagged = flagged;
            a.triage_done = true;
            flagged
        };
        if self.measuring() {
            self.measures.counts[i].flagged += flagged as u64;
            self.measures.counts[i].passed += !flagged as u64;
        }
    }

    fn triage_desk(&mut self, i: usize) -> &mut TriageDesk {
        let StageRt::TriageDesk(p) = &mut self.stages[i] else {
            unreachable!("stage {i} has no people triaging")
        };
        p
    }

    fn triage_cfg(&self, i: usize) -> &'a Triage {
        let Role::Triage(t) = self.wiring.roles[i] else {
            unreachable!("stage {i} is not triage")
        };
        t
    }

    /// Attempt `id` waits for a person at triage desk `i`.
    pub(super) fn join_desk(&mut self, id: u32, i: usize) {
        let now = self.now;
        let pool = self.triage_desk(i);
        match idle_person(&pool.desk, &pool.people) {
            Some(r) => self.start_desk(i, r, id, now, true),
            None => pool.desk.enqueue(now, id),
        }
    }

    /// Person `r` of triage desk `i` starts on attempt `id`, which has waited since
    /// `since`; `was_idle`: they were waiting for work.
    fn start_desk(&mut self, i: usize, r: usize, id: u32, since: f64, was_idle: bool) {
        let now = self.now;
        let t = self.triage_cfg(i);
        let service = t.service.as_ref().map_or(0.0, |d| {
            let entity = self.actions[id as usize].entity();
            d.sample(&mut self.streams.stages[i].service.draws_about(entity))
        });
        let pool = self.triage_desk(i);
        pool.people[r].start(now, service, was_idle, t.fatigue);
        pool.desk.start(now, r, id, since);
        self.events.schedule(
            now + service,
            Ev::TriageDone {
                stage: i as u16,
                person: r as u32,
            },
        );
    }

    /// Person `r` of triage desk `i` is done with an attempt: they decide, with the
    /// vigilance they had when they started it and what they have seen (an action is a
    /// target as likely as the rule would flag its class), and it goes on; then a break,
    /// the next attempt, or idle.
    pub(super) fn on_triage_done(&mut self, i: usize, r: usize) {
        let now = self.now;
        let t = self.triage_cfg(i);
        let id = self.triage_desk(i).desk.finish(now, r);
        let a = self.actions[id as usize];
        let person = &mut self.triage_desk(i).people[r];
        // Later attempts of the action keep the first decision: only a first is judged.
        let flag = t.flag[a.class as usize];
        let judged = match a.triage_done {
            true => flag,
            false => person.mind.inspect(&t.change, now, flag, flag).detect,
        };
        let (vigilance, on_break) = person.finish(1.0, t.fatigue);
        match on_break {
            Some(length) => self.events.schedule(
                now + length,
                Ev::BreakEnd {
                    stage: i as u16,
                    reviewer: r as u32,
                },
            ),
            None => self.next_at_desk(i, r),
        }
        self.triage(id, i, t, |_| judged * vigilance);
        self.route(id, i + 1);
    }

    /// Person `r` of triage desk `i` takes the next attempt, or becomes idle.
    fn next_at_desk(&mut self, i: usize, r: usize) {
        let now = self.now;
        let pool = self.triage_desk(i);
        match pool.desk.next(now) {
            Some((since, id)) => self.start_desk(i, r, id, since, false),
            None => pool.people[r].idle_since = now,
        }
    }

    /// Person `r` of triage desk `i` is back from a break.
    pub(super) fn on_triage_break_end(&mut self, i: usize, r: usize) {
        self.triage_desk(i).people[r].on_break = false;
        self.next_at_desk(i, r);
    }
}
