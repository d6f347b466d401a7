//! Model checks (loom) of the port's synchronisation: the FIFO of completions, the LIFO stack
//! of parked waiters, and destroy racing waiters and posts. loom explores every interleaving of
//! the locks and condition variables; a lost wake-up shows up as a deadlock, a duplicated or
//! lost completion as a failed assertion.
//!
//! Run with `make loom` (RUSTFLAGS="--cfg loom" cargo test --release --test loom_port).
#![cfg(loom)]

use loom::thread;
use qsoasync::core::op::{Completion, Ending, OpKind};
use qsoasync::core::port::{Port, WaitOutcome};
use qsoasync::overlapped::Qso_OverlappedIO_t;
use qsoasync::sync::Arc;

fn completion(id: u64) -> Completion {
    let mut record = Qso_OverlappedIO_t::zeroed();
    record.operationId = id;
    Completion {
        record,
        kind: OpKind::Post,
        value: 0,
        ending: Ending::Done,
        posted_at_start: false,
    }
}

fn received(outcome: WaitOutcome) -> Option<u64> {
    match outcome {
        WaitOutcome::Completed(c) => Some(c.record.operationId),
        WaitOutcome::TimedOut | WaitOutcome::Destroyed => None,
    }
}

/// Two waiters, two posts: each waiter gets exactly one completion, and together both.
#[test]
fn each_completion_wakes_exactly_one_waiter() {
    loom::model(|| {
        let port = Port::new().expect("a port without engine work needs no descriptor");
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let port = Arc::clone(&port);
                thread::spawn(move || received(port.wait(None)))
            })
            .collect();
        port.post(completion(1));
        port.post(completion(2));
        let mut got: Vec<u64> = waiters
            .into_iter()
            .map(|w| w.join().unwrap().expect("a completion, not an error"))
            .collect();
        got.sort_unstable();
        assert_eq!(got, vec![1, 2]);
    });
}

/// One waiter, posts from two threads: completions come out in the order each poster's posts
/// were made, none lost.
#[test]
fn completions_queue_in_order_and_none_is_lost() {
    loom::model(|| {
        let port = Port::new().unwrap();
        let poster = {
            let port = Arc::clone(&port);
            thread::spawn(move || {
                port.post(completion(1));
                port.post(completion(2));
            })
        };
        let first = received(port.wait(None)).unwrap();
        let second = received(port.wait(None)).unwrap();
        poster.join().unwrap();
        assert_eq!((first, second), (1, 2));
    });
}

/// Destroy wakes every parked waiter with `Destroyed`; none hangs.
#[test]
fn destroy_wakes_every_waiter() {
    loom::model(|| {
        let port = Port::new().unwrap();
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let port = Arc::clone(&port);
                thread::spawn(move || matches!(port.wait(None), WaitOutcome::Destroyed))
            })
            .collect();
        port.destroy();
        for w in waiters {
            assert!(w.join().unwrap());
        }
    });
}

/// A post racing destroy: the waiter gets the completion or `Destroyed`, never hangs, and never
/// sees a completion posted after destroy.
#[test]
fn post_racing_destroy_never_hangs() {
    loom::model(|| {
        let port = Port::new().unwrap();
        let waiter = {
            let port = Arc::clone(&port);
            thread::spawn(move || port.wait(None))
        };
        let poster = {
            let port = Arc::clone(&port);
            thread::spawn(move || port.post(completion(7)))
        };
        port.destroy();
        poster.join().unwrap();
        match waiter.join().unwrap() {
            WaitOutcome::Completed(c) => assert_eq!(c.record.operationId, 7),
            WaitOutcome::Destroyed => {}
            WaitOutcome::TimedOut => panic!("no deadline was given"),
        }
        assert!(port.is_destroyed());
    });
}
