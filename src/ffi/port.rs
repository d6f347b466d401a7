//! `QsoCreateIOCompletionPort`, `QsoDestroyIOCompletionPort`, `QsoWaitForIOCompletion`,
//! `QsoPostIOCompletion`.

use super::record::{completion_record, fail, operation_deadline, wait_timeout};
use crate::core::fdtable;
use crate::core::op::{Completion, Ending, OpKind, OpRequest};
use crate::core::port::WaitOutcome;
use crate::core::registry::globals;
use crate::overlapped::{Qso_OverlappedIO_t, EDESTROYED};
use libc::{c_int, timeval};

/// Creates a completion port. Returns its handle (>= 0), or -1 with errno `ENOBUFS` when the
/// process already has `QSO_MAX_IOCOMPLETION_PORTS` ports (or `EMFILE`/`ENOMEM`).
#[no_mangle]
pub extern "C" fn QsoCreateIOCompletionPort() -> c_int {
    match globals().create_port() {
        Ok(Some(handle)) => handle,
        Ok(None) => fail(libc::ENOBUFS),
        Err(error) => fail(error.raw_os_error().unwrap_or(libc::ENOMEM)),
    }
}

/// Destroys a completion port. Threads waiting on it return -1 with `EDESTROYED`; operations
/// still outstanding on it are dropped (never posted, their buffers untouched once this returns)
/// and their sockets aborted. Returns 0, or -1 with `EINVAL` for an unknown port.
#[no_mangle]
pub extern "C" fn QsoDestroyIOCompletionPort(port: c_int) -> c_int {
    let Some(port) = globals().take_port(port) else {
        return fail(libc::EINVAL);
    };
    port.destroy();
    fdtable::abort_port(&port);
    0
}

/// Waits for one completion on `port`. Returns 1 and fills `*status`; 0 when `timeToWait`
/// (NULL: no limit; {0,0}: poll) ran out, leaving `*status` untouched; -1 with `EINVAL` (unknown
/// port, NULL `status`, malformed timeval) or `EDESTROYED` (port destroyed while waiting).
///
/// # Safety
/// `status` must be NULL or point to a writable `Qso_OverlappedIO_t`; `timeToWait` must be NULL
/// or point to a readable `struct timeval`.
#[no_mangle]
pub unsafe extern "C" fn QsoWaitForIOCompletion(
    port: c_int,
    status: *mut Qso_OverlappedIO_t,
    timeToWait: *mut timeval,
) -> c_int {
    if status.is_null() {
        return fail(libc::EINVAL);
    }
    let Some(timeout) = wait_timeout(timeToWait) else {
        return fail(libc::EINVAL);
    };
    let Some(port) = globals().port(port) else {
        return fail(libc::EINVAL);
    };
    let outcome = port.wait(timeout);
    // Let go of the port before errno is set: dropping the last reference closes descriptors.
    drop(port);
    match outcome {
        WaitOutcome::Completed(completion) => {
            // SAFETY: `status` is non-null and, by the caller's contract, writable.
            unsafe { status.write(completion_record(&completion)) };
            1
        }
        WaitOutcome::TimedOut => 0,
        WaitOutcome::Destroyed => fail(EDESTROYED),
    }
}

/// Posts `*io` to `port` (`returnValue` 0, `errnoValue` 0, `operationCompleted`
/// `QSOPOSTIOCOMPLETION`, every other field as given). With a non-zero `operationWaitTime` it
/// is a timer: posted after that many seconds with -1/`EAGAIN`, or at once with -1/`ECLOSED`
/// when `postedDescriptor` is closed first. Returns 0, or -1 with `EINVAL` (unknown port, NULL
/// `io`, malformed `operationWaitTime`).
///
/// # Safety
/// `io` must be NULL or point to a readable `Qso_OverlappedIO_t`.
#[no_mangle]
pub unsafe extern "C" fn QsoPostIOCompletion(port: c_int, io: *mut Qso_OverlappedIO_t) -> c_int {
    // SAFETY: a non-null `io` is readable by the caller's contract; it is copied at once.
    let Some(record) = (unsafe { io.as_ref() }).copied() else {
        return fail(libc::EINVAL);
    };
    let Some(deadline) = operation_deadline(&record.operationWaitTime) else {
        return fail(libc::EINVAL);
    };
    let Some(port) = globals().port(port) else {
        return fail(libc::EINVAL);
    };
    let Some(deadline) = deadline else {
        port.post(Completion {
            record,
            kind: OpKind::Post,
            value: 0,
            ending: Ending::Done,
            posted_at_start: false,
        });
        return 0;
    };
    let request = OpRequest {
        kind: OpKind::Post,
        record,
        buf: std::ptr::null_mut(),
        len: 0,
        fill: false,
        post_flag: true,
        user_id: record.operationId,
        deadline: Some(deadline),
        driver: None,
    };
    let armed = fdtable::start_timed_post(record.postedDescriptor, &port, request);
    drop(port);
    match armed {
        Ok(()) => 0,
        Err(errno) => fail(errno),
    }
}
