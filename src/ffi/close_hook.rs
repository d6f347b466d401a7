//! The close hook: the library provides `close`, `dup2` and `dup3`, which tell the core that a
//! descriptor is going away and then do the real system call.
//!
//! Contract: a program (or library) that closes a descriptor through the C library's `close`,
//! `dup2` or `dup3` symbol (linked dynamically or statically against libqsoasync) reaches this
//! hook; the operations outstanding on the descriptor are posted with `ECLOSED` and none of
//! their buffers is touched after the call returns. Not covered: a raw `syscall(SYS_close, …)`,
//! `close_range`, descriptors closed inside the C library itself (e.g. `fclose`) and exec.

use crate::core::fdtable;
use libc::c_int;

fn syscall_result(rc: libc::c_long) -> c_int {
    rc as c_int
}

/// Replaces the C library's `close`.
#[no_mangle]
pub extern "C" fn close(fd: c_int) -> c_int {
    fdtable::close_with(fd, || {
        // SAFETY: the close system call on a descriptor number; errno is set by the wrapper.
        syscall_result(unsafe { libc::syscall(libc::SYS_close, fd) })
    })
}

/// True when `fd` is an open descriptor.
fn is_open(fd: c_int) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Replaces the C library's `dup2`: `newfd` is closed (hooked) before it is replaced.
#[no_mangle]
pub extern "C" fn dup2(oldfd: c_int, newfd: c_int) -> c_int {
    if !is_open(oldfd) {
        return super::record::fail(libc::EBADF);
    }
    if oldfd == newfd {
        return newfd;
    }
    fdtable::close_with(newfd, || {
        // SAFETY: the dup3 system call with descriptor numbers and no flags is dup2 when
        // oldfd != newfd.
        syscall_result(unsafe { libc::syscall(libc::SYS_dup3, oldfd, newfd, 0) })
    })
}

/// Replaces the C library's `dup3`: `newfd` is closed (hooked) before it is replaced.
#[no_mangle]
pub extern "C" fn dup3(oldfd: c_int, newfd: c_int, flags: c_int) -> c_int {
    // SAFETY: the dup3 system call with descriptor numbers and flags.
    let real_dup3 =
        || syscall_result(unsafe { libc::syscall(libc::SYS_dup3, oldfd, newfd, flags) });
    if oldfd == newfd || !is_open(oldfd) {
        return real_dup3();
    }
    fdtable::close_with(newfd, real_dup3)
}
