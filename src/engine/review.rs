//! Human review: the queue, reviewers taking work, the outcome of a review, timeouts,
//! breaks and shifts.

use super::culture::Signer;
use super::detection::{detects, false_flag};
use super::{Action, Effort, Ev, Measures, Sim, StageRt};
use crate::metrics::StageResult;
use crate::stages::review::ON_TASK_EPS;
use crate::stages::{review_detect, HumanReview, OnTimeout, ReviewPool, ReviewerState, Role, StageCounts};

/// The review pool of stage `i` (a function of the stages alone, so that callers can hold it
/// together with other fields of the simulation).
#[inline]
fn review_pool(stages: &mut [StageRt], i: usize) -> &mut ReviewPool {
    let StageRt::Review(p) = &mut stages[i] else {
        unreachable!("stage {i} is not a review")
    };
    p
}

/// Attempt `a` leaves the queue of `pool` now (served or timed out), or starts at once if
/// it was not waiting: its queue time and wait are recorded.
#[inline(always)]
fn record_leave(pool: &mut ReviewPool, a: &mut Action, measures: &mut Measures, now: f64, warmup: f64) {
    let enq = a.enqueued;
    a.token = a.token.wrapping_add(1);
    if a.waiting {
        a.waiting = false;
        pool.leave(now);
        measures.queue.add(now, -1.0);
    }
    if now >= warmup {
        // Time queued inside the window (the event loop ends before the window does).
        measures.ledger.queue_time += now - if enq > warmup { enq } else { warmup };
        pool.waits.record(now - enq);
    }
}

impl<'a> Sim<'a> {
    /// Schedules the first shift change of every shift group of every review stage; a
    /// group whose first shift starts later is off duty until then.
    pub(super) fn start_shifts(&mut self) {
        for i in 0..self.wiring.roles.len() {
            let Role::Review(h) = self.wiring.roles[i] else {
                continue; // only reviews have shifts
            };
            for (g, sh) in h.shifts.iter().enumerate() {
                let (stage, group) = (i as u16, g as u16);
                if sh.always() {
                    continue; // always on duty
                }
                if sh.starts[0] > 0.0 {
                    // Off duty until the first shift starts.
                    self.pool(i).off_until_first_shift(g);
                    self.events
                        .schedule(sh.starts[0], Ev::ShiftStart { stage, group });
                } else {
                    self.events.schedule(sh.on, Ev::ShiftEnd { stage, group });
                }
            }
        }
    }

    #[inline]
    pub(super) fn pool(&mut self, i: usize) -> &mut ReviewPool {
        review_pool(&mut self.stages, i)
    }

