//! The live GSK handles: every `gsk_handle` the library gave out and has not closed.
//!
//! Contract:
//! * a handle is a number that looks like a pointer, never an address: the library never
//!   dereferences a handle, it looks it up here; an unknown, closed or NULL handle is simply
//!   not found (and the caller returns `GSK_INVALID_HANDLE`);
//! * numbers are never reused in a process, so a stale handle cannot reach a newer object;
//! * after `fork`, the child starts with no handles (as with ports): the parent's TLS state must
//!   not be used by two processes.

use super::codes::gsk_handle;
use crate::secure::session::{Environment, Session};
use std::collections::HashMap;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};

#[derive(Clone)]
pub enum Object {
    Env(Arc<Environment>),
    Session(Arc<Session>),
}

struct Registry {
    objects: Mutex<HashMap<usize, Object>>,
    next: AtomicUsize,
}

/// First handle value, and the step between two (so that handles look like aligned pointers).
const FIRST: usize = 0x7a00_0000;
const STEP: usize = 16;

impl Registry {
    fn new(next: usize) -> Registry {
        Registry {
            objects: Mutex::new(HashMap::new()),
            next: AtomicUsize::new(next),
        }
    }
}

static REGISTRY: AtomicPtr<Registry> = AtomicPtr::new(std::ptr::null_mut());
static INIT: Once = Once::new();

fn registry() -> &'static Registry {
    INIT.call_once(|| {
        install(FIRST);
        // SAFETY: registering a plain extern "C" function with no arguments.
        unsafe {
            libc::pthread_atfork(None, None, Some(reset_in_child));
        }
    });
    // SAFETY: `install` stored a pointer from `Box::into_raw`, never freed (a replaced registry
    // is leaked on purpose: its lock may be held by a thread that no longer exists).
    unsafe { &*REGISTRY.load(Ordering::Acquire) }
}

fn install(next: usize) {
    REGISTRY.store(
        Box::into_raw(Box::new(Registry::new(next))),
        Ordering::Release,
    );
}

extern "C" fn reset_in_child() {
    let old = REGISTRY.load(Ordering::Acquire);
    if !old.is_null() {
        // SAFETY: a registry is never freed; reading an atomic needs no lock. The child's
        // numbers continue the parent's, so a handle the child inherited never names a new
        // object.
        let next = unsafe { (*old).next.load(Ordering::Relaxed) };
        install(next);
    }
}

fn objects() -> std::sync::MutexGuard<'static, HashMap<usize, Object>> {
    registry().objects.lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers an object; returns its new handle.
pub fn insert(object: Object) -> gsk_handle {
    let value = registry().next.fetch_add(STEP, Ordering::Relaxed);
    objects().insert(value, object);
    value as gsk_handle
}

/// The object behind a handle.
pub fn get(handle: gsk_handle) -> Option<Object> {
    objects().get(&(handle as usize)).cloned()
}

pub fn env(handle: gsk_handle) -> Option<Arc<Environment>> {
    match get(handle)? {
        Object::Env(env) => Some(env),
        Object::Session(_) => None,
    }
}

pub fn session(handle: gsk_handle) -> Option<Arc<Session>> {
    match get(handle)? {
        Object::Session(session) => Some(session),
        Object::Env(_) => None,
    }
}

/// Removes an environment handle (only an environment's).
pub fn remove_env(handle: gsk_handle) -> Option<Arc<Environment>> {
    let mut objects = objects();
    match objects.get(&(handle as usize))? {
        Object::Env(_) => match objects.remove(&(handle as usize)) {
            Some(Object::Env(env)) => Some(env),
            _ => None,
        },
        Object::Session(_) => None,
    }
}

/// Removes a session handle (only a session's).
pub fn remove_session(handle: gsk_handle) -> Option<Arc<Session>> {
    let mut objects = objects();
    match objects.get(&(handle as usize))? {
        Object::Session(_) => match objects.remove(&(handle as usize)) {
            Some(Object::Session(session)) => Some(session),
            _ => None,
        },
        Object::Env(_) => None,
    }
}
