//! The future-event list: a binary min-heap ordered by (time, sequence number).
//!
//! Time is compared with `f64::total_cmp`, a total order, and ties are broken by the order in
//! which events were scheduled (FIFO), so equal-time events always run in the same order.
//! The heap's storage is reused for the whole replication: scheduling allocates only when the
//! heap outgrows its high-water mark.
//!
//! One event stream may bypass the heap: the *side slot* holds a single pending event (the
//! engine's next arrival, half of all events) and `pop` compares it with the heap's top by
//! the same (time, sequence) order, so the order of events is exactly that of one heap.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    time: f64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time
            .total_cmp(&self.time)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    seq: u64,
    side: Option<Entry<E>>,
}

impl<E> EventQueue<E> {
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            seq: 0,
            side: None,
        }
    }

    #[inline]
    pub fn schedule(&mut self, time: f64, event: E) {
        debug_assert!(!time.is_nan(), "event scheduled at NaN");
        self.heap.push(Entry {
            time,
            seq: self.seq,
            event,
        });
        self.seq += 1;
    }

    /// Schedules the event of the side slot, which must be empty.
    #[inline]
    pub fn schedule_side(&mut self, time: f64, event: E) {
        debug_assert!(self.side.is_none(), "side slot already holds an event");
        debug_assert!(!time.is_nan(), "event scheduled at NaN");
        self.side = Some(Entry {
            time,
            seq: self.seq,
            event,
        });
        self.seq += 1;
    }

    /// Whether the side slot's event comes before the heap's first.
    #[inline]
    fn side_first(&self) -> bool {
        match (&self.side, self.heap.peek()) {
            (Some(s), Some(h)) => s > h, // `>` is "earlier" in the reversed order
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(f64, E)> {
        let e = if self.side_first() {
            self.side.take()
        } else {
            self.heap.pop()
        };
        e.map(|e| (e.time, e.event))
    }

    #[inline]
    pub fn peek_time(&self) -> Option<f64> {
        if self.side_first() {
            self.side.as_ref().map(|e| e.time)
        } else {
            self.heap.peek().map(|e| e.time)
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.side.is_some() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.side.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ties_run_in_schedule_order() {
        let mut q = EventQueue::with_capacity(4);
        q.schedule(1.0, 'b');
        q.schedule(0.5, 'a');
        q.schedule(1.0, 'c');
        q.schedule(1.0, 'd');
        let order: String = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, "abcd");
    }

    proptest! {
        #[test]
        fn pops_in_time_then_sequence_order(times in proptest::collection::vec(0u8..20, 0..200)) {
            let mut q = EventQueue::with_capacity(0);
            for (i, t) in times.iter().enumerate() {
                q.schedule(*t as f64 * 0.25, i);
            }
            let mut expected: Vec<(u8, usize)> = times.iter().cloned().zip(0..).collect();
            expected.sort();
            let got: Vec<usize> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
            prop_assert_eq!(got, expected.into_iter().map(|(_, i)| i).collect::<Vec<_>>());
        }

        /// Events through the side slot interleave with heap events exactly as if all were in
        /// one heap: by time, then by scheduling order.
        #[test]
        fn side_slot_keeps_the_order(ops in proptest::collection::vec((0u8..10, any::<bool>()), 1..200)) {
            let mut q = EventQueue::with_capacity(0);
            let mut all: Vec<(u8, usize)> = Vec::new();
            let mut got = Vec::new();
            let mut now = 0u8;
            for (i, (dt, side)) in ops.iter().enumerate() {
                let t = now.saturating_add(*dt);
                if *side && q.side.is_none() {
                    q.schedule_side(t as f64, i);
                } else {
                    q.schedule(t as f64, i);
                }
                all.push((t, i));
                // Interleave pops, as a simulation does; times never go backwards.
                if i % 3 == 2 {
                    if let Some((t, e)) = q.pop() {
                        now = t as u8;
                        got.push(e);
                    }
                }
            }
            got.extend(std::iter::from_fn(|| q.pop().map(|(_, e)| e)));
            // Reference: replay through a plain heap with the same schedule and pops.
            let mut r = EventQueue::with_capacity(0);
            let mut want = Vec::new();
            for (i, (t, e)) in all.iter().enumerate() {
                r.schedule(*t as f64, *e);
                if i % 3 == 2 {
                    if let Some((_, e)) = r.pop() {
                        want.push(e);
                    }
                }
            }
            want.extend(std::iter::from_fn(|| r.pop().map(|(_, e)| e)));
            prop_assert_eq!(got, want);
        }
    }
}