    #[inline]
    pub(super) fn review_cfg(&self, i: usize) -> &'a HumanReview {
        let Role::Review(h) = self.wiring.roles[i] else {
            unreachable!("stage {i} is not a review")
        };
        h
    }

    #[inline]
    pub(super) fn join_review(&mut self, id: u32, i: usize) {
        let now = self.now;
        let h = self.review_cfg(i);
        let pool = review_pool(&mut self.stages, i);
        let a = &mut self.actions[id as usize];
        a.enqueued = now;
        if now >= self.warmup {
            self.measures.ledger.queue_entries += 1;
        }
        if let Some(r) = pool.idle_reviewer() {
            self.start_review(i, r, id);
            return;
        }
        a.waiting = true;
        let token = a.token;
        pool.enqueue(now, a.class as usize, id, token);
        self.measures.queue.add(now, 1.0);
        if let Some(mw) = h.max_wait {
            let lane = self.wiring.timeout_lane[i].expect("a timeout lane for each stage with max_wait");
            self.events
                .schedule_lane(lane, now + mw, Ev::Timeout { action: id, token });
        }
    }

    /// Records that attempt `id` leaves review queue `i` now (served or timed out), or
    /// starts at once.
    pub(super) fn leave_queue(&mut self, id: u32, i: usize) {
        let (now, warmup) = (self.now, self.warmup);
        let pool = review_pool(&mut self.stages, i);
        let a = &mut self.actions[id as usize];
        record_leave(pool, a, &mut self.measures, now, warmup);
    }

    /// Reviewer `r` of stage `i` starts on attempt `id` (queued, or arriving at an idle
    /// reviewer). The outcome and the service time are drawn now.
    #[inline]
    pub(super) fn start_review(&mut self, i: usize, r: usize, id: u32) {
        let (now, warmup) = (self.now, self.warmup);
        let h = self.review_cfg(i);
        let pool = review_pool(&mut self.stages, i);
        let a = &mut self.actions[id as usize];
        record_leave(pool, a, &mut self.measures, now, warmup);
        let waiting = pool.waiting();
        let was_idle = pool.state(r) == ReviewerState::Idle;
        let rv = pool.start(now, r);
        if let (Some(f), true) = (&h.fatigue, was_idle) {
            rv.on_task = f.after_idle(rv.on_task, now - rv.idle_since);
        }
        let pressured = h.pressure.is_some_and(|p| waiting >= p.queue);
        let st = &mut self.streams.stages[i];
        // A culture of blame makes people who sign work off slower and more defensive.
        let culture = &self.policy.culture;
        let mut service = h.service.sample(&mut st.service.draws_about(a.entity())) * (1.0 + culture.slower);
        if pressured {
            service /= h.pressure.map_or(1.0, |p| p.speedup);
        }
        let entity = a.entity();
        let fresh = h.detect.fresh(rv.skill, a.defect_kind as usize, a.class as usize);
        // What the reviewer has seen moves their detection and, by the same criterion
        // shift, their false rejects.
        let judged = rv.mind.inspect(&h.change, now, fresh, a.defective as u8 as f64);
        let reject = if a.defective {
            let d = review_detect(
                h,
                judged.detect,
                rv.on_task,
                a.auto_passed && !a.flagged,
                pressured,
            );
            detects(|| st.detect.draws_about(entity), self.wiring.loadings[i], d, a.z)
        } else {
            let f = (h.false_reject * (1.0 + culture.defensive)).min(1.0);
            false_flag(&mut st.detect, entity, judged.false_alarm(f))
        };
        rv.action = id;
        rv.reject = reject;
        rv.service = service;
        self.events.schedule(
            now + service,
            Ev::ReviewDone {
                stage: i as u16,
                reviewer: r as u32,
            },
        );
    }

    pub(super) fn on_review_done(&mut self, i: usize, r: usize) {
        let now = self.now;
        let h = self.review_cfg(i);
        let measuring = self.measuring();
        let pool = review_pool(&mut self.stages, i);
        let rv = pool.finish(now, r);
        let (id, reject) = (rv.action, rv.reject);
        rv.on_task += rv.service;
        rv.action = u32::MAX;
        // The reviewer's next move: a break, off shift, or the next attempt.
        let on_break = h
            .fatigue
            .and_then(|f| f.break_after.zip(f.break_length))
            .filter(|(after, _)| rv.on_task >= *after - ON_TASK_EPS);
        if let Some((_, length)) = on_break {
            rv.on_task = 0.0;
            pool.take_break(r);
            self.events.schedule(
                now + length,
                Ev::BreakEnd {
                    stage: i as u16,
                    reviewer: r as u32,
                },
            );
        } else if !pool.on_shift(r) {
            self.go_off(i, r);
        } else {
            self.next_for(i, r);
        }
        // Then the attempt it finished.
        let (defective, class, entity) = {
            let a = &self.actions[id as usize];
            (a.defective, a.class as usize, a.entity())
        };
        self.decided(i, entity, defective, reject);
        if reject && defective {
            self.learn(i, class, entity);
        }
        if measuring {
            let c = &mut self.measures.counts[i];
            if reject {
                c.flagged += 1;
                c.caught += defective as u64;
            } else {
                c.passed += 1;
            }
            c.completed += 1;
        }
        if reject {
            self.count_false_flag(id);
            self.reject(id);
        } else {
            self.actions[id as usize].signer = Signer::person(i, r);
            self.route(id, i + 1);
        }
    }

    /// Reviewer `r` of stage `i` takes the next attempt, or becomes idle.
    #[inline]
    pub(super) fn next_for(&mut self, i: usize, r: usize) {
        let actions = &self.actions;
        let pool = review_pool(&mut self.stages, i);
        let next = pool.pop(|a, tok| {
            let x = &actions[a as usize];
            x.waiting && x.token == tok
        });
        match next {
            Some(id) => self.start_review(i, r, id),
            None => {
                pool.wait_for_work(self.now, r);
            }
        }
    }

    pub(super) fn go_off(&mut self, i: usize, r: usize) {
        let now = self.now;
        self.pool(i).go_off(now, r);
    }

    pub(super) fn on_timeout(&mut self, id: u32, token: u32) {
        let a = self.actions[id as usize];
        if !a.waiting || a.token != token {
            return; // served before its deadline
        }
        let i = a.stage as usize;
        self.leave_queue(id, i);
        if self.measuring() {
            self.measures.counts[i].timeouts += 1;
            self.measures.tally.all.timeouts += 1;
        }
        match self.review_cfg(i).on_timeout {
            OnTimeout::Approve => self.route(id, i + 1),
            OnTimeout::Drop => {
                self.dispose(id);
                self.measures.ledger.dropped += 1;
                if self.measuring() {
                    self.measures.tally.dropped(a.class as usize);
                }
            }
        }
    }

    pub(super) fn on_break_end(&mut self, i: usize, r: usize) {
        let pool = self.pool(i);
        if pool.state(r) != ReviewerState::Break {
            return; // went off shift during the break
        }
        if pool.on_shift(r) {
            self.next_for(i, r);
        } else {
            self.go_off(i, r);
        }
    }

    /// Group `g`'s shift at stage `i` ends: the next begins at the group's next start.
    pub(super) fn on_shift_end(&mut self, i: usize, g: usize) {
        let now = self.now;
        let sh = &self.review_cfg(i).shifts[g];
        let pool = self.pool(i);
        pool.end_shift(now, g);
        let group = &mut pool.groups[g];
        (group.k, group.j) = match group.j + 1 < sh.starts.len() {
            true => (group.k, group.j + 1),
            false => (group.k + 1, 0),
        };
        let next = group.k as f64 * sh.cycle + sh.starts[group.j];
        let (stage, group) = (i as u16, g as u16);
        self.events.schedule(next, Ev::ShiftStart { stage, group });
    }

    /// Group `g`'s shift at stage `i` begins: its reviewers come on duty and take work.
    pub(super) fn on_shift_start(&mut self, i: usize, g: usize) {
        let now = self.now;
        let on = self.review_cfg(i).shifts[g].on;
        self.pool(i).start_shift(now, g);
        // Only reviewers who just came on duty can be idle now (busy ones are finishing
        // an item from the last shift): each takes work while there is any.
        for r in self.pool(i).groups[g].reviewers.clone() {
            if self.pool(i).state(r) == ReviewerState::Idle {
                self.next_for(i, r);
            }
        }
        let (stage, group) = (i as u16, g as u16);
        self.events.schedule(now + on, Ev::ShiftEnd { stage, group });
    }
}

/// Closes review stage `p` at `end`: its row, and its reviewers' hours, reviews and waits
/// added to `effort`.
pub(super) fn close(p: &mut ReviewPool, counts: &StageCounts, end: f64, effort: &mut Effort) -> StageResult {
    p.close(end);
    effort.duty += p.on_duty.area();
    effort.busy += p.busy.area();
    effort.completed += counts.completed;
    let row = counts.result(Some(p.figures()));
    match &mut effort.waits {
        None => effort.waits = Some(std::mem::take(&mut p.waits)),
        Some(m) => m.merge(&p.waits),
    }
    row
}
