//! IBM's GSKit numbers: the return codes, the attribute identifiers and values, and the handle
//! type of `gskssl.h`, with IBM's names and IBM's numbers.
//!
//! Contract: this module is a table and nothing else. Every item here is emitted into
//! `include/gskssl.h` by cbindgen (see `cbindgen-gsk.toml` and `build.rs`), in this order. The
//! numbers are IBM's: from IBM's documentation of the GSKit APIs for IBM i (V5R4 to 7.5) and, where
//! a page does not print the number, from IBM's `gskssl.h` as reproduced in long-lived IBM i
//! code. The IBM i specific codes (6000 and up) are given under the three spellings IBM used
//! over the years: `GSK_OS400_*` (V5R2 to 7.1), `GSK_AS400_*` (V5R1) and `GSK_IBMI_*` (7.2 on).
//! Number 6006 is not assigned in any source the project could consult, so no name has it; two
//! codes whose spelling could not be confirmed (207, 430) are left out rather than guessed.
//!
//! IBM declares the identifier and value sets as C enums forced to four bytes; here they are
//! `int` typedefs with `#define`d values, which is the same ABI and accepts the same programs.
//! What the library does with each attribute is in `docs/gsk.md`.

#![allow(non_camel_case_types)]

use libc::{c_int, c_void};

/// A GSKit environment or secure session handle (an opaque value; never dereference it).
pub type gsk_handle = *mut c_void;
/// Buffer (character string) attribute identifiers (`gsk_attribute_set_buffer`).
pub type GSK_BUF_ID = c_int;
/// Numeric attribute identifiers (`gsk_attribute_set_numeric_value`).
pub type GSK_NUM_ID = c_int;
/// Enumerated attribute identifiers (`gsk_attribute_set_enum`).
pub type GSK_ENUM_ID = c_int;
/// Enumerated attribute values (`gsk_attribute_set_enum`).
pub type GSK_ENUM_VALUE = c_int;
/// `gsk_secure_soc_misc` request identifiers.
pub type GSK_MISC_ID = c_int;
/// Certificate identifiers (`gsk_attribute_get_cert_info`).
pub type GSK_CERT_ID = c_int;
/// Callback identifiers (`gsk_attribute_set_callback`).
pub type GSK_CALLBACK_ID = c_int;

// ---- Return codes: any call ---------------------------------------------------------------

/// The call succeeded.
pub const GSK_OK: c_int = 0;
/// The handle is not a live environment or session handle.
pub const GSK_INVALID_HANDLE: c_int = 1;
/// The API is not available.
pub const GSK_API_NOT_AVAILABLE: c_int = 2;
/// An unexpected internal error.
pub const GSK_INTERNAL_ERROR: c_int = 3;
/// Not enough storage.
pub const GSK_INSUFFICIENT_STORAGE: c_int = 4;
/// The handle is not in the right state for this call.
pub const GSK_INVALID_STATE: c_int = 5;
/// The keyring label was not found.
pub const GSK_KEY_LABEL_NOT_FOUND: c_int = 6;
/// The certificate is not available.
pub const GSK_CERTIFICATE_NOT_AVAILABLE: c_int = 7;
/// The peer's certificate failed validation.
pub const GSK_ERROR_CERT_VALIDATION: c_int = 8;
/// A cryptographic error.
pub const GSK_ERROR_CRYPTO: c_int = 9;
/// An ASN.1 decoding error.
pub const GSK_ERROR_ASN: c_int = 10;
/// An LDAP error.
pub const GSK_ERROR_LDAP: c_int = 11;
/// An unknown error.
pub const GSK_ERROR_UNKNOWN_ERROR: c_int = 12;
/// A parameter is not valid.
pub const GSK_INVALID_PARAMETER: c_int = 13;

// ---- Return codes: the open calls ---------------------------------------------------------

pub const GSK_OPEN_CIPHER_ERROR: c_int = 101;
/// The keyring file could not be read.
pub const GSK_KEYFILE_IO_ERROR: c_int = 102;
/// The keyring file is not in a format the library reads.
pub const GSK_KEYFILE_INVALID_FORMAT: c_int = 103;
pub const GSK_KEYFILE_DUPLICATE_KEY: c_int = 104;
pub const GSK_KEYFILE_DUPLICATE_LABEL: c_int = 105;
pub const GSK_BAD_FORMAT_OR_INVALID_PASSWORD: c_int = 106;
pub const GSK_KEYFILE_CERT_EXPIRED: c_int = 107;
pub const GSK_ERROR_LOAD_GSKLIB: c_int = 108;
pub const GSK_PENDING_CLOSE_ERROR: c_int = 109;

// ---- Return codes: gsk_environment_init ---------------------------------------------------

