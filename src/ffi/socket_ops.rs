//! `QsoStartRecv`, `QsoStartSend`, `QsoStartAccept`: one shared path, three entry points.

use super::record::{completion_record, fail, op_request, operation_deadline};
use crate::core::fdtable::{self, StartOutcome};
use crate::core::op::OpKind;
use crate::core::registry::globals;
use crate::overlapped::Qso_OverlappedIO_t;
use libc::c_int;

/// Checks the arguments, copies `*io`, and starts the operation.
///
/// # Safety
/// `io` must be NULL or point to a readable and writable `Qso_OverlappedIO_t`.
unsafe fn start_call(sd: c_int, port: c_int, io: *mut Qso_OverlappedIO_t, kind: OpKind) -> c_int {
    // SAFETY: by the caller's contract a non-null `io` is valid for reads and writes.
    let Some(io) = (unsafe { io.as_mut() }) else {
        return fail(libc::EINVAL);
    };
    let Some(port) = globals().port(port) else {
        return fail(libc::EINVAL);
    };
    let Some(deadline) = operation_deadline(&io.operationWaitTime) else {
        return fail(libc::EINVAL);
    };
    let uses_buffer = kind != OpKind::Accept;
    if uses_buffer
        && (io.buffer.is_null() || io.bufferLength == 0 || io.bufferLength > c_int::MAX as usize)
    {
        return fail(libc::EINVAL);
    }
    let request = op_request(kind, io, uses_buffer, deadline, None);
    let outcome = fdtable::start(sd, &port, request);
    // Let go of the port before errno is set: dropping the last reference closes descriptors.
    drop(port);
    match outcome {
        StartOutcome::Finished(completion) => {
            *io = completion_record(&completion);
            0
        }
        StartOutcome::Posted => {
            io.set_post_flag_result(true);
            1
        }
        StartOutcome::Pending => {
            io.set_post_flag_result(false);
            1
        }
        StartOutcome::Refused(errno) => fail(errno),
    }
}

/// Starts a receive on `sd` into `io->buffer`. Returns 0 (finished at once, results in `*io`),
/// 1 (asynchronous; the port is posted, `postFlagResult` says whether already), or -1 with errno
/// (`EINVAL`, `EBADF`, `ENOTSOCK`, `EOPNOTSUPP`, `ENOTCONN`, `ECONNABORTED`).
///
/// # Safety
/// `io` must be NULL or point to a valid `Qso_OverlappedIO_t`, whose buffer stays valid until
/// the completion is returned by a wait (or the socket is closed or the port destroyed).
#[no_mangle]
pub unsafe extern "C" fn QsoStartRecv(
    sd: c_int,
    port: c_int,
    io: *mut Qso_OverlappedIO_t,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { start_call(sd, port, io, OpKind::Recv) }
}

/// Starts sending all of `io->buffer` on `sd`. Returns 0 / 1 / -1 as `QsoStartRecv`
/// (errno `EINVAL`, `EBADF`, `ENOTSOCK`, `EOPNOTSUPP`, `ENOTCONN`, `EPIPE`).
///
/// # Safety
/// As `QsoStartRecv`.
#[no_mangle]
pub unsafe extern "C" fn QsoStartSend(
    sd: c_int,
    port: c_int,
    io: *mut Qso_OverlappedIO_t,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { start_call(sd, port, io, OpKind::Send) }
}

/// Starts accepting a connection on listening socket `listen_sd`; `returnValue` is the new
/// descriptor. Returns 0 / 1 / -1 as `QsoStartRecv` (errno `EINVAL` also when `listen_sd` is
/// not listening). The listening socket is switched to non-blocking mode.
///
/// # Safety
/// `io` must be NULL or point to a valid `Qso_OverlappedIO_t`.
#[no_mangle]
pub unsafe extern "C" fn QsoStartAccept(
    listen_sd: c_int,
    port: c_int,
    io: *mut Qso_OverlappedIO_t,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { start_call(listen_sd, port, io, OpKind::Accept) }
}
