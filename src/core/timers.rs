//! Deadlines of a port's operations, nearest first.
//!
//! Contract: arming is O(log n); the leader asks only for the nearest deadline, so thousands of
//! armed timers cost nothing per wait beyond it. Entries are not removed when their operation
//! ends some other way: an expired entry whose operation is gone is simply skipped.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::os::fd::RawFd;
use std::time::Instant;

/// Which operation a deadline belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerTarget {
    pub fd: RawFd,
    pub seq: u64,
}

#[derive(Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64, RawFd)>>,
}

impl Timers {
    /// Arms a deadline; returns true when it became the nearest one.
    pub fn arm(&mut self, deadline: Instant, target: TimerTarget) -> bool {
        let nearest = self.next_deadline().is_none_or(|d| deadline < d);
        self.heap.push(Reverse((deadline, target.seq, target.fd)));
        nearest
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((d, _, _))| *d)
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Removes and returns every target whose deadline is at or before `now`.
    pub fn take_expired(&mut self, now: Instant, into: &mut Vec<TimerTarget>) {
        while let Some(Reverse((deadline, seq, fd))) = self.heap.peek().copied() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            into.push(TimerTarget { fd, seq });
        }
    }

    pub fn clear(&mut self) {
        self.heap.clear();
    }
}