pub const GSK_NO_KEYFILE_PASSWORD: c_int = 201;
/// The keyring (file or application id) could not be opened.
pub const GSK_KEYRING_OPEN_ERROR: c_int = 202;
pub const GSK_RSA_TEMP_KEY_PAIR: c_int = 203;
pub const GSK_ERROR_LDAP_NO_SUCH_OBJECT: c_int = 204;
pub const GSK_ERROR_LDAP_INVALID_CREDENTIALS: c_int = 205;
pub const GSK_ERROR_BAD_INDEX: c_int = 206;

// ---- Return codes: the close calls --------------------------------------------------------

pub const GSK_CLOSE_FAILED: c_int = 301;

// ---- Return codes: gsk_secure_soc_init and the data calls ---------------------------------

/// A certificate is expired or not yet valid.
pub const GSK_ERROR_BAD_DATE: c_int = 401;
/// No cipher (or protocol version) in common with the peer.
pub const GSK_ERROR_NO_CIPHERS: c_int = 402;
/// No certificate: the keyring has none, or the peer sent none where one is required.
pub const GSK_ERROR_NO_CERTIFICATE: c_int = 403;
/// A certificate could not be decoded.
pub const GSK_ERROR_BAD_CERTIFICATE: c_int = 404;
pub const GSK_ERROR_UNSUPPORTED_CERTIFICATE_TYPE: c_int = 405;
/// An I/O error: `errno` (or `errnoValue` in a completion) says which.
pub const GSK_ERROR_IO: c_int = 406;
pub const GSK_ERROR_BAD_KEYFILE_LABEL: c_int = 407;
pub const GSK_ERROR_BAD_KEYFILE_PASSWORD: c_int = 408;
pub const GSK_ERROR_BAD_KEY_LEN_FOR_EXPORT: c_int = 409;
/// A badly formed message came from the peer.
pub const GSK_ERROR_BAD_MESSAGE: c_int = 410;
/// A record failed its integrity check (bad MAC or decryption failure).
pub const GSK_ERROR_BAD_MAC: c_int = 411;
/// The request is not supported (by this library: see docs/gsk.md).
pub const GSK_ERROR_UNSUPPORTED: c_int = 412;
/// A certificate's signature is not valid.
pub const GSK_ERROR_BAD_CERT_SIG: c_int = 413;
pub const GSK_ERROR_BAD_CERT: c_int = 414;
/// The peer ended the handshake with a fatal alert.
pub const GSK_ERROR_BAD_PEER: c_int = 415;
pub const GSK_ERROR_PERMISSION_DENIED: c_int = 416;
pub const GSK_ERROR_SELF_SIGNED: c_int = 417;
pub const GSK_ERROR_NO_READ_FUNCTION: c_int = 418;
pub const GSK_ERROR_NO_WRITE_FUNCTION: c_int = 419;
/// The connection ended in the middle of a record or of the handshake.
pub const GSK_ERROR_SOCKET_CLOSED: c_int = 420;
pub const GSK_ERROR_BAD_V2_CIPHER: c_int = 421;
pub const GSK_ERROR_BAD_V3_CIPHER: c_int = 422;
pub const GSK_ERROR_BAD_SEC_TYPE: c_int = 423;
pub const GSK_ERROR_BAD_SEC_TYPE_COMBINATION: c_int = 424;
pub const GSK_ERROR_HANDLE_CREATION_FAILED: c_int = 425;
pub const GSK_ERROR_INITIALIZATION_FAILED: c_int = 426;
pub const GSK_ERROR_LDAP_NOT_AVAILABLE: c_int = 427;
/// The keyring has a certificate but no private key.
pub const GSK_ERROR_NO_PRIVATE_KEY: c_int = 428;
pub const GSK_ERROR_PKCS11_LIBRARY_NOTLOADED: c_int = 429;
pub const GSK_ERROR_PKCS11_TOKEN_NOTPRESENT: c_int = 431;
pub const GSK_ERROR_PKCS11_TOKEN_BADPASSWORD: c_int = 432;
pub const GSK_ERROR_INVALID_V2_HEADER: c_int = 433;
pub const GSK_CSP_OPEN_ERROR: c_int = 434;
pub const GSK_CONFLICTING_ATTRIBUTE_SETTING: c_int = 435;
pub const GSK_UNSUPPORTED_PLATFORM: c_int = 436;
pub const GSK_PEERID_NOT_SET_ERROR: c_int = 437;
pub const GSK_ERROR_INCORRECT_SESSION_TYPE: c_int = 438;
pub const GSK_ERROR_BAD_TLSV11_CIPHER: c_int = 439;
pub const GSK_ERROR_PKCS11_DEVICE: c_int = 440;
pub const GSK_ERROR_PKCS11_DEVICE_SEVERE: c_int = 441;
pub const GSK_ERROR_EMPTY_DATA_SEGMENT: c_int = 442;
pub const GSK_ERROR_NO_RI_INDICATION: c_int = 443;
pub const GSK_ERROR_SEQNUM_EXHAUSTED: c_int = 444;

