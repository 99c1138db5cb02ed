//! Post-release audits: released attempts sampled into an audit queue, and late catches.

use super::{Action, Effort, Ev, Sim, StageRt};
use crate::metrics::StageResult;
use crate::stages::{AuditItem, AuditPool, Role, StageCounts};

impl<'a> Sim<'a> {
    /// Attempt `a`, just released, is sampled into each audit that takes its class, and
    /// joins the lot of each acceptance sampling stage of released work that takes it.
    #[inline]
    pub(super) fn sample_for_audits(&mut self, a: &Action, surfaced: bool) {
        let mut audits = self.wiring.takes_released;
        while audits != 0 {
            let i = audits.trailing_zeros() as usize;
            audits &= audits - 1;
            let stage = &self.policy.stages[i];
            if stage.classes.contains(a.class as usize)
                && stage.tier.admits(a.triage_flagged)
                && (stage.sample >= 1.0
                    || self.streams.stages[i].enter.uniform_about(a.entity()) < stage.sample)
            {
                let item = self.released_item(a, surfaced);
                match self.wiring.roles[i] {
                    Role::Audit(_) => self.join_audit(i, item),
                    Role::Lots(_) => self.join_released_lot(i, item),
                    Role::Flag(_) | Role::Review(_) | Role::Monitor(_) | Role::Triage(_) => {
                        unreachable!("stage {i} takes no released work")
                    }
                }
            }
        }
    }

    /// What a post-release stage keeps of an attempt released now.
    #[inline]
    fn released_item(&self, a: &Action, surfaced: bool) -> AuditItem {
        AuditItem {
            class: a.class as u16,
            defective: a.defective,
            released: self.now,
            enqueued: self.now,
            z: a.z,
            defect_kind: a.defect_kind,
            entity: a.entity(),
            signer: a.signer.packed(),
            surfaced,
        }
    }

    pub(super) fn audit_pool(&mut self, i: usize) -> &mut AuditPool {
        let StageRt::Audit(p) = &mut self.stages[i] else {
            unreachable!("stage {i} is not an audit")
        };
        p
    }

    pub(super) fn join_audit(&mut self, i: usize, item: AuditItem) {
        let now = self.now;
        if now >= self.warmup {
            self.measures.counts[i].entered += 1;
        }
        match self.audit_pool(i).idle_auditor() {
            Some(k) => self.start_audit(i, k, item, now, true),
            None => self.audit_pool(i).desk.enqueue(now, item),
        }
    }

    /// Auditor `k` starts on `item`, which has waited since `since`; `was_idle`: the
    /// auditor was waiting for work (not finishing one, or back from a break).
    pub(super) fn start_audit(&mut self, i: usize, k: usize, item: AuditItem, since: f64, was_idle: bool) {
        let now = self.now;
        let Role::Audit(a) = self.wiring.roles[i] else {
            unreachable!("stage {i} is not an audit")
        };
        let service = a
            .service
            .sample(&mut self.streams.stages[i].service.draws_about(item.entity));
        let pool = self.audit_pool(i);
        pool.state[k].start(now, service, was_idle, a.fatigue);
        pool.desk.start(now, k, item, since);
        self.events.schedule(
            now + service,
            Ev::AuditDone {
                stage: i as u16,
                auditor: k as u32,
            },
        );
    }

    pub(super) fn on_audit_done(&mut self, i: usize, k: usize) {
        let now = self.now;
        let Role::Audit(a) = self.wiring.roles[i] else {
            unreachable!("stage {i} is not an audit")
        };
        let pool = self.audit_pool(i);
        let item = pool.desk.finish(now, k);
        // The detection of the item just audited, with the fatigue the auditor had when
        // starting it; then a break, the next item, or idle.
        let fresh = a
            .detect
            .fresh(pool.skill[k], item.defect_kind as usize, item.class as usize);
        let fresh = pool.state[k]
            .mind
            .inspect(&a.change, now, fresh, item.defective as u8 as f64)
            .detect;
        let (detect, on_break) = pool.state[k].finish(fresh, a.fatigue);
        match on_break {
            Some(length) => self.events.schedule(
                now + length,
                Ev::BreakEnd {
                    stage: i as u16,
                    reviewer: k as u32,
                },
            ),
            None => self.next_audit(i, k),
        }
        let late = a.late_harm_factor;
        let found = item.defective && self.detects(i, item.entity, detect, item.z);
        self.decided(i, item.entity, item.defective, found);
        let measuring = self.measuring();
        if measuring {
            self.measures.counts[i].passed += !found as u64;
            self.measures.counts[i].flagged += found as u64;
            self.measures.counts[i].caught += found as u64;
            self.measures.counts[i].completed += 1;
        }
        if found {
            self.escape_found(i, &item);
            self.late_catch(&item, late);
        }
    }

    /// Auditor `k` of stage `i` takes the next item, or becomes idle.
    fn next_audit(&mut self, i: usize, k: usize) {
        let now = self.now;
        let pool = self.audit_pool(i);
        match pool.desk.next(now) {
            Some((since, next)) => self.start_audit(i, k, next, since, false),
            None => pool.state[k].idle_since = now,
        }
    }

    /// Auditor `k` of stage `i` is back from a break.
    pub(super) fn on_audit_break_end(&mut self, i: usize, k: usize) {
        self.audit_pool(i).state[k].on_break = false;
        self.next_audit(i, k);
    }
}

/// Closes audit stage `p` at `end`: its row, with its auditors' hours (always on duty
/// for the `horizon`) added to `effort`.
pub(super) fn close(
    p: &mut AuditPool,
    counts: &StageCounts,
    end: f64,
    horizon: f64,
    effort: &mut Effort,
) -> StageResult {
    super::finish::desk_row(&mut p.desk, counts, end, horizon, effort)
}
