//! A review stage's people and queue at run time: reviewers' states, the queue lanes, and
//! the counts over time that follow them (waiting, busy, on duty). The pool changes them
//! together, so they never disagree.

use std::collections::VecDeque;

use super::change::Mind;
use super::review::{Discipline, HumanReview};
use crate::metrics::{DurationHistogram, TimeAvg};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewerState {
    Idle,
    Busy,
    Break,
    /// Off shift.
    Off,
}

#[derive(Debug, Clone)]
pub struct Reviewer {
    /// Changed only by the pool, which keeps the idle set, the busy count and the on-duty
    /// count in step with it.
    state: ReviewerState,
    /// Hours of reviewing since the last break (fatigue's `t`).
    pub on_task: f64,
    pub idle_since: f64,
    /// The attempt in hand and its outcome, decided at service start.
    pub action: u32,
    pub reject: bool,
    pub service: f64,
    /// This reviewer's own detection when fresh, drawn once per replication for a beta
    /// `detect` (NaN, and unused, otherwise).
    pub skill: f64,
    /// What the reviewer has seen and how able they are (people who change).
    pub mind: Mind,
    /// The shift group the reviewer belongs to.
    group: u16,
}

/// A group of reviewers who share a shift pattern (one group, always on, without shifts).
#[derive(Debug, Clone)]
pub struct Group {
    /// Its reviewers.
    pub reviewers: std::ops::Range<usize>,
    on_shift: bool,
    /// The shift running, or the last one: the `j`-th start of cycle `k`.
    pub k: u64,
    pub j: usize,
}

/// A human review stage: one queue (or one lane per harm rank), `c` reviewers.
pub struct ReviewPool {
    pub reviewers: Vec<Reviewer>,
    /// The first queue lane (the only one under FIFO, the highest-harm one under priority)
    /// of (attempt, token); stale entries (timed out) are skipped when popped. Held apart
    /// from `lanes`, so the common case reaches its queue directly.
    first: VecDeque<(u32, u32)>,
    /// The other lanes, in priority order (empty under FIFO).
    lanes: Vec<VecDeque<(u32, u32)>>,
    /// Lane of each class (0 is `first`, k is `lanes[k - 1]`).
    lane_of: Vec<u16>,
    /// The idle set: bit `r % 64` of word `r / 64` is set while reviewer `r` is idle, so
    /// the lowest-numbered idle reviewer is found a word at a time.
    idle: Vec<u64>,
    /// Reviewers idle now (the idle set's size).
    idle_count: u32,
    /// Attempts actually waiting (`queue`'s value).
    waiting: u32,
    /// Whether queue entries can go stale (only with timeouts); if not, `pop` need not check.
    timeouts: bool,
    /// The shift groups, in reviewer order.
    pub groups: Vec<Group>,
    /// Attempts waiting, over time.
    pub queue: TimeAvg,
    /// Reviewers reviewing, over time: up by one when one starts, down when one finishes.
    pub busy: TimeAvg,
    /// Reviewers not off shift, over time.
    pub on_duty: TimeAvg,
    /// Waits of the attempts that left the queue in the window.
    pub waits: DurationHistogram,
}