// ---- Return codes: gsk_secure_soc_read / write --------------------------------------------

/// A buffer length is not valid (less than 1).
pub const GSK_INVALID_BUFFER_SIZE: c_int = 501;
/// The operation would block (a non-blocking socket).
pub const GSK_WOULD_BLOCK: c_int = 502;
pub const GSK_ERROR_SSL_CLOSED: c_int = 503;

// ---- Return codes: gsk_secure_soc_misc ----------------------------------------------------

pub const GSK_ERROR_NOT_SSLV3: c_int = 601;
/// The misc request identifier is not valid.
pub const GSK_MISC_INVALID_ID: c_int = 602;

// ---- Return codes: the attribute calls ----------------------------------------------------

/// The attribute identifier is not valid (or not valid for this kind of handle).
pub const GSK_ATTRIBUTE_INVALID_ID: c_int = 701;
/// The attribute buffer length is not valid.
pub const GSK_ATTRIBUTE_INVALID_LENGTH: c_int = 702;
/// The enumerated value is not valid for this identifier.
pub const GSK_ATTRIBUTE_INVALID_ENUMERATION: c_int = 703;
pub const GSK_ATTRIBUTE_INVALID_SID_CACHE: c_int = 704;
/// The numeric value is out of range.
pub const GSK_ATTRIBUTE_INVALID_NUMERIC_VALUE: c_int = 705;
pub const GSK_CONFLICTING_VALIDATION_SETTING: c_int = 706;
pub const GSK_AES_UNSUPPORTED: c_int = 707;
pub const GSK_PEERID_LENGTH_ERROR: c_int = 708;
pub const GSK_FIPS_CIPHER_INVALID_WHEN_FIPS_MODE_OFF: c_int = 709;
pub const GSK_CIPHER_INVALID_WHEN_FIPS_MODE_ON: c_int = 710;
pub const GSK_CIPHER_INVALID_WHEN_SUITEB_MODE_ON: c_int = 711;

// ---- Return codes: the certificate prompt callback and the trace calls --------------------

pub const GSK_SC_OK: c_int = 1501;
pub const GSK_SC_CANCEL: c_int = 1502;
pub const GSK_TRACE_STARTED: c_int = 1601;
pub const GSK_TRACE_STOPPED: c_int = 1602;
pub const GSK_TRACE_NOT_STARTED: c_int = 1603;
pub const GSK_TRACE_ALREADY_STARTED: c_int = 1604;
pub const GSK_TRACE_OPEN_FAILED: c_int = 1605;

// ---- Return codes: IBM i (OS/400) -----------------------------------------------------------

/// The peer's certificate chain does not end at a trusted root.
pub const GSK_OS400_ERROR_NOT_TRUSTED_ROOT: c_int = 6000;
pub const GSK_OS400_ERROR_PASSWORD_EXPIRED: c_int = 6001;
/// The application id is not registered (here: it has no certificate file).
pub const GSK_OS400_ERROR_NOT_REGISTERED: c_int = 6002;
/// No access to the keyring or application id's files.
pub const GSK_OS400_ERROR_NO_ACCESS: c_int = 6003;
/// The secure session was closed while the operation was outstanding.
pub const GSK_OS400_ERROR_CLOSED: c_int = 6004;
pub const GSK_OS400_ERROR_NO_CERTIFICATE_AUTHORITIES: c_int = 6005;
pub const GSK_OS400_ERROR_NO_INITIALIZE: c_int = 6007;
/// The session is already secure (its handshake was started before).
pub const GSK_OS400_ERROR_ALREADY_SECURE: c_int = 6008;
/// The descriptor is not a stream (TCP) socket.
pub const GSK_OS400_ERROR_NOT_TCP: c_int = 6009;
/// A pointer argument (or the buffer in the communications area) is not valid.
pub const GSK_OS400_ERROR_INVALID_POINTER: c_int = 6010;
/// A time limit ran out (`GSK_HANDSHAKE_TIMEOUT`, `GSK_OS400_READ_TIMEOUT`).
pub const GSK_OS400_ERROR_TIMED_OUT: c_int = 6011;
/// `gsk_secure_soc_startRecv` started; the port is posted when it ends.
pub const GSK_OS400_ASYNCHRONOUS_RECV: c_int = 6012;
/// `gsk_secure_soc_startSend` started; the port is posted when it ends.
pub const GSK_OS400_ASYNCHRONOUS_SEND: c_int = 6013;
/// The communications area (`Qso_OverlappedIO_t *`) is not valid.
pub const GSK_OS400_ERROR_INVALID_OVERLAPPEDIO_T: c_int = 6014;
/// The completion port is not valid.
pub const GSK_OS400_ERROR_INVALID_IOCOMPLETIONPORT: c_int = 6015;
/// The session's socket descriptor is not valid.
pub const GSK_OS400_ERROR_BAD_SOCKET_DESCRIPTOR: c_int = 6016;
pub const GSK_OS400_ERROR_CERTIFICATE_REVOKED: c_int = 6017;
pub const GSK_OS400_ERROR_CRL_INVALID: c_int = 6018;
/// `gsk_secure_soc_startInit` started; the port is posted when the handshake ends.
pub const GSK_OS400_ASYNCHRONOUS_SOC_INIT: c_int = 6019;

