//! When to ask the kernel to wake a thread that must be awake at a deadline, so that timeouts
//! end on time on virtual machines too.
//!
//! Contract: `sleep_until_target` never returns a moment after `deadline`. For a deadline more
//! than twice `FINAL_STRETCH` away it returns `deadline - FINAL_STRETCH`: the caller sleeps,
//! re-checks, and sleeps the final stretch separately. A vCPU that went idle for long takes the
//! hypervisor 50–100 µs to run again, one idle for a few hundred microseconds is woken at once
//! (measured in docs/PERFORMANCE.md); the extra wake-up is one per timed wait, not a spin.
//! `PreciseSleep` sets the calling thread's timer slack to 1 ns for the length of one sleep
//! (the kernel's default 50 µs slack would otherwise be added to every futex time-out) and puts
//! the caller's value back.

use std::time::{Duration, Instant};

/// How long before its deadline a long sleep wakes for the last, short one.
pub const FINAL_STRETCH: Duration = Duration::from_micros(300);

/// The moment to ask the kernel to wake at, for a thread that must be awake at `deadline`.
pub fn sleep_until_target(now: Instant, deadline: Instant) -> Instant {
    if deadline.saturating_duration_since(now) > 2 * FINAL_STRETCH {
        deadline - FINAL_STRETCH
    } else {
        deadline
    }
}

/// While alive, the calling thread's timer slack is 1 ns; dropping it restores the old value.
pub struct PreciseSleep {
    saved: Option<libc::c_ulong>,
}

impl PreciseSleep {
    pub fn begin() -> PreciseSleep {
        // SAFETY: PR_GET_TIMERSLACK takes no pointer and returns the calling thread's slack.
        let current = unsafe { libc::prctl(libc::PR_GET_TIMERSLACK, 0, 0, 0, 0) };
        if current <= 1 {
            return PreciseSleep { saved: None };
        }
        // SAFETY: PR_SET_TIMERSLACK takes an integer and changes only the calling thread.
        let set = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
        PreciseSleep {
            saved: (set == 0).then_some(current as libc::c_ulong),
        }
    }
}

impl Drop for PreciseSleep {
    fn drop(&mut self) {
        if let Some(saved) = self.saved {
            // SAFETY: as in `begin`; restores the value read there.
            unsafe {
                libc::prctl(libc::PR_SET_TIMERSLACK, saved, 0, 0, 0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_deadlines_wake_a_final_stretch_early_near_ones_exactly() {
        let now = Instant::now();
        let far = now + Duration::from_millis(10);
        assert_eq!(sleep_until_target(now, far), far - FINAL_STRETCH);
        let near = now + FINAL_STRETCH;
        assert_eq!(sleep_until_target(now, near), near);
        let past = now - Duration::from_millis(1);
        assert_eq!(sleep_until_target(now, past), past);
    }

    #[test]
    fn precise_sleep_sets_and_restores_the_thread_timer_slack() {
        // SAFETY: PR_GET_TIMERSLACK takes no pointer.
        let read = || unsafe { libc::prctl(libc::PR_GET_TIMERSLACK, 0, 0, 0, 0) };
        let before = read();
        {
            let _precise = PreciseSleep::begin();
            assert_eq!(read(), 1);
        }
        assert_eq!(read(), before);
    }
}
