//! A completion port: a FIFO of completions, a LIFO stack of parked waiters, and one engine
//! driven by whichever waiter currently leads.
//!
//! Contract:
//! * every completion delivered to a live port goes to exactly one waiter: handed straight to
//!   the most recently parked one, or queued (FIFO) for the next caller of `wait`;
//! * at most one waiter (the leader) runs the engine; it performs ready I/O itself and keeps the
//!   first completion of its own port (no thread hop), delivering the rest;
//! * whenever the port has engine work (queued operations or timers) and waiters are parked,
//!   some waiter leads: a leader that leaves hands the role to the oldest parked waiter;
//! * after `destroy`, nothing is delivered, every waiter returns `Destroyed`.
//!
//! Lock order: descriptor state (fdtable) → port state → waiter slot.

use super::fdtable;
use super::op::Completion;
use super::timers::{TimerTarget, Timers};
use super::waiter::{self, Signal, Waiter};
use crate::engine::{self, Engine};
use crate::sync::{Arc, Mutex, MutexGuard};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Port {
    /// Created on first use, so that a port without socket work holds no descriptors.
    engine: OnceLock<Box<dyn Engine>>,
    state: Mutex<PortState>,
    /// A copy of `PortState::leading` readable without the lock (a hint for start calls).
    leader_present: AtomicBool,
}

#[derive(Default)]
struct PortState {
    queue: VecDeque<Completion>,
    /// Parked waiters; the last is the most recent.
    parked: Vec<Arc<Waiter>>,
    /// A waiter is running the engine.
    leading: bool,
    destroyed: bool,
    /// Operations queued on descriptors for this port, awaiting readiness.
    pending: usize,
    timers: Timers,
}

impl PortState {
    fn has_engine_work(&self) -> bool {
        self.pending > 0 || !self.timers.is_empty()
    }

    /// Chooses the oldest parked waiter to lead, when the engine needs a leader and has none;
    /// it is woken once the port's lock is released.
    fn pass_leadership(&mut self) -> AfterUnlock {
        if !self.leading && !self.destroyed && self.has_engine_work() && !self.parked.is_empty() {
            let waiter = self.parked.remove(0);
            waiter.put(Signal::Lead);
            return AfterUnlock::Wake(waiter);
        }
        AfterUnlock::Nothing
    }
}

/// What remains to do once the port's lock is released: system calls and destructors are kept
/// out of the lock, so that the other threads of the port are not held up by them.
#[must_use]
enum AfterUnlock {
    Nothing,
    /// Wake a waiter whose signal was stored under the lock.
    Wake(Arc<Waiter>),
    /// Wake the leader out of the engine.
    WakeLeader,
    /// A completion the destroyed port refused: dispose of it.
    Discard(Completion),
}

impl AfterUnlock {
    fn run(self, port: &Port) {
        match self {
            AfterUnlock::Nothing => {}
            AfterUnlock::Wake(waiter) => waiter.wake(),
            AfterUnlock::WakeLeader => port.wake_leader(),
            AfterUnlock::Discard(completion) => completion.discard(),
        }
    }
}

/// How a wait ended.
pub enum WaitOutcome {
    Completed(Completion),
    TimedOut,
    Destroyed,
}

/// How long a leader without an engine sleeps before trying again.
const ENGINE_RETRY: std::time::Duration = std::time::Duration::from_millis(10);

thread_local! {
    /// Completions produced by one leader pass (reused to avoid an allocation per pass).
    static FINISHED: RefCell<Vec<(Arc<Port>, Completion)>> = const { RefCell::new(Vec::new()) };
    static EXPIRED: RefCell<Vec<TimerTarget>> = const { RefCell::new(Vec::new()) };
}

