//! The epoll engine, on the kernel interface directly: one `epoll_wait` per leader pass in the
//! steady state.
//!
//! Contract (see `Engine`): descriptors are watched edge-triggered for reading and writing,
//! once. The wake-up is an eventfd watched edge-triggered and written only when no wake-up is
//! already on its way. Deadlines use a timerfd watched once and re-armed only when a nearer
//! deadline arrives (nanosecond precision; never a busy loop on a sub-millisecond remainder).
//! A timer that fires later than the leader needed is harmless: the leader re-checks its state.
//! A far deadline is armed a little early (`wake_time`): the leader then comes back for the
//! final stretch, which ends on time.
//!
//! (The `polling` crate re-arms its timer and its notifier on every wait: five system calls
//! per pass where this needs one; measured in docs/PERFORMANCE.md.)

use super::{Engine, Readiness};
use crate::wake_time::sleep_until_target;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Events fetched by one `wait`.
const EVENTS_PER_WAIT: usize = 256;
/// Keys of the engine's own descriptors (watched descriptors use their number as key).
const WAKE_KEY: u64 = u64::MAX;
const TIMER_KEY: u64 = u64::MAX - 1;

pub struct EpollEngine {
    epfd: RawFd,
    wakefd: RawFd,
    timerfd: RawFd,
    /// A wake-up has been written and not yet seen by the leader.
    wake_pending: AtomicBool,
    /// Leader-only state (never contended): the event buffer and the armed deadline.
    leader: Mutex<LeaderState>,
}

struct LeaderState {
    events: Vec<libc::epoll_event>,
    /// The deadline the timerfd is armed for, if any.
    armed: Option<Instant>,
}

/// Converts a -1 return into the thread's errno.
fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Closes a descriptor the engine owns (the system call itself: no close hook needed).
fn close_own(fd: RawFd) {
    // SAFETY: closing a descriptor this engine created and nobody else holds.
    unsafe {
        libc::syscall(libc::SYS_close, fd);
    }
}

impl EpollEngine {
    pub fn new() -> io::Result<Self> {
        // SAFETY: creating descriptors; each is closed on every failure path below.
        let epfd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: as above.
        let wakefd =
            match check(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) }) {
                Ok(fd) => fd,
                Err(e) => {
                    close_own(epfd);
                    return Err(e);
                }
            };
        // SAFETY: as above.
        let timerfd = match check(unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_CLOEXEC | libc::TFD_NONBLOCK,
            )
        }) {
            Ok(fd) => fd,
            Err(e) => {
                close_own(epfd);
                close_own(wakefd);
                return Err(e);
            }
        };
        let engine = EpollEngine {
            epfd,
            wakefd,
            timerfd,
            wake_pending: AtomicBool::new(false),
            leader: Mutex::new(LeaderState {
                events: Vec::with_capacity(EVENTS_PER_WAIT),
                armed: None,
            }),
        };
        // On failure `engine` is dropped, which closes all three.
        engine.add(wakefd, libc::EPOLLIN | libc::EPOLLET, WAKE_KEY)?;
        engine.add(timerfd, libc::EPOLLIN, TIMER_KEY)?;
        Ok(engine)
    }

    fn add(&self, fd: RawFd, events: libc::c_int, key: u64) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: events as u32,
            u64: key,
        };
        // SAFETY: epoll_ctl reads the event we pass; both descriptors are numbers only.
        check(unsafe { libc::epoll_ctl(self.epfd, libc::EPOLL_CTL_ADD, fd, &mut event) })
            .map(|_| ())
    }

    /// Arms the timer for `deadline` unless it is already armed for that moment or earlier.
    fn arm(&self, leader: &mut LeaderState, deadline: Instant) -> io::Result<()> {
        let now = Instant::now();
        if leader
            .armed
            .is_some_and(|armed| armed <= deadline && armed > now)
        {
            return Ok(());
        }
        // A zero it_value disarms: never ask for zero, fire after at least 1 ns.
        let left = deadline
            .saturating_duration_since(now)
            .max(std::time::Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: left.as_secs().min(i64::MAX as u64) as libc::time_t,
                tv_nsec: left.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: timerfd_settime reads `spec`; the old value is not asked for.
        check(unsafe { libc::timerfd_settime(self.timerfd, 0, &spec, std::ptr::null_mut()) })?;
        leader.armed = Some(deadline);
        Ok(())
    }

    /// Consumes the timer's expiration count (it is watched level-triggered).
    fn clear_timer(&self, leader: &mut LeaderState) {
        let mut count = 0u64;
        // SAFETY: reads at most 8 bytes into `count`; the timerfd is non-blocking.
        unsafe {
            libc::read(self.timerfd, (&mut count as *mut u64).cast(), 8);
        }
        leader.armed = None;
    }
}

impl Drop for EpollEngine {
    fn drop(&mut self) {
        close_own(self.epfd);
        close_own(self.wakefd);
        close_own(self.timerfd);
    }
}

impl Engine for EpollEngine {
    fn watch(&self, fd: RawFd) -> io::Result<()> {
        let key = u64::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
        self.add(
            fd,
            libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLPRI | libc::EPOLLET,
            key,
        )
    }

    fn unwatch(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: EPOLL_CTL_DEL ignores the event pointer.
        check(unsafe { libc::epoll_ctl(self.epfd, libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut()) })
            .map(|_| ())
    }

    fn wait(
        &self,
        deadline: Option<Instant>,
        on_ready: &mut dyn FnMut(Readiness),
    ) -> io::Result<()> {
        let mut leader = self.leader.lock().unwrap_or_else(|e| e.into_inner());
        let timeout_ms = match deadline {
            None => -1,
            Some(d) if d <= Instant::now() => 0,
            Some(d) => {
                let target = sleep_until_target(Instant::now(), d);
                self.arm(&mut leader, target)?;
                -1
            }
        };
        let capacity = leader.events.capacity().min(libc::c_int::MAX as usize);
        // SAFETY: the buffer has room for `capacity` events; the kernel writes at most that.
        let n = unsafe {
            libc::epoll_wait(
                self.epfd,
                leader.events.as_mut_ptr(),
                capacity as libc::c_int,
                timeout_ms,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(e)
            };
        }
        // SAFETY: the kernel initialised the first `n` events.
        unsafe { leader.events.set_len(n as usize) };
        let mut timer_fired = false;
        for event in leader.events.iter() {
            let flags = event.events as libc::c_int;
            match event.u64 {
                WAKE_KEY => self.wake_pending.store(false, Ordering::SeqCst),
                TIMER_KEY => timer_fired = true,
                key => on_ready(Readiness {
                    fd: key as RawFd,
                    readable: flags
                        & (libc::EPOLLIN
                            | libc::EPOLLRDHUP
                            | libc::EPOLLHUP
                            | libc::EPOLLERR
                            | libc::EPOLLPRI)
                        != 0,
                    writable: flags & (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) != 0,
                    urgent: flags & libc::EPOLLPRI != 0,
                    hangup: flags & (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) != 0,
                }),
            }
        }
        leader.events.clear();
        if timer_fired {
            self.clear_timer(&mut leader);
        }
        Ok(())
    }

    fn wake(&self) -> io::Result<()> {
        if self.wake_pending.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let one = 1u64;
        // SAFETY: writes 8 bytes from `one` to the engine's eventfd.
        let rc = unsafe { libc::write(self.wakefd, (&one as *const u64).cast(), 8) };
        if rc < 0 {
            self.wake_pending.store(false, Ordering::SeqCst);
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
