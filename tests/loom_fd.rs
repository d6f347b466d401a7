//! Model checks (loom) of an operation's ending racing another ending: a receive completed by
//! readiness while `QsoCancelOperation` or `close()` takes it away. Every interleaving of the
//! descriptor's lock and the port's hand-off is explored; the operation must end exactly once
//! (data, or cancelled / closed), and a cancelled or closed receive must not have consumed the
//! byte. The sockets are real (a socketpair per execution).
//!
//! Run with `make loom`.
#![cfg(loom)]

use loom::thread;
use qsoasync::core::fdtable::{self, StartOutcome};
use qsoasync::core::op::{Ending, OpKind, OpRequest};
use qsoasync::core::port::{Port, WaitOutcome};
use qsoasync::core::registry;
use qsoasync::engine::Readiness;
use qsoasync::overlapped::Qso_OverlappedIO_t;
use qsoasync::sync::Arc;
use std::time::Duration;

const ID: u64 = 42;

fn socketpair() -> (i32, i32) {
    let mut sv = [0; 2];
    // SAFETY: socketpair writes two descriptors into `sv`.
    let rc = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, sv.as_mut_ptr()) };
    assert_eq!(rc, 0);
    (sv[0], sv[1])
}

/// Starts a one-byte receive on `fd` that has to wait (nothing has been sent yet).
fn start_pending_recv(fd: i32, port: &Arc<Port>, buf: &mut [u8; 1]) {
    let mut record = Qso_OverlappedIO_t::zeroed();
    record.operationId = ID;
    let request = OpRequest {
        kind: OpKind::Recv,
        record,
        buf: buf.as_mut_ptr(),
        len: 1,
        fill: false,
        post_flag: false,
        user_id: ID,
        deadline: None,
        driver: None,
    };
    assert!(matches!(
        fdtable::start(fd, port, request),
        StartOutcome::Pending
    ));
}

/// Sends one byte and lets readiness complete what it can (the leader's part).
fn data_arrives(fd: i32, peer: i32) {
    // SAFETY: sends one byte from a live buffer.
    assert_eq!(unsafe { libc::send(peer, b"x".as_ptr().cast(), 1, 0) }, 1);
    let mut finished = Vec::new();
    fdtable::on_ready(
        Readiness {
            fd,
            readable: true,
            writable: false,
            urgent: false,
            hangup: false,
        },
        &mut finished,
    );
    for (port, completion) in finished {
        port.finish_queued(completion);
    }
}

/// Every completion the port holds (no thread is waiting; nothing is left pending).
fn drain(port: &Port) -> Vec<(Ending, i64)> {
    let mut got = Vec::new();
    while let WaitOutcome::Completed(c) = port.wait(Some(Duration::ZERO)) {
        got.push((c.ending, c.value));
    }
    got
}

/// `close()` as a C program calls it: the library's hook, then the system call.
fn hooked_close(fd: i32) {
    // SAFETY: the close system call on a descriptor this test owns.
    fdtable::close_with(fd, || unsafe { libc::syscall(libc::SYS_close, fd) as i32 });
}

/// True when one byte is still waiting in `fd`.
fn byte_unread(fd: i32) -> bool {
    let mut b = 0u8;
    // SAFETY: reads at most one byte into `b`.
    unsafe { libc::recv(fd, (&mut b as *mut u8).cast(), 1, libc::MSG_DONTWAIT) == 1 }
}

#[test]
fn cancel_racing_completion_ends_the_receive_once() {
    loom::model(|| {
        let _scope = registry::ModelScope::enter();
        let port = Port::new().unwrap();
        let (fd, peer) = socketpair();
        let mut buf = [0u8; 1];
        start_pending_recv(fd, &port, &mut buf);

        let reader = thread::spawn(move || data_arrives(fd, peer));
        let cancelled = fdtable::cancel(fd, ID).unwrap();
        reader.join().unwrap();

        let got = drain(&port);
        assert_eq!(got.len(), 1, "exactly one completion: {got:?}");
        match got[0] {
            (Ending::Done, 1) => {
                assert_eq!(cancelled, 0);
                assert_eq!(buf[0], b'x');
            }
            (Ending::Cancelled, 0) => {
                assert_eq!(cancelled, 1);
                assert!(byte_unread(fd), "a cancelled receive consumed the byte");
            }
            other => panic!("unexpected ending {other:?}"),
        }
        hooked_close(peer);
        hooked_close(fd);
    });
}

#[test]
fn close_racing_completion_ends_the_receive_once() {
    loom::model(|| {
        let _scope = registry::ModelScope::enter();
        let port = Port::new().unwrap();
        let (fd, peer) = socketpair();
        // A duplicate keeps the socket alive after the hooked close, so a late receive would
        // still find the byte: the test sees it if the closed receive took it anyway.
        // SAFETY: dup of a live descriptor.
        let keep = unsafe { libc::dup(fd) };
        let mut buf = [0u8; 1];
        start_pending_recv(fd, &port, &mut buf);

        let reader = thread::spawn(move || data_arrives(fd, peer));
        hooked_close(fd);
        reader.join().unwrap();

        let got = drain(&port);
        assert_eq!(got.len(), 1, "exactly one completion: {got:?}");
        match got[0] {
            (Ending::Done, 1) => assert_eq!(buf[0], b'x'),
            (Ending::Closed, 0) => {
                assert_eq!(buf[0], 0, "the buffer was written after close");
                assert!(byte_unread(keep), "a closed receive consumed the byte");
            }
            other => panic!("unexpected ending {other:?}"),
        }
        hooked_close(peer);
        hooked_close(keep);
    });
}

#[test]
fn destroy_racing_a_receive_in_progress_leaves_the_buffer_alone_once_it_returns() {
    loom::model(|| {
        let _scope = registry::ModelScope::enter();
        let port = Port::new().unwrap();
        let (fd, peer) = socketpair();
        // The buffer outlives both threads; it is only read through volatile loads.
        let buf: &'static mut [u8; 1] = Box::leak(Box::new([0u8; 1]));
        let buf_addr = buf.as_mut_ptr() as usize;
        start_pending_recv(fd, &port, buf);
        // The byte is there before the race: the reader only has to perform the receive.
        // SAFETY: sends one byte from a live buffer.
        assert_eq!(unsafe { libc::send(peer, b"x".as_ptr().cast(), 1, 0) }, 1);

        let reader = thread::spawn(move || {
            let mut finished = Vec::new();
            fdtable::on_ready(
                Readiness {
                    fd,
                    readable: true,
                    writable: false,
                    urgent: false,
                    hangup: false,
                },
                &mut finished,
            );
            for (port, completion) in finished {
                port.finish_queued(completion);
            }
        });
        port.destroy();
        fdtable::abort_port(&port);
        // SAFETY: a one-byte read of the leaked buffer; a write after this point is the bug.
        let after_destroy = unsafe { std::ptr::read_volatile(buf_addr as *const u8) };
        reader.join().unwrap();
        // SAFETY: as above.
        let at_end = unsafe { std::ptr::read_volatile(buf_addr as *const u8) };
        assert_eq!(
            at_end, after_destroy,
            "the buffer changed after destroy returned"
        );
        assert!(
            drain(&port).is_empty(),
            "a destroyed port delivered a completion"
        );
        hooked_close(peer);
        hooked_close(fd);
    });
}
