//! Run-time state of the stages of one policy: the review queue and its reviewers, and the
//! human factors (fatigue, automation bias, pressure) that set a reviewer's detection.
//! The engine drives these through events; nothing here schedules anything.

use std::collections::VecDeque;

use crate::metrics::{DurationHistogram, StageResult, TimeAvg};
use crate::scenario::{Discipline, HumanReview, Workload};

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
    pub state: ReviewerState,
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
    /// Queue lanes of (attempt, token); stale entries (timed out) are skipped when popped.
    lanes: Vec<VecDeque<(u32, u32)>>,
    /// Lane of each class.
    lane_of: Vec<u16>,
    /// Attempts actually waiting.
    pub waiting: u32,
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
            lanes: (0..lanes).map(|_| VecDeque::new()).collect(),
            lane_of,
            waiting: 0,
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
        self.reviewers.iter().position(|r| r.state == ReviewerState::Idle)
    }

    #[inline]
    pub fn push(&mut self, class: usize, action: u32, token: u32) {
        self.lanes[self.lane_of[class] as usize].push_back((action, token));
    }

    /// Pops the next live entry (highest-priority lane first), skipping stale ones.
    #[inline]
    pub fn pop(&mut self, live: impl Fn(u32, u32) -> bool) -> Option<u32> {
        for lane in &mut self.lanes {
            while let Some((a, tok)) = lane.pop_front() {
                if live(a, tok) {
                    return Some(a);
                }
            }
        }
        None
    }

    /// Entries still held in the lanes (live and stale), for memory checks.
    pub fn held(&self) -> usize {
        self.lanes.iter().map(VecDeque::len).sum()
    }

    pub fn live_entries(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.lanes.iter().flat_map(|l| l.iter().copied())
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
