//! The discrete-event engine: one replication of one policy.
//!
//! An action arrives, becomes an attempt and walks the policy's pre-release stages in order
//! (`Sim::route`); checks decide at once or after their delay, reviews queue for a
//! reviewer. An attempt ends released, rejected (and maybe reworked into a new attempt) or
//! dropped. Released attempts may be sampled by audits; monitors watch the findings of
//! stages and halt the agent on an alarm; drift and learning move the defect rate. Time is
//! in hours; events at equal times run in the order they were scheduled.

mod queue;

pub use queue::{EventQueue, Next};

use std::sync::atomic::{AtomicBool, Ordering};

use rand_distr::{Distribution, Exp1, StandardNormal};

use crate::metrics::{
    ratio, DurationHistogram, Ledger, MetricRow, RepResult, SeriesRow, TimeAvg, M, N_METRICS,
};
use crate::rng::{stream, stream_rng, uniform, StreamRng};
use crate::scenario::{Policy, Scenario};
use crate::stages::{
    review_detect, AuditItem, AuditPool, ChartState, HumanReview, OnFlag, OnTimeout, ReviewPool,
    ReviewerState, StageCounts, StageKind,
};
use crate::workload::{Actions, Arrivals};

#[derive(Debug, Clone, Copy)]
enum Ev {
    CheckDone {
        action: u32,
    },
    ReviewDone {
        stage: u16,
        reviewer: u32,
    },
    Timeout {
        action: u32,
        token: u32,
    },
    Rework {
        action: u32,
    },
    BreakEnd {
        stage: u16,
        reviewer: u32,
    },
    ShiftStart {
        stage: u16,
    },
    ShiftEnd {
        stage: u16,
    },
    AuditDone {
        stage: u16,
        auditor: u32,
    },
    DriftOnset,
    DriftEnd {
        generation: u32,
    },
    HaltEnd,
    /// End of a time-series interval (only with `--timeseries`).
    Sample,
    /// The clock reaches the end of the warm-up: the measured window opens.
    WindowOpens,
}

/// Cumulative values at a time-series boundary; rows are differences of two snapshots.
#[derive(Debug, Clone, Copy, Default)]
struct Snapshot {
    t: f64,
    arrivals: u64,
    releases: u64,
    escapes: u64,
    queue: f64,
    busy: f64,
    duty: f64,
    drift: f64,
    halted: f64,
}

struct Series {
    step: f64,
    last: Snapshot,
    rows: Vec<SeriesRow>,
}

/// An action and its current attempt.
#[derive(Debug, Clone, Copy, Default)]
struct Action {
    created: f64,
    /// A full word, so that it is stored and loaded whole (a narrower field was read back
    /// together with its neighbour, which the CPU cannot forward from two stores).
    class: u32,
    attempt: u16,
    /// Stage the attempt is at.
    stage: u16,
    defective: bool,
    auto_passed: bool,
    flagged: bool,
    /// A clean attempt already counted in `false_rejects`.
    false_counted: bool,
    /// Waiting in a review queue.
    waiting: bool,
    /// Holds a live attempt (false while free or waiting for rework).
    live: bool,
    /// Human stages this attempt was escalated to (bit per stage index).
    escalated: u64,
    /// When the attempt joined its current queue.
    enqueued: f64,
    /// Changes whenever the attempt leaves a queue, so stale timeouts and queue entries
    /// can be recognised.
    token: u32,
    /// Latent difficulty of the attempt's defect (correlated detection).
    z: f64,
}

enum StageRt {
    Check,
    Review(Box<ReviewPool>),
    Audit(Box<AuditPool>),
    Monitor(ChartState),
}

/// Window counters that become the metric row.
#[derive(Default)]
struct Counters {
    released: u64,
    rejected: u64,
    dropped: u64,
    abandoned: u64,
    defects: u64,
    escaped: u64,
    harm: f64,
    false_rejects: u64,
    timeouts: u64,
    caught_late: u64,
    /// Actions that arrived (were created) in the window.
    arrivals: u64,
    halts: u64,
    false_alarms: u64,
    delay_sum: f64,
    delay_n: u64,
}

/// Regime shifts of the agent (one per replication and policy).
struct DriftState {
    rng: StreamRng,
    active: bool,
    onset: f64,
    /// Changes at every onset, so a stale self-heal event is recognised.
    generation: u32,
    hours: TimeAvg,
}

pub struct Sim<'a> {
    scenario: &'a Scenario,
    policy: &'a Policy,
    now: f64,
    warmup: f64,
    end: f64,
    events: EventQueue<Ev>,
    actions: Vec<Action>,
    free: Vec<u32>,
    arrivals: Arrivals,
    draws: Actions,
    rework_rng: StreamRng,
    stage_rngs: Vec<StreamRng>,
    stages: Vec<StageRt>,
    counts: Vec<StageCounts>,
    c: Counters,
    ledger: Ledger,
    /// Total waiting over all review stages.
    total_queue: TimeAvg,
    latency: DurationHistogram,
    drift: DriftState,
    /// The agent's learning factor on defect probabilities, in [learning_floor, 1].
    learning: f64,
    halted_until: f64,
    halted: TimeAvg,
    /// For each stage, the monitors watching it (bit per stage index).
    watchers: Vec<u64>,
    /// Audit stages (bit per stage index).
    audits: u64,
    /// `(sqrt(r), sqrt(1 − r))` of the detection correlation, when r > 0.
    correlation: Option<(f64, f64)>,
    /// When the run stopped early because the backlog passed `run.max_backlog`.
    cut_at: Option<f64>,
    /// For each stage, the event-queue lane of its timeouts (review stages with `max_wait`).
    timeout_lane: Vec<Option<usize>>,
    /// One past the last pre-release stage: routing from here on releases.
    pre_release_end: usize,

    series: Option<Series>,
}

