//! `gsk_environment_open/init/close` and the attribute calls (`gsk_attribute_set_buffer`,
//! `_set_enum`, `_set_numeric_value` and the `get` variants).
//!
//! Contract: every pointer and handle is checked first (`GSK_OS400_ERROR_INVALID_POINTER`,
//! `GSK_INVALID_HANDLE`); attributes change only before `gsk_environment_init` (environments)
//! or before the handshake (sessions), except `GSK_OS400_READ_TIMEOUT`, else
//! `GSK_INVALID_STATE`; an identifier IBM defines that the library cannot honour gives
//! `GSK_ERROR_UNSUPPORTED`, an unknown one `GSK_ATTRIBUTE_INVALID_ID`. The mapping is listed in
//! docs/gsk.md.

use super::codes::*;
use super::handles::{self, Object};
use crate::secure::attrs::{Attrs, ClientAuth, ServerAuth, SessionType};
use crate::secure::session::{valid_server_name, Environment, Phase};
use libc::{c_char, c_int};
use std::ffi::{CStr, CString};
use std::sync::Arc;

/// The longest buffer attribute accepted (bytes).
const MAX_BUFFER: usize = 64 * 1024;

/// Creates an environment with the default attributes (client session, TLS 1.2 and 1.3).
///
/// # Safety
/// `my_env_handle` must be NULL or point to a writable `gsk_handle`.
#[no_mangle]
pub unsafe extern "C" fn gsk_environment_open(my_env_handle: *mut gsk_handle) -> c_int {
    if my_env_handle.is_null() {
        return GSK_OS400_ERROR_INVALID_POINTER;
    }
    let handle = handles::insert(Object::Env(Arc::new(Environment::default())));
    // SAFETY: non-null and writable by the caller's contract.
    unsafe { *my_env_handle = handle };
    GSK_OK
}

/// Initialises an environment: reads its keyring (or application id's file) and prepares TLS.
/// Attributes cannot change afterwards.
#[no_mangle]
pub extern "C" fn gsk_environment_init(my_env_handle: gsk_handle) -> c_int {
    let Some(env) = handles::env(my_env_handle) else {
        return GSK_INVALID_HANDLE;
    };
    match env.init() {
        Ok(()) => GSK_OK,
        Err(code) => code,
    }
}

/// Closes an environment handle and sets it to NULL. Sessions opened from it keep working until
/// they are closed.
///
/// # Safety
/// `my_env_handle` must be NULL or point to a readable and writable `gsk_handle`.
#[no_mangle]
pub unsafe extern "C" fn gsk_environment_close(my_env_handle: *mut gsk_handle) -> c_int {
    // SAFETY: a non-null pointer is readable and writable by the caller's contract.
    let Some(slot) = (unsafe { my_env_handle.as_mut() }) else {
        return GSK_OS400_ERROR_INVALID_POINTER;
    };
    if handles::remove_env(*slot).is_none() {
        return GSK_INVALID_HANDLE;
    }
    *slot = std::ptr::null_mut();
    GSK_OK
}

/// Runs `f` on the attributes behind `handle`: `Ok(is_session)` tells which kind it was.
/// `change` says whether `f` modifies them (then the handle must still be changeable, except
/// for the attributes `always` allows).
fn with_attrs<R>(
    handle: gsk_handle,
    change: bool,
    always: bool,
    f: impl FnOnce(&mut Attrs, Option<Phase>) -> Result<R, c_int>,
) -> Result<R, c_int> {
    match handles::get(handle).ok_or(GSK_INVALID_HANDLE)? {
        Object::Env(env) => {
            let mut st = env.lock();
            if change && st.ready.is_some() {
                return Err(GSK_INVALID_STATE);
            }
            f(&mut st.attrs, None)
        }
        Object::Session(session) => {
            let mut st = session.lock();
            let phase = st.phase;
            let changeable = phase == Phase::Open || (always && phase != Phase::Closed);
            if change && !changeable {
                return Err(GSK_INVALID_STATE);
            }
            f(&mut st.attrs, Some(phase))
        }
    }
}

fn result(r: Result<(), c_int>) -> c_int {
    match r {
        Ok(()) => GSK_OK,
        Err(code) => code,
    }
}

