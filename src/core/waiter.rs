//! A parked thread: one per OS thread, reused by every wait it makes.
//!
//! Contract: a waiter is signalled only by a thread that has just removed it from a port's
//! stack of parked waiters while holding that port's lock, so each signal is delivered exactly
//! once and never after the waiter has taken itself off the stack. The signal is stored under
//! that lock; the wake-up (a system call) may follow after the lock is released.

use super::op::Completion;
use crate::sync::{Arc, Condvar, Mutex};
use crate::wake_time::{sleep_until_target, PreciseSleep};
use std::time::Instant;

/// Why a parked waiter was woken.
pub enum Signal {
    /// Nothing yet.
    Empty,
    /// A completion handed straight to this waiter.
    Handed(Completion),
    /// The port has work for the engine and no leader: come back and lead.
    Lead,
    /// The port was destroyed.
    Destroyed,
}

pub struct Waiter {
    slot: Mutex<Signal>,
    bell: Condvar,
}

fn new_waiter() -> Arc<Waiter> {
    Arc::new(Waiter {
        slot: Mutex::new(Signal::Empty),
        bell: Condvar::new(),
    })
}

#[cfg(not(loom))]
std::thread_local! {
    static CURRENT: Arc<Waiter> = new_waiter();
}
#[cfg(loom)]
loom::thread_local! {
    static CURRENT: Arc<Waiter> = new_waiter();
}

/// The calling thread's waiter.
pub fn current() -> Arc<Waiter> {
    CURRENT.with(Arc::clone)
}

impl Waiter {
    /// Clears any stale signal; called before the waiter is pushed on a stack.
    pub fn reset(&self) {
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Signal::Empty;
    }

    /// Delivers `signal` and wakes the thread.
    pub fn signal(&self, signal: Signal) {
        self.put(signal);
        self.wake();
    }

    /// Delivers `signal` without waking the thread yet: a signaller holding a port's lock
    /// stores the signal there (so that a waiter which checks the stack under that lock finds
    /// it) and calls `wake` once the lock is released, keeping the system call out of it.
    pub fn put(&self, signal: Signal) {
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = signal;
    }

    /// Wakes the thread to look at its slot (after `put`).
    pub fn wake(&self) {
        // Notified after the slot's lock is released: the woken thread needs that lock.
        self.bell.notify_one();
    }

    /// Takes the signal if one arrived, without sleeping.
    pub fn take(&self) -> Signal {
        std::mem::replace(
            &mut *self.slot.lock().unwrap_or_else(|e| e.into_inner()),
            Signal::Empty,
        )
    }

    /// Sleeps until signalled or until `deadline`; returns `Signal::Empty` on time-out. A far
    /// deadline is slept towards in two steps (`wake_time`).
    pub fn park(&self, deadline: Option<Instant>) -> Signal {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        // Made before the first timed sleep, kept for the following ones, restored on return.
        let mut precise: Option<PreciseSleep> = None;
        loop {
            if !matches!(*slot, Signal::Empty) {
                return std::mem::replace(&mut *slot, Signal::Empty);
            }
            slot = match deadline {
                None => self.bell.wait(slot).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Signal::Empty;
                    }
                    precise.get_or_insert_with(PreciseSleep::begin);
                    let target = sleep_until_target(now, deadline);
                    self.bell
                        .wait_timeout(slot, target - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }
}
