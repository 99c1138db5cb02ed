//! People always on duty serving one FIFO queue: what an audit's auditors, a lot's
//! inspectors and a triage desk's people share. The item type is what each holds.

use std::collections::VecDeque;

use crate::metrics::TimeAvg;

/// A FIFO queue of `T` and the people serving it, with their time averages.
pub struct Desk<T> {
    pub queue: VecDeque<T>,
    /// What each person holds, if busy.
    pub held: Vec<Option<T>>,
    pub busy: TimeAvg,
    pub queue_len: TimeAvg,
}

impl<T> Desk<T> {
    /// `people` people, measured over the window `[w0, w1)`.
    pub fn new(people: usize, w0: f64, w1: f64) -> Desk<T> {
        Desk {
            queue: VecDeque::new(),
            held: (0..people).map(|_| None).collect(),
            busy: TimeAvg::new(w0, w1),
            queue_len: TimeAvg::new(w0, w1),
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
        self.queue.push_back(item);
        self.queue_len.set(now, self.queue.len() as f64);
    }

    /// The next waiting item, taken from the queue at `now`.
    pub fn next(&mut self, now: f64) -> Option<T> {
        let item = self.queue.pop_front()?;
        self.queue_len.set(now, self.queue.len() as f64);
        Some(item)
    }

    /// Person `r` starts on `item` at `now`.
    pub fn start(&mut self, now: f64, r: usize, item: T) {
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
    /// utilization and the mean queue.
    pub fn close(&mut self, end: f64, horizon: f64) -> (f64, f64, f64) {
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
