/*
 * include/ibmi/pthread.h - IBM i pthread extensions on top of the system <pthread.h>.
 *
 * IBM i programs say `#define _MULTI_THREADED` and `#include "pthread.h"`, and use
 * pthread_id_np_t, pthread_getthreadid_np() (with .intId.lo), __INT() and __VOID().
 * Put this folder first on the include path (-I include/ibmi) and such programs build unchanged.
 * Part of libqsoasync, which provides pthread_getthreadid_np().
 */
#ifndef QSOASYNC_IBMI_PTHREAD_H
#define QSOASYNC_IBMI_PTHREAD_H

/* A system header in spirit: lets #include_next pass -pedantic. */
#pragma GCC system_header

#include_next <pthread.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* IBM i's thread id: a 64-bit value seen as two 32-bit halves. */
typedef struct pthread_id_np_t {
  struct {
    unsigned int hi;
    unsigned int lo;
  } intId;
} pthread_id_np_t;

/* The calling thread's id (provided by libqsoasync): lo is the kernel thread id, hi is 0. */
pthread_id_np_t pthread_getthreadid_np(void);

/* Thread status conversions used by IBM samples: int <-> void *. */
#ifndef __INT
#define __INT(x) ((int)(intptr_t)(x))
#endif
#ifndef __VOID
#define __VOID(x) ((void *)(intptr_t)(x))
#endif

#ifdef __cplusplus
}
#endif

#endif /* QSOASYNC_IBMI_PTHREAD_H */
