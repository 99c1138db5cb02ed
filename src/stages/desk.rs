//! People always on duty serving one FIFO queue: what an audit's auditors, a lot's
//! inspectors and a triage desk's people share. The item type is what each holds.
//! [`Person`] is one of them who tires ([`Fatigue`]): auditors and lot inspectors.

use std::collections::VecDeque;

use super::change::Mind;
use super::review::Fatigue;
use crate::metrics::{DurationHistogram, TimeAvg};

/// A FIFO queue of `T` and the people serving it, with their time averages and the waits
/// of the items started in the measured window.
pub struct Desk<T> {
    /// Waiting items, each with the time it joined the queue.
    pub queue: VecDeque<(f64, T)>,
    /// What each person holds, if busy.
    pub held: Vec<Option<T>>,
    pub busy: TimeAvg,
    pub queue_len: TimeAvg,
    /// Queue waits of the items started in the window (zero for those started at once).
    pub waits: DurationHistogram,
    /// Time items spent in the queue inside the window: with [`Desk::queue_len`]'s area, the
    /// two sides of Little's law on the sample path ([`Desk::little`]).
    queued: f64,
    window_start: f64,
}

impl<T> Desk<T> {
    /// `people` people, measured over the window `[w0, w1)`.
    pub fn new(people: usize, w0: f64, w1: f64) -> Desk<T> {
        Desk {
            queue: VecDeque::new(),
            held: (0..people).map(|_| None).collect(),
            busy: TimeAvg::new(w0, w1),
            queue_len: TimeAvg::new(w0, w1),
            waits: DurationHistogram::new(),
            queued: 0.0,
            window_start: w0,
        }
    }

    /// Opens the time averages' window (at the end of the warm-up).
    pub fn open(&mut self) {
        self.queue_len.open();
        self.busy.open();
    }

    /// A person not busy, lowest index first.
    pub fn idle(&self) -> Option<usize> {
        self.held.iter().position(Option::is_none)
    }

    /// `item` waits at `now`.
    pub fn enqueue(&mut self, now: f64, item: T) {
        self.queue.push_back((now, item));
        self.queue_len.set(now, self.queue.len() as f64);
    }

    /// The next waiting item, taken from the queue at `now`, and when it joined the queue.
    pub fn next(&mut self, now: f64) -> Option<(f64, T)> {
        let item = self.queue.pop_front()?;
        self.queue_len.set(now, self.queue.len() as f64);
        self.queued += (now - item.0.max(self.window_start)).max(0.0);
        Some(item)
    }

    /// Person `r` starts at `now` on `item`, which has waited since `since` (`now` if it
    /// did not wait).
    pub fn start(&mut self, now: f64, r: usize, item: T, since: f64) {
        if now >= self.window_start {
            self.waits.record(now - since);
        }
        self.held[r] = Some(item);
        self.busy.add(now, 1.0);
    }

    /// Person `r` finishes at `now`: the item it held.
    pub fn finish(&mut self, now: f64, r: usize) -> T {
        let item = self.held[r].take().expect("the person was busy");
        self.busy.add(now, -1.0);
        item
    }

    /// Closes the time averages at `end`; the people's hours on duty over `horizon`, their
    /// utilization and the mean queue (the waits are in [`Desk::waits`]).
    pub fn close(&mut self, end: f64, horizon: f64) -> (f64, f64, f64) {
        // Items still waiting count their time up to the end.
        for (since, _) in &self.queue {
            self.queued += (end - since.max(self.window_start)).max(0.0);
        }
        self.queue_len.finish_at(end);
        self.busy.finish_at(end);
        let on_duty = self.held.len() as f64 * horizon;
        (
            on_duty,
            crate::metrics::ratio(self.busy.area(), on_duty),
            self.queue_len.mean(),
        )
    }
}

impl<T> Desk<T> {
    /// After [`Desk::close`]: the area under the queue-length curve and the time items
    /// spent queued, both inside the window; equal on every sample path (Little's law).
    pub fn little(&self) -> (f64, f64) {
        (self.queue_len.area(), self.queued)
    }
}

/// One person at a desk who tires: time on task since the last break or long enough idle
/// spell (fatigue), and breaks. Auditors and lot inspectors are people as reviewers are.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    /// Hours on task since the last break or long enough idle spell.
    pub on_task: f64,
    pub idle_since: f64,
    /// The service time of the item in hand.
    pub service: f64,
    pub on_break: bool,
    /// What they have seen and how able they are (people who change).
    pub mind: Mind,
}

impl Person {
    /// The people of a desk, idle from time 0, one for each of `minds`.
    pub fn crew(minds: Vec<Mind>) -> Vec<Person> {
        (minds.into_iter())
            .map(|mind| Person {
                on_task: 0.0,
                idle_since: 0.0,
                service: 0.0,
                on_break: false,
                mind,
            })
            .collect()
    }

    /// Starts an item of `service` hours at `now`, after an idle spell if `was_idle`
    /// ([`Fatigue::after_idle`], as for a reviewer).
    pub fn start(&mut self, now: f64, service: f64, was_idle: bool, fatigue: Option<Fatigue>) {
        if let (Some(f), true) = (fatigue, was_idle) {
            self.on_task = f.after_idle(self.on_task, now - self.idle_since);
        }
        self.service = service;
    }

    /// Finishes the item in hand: the detection it had (`fresh` worn down by the time on
    /// task when it started), and the length of the break now due, if one is.
    pub fn finish(&mut self, fresh: f64, fatigue: Option<Fatigue>) -> (f64, Option<f64>) {
        let detect = fatigue.map_or(fresh, |f| f.detect(fresh, self.on_task));
        self.on_task += self.service;
        let on_break = (fatigue)
            .and_then(|f| f.break_after.zip(f.break_length))
            .filter(|(after, _)| self.on_task >= *after - super::review::ON_TASK_EPS)
            .map(|(_, length)| length);
        if on_break.is_some() {
            self.on_task = 0.0;
            self.on_break = true;
        }
        (detect, on_break)
    }
}

/// The first of `people` at `desk` neither busy nor on a break, lowest index first.
pub fn idle_person<T>(desk: &Desk<T>, people: &[Person]) -> Option<usize> {
    (desk.held.iter().zip(people)).position(|(a, s)| a.is_none() && !s.on_break)
}