/// A latent difficulty `z ~ N(0, 1)`, drawn only when detection is correlated (so
/// uncorrelated scenarios draw exactly the random numbers they would without the feature).
#[inline(always)]
fn latent(correlated: bool, rng: &mut StreamRng) -> f64 {
    if correlated {
        StandardNormal.sample(rng)
    } else {
        0.0
    }
}

/// The review pool of stage `i` (a function of the stages alone, so that callers can hold it
/// together with other fields of the simulation).
#[inline]
fn review_pool(stages: &mut [StageRt], i: usize) -> &mut ReviewPool {
    match &mut stages[i] {
        StageRt::Review(p) => p,
        _ => unreachable!("stage {i} is not a review"),
    }
}

/// Whether a layer with detection probability `d` catches a defect of latent difficulty
/// `z`: a uniform draw below `d`, or with correlation r (`correlation` = `(sqrt(r),
/// sqrt(1 − r))`), `sqrt(r)·z + sqrt(1 − r)·e < Φ⁻¹(d)` with fresh `e ~ N(0, 1)`.
#[inline]
fn detects(rng: &mut StreamRng, correlation: Option<(f64, f64)>, d: f64, z: f64) -> bool {
    match correlation {
        None => uniform(rng) < d,
        Some((sr, s1r)) => {
            let e: f64 = StandardNormal.sample(rng);
            if d <= 0.0 {
                false
            } else if d >= 1.0 {
                true
            } else {
                sr * z + s1r * e < normal_quantile(d)
            }
        }
    }
}

/// Attempt `a` leaves the queue of `pool` now (served or timed out), or starts at once if
/// it was not waiting: its queue time and wait are recorded.
#[inline(always)]
fn leave_queue(
    pool: &mut ReviewPool,
    a: &mut Action,
    ledger: &mut Ledger,
    total_queue: &mut TimeAvg,
    now: f64,
    warmup: f64,
) {
    let enq = a.enqueued;
    a.token = a.token.wrapping_add(1);
    if a.waiting {
        a.waiting = false;
        pool.waiting -= 1;
        pool.queue.set(now, pool.waiting as f64);
        total_queue.add(now, -1.0);
    }
    if now >= warmup {
        // Time queued inside the window (the event loop ends before the window does).
        ledger.queue_time += now - if enq > warmup { enq } else { warmup };
        pool.waits.record(now - enq);
    }
}

/// Φ⁻¹(p), the standard normal quantile, for p in (0, 1).
fn normal_quantile(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(2.0 * p)
}

/// Runs replication `replication` of policy `policy` and returns what it measured.
pub fn simulate(scenario: &Scenario, policy: usize, replication: u64) -> RepResult {
    let never = AtomicBool::new(false);
    try_simulate(scenario, policy, replication, &never).expect("not cancelled")
}

/// Like [`simulate`], but gives up (returning `None`) soon after `cancel` is set: the
/// event loop looks at it every [`CANCEL_CHECK`] events.
pub fn try_simulate(
    scenario: &Scenario,
    policy: usize,
    replication: u64,
    cancel: &AtomicBool,
) -> Option<RepResult> {
    try_simulate_series(scenario, policy, replication, cancel, None)
}

/// [`try_simulate`], recording a time series in intervals of `series` hours if given.
pub fn try_simulate_series(
    scenario: &Scenario,
    policy: usize,
    replication: u64,
    cancel: &AtomicBool,
    series: Option<f64>,
) -> Option<RepResult> {
    let mut sim = Sim::new(scenario, policy, replication);
    if let Some(step) = series {
        sim.record_series(step);
    }
    sim.run(cancel).then(|| sim.finish())
}

/// Events between two looks at the cancellation flag (a relaxed atomic load).
pub const CANCEL_CHECK: u32 = 1024;

