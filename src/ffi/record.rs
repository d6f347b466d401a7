//! Translation between the C record and the core: errno, time values, and the completion
//! record a waiter receives.

use crate::core::op::{Completion, Ending, OpDriver, OpKind, OpRequest};
use crate::overlapped::{
    Qso_OverlappedIO_t, ECLOSED, GSKSECURESOCSTARTINIT, GSKSECURESOCSTARTRECV,
    GSKSECURESOCSTARTSEND, QSOPOSTIOCOMPLETION, QSOSTARTACCEPT, QSOSTARTRECV, QSOSTARTSEND,
};
use libc::{c_int, timeval};
use std::time::{Duration, Instant};

/// Sets the calling thread's errno.
pub fn set_errno(errno: c_int) {
    // SAFETY: __errno_location returns the calling thread's errno slot, always valid.
    unsafe {
        *libc::__errno_location() = errno;
    }
}

/// Sets errno and returns -1: the failure return of every call.
pub fn fail(errno: c_int) -> c_int {
    set_errno(errno);
    -1
}

/// A `QsoWaitForIOCompletion` time limit: `None` is malformed; `Some(None)` waits forever.
pub fn wait_timeout(time_to_wait: *const timeval) -> Option<Option<Duration>> {
    // SAFETY: a non-null pointer from the caller is read once, as the API requires a timeval.
    let Some(tv) = (unsafe { time_to_wait.as_ref() }) else {
        return Some(None);
    };
    if tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1_000_000 {
        return None;
    }
    Some(Some(
        Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64),
    ))
}

/// An `operationWaitTime`: whole seconds, `tv_usec` zero. `None` is malformed; `Some(None)`
/// means no limit.
pub fn operation_deadline(tv: &timeval) -> Option<Option<Instant>> {
    if tv.tv_sec < 0 || tv.tv_usec != 0 {
        return None;
    }
    if tv.tv_sec == 0 {
        return Some(None);
    }
    Some(Instant::now().checked_add(Duration::from_secs(tv.tv_sec as u64)))
}

/// The core's request for a start call on record `io`: the caller's buffer when the operation
/// uses one, its flags, its id and its deadline.
pub fn op_request(
    kind: OpKind,
    io: &Qso_OverlappedIO_t,
    uses_buffer: bool,
    deadline: Option<Instant>,
    driver: Option<Box<dyn OpDriver>>,
) -> OpRequest {
    OpRequest {
        kind,
        record: *io,
        buf: if uses_buffer {
            io.buffer.cast()
        } else {
            std::ptr::null_mut()
        },
        len: if uses_buffer { io.bufferLength } else { 0 },
        fill: matches!(kind, OpKind::Recv | OpKind::SecureRecv) && io.fill_buffer(),
        post_flag: io.post_flag(),
        user_id: io.operationId,
        deadline,
        driver,
    }
}

/// The errno a completion reports for its ending.
fn ending_errno(ending: Ending) -> c_int {
    match ending {
        Ending::Done => 0,
        Ending::Os(errno) => errno,
        Ending::TimedOut => libc::EAGAIN,
        Ending::Cancelled => libc::ECANCELED,
        Ending::Closed => ECLOSED,
        Ending::Protocol(_) => libc::EPROTO,
    }
}

fn operation_code(kind: OpKind) -> c_int {
    match kind {
        OpKind::Recv => QSOSTARTRECV,
        OpKind::Send => QSOSTARTSEND,
        OpKind::Accept => QSOSTARTACCEPT,
        OpKind::Post => QSOPOSTIOCOMPLETION,
        OpKind::SecureInit => GSKSECURESOCSTARTINIT,
        OpKind::SecureRecv => GSKSECURESOCSTARTRECV,
        OpKind::SecureSend => GSKSECURESOCSTARTSEND,
    }
}

/// The record a waiter (or a start call that finished at once) hands back to the caller.
///
/// The caller's own fields come back as given; `returnValue` is the byte count (or accepted
/// descriptor), or -1 when nothing was moved and the operation failed; a receive or send that
/// ended early after moving bytes reports those bytes with the reason in `errnoValue`.
pub fn completion_record(c: &Completion) -> Qso_OverlappedIO_t {
    if matches!(
        c.kind,
        OpKind::SecureInit | OpKind::SecureRecv | OpKind::SecureSend
    ) {
        return secure_completion_record(c);
    }
    let mut rec = c.record;
    let errno = ending_errno(c.ending);
    rec.operationCompleted = operation_code(c.kind);
    rec.errnoValue = errno;
    rec.returnValue = match c.kind {
        OpKind::Post if c.ending == Ending::Done => 0,
        OpKind::Post => -1,
        _ if errno == 0 || c.value > 0 => c.value as c_int,
        _ => -1,
    };
    if c.kind == OpKind::Post {
        return rec;
    }
    rec.set_post_flag_result(c.posted_at_start);
    rec.clear_reserved_bits();
    rec.secureDataTransferSize = 0;
    rec.bytesAvailable = 0;
    rec.postedDescriptor = 0;
    rec.reserved2 = [0; 32];
    if c.kind == OpKind::Accept {
        rec.buffer = std::ptr::null_mut();
        rec.bufferLength = 0;
        rec.set_post_flag(false);
        rec.set_fill_buffer(false);
    }
    rec
}

