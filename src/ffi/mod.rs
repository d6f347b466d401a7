//! The C face: the exported `Qso*` functions and the close hook.
//!
//! Contract: every exported function checks each argument before anything starts, reports
//! failure as -1 (0 for `QsoGenerateOperationId`) with `errno` set, never unwinds or crashes on
//! bad input, and translates between `Qso_OverlappedIO_t` and the core's types. Policy lives in
//! `crate::core`.

#![allow(non_snake_case)] // the exported functions keep IBM's parameter names

pub mod close_hook;
/// The GSK calls go to include/gskssl.h (cbindgen-gsk.toml), not to qsoasync.h.
/// cbindgen:ignore
pub mod gsk;
pub mod ibmi;
pub mod ids;
pub mod port;
mod record;
pub mod socket_ops;
