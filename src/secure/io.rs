//! The socket as rustls sees it: non-blocking reads and writes on the caller's descriptor, the
//! record boundary tracker that tells a clean end of stream from a cut record, and the bounded
//! waits of the synchronous calls, which a close of the session ends at once (`CloseSignal`).
//!
//! Contract: nothing here changes the descriptor's flags. Reads use `recv(MSG_DONTWAIT)`, writes
//! `send(MSG_DONTWAIT | MSG_NOSIGNAL)`; "would block" is `io::ErrorKind::WouldBlock`, every
//! other failure carries its errno. SIGPIPE is never raised.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

fn last_errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Where the TLS byte stream read so far stands: inside a record or between two.
#[derive(Default)]
pub struct RecordTracker {
    header: [u8; 5],
    header_len: usize,
    body_left: usize,
}

impl RecordTracker {
    /// Accounts for `bytes` that were read from the peer, in order.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.body_left > 0 {
                let n = self.body_left.min(bytes.len());
                self.body_left -= n;
                bytes = &bytes[n..];
                continue;
            }
            self.header[self.header_len] = bytes[0];
            self.header_len += 1;
            bytes = &bytes[1..];
            if self.header_len == self.header.len() {
                self.body_left = u16::from_be_bytes([self.header[3], self.header[4]]) as usize;
                self.header_len = 0;
            }
        }
    }

    /// True when every record read so far is complete.
    pub fn at_boundary(&self) -> bool {
        self.header_len == 0 && self.body_left == 0
    }
}

/// Reads the peer's bytes for rustls, recording record boundaries.
pub struct SockReader<'a> {
    pub fd: RawFd,
    pub tracker: &'a mut RecordTracker,
}

impl io::Read for SockReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: `buf` is a valid writable slice for its whole length.
            let n = unsafe {
                libc::recv(
                    self.fd,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n >= 0 {
                let n = n as usize;
                self.tracker.feed(&buf[..n]);
                return Ok(n);
            }
            match last_errno() {
                libc::EINTR => continue,
                libc::EAGAIN => return Err(io::ErrorKind::WouldBlock.into()),
                e => return Err(io::Error::from_raw_os_error(e)),
            }
        }
    }
}

/// Writes rustls's records to the peer.
pub struct SockWriter {
    pub fd: RawFd,
}

impl io::Write for SockWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            // SAFETY: `buf` is a valid readable slice for its whole length.
            let n = unsafe {
                libc::send(
                    self.fd,
                    buf.as_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            match last_errno() {
                libc::EINTR => continue,
                libc::EAGAIN => return Err(io::ErrorKind::WouldBlock.into()),
                e => return Err(io::Error::from_raw_os_error(e)),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How a bounded wait for the socket ended.
pub enum Waited {
    Ready,
    TimedOut,
    Failed(i32),
    /// The session was closed (`CloseSignal::raise`) before or during the wait.
    Closed,
}

/// Ends the blocking waits of a session's synchronous calls when `gsk_secure_soc_close` is
/// called from another thread. The eventfd is made only when a call first has to wait (most
/// sessions never block, or are only used asynchronously) and stays signalled once raised.
#[derive(Default)]
pub struct CloseSignal {
    raised: AtomicBool,
    /// `None` inside: no eventfd could be made; such waits end by the socket or the deadline.
    event: OnceLock<Option<OwnedFd>>,
}

impl CloseSignal {
    /// For a wait about to start: `None` when the session is already closed, else the
    /// descriptor to watch beside the socket (if one could be made).
    fn arm(&self) -> Option<Option<RawFd>> {
        let event = self.event.get_or_init(|| {
            // SAFETY: eventfd takes no pointers; a non-negative result is a new descriptor
            // that nothing else owns.
            let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
            // SAFETY: see above: `fd` is ours alone when it is not -1.
            (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
        });
        // Pairs with the fence in `raise`: either this wait sees `raised`, or `raise` sees the
        // eventfd made above and signals it.
        fence(Ordering::SeqCst);
        if self.raised.load(Ordering::Relaxed) {
            return None;
        }
        Some(event.as_ref().map(|fd| fd.as_raw_fd()))
    }

    /// Ends every wait on the session, now and later.
    pub fn raise(&self) {
        self.raised.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if let Some(Some(fd)) = self.event.get() {
            let one: u64 = 1;
            // SAFETY: writes the 8 bytes of `one` to an eventfd we own. A full counter
            // (EAGAIN) is already signalled, so the result needs no check.
            unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
        }
    }
}

/// Waits until `fd` is readable (`read`) or writable, `deadline` passes, or `closed` is raised.
pub fn wait_socket(
    fd: RawFd,
    read: bool,
    deadline: Option<Instant>,
    closed: Option<&CloseSignal>,
) -> Waited {
    let event = match closed.map(CloseSignal::arm) {
        Some(None) => return Waited::Closed,
        Some(Some(event)) => event,
        None => None,
    };
    loop {
        let timeout_ms: libc::c_int = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Waited::TimedOut;
                }
                // Round up so that a wait never ends just before its deadline.
                (left.as_micros().div_ceil(1000)).min(i32::MAX as u128) as libc::c_int
            }
        };
        let mut pfds = [
            libc::pollfd {
                fd,
                events: if read { libc::POLLIN } else { libc::POLLOUT },
                revents: 0,
            },
            libc::pollfd {
                fd: event.unwrap_or(-1), // a negative descriptor is skipped by poll
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: `pfds` is a valid array of two pollfds.
        let rc = unsafe { libc::poll(pfds.as_mut_ptr(), 2, timeout_ms) };
        if rc > 0 {
            if pfds[1].revents != 0 {
                return Waited::Closed;
            }
            if pfds[0].revents & libc::POLLNVAL != 0 {
                return Waited::Failed(libc::EBADF);
            }
            return Waited::Ready;
        }
        if rc == 0 {
            continue; // the deadline check above decides
        }
        match last_errno() {
            libc::EINTR => continue,
            e => return Waited::Failed(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RecordTracker;

    #[test]
    fn tracker_follows_records_split_anywhere() {
        let mut t = RecordTracker::default();
        let record = [23u8, 3, 3, 0, 4, 1, 2, 3, 4];
        t.feed(&record[..2]);
        assert!(!t.at_boundary());
        t.feed(&record[2..7]);
        assert!(!t.at_boundary());
        t.feed(&record[7..]);
        assert!(t.at_boundary());
        t.feed(&record);
        t.feed(&record[..6]);
        assert!(!t.at_boundary());
    }
}