impl<'a> Sim<'a> {
    pub fn new(scenario: &'a Scenario, policy: usize, replication: u64) -> Sim<'a> {
        let policy = &scenario.policies[policy];
        let seed = scenario.run.seed;
        let warmup = scenario.run.warmup;
        let end = warmup + scenario.run.horizon;
        let w = &scenario.workload;
        let class_harm: Vec<f64> = w.classes.iter().map(|c| c.harm).collect();
        let stages = policy
            .stages
            .iter()
            .map(|s| match &s.kind {
                StageKind::AutomatedCheck(_) => StageRt::Check,
                StageKind::HumanReview(h) => {
                    StageRt::Review(Box::new(ReviewPool::new(h, &class_harm, warmup, end)))
                }
                StageKind::Audit(a) => StageRt::Audit(Box::new(AuditPool::new(a.reviewers, warmup, end))),
                StageKind::Monitor(m) => StageRt::Monitor(ChartState::new(m.chart)),
            })
            .collect();
        let mut watchers = vec![0u64; policy.stages.len()];
        let mut audits = 0u64;
        for (m, s) in policy.stages.iter().enumerate() {
            match &s.kind {
                StageKind::Monitor(mon) => {
                    for (i, w) in watchers.iter_mut().enumerate() {
                        if mon.watch >> i & 1 == 1 {
                            *w |= 1 << m;
                        }
                    }
                }
                StageKind::Audit(_) => audits |= 1 << m,
                _ => {}
            }
        }
        let r = w.detection_correlation;
        let stage_rngs = (0..policy.stages.len())
            .map(|i| stream_rng(seed, replication, stream::STAGE_BASE + i as u64))
            .collect();
        // Each review stage with timeouts gets an event-queue lane for them.
        let mut events = EventQueue::with_capacity(0);
        let timeout_lane = (policy.stages.iter())
            .map(|s| match &s.kind {
                StageKind::HumanReview(HumanReview {
                    max_wait: Some(_), ..
                }) => Some(events.add_lane()),
                _ => None,
            })
            .collect();
        // A starting size for the slab and the heap (they grow as needed); capped, so an absurd
        // rate cannot ask for memory up front (found by the fuzz test: rate = "1e9/h").
        let expected_in_system = ((w.mean_rate() * 2.0).min(65_536.0).ceil() as usize) + 64;
        Sim {
            scenario,
            policy,
            now: 0.0,
            warmup,
            end,
            events: events.with_heap_capacity(expected_in_system),
            timeout_lane,
            actions: Vec::with_capacity(expected_in_system),
            free: Vec::with_capacity(expected_in_system),
            arrivals: Arrivals::new(w, seed, replication),
            draws: Actions::new(w, seed, replication),
            rework_rng: stream_rng(seed, replication, stream::REWORK),
            stage_rngs,
            stages,
            counts: vec![StageCounts::default(); policy.stages.len()],
            c: Counters::default(),
            ledger: Ledger::default(),
            total_queue: TimeAvg::new(warmup, end),
            latency: DurationHistogram::new(),
            drift: DriftState {
                rng: stream_rng(seed, replication, stream::DRIFT),
                active: false,
                onset: 0.0,
                generation: 0,
                hours: TimeAvg::new(warmup, end),
            },
            learning: 1.0,
            halted_until: 0.0,
            halted: TimeAvg::new(warmup, end),
            watchers,
            audits,
            correlation: (r > 0.0).then(|| (r.sqrt(), (1.0 - r).sqrt())),
            cut_at: None,
            pre_release_end: policy
                .stages
                .iter()
                .rposition(|s| s.kind.is_pre_release())
                .map_or(0, |i| i + 1),
            series: None,
        }
    }

    #[inline]
    fn measuring(&self) -> bool {
        self.now >= self.warmup
    }

    /// Processes events until the end of the window; false if cancelled first.
    pub fn run(&mut self, cancel: &AtomicBool) -> bool {
        // First, so that it precedes every other event at the same time.
        self.events.schedule(self.warmup, Ev::WindowOpens);
        let first = self.arrivals.next_time();
        self.events.schedule_side(first);
        self.schedule_drift_onset();
        if let Some(s) = &mut self.series {
            s.last.t = self.warmup;
            self.events.schedule(self.warmup + s.step, Ev::Sample);
        }
        for (i, s) in self.policy.stages.iter().enumerate() {
            if let StageKind::HumanReview(HumanReview { shifts: Some(sh), .. }) = &s.kind {
                if sh.on >= sh.period {
                    continue; // always on duty
                }
                if sh.start > 0.0 {
                    // Off duty until the first shift starts.
                    let pool = self.pool(i);
                    pool.on_shift = false;
                    for r in 0..pool.reviewers.len() {
                        pool.set_state(r, ReviewerState::Off);
                    }
                    pool.on_duty.set(0.0, 0.0);
                    self.events.schedule(sh.start, Ev::ShiftStart { stage: i as u16 });
                } else {
                    self.events.schedule(sh.on, Ev::ShiftEnd { stage: i as u16 });
                }
            }
        }
        let mut until_check = CANCEL_CHECK;
        // Arrivals come from the queue's side slot; the rest from its heap.
        while let Some(next) = self.events.pop_before(self.end) {
            until_check -= 1;
            if until_check == 0 {
                until_check = CANCEL_CHECK;
                if cancel.load(Ordering::Relaxed) {
                    return false;
                }
                // Bounded memory: an overloaded run stops once its backlog is too large.
                if (self.actions.len() - self.free.len()) as u64 > self.scenario.run.max_backlog {
                    self.cut_at = Some(self.now);
                    return true;
                }
            }
            let (t, ev) = match next {
                Next::Side(t) => {
                    self.now = t;
                    self.on_arrival();
                    continue;
                }
                Next::Heap(t, ev) => (t, ev),
            };
            self.now = t;
            match ev {
                Ev::CheckDone { action } => {
                    let i = self.actions[action as usize].stage as usize;
                    self.decide_check(action, i);
                }
                Ev::ReviewDone { stage, reviewer } => self.on_review_done(stage as usize, reviewer as usize),
                Ev::Timeout { action, token } => self.on_timeout(action, token),
                Ev::Rework { action } => self.on_rework(action),
                Ev::BreakEnd { stage, reviewer } => self.on_break_end(stage as usize, reviewer as usize),
                Ev::ShiftStart { stage } => self.on_shift_start(stage as usize),
                Ev::ShiftEnd { stage } => self.on_shift_end(stage as usize),
                Ev::AuditDone { stage, auditor } => self.on_audit_done(stage as usize, auditor as usize),
                Ev::DriftOnset => self.on_drift_onset(),
                Ev::DriftEnd { generation } => {
                    if self.drift.active && self.drift.generation == generation {
                        self.end_drift();
                    }
                }
                Ev::Sample => self.on_sample(),
                Ev::WindowOpens => self.open_window(),
                Ev::HaltEnd => {
                    if self.now >= self.halted_until {
                        self.halted.set(self.now, 0.0);
                    }
                }
            }
        }
        self.now = self.end;
        true
    }

    /// `min(1, defect_prob × drift multiplier × learning factor)`.
    #[inline]
    fn defect_prob(&self, class: usize) -> f64 {
        let w = &self.scenario.workload;
        let drift = match (&w.drift, self.drift.active) {
            (Some(d), true) => d.multiplier,
            _ => 1.0,
        };
        (w.classes[class].defect_prob * drift * self.learning).min(1.0)
    }

    fn on_arrival(&mut self) {
        let next = self.arrivals.next_time();
        self.events.schedule_side(next);
        // Draw even while halted, so the workload's streams stay aligned across policies.
        let (class, u) = self.draws.draw();
        let z = latent(self.correlation.is_some(), self.draws.rng());
        if self.now < self.halted_until {
            return; // the agent is halted: this action is never produced
        }
        if self.measuring() {
            self.c.arrivals += 1;
        }
        let defective = u < self.defect_prob(class);
        let mut a = Action {
            created: self.now,
            class: class as u32,
            attempt: 1,
            defective,
            live: true,
            z,
            ..Action::default()
        };
        let id = match self.free.pop() {
            Some(id) => {
                // Keep the token moving, so stale timeouts and queue entries of the slot's
                // previous action never match the new one.
                a.token = self.actions[id as usize].token.wrapping_add(1);
                self.actions[id as usize] = a;
                id
            }
            None => {
                self.actions.push(a);
                (self.actions.len() - 1) as u32
            }
        };
        self.ledger.created += 1;
        self.route(id, 0);
    }

    fn on_rework(&mut self, id: u32) {
        let class = self.actions[id as usize].class as usize;
        let defective = uniform(&mut self.rework_rng) < self.defect_prob(class);
        let z = latent(self.correlation.is_some(), &mut self.rework_rng);
        let a = &mut self.actions[id as usize];
        a.z = z;
        a.attempt += 1;
        a.defective = defective;
        a.auto_passed = false;
        a.flagged = false;
        a.false_counted = false;
        a.escalated = 0;
        a.live = true;
        self.ledger.created += 1;
        self.route(id, 0);
    }

    /// Moves attempt `id` through stages `from..` until it waits somewhere or leaves.
    #[inline(always)]
    fn route(&mut self, id: u32, from: usize) {
        if from >= self.pre_release_end {
            self.release(id);
        } else {
            self.route_through(id, from);
        }
    }

    /// [`Sim::route`] when pre-release stages remain.
    fn route_through(&mut self, id: u32, from: usize) {
        let policy = self.policy;
        for (i, stage) in policy.stages.iter().enumerate().skip(from) {
            if !stage.kind.is_pre_release() {
                continue; // audits and monitors act after release
            }
            let (escalated, class) = {
                let a = &self.actions[id as usize];
                (a.escalated, a.class)
            };
            let enters = escalated >> i & 1 == 1
                || (stage.classes.contains(class as usize)
                    && (stage.sample >= 1.0 || uniform(&mut self.stage_rngs[i]) < stage.sample));
            if !enters {
                continue;
            }
            if self.measuring() {
                self.counts[i].entered += 1;
            }
            self.actions[id as usize].stage = i as u16;
            match &stage.kind {
                StageKind::AutomatedCheck(chk) => match &chk.service {
                    Some(d) => {
                        let delay = d.sample(&mut self.stage_rngs[i]);
                        self.events
                            .schedule(self.now + delay, Ev::CheckDone { action: id });
                        return;
                    }
                    None => {
                        if !self.check_outcome(id, i) {
                            return;
                        }
                    }
                },
                StageKind::HumanReview(_) => {
                    self.join_review(id, i);
                    return;
                }
                StageKind::Audit(_) | StageKind::Monitor(_) => unreachable!("skipped above"),
            }
        }
        self.release(id);
    }

    /// Decides a check and continues routing after a delayed check.
    fn decide_check(&mut self, id: u32, i: usize) {
        if self.check_outcome(id, i) {
            self.route(id, i + 1);
        }
    }

    /// Applies check `i` to attempt `id`; true if the attempt goes on to the next stage.
    fn check_outcome(&mut self, id: u32, i: usize) -> bool {
        let StageKind::AutomatedCheck(chk) = &self.policy.stages[i].kind else {
            unreachable!()
        };
        let a = self.actions[id as usize];
        let flagged = if a.defective {
            self.detects(i, chk.detect, a.z)
        } else {
            uniform(&mut self.stage_rngs[i]) < chk.false_positive
        };
        self.observe(i, flagged);
        if flagged && a.defective {
            self.learn(i);
        }
        let measuring = self.measuring();
        if !flagged {
            if measuring {
                self.counts[i].passed += 1;
            }
            self.actions[id as usize].auto_passed = true;
            return true;
        }
        if measuring {
            self.counts[i].flagged += 1;
            if a.defective {
                self.counts[i].caught += 1;
            }
        }
        self.actions[id as usize].flagged = true;
        self.count_false_flag(id);
        match chk.on_flag {
            OnFlag::Reject => {
                self.reject(id);
                false
            }
            OnFlag::Escalate(j) => {
                self.actions[id as usize].escalated |= 1 << j;
                true
            }
        }
    }

    #[inline]
    fn count_false_flag(&mut self, id: u32) {
        let measuring = self.measuring();
        let a = &mut self.actions[id as usize];
        if !a.defective && !a.false_counted {
            a.false_counted = true;
            if measuring {
                self.c.false_rejects += 1;
            }
        }
    }

    #[inline]
    fn pool(&mut self, i: usize) -> &mut ReviewPool {
        review_pool(&mut self.stages, i)
    }

    #[inline]
    fn review_cfg(&self, i: usize) -> &'a HumanReview {
        match &self.policy.stages[i].kind {
            StageKind::HumanReview(h) => h,
            _ => unreachable!("stage {i} is not a review"),
        }
    }

