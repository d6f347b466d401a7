//! `gsk_secure_soc_startInit`, `gsk_secure_soc_startRecv`, `gsk_secure_soc_startSend`: secure
//! operations on the completion ports, started on the same path as `QsoStartRecv`.
//!
//! Contract (spec §7, with §4–§5): arguments are checked and nothing starts when one is wrong
//! (`GSK_OS400_ERROR_INVALID_OVERLAPPEDIO_T`, `GSK_INVALID_HANDLE`,
//! `GSK_OS400_ERROR_INVALID_IOCOMPLETIONPORT`, `GSK_OS400_ERROR_INVALID_POINTER`,
//! `GSK_INVALID_BUFFER_SIZE`, `GSK_INVALID_STATE`, and `GSK_ERROR_IO` with errno `EINVAL` for a
//! non-zero `postedDescriptor` or a malformed `operationWaitTime`); `*io` is copied at the
//! start; startInit always completes through the port (6019); startRecv/startSend return
//! `GSK_OK` with the byte count in `secureDataTransferSize` when they finish at once with
//! `postFlag` 0, else 6012/6013 and the port is posted when they end.

use super::codes::*;
use super::fail_io;
use super::handles;
use crate::core::fdtable::{self, StartOutcome};
use crate::core::op::{OpDriver, OpKind};
use crate::core::registry::globals;
use crate::ffi::record::{completion_record, op_request, operation_deadline};
use crate::overlapped::Qso_OverlappedIO_t;
use crate::secure::driver::{HandshakeDriver, RecvDriver, SendDriver};
use libc::c_int;
use std::time::{Duration, Instant};

/// A refusal of the core, as the GSK code a start call returns.
fn refused(errno: c_int) -> c_int {
    match errno {
        libc::EBADF => GSK_ERROR_SOCKET_CLOSED,
        libc::ENOTSOCK => GSK_OS400_ERROR_BAD_SOCKET_DESCRIPTOR,
        libc::EOPNOTSUPP => GSK_OS400_ERROR_NOT_TCP,
        e => fail_io(e),
    }
}

/// Checks the arguments, copies `*io`, and starts the secure operation.
///
/// # Safety
/// `io` must be NULL or point to a readable and writable `Qso_OverlappedIO_t`.
unsafe fn start_secure(
    handle: gsk_handle,
    port: c_int,
    io: *mut Qso_OverlappedIO_t,
    kind: OpKind,
) -> c_int {
    // SAFETY: by the caller's contract a non-null `io` is valid for reads and writes.
    let Some(io) = (unsafe { io.as_mut() }) else {
        return GSK_OS400_ERROR_INVALID_OVERLAPPEDIO_T;
    };
    let Some(session) = handles::session(handle) else {
        return GSK_INVALID_HANDLE;
    };
    let Some(port) = globals().port(port) else {
        return GSK_OS400_ERROR_INVALID_IOCOMPLETIONPORT;
    };
    if io.postedDescriptor != 0 {
        return fail_io(libc::EINVAL);
    }
    let uses_buffer = kind != OpKind::SecureInit;
    let deadline = if uses_buffer {
        let Some(deadline) = operation_deadline(&io.operationWaitTime) else {
            return fail_io(libc::EINVAL);
        };
        if io.buffer.is_null() {
            return GSK_OS400_ERROR_INVALID_POINTER;
        }
        if io.bufferLength < 1 || io.bufferLength > c_int::MAX as usize {
            return GSK_INVALID_BUFFER_SIZE;
        }
        deadline
    } else {
        // operationWaitTime is not used by startInit; GSK_HANDSHAKE_TIMEOUT limits it.
        let limit = session.lock().attrs.handshake_timeout_s.max(0) as u64;
        (limit > 0)
            .then(|| Instant::now().checked_add(Duration::from_secs(limit)))
            .flatten()
    };
    let (fd, driver): (c_int, Box<dyn OpDriver>) = match kind {
        OpKind::SecureInit => match session.begin_handshake() {
            Ok(fd) => (fd, Box::new(HandshakeDriver::new(session.clone()))),
            Err(e) if e.code == GSK_ERROR_IO => return fail_io(e.errno),
            Err(e) => return e.code,
        },
        _ => {
            let fd = match session.data_socket() {
                Ok(fd) => fd,
                Err(e) => return e.code,
            };
            let driver: Box<dyn OpDriver> = if kind == OpKind::SecureRecv {
                Box::new(RecvDriver::new(session.clone(), io.fill_buffer()))
            } else {
                Box::new(SendDriver::new(session.clone()))
            };
            (fd, driver)
        }
    };
    let mut request = op_request(kind, io, uses_buffer, deadline, Some(driver));
    // A handshake always completes through the port.
    request.post_flag |= kind == OpKind::SecureInit;
    let started = match kind {
        OpKind::SecureInit => GSK_OS400_ASYNCHRONOUS_SOC_INIT,
        OpKind::SecureRecv => GSK_OS400_ASYNCHRONOUS_RECV,
        _ => GSK_OS400_ASYNCHRONOUS_SEND,
    };
    let outcome = fdtable::start(fd, &port, request);
    // Let go of the port before errno is set: dropping the last reference closes descriptors.
    drop(port);
    match outcome {
        StartOutcome::Finished(completion) => {
            *io = completion_record(&completion);
            if io.returnValue == GSK_ERROR_IO {
                super::super::record::set_errno(io.errnoValue);
            }
            io.returnValue
        }
        StartOutcome::Posted => {
            io.set_post_flag_result(true);
            started
        }
        StartOutcome::Pending => {
            io.set_post_flag_result(false);
            started
        }
        StartOutcome::Refused(errno) => {
            if kind == OpKind::SecureInit {
                session.abandon_handshake();
            }
            refused(errno)
        }
    }
}

