//! Run-time state of the stages of one policy: the review queue and its reviewers, and the
//! human factors (fatigue, automation bias, pressure) that set a reviewer's detection.
//! The engine drives these through events; nothing here schedules anything.

use std::collections::VecDeque;

use crate::metrics::{DurationHistogram, StageResult, TimeAvg};
use crate::scenario::{Chart, Discipline, HumanReview, Workload};

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
    /// Changed only through [`ReviewPool::set_state`], which keeps the idle set in step.
    state: ReviewerState,
    /// Hours of reviewing since the last break (fatigue's `t`).
    pub on_task: f64,
    pub idle_since: f64,
    /// The attempt in hand and its outcome, decided at service start.
    pub action: u32,
    pub reject: bool,
    pub service: f64,
}

/// Counters of one stage over the measured window.
#[derive(Debug, Clone, Default)]
pub struct StageCounts {
    pub entered: u64,
    pub passed: u64,
    pub flagged: u64,
    pub caught: u64,
    pub timeouts: u64,
    pub completed: u64,
}

/// A human review stage: one queue (or one lane per harm rank), `c` reviewers.
pub struct ReviewPool {
    pub reviewers: Vec<Reviewer>,
    /// The first queue lane (the only one under FIFO, the highest-harm one under priority)
    /// of (attempt, token); stale entries (timed out) are skipped when popped. Held inline,
    /// not in `lanes`, so the common case reaches its queue with one load less (2–3% of
    /// the reference benchmark, measured A/B against a `Vec` of all lanes).
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
    /// Attempts actually waiting.
    pub waiting: u32,
    /// Whether queue entries can go stale (only with timeouts); if not, `pop` need not check.
    timeouts: bool,
    pub on_shift: bool,
    pub queue: TimeAvg,
    pub busy: TimeAvg,
    pub on_duty: TimeAvg,
    pub waits: DurationHistogram,
}

