//! The synchronisation primitives of the core: std's, or loom's when built with `--cfg loom`
//! so that `tests/loom_port.rs` can model-check the port's hand-offs (every interleaving of
//! posts, waits and destroy).

#[cfg(loom)]
pub use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub use std::sync::{Arc, Condvar, Mutex, MutexGuard};
