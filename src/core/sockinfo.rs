//! Facts about a descriptor, read from the kernel: a socket option's value and the identity of
//! the open file behind the number.
//!
//! Contract: plain reads, no state; shared by the core and the secure layer so that each fact
//! is asked the same way everywhere.

use std::os::fd::RawFd;

/// The `SOL_SOCKET` option `option` of `fd` as an int, or the errno (`EBADF`, `ENOTSOCK`, …).
pub fn socket_option(fd: RawFd, option: libc::c_int) -> Result<libc::c_int, i32> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes of an int and a socklen_t.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            option,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EBADF))
    }
}

/// True when `fd` is a plain TCP socket: `SO_PROTOCOL` is TCP and no upper-layer protocol
/// (`TCP_ULP`, e.g. kernel TLS) is attached. For such a socket a receive that returns less than
/// it asked for has emptied the queue (short of an urgent-data mark or the peer's end); not so
/// for SCTP (one message per read), kernel TLS (stops where the record type changes) or
/// AF_UNIX (stops where the sender's credentials change).
pub fn is_plain_tcp(fd: RawFd) -> bool {
    if socket_option(fd, libc::SO_PROTOCOL) != Ok(libc::IPPROTO_TCP) {
        return false;
    }
    let mut name = [0u8; 16];
    let mut len = name.len() as libc::socklen_t;
    // SAFETY: `name` and `len` are valid for writes of `len` bytes and a socklen_t.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_ULP,
            name.as_mut_ptr().cast(),
            &mut len,
        )
    };
    rc == 0 && name[0] == 0
}

/// (device, inode) of the file `fd` refers to now; `None` when `fd` is not open. A number closed
/// and reused for another file gets another identity.
pub fn file_identity(fd: RawFd) -> Option<(u64, u64)> {
    // SAFETY: fstat writes only into the stat buffer it is given.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        (libc::fstat(fd, &mut st) == 0).then_some((st.st_dev, st.st_ino))
    }
}