pub const GSK_AS400_ERROR_NOT_TRUSTED_ROOT: c_int = GSK_OS400_ERROR_NOT_TRUSTED_ROOT;
pub const GSK_AS400_ERROR_PASSWORD_EXPIRED: c_int = GSK_OS400_ERROR_PASSWORD_EXPIRED;
pub const GSK_AS400_ERROR_NOT_REGISTERED: c_int = GSK_OS400_ERROR_NOT_REGISTERED;
pub const GSK_AS400_ERROR_NO_ACCESS: c_int = GSK_OS400_ERROR_NO_ACCESS;
pub const GSK_AS400_ERROR_CLOSED: c_int = GSK_OS400_ERROR_CLOSED;
pub const GSK_AS400_ERROR_NO_CERTIFICATE_AUTHORITIES: c_int =
    GSK_OS400_ERROR_NO_CERTIFICATE_AUTHORITIES;
pub const GSK_AS400_ERROR_NO_INITIALIZE: c_int = GSK_OS400_ERROR_NO_INITIALIZE;
pub const GSK_AS400_ERROR_ALREADY_SECURE: c_int = GSK_OS400_ERROR_ALREADY_SECURE;
pub const GSK_AS400_ERROR_NOT_TCP: c_int = GSK_OS400_ERROR_NOT_TCP;
pub const GSK_AS400_ERROR_INVALID_POINTER: c_int = GSK_OS400_ERROR_INVALID_POINTER;
pub const GSK_AS400_ERROR_TIMED_OUT: c_int = GSK_OS400_ERROR_TIMED_OUT;
pub const GSK_AS400_ASYNCHRONOUS_RECV: c_int = GSK_OS400_ASYNCHRONOUS_RECV;
pub const GSK_AS400_ASYNCHRONOUS_SEND: c_int = GSK_OS400_ASYNCHRONOUS_SEND;
pub const GSK_AS400_ERROR_INVALID_OVERLAPPEDIO_T: c_int = GSK_OS400_ERROR_INVALID_OVERLAPPEDIO_T;
pub const GSK_AS400_ERROR_INVALID_IOCOMPLETIONPORT: c_int =
    GSK_OS400_ERROR_INVALID_IOCOMPLETIONPORT;
pub const GSK_AS400_ERROR_BAD_SOCKET_DESCRIPTOR: c_int = GSK_OS400_ERROR_BAD_SOCKET_DESCRIPTOR;
pub const GSK_AS400_ERROR_CERTIFICATE_REVOKED: c_int = GSK_OS400_ERROR_CERTIFICATE_REVOKED;
pub const GSK_AS400_ERROR_CRL_INVALID: c_int = GSK_OS400_ERROR_CRL_INVALID;
pub const GSK_AS400_ASYNCHRONOUS_SOC_INIT: c_int = GSK_OS400_ASYNCHRONOUS_SOC_INIT;

pub const GSK_IBMI_ERROR_NOT_TRUSTED_ROOT: c_int = GSK_OS400_ERROR_NOT_TRUSTED_ROOT;
pub const GSK_IBMI_ERROR_PASSWORD_EXPIRED: c_int = GSK_OS400_ERROR_PASSWORD_EXPIRED;
pub const GSK_IBMI_ERROR_NOT_REGISTERED: c_int = GSK_OS400_ERROR_NOT_REGISTERED;
pub const GSK_IBMI_ERROR_NO_ACCESS: c_int = GSK_OS400_ERROR_NO_ACCESS;
pub const GSK_IBMI_ERROR_CLOSED: c_int = GSK_OS400_ERROR_CLOSED;
pub const GSK_IBMI_ERROR_NO_CERTIFICATE_AUTHORITIES: c_int =
    GSK_OS400_ERROR_NO_CERTIFICATE_AUTHORITIES;
