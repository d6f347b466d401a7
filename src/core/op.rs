//! One operation's life: started → (finished at once | queued on its descriptor) → exactly one
//! ending: done, OS error, timed out, cancelled, or closed; or dropped with its destroyed port.
//!
//! Contract: `attempt` performs the non-blocking syscall for the operation and is only ever
//! called with the descriptor's state locked, so that close, cancel and destroy (which take the
//! same lock) never run while the operation is writing into or reading from the caller's buffer.
//! Bytes already moved are kept in `done` and always reported in the completion.
//!
//! Memory: a queued operation is one small allocation (its slot in the descriptor's queue). A
//! plain receive, send or accept keeps only a `CompactRecord` of the caller's record; posts and
//! secure operations keep the whole record, with their driver, in one box (see `Op::new`).

use super::port::Port;
use crate::overlapped::{CompactRecord, Qso_OverlappedIO_t};
use crate::sync::Arc;
use std::os::fd::RawFd;
use std::time::Instant;

/// The caller's record, carried opaque through the core and handed back in the completion.
pub type Record = Qso_OverlappedIO_t;

/// What an operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Recv,
    Send,
    Accept,
    /// A `QsoPostIOCompletion`: immediate, or a timer tied to a descriptor.
    Post,
    /// A secure handshake (`gsk_secure_soc_startInit`), performed by its driver.
    SecureInit,
    /// A secure receive (`gsk_secure_soc_startRecv`), performed by its driver.
    SecureRecv,
    /// A secure send (`gsk_secure_soc_startSend`), performed by its driver.
    SecureSend,
}

impl OpKind {
    /// The per-descriptor queue an operation of this kind waits in.
    pub fn direction(self) -> Direction {
        match self {
            OpKind::Recv | OpKind::SecureInit | OpKind::SecureRecv => Direction::Read,
            OpKind::Send | OpKind::SecureSend => Direction::Write,
            OpKind::Accept => Direction::Accept,
            OpKind::Post => Direction::Timer,
        }
    }
}

/// Which per-descriptor queue an operation waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Read,
    Write,
    Accept,
    /// Timed posts: no I/O, only a deadline and the descriptor's close.
    Timer,
}

/// Performs an operation whose I/O is not a single syscall (the secure layer's TLS steps).
///
/// Called under the descriptor's lock, like the built-in operations; it must never block.
pub trait OpDriver: Send {
    /// Moves the operation forward. `buf[..len]` is the caller's buffer and `done` the bytes
    /// already delivered, as for a plain receive or send.
    fn attempt(&mut self, fd: RawFd, buf: *mut u8, len: usize, done: &mut usize) -> Progress;
    /// True once the operation can no longer be cancelled (a handshake that has begun).
    fn uninterruptible(&self) -> bool {
        false
    }
    /// The operation was stopped from outside (timer, cancel, close) with this ending.
    fn stopped(&mut self, _ending: Ending) {}
}

/// Why an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Finished normally (for a receive this includes end of file).
    Done,
    /// The kernel reported this errno.
    Os(i32),
    /// Its `operationWaitTime` ran out.
    TimedOut,
    /// `QsoCancelOperation` matched it.
    Cancelled,
    /// Its descriptor was closed.
    Closed,
    /// Its driver failed with this code (its meaning belongs to the driver, e.g. a TLS alert).
    Protocol(i32),
}

/// A finished operation, as delivered to one waiter.
#[derive(Clone, Copy)]
pub struct Completion {
    pub record: Record,
    pub kind: OpKind,
    /// Bytes moved, or the accepted descriptor; meaningful with any ending.
    pub value: i64,
    pub ending: Ending,
    /// It finished inside its start call and was posted there (`postFlagResult`).
    pub posted_at_start: bool,
}

impl Completion {
    /// Disposes of a completion that will never be delivered (its port was destroyed): an
    /// accepted descriptor nobody will ever learn of is closed, so it does not leak.
    pub fn discard(self) {
        if self.kind == OpKind::Accept && self.ending == Ending::Done && self.value >= 0 {
            // SAFETY: the descriptor was created by this operation's accept4 and was never
            // handed to anyone; closing it releases it.
            unsafe {
                libc::close(self.value as RawFd);
            }
        }
    }
}

/// What the start call asks for.
pub struct OpRequest {
    pub kind: OpKind,
    pub record: Record,
    pub buf: *mut u8,
    /// At most `u32::MAX` (the start calls refuse more than `INT_MAX`).
    pub len: usize,
    /// Receive: finish only when the buffer is full (or at end of file / error).
    pub fill: bool,
    /// Post even when it finishes at once.
    pub post_flag: bool,
    /// The caller's `operationId`.
    pub user_id: u64,
    pub deadline: Option<Instant>,
    /// Performs the operation instead of the built-in syscall (secure operations).
    pub driver: Option<Box<dyn OpDriver>>,
}

