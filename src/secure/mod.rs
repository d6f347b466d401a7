//! The secure layer: GSKit's environments and sessions on rustls, with TLS steps that run as
//! operations of the core (no thread and no event loop of its own).
//!
//! Contract:
//! * `session` holds the state of environments and sessions and the non-blocking TLS steps;
//!   `driver` wraps those steps as the core's `OpDriver`s; `config` builds rustls
//!   configurations from attributes (`attrs`) and keyrings (`keyring`); `errors` turns rustls's
//!   failures into IBM's GSK codes; `io` is the socket as rustls sees it;
//! * failures are reported as IBM's GSK return codes, the numbers of `ffi::gsk::codes` (a table
//!   of constants, shared with the C face);
//! * nothing here knows C pointers or handles: the C face (`ffi::gsk`) checks them and calls in.

pub mod attrs;
pub mod config;
pub mod driver;
pub mod errors;
pub mod io;
pub mod keyring;
pub mod session;