/// Starts the handshake of a session asynchronously. Returns
/// `GSK_OS400_ASYNCHRONOUS_SOC_INIT`; the port then receives `GSKSECURESOCSTARTINIT` with
/// `returnValue` `GSK_OK` or the handshake's GSK error. `GSK_HANDSHAKE_TIMEOUT` limits it; once
/// it has sent its first bytes it cannot be cancelled (`QsoCancelOperation` gives `EAGAIN`).
///
/// # Safety
/// `communicationsArea` must be NULL or point to a valid `Qso_OverlappedIO_t`.
#[no_mangle]
pub unsafe extern "C" fn gsk_secure_soc_startInit(
    my_session_handle: gsk_handle,
    IOCompletionPort: c_int,
    communicationsArea: *mut Qso_OverlappedIO_t,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        start_secure(
            my_session_handle,
            IOCompletionPort,
            communicationsArea,
            OpKind::SecureInit,
        )
    }
}

/// Starts receiving decrypted data into `communicationsArea->buffer`. Returns `GSK_OK`
/// (finished at once, count in `secureDataTransferSize`, nothing posted),
/// `GSK_OS400_ASYNCHRONOUS_RECV` (the port receives `GSKSECURESOCSTARTRECV` when it ends), or
/// a GSK error (nothing started).
///
/// # Safety
/// `communicationsArea` must be NULL or point to a valid `Qso_OverlappedIO_t`, whose buffer
/// stays valid until the completion is returned (or the socket closed, or the port destroyed).
#[no_mangle]
pub unsafe extern "C" fn gsk_secure_soc_startRecv(
    my_session_handle: gsk_handle,
    IOCompletionPort: c_int,
    communicationsArea: *mut Qso_OverlappedIO_t,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        start_secure(
            my_session_handle,
            IOCompletionPort,
            communicationsArea,
            OpKind::SecureRecv,
        )
    }
}

/// Starts sending all of `communicationsArea->buffer` as TLS records. Returns `GSK_OK`
/// (finished at once), `GSK_OS400_ASYNCHRONOUS_SEND` (the port receives
/// `GSKSECURESOCSTARTSEND` when it ends), or a GSK error (nothing started).
///
/// # Safety
/// As `gsk_secure_soc_startRecv`.
#[no_mangle]
pub unsafe extern "C" fn gsk_secure_soc_startSend(
    my_session_handle: gsk_handle,
    IOCompletionPort: c_int,
    communicationsArea: *mut Qso_OverlappedIO_t,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        start_secure(
            my_session_handle,
            IOCompletionPort,
            communicationsArea,
            OpKind::SecureSend,
        )
    }
}
