//! The C record `Qso_OverlappedIO_t`, byte for byte as IBM lays it out (V6R1+, with
//! `operationId`), and the constants of `qsoasync.h`.
//!
//! Contract: the Rust struct has the C struct's size (112), alignment (8) and every offset; the
//! three one-bit flags live in one `unsigned int` at offset 24 (postFlag bit 0, fillBuffer bit 1,
//! postFlagResult bit 2). Only this module knows the bit positions; everything else uses the
//! accessors. The layout is asserted at compile time here and proven against the C compiler by
//! `tests/c/layout.c`.
//!
//! `CompactRecord` is the little a queued receive, send or accept keeps of its record (see
//! `core::op::Op::new`); `expand` gives back exactly the fields it was made from.

use libc::{c_char, c_int, c_uint, c_ulonglong, c_void, time_t, timeval};
use std::mem::{align_of, offset_of, size_of};

/// Operation code: a `QsoStartSend` completed.
pub const QSOSTARTSEND: c_int = 1;
/// Operation code: a `QsoStartRecv` completed.
pub const QSOSTARTRECV: c_int = 2;
/// Operation code: a `QsoPostIOCompletion` was delivered.
pub const QSOPOSTIOCOMPLETION: c_int = 3;
/// Operation code: a `gsk_secure_soc_startSend` completed.
pub const GSKSECURESOCSTARTSEND: c_int = 4;
/// Operation code: a `gsk_secure_soc_startRecv` completed.
pub const GSKSECURESOCSTARTRECV: c_int = 5;
/// Operation code: a `QsoStartAccept` completed.
pub const QSOSTARTACCEPT: c_int = 6;
/// Operation code: a `gsk_secure_soc_startInit` completed.
pub const GSKSECURESOCSTARTINIT: c_int = 7;
/// The most completion ports one process may have at once.
pub const QSO_MAX_IOCOMPLETION_PORTS: c_int = 256;

/// IBM i errno: the descriptor was closed while the operation was outstanding.
pub const ECLOSED: c_int = 3417;
/// IBM i errno: the completion port was destroyed while a thread waited on it.
pub const EDESTROYED: c_int = 3463;
/// IBM i errno: data was truncated.
pub const ETRUNC: c_int = 3003;
/// IBM i errno: unknown error.
pub const EUNKNOWN: c_int = 3474;

const POST_FLAG_BIT: c_uint = 1 << 0;
const FILL_BUFFER_BIT: c_uint = 1 << 1;
const POST_FLAG_RESULT_BIT: c_uint = 1 << 2;

/// Rust view of the C `Qso_OverlappedIO_t` (see `include/qsoasync.h` for the C text).
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_snake_case, non_camel_case_types)]
pub struct Qso_OverlappedIO_t {
    pub descriptorHandle: *mut c_void,
    pub buffer: *mut c_void,
    pub bufferLength: usize,
    /// postFlag:1, fillBuffer:1, postFlagResult:1, reserved1:29 (use the accessors).
    pub flag_bits: c_uint,
    pub returnValue: c_int,
    pub errnoValue: c_int,
    pub operationCompleted: c_int,
    pub secureDataTransferSize: c_int,
    pub bytesAvailable: c_uint,
    pub operationWaitTime: timeval,
    pub postedDescriptor: c_int,
    pub operationId: c_ulonglong,
    pub reserved2: [c_char; 32],
}

// SAFETY: the record is plain data. Its pointers are the caller's values, carried as opaque
// numbers from thread to thread; the library dereferences `buffer` only under the rules of the
// operation that owns it (see src/core/op.rs).
unsafe impl Send for Qso_OverlappedIO_t {}

impl Qso_OverlappedIO_t {
    /// An all-zero record.
    pub fn zeroed() -> Self {
        // SAFETY: every field is an integer, a raw pointer or an array of them; all-zero is valid.
        unsafe { std::mem::zeroed() }
    }

    pub fn post_flag(&self) -> bool {
        self.flag_bits & POST_FLAG_BIT != 0
    }

    pub fn fill_buffer(&self) -> bool {
        self.flag_bits & FILL_BUFFER_BIT != 0
    }

    pub fn post_flag_result(&self) -> bool {
        self.flag_bits & POST_FLAG_RESULT_BIT != 0
    }

    pub fn set_post_flag(&mut self, on: bool) {
        self.set_bit(POST_FLAG_BIT, on);
    }

    pub fn set_fill_buffer(&mut self, on: bool) {
        self.set_bit(FILL_BUFFER_BIT, on);
    }

    pub fn set_post_flag_result(&mut self, on: bool) {
        self.set_bit(POST_FLAG_RESULT_BIT, on);
    }