/// Buffer identifiers IBM defines that the library does not honour.
fn unsupported_buffer(id: GSK_BUF_ID) -> bool {
    matches!(id, 204..=216 | 221..=224 | 231..=245 | 247 | 252)
}

/// Sets a character attribute. `bufSize` 0 means `buffer` is a NUL-terminated string.
///
/// # Safety
/// `buffer` must be NULL or point to `bufSize` readable bytes (a NUL-terminated string when
/// `bufSize` is 0).
#[no_mangle]
pub unsafe extern "C" fn gsk_attribute_set_buffer(
    my_gsk_handle: gsk_handle,
    bufID: GSK_BUF_ID,
    buffer: *const c_char,
    bufSize: c_int,
) -> c_int {
    if buffer.is_null() {
        return GSK_OS400_ERROR_INVALID_POINTER;
    }
    if bufSize < 0 || bufSize as usize > MAX_BUFFER {
        return GSK_ATTRIBUTE_INVALID_LENGTH;
    }
    let bytes: Vec<u8> = if bufSize == 0 {
        // SAFETY: NUL-terminated by the caller's contract when bufSize is 0.
        unsafe { CStr::from_ptr(buffer) }.to_bytes().to_vec()
    } else {
        // SAFETY: `bufSize` readable bytes by the caller's contract.
        let all = unsafe { std::slice::from_raw_parts(buffer.cast::<u8>(), bufSize as usize) };
        all.split(|&b| b == 0).next().unwrap_or(&[]).to_vec()
    };
    if bytes.len() > MAX_BUFFER {
        return GSK_ATTRIBUTE_INVALID_LENGTH;
    }
    let value = CString::new(bytes).expect("NUL bytes were cut off");
    result(with_attrs(my_gsk_handle, true, false, |attrs, session| {
        let env_only = |slot: &mut Option<CString>| {
            if session.is_some() {
                return Err(GSK_ATTRIBUTE_INVALID_ID);
            }
            *slot = Some(value.clone());
            Ok(())
        };
        match bufID {
            GSK_KEYRING_FILE => env_only(&mut attrs.keyring_file),
            GSK_KEYRING_PW => env_only(&mut attrs.keyring_pw),
            GSK_KEYRING_LABEL => env_only(&mut attrs.keyring_label),
            GSK_OS400_APPLICATION_ID => env_only(&mut attrs.app_id),
            GSK_USER_DATA => {
                attrs.user_data = Some(value.clone());
                Ok(())
            }
            GSK_SSL_EXTN_SERVERNAME_REQUEST => {
                if value.as_bytes().is_empty() {
                    attrs.server_name = None;
                    return Ok(());
                }
                let valid = value.to_str().map(valid_server_name).unwrap_or(false);
                if !valid {
                    return Err(GSK_ATTRIBUTE_INVALID_LENGTH);
                }
                attrs.server_name = Some(value.clone());
                Ok(())
            }
            id if unsupported_buffer(id) => Err(GSK_ERROR_UNSUPPORTED),
            _ => Err(GSK_ATTRIBUTE_INVALID_ID),
        }
    }))
}

/// Gets a character attribute: `*buffer` points to a NUL-terminated copy owned by the handle
/// (valid until the attribute changes or the handle is closed), `*bufSize` is its length.
/// An attribute never set gives an empty string.
///
/// # Safety
/// `buffer` and `bufSize` must be NULL or point to writable storage of their types.
#[no_mangle]
pub unsafe extern "C" fn gsk_attribute_get_buffer(
    my_gsk_handle: gsk_handle,
    bufID: GSK_BUF_ID,
    buffer: *mut *const c_char,
    bufSize: *mut c_int,
) -> c_int {
    if buffer.is_null() || bufSize.is_null() {
        return GSK_OS400_ERROR_INVALID_POINTER;
    }
    let found = with_attrs(my_gsk_handle, false, false, |attrs, _| {
        let slot = match bufID {
            GSK_KEYRING_FILE => &attrs.keyring_file,
            GSK_KEYRING_PW => &attrs.keyring_pw,
            GSK_KEYRING_LABEL => &attrs.keyring_label,
            GSK_OS400_APPLICATION_ID => &attrs.app_id,
            GSK_USER_DATA => &attrs.user_data,
            GSK_SSL_EXTN_SERVERNAME_REQUEST => &attrs.server_name,
            id if unsupported_buffer(id) => return Err(GSK_ERROR_UNSUPPORTED),
            _ => return Err(GSK_ATTRIBUTE_INVALID_ID),
        };
        // The CString's heap buffer stays put until the attribute is replaced or dropped.
        Ok(match slot {
            Some(s) => (s.as_ptr(), s.as_bytes().len()),
            None => (c"".as_ptr(), 0),
        })
    });
    match found {
        Ok((ptr, len)) => {
            // SAFETY: both pointers are non-null and writable by the caller's contract.
            unsafe {
                *buffer = ptr;
                *bufSize = len as c_int;
            }
            GSK_OK
        }
        Err(code) => code,
    }
}