impl ReviewPool {
    /// The pool of `h`'s reviewers, all idle, for classes of harm `class_harm`, measured
    /// over the window `[w0, w1)`.
    /// `skills`: each reviewer's detection when fresh (see [`Skill::draw`]); `minds`: what
    /// each has seen.
    pub fn new(
        h: &HumanReview,
        skills: &[f64],
        minds: Vec<Mind>,
        class_harm: &[f64],
        w0: f64,
        w1: f64,
    ) -> ReviewPool {
        let (lanes, lane_of) = match h.discipline {
            Discipline::Fifo => (1, vec![0; class_harm.len()]),
            Discipline::Priority => {
                // Rank classes by harm, highest first; equal harm shares a lane.
                let mut harms: Vec<f64> = class_harm.to_vec();
                harms.sort_by(|a, b| b.total_cmp(a));
                harms.dedup();
                let lane_of = class_harm
                    .iter()
                    .map(|c| harms.iter().position(|x| x == c).unwrap_or(0) as u16)
                    .collect();
                (harms.len(), lane_of)
            }
        };
        let c = h.reviewers as usize;
        assert_eq!(skills.len(), c, "one skill per reviewer");
        // Everyone starts idle.
        let mut idle = vec![0u64; c.div_ceil(64)];
        for r in 0..c {
            idle[r / 64] |= 1 << (r % 64);
        }
        let mut on_duty = TimeAvg::new(w0, w1);
        on_duty.set(0.0, c as f64);
        let sizes: Vec<usize> = match h.shifts.is_empty() {
            true => vec![c],
            false => h.shifts.iter().map(|s| s.reviewers as usize).collect(),
        };
        let mut groups = Vec::with_capacity(sizes.len());
        let mut group_of = Vec::with_capacity(c);
        for (g, n) in sizes.into_iter().enumerate() {
            let lo = group_of.len();
            group_of.extend(std::iter::repeat_n(g as u16, n));
            groups.push(Group {
                reviewers: lo..group_of.len(),
                on_shift: true,
                k: 0,
                j: 0,
            });
        }
        assert_eq!(group_of.len(), c, "the groups hold every reviewer");
        ReviewPool {
            reviewers: (skills.iter().zip(group_of).zip(minds))
                .map(|((&skill, group), mind)| Reviewer {
                    state: ReviewerState::Idle,
                    on_task: 0.0,
                    idle_since: 0.0,
                    action: u32::MAX,
                    reject: false,
                    service: 0.0,
                    skill,
                    mind,
                    group,
                })
                .collect(),
            idle,
            idle_count: c as u32,
            first: VecDeque::new(),
            lanes: (1..lanes).map(|_| VecDeque::new()).collect(),
            lane_of,
            waiting: 0,
            timeouts: h.max_wait.is_some(),
            groups,
            queue: TimeAvg::new(w0, w1),
            busy: TimeAvg::new(w0, w1),
            on_duty,
            waits: DurationHistogram::new(),
        }
    }

    /// An idle reviewer, lowest index first.
    #[inline]
    pub fn idle_reviewer(&self) -> Option<usize> {
        if self.idle_count == 0 {
            return None;
        }
        let k = self.idle.iter().position(|&w| w != 0)?;
        let r = 64 * k + self.idle[k].trailing_zeros() as usize;
        debug_assert_eq!(
            Some(r),
            self.reviewers.iter().position(|x| x.state == ReviewerState::Idle),
            "the idle set is out of step with the reviewers' states"
        );
        Some(r)
    }

    #[inline]
    pub fn state(&self, r: usize) -> ReviewerState {
        self.reviewers[r].state
    }

    /// Attempts waiting now.
    #[inline]
    pub fn waiting(&self) -> u32 {
        self.waiting
    }

    /// Whether reviewer `r`'s shift is on (always, without shifts).
    #[inline]
    pub fn on_shift(&self, r: usize) -> bool {
        self.groups[self.reviewers[r].group as usize].on_shift
    }

    /// Attempt `action` of `class` (queue token `token`) waits from `now`.
    #[inline]
    pub fn enqueue(&mut self, now: f64, class: usize, action: u32, token: u32) {
        self.push(class, action, token);
        self.waiting += 1;
        self.queue.set(now, self.waiting as f64);
    }

    /// A waiting attempt leaves the queue at `now` (served, or timed out: its entry is
    /// stale from now on and skipped by [`ReviewPool::pop`]).
    #[inline]
    pub fn leave(&mut self, now: f64) {
        self.waiting -= 1;
        self.queue.set(now, self.waiting as f64);
    }

    /// Reviewer `r` (idle, or busy and just finished) starts a review at `now`.
    #[inline]
    pub fn start(&mut self, now: f64, r: usize) -> &mut Reviewer {
        self.set_state(r, ReviewerState::Busy);
        self.busy.add(now, 1.0);
        &mut self.reviewers[r]
    }

    /// Reviewer `r` finishes a review at `now`; the caller then gives the reviewer a break,
    /// sends them off shift, or starts the next review.
    #[inline]
    pub fn finish(&mut self, now: f64, r: usize) -> &mut Reviewer {
        self.busy.add(now, -1.0);
        &mut self.reviewers[r]
    }