    /// Clears `reserved1` (the 29 bits above the three flags).
    pub fn clear_reserved_bits(&mut self) {
        self.flag_bits &= POST_FLAG_BIT | FILL_BUFFER_BIT | POST_FLAG_RESULT_BIT;
    }

    fn set_bit(&mut self, bit: c_uint, on: bool) {
        if on {
            self.flag_bits |= bit;
        } else {
            self.flag_bits &= !bit;
        }
    }
}

/// The fields of a record that a receive, send or accept hands back as given, apart from
/// `buffer`, `bufferLength` and `operationId` (which the operation holds anyway): 16 bytes kept
/// instead of 112 while the operation is queued. The completion record of these operations
/// sets or zeroes every other field (`ffi::record::completion_record`).
#[derive(Clone, Copy)]
pub struct CompactRecord {
    descriptor_handle: *mut c_void,
    /// `operationWaitTime.tv_sec`; its `tv_usec` is zero.
    wait_secs: u32,
    /// `postFlag` and `fillBuffer` as given; every other bit zero.
    flag_bits: c_uint,
}

impl CompactRecord {
    /// The compact form of `rec`; `None` when its `operationWaitTime` does not fit (a non-zero
    /// `tv_usec`, or seconds outside `u32`), so that `expand` is always exact.
    pub fn of(rec: &Qso_OverlappedIO_t) -> Option<CompactRecord> {
        if rec.operationWaitTime.tv_usec != 0 {
            return None;
        }
        Some(CompactRecord {
            descriptor_handle: rec.descriptorHandle,
            wait_secs: u32::try_from(rec.operationWaitTime.tv_sec).ok()?,
            flag_bits: rec.flag_bits & (POST_FLAG_BIT | FILL_BUFFER_BIT),
        })
    }

    /// The record with the kept fields, the given `buffer`, `bufferLength` and `operationId`,
    /// and every other field zero.
    pub fn expand(&self, buffer: *mut c_void, len: usize, operation_id: u64) -> Qso_OverlappedIO_t {
        let mut rec = Qso_OverlappedIO_t::zeroed();
        rec.descriptorHandle = self.descriptor_handle;
        rec.buffer = buffer;
        rec.bufferLength = len;
        rec.flag_bits = self.flag_bits;
        rec.operationWaitTime.tv_sec = time_t::from(self.wait_secs);
        rec.operationId = operation_id;
        rec
    }
}

/// Offsets and size of the C struct on LP64 Linux, as the spec (§1) fixes them.
mod layout {
    pub(super) const SIZE: usize = 112;
    pub(super) const ALIGN: usize = 8;
    pub(super) const DESCRIPTOR_HANDLE: usize = 0;
    pub(super) const BUFFER: usize = 8;
    pub(super) const BUFFER_LENGTH: usize = 16;
    pub(super) const FLAG_WORD: usize = 24;
    pub(super) const RETURN_VALUE: usize = 28;
    pub(super) const ERRNO_VALUE: usize = 32;
    pub(super) const OPERATION_COMPLETED: usize = 36;
    pub(super) const SECURE_DATA_TRANSFER_SIZE: usize = 40;
    pub(super) const BYTES_AVAILABLE: usize = 44;
    pub(super) const OPERATION_WAIT_TIME: usize = 48;
    pub(super) const POSTED_DESCRIPTOR: usize = 64;
    pub(super) const OPERATION_ID: usize = 72;
    pub(super) const RESERVED2: usize = 80;
}

type Q = Qso_OverlappedIO_t;
const _: () = {
    assert!(size_of::<Q>() == layout::SIZE);
    assert!(align_of::<Q>() == layout::ALIGN);
    assert!(offset_of!(Q, descriptorHandle) == layout::DESCRIPTOR_HANDLE);
    assert!(offset_of!(Q, buffer) == layout::BUFFER);
    assert!(offset_of!(Q, bufferLength) == layout::BUFFER_LENGTH);
    assert!(offset_of!(Q, flag_bits) == layout::FLAG_WORD);
    assert!(offset_of!(Q, returnValue) == layout::RETURN_VALUE);
    assert!(offset_of!(Q, errnoValue) == layout::ERRNO_VALUE);
    assert!(offset_of!(Q, operationCompleted) == layout::OPERATION_COMPLETED);
    assert!(offset_of!(Q, secureDataTransferSize) == layout::SECURE_DATA_TRANSFER_SIZE);
    assert!(offset_of!(Q, bytesAvailable) == layout::BYTES_AVAILABLE);
    assert!(offset_of!(Q, operationWaitTime) == layout::OPERATION_WAIT_TIME);
    assert!(offset_of!(Q, postedDescriptor) == layout::POSTED_DESCRIPTOR);
    assert!(offset_of!(Q, operationId) == layout::OPERATION_ID);
    assert!(offset_of!(Q, reserved2) == layout::RESERVED2);
};