impl ReviewPool {
    pub fn new(h: &HumanReview, w: &Workload, w0: f64, w1: f64) -> ReviewPool {
        let (lanes, lane_of) = match h.discipline {
            Discipline::Fifo => (1, vec![0; w.classes.len()]),
            Discipline::Priority => {
                // Rank classes by harm, highest first; equal harm shares a lane.
                let mut harms: Vec<f64> = w.classes.iter().map(|c| c.harm).collect();
                harms.sort_by(|a, b| b.total_cmp(a));
                harms.dedup();
                let lane_of = w
                    .classes
                    .iter()
                    .map(|c| harms.iter().position(|&x| x == c.harm).unwrap_or(0) as u16)
                    .collect();
                (harms.len(), lane_of)
            }
        };
        let c = h.reviewers as usize;
        // Everyone starts idle.
        let mut idle = vec![0u64; c.div_ceil(64)];
        for r in 0..c {
            idle[r / 64] |= 1 << (r % 64);
        }
        let mut on_duty = TimeAvg::new(w0, w1);
        on_duty.set(0.0, c as f64);
        ReviewPool {
            reviewers: vec![
                Reviewer {
                    state: ReviewerState::Idle,
                    on_task: 0.0,
                    idle_since: 0.0,
                    action: u32::MAX,
                    reject: false,
                    service: 0.0,
                };
                c
            ],
            idle,
            idle_count: c as u32,
            first: VecDeque::new(),
            lanes: (1..lanes).map(|_| VecDeque::new()).collect(),
            lane_of,
            waiting: 0,
            timeouts: h.max_wait.is_some(),
            on_shift: true,
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

    /// Sets reviewer `r`'s state, keeping the idle set in step.
    #[inline]
    pub fn set_state(&mut self, r: usize, state: ReviewerState) {
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
    pub fn push(&mut self, class: usize, action: u32, token: u32) {
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
}

/// Probability that a reviewer catches a defect, given the human factors in force.
#[inline]
pub fn review_detect(h: &HumanReview, on_task: f64, auto_passed: bool, pressured: bool) -> f64 {
    let mut d = h.detect;
    if let Some(f) = &h.fatigue {
        d = f.detect(d, on_task);
    }
    if auto_passed && h.complacency != 1.0 {
        d = 1.0 - ((1.0 - d) * h.complacency).min(1.0);
    }
    if pressured {
        if let Some(p) = &h.pressure {
            d *= p.detect_factor;
        }
    }
    d
}

impl StageCounts {
    pub fn result(&self, pool: Option<&ReviewPool>) -> StageResult {
        let (utilization, mean_queue, mean_wait_min) = match pool {
            Some(p) => (
                crate::metrics::ratio(p.busy.area(), p.on_duty.area()),
                p.queue.mean(),
                p.waits.mean_min(),
            ),
            None => (f64::NAN, f64::NAN, f64::NAN),
        };
        StageResult {
            entered: self.entered as f64,
            passed: self.passed as f64,
            flagged: self.flagged as f64,
            caught: self.caught as f64,
            timeouts: self.timeouts as f64,
            utilization,
            mean_queue,
            mean_wait_min,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;
    use crate::scenario::{Fatigue, OnTimeout, Pressure};

    fn review() -> HumanReview {
        HumanReview {
            reviewers: 1,
            service: Dist::constant(0.1),
            detect: 0.6,
            false_reject: 0.0,
            discipline: Discipline::Fifo,
            fatigue: None,
            complacency: 1.0,
            pressure: None,
            max_wait: None,
            on_timeout: OnTimeout::Approve,
            shifts: None,
        }
    }

    #[test]
    fn idle_set_finds_the_lowest_idle_reviewer() {
        let mut h = review();
        h.reviewers = 130; // three words, the last one partial
        let w = Workload {
            rate: 1.0,
            profile: None,
            classes: vec![crate::scenario::Class {
                name: "a".into(),
                share: 1.0,
                defect_prob: 0.1,
                harm: 1.0,
            }],
            rework: None,
            drift: None,
            detection_correlation: 0.0,
            learning_floor: 0.0,
        };
        let mut pool = ReviewPool::new(&h, &w, 0.0, 1.0);
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

    #[test]
    fn human_factors() {
        let mut h = review();
        assert_eq!(review_detect(&h, 5.0, true, true), 0.6);
        h.complacency = 1.3;
        assert!((review_detect(&h, 0.0, true, false) - (1.0 - 0.4 * 1.3)).abs() < 1e-12);
        assert_eq!(review_detect(&h, 0.0, false, false), 0.6);
        h.complacency = 5.0;
        assert_eq!(review_detect(&h, 0.0, true, false), 0.0);
        h.complacency = 1.0;
        h.fatigue = Some(Fatigue {
            tau: 0.5,
            floor: 0.85,
            break_after: None,
            break_length: None,
        });
        // d(30 min) = 0.85·0.6 + 0.15·0.6·e^{-1}
        let d30 = 0.51 + 0.09 * (-1.0f64).exp();
        assert!((review_detect(&h, 0.5, false, false) - d30).abs() < 1e-12);
        h.pressure = Some(Pressure {
            queue: 5,
            speedup: 2.0,
            detect_factor: 0.5,
        });
        assert!((review_detect(&h, 0.5, false, true) - d30 * 0.5).abs() < 1e-12);
    }
}

/// A released attempt waiting for, or under, audit.
#[derive(Debug, Clone, Copy)]
pub struct AuditItem {
    pub class: u16,
    pub defective: bool,
    /// Release time: a late catch counts only if the release was in the measured window.
    pub released: f64,
    /// When it joined the audit queue.
    pub enqueued: f64,
    /// Latent difficulty (correlated detection).
    pub z: f64,
}

/// An audit stage: a FIFO queue of released attempts and its auditors, always on duty.
pub struct AuditPool {
    pub queue: VecDeque<AuditItem>,
    /// The item each auditor holds, if busy.
    pub auditors: Vec<Option<AuditItem>>,
    pub queue_len: TimeAvg,
    pub busy: TimeAvg,
    pub wait_sum: f64,
    pub wait_n: u64,
}

impl AuditPool {
    pub fn new(auditors: u32, w0: f64, w1: f64) -> AuditPool {
        AuditPool {
            queue: VecDeque::new(),
            auditors: vec![None; auditors as usize],
            queue_len: TimeAvg::new(w0, w1),
            busy: TimeAvg::new(w0, w1),
            wait_sum: 0.0,
            wait_n: 0,
        }
    }

    pub fn idle_auditor(&self) -> Option<usize> {
        self.auditors.iter().position(Option::is_none)
    }
}

/// The running statistic of a monitor's control chart.
#[derive(Debug, Clone)]
pub struct ChartState {
    pub chart: Chart,
    /// CUSUM S, or EWMA z.
    stat: f64,
    /// Shewhart: findings and observations in the current window.
    count: u32,
    seen: u32,
    limit: f64,
}

impl ChartState {
    pub fn new(chart: Chart) -> ChartState {
        let mut s = ChartState {
            chart,
            stat: 0.0,
            count: 0,
            seen: 0,
            limit: chart.limit(),
        };
        s.reset();
        s
    }

    /// Back to the in-control start (after an alarm).
    pub fn reset(&mut self) {
        self.stat = match self.chart {
            Chart::Ewma { p0, .. } => p0,
            _ => 0.0,
        };
        self.count = 0;
        self.seen = 0;
    }

    /// Adds one observation (`x` = a finding); returns true on an alarm, after which the
    /// statistic is reset.
    #[inline]
    pub fn observe(&mut self, x: bool) -> bool {
        let xf = x as u8 as f64;
        let alarm = match self.chart {
            Chart::Cusum { k, h } => {
                self.stat = (self.stat + xf - k).max(0.0);
                self.stat >= h
            }
            Chart::Ewma { lambda, .. } => {
                self.stat = lambda * xf + (1.0 - lambda) * self.stat;
                self.stat > self.limit
            }
            Chart::Shewhart { n, .. } => {
                self.count += x as u32;
                self.seen += 1;
                if self.seen < n {
                    false
                } else {
                    let out = self.count as f64 / n as f64 > self.limit;
                    self.count = 0;
                    self.seen = 0;
                    out
                }
            }
        };
        if alarm {
            self.reset();
        }
        alarm
    }
}

#[cfg(test)]
mod chart_tests {
    use super::*;

    #[test]
    fn cusum_counts_up_and_resets() {
        let mut c = ChartState::new(Chart::Cusum { k: 0.25, h: 1.5 });
        // 1 − 0.25 = 0.75, then 1.5: alarm on the second finding.
        assert!(!c.observe(true));
        assert!(c.observe(true));
        // Reset: zeros keep it at 0.
        assert!(!c.observe(false));
        assert!(!c.observe(true));
        assert!(!c.observe(false)); // 0.75 − 0.25 = 0.5
        assert!(!c.observe(true)); // 0.5 + 0.75 = 1.25 < 1.5
        assert!(c.observe(true)); // 2.0 ≥ 1.5
    }

    #[test]
    fn shewhart_judges_whole_windows() {
        // n = 10, p0 = 0.1: limit 0.1 + 3·0.0949 = 0.385, so 4 findings of 10 alarm.
        let mut c = ChartState::new(Chart::Shewhart { n: 10, p0: 0.1 });
        let window = |c: &mut ChartState, k: usize| (0..10).map(|i| c.observe(i < k)).collect::<Vec<_>>();
        assert!(window(&mut c, 3).iter().all(|a| !a));
        let w = window(&mut c, 4);
        assert!(w[9] && w[..9].iter().all(|a| !a));
    }

    #[test]
    fn ewma_starts_at_p0() {
        let mut c = ChartState::new(Chart::Ewma {
            lambda: 0.5,
            l: 1.0,
            p0: 0.1,
        });
        // limit = 0.1 + sqrt(0.09 · 0.5/1.5) = 0.2732; z: 0.1 → 0.55 alarm.
        assert!(c.observe(true));
        assert!(!c.observe(false));
    }
}
