//! The epoll engine, through the `polling` crate: edge-triggered registration once per
//! descriptor, `notify` to wake the leader, timerfd-precise deadlines (no busy loop on a
//! sub-millisecond remainder).

use super::{Engine, Readiness};
use polling::{Event, Events, PollMode, Poller};
use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::Mutex;
use std::time::Instant;

/// Events fetched by one `wait`.
const EVENTS_PER_WAIT: usize = 256;

pub struct EpollEngine {
    poller: Poller,
    /// Reused event buffer; only the port's leader calls `wait`, so it is never contended.
    events: Mutex<Events>,
}

impl EpollEngine {
    pub fn new() -> io::Result<Self> {
        let capacity = NonZeroUsize::new(EVENTS_PER_WAIT).expect("non-zero");
        Ok(EpollEngine {
            poller: Poller::new()?,
            events: Mutex::new(Events::with_capacity(capacity)),
        })
    }
}

impl Engine for EpollEngine {
    fn watch(&self, fd: RawFd) -> io::Result<()> {
        let key = usize::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
        // SAFETY: the descriptor is open (the caller holds its table entry, which is removed
        // before the descriptor is closed) and is `unwatch`ed before close via the close hook.
        unsafe {
            self.poller
                .add_with_mode(fd, Event::all(key), PollMode::Edge)
        }
    }

    fn unwatch(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: the caller guarantees `fd` is still open for the duration of this call.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        self.poller.delete(borrowed)
    }

    fn wait(
        &self,
        deadline: Option<Instant>,
        on_ready: &mut dyn FnMut(Readiness),
    ) -> io::Result<()> {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        events.clear();
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match self.poller.wait(&mut events, timeout) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        for event in events.iter() {
            on_ready(Readiness {
                fd: event.key as RawFd,
                readable: event.readable,
                writable: event.writable,
            });
        }
        Ok(())
    }

    fn wake(&self) -> io::Result<()> {
        self.poller.notify()
    }
}
