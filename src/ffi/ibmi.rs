//! IBM i pthread extensions that IBM's programs call: `pthread_getthreadid_np`.
//! Declared for C in `include/ibmi/pthread.h` (not in qsoasync.h).

use libc::c_uint;

/// The two 32-bit halves of an IBM i thread id.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IbmThreadIdHalves {
    pub hi: c_uint,
    pub lo: c_uint,
}

/// IBM i's `pthread_id_np_t`.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types, non_snake_case)]
pub struct pthread_id_np_t {
    pub intId: IbmThreadIdHalves,
}

/// The calling thread's id: `lo` is the kernel thread id (gettid), `hi` is 0.
#[no_mangle]
pub extern "C" fn pthread_getthreadid_np() -> pthread_id_np_t {
    // SAFETY: gettid takes no arguments and cannot fail.
    let tid = unsafe { libc::gettid() };
    pthread_id_np_t {
        intId: IbmThreadIdHalves {
            hi: 0,
            lo: tid as c_uint,
        },
    }
}