/// What an operation's last receive system call says about the socket's input queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputLeft {
    /// Nothing known (no receive made, end of file, an error, or a full buffer).
    Unknown,
    /// The kernel said it would block: the queue was empty.
    Empty,
    /// The kernel returned fewer bytes than asked for: for TCP the queue was then empty, unless
    /// the read stopped at an urgent-data mark.
    ShortRead,
}

/// A queued operation.
pub struct Op {
    /// Process-unique, for timers.
    pub seq: u64,
    pub port: Arc<Port>,
    pub kind: OpKind,
    pub buf: *mut u8,
    /// At most `u32::MAX`: the start calls refuse buffers longer than `INT_MAX`.
    len: u32,
    /// Bytes moved so far (at most `len`).
    done: u32,
    pub fill: bool,
    pub user_id: u64,
    /// Set by each receive attempt.
    pub input_left: InputLeft,
    kept: Kept,
}

/// What an operation keeps of its request besides the fields every operation has.
enum Kept {
    /// A receive, send or accept without a driver: its completion record is rebuilt from this,
    /// the buffer, the length and the id.
    Compact(CompactRecord),
    /// Any other operation (a post, a secure operation, an `operationWaitTime` that does not
    /// fit the compact form): the whole record and the driver, if any.
    Whole(Box<WholeParts>),
}

struct WholeParts {
    record: Record,
    driver: Option<Box<dyn OpDriver>>,
}

// SAFETY: `buf` is the caller's buffer, lent to the library until the operation ends; it is
// only dereferenced by `attempt`, under the descriptor's lock, whichever thread holds it.
unsafe impl Send for Op {}

/// What one attempt achieved.
pub enum Progress {
    /// The operation has ended.
    Finished(Ending, i64),
    /// The kernel would block; wait for readiness.
    Blocked,
    /// The call itself is refused (errno); only reported before any byte moved.
    Refused(i32),
}

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

impl Op {
    /// The queued form of `req` (its driver is taken). A plain receive, send or accept keeps a
    /// `CompactRecord`: its completion record (`ffi::record::completion_record`) gives back the
    /// caller's `descriptorHandle`, `buffer`, `bufferLength`, `postFlag`, `fillBuffer`,
    /// `operationWaitTime` and `operationId`, and sets or zeroes every other field. Posts and
    /// secure operations give back more (`postedDescriptor`, `reserved2`, …): they keep it all.
    pub fn new(seq: u64, port: Arc<Port>, req: &mut OpRequest) -> Op {
        let driver = req.driver.take();
        let compact = match req.kind {
            OpKind::Recv | OpKind::Send | OpKind::Accept if driver.is_none() => {
                CompactRecord::of(&req.record)
            }
            _ => None,
        };
        let kept = match compact {
            Some(compact) => Kept::Compact(compact),
            None => Kept::Whole(Box::new(WholeParts {
                record: req.record,
                driver,
            })),
        };
        Op {
            seq,
            port,
            kind: req.kind,
            buf: req.buf,
            len: u32::try_from(req.len).expect("start calls refuse buffers over INT_MAX bytes"),
            done: 0,
            fill: req.fill,
            user_id: req.user_id,
            input_left: InputLeft::Unknown,
            kept,
        }
    }

    fn driver(&self) -> Option<&dyn OpDriver> {
        match &self.kept {
            Kept::Whole(whole) => whole.driver.as_deref(),
            Kept::Compact(_) => None,
        }
    }

    fn driver_mut(&mut self) -> Option<&mut (dyn OpDriver + 'static)> {
        match &mut self.kept {
            Kept::Whole(whole) => whole.driver.as_deref_mut(),
            Kept::Compact(_) => None,
        }
    }

    /// Bytes moved so far.
    pub fn done(&self) -> usize {
        self.done as usize
    }

    /// True when cancelling is refused (a driver says its operation has gone too far).
    pub fn uninterruptible(&self) -> bool {
        self.driver().is_some_and(|d| d.uninterruptible())
    }

    /// True when the operation has a driver (it may need either readiness direction).
    pub fn is_driven(&self) -> bool {
        self.driver().is_some()
    }

    /// Performs as much of the operation as the kernel allows without blocking.
    /// `first` is true for the try made inside the start call on a socket that has never been
    /// seen connected: only then is "not connected" a refusal of the call rather than an ending.
    pub fn attempt(&mut self, fd: RawFd, first: bool) -> Progress {
        // Under the loom models, a point where the thread may be preempted while it holds the
        // descriptor's lock, before it touches the caller's buffer.
        #[cfg(loom)]
        loom::thread::yield_now();
        let (buf, len, mut done) = (self.buf, self.len as usize, self.done as usize);
        if let Some(driver) = self.driver_mut() {
            let progress = driver.attempt(fd, buf, len, &mut done);
            self.done = done as u32;
            return progress;
        }
        match self.kind {
            OpKind::Recv => self.attempt_recv(fd, first),
            OpKind::Send => self.attempt_send(fd, first),
            OpKind::Accept => attempt_accept(fd, first),
            OpKind::Post | OpKind::SecureInit | OpKind::SecureRecv | OpKind::SecureSend => {
                Progress::Blocked
            }
        }
    }

