//! `gsk_strerror`: a short English text for every GSK return code.
//!
//! Contract: always returns a valid, static, NUL-terminated string (an unknown code gets a
//! generic text); the caller must not free or change it.

use super::codes::*;
use libc::{c_char, c_int};
use std::ffi::CStr;

fn text(code: c_int) -> &'static CStr {
    match code {
        GSK_OK => c"The call succeeded",
        GSK_INVALID_HANDLE => c"The handle is not valid",
        GSK_API_NOT_AVAILABLE => c"The API is not available",
        GSK_INTERNAL_ERROR => c"An internal error occurred",
        GSK_INSUFFICIENT_STORAGE => c"Not enough storage is available",
        GSK_INVALID_STATE => c"The handle is not in a valid state for this call",
        GSK_KEY_LABEL_NOT_FOUND => c"The key label was not found",
        GSK_CERTIFICATE_NOT_AVAILABLE => c"The certificate is not available",
        GSK_ERROR_CERT_VALIDATION => c"Certificate validation failed",
        GSK_ERROR_CRYPTO => c"A cryptographic error occurred",
        GSK_ERROR_ASN => c"The certificate could not be decoded (ASN.1)",
        GSK_ERROR_UNKNOWN_ERROR => c"An unknown error occurred",
        GSK_INVALID_PARAMETER => c"A parameter is not valid",
        GSK_KEYFILE_IO_ERROR => c"The keyring file could not be read",
        GSK_KEYFILE_INVALID_FORMAT => c"The keyring file is not a PEM file with certificates",
        GSK_KEYRING_OPEN_ERROR => c"The keyring could not be opened (none named, or not found)",
        GSK_CLOSE_FAILED => c"The close failed",
        GSK_ERROR_BAD_DATE => c"A certificate is expired or not yet valid",
        GSK_ERROR_NO_CIPHERS => c"No protocol or cipher is available in common with the peer",
        GSK_ERROR_NO_CERTIFICATE => c"No certificate was available or sent",
        GSK_ERROR_BAD_CERTIFICATE => c"A certificate is not valid or does not match its key",
        GSK_ERROR_IO => c"An I/O error occurred (see errno)",
        GSK_ERROR_BAD_MESSAGE => c"A badly formed message was received from the peer",
        GSK_ERROR_BAD_MAC => c"A record failed its integrity check",
        GSK_ERROR_UNSUPPORTED => c"The request is not supported",
        GSK_ERROR_BAD_CERT_SIG => c"A certificate signature is not valid",
        GSK_ERROR_BAD_PEER => c"The peer ended the handshake with a fatal alert",
        GSK_ERROR_SOCKET_CLOSED => {
            c"The connection was closed in the middle of a record or handshake"
        }
        GSK_ERROR_NO_PRIVATE_KEY => c"The keyring has no private key",
        GSK_INVALID_BUFFER_SIZE => c"The buffer length is not valid",
        GSK_WOULD_BLOCK => c"The operation would block",
        GSK_MISC_INVALID_ID => c"The misc request identifier is not valid",
        GSK_ATTRIBUTE_INVALID_ID => c"The attribute identifier is not valid for this handle",
        GSK_ATTRIBUTE_INVALID_LENGTH => c"The attribute value's length (or value) is not valid",
        GSK_ATTRIBUTE_INVALID_ENUMERATION => {
            c"The enumerated value is not valid for this attribute"
        }
        GSK_ATTRIBUTE_INVALID_NUMERIC_VALUE => c"The numeric value is not valid for this attribute",
        GSK_OS400_ERROR_NOT_TRUSTED_ROOT => c"The certificate is not signed by a trusted authority",
        GSK_OS400_ERROR_NOT_REGISTERED => c"The application id has no certificate file",
        GSK_OS400_ERROR_NO_ACCESS => c"No access to the keyring or application id file",
        GSK_OS400_ERROR_CLOSED => c"The secure session was closed",
        GSK_OS400_ERROR_NO_CERTIFICATE_AUTHORITIES => {
            c"The keyring has no certificate authority to validate the peer with"
        }
        GSK_OS400_ERROR_ALREADY_SECURE => c"The session's handshake was already started",
        GSK_OS400_ERROR_NOT_TCP => c"The socket is not a stream socket",
        GSK_OS400_ERROR_INVALID_POINTER => c"A pointer is not valid",
        GSK_OS400_ERROR_TIMED_OUT => c"The time limit ran out",
        GSK_OS400_ASYNCHRONOUS_RECV => c"The receive was started asynchronously",
        GSK_OS400_ASYNCHRONOUS_SEND => c"The send was started asynchronously",
        GSK_OS400_ERROR_INVALID_OVERLAPPEDIO_T => c"The Qso_OverlappedIO_t is not valid",
        GSK_OS400_ERROR_INVALID_IOCOMPLETIONPORT => c"The I/O completion port is not valid",
        GSK_OS400_ERROR_BAD_SOCKET_DESCRIPTOR => c"The socket descriptor is not valid",
        GSK_OS400_ERROR_CERTIFICATE_REVOKED => c"The certificate is revoked",
        GSK_OS400_ERROR_CRL_INVALID => c"The certificate revocation list is not valid",
        GSK_OS400_ASYNCHRONOUS_SOC_INIT => c"The handshake was started asynchronously",
        _ => c"Unknown GSKit return code",
    }
}

/// The text for a GSK return code.
#[no_mangle]
pub extern "C" fn gsk_strerror(gsk_return_value: c_int) -> *const c_char {
    text(gsk_return_value).as_ptr()
}