    /// Reviewer `r` finished a review and takes a break.
    pub fn take_break(&mut self, r: usize) {
        self.set_state(r, ReviewerState::Break);
    }

    /// Reviewer `r` finds no work at `now` and is idle from then on.
    pub fn wait_for_work(&mut self, now: f64, r: usize) {
        self.reviewers[r].idle_since = now;
        self.set_state(r, ReviewerState::Idle);
    }

    /// Reviewer `r` goes off shift at `now` (after finishing a review or a break).
    pub fn go_off(&mut self, now: f64, r: usize) {
        self.set_state(r, ReviewerState::Off);
        self.on_duty.add(now, -1.0);
    }

    /// Group `g`'s reviewers are off until their first shift starts (at time 0).
    pub fn off_until_first_shift(&mut self, g: usize) {
        self.groups[g].on_shift = false;
        let group = self.groups[g].reviewers.clone();
        for r in group.clone() {
            self.set_state(r, ReviewerState::Off);
        }
        self.on_duty.add(0.0, -(group.len() as f64));
    }

    /// Group `g`'s shift ends at `now`: idle reviewers and those on a break go off; busy
    /// ones finish the attempt in hand first ([`ReviewPool::go_off`]).
    pub fn end_shift(&mut self, now: f64, g: usize) {
        self.groups[g].on_shift = false;
        let mut left = 0.0;
        for r in self.groups[g].reviewers.clone() {
            if matches!(self.state(r), ReviewerState::Idle | ReviewerState::Break) {
                self.set_state(r, ReviewerState::Off);
                left += 1.0;
            }
        }
        self.on_duty.add(now, -left);
    }

    /// Group `g`'s shift starts at `now`: its reviewers who were off come on duty fresh and
    /// idle.
    pub fn start_shift(&mut self, now: f64, g: usize) {
        self.groups[g].on_shift = true;
        let mut came = 0.0;
        for r in self.groups[g].reviewers.clone() {
            if self.state(r) == ReviewerState::Off {
                let rv = &mut self.reviewers[r];
                rv.on_task = 0.0;
                rv.idle_since = now;
                self.set_state(r, ReviewerState::Idle);
                came += 1.0;
            }
        }
        self.on_duty.add(now, came);
    }

    /// Closes the time averages at `end`.
    pub fn close(&mut self, end: f64) {
        self.queue.finish_at(end);
        self.busy.finish_at(end);
        self.on_duty.finish_at(end);
    }

    /// Sets reviewer `r`'s state, keeping the idle set in step.
    #[inline]
    fn set_state(&mut self, r: usize, state: ReviewerState) {
        let was_idle = self.reviewers[r].state == ReviewerState::Idle;
        let is_idle = state == ReviewerState::Idle;
        self.reviewers[r].state = state;
        if was_idle != is_idle {
            let bit = 1u64 << (r % 64);
            if is_idle {
                self.idle[r / 64] |= bit;
                self.idle_count += 1;
            } else {
                self.idle[r / 64] &= !bit;
                self.idle_count -= 1;
            }
        }
    }

    #[inline]
    fn push(&mut self, class: usize, action: u32, token: u32) {
        match self.lane_of[class] {
            0 => self.first.push_back((action, token)),
            k => self.lanes[k as usize - 1].push_back((action, token)),
        }
    }

    /// Pops the next live entry (highest-priority lane first), skipping stale ones.
    #[inline]
    pub fn pop(&mut self, live: impl Fn(u32, u32) -> bool) -> Option<u32> {
        if !self.timeouts && self.lanes.is_empty() {
            return self.first.pop_front().map(|(a, _)| a);
        }
        self.pop_lanes(live)
    }

    /// [`ReviewPool::pop`] with priority lanes or stale entries.
    fn pop_lanes(&mut self, live: impl Fn(u32, u32) -> bool) -> Option<u32> {
        for lane in std::iter::once(&mut self.first).chain(&mut self.lanes) {
            while let Some((a, tok)) = lane.pop_front() {
                if !self.timeouts || live(a, tok) {
                    return Some(a);
                }
            }
        }
        None
    }

    pub fn live_entries(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        (std::iter::once(&self.first).chain(&self.lanes)).flat_map(|l| l.iter().copied())
    }

