//! Time series of one replication (`--timeseries`): counts and time averages per interval.

use super::{Ev, Sim, StageRt};
use crate::metrics::SeriesRow;

/// Cumulative values at a time-series boundary; rows are differences of two snapshots.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Snapshot {
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

pub(super) struct Series {
    step: f64,
    pub(super) last: Snapshot,
    rows: Vec<SeriesRow>,
}

impl Series {
    /// The interval, hours.
    pub(super) fn step(&self) -> f64 {
        self.step
    }

    pub(super) fn start_at(&mut self, t: f64) {
        self.last.t = t;
    }

    pub(super) fn into_rows(self) -> Vec<SeriesRow> {
        self.rows
    }
}

impl<'a> Sim<'a> {
    /// Records time series of this replication in intervals of `step` hours.
    pub fn record_series(&mut self, step: f64) {
        self.series = Some(Series {
            step,
            last: Snapshot::default(),
            rows: Vec::new(),
        });
    }

    pub(super) fn snapshot(&self, t: f64) -> Snapshot {
        let mut s = Snapshot {
            t,
            arrivals: self.measures.tally.all.arrivals,
            releases: self.measures.tally.all.released,
            escapes: self.measures.tally.all.escaped,
            drift: self.agent.drift.hours.area_at(t),
            halted: self.agent.halted.area_at(t),
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
    pub(super) fn mean_defect_prob(&self) -> f64 {
        let w = &self.scenario.workload;
        w.classes
            .iter()
            .enumerate()
            .map(|(i, c)| c.share * self.defect_prob(i))
            .sum()
    }

    pub(super) fn push_series_row(&mut self, t: f64) {
        let now = self.snapshot(t);
        let p = self.mean_defect_prob();
        let Some(s) = &mut self.series else { return };
        let (a, dt) = (s.last, t - s.last.t);
        if dt > 0.0 {
            s.rows.push(SeriesRow {
                t_start_h: a.t,
                t_end_h: t,
                arrivals: now.arrivals - a.arrivals,
                releases: now.releases - a.releases,
                escapes: now.escapes - a.escapes,
                mean_queue: (now.queue - a.queue) / dt,
                busy_reviewers: (now.busy - a.busy) / dt,
                on_duty_reviewers: (now.duty - a.duty) / dt,
                defect_prob: p,
                drift: (now.drift - a.drift) / dt,
                halted: (now.halted - a.halted) / dt,
            });
        }
        s.last = now;
    }

    pub(super) fn on_sample(&mut self) {
        let now = self.now;
        self.push_series_row(now);
        if let Some(s) = &self.series {
            let next = now + s.step;
            if next < self.end {
                self.events.schedule(next, Ev::Sample);
            }
        }
    }
}