pub const GSK_IBMI_ERROR_NO_INITIALIZE: c_int = GSK_OS400_ERROR_NO_INITIALIZE;
pub const GSK_IBMI_ERROR_ALREADY_SECURE: c_int = GSK_OS400_ERROR_ALREADY_SECURE;
pub const GSK_IBMI_ERROR_NOT_TCP: c_int = GSK_OS400_ERROR_NOT_TCP;
pub const GSK_IBMI_ERROR_INVALID_POINTER: c_int = GSK_OS400_ERROR_INVALID_POINTER;
pub const GSK_IBMI_ERROR_TIMED_OUT: c_int = GSK_OS400_ERROR_TIMED_OUT;
pub const GSK_IBMI_ASYNCHRONOUS_RECV: c_int = GSK_OS400_ASYNCHRONOUS_RECV;
pub const GSK_IBMI_ASYNCHRONOUS_SEND: c_int = GSK_OS400_ASYNCHRONOUS_SEND;
pub const GSK_IBMI_ERROR_INVALID_OVERLAPPEDIO_T: c_int = GSK_OS400_ERROR_INVALID_OVERLAPPEDIO_T;
pub const GSK_IBMI_ERROR_INVALID_IOCOMPLETIONPORT: c_int = GSK_OS400_ERROR_INVALID_IOCOMPLETIONPORT;
pub const GSK_IBMI_ERROR_BAD_SOCKET_DESCRIPTOR: c_int = GSK_OS400_ERROR_BAD_SOCKET_DESCRIPTOR;
pub const GSK_IBMI_ERROR_CERTIFICATE_REVOKED: c_int = GSK_OS400_ERROR_CERTIFICATE_REVOKED;
pub const GSK_IBMI_ERROR_CRL_INVALID: c_int = GSK_OS400_ERROR_CRL_INVALID;
pub const GSK_IBMI_ASYNCHRONOUS_SOC_INIT: c_int = GSK_OS400_ASYNCHRONOUS_SOC_INIT;

/// The first and last numbers of IBM i's own codes, and z/OS's.
pub const GSK_IBMI_BASE: c_int = 6000;
pub const GSK_IBMI_BASE_END: c_int = 6999;
pub const GSK_ZOS_BASE: c_int = 7000;
pub const GSK_ZOS_BASE_END: c_int = 7999;
/// IBM's four-byte sentinel for its enums (never a valid value).
pub const GSK_IBMI_4BYTE_VALUE: c_int = 70000;

// ---- gsk_secure_soc_misc identifiers ------------------------------------------------------

/// Renegotiate the handshake.
pub const GSK_RESET_CIPHER: GSK_MISC_ID = 100;
/// Remove the session from the resumption cache.
pub const GSK_RESET_SESSION: GSK_MISC_ID = 101;
/// Send a TLS close_notify alert to the peer.
pub const GSK_CLOSE_NOTIFY: GSK_MISC_ID = 102;
/// Renegotiate with a full handshake (IBM i: 103).
pub const GSK_RESET_CIPHER_WITHNEWSESSION: GSK_MISC_ID = 103;

// ---- Buffer attributes (GSK_BUF_ID) ---------------------------------------------------------