    /// Opens the time averages' window (at the end of the warm-up).
    pub fn open(&mut self) {
        self.queue.open();
        self.busy.open();
        self.on_duty.open();
    }

    /// Utilization, time-average queue, and mean and 95th-percentile wait (minutes) over
    /// the window.
    pub fn figures(&self) -> (f64, f64, f64, f64) {
        (
            crate::metrics::ratio(self.busy.area(), self.on_duty.area()),
            self.queue.mean(),
            self.waits.mean_min(),
            self.waits.quantile_min(0.95),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::review::tests::review;

    /// `n` people who do not change.
    fn inert(n: usize) -> Vec<Mind> {
        let c = crate::stages::change::Change::default();
        crate::stages::change::minds(&c, crate::rng::Keyed::new(0, 0, 0), n, 0.0)
    }

    #[test]
    fn idle_set_finds_the_lowest_idle_reviewer() {
        let mut h = review();
        h.reviewers = 130; // three words, the last one partial
        let mut pool = ReviewPool::new(&h, &[f64::NAN; 130], inert(130), &[1.0], 0.0, 1.0);
        assert_eq!(pool.idle_reviewer(), Some(0));
        for r in 0..130 {
            assert_eq!(pool.idle_reviewer(), Some(r));
            pool.set_state(r, ReviewerState::Busy);
        }
        assert_eq!(pool.idle_reviewer(), None);
        pool.set_state(129, ReviewerState::Idle);
        pool.set_state(70, ReviewerState::Break);
        assert_eq!(pool.idle_reviewer(), Some(129));
        pool.set_state(70, ReviewerState::Idle);
        pool.set_state(70, ReviewerState::Idle); // idempotent
        assert_eq!(pool.idle_reviewer(), Some(70));
        pool.set_state(70, ReviewerState::Off);
        pool.set_state(129, ReviewerState::Off);
        assert_eq!(pool.idle_reviewer(), None);
        assert_eq!(pool.idle_count, 0);
    }

    /// The pool's counts over time follow its reviewers and its queue through a day of
    /// starts, finishes, breaks, shift changes and queue moves.
    #[test]
    fn the_pools_counts_follow_its_reviewers() {
        let mut h = review();
        h.reviewers = 3;
        let mut pool = ReviewPool::new(&h, &[f64::NAN; 3], inert(3), &[1.0], 0.0, 10.0);
        let check = |pool: &ReviewPool| {
            let n = |s: ReviewerState| (0..3).filter(|&r| pool.state(r) == s).count() as f64;
            // A reviewer who finished (holding nothing) counts busy no more, before the
            // next move.
            let reviewing = (0..3)
                .filter(|&r| pool.state(r) == ReviewerState::Busy && pool.reviewers[r].action != u32::MAX)
                .count() as f64;
            assert_eq!(pool.busy.value(), reviewing);
            assert_eq!(pool.on_duty.value(), 3.0 - n(ReviewerState::Off));
            assert_eq!(pool.queue.value(), pool.waiting() as f64);
        };
        check(&pool);
        for (t, r) in [(1.0, 0), (1.5, 1)] {
            pool.start(t, r).action = r as u32;
            check(&pool);
        }
        pool.enqueue(2.0, 0, 7, 0);
        pool.enqueue(2.0, 0, 8, 0);
        check(&pool);
        pool.finish(3.0, 0).action = u32::MAX;
        pool.take_break(0);
        check(&pool);
        pool.leave(3.5);
        pool.start(3.5, 2).action = 7;
        check(&pool);
        pool.end_shift(4.0, 0); // 0 on a break goes off; 1 and 2 are busy
        check(&pool);
        assert!(!pool.on_shift(0));
        pool.finish(4.5, 1).action = u32::MAX;
        pool.go_off(4.5, 1);
        check(&pool);
        pool.start_shift(6.0, 0);
        check(&pool);
        pool.wait_for_work(6.0, 1);
        check(&pool);
        assert_eq!(pool.idle_reviewer(), Some(0));
        pool.close(10.0);
        // Reviewer hours on duty: 3 until 4, then 2 until 4.5, 1 until 6, 3 until 10.
        assert_eq!(pool.on_duty.area(), 3.0 * 4.0 + 2.0 * 0.5 + 1.5 + 3.0 * 4.0);
    }
}
