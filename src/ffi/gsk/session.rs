//! `gsk_secure_soc_open`, `_init`, `_read`, `_write`, `_close` and `_misc`: the synchronous
//! session calls.
//!
//! Contract: pointers and handles checked first; a `GSK_ERROR_IO` return sets `errno`; the
//! waiting calls wait on the socket without holding the session (asynchronous operations of the
//! same session keep running meanwhile).

use super::codes::*;
use super::handles::{self, Object};
use super::{fail_io, gsk_result};
use crate::core::fdtable;
use libc::{c_char, c_int};
use std::sync::Arc;

/// Opens a secure session in an initialised environment; it inherits the environment's
/// attributes.
///
/// # Safety
/// `my_session_handle` must be NULL or point to a writable `gsk_handle`.
#[no_mangle]
pub unsafe extern "C" fn gsk_secure_soc_open(
    my_env_handle: gsk_handle,
    my_session_handle: *mut gsk_handle,
) -> c_int {
    if my_session_handle.is_null() {
        return GSK_OS400_ERROR_INVALID_POINTER;
    }
    let Some(env) = handles::env(my_env_handle) else {
        return GSK_INVALID_HANDLE;
    };
    let session = match env.open_session() {
        Ok(session) => session,
        Err(code) => return code,
    };
    let handle = handles::insert(Object::Session(Arc::new(session)));
    // SAFETY: non-null and writable by the caller's contract.
    unsafe { *my_session_handle = handle };
    GSK_OK
}

/// Performs the handshake on the session's socket (`GSK_FD`), waiting for the peer within
/// `GSK_HANDSHAKE_TIMEOUT`.
#[no_mangle]
pub extern "C" fn gsk_secure_soc_init(my_session_handle: gsk_handle) -> c_int {
    let Some(session) = handles::session(my_session_handle) else {
        return GSK_INVALID_HANDLE;
    };
    gsk_result(session.init_blocking().map(|()| 0)).0
}

/// Reads decrypted data: `GSK_OK` with `*amtRead` bytes (0 when the peer closed the session),
/// waiting within `GSK_OS400_READ_TIMEOUT` (then `GSK_OS400_ERROR_TIMED_OUT`, nothing lost).
///
/// # Safety
/// `readBuffer` must be NULL or point to `readBufSize` writable bytes; `amtRead` NULL or a
/// writable `int`.
#[no_mangle]
pub unsafe extern "C" fn gsk_secure_soc_read(
    my_session_handle: gsk_handle,
    readBuffer: *mut c_char,
    readBufSize: c_int,
    amtRead: *mut c_int,
) -> c_int {
    if readBuffer.is_null() || amtRead.is_null() {
        return GSK_OS400_ERROR_INVALID_POINTER;
    }
    // SAFETY: non-null and writable by the caller's contract.
    unsafe { *amtRead = 0 };
    if readBufSize < 1 {
        return GSK_INVALID_BUFFER_SIZE;
    }
    let Some(session) = handles::session(my_session_handle) else {
        return GSK_INVALID_HANDLE;
    };
    // SAFETY: `readBufSize` writable bytes by the caller's contract.
    let buf =
        unsafe { std::slice::from_raw_parts_mut(readBuffer.cast::<u8>(), readBufSize as usize) };
    let (code, n) = gsk_result(session.read_blocking(buf));
    // SAFETY: as above.
    unsafe { *amtRead = n };
    code
}

/// Writes all of `writeBuffer` as TLS records: `GSK_OK` with `*amtWritten == writeBufSize`.
///
/// # Safety
/// `writeBuffer` must be NULL or point to `writeBufSize` readable bytes; `amtWritten` NULL or a
/// writable `int`.
#[no_mangle]
pub unsafe extern "C" fn gsk_secure_soc_write(
    my_session_handle: gsk_handle,
    writeBuffer: *mut c_char,
    writeBufSize: c_int,
    amtWritten: *mut c_int,
) -> c_int {
    if writeBuffer.is_null() || amtWritten.is_null() {
        return GSK_OS400_ERROR_INVALID_POINTER;
    }
    // SAFETY: non-null and writable by the caller's contract.
    unsafe { *amtWritten = 0 };
    if writeBufSize < 1 {
        return GSK_INVALID_BUFFER_SIZE;
    }
    let Some(session) = handles::session(my_session_handle) else {
        return GSK_INVALID_HANDLE;
    };
    // SAFETY: `writeBufSize` readable bytes by the caller's contract.
    let data = unsafe {
        std::slice::from_raw_parts(writeBuffer.cast::<u8>().cast_const(), writeBufSize as usize)
    };
    let (code, n) = gsk_result(session.write_blocking(data));
    // SAFETY: as above.
    unsafe { *amtWritten = n };
    code
}

/// Closes a session and sets its handle to NULL: a close_notify is sent to the peer when the
/// socket is still open (the socket itself stays open: close it with `close()`). Operations
/// still pending on the session end with `GSK_OS400_ERROR_CLOSED`.
///
/// # Safety
/// `my_session_handle` must be NULL or point to a readable and writable `gsk_handle`.
#[no_mangle]
pub unsafe extern "C" fn gsk_secure_soc_close(my_session_handle: *mut gsk_handle) -> c_int {
    // SAFETY: a non-null pointer is readable and writable by the caller's contract.
    let Some(slot) = (unsafe { my_session_handle.as_mut() }) else {
        return GSK_OS400_ERROR_INVALID_POINTER;
    };
    let Some(session) = handles::remove_session(*slot) else {
        return GSK_INVALID_HANDLE;
    };
    *slot = std::ptr::null_mut();
    if let Some(fd) = session.close() {
        // Operations queued on this session learn of the close now, not at the next readiness.
        fdtable::retry(fd);
    }
    GSK_OK
}

/// Miscellaneous requests: `GSK_CLOSE_NOTIFY` sends a close_notify alert and waits until it is
/// written; renegotiation and session-cache resets (`GSK_RESET_CIPHER`, `GSK_RESET_SESSION`,
/// `GSK_RESET_CIPHER_WITHNEWSESSION`) are not supported (`GSK_ERROR_UNSUPPORTED`).
#[no_mangle]
pub extern "C" fn gsk_secure_soc_misc(my_session_handle: gsk_handle, miscID: GSK_MISC_ID) -> c_int {
    let Some(session) = handles::session(my_session_handle) else {
        return GSK_INVALID_HANDLE;
    };
    match miscID {
        GSK_CLOSE_NOTIFY => match session.close_notify_blocking() {
            Ok(()) => GSK_OK,
            Err(e) if e.code == GSK_ERROR_IO => fail_io(e.errno),
            Err(e) => e.code,
        },
        GSK_RESET_CIPHER | GSK_RESET_SESSION | GSK_RESET_CIPHER_WITHNEWSESSION => {
            GSK_ERROR_UNSUPPORTED
        }
        _ => GSK_MISC_INVALID_ID,
    }
}
