//! qsoasync: IBM i's asynchronous socket API (`qsoasync.h`: completion ports and the `Qso*`
//! calls) for Linux, built as a C library.
//!
//! Crate map (arrows point down: a module uses only those below it):
//! * `ffi` — the C face: argument checks, errno, copying `Qso_OverlappedIO_t` in and out, and
//!   the close/dup2 hook. No policy. `ffi::gsk` is the GSKit face (`gskssl.h`).
//! * `secure` — GSKit's environments and sessions on rustls: the TLS steps of secure operations,
//!   run by the core as `OpDriver`s. It reports failures with the numbers of `ffi::gsk::codes`
//!   (a table of IBM's constants, the one thing it takes from above).
//! * `core` — ports (FIFO of completions, LIFO of waiters, leader/follower), operations,
//!   per-descriptor queues, timers, and the process registry (fork-safe).
//! * `engine` — the readiness source behind one trait (epoll today).
//! * `overlapped` — the `#[repr(C)]` record, its bit accessors and the header's constants.
//! * `sync` — std's locks, or loom's under `--cfg loom` (model checking).
//! * `wake_time` — when a sleeping thread asks to be woken, so that timeouts end on time.
//!
//! `ARCHITECTURE.md` tells the same story at more length.

pub mod core;
pub mod engine;
pub mod ffi;
pub mod overlapped;
pub mod secure;
pub mod sync;
pub mod wake_time;
