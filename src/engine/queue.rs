//! The future-event list: a binary min-heap ordered by (time, sequence number).
//!
//! Time is compared with `f64::total_cmp`, a total order, and ties are broken by the order in
//! which events were scheduled (FIFO), so equal-time events always run in the same order.
//! The heap's storage is reused for the whole replication: scheduling allocates only when the
//! heap outgrows its high-water mark.
//!
//! Two kinds of event stream bypass the heap, ordered by the same (time, sequence) keys, so
//! the order of events is exactly that of one heap: the *side slot* holds a single pending
//! event (the engine's next arrival, half of all events), and FIFO *lanes* hold streams
//! scheduled in time order (a stage's timeouts, a constant delay after the current time:
//! most are stale by the time they come up, and in the heap they made every push and pop
//! deeper).

use std::collections::VecDeque;

/// `time` mapped to an unsigned key with the order of `f64::total_cmp`, joined with the
/// sequence number: one integer comparison orders two events.
#[inline]
fn key(time: f64, seq: u64) -> u128 {
    let bits = time.to_bits();
    // total_cmp's transform: negative values have all bits flipped, others the sign bit set.
    let ordered = if bits >> 63 == 1 { !bits } else { bits | 1 << 63 };
    (ordered as u128) << 64 | seq as u128
}

#[inline]
fn time_of(key: u128) -> f64 {
    let ordered = (key >> 64) as u64;
    f64::from_bits(if ordered >> 63 == 1 {
        ordered & !(1 << 63)
    } else {
        !ordered
    })
}

#[derive(Clone, Copy)]
struct Entry<E> {
    key: u128,
    event: E,
}

/// What [`EventQueue::pop_before`] found next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next<E> {
    /// The side slot's event, at this time.
    Side(f64),
    /// An event from the heap or a lane.
    Heap(f64, E),
}

/// The event list: a binary min-heap on `key`, the side slot and the lanes. The heap is
/// hand-written so that a new event is stored once, in its final slot, never written and
/// read back while it sifts up (why that matters: docs/performance.md).
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    seq: u64,
    /// Key of the side slot's pending event, or `u128::MAX` when empty (no real key is
    /// that large: it would need a NaN time).
    side: u128,
    /// FIFO lanes for event streams scheduled in time order (a constant delay after the
    /// current time, such as a stage's timeouts): their events wait here rather than in the
    /// heap, which they would otherwise fill.
    lanes: Vec<VecDeque<Entry<E>>>,
    /// The earliest key at the front of a lane (`EMPTY` if none), and that lane.
    lane_min: u128,
    lane_min_at: usize,
}

const EMPTY: u128 = u128::MAX;