pub const GSK_USER_DATA: GSK_BUF_ID = 200;
/// The keyring: here a PEM file (see docs/gsk.md).
pub const GSK_KEYRING_FILE: GSK_BUF_ID = 201;
/// The keyring's password.
pub const GSK_KEYRING_PW: GSK_BUF_ID = 202;
/// The label of the certificate to use from the keyring.
pub const GSK_KEYRING_LABEL: GSK_BUF_ID = 203;
pub const GSK_KEYRING_STASH_FILE: GSK_BUF_ID = 204;
pub const GSK_V2_CIPHER_SPECS: GSK_BUF_ID = 205;
pub const GSK_V3_CIPHER_SPECS: GSK_BUF_ID = 206;
pub const GSK_CONNECT_CIPHER_SPEC: GSK_BUF_ID = 207;
pub const GSK_CONNECT_SEC_TYPE: GSK_BUF_ID = 208;
pub const GSK_LDAP_SERVER: GSK_BUF_ID = 209;
pub const GSK_LDAP_USER: GSK_BUF_ID = 210;
pub const GSK_LDAP_USER_PW: GSK_BUF_ID = 211;
pub const GSK_SID_VALUE: GSK_BUF_ID = 212;
pub const GSK_PKCS11_DRIVER_PATH: GSK_BUF_ID = 213;
pub const GSK_PKCS11_TOKEN_LABEL: GSK_BUF_ID = 214;
pub const GSK_PKCS11_TOKEN_PWD: GSK_BUF_ID = 215;
pub const GSK_CSP_NAME: GSK_BUF_ID = 216;
pub const GSK_OCSP_URL: GSK_BUF_ID = 221;
pub const GSK_OCSP_REQUEST_SIGKEYLABEL: GSK_BUF_ID = 222;
pub const GSK_OCSP_PROXY_SERVER_NAME: GSK_BUF_ID = 223;
pub const GSK_UNKNOWNREVOCATIONSTATUS_SUBJECT: GSK_BUF_ID = 224;
/// Client: the server name sent (SNI) and verified against the server's certificate.
pub const GSK_SSL_EXTN_SERVERNAME_REQUEST: GSK_BUF_ID = 230;
pub const GSK_SSL_EXTN_SERVERNAME_CRITICAL_REQUEST: GSK_BUF_ID = 231;
pub const GSK_SSL_EXTN_SERVERNAME_LIST: GSK_BUF_ID = 232;
pub const GSK_SSL_EXTN_SERVERNAME_CRITICAL_LIST: GSK_BUF_ID = 233;
pub const GSK_SSL_EXTN_SERVERNAME: GSK_BUF_ID = 234;
pub const GSK_VALIDATIONFAIL_SUBJECT: GSK_BUF_ID = 235;
pub const GSK_TLSV10_CIPHER_SPECS: GSK_BUF_ID = 236;
pub const GSK_TLSV11_CIPHER_SPECS: GSK_BUF_ID = 237;
pub const GSK_TLSV12_CIPHER_SPECS: GSK_BUF_ID = 238;
pub const GSK_V3_CIPHER_SPECS_EX: GSK_BUF_ID = 240;
pub const GSK_TLSV10_CIPHER_SPECS_EX: GSK_BUF_ID = 241;
pub const GSK_TLSV11_CIPHER_SPECS_EX: GSK_BUF_ID = 242;
pub const GSK_TLSV12_CIPHER_SPECS_EX: GSK_BUF_ID = 243;
pub const GSK_CONNECT_CIPHER_SPEC_EX: GSK_BUF_ID = 244;
pub const GSK_SSL_EXTN_SIGALG: GSK_BUF_ID = 245;
pub const GSK_CONNECT_COMPRESSION: GSK_BUF_ID = 247;
pub const GSK_UNKNOWNREVOCATIONSTATUS_SUBJECT_NOAIA: GSK_BUF_ID = 252;
/// The IBM i application id whose certificate the environment uses (see docs/gsk.md).
pub const GSK_OS400_APPLICATION_ID: GSK_BUF_ID = 6999;
pub const GSK_AS400_APPLICATION_ID: GSK_BUF_ID = GSK_OS400_APPLICATION_ID;
pub const GSK_IBMI_APPLICATION_ID: GSK_BUF_ID = GSK_OS400_APPLICATION_ID;

// ---- Numeric attributes (GSK_NUM_ID) --------------------------------------------------------

/// The session's socket descriptor.
pub const GSK_FD: GSK_NUM_ID = 300;
pub const GSK_V2_SESSION_TIMEOUT: GSK_NUM_ID = 301;
pub const GSK_V3_SESSION_TIMEOUT: GSK_NUM_ID = 302;
pub const GSK_LDAP_SERVER_PORT: GSK_NUM_ID = 303;
pub const GSK_V2_SIDCACHE_SIZE: GSK_NUM_ID = 304;
pub const GSK_V3_SIDCACHE_SIZE: GSK_NUM_ID = 305;
pub const GSK_LDAP_SERVER_INDEX: GSK_NUM_ID = 306;
pub const GSK_LDAP_FAILOVER_RECONNECTION_PERIOD: GSK_NUM_ID = 307;
pub const GSK_CRL_CACHE_ENTRY_LIFETIME: GSK_NUM_ID = 308;
pub const GSK_CRL_CACHE_SIZE: GSK_NUM_ID = 309;
pub const GSK_LAST_VALIDATION_ERROR: GSK_NUM_ID = 311;
pub const GSK_OCSP_PROXY_SERVER_PORT: GSK_NUM_ID = 312;
pub const GSK_OCSP_REQUEST_SIGALG: GSK_NUM_ID = 313;
pub const GSK_OCSP_MAX_RESPONSE_SIZE: GSK_NUM_ID = 315;
pub const GSK_OCSP_TIMEOUT: GSK_NUM_ID = 318;
pub const GSK_SSL_EXTN_MAXFRAGMENT_SIZE: GSK_NUM_ID = 321;
pub const GSK_OCSP_NONCE_SIZE: GSK_NUM_ID = 324;
pub const GSK_OCSP_CLIENT_CACHE_SIZE: GSK_NUM_ID = 326;
pub const GSK_TLS_CBCPROTECTION_METHOD: GSK_NUM_ID = 329;
/// Milliseconds `gsk_secure_soc_read` waits for data (0: no limit).
pub const GSK_OS400_READ_TIMEOUT: GSK_NUM_ID = 6993;
pub const GSK_AS400_READ_TIMEOUT: GSK_NUM_ID = GSK_OS400_READ_TIMEOUT;
pub const GSK_IBMI_READ_TIMEOUT: GSK_NUM_ID = GSK_OS400_READ_TIMEOUT;
pub const GSK_CERTIFICATE_VALIDATION_CODE: GSK_NUM_ID = 6996;
/// Seconds the handshake may take (0: no limit).
pub const GSK_HANDSHAKE_TIMEOUT: GSK_NUM_ID = 6998;

