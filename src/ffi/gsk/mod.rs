//! The GSKit C face (`gskssl.h`): secure environments and sessions on the completion ports.
//!
//! Contract: what the Qso face does for plain sockets, done for GSK calls: every pointer and
//! handle checked (a bad handle gives `GSK_INVALID_HANDLE`, never a crash), GSK return codes
//! instead of -1/errno, and the record a secure completion hands back.

pub mod codes;

use crate::core::op::{Completion, Ending};
use libc::c_int;

/// `returnValue` and `errnoValue` of a secure operation's completion.
pub fn completion_fields(c: &Completion) -> (c_int, c_int) {
    match c.ending {
        Ending::Done => (codes::GSK_OK, 0),
        Ending::Os(errno) => (codes::GSK_ERROR_IO, errno),
        Ending::TimedOut => (codes::GSK_OS400_ERROR_TIMED_OUT, libc::EAGAIN),
        Ending::Cancelled => (codes::GSK_ERROR_IO, libc::ECANCELED),
        Ending::Closed => (codes::GSK_ERROR_IO, crate::overlapped::ECLOSED),
        Ending::Protocol(code) => (code, 0),
    }
}