/// Enumerated identifiers IBM defines that the library does not honour.
fn unsupported_enum(id: GSK_ENUM_ID) -> bool {
    matches!(
        id,
        408 | 409 | 412 | 413 | 423 | 426 | 427 | 428 | 435 | 451 | 452 | 457
    )
}

fn on_off(value: GSK_ENUM_VALUE) -> Result<bool, c_int> {
    match value {
        GSK_TRUE => Ok(true),
        GSK_FALSE => Ok(false),
        _ => Err(GSK_ATTRIBUTE_INVALID_ENUMERATION),
    }
}

/// An "off only" switch: `off` is accepted, `on` is a clear refusal (the protocol is gone).
fn off_only(value: GSK_ENUM_VALUE, on: GSK_ENUM_VALUE, off: GSK_ENUM_VALUE) -> Result<(), c_int> {
    match value {
        v if v == off => Ok(()),
        v if v == on => Err(GSK_ERROR_UNSUPPORTED),
        _ => Err(GSK_ATTRIBUTE_INVALID_ENUMERATION),
    }
}

/// Sets an enumerated attribute.
#[no_mangle]
pub extern "C" fn gsk_attribute_set_enum(
    my_gsk_handle: gsk_handle,
    enumID: GSK_ENUM_ID,
    enumValue: GSK_ENUM_VALUE,
) -> c_int {
    result(with_attrs(my_gsk_handle, true, false, |attrs, _| {
        match enumID {
            GSK_SESSION_TYPE => {
                attrs.session_type = match enumValue {
                    GSK_CLIENT_SESSION => SessionType::Client,
                    GSK_SERVER_SESSION => SessionType::Server,
                    GSK_SERVER_SESSION_WITH_CL_AUTH => SessionType::ServerWithClientAuth,
                    _ => return Err(GSK_ATTRIBUTE_INVALID_ENUMERATION),
                }
            }
            GSK_CLIENT_AUTH_TYPE => {
                attrs.client_auth = match enumValue {
                    GSK_CLIENT_AUTH_FULL => ClientAuth::Full,
                    GSK_CLIENT_AUTH_PASSTHRU => ClientAuth::PassThru,
                    GSK_OS400_CLIENT_AUTH_REQUIRED => ClientAuth::Required,
                    _ => return Err(GSK_ATTRIBUTE_INVALID_ENUMERATION),
                }
            }
            GSK_SERVER_AUTH_TYPE => {
                attrs.server_auth = match enumValue {
                    GSK_SERVER_AUTH_FULL | GSK_OS400_SERVER_AUTH_REQUIRED => ServerAuth::Full,
                    GSK_SERVER_AUTH_PASSTHRU => ServerAuth::PassThru,
                    _ => return Err(GSK_ATTRIBUTE_INVALID_ENUMERATION),
                }
            }
            GSK_PROTOCOL_SSLV2 => {
                off_only(enumValue, GSK_PROTOCOL_SSLV2_ON, GSK_PROTOCOL_SSLV2_OFF)?
            }
            GSK_PROTOCOL_SSLV3 => {
                off_only(enumValue, GSK_PROTOCOL_SSLV3_ON, GSK_PROTOCOL_SSLV3_OFF)?
            }
            GSK_PROTOCOL_TLSV1 => {
                attrs.tlsv1_master = match enumValue {
                    GSK_PROTOCOL_TLSV1_ON => true,
                    GSK_PROTOCOL_TLSV1_OFF => false,
                    _ => return Err(GSK_ATTRIBUTE_INVALID_ENUMERATION),
                }
            }
            GSK_PROTOCOL_TLSV10 | GSK_PROTOCOL_TLSV11 => off_only(enumValue, GSK_TRUE, GSK_FALSE)?,
            GSK_PROTOCOL_TLSV12 => attrs.tls12 = Some(on_off(enumValue)?),
            GSK_PROTOCOL_TLSV13 => attrs.tls13 = Some(on_off(enumValue)?),
            GSK_ENVIRONMENT_CLOSE_OPTIONS => off_only(
                enumValue,
                GSK_NORMAL_ENVIRONMENT_CLOSE,
                GSK_DELAYED_ENVIRONMENT_CLOSE,
            )?,
            // rustls never renegotiates.
            GSK_NO_RENEGOTIATION => off_only(enumValue, GSK_FALSE, GSK_TRUE)?,
            id if unsupported_enum(id) => return Err(GSK_ERROR_UNSUPPORTED),
            _ => return Err(GSK_ATTRIBUTE_INVALID_ID),
        }
        Ok(())
    }))
}