/// The record of a secure operation: `returnValue` is a GSK code, the byte count is in
/// `secureDataTransferSize`, `errnoValue` is set with `GSK_ERROR_IO`.
fn secure_completion_record(c: &Completion) -> Qso_OverlappedIO_t {
    let mut rec = c.record;
    let (code, errno) = super::gsk::completion_fields(c);
    rec.operationCompleted = operation_code(c.kind);
    rec.returnValue = code;
    rec.errnoValue = errno;
    rec.secureDataTransferSize = c.value.clamp(0, c_int::MAX as i64) as c_int;
    rec.set_post_flag_result(c.posted_at_start);
    rec.clear_reserved_bits();
    rec.bytesAvailable = 0;
    rec.reserved2 = [0; 32];
    rec
}

#[cfg(test)]
mod tests {
    use super::completion_record;
    use crate::core::op::{Completion, Ending, OpKind};
    use crate::overlapped::{CompactRecord, Qso_OverlappedIO_t};

    /// Every field of a record, padding excluded.
    fn fields(r: &Qso_OverlappedIO_t) -> impl PartialEq + std::fmt::Debug {
        (
            (r.descriptorHandle, r.buffer, r.bufferLength, r.flag_bits),
            (r.returnValue, r.errnoValue, r.operationCompleted),
            (r.secureDataTransferSize, r.bytesAvailable),
            (r.operationWaitTime.tv_sec, r.operationWaitTime.tv_usec),
            (r.postedDescriptor, r.operationId, r.reserved2),
        )
    }

    /// A queued receive, send or accept keeps only a `CompactRecord` (core::op::Op::new): its
    /// completion record must be the one the whole record gives, whatever the caller left in
    /// the fields the operation does not use.
    #[test]
    fn compact_record_completes_like_the_whole_record() {
        let mut rec = Qso_OverlappedIO_t::zeroed();
        rec.descriptorHandle = 0x1234 as *mut _;
        rec.buffer = 0x5678 as *mut _;
        rec.bufferLength = 99;
        rec.returnValue = 7;
        rec.errnoValue = 8;
        rec.operationCompleted = 9;
        rec.secureDataTransferSize = 10;
        rec.bytesAvailable = 11;
        rec.operationWaitTime.tv_sec = 30;
        rec.postedDescriptor = 12;
        rec.operationId = 0xfeed_beef;
        rec.reserved2 = [5; 32];
        for flag_bits in [0, 1, 2, 3, 4, 7, 0xffff_fff0, u32::MAX] {
            rec.flag_bits = flag_bits;
            let compact = CompactRecord::of(&rec).expect("representable");
            for kind in [OpKind::Recv, OpKind::Send, OpKind::Accept] {
                // An accept's operation holds no buffer (ffi::socket_ops).
                let (buf, len) = match kind {
                    OpKind::Accept => (std::ptr::null_mut(), 0),
                    _ => (rec.buffer, rec.bufferLength),
                };
                let rebuilt = compact.expand(buf, len, rec.operationId);
                for ending in [Ending::Done, Ending::Os(libc::EPIPE), Ending::Closed] {
                    for posted_at_start in [false, true] {
                        let completion = |record| Completion {
                            record,
                            kind,
                            value: 5,
                            ending,
                            posted_at_start,
                        };
                        assert_eq!(
                            fields(&completion_record(&completion(rebuilt))),
                            fields(&completion_record(&completion(rec)))
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn compact_record_refuses_what_it_cannot_give_back() {
        let mut rec = Qso_OverlappedIO_t::zeroed();
        rec.operationWaitTime.tv_usec = 1;
        assert!(CompactRecord::of(&rec).is_none());
        rec.operationWaitTime.tv_usec = 0;
        rec.operationWaitTime.tv_sec = i64::from(u32::MAX) + 1;
        assert!(CompactRecord::of(&rec).is_none());
        rec.operationWaitTime.tv_sec = i64::from(u32::MAX);
        assert!(CompactRecord::of(&rec).is_some());
    }
}