    #[inline]
    fn join_review(&mut self, id: u32, i: usize) {
        let now = self.now;
        let h = self.review_cfg(i);
        let pool = review_pool(&mut self.stages, i);
        let a = &mut self.actions[id as usize];
        a.enqueued = now;
        if now >= self.warmup {
            self.ledger.queue_entries += 1;
        }
        if let Some(r) = pool.idle_reviewer() {
            self.start_review(i, r, id);
            return;
        }
        a.waiting = true;
        let token = a.token;
        pool.push(a.class as usize, id, token);
        pool.waiting += 1;
        pool.queue.set(now, pool.waiting as f64);
        self.total_queue.add(now, 1.0);
        if let Some(mw) = h.max_wait {
            let lane = self.timeout_lane[i].expect("a timeout lane for each stage with max_wait");
            self.events
                .schedule_lane(lane, now + mw, Ev::Timeout { action: id, token });
        }
    }

    /// Records that attempt `id` left review queue `i` now (timed out).
    fn leave_queue(&mut self, id: u32, i: usize) {
        let (now, warmup) = (self.now, self.warmup);
        let pool = review_pool(&mut self.stages, i);
        let a = &mut self.actions[id as usize];
        leave_queue(pool, a, &mut self.ledger, &mut self.total_queue, now, warmup);
    }