/// Gets an enumerated attribute (for a session after its handshake, also `GSK_PROTOCOL_USED`
/// and `GSK_SID_FIRST`).
///
/// # Safety
/// `enumValue` must be NULL or point to a writable `GSK_ENUM_VALUE`.
#[no_mangle]
pub unsafe extern "C" fn gsk_attribute_get_enum(
    my_gsk_handle: gsk_handle,
    enumID: GSK_ENUM_ID,
    enumValue: *mut GSK_ENUM_VALUE,
) -> c_int {
    if enumValue.is_null() {
        return GSK_OS400_ERROR_INVALID_POINTER;
    }
    if matches!(enumID, GSK_PROTOCOL_USED | GSK_SID_FIRST) {
        return session_enum(my_gsk_handle, enumID, enumValue);
    }
    let value = with_attrs(my_gsk_handle, false, false, |attrs, _| {
        let flag = |on: bool| if on { GSK_TRUE } else { GSK_FALSE };
        Ok(match enumID {
            GSK_SESSION_TYPE => match attrs.session_type {
                SessionType::Client => GSK_CLIENT_SESSION,
                SessionType::Server => GSK_SERVER_SESSION,
                SessionType::ServerWithClientAuth => GSK_SERVER_SESSION_WITH_CL_AUTH,
            },
            GSK_CLIENT_AUTH_TYPE => match attrs.client_auth {
                ClientAuth::Full => GSK_CLIENT_AUTH_FULL,
                ClientAuth::PassThru => GSK_CLIENT_AUTH_PASSTHRU,
                ClientAuth::Required => GSK_OS400_CLIENT_AUTH_REQUIRED,
            },
            GSK_SERVER_AUTH_TYPE => match attrs.server_auth {
                ServerAuth::Full => GSK_SERVER_AUTH_FULL,
                ServerAuth::PassThru => GSK_SERVER_AUTH_PASSTHRU,
            },
            GSK_PROTOCOL_SSLV2 => GSK_PROTOCOL_SSLV2_OFF,
            GSK_PROTOCOL_SSLV3 => GSK_PROTOCOL_SSLV3_OFF,
            GSK_PROTOCOL_TLSV1 if attrs.tlsv1_master => GSK_PROTOCOL_TLSV1_ON,
            GSK_PROTOCOL_TLSV1 => GSK_PROTOCOL_TLSV1_OFF,
            GSK_PROTOCOL_TLSV10 | GSK_PROTOCOL_TLSV11 => GSK_FALSE,
            GSK_PROTOCOL_TLSV12 => flag(attrs.tls12_enabled()),
            GSK_PROTOCOL_TLSV13 => flag(attrs.tls13_enabled()),
            GSK_ENVIRONMENT_CLOSE_OPTIONS => GSK_DELAYED_ENVIRONMENT_CLOSE,
            GSK_NO_RENEGOTIATION => GSK_TRUE,
            id if unsupported_enum(id) => return Err(GSK_ERROR_UNSUPPORTED),
            _ => return Err(GSK_ATTRIBUTE_INVALID_ID),
        })
    });
    match value {
        Ok(v) => {
            // SAFETY: non-null and writable by the caller's contract.
            unsafe { *enumValue = v };
            GSK_OK
        }
        Err(code) => code,
    }
}

