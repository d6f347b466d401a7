//! The process's library state: the table of port handles, the descriptor table and the
//! counters, reachable through `globals()`.
//!
//! Contract: handles are the lowest free numbers in `0..QSO_MAX_IOCOMPLETION_PORTS`. After
//! `fork`, the child gets a fresh, empty state (no ports, no operations); the parent's state is
//! left untouched in the child's memory, never used again (its locks may have been held by
//! threads that do not exist in the child).

use super::fdtable::FdTable;
use super::port::Port;
use crate::sync::{Arc, Mutex};
use std::io;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::Once;

/// The most ports a process may have at once (IBM's `QSO_MAX_IOCOMPLETION_PORTS`).
pub(crate) const MAX_PORTS: usize = 256;

pub struct Globals {
    ports: Mutex<Vec<Option<Arc<Port>>>>,
    pub fds: FdTable,
    /// Internal operation numbers (timers find their operation by it).
    next_seq: AtomicU64,
    /// `QsoGenerateOperationId` values: never 0, increasing.
    next_user_id: AtomicU64,
}

impl Globals {
    fn new() -> Globals {
        Globals {
            ports: Mutex::new(vec![None; MAX_PORTS]),
            fds: FdTable::default(),
            next_seq: AtomicU64::new(1),
            next_user_id: AtomicU64::new(1),
        }
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    pub fn next_operation_id(&self) -> u64 {
        self.next_user_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Creates a port; `None` when all `MAX_PORTS` handles are taken.
    pub fn create_port(&self) -> io::Result<Option<i32>> {
        let mut ports = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        let Some(free) = ports.iter().position(Option::is_none) else {
            return Ok(None);
        };
        ports[free] = Some(Port::new()?);
        Ok(Some(free as i32))
    }

    /// The live port with this handle.
    pub fn port(&self, handle: i32) -> Option<Arc<Port>> {
        let index = usize::try_from(handle).ok()?;
        let ports = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        ports.get(index)?.clone()
    }

    /// Removes the port from the table (its handle becomes free) and returns it.
    pub fn take_port(&self, handle: i32) -> Option<Arc<Port>> {
        let index = usize::try_from(handle).ok()?;
        let mut ports = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        ports.get_mut(index)?.take()
    }
}

static GLOBALS: AtomicPtr<Globals> = AtomicPtr::new(std::ptr::null_mut());
static INIT: Once = Once::new();

/// The library state, created on first use.
pub fn globals() -> &'static Globals {
    if let Some(g) = globals_if_initialized() {
        return g;
    }
    INIT.call_once(|| {
        install(Globals::new());
        // SAFETY: registering a plain extern "C" function with no arguments; it only allocates
        // and stores a pointer.
        unsafe {
            libc::pthread_atfork(None, None, Some(reset_in_child));
        }
    });
    globals_if_initialized().expect("installed by call_once")
}

/// The library state if anything has used the library yet (the close hook asks this, so that
/// closing descriptors in a process that never used a port costs nothing).
pub fn globals_if_initialized() -> Option<&'static Globals> {
    let p = GLOBALS.load(Ordering::Acquire);
    // SAFETY: a non-null pointer was stored by `install` from `Box::into_raw`, and is never
    // freed (a replaced state is leaked on purpose: other threads may still read it).
    unsafe { p.as_ref() }
}

fn install(globals: Globals) {
    GLOBALS.store(Box::into_raw(Box::new(globals)), Ordering::Release);
}

extern "C" fn reset_in_child() {
    install(Globals::new());
}

/// A loom model execution's own library state: fresh when made, gone when dropped (each
/// execution must own its synchronisation objects, and the close hook must not reach them from
/// outside the model).
#[cfg(loom)]
pub struct ModelScope(());

#[cfg(loom)]
impl ModelScope {
    pub fn enter() -> ModelScope {
        install(Globals::new());
        ModelScope(())
    }
}

#[cfg(loom)]
impl Drop for ModelScope {
    fn drop(&mut self) {
        // The old state is leaked, as after fork: it may hold objects of the finished execution.
        GLOBALS.store(std::ptr::null_mut(), Ordering::Release);
    }
}
