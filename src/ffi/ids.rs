//! `QsoGenerateOperationId`, `QsoIsOperationPending`, `QsoCancelOperation`.

use super::record::{fail, set_errno};
use crate::core::fdtable;
use crate::core::registry::globals;
use libc::{c_int, c_ulonglong};

/// Returns a new operation id for socket `sd`: never 0, increasing (unique in the process), or 0
/// with errno `EBADF` / `ENOTSOCK`.
#[no_mangle]
pub extern "C" fn QsoGenerateOperationId(sd: c_int) -> c_ulonglong {
    match fdtable::check_socket(sd) {
        Ok(()) => globals().next_operation_id(),
        Err(errno) => {
            set_errno(errno);
            0
        }
    }
}

/// Returns 1 when an operation with id `operationId` is started and not yet posted on `sd`, 0
/// when none is, -1 with errno `EBADF` / `ENOTSOCK`.
#[no_mangle]
pub extern "C" fn QsoIsOperationPending(sd: c_int, operationId: c_ulonglong) -> c_int {
    match fdtable::is_pending(sd, operationId) {
        Ok(pending) => c_int::from(pending),
        Err(errno) => fail(errno),
    }
}

/// Cancels every pending operation on `sd` with id `operationId`: each is posted with -1 /
/// `ECANCELED`. Returns how many (0 when none), or -1 with errno `EBADF` / `ENOTSOCK`, or
/// `EAGAIN` (nothing cancelled) when one of them cannot be interrupted.
#[no_mangle]
pub extern "C" fn QsoCancelOperation(sd: c_int, operationId: c_ulonglong) -> c_int {
    match fdtable::cancel(sd, operationId) {
        Ok(count) => c_int::try_from(count).unwrap_or(c_int::MAX),
        Err(errno) => fail(errno),
    }
}