// ---- Enumerated attributes (GSK_ENUM_ID) ----------------------------------------------------

/// How a server treats client certificates (`GSK_SERVER_SESSION_WITH_CL_AUTH`).
pub const GSK_CLIENT_AUTH_TYPE: GSK_ENUM_ID = 401;
/// Client or server.
pub const GSK_SESSION_TYPE: GSK_ENUM_ID = 402;
pub const GSK_PROTOCOL_SSLV2: GSK_ENUM_ID = 403;
pub const GSK_PROTOCOL_SSLV3: GSK_ENUM_ID = 404;
/// The protocol a session negotiated (get only).
pub const GSK_PROTOCOL_USED: GSK_ENUM_ID = 405;
/// Whether the session's handshake was a full one (get only).
pub const GSK_SID_FIRST: GSK_ENUM_ID = 406;
/// The master switch of every TLS 1.x protocol.
pub const GSK_PROTOCOL_TLSV1: GSK_ENUM_ID = 407;
pub const GSK_ACCELERATOR_RAINBOW_CS: GSK_ENUM_ID = 408;
pub const GSK_ACCELERATOR_NCIPHER_NF: GSK_ENUM_ID = 409;
/// How a client treats the server's certificate.
pub const GSK_SERVER_AUTH_TYPE: GSK_ENUM_ID = 410;
pub const GSK_ENVIRONMENT_CLOSE_OPTIONS: GSK_ENUM_ID = 411;
pub const GSK_LDAP_REQUIRED_AT_INIT: GSK_ENUM_ID = 412;
pub const GSK_AES_SUPPORT: GSK_ENUM_ID = 413;
pub const GSK_ALLOW_UNAUTHENTICATED_RESUME: GSK_ENUM_ID = 423;
pub const GSK_OCSP_ENABLE: GSK_ENUM_ID = 426;
pub const GSK_OCSP_NONCE_CHECK_ENABLE: GSK_ENUM_ID = 427;
pub const GSK_OCSP_NONCE_GENERATION_ENABLE: GSK_ENUM_ID = 428;
pub const GSK_OCSP_RETRIEVE_VIA_GET: GSK_ENUM_ID = 435;
pub const GSK_PROTOCOL_TLSV10: GSK_ENUM_ID = 436;
pub const GSK_PROTOCOL_TLSV11: GSK_ENUM_ID = 437;
pub const GSK_PROTOCOL_TLSV12: GSK_ENUM_ID = 438;
pub const GSK_NO_RENEGOTIATION: GSK_ENUM_ID = 442;
pub const GSK_EXTENDED_RENEGOTIATION_CRITICAL_CLIENT: GSK_ENUM_ID = 451;
pub const GSK_EXTENDED_RENEGOTIATION_CRITICAL_SERVER: GSK_ENUM_ID = 452;
pub const GSK_CERTREQ_DNLIST_ENABLE: GSK_ENUM_ID = 457;
pub const GSK_PROTOCOL_TLSV13: GSK_ENUM_ID = 4030;

// ---- Enumerated values (GSK_ENUM_VALUE) -----------------------------------------------------