    /// Reviewer `r` of stage `i` starts on attempt `id` (queued, or arriving at an idle
    /// reviewer). The outcome and the service time are drawn now.
    #[inline]
    fn start_review(&mut self, i: usize, r: usize, id: u32) {
        let (now, warmup) = (self.now, self.warmup);
        let h = self.review_cfg(i);
        let pool = review_pool(&mut self.stages, i);
        let a = &mut self.actions[id as usize];
        leave_queue(pool, a, &mut self.ledger, &mut self.total_queue, now, warmup);
        let waiting = pool.waiting;
        let was_idle = pool.state(r) == ReviewerState::Idle;
        let rv = &mut pool.reviewers[r];
        if let (Some(f), true) = (&h.fatigue, was_idle) {
            if let Some(bl) = f.break_length {
                if now - rv.idle_since >= bl {
                    rv.on_task = 0.0;
                }
            }
        }
        let pressured = h.pressure.is_some_and(|p| waiting >= p.queue);
        let rng = &mut self.stage_rngs[i];
        let mut service = h.service.sample(rng);
        if pressured {
            service /= h.pressure.map_or(1.0, |p| p.speedup);
        }
        let reject = if a.defective {
            let d = review_detect(h, rv.on_task, a.auto_passed && !a.flagged, pressured);
            detects(rng, self.correlation, d, a.z)
        } else {
            uniform(rng) < h.false_reject
        };
        rv.action = id;
        rv.reject = reject;
        rv.service = service;
        pool.set_state(r, ReviewerState::Busy);
        pool.busy.add(now, 1.0);
        self.events.schedule(
            now + service,
            Ev::ReviewDone {
                stage: i as u16,
                reviewer: r as u32,
            },
        );
    }

    fn on_review_done(&mut self, i: usize, r: usize) {
        let now = self.now;
        let h = self.review_cfg(i);
        let measuring = self.measuring();
        let pool = review_pool(&mut self.stages, i);
        pool.busy.add(now, -1.0);
        let rv = &mut pool.reviewers[r];
        let (id, reject) = (rv.action, rv.reject);
        rv.on_task += rv.service;
        rv.action = u32::MAX;
        // The reviewer's next move: a break, off shift, or the next attempt.
        let on_break = h
            .fatigue
            .and_then(|f| f.break_after.zip(f.break_length))
            .filter(|(after, _)| rv.on_task >= *after);
        if let Some((_, length)) = on_break {
            rv.on_task = 0.0;
            pool.set_state(r, ReviewerState::Break);
            self.events.schedule(
                now + length,
                Ev::BreakEnd {
                    stage: i as u16,
                    reviewer: r as u32,
                },
            );
        } else if !pool.on_shift {
            self.go_off(i, r);
        } else {
            self.next_for(i, r);
        }
        // Then the attempt it finished.
        let defective = self.actions[id as usize].defective;
        self.observe(i, reject);
        if reject && defective {
            self.learn(i);
        }
        if measuring {
            let c = &mut self.counts[i];
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
            self.route(id, i + 1);
        }
    }

    /// Reviewer `r` of stage `i` takes the next attempt, or becomes idle.
    #[inline]
    fn next_for(&mut self, i: usize, r: usize) {
        let actions = &self.actions;
        let pool = review_pool(&mut self.stages, i);
        let next = pool.pop(|a, tok| {
            let x = &actions[a as usize];
            x.waiting && x.token == tok
        });
        match next {
            Some(id) => self.start_review(i, r, id),
            None => {
                pool.reviewers[r].idle_since = self.now;
                pool.set_state(r, ReviewerState::Idle);
            }
        }
    }

    fn go_off(&mut self, i: usize, r: usize) {
        let now = self.now;
        let pool = self.pool(i);
        pool.set_state(r, ReviewerState::Off);
        pool.on_duty.add(now, -1.0);
    }

    fn on_timeout(&mut self, id: u32, token: u32) {
        let a = self.actions[id as usize];
        if !a.waiting || a.token != token {
            return; // served before its deadline
        }
        let i = a.stage as usize;
        self.leave_queue(id, i);
        if self.measuring() {
            self.counts[i].timeouts += 1;
            self.c.timeouts += 1;
        }
        match self.review_cfg(i).on_timeout {
            OnTimeout::Approve => self.route(id, i + 1),
            OnTimeout::Drop => {
                self.dispose(id);
                self.ledger.dropped += 1;
                if self.measuring() {
                    self.c.dropped += 1;
                }
            }
        }
    }

    fn on_break_end(&mut self, i: usize, r: usize) {
        let pool = self.pool(i);
        if pool.state(r) != ReviewerState::Break {
            return; // went off shift during the break
        }
        if pool.on_shift {
            self.next_for(i, r);
        } else {
            self.go_off(i, r);
        }
    }

