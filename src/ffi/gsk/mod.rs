//! The GSKit C face (`gskssl.h`): secure environments and sessions on the completion ports.
//!
//! Contract: what the Qso face does for plain sockets, done for GSK calls: every pointer and
//! handle checked (a bad handle gives `GSK_INVALID_HANDLE`, never a crash), GSK return codes
//! instead of -1/errno (errno is set with `GSK_ERROR_IO`), and the record a secure completion
//! hands back. The TLS work itself is `crate::secure`'s.
//!
//! Every item of these files is emitted into `include/gskssl.h` by a second cbindgen run
//! (`cbindgen-gsk.toml`); `include/qsoasync.h` does not see this module.

pub mod async_ops;
pub mod attrs;
pub mod codes;
pub mod handles;
pub mod session;
pub mod strerror;

use super::record::set_errno;
use crate::core::op::{Completion, Ending, OpKind};
use crate::secure::session::GskError;
use libc::c_int;

/// Sets errno and returns `GSK_ERROR_IO`.
pub(crate) fn fail_io(errno: c_int) -> c_int {
    set_errno(errno);
    codes::GSK_ERROR_IO
}

/// A synchronous call's outcome as (return code, count); errno is set with `GSK_ERROR_IO`.
pub(crate) fn gsk_result(r: Result<usize, GskError>) -> (c_int, c_int) {
    match r {
        Ok(n) => (codes::GSK_OK, n.min(c_int::MAX as usize) as c_int),
        Err(e) if e.code == codes::GSK_ERROR_IO => (fail_io(e.errno), 0),
        Err(e) => (e.code, 0),
    }
}

/// `returnValue` and `errnoValue` of a secure operation's completion.
///
/// A time limit is `GSK_ERROR_IO` with `EAGAIN` for a receive or send (`operationWaitTime`, as
/// IBM documents `errnoValue` with `GSK_ERROR_IO`), and `GSK_OS400_ERROR_TIMED_OUT` for a
/// handshake (`GSK_HANDSHAKE_TIMEOUT`).
pub fn completion_fields(c: &Completion) -> (c_int, c_int) {
    match c.ending {
        Ending::Done => (codes::GSK_OK, 0),
        Ending::Os(errno) => (codes::GSK_ERROR_IO, errno),
        Ending::TimedOut if c.kind == OpKind::SecureInit => {
            (codes::GSK_OS400_ERROR_TIMED_OUT, libc::EAGAIN)
        }
        Ending::TimedOut => (codes::GSK_ERROR_IO, libc::EAGAIN),
        Ending::Cancelled => (codes::GSK_ERROR_IO, libc::ECANCELED),
        Ending::Closed => (codes::GSK_ERROR_IO, crate::overlapped::ECLOSED),
        Ending::Protocol(code) => (code, 0),
    }
}