    fn attempt_recv(&mut self, fd: RawFd, first: bool) -> Progress {
        loop {
            // Only the last system call counts: end of file, errors and full reads say nothing.
            self.input_left = InputLeft::Unknown;
            let asked = (self.len - self.done) as usize;
            // SAFETY: `buf[done..len]` is the caller's writable buffer, lent to this operation
            // until it ends; the descriptor's lock is held, so no close or destroy runs meanwhile.
            let n = unsafe {
                libc::recv(
                    fd,
                    self.buf.add(self.done()).cast(),
                    asked,
                    libc::MSG_DONTWAIT,
                )
            };
            if n > 0 {
                // At most `asked`, which fits u32.
                self.done += n as u32;
                if (n as usize) < asked {
                    self.input_left = InputLeft::ShortRead;
                }
                if !self.fill || self.done == self.len {
                    return Progress::Finished(Ending::Done, i64::from(self.done));
                }
                continue;
            }
            if n == 0 {
                return Progress::Finished(Ending::Done, i64::from(self.done));
            }
            match errno() {
                libc::EINTR => continue,
                libc::EAGAIN => {
                    self.input_left = InputLeft::Empty;
                    return Progress::Blocked;
                }
                // An unconnected AF_UNIX stream socket says EINVAL to recv (Linux).
                libc::ENOTCONN | libc::EINVAL if first && self.done == 0 => {
                    return Progress::Refused(libc::ENOTCONN)
                }
                e => return Progress::Finished(Ending::Os(e), i64::from(self.done)),
            }
        }
    }

    fn attempt_send(&mut self, fd: RawFd, first: bool) -> Progress {
        loop {
            // SAFETY: `buf[done..len]` is the caller's readable buffer, lent to this operation
            // until it ends; the descriptor's lock is held.
            let n = unsafe {
                libc::send(
                    fd,
                    self.buf.add(self.done()).cast(),
                    (self.len - self.done) as usize,
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                )
            };
            if n >= 0 {
                // At most what was asked, which fits u32.
                self.done += n as u32;
                if self.done == self.len {
                    return Progress::Finished(Ending::Done, i64::from(self.done));
                }
                continue;
            }
            match errno() {
                libc::EINTR => continue,
                libc::EAGAIN => return Progress::Blocked,
                libc::ENOTCONN if first && self.done == 0 => {
                    return Progress::Refused(libc::ENOTCONN)
                }
                // A socket that was never connected says EPIPE to send (Linux); the call is
                // refused with ENOTCONN as for a receive.
                libc::EPIPE if first && self.done == 0 => return Progress::Refused(libc::ENOTCONN),
                e => return Progress::Finished(Ending::Os(e), i64::from(self.done)),
            }
        }
    }

    /// The completion for this operation with the given ending.
    pub fn completion(&self, ending: Ending, value: i64) -> Completion {
        let record = match &self.kept {
            Kept::Compact(compact) => {
                compact.expand(self.buf.cast(), self.len as usize, self.user_id)
            }
            Kept::Whole(whole) => whole.record,
        };
        Completion {
            record,
            kind: self.kind,
            value,
            ending,
            posted_at_start: false,
        }
    }

    /// The completion for an operation stopped from outside (timer, cancel, close).
    pub fn stopped(&mut self, ending: Ending) -> Completion {
        if let Some(driver) = self.driver_mut() {
            driver.stopped(ending);
        }
        self.completion(ending, i64::from(self.done))
    }
}

fn attempt_accept(fd: RawFd, first: bool) -> Progress {
    loop {
        // SAFETY: accept4 with null address pointers writes nothing of ours.
        let n = unsafe {
            libc::accept4(
                fd,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_CLOEXEC,
            )
        };
        if n >= 0 {
            return Progress::Finished(Ending::Done, n as i64);
        }
        match errno() {
            libc::EINTR | libc::ECONNABORTED => continue,
            libc::EAGAIN => return Progress::Blocked,
            libc::EINVAL if first => return Progress::Refused(libc::EINVAL),
            e => return Progress::Finished(Ending::Os(e), -1),
        }
    }
}

/// True when the socket has a peer (getpeername succeeds).
pub fn is_connected(fd: RawFd) -> bool {
    // SAFETY: sockaddr_storage is plain data; getpeername writes at most `len` bytes into it.
    unsafe {
        let mut addr: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        libc::getpeername(
            fd,
            (&mut addr as *mut libc::sockaddr_storage).cast(),
            &mut len,
        ) == 0
    }
}
