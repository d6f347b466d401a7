//! IBM's GSKit return codes (numbers from IBM's gskssl.h documentation).

use libc::c_int;

/// The call succeeded.
pub const GSK_OK: c_int = 0;
/// An I/O error; `errno` (or `errnoValue`) says which.
pub const GSK_ERROR_IO: c_int = 406;
/// A time limit ran out (IBM i).
pub const GSK_OS400_ERROR_TIMED_OUT: c_int = 6015;