    fn on_shift_end(&mut self, i: usize) {
        let now = self.now;
        let Some(sh) = self.review_cfg(i).shifts else {
            return;
        };
        let pool = self.pool(i);
        pool.on_shift = false;
        // Busy reviewers finish the attempt in hand first.
        let mut left = 0.0;
        for r in 0..pool.reviewers.len() {
            if matches!(pool.state(r), ReviewerState::Idle | ReviewerState::Break) {
                pool.set_state(r, ReviewerState::Off);
                left += 1.0;
            }
        }
        pool.on_duty.add(now, -left);
        self.events
            .schedule(now + (sh.period - sh.on), Ev::ShiftStart { stage: i as u16 });
    }

    fn on_shift_start(&mut self, i: usize) {
        let now = self.now;
        let Some(sh) = self.review_cfg(i).shifts else {
            return;
        };
        let pool = self.pool(i);
        pool.on_shift = true;
        let mut came = 0.0;
        for r in 0..pool.reviewers.len() {
            if pool.state(r) == ReviewerState::Off {
                let rv = &mut pool.reviewers[r];
                rv.on_task = 0.0;
                rv.idle_since = now;
                pool.set_state(r, ReviewerState::Idle);
                came += 1.0;
            }
        }
        pool.on_duty.add(now, came);
        // Only reviewers who just came on duty can be idle now (busy ones are finishing
        // an item from the last shift): each takes work while there is any.
        for r in 0..self.pool(i).reviewers.len() {
            if self.pool(i).state(r) == ReviewerState::Idle {
                self.next_for(i, r);
            }
        }
        self.events
            .schedule(now + sh.on, Ev::ShiftEnd { stage: i as u16 });
    }

    #[inline]
    fn dispose(&mut self, id: u32) {
        self.actions[id as usize].live = false;
        self.free.push(id);
    }

    #[inline]
    fn release(&mut self, id: u32) {
        let a = self.actions[id as usize];
        self.dispose(id);
        self.ledger.released += 1;
        if self.measuring() {
            self.c.released += 1;
            if a.defective {
                self.c.defects += 1;
                self.c.escaped += 1;
                self.c.harm += self.scenario.workload.classes[a.class as usize].harm;
            }
            self.latency.record(self.now - a.created);
        }
        // Post-release sampling by each audit.
        let mut audits = self.audits;
        while audits != 0 {
            let i = audits.trailing_zeros() as usize;
            audits &= audits - 1;
            let stage = &self.policy.stages[i];
            if stage.classes.contains(a.class as usize)
                && (stage.sample >= 1.0 || uniform(&mut self.stage_rngs[i]) < stage.sample)
            {
                let item = AuditItem {
                    class: a.class as u16,
                    defective: a.defective,
                    released: self.now,
                    enqueued: self.now,
                    z: a.z,
                };
                self.join_audit(i, item);
            }
        }
    }

    /// Whether layer `i` with detection probability `d` catches a defect of latent
    /// difficulty `z` (see [`detects`]).
    #[inline]
    fn detects(&mut self, i: usize, d: f64, z: f64) -> bool {
        detects(&mut self.stage_rngs[i], self.correlation, d, z)
    }

    /// Stage `i` found a defect: the agent learns from it.
    #[inline(always)]
    fn learn(&mut self, i: usize) {
        let f = self.policy.stages[i].learn;
        if f > 0.0 {
            let floor = self.scenario.workload.learning_floor;
            self.learning = (self.learning * (1.0 - f)).max(floor);
        }
    }

    /// Stage `i` inspected an attempt (`finding` = flagged, rejected or found): every
    /// monitor watching it takes the observation.
    #[inline(always)]
    fn observe(&mut self, i: usize, finding: bool) {
        if self.watchers[i] != 0 {
            self.observe_watched(i, finding);
        }
    }

    #[inline(never)]
    fn observe_watched(&mut self, i: usize, finding: bool) {
        let mut monitors = self.watchers[i];
        while monitors != 0 {
            let m = monitors.trailing_zeros() as usize;
            monitors &= monitors - 1;
            let StageRt::Monitor(chart) = &mut self.stages[m] else {
                unreachable!()
            };
            let alarm = chart.observe(finding);
            if self.now >= self.warmup {
                self.counts[m].entered += 1;
                self.counts[m].flagged += alarm as u64;
            }
            if alarm {
                self.alarm(m);
            }
        }
    }

    /// Monitor `m` alarms: halt the agent, fix an active drift.
    fn alarm(&mut self, m: usize) {
        let now = self.now;
        let measuring = self.measuring();
        if measuring {
            self.c.halts += 1;
        }
        if self.drift.active {
            if measuring {
                self.c.delay_sum += now - self.drift.onset;
                self.c.delay_n += 1;
                self.counts[m].caught += 1;
            }
            self.end_drift();
        } else if measuring {
            self.c.false_alarms += 1;
        }
        let StageKind::Monitor(mon) = &self.policy.stages[m].kind else {
            unreachable!()
        };
        if mon.halt > 0.0 {
            self.halted_until = self.halted_until.max(now + mon.halt);
            self.halted.set(now, 1.0);
            self.events.schedule(self.halted_until, Ev::HaltEnd);
        }
    }

    /// Opens every time average's window (at the end of the warm-up).
    fn open_window(&mut self) {
        self.total_queue.open();
        self.drift.hours.open();
        self.halted.open();
        for s in &mut self.stages {
            match s {
                StageRt::Review(p) => {
                    p.queue.open();
                    p.busy.open();
                    p.on_duty.open();
                }
                StageRt::Audit(p) => {
                    p.queue_len.open();
                    p.busy.open();
                }
                StageRt::Check | StageRt::Monitor(_) => {}
            }
        }
    }

    /// Records time series of this replication in intervals of `step` hours.
    pub fn record_series(&mut self, step: f64) {
        self.series = Some(Series {
            step,
            last: Snapshot::default(),
            rows: Vec::new(),
        });
    }