pub const GSK_FALSE: GSK_ENUM_VALUE = 0;
pub const GSK_TRUE: GSK_ENUM_VALUE = 1;
pub const GSK_NULL: GSK_ENUM_VALUE = 500;
/// GSK_CLIENT_AUTH_TYPE: a client certificate is validated when one is sent.
pub const GSK_CLIENT_AUTH_FULL: GSK_ENUM_VALUE = 503;
/// GSK_CLIENT_AUTH_TYPE: a client certificate is accepted without validation.
pub const GSK_CLIENT_AUTH_PASSTHRU: GSK_ENUM_VALUE = 505;
/// GSK_SESSION_TYPE: this side is the client.
pub const GSK_CLIENT_SESSION: GSK_ENUM_VALUE = 507;
/// GSK_SESSION_TYPE: this side is the server.
pub const GSK_SERVER_SESSION: GSK_ENUM_VALUE = 508;
/// GSK_SESSION_TYPE: this side is the server and asks for a client certificate.
pub const GSK_SERVER_SESSION_WITH_CL_AUTH: GSK_ENUM_VALUE = 509;
pub const GSK_PROTOCOL_SSLV2_ON: GSK_ENUM_VALUE = 510;
pub const GSK_PROTOCOL_SSLV2_OFF: GSK_ENUM_VALUE = 511;
pub const GSK_PROTOCOL_SSLV3_ON: GSK_ENUM_VALUE = 512;
pub const GSK_PROTOCOL_SSLV3_OFF: GSK_ENUM_VALUE = 513;
pub const GSK_PROTOCOL_USED_SSLV2: GSK_ENUM_VALUE = 514;
pub const GSK_PROTOCOL_USED_SSLV3: GSK_ENUM_VALUE = 515;
pub const GSK_SID_IS_FIRST: GSK_ENUM_VALUE = 516;
pub const GSK_SID_NOT_FIRST: GSK_ENUM_VALUE = 517;
pub const GSK_PROTOCOL_TLSV1_ON: GSK_ENUM_VALUE = 518;
pub const GSK_PROTOCOL_TLSV1_OFF: GSK_ENUM_VALUE = 519;
pub const GSK_PROTOCOL_USED_TLSV1: GSK_ENUM_VALUE = 520;
/// GSK_SERVER_AUTH_TYPE: the server's certificate is validated.
pub const GSK_SERVER_AUTH_FULL: GSK_ENUM_VALUE = 534;
/// GSK_SERVER_AUTH_TYPE: the server's certificate is accepted without validation.
pub const GSK_SERVER_AUTH_PASSTHRU: GSK_ENUM_VALUE = 535;
pub const GSK_DELAYED_ENVIRONMENT_CLOSE: GSK_ENUM_VALUE = 536;
pub const GSK_NORMAL_ENVIRONMENT_CLOSE: GSK_ENUM_VALUE = 537;
pub const GSK_INIT_CRL_LDAP_REQUIRED_ON: GSK_ENUM_VALUE = 538;
pub const GSK_INIT_CRL_LDAP_REQUIRED_OFF: GSK_ENUM_VALUE = 539;
pub const GSK_AES_SUPPORT_ON: GSK_ENUM_VALUE = 540;
pub const GSK_AES_SUPPORT_OFF: GSK_ENUM_VALUE = 541;
pub const GSK_ALLOW_UNAUTHENTICATED_RESUME_ON: GSK_ENUM_VALUE = 588;
pub const GSK_ALLOW_UNAUTHENTICATED_RESUME_OFF: GSK_ENUM_VALUE = 589;
pub const GSK_SERVER_SESSION_WITH_CL_AUTH_CRITICAL: GSK_ENUM_VALUE = 594;
pub const GSK_PROTOCOL_USED_TLSV11: GSK_ENUM_VALUE = 595;
pub const GSK_PROTOCOL_USED_TLSV12: GSK_ENUM_VALUE = 596;
pub const GSK_PROTOCOL_USED_TLSV13: GSK_ENUM_VALUE = 5000;
/// GSK_SERVER_AUTH_TYPE (IBM i): the server's certificate must be sent and validated.
pub const GSK_OS400_SERVER_AUTH_REQUIRED: GSK_ENUM_VALUE = 6994;
pub const GSK_AS400_SERVER_AUTH_REQUIRED: GSK_ENUM_VALUE = GSK_OS400_SERVER_AUTH_REQUIRED;
pub const GSK_IBMI_SERVER_AUTH_REQUIRED: GSK_ENUM_VALUE = GSK_OS400_SERVER_AUTH_REQUIRED;
/// GSK_CLIENT_AUTH_TYPE (IBM i): the client must send a certificate, and it is validated.
pub const GSK_OS400_CLIENT_AUTH_REQUIRED: GSK_ENUM_VALUE = 6995;
pub const GSK_AS400_CLIENT_AUTH_REQUIRED: GSK_ENUM_VALUE = GSK_OS400_CLIENT_AUTH_REQUIRED;
pub const GSK_IBMI_CLIENT_AUTH_REQUIRED: GSK_ENUM_VALUE = GSK_OS400_CLIENT_AUTH_REQUIRED;

// ---- Certificate and callback identifiers ----------------------------------------------------

pub const GSK_PARTNER_CERT_INFO: GSK_CERT_ID = 700;
pub const GSK_LOCAL_CERT_INFO: GSK_CERT_ID = 701;
pub const GSK_IO_CALLBACK: GSK_CALLBACK_ID = 800;
pub const GSK_SID_CACHE_CALLBACK: GSK_CALLBACK_ID = 801;
pub const GSK_CLIENT_CERT_CALLBACK: GSK_CALLBACK_ID = 802;
pub const GSK_PKCS11_CALLBACK: GSK_CALLBACK_ID = 803;
pub const GSK_ENVIRONMENT_CLOSE_CALLBACK: GSK_CALLBACK_ID = 804;
pub const GSK_CERT_VALIDATION_CALLBACK: GSK_CALLBACK_ID = 805;
