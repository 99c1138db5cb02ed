//! The future-event list: a binary min-heap ordered by (time, sequence number).
//!
//! Time is compared with `f64::total_cmp`, a total order, and ties are broken by the order in
//! which events were scheduled (FIFO), so equal-time events always run in the same order.
//! The heap's storage is reused for the whole replication: scheduling allocates only when the
//! heap outgrows its high-water mark.

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
}

impl<E> EventQueue<E> {
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            seq: 0,
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

    #[inline]
    pub fn pop(&mut self) -> Option<(f64, E)> {
        self.heap.pop().map(|e| (e.time, e.event))
    }

    #[inline]
    pub fn peek_time(&self) -> Option<f64> {
        self.heap.peek().map(|e| e.time)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
    }
}