    fn snapshot(&self, t: f64) -> Snapshot {
        let mut s = Snapshot {
            t,
            arrivals: self.c.arrivals,
            releases: self.c.released,
            escapes: self.c.escaped,
            drift: self.drift.hours.area_at(t),
            halted: self.halted.area_at(t),
            ..Snapshot::default()
        };
        for st in &self.stages {
            if let StageRt::Review(p) = st {
                s.queue += p.queue.area_at(t);
                s.busy += p.busy.area_at(t);
                s.duty += p.on_duty.area_at(t);
            }
        }
        s
    }

    /// The share-weighted defect probability now.
    fn mean_defect_prob(&self) -> f64 {
        let w = &self.scenario.workload;
        w.classes
            .iter()
            .enumerate()
            .map(|(i, c)| c.share * self.defect_prob(i))
            .sum()
    }

    fn push_series_row(&mut self, t: f64) {
        let now = self.snapshot(t);
        let p = self.mean_defect_prob();
        let Some(s) = &mut self.series else { return };
        let (a, dt) = (s.last, t - s.last.t);
        if dt > 0.0 {
            s.rows.push([
                a.t,
                t,
                (now.arrivals - a.arrivals) as f64,
                (now.releases - a.releases) as f64,
                (now.escapes - a.escapes) as f64,
                (now.queue - a.queue) / dt,
                (now.busy - a.busy) / dt,
                (now.duty - a.duty) / dt,
                p,
                (now.drift - a.drift) / dt,
                (now.halted - a.halted) / dt,
            ]);
        }
        s.last = now;
    }

    fn on_sample(&mut self) {
        let now = self.now;
        self.push_series_row(now);
        if let Some(s) = &self.series {
            let next = now + s.step;
            if next < self.end {
                self.events.schedule(next, Ev::Sample);
            }
        }
    }

    fn schedule_drift_onset(&mut self) {
        if let Some(d) = &self.scenario.workload.drift {
            let gap: f64 = Exp1.sample(&mut self.drift.rng);
            self.events.schedule(self.now + gap * d.every, Ev::DriftOnset);
        }
    }

    fn on_drift_onset(&mut self) {
        self.schedule_drift_onset();
        if self.drift.active {
            return; // an onset during an active drift is ignored
        }
        let now = self.now;
        let d = &mut self.drift;
        d.active = true;
        d.onset = now;
        d.generation = d.generation.wrapping_add(1);
        d.hours.set(now, 1.0);
        if let Some(heal) = self.scenario.workload.drift.as_ref().and_then(|d| d.self_heal) {
            let generation = self.drift.generation;
            self.events.schedule(now + heal, Ev::DriftEnd { generation });
        }
    }

    fn end_drift(&mut self) {
        self.drift.active = false;
        self.drift.hours.set(self.now, 0.0);
    }

    fn audit_pool(&mut self, i: usize) -> &mut AuditPool {
        match &mut self.stages[i] {
            StageRt::Audit(p) => p,
            _ => unreachable!("stage {i} is not an audit"),
        }
    }

    fn join_audit(&mut self, i: usize, item: AuditItem) {
        let now = self.now;
        if now >= self.warmup {
            self.counts[i].entered += 1;
        }
        match self.audit_pool(i).idle_auditor() {
            Some(k) => self.start_audit(i, k, item),
            None => {
                let pool = self.audit_pool(i);
                pool.queue.push_back(item);
                let n = pool.queue.len() as f64;
                pool.queue_len.set(now, n);
            }
        }
    }

    fn start_audit(&mut self, i: usize, k: usize, item: AuditItem) {
        let now = self.now;
        let StageKind::Audit(a) = &self.policy.stages[i].kind else {
            unreachable!()
        };
        let service = a.service.sample(&mut self.stage_rngs[i]);
        let measuring = self.measuring();
        let pool = self.audit_pool(i);
        if measuring {
            pool.wait_sum += now - item.enqueued;
            pool.wait_n += 1;
        }
        pool.auditors[k] = Some(item);
        pool.busy.add(now, 1.0);
        self.events.schedule(
            now + service,
            Ev::AuditDone {
                stage: i as u16,
                auditor: k as u32,
            },
        );
    }

    fn on_audit_done(&mut self, i: usize, k: usize) {
        let now = self.now;
        let pool = self.audit_pool(i);
        let item = pool.auditors[k].take().expect("auditor was busy");
        pool.busy.add(now, -1.0);
        if let Some(next) = pool.queue.pop_front() {
            let n = pool.queue.len() as f64;
            pool.queue_len.set(now, n);
            self.start_audit(i, k, next);
        }
        let StageKind::Audit(a) = &self.policy.stages[i].kind else {
            unreachable!()
        };
        let (detect, late) = (a.detect, a.late_harm_factor);
        let found = item.defective && self.detects(i, detect, item.z);
        self.observe(i, found);
        let measuring = self.measuring();
        if measuring {
            self.counts[i].passed += !found as u64;
            self.counts[i].flagged += found as u64;
            self.counts[i].caught += found as u64;
            self.counts[i].completed += 1;
        }
        if found {
            self.learn(i);
            // A late catch of a defect released in the window: still an escape, with its
            // harm weighted by late_harm_factor.
            if item.released >= self.warmup {
                let harm = self.scenario.workload.classes[item.class as usize].harm;
                self.c.caught_late += 1;
                self.c.harm -= harm * (1.0 - late);
            }
        }
    }

    fn reject(&mut self, id: u32) {
        let a = self.actions[id as usize];
        self.ledger.rejected += 1;
        if self.measuring() {
            self.c.rejected += 1;
            self.c.defects += a.defective as u64;
        }
        match &self.scenario.workload.rework {
            Some(rw) if (a.attempt as u32) < rw.max_attempts => {
                self.actions[id as usize].live = false;
                let delay = rw.delay.sample(&mut self.rework_rng);
                self.events.schedule(self.now + delay, Ev::Rework { action: id });
            }
            _ => {
                self.dispose(id);
                if self.measuring() {
                    self.c.abandoned += 1;
                }
            }
        }
    }

