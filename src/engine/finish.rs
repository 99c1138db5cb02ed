//! The end of a replication: the window's time averages closed, the ledger completed, and
//! the metric row computed.

use super::culture::Source;
use super::{Effort, Series, Sim, StageRt};
use crate::metrics::{ratio, MetricRow, RepResult, StageResult, M};
use crate::stages::StageCounts;

impl<'a> Sim<'a> {
    /// Opens every time average's window (at the end of the warm-up).
    pub(super) fn open_window(&mut self) {
        self.measures.queue.open();
        self.agent.open();
        for s in &mut self.stages {
            s.open();
        }
        if let Some(desk) = &mut self.work {
            desk.open();
        }
    }

    /// Closes the window and computes the metric row.
    pub fn finish(mut self) -> RepResult {
        // A run cut short is measured over its shortened window.
        let end = self.cut_at.map_or(self.end, |t| t.max(self.warmup));
        if self.series.is_some() {
            self.push_series_row(end);
        }
        let mut ledger = std::mem::take(&mut self.measures.ledger);
        // Attempts still queued at the end count their time up to the end.
        for p in self.stages.iter().filter_map(StageRt::queue) {
            {
                for (a, tok) in p.live_entries() {
                    let x = &self.actions[a as usize];
                    if x.waiting && x.token == tok {
                        ledger.queue_time += end - x.enqueued.max(self.warmup);
                    }
                }
            }
        }
        self.measures.queue.finish_at(end);
        ledger.queue_area = self.measures.queue.area();
        // Counted from the attempts themselves, independently of the disposal counters,
        // so that `Ledger::conserved` is a real check.
        ledger.in_system = self.actions.iter().filter(|a| a.live).count() as u64;
        self.measures.ledger = ledger;

        let horizon = end - self.warmup;
        let mut effort = Effort::default();
        let stage_results = (self.stages.iter_mut().zip(&self.measures.counts))
            .zip(&self.measures.blame)
            .map(|((s, counts), blame)| StageResult {
                blame_events: blame.iter().sum::<u32>() as f64,
                blame_max_person: blame.iter().max().map_or(0.0, |&b| b as f64),
                ..s.close(counts, end, horizon, &mut effort)
            })
            .collect();
        // People replaced in the window (turnover), and what hiring them cost.
        let (mut replaced, mut hiring) = (0u64, 0.0);
        for (s, role) in self.stages.iter_mut().zip(&self.wiring.roles) {
            if let Some(c) = role.change() {
                let n = s.replaced(c, end);
                replaced += n as u64;
                hiring += n as f64 * c.experience.map_or(0.0, |e| e.hire);
            }
        }
        let Effort {
            duty,
            desk_duty,
            busy,
            completed,
            waits: merged,
            desk_queue_area,
            desk_queue_time,
        } = effort;
        self.measures.ledger.queue_area += desk_queue_area;
        self.measures.ledger.queue_time += desk_queue_time;
        self.agent.close(end);
        let halt_hours = self.agent.halted.area();
        // The people doing the work by hand are on duty for the whole window.
        let (work_hours, work_utilization) = match &mut self.work {
            Some(desk) => {
                let (on_duty, utilization, _) = desk.close(end, horizon);
                let (area, queued) = desk.little();
                self.measures.ledger.queue_area += area;
                self.measures.ledger.queue_time += queued;
                (on_duty, utilization)
            }
            None => (0.0, f64::NAN),
        };
        let c = &self.measures.tally.all;
        let costs = &self.scenario.costs;
        let mut m = MetricRow::default();
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
        // People's hours: review stages on duty, auditors, and investigations of alarms.
        let people_hours = duty + desk_duty + c.investigation + c.analysis_hours;
        m[M::reviewer_hours] = people_hours;
        m[M::work_hours] = work_hours;
        m[M::work_utilization] = work_utilization;
        m[M::reviewer_utilization] = ratio(busy, duty);
        m[M::reviews_per_reviewer_hour] = ratio(completed as f64, duty);
        m[M::mean_queue] = self.measures.queue.mean();
        m[M::max_queue] = self.measures.queue.max();
        // The merged histogram keeps the exact sum and count of every review stage's waits.
        m[M::mean_wait_min] = merged.as_ref().map_or(f64::NAN, |h| h.mean_min());
        m[M::p95_wait_min] = merged.as_ref().map_or(f64::NAN, |h| h.quantile_min(0.95));
        m[M::latency_mean_min] = self.measures.latency.mean_min();
        m[M::latency_p95_min] = self.measures.latency.quantile_min(0.95);
        m[M::backlog_end] = self.measures.ledger.in_system as f64;
        m[M::lots] = c.lots as f64;
        m[M::lots_rejected] = c.lots_rejected as f64;
        m[M::halts] = c.halts as f64;
        m[M::halt_hours] = halt_hours;
        m[M::false_alarms] = c.false_alarms as f64;
        // The agent's drift: none when people do all the work.
        m[M::drift_hours] = if self.policy.work.all_by_hand(self.measures.tally.classes.len()) {
            0.0
        } else {
            self.agent.drift.hours.area()
        };
        m[M::detection_delay_h] = ratio(c.delay_sum, c.delay_n as f64);
        // The agent's learning: none to speak of when people do all the work (their rate is fixed).
        m[M::learning_factor] = if self.policy.work.all_by_hand(self.measures.tally.classes.len()) {
            1.0
        } else {
            self.agent.learning.mean_factor(&self.scenario.workload)
        };
        // Money: every part, each in its own column; the total is their sum.
        let stage_entries =
            (self.policy.stages.iter().zip(&self.measures.counts)).map(|(s, n)| s.cost * n.entered as f64);
        // A fold from +0, not `sum` (which starts from −0, written "-0" for no stages).
        m[M::cost_review] = people_hours * costs.reviewer_hour;
        let work = &self.policy.work;
        let hour_cost = work.people().map_or(0.0, |p| p.hour_cost);
        m[M::cost_work] = work_hours * hour_cost + c.agent_attempts as f64 * work.cost_per_action;
        m[M::cost_halt] = halt_hours * costs.halt_hour;
        m[M::cost_harm] = c.harm * costs.harm_unit;
        m[M::cost_delay] = self.measures.latency.sum_hours() * costs.delay_hour;
        m[M::cost_stages] = stage_entries.fold(0.0, |a, x| a + x);
        m[M::cost_fixed] = self.policy.cost_per_day * horizon / 24.0;
        m[M::cost_hiring] = hiring;
        m[M::cost_total] = m[M::cost_review]
            + m[M::cost_hiring]
            + m[M::cost_work]
            + m[M::cost_halt]
            + m[M::cost_harm]
            + m[M::cost_delay]
            + m[M::cost_stages]
            + m[M::cost_fixed];
        m[M::cost_per_release] = ratio(m[M::cost_total], c.released as f64);
        m[M::value_released] = c.value;
        m[M::net_value] = c.value - m[M::cost_total];
        m[M::investigation_hours] = c.investigation;
        m[M::severe_escapes] = c.severe_escapes as f64;
        m[M::any_severe] = (c.severe_escapes > 0) as u8 as f64;
        m[M::duty_breaches] = c.duty_breaches as f64;
        m[M::escapes_signed_off] = c.escapes_signed_off as f64;
        m[M::found_later] = c.found_later as f64;
        m[M::blame_events] = c.blame_events as f64;
        let most_blamed = self.measures.blame.iter().flatten().max();
        m[M::blame_max_person] = most_blamed.map_or(0.0, |&b| b as f64);
        m[M::root_cause_analyses] = c.analyses as f64;
        m[M::analysis_hours] = c.analysis_hours;
        m[M::fixes_people] = c.fixes[Source::People as usize] as f64;
        m[M::fixes_tools] = c.fixes[Source::Tools as usize] as f64;
        m[M::fixes_escapes] = c.fixes[Source::Escapes as usize] as f64;
        m[M::people_replaced] = replaced as f64;
        RepResult {
            metrics: m,
            stages: stage_results,
            classes: self.measures.tally.classes,
            kinds: self.measures.tally.defect_kinds,
            ledger: self.measures.ledger,
            cut_short: self.cut_at.is_some(),
            series: self.series.map(Series::into_rows),
        }
    }
}

/// The row of a stage whose people serve a desk (audit, lot inspection, triage) and are on
/// duty for the whole `horizon`; their hours go to `effort` (reviewer hours and cost, not
/// review utilization).
pub(super) fn desk_row<T>(
    desk: &mut crate::stages::Desk<T>,
    counts: &StageCounts,
    end: f64,
    horizon: f64,
    effort: &mut Effort,
) -> StageResult {
    let (on_duty, utilization, mean_queue) = desk.close(end, horizon);
    effort.desk_duty += on_duty;
    let (area, queued) = desk.little();
    effort.desk_queue_area += area;
    effort.desk_queue_time += queued;
    let mut r = counts.result(None);
    r.utilization = utilization;
    r.mean_queue = mean_queue;
    r.mean_wait_min = desk.waits.mean_min();
    r.p95_wait_min = desk.waits.quantile_min(0.95);
    r
}