impl<E: Copy> EventQueue<E> {
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: Vec::with_capacity(n),
            seq: 0,
            side: EMPTY,
            lanes: Vec::new(),
            lane_min: EMPTY,
            lane_min_at: 0,
        }
    }

    /// This queue with room for `n` events in its heap.
    pub fn with_heap_capacity(mut self, n: usize) -> Self {
        self.heap.reserve(n);
        self
    }

    /// Adds a FIFO lane and returns its index, for [`EventQueue::schedule_lane`].
    pub fn add_lane(&mut self) -> usize {
        self.lanes.push(VecDeque::new());
        self.lanes.len() - 1
    }

    /// Schedules `event` at `time` in `lane`, meant for events scheduled in time order
    /// (each no earlier than the lane's previous one). The order of events is exactly that
    /// of [`EventQueue::schedule`]; an event earlier than the lane's last goes to the heap
    /// instead, so the order never depends on the caller keeping to that.
    #[inline]
    pub fn schedule_lane(&mut self, lane: usize, time: f64, event: E) {
        debug_assert!(!time.is_nan(), "event scheduled at NaN");
        let key = key(time, self.seq);
        let l = &mut self.lanes[lane];
        if l.back().is_some_and(|b| b.key > key) {
            self.schedule(time, event);
            return;
        }
        self.seq += 1;
        l.push_back(Entry { key, event });
        // Keys rise along a lane, so only an event into an empty lane can be a new minimum.
        if key < self.lane_min {
            self.lane_min = key;
            self.lane_min_at = lane;
        }
    }

    /// Removes the earliest lane event and finds the lanes' new minimum.
    #[inline(never)]
    fn pop_lane(&mut self) -> Entry<E> {
        let e = self.lanes[self.lane_min_at]
            .pop_front()
            .expect("the earliest lane has an event");
        (self.lane_min_at, self.lane_min) = (0, EMPTY);
        for (i, l) in self.lanes.iter().enumerate() {
            if let Some(f) = l.front() {
                if f.key < self.lane_min {
                    (self.lane_min_at, self.lane_min) = (i, f.key);
                }
            }
        }
        e
    }

    /// Schedules `event` at `time`. Inlined, so that the event is built in registers and
    /// stored once.
    #[inline(always)]
    pub fn schedule(&mut self, time: f64, event: E) {
        debug_assert!(!time.is_nan(), "event scheduled at NaN");
        let key = key(time, self.seq);
        self.seq += 1;
        let n = self.heap.len();
        // The entry is built in place in each branch, so it is not assembled on the stack
        // and copied.
        if n == 0 || self.heap[(n - 1) / 2].key < key {
            self.heap.push(Entry { key, event });
        } else {
            self.sift_up(Entry { key, event });
        }
    }

    /// Inserts `new`, which is earlier than the last slot's parent: with a hole, parents
    /// later than it move down one level, and it is stored once, in its final slot.
    #[inline(never)]
    fn sift_up(&mut self, new: Entry<E>) {
        let mut hole = self.heap.len();
        let parent = (hole - 1) / 2;
        self.heap.push(self.heap[parent]);
        hole = parent;
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if self.heap[parent].key < new.key {
                break;
            }
            self.heap[hole] = self.heap[parent];
            hole = parent;
        }
        self.heap[hole] = new;
    }

    /// Removes the earliest entry of the (non-empty) heap.
    #[inline]
    fn pop_heap(&mut self) -> Entry<E> {
        let last = self.heap.pop().expect("non-empty heap");
        let n = self.heap.len();
        if n == 0 {
            return last;
        }
        let top = self.heap[0];
        // Sift `last` down from the root with a hole.
        let mut hole = 0;
        loop {
            let left = 2 * hole + 1;
            if left >= n {
                break;
            }
            let right = left + 1;
            let child = if right < n && self.heap[right].key < self.heap[left].key {
                right
            } else {
                left
            };
            if last.key < self.heap[child].key {
                break;
            }
            self.heap[hole] = self.heap[child];
            hole = child;
        }
        self.heap[hole] = last;
        top
    }

    /// Schedules the side slot's event, which must be empty.
    #[inline]
    pub fn schedule_side(&mut self, time: f64) {
        debug_assert!(self.side == EMPTY, "side slot already holds an event");
        debug_assert!(!time.is_nan(), "event scheduled at NaN");
        self.side = key(time, self.seq);
        self.seq += 1;
    }

    /// Removes and returns the earliest event if it comes before `end`; `None` (removing
    /// nothing) when the queue is empty or the earliest event is at `end` or later.
    #[inline]
    pub fn pop_before(&mut self, end: f64) -> Option<Next<E>> {
        let heap_key = self.heap.first().map_or(EMPTY, |e| e.key);
        if self.lane_min < heap_key && self.lane_min < self.side {
            if time_of(self.lane_min) >= end {
                return None;
            }
            let e = self.pop_lane();
            return Some(Next::Heap(time_of(e.key), e.event));
        }
        if self.side < heap_key {
            let t = time_of(self.side);
            if t >= end {
                return None;
            }
            self.side = EMPTY;
            Some(Next::Side(t))
        } else {
            if heap_key == EMPTY || time_of(heap_key) >= end {
                return None;
            }
            let e = self.pop_heap();
            Some(Next::Heap(time_of(e.key), e.event))
        }
    }

    /// Removes and returns the earliest event (`None` for the side slot's).
    pub fn pop(&mut self) -> Option<(f64, Option<E>)> {
        self.pop_before(f64::INFINITY).map(|n| match n {
            Next::Side(t) => (t, None),
            Next::Heap(t, e) => (t, Some(e)),
        })
    }

    pub fn len(&self) -> usize {
        self.heap.len() + (self.side != EMPTY) as usize + self.lanes.iter().map(VecDeque::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn drain(q: &mut EventQueue<usize>) -> Vec<usize> {
        std::iter::from_fn(|| q.pop().map(|(_, e)| e.unwrap_or(usize::MAX))).collect()
    }

    #[test]
    fn ties_run_in_schedule_order() {
        let mut q = EventQueue::with_capacity(4);
        q.schedule(1.0, 'b');
        q.schedule(0.5, 'a');
        q.schedule(1.0, 'c');
        q.schedule(1.0, 'd');
        let order: String = std::iter::from_fn(|| q.pop().and_then(|(_, e)| e)).collect();
        assert_eq!(order, "abcd");
    }

    #[test]
    fn keys_follow_total_order() {
        let times = [-1e300, -2.5, -0.0, 0.0, 1e-300, 0.5, 3.0, 1e300, f64::INFINITY];
        for w in times.windows(2) {
            assert!(key(w[0], 7) < key(w[1], 0), "{} < {}", w[0], w[1]);
        }
        for &t in &times {
            assert_eq!(time_of(key(t, 3)).to_bits(), t.to_bits());
        }
    }

    #[test]
    fn lane_events_out_of_order_go_to_the_heap() {
        let mut q = EventQueue::with_capacity(4);
        let lane = q.add_lane();
        q.schedule_lane(lane, 2.0, 'b');
        q.schedule_lane(lane, 1.0, 'a'); // earlier than the lane's last: kept in order anyway
        q.schedule_lane(lane, 3.0, 'c');
        let order: String = std::iter::from_fn(|| q.pop().and_then(|(_, e)| e)).collect();
        assert_eq!(order, "abc");
    }

    #[test]
    fn pop_before_leaves_late_events() {
        let mut q = EventQueue::with_capacity(4);
        q.schedule(2.0, 1);
        q.schedule_side(1.0);
        assert_eq!(q.pop_before(1.0), None, "an event at the end is not popped");
        assert_eq!(q.pop_before(1.5), Some(Next::Side(1.0)));
        assert_eq!(q.pop_before(1.5), None);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop_before(3.0), Some(Next::Heap(2.0, 1)));
        assert!(q.is_empty());
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
            prop_assert_eq!(drain(&mut q), expected.into_iter().map(|(_, i)| i).collect::<Vec<_>>());
        }

        /// The side slot's events interleave with heap events exactly as if all were in
        /// one heap: by time, then by scheduling order.
        #[test]
        fn side_slot_keeps_the_order(ops in proptest::collection::vec((0u8..10, any::<bool>()), 1..200)) {
            let mut q = EventQueue::with_capacity(0);
            let mut all: Vec<(u8, usize)> = Vec::new();
            let mut side_event = usize::MAX;
            let mut got = Vec::new();
            let mut now = 0u8;
            let pop = |q: &mut EventQueue<usize>, side_event: usize| {
                q.pop().map(|(t, e)| (t, e.unwrap_or(side_event)))
            };
            for (i, (dt, side)) in ops.iter().enumerate() {
                let t = now.saturating_add(*dt);
                if *side && q.side == EMPTY {
                    q.schedule_side(t as f64);
                    side_event = i;
                } else {
                    q.schedule(t as f64, i);
                }
                all.push((t, i));
                // Interleave pops, as a simulation does; times never go backwards.
                if i % 3 == 2 {
                    if let Some((t, e)) = pop(&mut q, side_event) {
                        now = t as u8;
                        got.push(e);
                    }
                }
            }
            while let Some((_, e)) = pop(&mut q, side_event) {
                got.push(e);
            }
            // Reference: replay through a plain heap with the same schedule and pops.
            let mut r = EventQueue::with_capacity(0);
            let mut want = Vec::new();
            for (i, (t, e)) in all.iter().enumerate() {
                r.schedule(*t as f64, *e);
                if i % 3 == 2 {
                    if let Some((_, e)) = r.pop() {
                        want.push(e.unwrap());
                    }
                }
            }
            want.extend(drain(&mut r));
            prop_assert_eq!(got, want);
        }

        /// Events in FIFO lanes (each scheduled at the current time plus the lane's constant
        /// delay) interleave with heap and side-slot events exactly as in one heap.
        #[test]
        fn lanes_keep_the_order(ops in proptest::collection::vec((0u8..10, 0u8..4), 1..200)) {
            let delays = [3u8, 7];
            let mut q = EventQueue::with_capacity(0);
            let lanes = [q.add_lane(), q.add_lane()];
            let mut r = EventQueue::with_capacity(0);
            let (mut got, mut want) = (Vec::new(), Vec::new());
            let mut now = 0u8;
            for (i, (dt, kind)) in ops.iter().enumerate() {
                let t = match kind {
                    0 | 1 => {
                        let t = now.saturating_add(delays[*kind as usize]);
                        q.schedule_lane(lanes[*kind as usize], t as f64, i);
                        t
                    }
                    _ => {
                        let t = now.saturating_add(*dt);
                        q.schedule(t as f64, i);
                        t
                    }
                };
                r.schedule(t as f64, i);
                if i % 2 == 1 {
                    if let Some((t, e)) = q.pop() {
                        now = t as u8;
                        got.push(e.unwrap());
                    }
                    if let Some((_, e)) = r.pop() {
                        want.push(e.unwrap());
                    }
                }
            }
            prop_assert_eq!(q.len(), r.len());
            got.extend(drain(&mut q));
            want.extend(drain(&mut r));
            prop_assert_eq!(got, want);
        }
    }
}
