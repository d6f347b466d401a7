//! The core's view of a secure operation: `OpDriver`s for `gsk_secure_soc_startInit`,
//! `startRecv` and `startSend`.
//!
//! Contract: each driver holds its session and performs one step per attempt (never blocking,
//! under the descriptor's lock, which the core holds); a handshake is uninterruptible once it
//! has written its first bytes; a handshake stopped from outside (time limit, cancel before its
//! first bytes, close) leaves its session failed.

use super::session::{Session, Step};
use crate::core::op::{Ending, OpDriver, Progress};
use crate::ffi::gsk::codes::*;
use std::os::fd::RawFd;
use std::sync::Arc;

fn progress(step: Step, done: usize) -> Progress {
    match step {
        Step::Done => Progress::Finished(Ending::Done, done as i64),
        Step::Blocked { .. } => Progress::Blocked,
        Step::Failed(ending) => Progress::Finished(ending, done as i64),
    }
}

/// `gsk_secure_soc_startInit`.
pub struct HandshakeDriver {
    session: Arc<Session>,
    begun: bool,
}

impl HandshakeDriver {
    pub fn new(session: Arc<Session>) -> HandshakeDriver {
        HandshakeDriver {
            session,
            begun: false,
        }
    }
}

impl OpDriver for HandshakeDriver {
    fn attempt(&mut self, fd: RawFd, _buf: *mut u8, _len: usize, _done: &mut usize) -> Progress {
        let mut st = self.session.lock();
        let step = st.handshake_step(fd);
        self.begun = st.sent_any;
        progress(step, 0)
    }

    fn uninterruptible(&self) -> bool {
        self.begun
    }

    fn stopped(&mut self, ending: Ending) {
        let code = match ending {
            Ending::TimedOut => GSK_OS400_ERROR_TIMED_OUT,
            Ending::Protocol(code) => code,
            _ => GSK_ERROR_IO,
        };
        self.session.lock().fail(code);
    }
}

/// `gsk_secure_soc_startRecv`.
pub struct RecvDriver {
    session: Arc<Session>,
    fill_buffer: bool,
}

impl RecvDriver {
    pub fn new(session: Arc<Session>, fill_buffer: bool) -> RecvDriver {
        RecvDriver {
            session,
            fill_buffer,
        }
    }
}

impl OpDriver for RecvDriver {
    // The core lends `buf[..len]` to this operation (OpDriver's contract); the pointer is
    // never one a caller of this safe method chose.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    fn attempt(&mut self, fd: RawFd, buf: *mut u8, len: usize, done: &mut usize) -> Progress {
        // SAFETY: `buf[..len]` is the caller's writable buffer, lent to this operation until it
        // ends; the core calls `attempt` under the descriptor's lock, so no close or destroy
        // returns while it is being written.
        let buf = unsafe { std::slice::from_raw_parts_mut(buf, len) };
        let step = self
            .session
            .lock()
            .recv_step(fd, buf, done, self.fill_buffer);
        progress(step, *done)
    }
}

/// `gsk_secure_soc_startSend`.
pub struct SendDriver {
    session: Arc<Session>,
}

impl SendDriver {
    pub fn new(session: Arc<Session>) -> SendDriver {
        SendDriver { session }
    }
}

impl OpDriver for SendDriver {
    // The core lends `buf[..len]` to this operation (OpDriver's contract); the pointer is
    // never one a caller of this safe method chose.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    fn attempt(&mut self, fd: RawFd, buf: *mut u8, len: usize, done: &mut usize) -> Progress {
        // SAFETY: `buf[..len]` is the caller's readable buffer, lent to this operation until it
        // ends; the core calls `attempt` under the descriptor's lock.
        let data = unsafe { std::slice::from_raw_parts(buf.cast_const(), len) };
        let step = self.session.lock().send_step(fd, data, done);
        progress(step, *done)
    }
}
