//! The readiness engine: the one seam between the completion-port core and the kernel's event
//! source.
//!
//! Contract: each completion port owns one `Engine`. A descriptor is watched once per engine
//! (edge-triggered, for reading and writing) and stays watched until `unwatch`; `wait` is called
//! by one thread at a time (the port's leader) and reports each ready descriptor through the
//! callback; `wake` makes a current or the next `wait` return promptly. A second backend
//! (io_uring) can implement the same trait.

mod epoll;

pub use epoll::EpollEngine;

use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

/// What the kernel reported for one descriptor.
#[derive(Clone, Copy, Debug)]
pub struct Readiness {
    pub fd: RawFd,
    /// Reading may make progress (data, end of file, error or hang-up).
    pub readable: bool,
    /// Writing may make progress (space, error or hang-up).
    pub writable: bool,
    /// The socket has urgent (out-of-band) data: a receive may stop short at its mark.
    pub urgent: bool,
    /// The peer has ended (hang-up, its end of file) or the socket has an error: a receive may
    /// stop short just before that, and no later edge will say so.
    pub hangup: bool,
}

/// An event source that reports readiness of watched descriptors.
pub trait Engine: Send + Sync {
    /// Starts watching `fd` (edge-triggered: read, write and urgent data) until `unwatch`.
    fn watch(&self, fd: RawFd) -> io::Result<()>;
    /// Stops watching `fd`; `fd` must still be open.
    fn unwatch(&self, fd: RawFd) -> io::Result<()>;
    /// Waits until a watched descriptor is ready, `wake` is called, or `deadline` passes
    /// (`None`: no limit), and calls `on_ready` for each ready descriptor.
    fn wait(
        &self,
        deadline: Option<Instant>,
        on_ready: &mut dyn FnMut(Readiness),
    ) -> io::Result<()>;
    /// Makes the current (or next) `wait` return.
    fn wake(&self) -> io::Result<()>;
}

/// Creates the engine a new port uses.
pub fn new_engine() -> io::Result<Box<dyn Engine>> {
    Ok(Box::new(EpollEngine::new()?))
}