/// `GSK_PROTOCOL_USED` and `GSK_SID_FIRST`: what a session's handshake agreed on.
///
/// # Safety
/// `enumValue` is non-null and writable.
unsafe fn session_enum(
    handle: gsk_handle,
    id: GSK_ENUM_ID,
    enumValue: *mut GSK_ENUM_VALUE,
) -> c_int {
    let session = match handles::get(handle) {
        Some(Object::Session(session)) => session,
        Some(Object::Env(_)) => return GSK_ATTRIBUTE_INVALID_ID,
        None => return GSK_INVALID_HANDLE,
    };
    let st = session.lock();
    if st.phase != Phase::Ready {
        return GSK_INVALID_STATE;
    }
    let value = if id == GSK_PROTOCOL_USED {
        match st.protocol() {
            Some(rustls::ProtocolVersion::TLSv1_3) => GSK_PROTOCOL_USED_TLSV13,
            Some(rustls::ProtocolVersion::TLSv1_2) => GSK_PROTOCOL_USED_TLSV12,
            _ => return GSK_INVALID_STATE,
        }
    } else {
        match st.full_handshake() {
            Some(true) => GSK_SID_IS_FIRST,
            Some(false) => GSK_SID_NOT_FIRST,
            None => return GSK_INVALID_STATE,
        }
    };
    // SAFETY: non-null and writable (the caller checked).
    unsafe { *enumValue = value };
    GSK_OK
}

/// Numeric identifiers IBM defines that the library does not honour.
fn unsupported_numeric(id: GSK_NUM_ID) -> bool {
    matches!(id, 301..=329 | GSK_CERTIFICATE_VALIDATION_CODE)
}

/// Sets a numeric attribute: `GSK_FD` (sessions), `GSK_HANDSHAKE_TIMEOUT` (seconds),
/// `GSK_OS400_READ_TIMEOUT` (milliseconds; may change at any time).
#[no_mangle]
pub extern "C" fn gsk_attribute_set_numeric_value(
    my_gsk_handle: gsk_handle,
    numID: GSK_NUM_ID,
    numValue: c_int,
) -> c_int {
    let always = numID == GSK_OS400_READ_TIMEOUT;
    result(with_attrs(my_gsk_handle, true, always, |attrs, session| {
        if numValue < 0
            && matches!(
                numID,
                GSK_FD | GSK_HANDSHAKE_TIMEOUT | GSK_OS400_READ_TIMEOUT
            )
        {
            return Err(GSK_ATTRIBUTE_INVALID_NUMERIC_VALUE);
        }
        match numID {
            GSK_FD if session.is_some() => attrs.fd = numValue,
            GSK_FD => return Err(GSK_ATTRIBUTE_INVALID_ID),
            GSK_HANDSHAKE_TIMEOUT => attrs.handshake_timeout_s = numValue,
            GSK_OS400_READ_TIMEOUT => attrs.read_timeout_ms = numValue,
            id if unsupported_numeric(id) => return Err(GSK_ERROR_UNSUPPORTED),
            _ => return Err(GSK_ATTRIBUTE_INVALID_ID),
        }
        Ok(())
    }))
}

/// Gets a numeric attribute.
///
/// # Safety
/// `numValue` must be NULL or point to a writable `int`.
#[no_mangle]
pub unsafe extern "C" fn gsk_attribute_get_numeric_value(
    my_gsk_handle: gsk_handle,
    numID: GSK_NUM_ID,
    numValue: *mut c_int,
) -> c_int {
    if numValue.is_null() {
        return GSK_OS400_ERROR_INVALID_POINTER;
    }
    let value = with_attrs(my_gsk_handle, false, false, |attrs, session| match numID {
        GSK_FD if session.is_some() => Ok(attrs.fd),
        GSK_FD => Err(GSK_ATTRIBUTE_INVALID_ID),
        GSK_HANDSHAKE_TIMEOUT => Ok(attrs.handshake_timeout_s),
        GSK_OS400_READ_TIMEOUT => Ok(attrs.read_timeout_ms),
        id if unsupported_numeric(id) => Err(GSK_ERROR_UNSUPPORTED),
        _ => Err(GSK_ATTRIBUTE_INVALID_ID),
    });
    match value {
        Ok(v) => {
            // SAFETY: non-null and writable by the caller's contract.
            unsafe { *numValue = v };
            GSK_OK
        }
        Err(code) => code,
    }
}