impl Port {
    pub fn new() -> io::Result<Arc<Port>> {
        Ok(Arc::new(Port {
            engine: OnceLock::new(),
            state: Mutex::new(PortState::default()),
            leader_present: AtomicBool::new(false),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, PortState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The port's engine, created on first use.
    pub fn engine(&self) -> io::Result<&dyn Engine> {
        if let Some(engine) = self.engine.get() {
            return Ok(&**engine);
        }
        let created = engine::new_engine()?;
        Ok(&**self.engine.get_or_init(|| created))
    }

    /// Wakes the leader out of the engine, if an engine exists (no engine: nobody is in it).
    fn wake_leader(&self) {
        if let Some(engine) = self.engine.get() {
            let _ = engine.wake();
        }
    }

    /// True when a waiter is leading this port's engine just now, so that a new readiness edge
    /// is being reported to someone (a hint: it may change at once).
    pub fn has_leader(&self) -> bool {
        self.leader_present.load(Ordering::Relaxed)
    }

    pub fn is_destroyed(&self) -> bool {
        self.lock().destroyed
    }

    /// Delivers a completion that was never queued (an immediate post, or an operation that
    /// finished inside its start call).
    pub fn post(&self, completion: Completion) {
        let after = self.deliver(&mut self.lock(), completion, true);
        after.run(self);
    }

    /// Delivers the completion of an operation that was queued (see `op_queued`).
    pub fn finish_queued(&self, completion: Completion) {
        let after = {
            let mut st = self.lock();
            st.pending = st.pending.saturating_sub(1);
            self.deliver(&mut st, completion, true)
        };
        after.run(self);
    }

    /// Records that an operation has been queued for readiness, with an optional deadline.
    /// Returns false (and records nothing) when the port has been destroyed.
    pub fn op_queued(&self, target: TimerTarget, deadline: Option<Instant>) -> bool {
        let mut st = self.lock();
        if st.destroyed {
            return false;
        }
        st.pending += 1;
        let mut wake_leader = false;
        if let Some(deadline) = deadline {
            let nearest = st.timers.arm(deadline, target);
            wake_leader = nearest && st.leading;
        }
        let after = st.pass_leadership();
        drop(st);
        if wake_leader {
            self.wake_leader();
        }
        after.run(self);
        true
    }

    /// Hands `completion` to the most recent parked waiter, or queues it (waking the leader
    /// unless the leader is the caller). A destroyed port rejects it. The caller runs what is
    /// returned once the port's lock is released (the wake-up, or discarding the rejected).
    fn deliver(
        &self,
        st: &mut PortState,
        completion: Completion,
        wake_leader: bool,
    ) -> AfterUnlock {
        if st.destroyed {
            return AfterUnlock::Discard(completion);
        }
        if let Some(waiter) = st.parked.pop() {
            waiter.put(Signal::Handed(completion));
            return AfterUnlock::Wake(waiter);
        }
        st.queue.push_back(completion);
        if st.leading && wake_leader {
            return AfterUnlock::WakeLeader;
        }
        AfterUnlock::Nothing
    }

    /// Waits for one completion for at most `timeout` (`None`: no limit; zero polls).
    pub fn wait(&self, timeout: Option<Duration>) -> WaitOutcome {
        let mut st = self.lock();
        // Fast path: a completion is already there; no clock read, no waiter.
        if !st.destroyed {
            if let Some(completion) = st.queue.pop_front() {
                return WaitOutcome::Completed(completion);
            }
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let me = waiter::current();
        let mut polled = false;
        let mut orphan = None;
        let outcome = loop {
            if st.destroyed {
                break WaitOutcome::Destroyed;
            }
            if let Some(completion) = st.queue.pop_front() {
                break WaitOutcome::Completed(completion);
            }
            let expired = deadline.is_some_and(|d| Instant::now() >= d);
            if !st.leading && st.has_engine_work() && !(expired && polled) {
                st.leading = true;
                self.leader_present.store(true, Ordering::Relaxed);
                let engine_deadline = match (deadline, st.timers.next_deadline()) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                drop(st);
                let kept = self.lead(engine_deadline);
                polled = true;
                st = self.lock();
                st.leading = false;
                self.leader_present.store(false, Ordering::Relaxed);
                if let Some(completion) = kept {
                    if st.destroyed {
                        orphan = Some(completion);
                        break WaitOutcome::Destroyed;
                    }
                    break WaitOutcome::Completed(completion);
                }
                continue;
            }
            if expired {
                break WaitOutcome::TimedOut;
            }
            me.reset();
            st.parked.push(Arc::clone(&me));
            drop(st);
            let mut signal = me.park(deadline);
            if let Signal::Handed(completion) = signal {
                // Handed over by a deliverer that already took us off the stack: nothing more
                // is needed from the port (leadership is unchanged by a hand-off).
                return WaitOutcome::Completed(completion);
            }
            st = self.lock();
            if matches!(signal, Signal::Empty) {
                if let Some(i) = st.parked.iter().rposition(|w| Arc::ptr_eq(w, &me)) {
                    st.parked.remove(i);
                } else {
                    // Removed by a signaller, who signals under this lock: it has arrived.
                    signal = me.take();
                }
            }
            match signal {
                Signal::Handed(completion) => break WaitOutcome::Completed(completion),
                Signal::Destroyed => break WaitOutcome::Destroyed,
                Signal::Lead | Signal::Empty => continue,
            }
        };
        let after = st.pass_leadership();
        drop(st);
        after.run(self);
        if let Some(completion) = orphan {
            completion.discard();
        }
        outcome
    }

    /// One leader pass: waits on the engine, performs ready I/O and expired timers, delivers
    /// the completions, and returns the first one that belongs to this port.
    fn lead(&self, deadline: Option<Instant>) -> Option<Completion> {
        FINISHED.with(|finished| {
            let mut finished = finished.borrow_mut();
            match self.engine() {
                Ok(engine) => {
                    let _ = engine.wait(deadline, &mut |ready| {
                        fdtable::on_ready(ready, &mut finished);
                    });
                }
                // No engine could be made (descriptor limit): sleep briefly instead of spinning.
                Err(_) => std::thread::sleep(
                    deadline
                        .map(|d| d.saturating_duration_since(Instant::now()))
                        .unwrap_or(ENGINE_RETRY)
                        .min(ENGINE_RETRY),
                ),
            }
            EXPIRED.with(|expired| {
                let mut expired = expired.borrow_mut();
                self.lock()
                    .timers
                    .take_expired(Instant::now(), &mut expired);
                for target in expired.drain(..) {
                    fdtable::expire(target, &mut finished);
                }
            });
            let mut kept = None;
            for (port, completion) in finished.drain(..) {
                if !std::ptr::eq(&*port, self) {
                    port.finish_queued(completion);
                    continue;
                }
                let mut st = self.lock();
                st.pending = st.pending.saturating_sub(1);
                if kept.is_none() && st.queue.is_empty() && !st.destroyed {
                    kept = Some(completion);
                    continue;
                }
                let after = self.deliver(&mut st, completion, false);
                drop(st);
                after.run(self);
            }
            kept
        })
    }

    /// Marks the port destroyed: drops its completions and timers, and wakes every waiter
    /// (parked ones with `Destroyed`, the leader through the engine).
    pub fn destroy(&self) {
        let mut st = self.lock();
        st.destroyed = true;
        let dropped: Vec<Completion> = st.queue.drain(..).collect();
        st.timers.clear();
        st.pending = 0;
        for waiter in st.parked.drain(..) {
            waiter.signal(Signal::Destroyed);
        }
        if st.leading {
            self.wake_leader();
        }
        drop(st);
        for completion in dropped {
            completion.discard();
        }
    }
}
