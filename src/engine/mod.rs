//! The discrete-event engine: one replication of one policy.
//!
//! An action arrives, becomes an attempt and walks the policy's pre-release stages in order
//! (`Sim::route`); checks decide at once or after their delay, reviews queue for a
//! reviewer. An attempt ends released, rejected (and maybe reworked into a new attempt) or
//! dropped. Released attempts may be sampled by audits; monitors watch the findings of
//! stages and halt the agent on an alarm; drift and learning move the defect rate. Time is
//! in hours; events at equal times run in the order they were scheduled.

mod agent;
mod attempt;
mod audit;
mod culture;
mod detection;
mod finish;
mod flag;
mod lots;
mod monitor;
mod production;
mod queue;
mod review;
mod series;
mod streams;
mod tally;
mod trace;
mod triage;
mod wiring;

use agent::Agent;
use detection::Defects;

pub use queue::{EventQueue, Next};
pub use trace::{decisions, Decision};

use series::Series;
use streams::{StageStreams, Streams};
use tally::Tally;
use wiring::Wiring;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::metrics::{DurationHistogram, Ledger, RepResult, StageResult, TimeAvg};
use crate::rng::{attempt_entity, domain, purpose, Ahead, Keyed, ATTEMPT_BITS};
use crate::scenario::{Policy, Scenario};
use crate::stages::change::minds;
use crate::stages::{
    AuditPool, Change, ChartState, Desk, LotPool, Mind, ReviewPool, Role, StageCounts, TriageDesk,
};
use crate::workload::{Actions, Arrivals};

