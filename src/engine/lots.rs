//! Lot acceptance sampling: attempts held in lots, a random sample inspected, the lot
//! accepted or inspected in full (rectifying inspection), then released onward.

use super::culture::Signer;
use super::{Ev, Sim, StageRt};
use crate::rng::{purpose, uniform};
use crate::stages::desk::idle_person;
use crate::stages::{AcceptanceSampling, AuditItem, Lot, LotPool, Role};

impl<'a> Sim<'a> {
    fn lot_cfg(&self, i: usize) -> &'a AcceptanceSampling {
        let Role::Lots(a) = self.wiring.roles[i] else {
            unreachable!("stage {i} is not acceptance sampling")
        };
        a
    }

    fn lot_pool(&mut self, i: usize) -> &mut LotPool {
        let StageRt::Lots(p) = &mut self.stages[i] else {
            unreachable!("stage {i} is not acceptance sampling")
        };
        p
    }

    /// Attempt `id` joins the lot being filled at stage `i` (held until the lot is
    /// released); a full lot is sampled.
    pub(super) fn join_lot(&mut self, id: u32, i: usize) {
        let a = self.actions[id as usize];
        let item = AuditItem {
            class: a.class as u16,
            defective: a.defective,
            released: f64::NAN, // not released yet
            enqueued: self.now,
            z: a.z,
            defect_kind: a.defect_kind,
            entity: a.entity(),
            signer: a.signer.packed(),
            surfaced: false,
        };
        self.fill_lot(i, Some(id), item);
    }

    /// A released attempt joins the lot being filled at stage `i` (sampling released work).
    pub(super) fn join_released_lot(&mut self, i: usize, item: AuditItem) {
        if self.now >= self.warmup {
            self.measures.counts[i].entered += 1;
        }
        self.fill_lot(i, None, item);
    }

    fn fill_lot(&mut self, i: usize, id: Option<u32>, item: AuditItem) {
        let cfg = self.lot_cfg(i);
        let pool = self.lot_pool(i);
        pool.filling.push((id, item));
        if pool.filling.len() == cfg.lot as usize {
            self.close_lot(i);
        }
    }

    /// The lot is full: draw its sample (the first `n` after a partial Fisher–Yates
    /// shuffle, keyed by the attempt that opened the lot) and queue the sample's inspections.
    fn close_lot(&mut self, i: usize) {
        let cfg = self.lot_cfg(i);
        let mut items = std::mem::take(&mut self.lot_pool(i).filling);
        let (size, n) = (items.len(), cfg.n as usize);
        let mut rng = self.streams.stages[i].keys.draws(items[0].1.entity, purpose::LOT);
        for k in 0..n {
            let j = k + ((uniform(&mut rng) * (size - k) as f64) as usize).min(size - k - 1);
            items.swap(k, j);
        }
        if self.measuring() {
            self.measures.tally.all.lots += 1;
        }
        let pool = self.lot_pool(i);
        pool.filling = Vec::with_capacity(size);
        let l = pool.add_lot(Lot {
            items,
            found: vec![false; size],
            by: vec![0; size],
            found_in_sample: 0,
            pending: n as u32,
            rejected: false,
        });
        for k in 0..n {
            self.queue_inspection(i, l, k as u32);
        }
    }

    fn queue_inspection(&mut self, i: usize, l: u32, k: u32) {
        let now = self.now;
        let pool = self.lot_pool(i);
        match idle_person(&pool.desk, &pool.people) {
            Some(r) => self.start_inspection(i, r, l, k, now, true),
            None => pool.desk.enqueue(now, (l, k)),
        }
    }

    /// Inspector `r` starts on item `k` of lot `l`, queued since `since`; `was_idle`: the
    /// inspector was waiting for work.
    fn start_inspection(&mut self, i: usize, r: usize, l: u32, k: u32, since: f64, was_idle: bool) {
        let now = self.now;
        let cfg = self.lot_cfg(i);
        let pool = self.lot_pool(i);
        let entity = pool.lots[l as usize].as_ref().expect("a live lot").items[k as usize]
            .1
            .entity;
        let service = cfg
            .service
            .sample(&mut self.streams.stages[i].service.draws_about(entity))
            * (1.0 + self.policy.culture.slower);
        let pool = self.lot_pool(i);
        pool.people[r].start(now, service, was_idle, cfg.fatigue);
        pool.desk.start(now, r, (l, k), since);
        self.events.schedule(
            now + service,
            Ev::InspectionDone {
                stage: i as u16,
                inspector: r as u32,
            },
        );
    }

    /// Inspector `r` of stage `i` finishes an item: it is found defective or not; when the
    /// sample is done the lot is accepted or fully inspected, and when that is done too it
    /// is released.
    pub(super) fn on_inspection_done(&mut self, i: usize, r: usize) {
        let now = self.now;
        let cfg = self.lot_cfg(i);
        let pool = self.lot_pool(i);
        let (l, k) = pool.desk.finish(now, r);
        let (held, item) = pool.lots[l as usize].as_ref().expect("a live lot").items[k as usize];
        // The detection the inspector had when starting the item; then a break, the next
        // item, or idle.
        let person = &mut pool.people[r];
        let fresh = cfg.detect.of(item.defect_kind as usize, item.class as usize);
        let fresh = person
            .mind
            .inspect(&cfg.change, now, fresh, item.defective as u8 as f64)
            .detect;
        let (detect, on_break) = person.finish(fresh, cfg.fatigue);
        match on_break {
            Some(length) => self.events.schedule(
                now + length,
                Ev::BreakEnd {
                    stage: i as u16,
                    reviewer: r as u32,
                },
            ),
            None => self.next_inspection(i, r),
        }
        let found = item.defective && self.detects(i, item.entity, detect, item.z);
        self.decided(i, item.entity, item.defective, found);
        if self.measuring() {
            self.measures.counts[i].completed += 1;
            self.measures.counts[i].flagged += found as u64;
            self.measures.counts[i].caught += found as u64;
        }
        if found {
            match held {
                Some(_) => self.learn(i, item.class as usize, item.entity),
                None => {
                    self.escape_found(i, &item);
                    self.late_catch(&item, cfg.late_harm_factor);
                }
            }
        }
        let measuring = self.measuring();
        let lot = self.lot_pool(i).lots[l as usize].as_mut().expect("a live lot");
        lot.found[k as usize] = found;
        lot.by[k as usize] = r as u32;
        lot.found_in_sample += (found && k < cfg.n) as u32;
        lot.pending -= 1;
        if lot.pending > 0 {
            return;
        }
        let size = lot.items.len() as u32;
        if !lot.rejected && lot.found_in_sample > cfg.c && size > cfg.n {
            // Rejected: inspect the rest of the lot.
            lot.rejected = true;
            lot.pending = size - cfg.n;
            if measuring {
                self.measures.tally.all.lots_rejected += 1;
            }
            for k in cfg.n..size {
                self.queue_inspection(i, l, k);
            }
            return;
        }
        if !lot.rejected && lot.found_in_sample > cfg.c && measuring {
            self.measures.tally.all.lots_rejected += 1; // the sample was the whole lot
        }
        self.release_lot(i, l);
    }

    /// Inspector `r` of stage `i` takes the next item, or becomes idle.
    fn next_inspection(&mut self, i: usize, r: usize) {
        let now = self.now;
        let pool = self.lot_pool(i);
        match pool.desk.next(now) {
            Some((since, (l, k))) => self.start_inspection(i, r, l, k, since, false),
            None => pool.people[r].idle_since = now,
        }
    }

    /// Inspector `r` of stage `i` is back from a break.
    pub(super) fn on_lot_break_end(&mut self, i: usize, r: usize) {
        self.lot_pool(i).people[r].on_break = false;
        self.next_inspection(i, r);
    }

    /// The lot's inspection is done: held defects found go back to the agent, the rest
    /// of a held lot on; a lot of released work is done with.
    fn release_lot(&mut self, i: usize, l: u32) {
        let lot = self.lot_pool(i).lots[l as usize].take().expect("a live lot");
        let measuring = self.measuring();
        // The items an inspector looked at: the sample, or every item of a rejected lot.
        let inspected = if lot.rejected {
            lot.items.len()
        } else {
            self.lot_cfg(i).n as usize
        };
        for (k, (&(held, _), &found)) in lot.items.iter().zip(&lot.found).enumerate() {
            match held {
                Some(id) if found => self.reject(id),
                Some(id) => {
                    if measuring {
                        self.measures.counts[i].passed += 1;
                    }
                    if k < inspected {
                        self.actions[id as usize].signer = Signer::person(i, lot.by[k] as usize);
                    }
                    self.route(id, i + 1);
                }
                None => {
                    if measuring {
                        self.measures.counts[i].passed += !found as u64;
                    }
                }
            }
        }
    }
}