    /// Closes the window and computes the metric row.
    pub fn finish(mut self) -> RepResult {
        // A run cut short is measured over its shortened window.
        let end = self.cut_at.map_or(self.end, |t| t.max(self.warmup));
        if self.series.is_some() {
            self.push_series_row(end);
        }
        let mut ledger = std::mem::take(&mut self.ledger);
        // Attempts still queued at the end count their time up to the end.
        for s in &self.stages {
            if let StageRt::Review(p) = s {
                for (a, tok) in p.live_entries() {
                    let x = &self.actions[a as usize];
                    if x.waiting && x.token == tok {
                        ledger.queue_time += end - x.enqueued.max(self.warmup);
                    }
                }
            }
        }
        self.total_queue.finish_at(end);
        ledger.queue_area = self.total_queue.area();
        // Counted from the attempts themselves, independently of the disposal counters,
        // so that `Ledger::conserved` is a real check.
        ledger.in_system = self.actions.iter().filter(|a| a.live).count() as u64;
        self.ledger = ledger;

        let horizon = end - self.warmup;
        // On-duty hours of human review stages, and of audits (which count in reviewer
        // hours and cost, but not in review utilization or throughput).
        let (mut duty, mut audit_duty, mut busy) = (0.0, 0.0, 0.0);
        let mut completed = 0u64;
        let mut merged: Option<DurationHistogram> = None;
        let mut stage_results = Vec::with_capacity(self.stages.len());
        for (i, s) in self.stages.iter_mut().enumerate() {
            match s {
                StageRt::Review(p) => {
                    p.queue.finish_at(end);
                    p.busy.finish_at(end);
                    p.on_duty.finish_at(end);
                    duty += p.on_duty.area();
                    busy += p.busy.area();
                    completed += self.counts[i].completed;
                    stage_results.push(self.counts[i].result(Some(p.figures())));
                    match &mut merged {
                        None => merged = Some(std::mem::take(&mut p.waits)),
                        Some(m) => m.merge(&p.waits),
                    }
                }
                StageRt::Audit(p) => {
                    p.queue_len.finish_at(end);
                    p.busy.finish_at(end);
                    // Auditors are always on duty.
                    let on_duty = p.auditors.len() as f64 * horizon;
                    audit_duty += on_duty;
                    let mut r = self.counts[i].result(None);
                    r.utilization = ratio(p.busy.area(), on_duty);
                    r.mean_queue = p.queue_len.mean();
                    r.mean_wait_min = ratio(p.wait_sum * 60.0, p.wait_n as f64);
                    stage_results.push(r);
                }
                StageRt::Monitor(_) => {
                    let mut r = self.counts[i].result(None);
                    r.passed = r.entered - r.flagged;
                    stage_results.push(r);
                }
                StageRt::Check => stage_results.push(self.counts[i].result(None)),
            }
        }
        self.drift.hours.finish_at(end);
        self.halted.finish_at(end);
        let halt_hours = self.halted.area();
        let c = &self.c;
        let costs = &self.scenario.costs;
        let mut m = MetricRow([0.0; N_METRICS]);
        m[M::released] = c.released as f64;
        m[M::rejected] = c.rejected as f64;
        m[M::dropped] = c.dropped as f64;
        m[M::abandoned] = c.abandoned as f64;
        m[M::throughput_per_hour] = ratio(c.released as f64, horizon);
        m[M::defects] = c.defects as f64;
        m[M::escaped] = c.escaped as f64;
        m[M::escape_rate] = ratio(c.escaped as f64, c.defects as f64);
        m[M::escapes_per_1k] = ratio(1000.0 * c.escaped as f64, c.released as f64);
        m[M::caught_late] = c.caught_late as f64;
        m[M::harm] = c.harm;
        m[M::false_rejects] = c.false_rejects as f64;
        m[M::timeouts] = c.timeouts as f64;
        m[M::reviewer_hours] = duty + audit_duty;
        m[M::reviewer_utilization] = ratio(busy, duty);
        m[M::reviews_per_reviewer_hour] = ratio(completed as f64, duty);
        m[M::mean_queue] = self.total_queue.mean();
        m[M::max_queue] = self.total_queue.max();
        // The merged histogram keeps the exact sum and count of every review stage's waits.
        m[M::mean_wait_min] = merged.as_ref().map_or(f64::NAN, |h| h.mean_min());
        m[M::p95_wait_min] = merged.as_ref().map_or(f64::NAN, |h| h.quantile_min(0.95));
        m[M::latency_mean_min] = self.latency.mean_min();
        m[M::latency_p95_min] = self.latency.quantile_min(0.95);
        m[M::backlog_end] = self.ledger.in_system as f64;
        m[M::halts] = c.halts as f64;
        m[M::halt_hours] = halt_hours;
        m[M::false_alarms] = c.false_alarms as f64;
        m[M::drift_hours] = self.drift.hours.area();
        m[M::detection_delay_h] = ratio(c.delay_sum, c.delay_n as f64);
        m[M::learning_factor] = self.learning;
        m[M::cost_total] = (duty + audit_duty) * costs.reviewer_hour
            + halt_hours * costs.halt_hour
            + c.harm * costs.harm_unit;
        m[M::cost_per_release] = ratio(m[M::cost_total], c.released as f64);
        RepResult {
            metrics: m,
            stages: stage_results,
            ledger: self.ledger,
            cut_short: self.cut_at.is_some(),
            series: self.series.map(|s| s.rows),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_stay_small() {
        // The heap moves events by value; keep them to two words.
        assert!(std::mem::size_of::<Ev>() <= 16, "{}", std::mem::size_of::<Ev>());
    }
}