#[derive(Debug, Clone, Copy)]
enum Ev {
    /// The delay of an automated stage (a check or triage with a `service` time) ends.
    AutomatedDone {
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
        group: u16,
    },
    ShiftEnd {
        stage: u16,
        group: u16,
    },
    InspectionDone {
        stage: u16,
        inspector: u32,
    },
    TriageDone {
        stage: u16,
        person: u32,
    },
    AuditDone {
        stage: u16,
        auditor: u32,
    },
    /// A person doing the work by hand finishes an attempt.
    WorkDone {
        person: u32,
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

/// An action and its current attempt.
#[derive(Debug, Clone, Copy, Default)]
struct Action {
    created: f64,
    /// A full word, so that it is stored and loaded whole (docs/performance.md).
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
    /// Kind of the attempt's defect (drawn for every attempt when there are several kinds).
    defect_kind: u8,
    /// Triage flagged the action (decided on its first attempt, kept on rework).
    triage_flagged: bool,
    /// Triage has decided for this action.
    triage_done: bool,
    /// The person who last signed this attempt off (a review approved it, or a held lot's
    /// inspector inspected it), or nobody: what a class's duty asks, and who carries an
    /// escape under a culture of blame.
    signer: culture::Signer,
    /// Human stages this attempt was escalated to (bit per stage index).
    escalated: u64,
    /// When the attempt joined its current queue.
    enqueued: f64,
    /// Changes whenever the attempt leaves a queue, so stale timeouts and queue entries
    /// can be recognised.
    token: u32,
    /// Latent difficulty of the attempt's defect (correlated detection).
    z: f64,
    /// The action's number: its arrival index in the replication, what its draws are keyed by.
    number: u64,
}

impl Action {
    /// What the draws about this attempt are keyed by.
    #[inline(always)]
    fn entity(&self) -> u64 {
        attempt_entity(self.number, self.attempt)
    }
}

/// A stage's run-time state.
enum StageRt {
    /// Flagging stages and automated triage: infinite servers, nothing to keep.
    Automated,
    Review(Box<ReviewPool>),
    Audit(Box<AuditPool>),
    Monitor(ChartState),
    Lots(Box<LotPool>),
    /// People who triage; each holds an attempt.
    TriageDesk(Box<TriageDesk>),
}

/// What the stages' people did over the window, summed over stages in order.
#[derive(Default)]
struct Effort {
    /// On-duty hours of review stages.
    duty: f64,
    /// On-duty hours of the desks (auditors, lot inspectors, triage staff): they count in
    /// reviewer hours and cost, not in review utilization or throughput.
    desk_duty: f64,
    /// Busy reviewer hours of review stages.
    busy: f64,
    /// Reviews completed.
    completed: u64,
    /// Every review stage's waits, merged (exact sum and count, histogram quantiles).
    waits: Option<DurationHistogram>,
    /// The desks' queue areas and queued times (Little's law, into the ledger).
    desk_queue_area: f64,
    desk_queue_time: f64,
}

impl StageRt {
    /// The run-time state of a stage of `role`, for the window from `warmup` to `end`;
    /// `keys` are the stage's, from which its people's own detection is drawn (only with a
    /// beta `detect`).
    fn new(role: Role, keys: Keyed, class_harm: &[f64], warmup: f64, end: f64) -> StageRt {
        match role {
            Role::Flag(_) => StageRt::Automated,
            Role::Triage(t) => match t.people {
                Some(people) => {
                    let minds = minds(&t.change, keys, people as usize, warmup);
                    StageRt::TriageDesk(Box::new(TriageDesk::new(minds, warmup, end)))
                }
                None => StageRt::Automated,
            },
            Role::Review(h) => {
                let (n, own) = (h.reviewers as usize, h.detect.draw(h.reviewers as usize, keys));
                let minds = minds(&h.change, keys, n, warmup);
                StageRt::Review(Box::new(ReviewPool::new(h, &own, minds, class_harm, warmup, end)))
            }
            Role::Lots(a) => {
                let minds = minds(&a.change, keys, a.reviewers as usize, warmup);
                StageRt::Lots(Box::new(LotPool::new(minds, a.lot, warmup, end)))
            }
            Role::Audit(a) => {
                let own = a.detect.draw(a.reviewers as usize, keys);
                let minds = minds(&a.change, keys, a.reviewers as usize, warmup);
                StageRt::Audit(Box::new(AuditPool::new(own, minds, warmup, end)))
            }
            Role::Monitor(m) => StageRt::Monitor(ChartState::new(m.chart, m.auto)),
        }
    }

    /// Opens the stage's time averages (at the end of the warm-up).
    fn open(&mut self) {
        match self {
            StageRt::Review(p) => p.open(),
            StageRt::Audit(p) => p.desk.open(),
            StageRt::Lots(p) => p.desk.open(),
            StageRt::TriageDesk(p) => p.desk.open(),
            StageRt::Automated | StageRt::Monitor(_) => {}
        }
    }

    /// Brings the stage's people up to `end` under `change` (turnover): how many were
    /// replaced in the window.
    fn replaced(&mut self, change: &Change, end: f64) -> u32 {
        let minds: Vec<&mut Mind> = match self {
            StageRt::Review(p) => p.reviewers.iter_mut().map(|r| &mut r.mind).collect(),
            StageRt::Audit(p) => p.state.iter_mut().map(|r| &mut r.mind).collect(),
            StageRt::Lots(p) => p.people.iter_mut().map(|r| &mut r.mind).collect(),
            StageRt::TriageDesk(p) => p.people.iter_mut().map(|r| &mut r.mind).collect(),
            StageRt::Automated | StageRt::Monitor(_) => Vec::new(),
        };
        (minds.into_iter())
            .map(|m| {
                m.catch_up(change, end);
                m.replaced
            })
            .sum()
    }

    /// The stage's review queue, if it has one (its waiting attempts count in the ledger).
    fn queue(&self) -> Option<&ReviewPool> {
        match self {
            StageRt::Review(p) => Some(p),
            StageRt::Automated
            | StageRt::Audit(_)
            | StageRt::Monitor(_)
            | StageRt::Lots(_)
            | StageRt::TriageDesk(_) => None,
        }
    }

    /// Closes the stage at `end` (`horizon` hours after the window opened): its row of
    /// stages.csv; its people's hours go to `effort`.
    fn close(&mut self, counts: &StageCounts, end: f64, horizon: f64, effort: &mut Effort) -> StageResult {
        match self {
            StageRt::Automated => counts.result(None),
            StageRt::Review(p) => review::close(p, counts, end, effort),
            StageRt::Audit(p) => audit::close(p, counts, end, horizon, effort),
            StageRt::Lots(p) => finish::desk_row(&mut p.desk, counts, end, horizon, effort),
            StageRt::TriageDesk(p) => finish::desk_row(&mut p.desk, counts, end, horizon, effort),
            StageRt::Monitor(_) => monitor::close(counts),
        }
    }
}

/// What the window measures: outcomes, each stage's counts, the conservation ledger, the
/// review queues and the latency of released attempts.
struct Measures {
    /// The window's outcomes: in all, per class and per defect kind.
    tally: Tally,
    counts: Vec<StageCounts>,
    ledger: Ledger,
    /// Total waiting over all review stages.
    queue: TimeAvg,
    latency: DurationHistogram,
    /// Blame events by stage and person (grown as people are blamed).
    blame: Vec<Vec<u32>>,
}

pub struct Sim<'a> {
    scenario: &'a Scenario,
    policy: &'a Policy,
    /// How the policy's stages connect: roles, watchers, where released work goes.
    wiring: Wiring<'a>,
    now: f64,
    warmup: f64,
    end: f64,
    events: EventQueue<Ev>,
    /// Actions by id (a slab: ids of finished actions are reused from `free`).
    actions: Vec<Action>,
    free: Vec<u32>,
    streams: Streams,
    /// How attempts' defects are drawn and decided.
    defects: Defects,
    /// Each stage's run-time state.
    stages: Vec<StageRt>,
    /// The agent's drift, learning and halts.
    agent: Agent,
    /// The people doing the work by hand, each holding an attempt; `None`: the agent.
    work: Option<Box<Desk<u32>>>,
    measures: Measures,
    /// When the run stopped early because the backlog passed `run.max_backlog`.
    cut_at: Option<f64>,

    series: Option<Series>,
    /// Every layer's decision, when asked for (`decisions`).
    trace: Option<Vec<Decision>>,
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
    // The portable math library must be in the program (see `crate::math`).
    std::hint::black_box(crate::math::linked as fn() -> f64);
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
        // Each review stage with timeouts gets an event-queue lane for them.
        let mut events = EventQueue::with_capacity(0);
        let wiring = Wiring::new(policy, w.detection_correlation, &mut events);
        let stage_keys: Vec<Keyed> = (policy.stages.iter())
            .map(|s| Keyed::of_name(seed, replication, &s.name))
            .collect();
        let stages = (wiring.roles.iter().zip(&stage_keys))
            .map(|(&role, &keys)| StageRt::new(role, keys, &class_harm, warmup, end))
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
            wiring,
            actions: Vec::with_capacity(expected_in_system),
            free: Vec::with_capacity(expected_in_system),
            streams: Streams {
                arrivals: Arrivals::new(w, seed, replication),
                actions: Actions::new(w, seed, replication),
                rework: Keyed::new(seed, replication, domain::REWORK),
                stages: stage_keys.into_iter().map(StageStreams::new).collect(),
                work: Ahead::new(
                    Keyed::new(seed, replication, domain::WORK),
                    purpose::SERVICE,
                    ATTEMPT_BITS,
                    1,
                ),
            },
            defects: Defects::new(scenario),
            stages,
            agent: Agent::new(w, Keyed::new(seed, replication, domain::DRIFT), warmup, end),
            work: (policy.work.people()).map(|p| Box::new(Desk::new(p.people as usize, warmup, end))),
            measures: Measures {
                tally: Tally::new(w.classes.len(), w.kinds.len()),
                counts: vec![StageCounts::default(); policy.stages.len()],
                ledger: Ledger::default(),
                queue: TimeAvg::new(warmup, end),
                latency: DurationHistogram::new(),
                blame: vec![Vec::new(); policy.stages.len()],
            },
            cut_at: None,
            series: None,
            trace: None,
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
        let first = self.streams.arrivals.next_time();
        self.events.schedule_side(first);
        self.schedule_drift_onset();
        if let Some(s) = &mut self.series {
            s.start_at(self.warmup);
            self.events.schedule(self.warmup + s.step(), Ev::Sample);
        }
        self.start_shifts();
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
                Ev::AutomatedDone { action } => {
                    let i = self.actions[action as usize].stage as usize;
                    self.on_automated_done(action, i);
                }
                Ev::ReviewDone { stage, reviewer } => self.on_review_done(stage as usize, reviewer as usize),
                Ev::Timeout { action, token } => self.on_timeout(action, token),
                Ev::Rework { action } => self.on_rework(action),
                Ev::BreakEnd { stage, reviewer } => {
                    let i = stage as usize;
                    match self.wiring.roles[i] {
                        Role::Review(_) => self.on_break_end(i, reviewer as usize),
                        Role::Audit(_) => self.on_audit_break_end(i, reviewer as usize),
                        Role::Lots(_) => self.on_lot_break_end(i, reviewer as usize),
                        Role::Triage(_) => self.on_triage_break_end(i, reviewer as usize),
                        Role::Flag(_) | Role::Monitor(_) => {
                            unreachable!("stage {i} takes no breaks")
                        }
                    }
                }
                Ev::ShiftStart { stage, group } => self.on_shift_start(stage as usize, group as usize),
                Ev::ShiftEnd { stage, group } => self.on_shift_end(stage as usize, group as usize),
                Ev::AuditDone { stage, auditor } => self.on_audit_done(stage as usize, auditor as usize),
                Ev::WorkDone { person } => self.on_work_done(person as usize),
                Ev::TriageDone { stage, person } => self.on_triage_done(stage as usize, person as usize),
                Ev::InspectionDone { stage, inspector } => {
                    self.on_inspection_done(stage as usize, inspector as usize)
                }
                Ev::DriftOnset => self.on_drift_onset(),
                Ev::DriftEnd { generation } => self.on_drift_end(generation),
                Ev::Sample => self.on_sample(),
                Ev::WindowOpens => self.open_window(),
                Ev::HaltEnd => self.on_halt_end(),
            }
        }
        self.now = self.end;
        true
    }

    /// Moves attempt `id` through stages `from..` until it waits somewhere or leaves.
    #[inline(always)]
    fn route(&mut self, id: u32, from: usize) {
        if from >= self.wiring.pre_release_end {
            self.release(id);
        } else {
            self.route_through(id, from);
        }
    }

    /// [`Sim::route`] when pre-release stages remain.
    fn route_through(&mut self, id: u32, from: usize) {
        let policy = self.policy;
        for (i, stage) in policy.stages.iter().enumerate().skip(from) {
            let role = self.wiring.roles[i];
            if !role.pre_release() {
                continue; // audits and monitors act after release
            }
            let (escalated, class, triaged) = {
                let a = &self.actions[id as usize];
                (a.escalated, a.class, a.triage_flagged)
            };
            let enters = escalated >> i & 1 == 1
                || (stage.classes.contains(class as usize)
                    && stage.tier.admits(triaged)
                    && (stage.sample >= 1.0 || self.enters(i, id) < stage.sample));
            if !enters {
                continue;
            }
            if self.measuring() {
                self.measures.counts[i].entered += 1;
            }
            self.actions[id as usize].stage = i as u16;
            match role {
                Role::Flag(flag) => match &flag.delay {
                    Some(d) => {
                        let delay = d.sample(&mut self.stage_draws(i, id, purpose::DELAY));
                        self.events
                            .schedule(self.now + delay, Ev::AutomatedDone { action: id });
                        return;
                    }
                    None => {
                        if !self.flag_outcome(id, i) {
                            return;
                        }
                    }
                },
                Role::Review(_) => {
                    self.join_review(id, i);
                    return;
                }
                Role::Lots(_) => {
                    self.join_lot(id, i);
                    return;
                }
                Role::Triage(t) => match (t.people, &t.service) {
                    // People decide when they finish the action (tired or not).
                    (Some(_), _) => {
                        self.join_desk(id, i);
                        return;
                    }
                    (None, Some(d)) => {
                        self.triage(id, i, t, |flag| flag);
                        let delay = d.sample(&mut self.stage_draws(i, id, purpose::DELAY));
                        self.events
                            .schedule(self.now + delay, Ev::AutomatedDone { action: id });
                        return;
                    }
                    (None, None) => self.triage(id, i, t, |flag| flag),
                },
                Role::Audit(_) | Role::Monitor(_) => unreachable!("skipped above"),
            }
        }
        self.release(id);
    }

    /// The delay of automated stage `i` (a flagging stage, or triage without people) ends
    /// for attempt `id`.
    fn on_automated_done(&mut self, id: u32, i: usize) {
        match self.wiring.roles[i] {
            Role::Flag(_) => self.decide_flag(id, i),
            Role::Triage(_) => self.route(id, i + 1),
            Role::Review(_) | Role::Audit(_) | Role::Monitor(_) | Role::Lots(_) => {
                unreachable!("stage {i} has no automated delay")
            }
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
