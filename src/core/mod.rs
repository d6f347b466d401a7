//! The core: completion ports, waiters, operations, per-descriptor state and timers.
//!
//! Contract: nothing here knows the C struct's bit-fields or C errno conventions for the
//! caller; the core speaks in `OpRequest`, `Completion`, `Ending` and raw errno numbers from
//! the kernel, and the C face (`crate::ffi`) translates.

pub mod fdtable;
pub mod op;
pub mod port;
pub mod registry;
pub mod sockinfo;
pub mod timers;
pub mod waiter;
