/*
 * tests/stress/stress.c - randomised stress of the Qso completion ports: exactly-once
 * completions, no lost or reordered byte, no touched buffer after close or destroy.
 *
 *   build/stress [-n OPS] [-t SECONDS] [-s SEED] [-c CELLS] [-w WORKERS] [-C CHURN]
 *                [-R CLOSES,FINISHES,LISTENER_CLOSES,DESTROYS] [-v]
 *   (make stress OPS=... SECONDS=... SEED=... CHURN=...; make stress-test: 10^6 operations)
 *
 * Worker threads pick actions at random (seeded; the seed is printed): start receives, sends,
 * accepts and posts (immediate, or 1-second timers on a small fraction), cancel, ask whether an
 * operation is pending, open new TCP (127.0.0.1) and AF_UNIX connections (socketpair, or
 * connect + QsoStartAccept), and wait. At wall-clock rates (-R, per second for all workers;
 * -C multiplies them) they close sockets (close() or dup2() over them), half-close them (a
 * clean end of file for the peer), close listeners, and destroy and recreate ports. Each "cell"
 * has one port and one dedicated waiter thread; the workers wait too, so every port has several
 * concurrent waiters. Both ends of a connection may belong to different cells (ports).
 *
 * Every operation is identified by its descriptorHandle (a slot of the operation pool) and a
 * unique operationId, and is accounted for:
 *   - exactly one completion each (a start call's immediate result counts as its completion),
 *     with the ending the test can justify: EAGAIN only for a timed operation and not before
 *     1 s, ECANCELED exactly when QsoCancelOperation said it cancelled it, ECLOSED only after
 *     its socket was closed;
 *   - none for an operation of a destroyed port, unless the wait that returned it began before
 *     QsoDestroyIOCompletionPort returned ("tickets" below);
 *   - every received byte is checked against the sender's sequence-numbered content, in order,
 *     once; a stream that ended with a clean end of file must have delivered every byte sent;
 *   - a receive never writes past the bytes it reports (buffers are poisoned);
 *   - the buffers of operations outstanding when close()/destroy returned are hashed right
 *     then and checked again at their completion and ~100 ms later (quarantine);
 *   - descriptor numbers: one the kernel hands out that the test still believes open means it
 *     was closed behind the test's back.
 * On a failure it prints what it knows: the stream's last records, where stray bytes came from
 * (the content is a bijection of stream and offset per 8-byte word), and the recent history of
 * the descriptor numbers involved. The last line is "stress: 1 passed, 0 failed" (or "0 passed,
 * 1 failed"); exit status 1 on any discrepancy. Every loop is bounded in count and time; a
 * watchdog ends a run that hangs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qsoasync.h"

/* ---- configuration ------------------------------------------------------------------------ */

static long long cfg_ops = 1000000;
static double cfg_secs = 60;
static uint64_t cfg_seed;
static int cfg_cells = 4;
static int cfg_workers = 4;
static int cfg_verbose;
static double cfg_churn = 1; /* multiplies the rates of closes, half-closes, destroys */

#define MAX_CELLS 16
#define MAX_WORKERS 32
#define MAX_THREADS (MAX_WORKERS + MAX_CELLS + 2)
#define SOCKS_PER_CELL 24   /* connection ends per cell */
#define POOL_MAX (1 << 16)  /* operations in flight (pending, held for checking, quarantined) */
#define MAX_RECV_PER_SOCK 4
#define MAX_SEND_PER_SOCK 4
#define MAX_TPOST_PER_SOCK 2
#define MAX_ACCEPT_PER_LISTENER 3
#define MAX_CLIENTS 6
#define POISON 0xA5
#define QUARANTINE_MS 100
#define DRAIN_MS 8000

/* ---- counters and failures ---------------------------------------------------------------- */

enum {
  C_OP_RECV, C_OP_SEND, C_OP_ACCEPT, C_OP_POST, C_OP_TPOST,
  C_SYNC, C_POSTED_AT_START, C_QUEUED,
  C_DATA, C_EOF, C_ERROR, C_EAGAIN, C_ECANCELED, C_ECLOSED,
  C_DROPPED, C_LATE, C_LOST, C_DUP, C_AFTER_DESTROY,
  C_REFUSED, C_REF_ENOTCONN, C_REF_EINVAL, C_REF_OTHER,
  C_BYTES_SENT, C_BYTES_RECV, C_BYTES_VERIFIED, C_BYTES_UNREAD, C_STREAMS_EOF, C_STREAMS_CUT,
  C_DESTROYS, C_CLOSES, C_DUP2S, C_SHUTS, C_CANCELS, C_CANCEL_HITS, C_PENDING_CHECKS,
  C_CONN_UNIX, C_CONN_TCP, C_CONN_ACCEPTED, C_ORPHAN_ACCEPTS, C_LISTENER_CLOSES,
  C_POOL_FULL, C_DESTROY_MAX_MS, C_WAIT_DESTROYED, C_WAIT_EINVAL, C_QUARANTINED, C_SNAP_CHECKS, C_TIMED,
  C_NCOUNTERS
};
static atomic_llong cnt[C_NCOUNTERS];
#define INC(c) atomic_fetch_add_explicit(&cnt[c], 1, memory_order_relaxed)
#define ADD(c, n) atomic_fetch_add_explicit(&cnt[c], (long long)(n), memory_order_relaxed)
#define GET(c) atomic_load(&cnt[c])

static atomic_long n_fail;
static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...) {
  long n = atomic_fetch_add(&n_fail, 1);
  if (n >= 40) {
    if (n == 40)
      fprintf(stderr, "stress: (further failures not printed)\n");
    return;
  }
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "stress: FAIL (seed %" PRIu64 "): %s\n", cfg_seed, msg);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* ---- randomness, content, hashes ---------------------------------------------------------- */

typedef struct {
  uint64_t s;
} rng_t;

static inline uint64_t rnd(rng_t *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 2685821657736338717ULL;
}
static inline unsigned rndn(rng_t *r, unsigned n) {
  return (unsigned)(((rnd(r) >> 32) * (uint64_t)n) >> 32);
}

static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

static uint64_t inv64(uint64_t a) { /* a odd: its inverse modulo 2^64 (Newton) */
  uint64_t x = a;
  for (int i = 0; i < 6; i++)
    x *= 2 - a * x;
  return x;
}

static uint64_t unmix64(uint64_t x) {
  x ^= x >> 33;
  x *= inv64(0xc4ceb9fe1a85ec53ULL);
  x ^= x >> 33;
  x *= inv64(0xff51afd7ed558ccdULL);
  x ^= x >> 33;
  return x;
}

/* The stream content: byte `off` of stream `seed` (the sequence numbers are the offsets). */
static void gen(uint64_t seed, uint64_t off, unsigned char *dst, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint64_t k = off + i;
    uint64_t w = mix64(seed ^ ((k >> 3) * 0x9E3779B97F4A7C15ULL));
    for (unsigned b = (unsigned)(k & 7); b < 8 && i < n; b++, i++)
      dst[i] = (unsigned char)(w >> (b * 8));
  }
}

static uint64_t hash_buf(const unsigned char *p, size_t n) {
  uint64_t h = 1469598103934665603ULL ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
  }
  for (; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

/* Index of the first byte of p[0..n) that is not the poison, or n. */
static size_t unpoisoned_at(const unsigned char *p, size_t n) {
  size_t i = 0;
  const uint64_t pw = 0x0101010101010101ULL * POISON;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    if (w != pw)
      break;
  }
  for (; i < n; i++)
    if (p[i] != POISON)
      return i;
  return n;
}

/* ---- the model ---------------------------------------------------------------------------- */

enum { K_RECV, K_SEND, K_ACCEPT, K_POST, K_TPOST };
static const char *kind_name[] = {"recv", "send", "accept", "post", "timed post"};
enum { S_FREE = 0, S_PENDING = 1, S_DONE = 2, S_DROPPED = 3 };
#define TAG(id, st) (((uint64_t)(id) << 2) | (uint64_t)(st))

/* A port instance (a handle number is reused by later ports; an instance never is). */
struct inst {
  int handle;
  int cell;
  atomic_int destroy_started;
  atomic_ullong destroyed_at; /* ticket taken when destroy returned; 0 while alive */
  struct inst *all_next;
};

struct op;

/* One send or receive in its stream's order. */
enum { R_PEND, R_DONE, R_UNKNOWN };
struct rec {
  struct rec *next;
  struct op *op;    /* receive: the operation holding the data */
  struct op *owner; /* send: its operation until that completes (then NULL) */
  uint64_t label; /* send: stream offset its content was made for */
  long len;
  long rv; /* bytes moved, once R_DONE */
  int st;
  int eof;
  int err;      /* errnoValue of its completion */
  uint64_t id;  /* operationId */
};

/* What a stream's last records were (printed when its bytes do not match). */
#define HIST 12
struct hist {
  uint64_t id, label;
  long len, rv;
  int err, st;
};

struct conn;
/* One direction of a connection. All fields under mu. */
struct stream {
  pthread_mutex_t mu;
  uint64_t seed;
  struct conn *conn;
  struct rec *sh, *stl; /* sends in start order */
  struct rec *rh, *rtl; /* receives in start order */
  long soff, roff;      /* bytes of the head records already matched */
  uint64_t next_label;
  uint64_t verified;
  uint64_t missing_after_eof;
  int dead; /* an operation with unknown outcome (destroyed port): stop checking */
  int eof;
  int receiver_closed;
  int failed;
  int raced; /* a send or receive on it was refused while its port was being destroyed */
  struct hist hs[HIST], hr[HIST]; /* last sends / receives popped */
  unsigned nhs, nhr;
};

struct sock;
struct conn {
  struct sock *end[2];
  struct stream st[2]; /* st[i]: end[i] sends, end[1-i] receives */
  int tcp;
  unsigned serial;
  atomic_int reset; /* an error (ECONNRESET, EPIPE...) was seen on it: TCP may drop data */
  struct conn *all_next;
};

struct client {
  int fd;
  int keylen;
  char key[32];
};

struct sock {
  pthread_mutex_t mu;
  int fd; /* -1 once closed */
  int cell;
  int tcp;
  int listener;
  int casualty; /* had operations dropped by a destroyed port */
  struct conn *conn;
  int side;
  struct stream *out, *in;
  struct op *pend; /* operations the test considers outstanding on it */
  int n_recv, n_send, n_tpost, n_accept;
  int wr_shut;
  int eof_seen;
  atomic_int peer_gone;
  uint64_t last_done_id;
  /* listener only */
  struct client clients[MAX_CLIENTS];
  int nclients;
  struct sockaddr_storage addr;
  socklen_t addrlen;
  struct sock *all_next;
};

struct op {
  atomic_ullong tag; /* id << 2 | state */
  int kind;
  int post_flag, fill, timed;
  struct sock *sock;
  struct rec *rec;
  struct stream *stream;
  struct inst *inst;
  unsigned char *buf;
  size_t len;
  /* posts: values every field must come back with */
  void *fake_buf;
  size_t fake_len;
  int fake_sdts;
  unsigned fake_bavail;
  int posted_fd;
  long long t_start;
  atomic_int holds;
  int cancel_rc; /* -1: not cancelled; else what QsoCancelOperation returned */
  int closed;    /* close() of its socket returned while it was outstanding */
  int posted_at_start;
  int linked;
  int snap_valid;
  uint64_t snap;
  uint64_t data_hash; /* receive: hash of the bytes it reported, taken at its completion */
  struct op *snext, *sprev;
  struct op *qnext;
  int queued; /* in the quarantine queue (under q_mu) */
  int qdrop;  /* the entry just taken off the queue was a destroy's (see reap) */
  long long qtime;
  unsigned long long qticket;
  struct op *free_next;
  char hlog[16]; /* hold/unhold history (self-check): letters, newest last */
  atomic_uint hn;
};

struct cell {
  int idx;
  _Atomic(struct inst *) inst;
  pthread_mutex_t life; /* one destroy/recreate at a time */
  pthread_mutex_t mu;   /* socks[], listeners */
  struct sock *socks[SOCKS_PER_CELL];
  struct sock *lis[2]; /* 0: AF_UNIX, 1: TCP */
  unsigned lis_serial;
};

struct thr {
  int idx;
  rng_t r;
  long long next_at[4]; /* when this worker next closes, half-closes, closes a listener,
                           destroys a port (wall-clock rates: see churn[]) */
  int spare; /* an eventfd to dup2() over sockets */
  int cell;
  pthread_t th;
};

static struct cell cells[MAX_CELLS];
static struct op *pool;
static struct op *free_head;
static pthread_mutex_t free_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_ullong next_id = 1;
static atomic_ullong ticket;
static atomic_ullong active[MAX_THREADS]; /* ticket+1 of a wait in progress (with processing) */
static pthread_rwlock_t handles_lock;
static atomic_int stop_workers, stop_waiters, closing_all;
static pthread_mutex_t all_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sock *all_socks;
static struct conn *all_conns;
static struct inst *all_insts;
static unsigned conn_serial;
static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static struct op *q_head, *q_tail;
static int pm_fd = -1, pm_port; /* a plain listener to make TCP pairs */
static pthread_mutex_t pm_mu = PTHREAD_MUTEX_INITIALIZER;
static long long t_begin;

static void lock(pthread_mutex_t *m) { pthread_mutex_lock(m); }

/* Who owns each descriptor number, as far as the test knows. A number the kernel hands out
 * that the test still thinks is open means someone closed it behind the test's back. */
#define FD_MAX 65536
static _Atomic(const void *) fd_owner[FD_MAX];
static const char owner_misc[] = "misc";

/* A short history of each descriptor number (printed when something about it looks wrong). */
#define FDLOG 48
struct fdev {
  long long us;
  char what;     /* C claim, X close, D dup2-close, S start, R refused, E ECLOSED seen */
  int extra;
  const void *who;
  uint64_t id;
};
static struct fdev fdlog[FD_MAX][FDLOG];
static atomic_uint fdlog_n[FD_MAX];
static long long t0_us;

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - t0_us;
}

static void fdev(int fd, char what, const void *who, uint64_t id, int extra) {
  if (fd < 0 || fd >= FD_MAX)
    return;
  unsigned i = atomic_fetch_add(&fdlog_n[fd], 1) % FDLOG;
  fdlog[fd][i].us = now_us();
  fdlog[fd][i].what = what;
  fdlog[fd][i].who = who;
  fdlog[fd][i].id = id;
  fdlog[fd][i].extra = extra;
}

static void fd_history(int fd) {
  if (fd < 0 || fd >= FD_MAX)
    return;
  unsigned n = atomic_load(&fdlog_n[fd]);
  fprintf(stderr, "stress:   history of descriptor %d (us, event, owner, id, extra):", fd);
  for (unsigned i = n > FDLOG ? n - FDLOG : 0; i < n; i++) {
    struct fdev *e = &fdlog[fd][i % FDLOG];
    fprintf(stderr, " [%lld %c %p %" PRIu64 " %d]", e->us, e->what, e->who, e->id, e->extra);
  }
  fprintf(stderr, "\n");
}

static void claim(int fd, const void *who, const char *what) {
  fdev(fd, 'C', who, 0, 0);
  if (fd < 0 || fd >= FD_MAX)
    return;
  const void *none = NULL;
  if (!atomic_compare_exchange_strong(&fd_owner[fd], &none, who))
    failf("descriptor %d (%s) is still owned by the test (%p): it was closed behind the "
          "test's back", fd, what, none);
}

static void disown(int fd, const void *who) {
  if (fd < 0 || fd >= FD_MAX)
    return;
  fdev(fd, 'X', who, 0, 0);
  const void *was = atomic_exchange(&fd_owner[fd], NULL);
  if (was != who)
    failf("closing descriptor %d: owned by %p, not by %p", fd, was, who);
}

static void transfer(int fd, const void *from, const void *to) {
  if (fd < 0 || fd >= FD_MAX)
    return;
  fdev(fd, 'T', to, 0, 0);
  const void *was = from;
  if (!atomic_compare_exchange_strong(&fd_owner[fd], &was, to))
    failf("descriptor %d: owned by %p, expected %p", fd, was, from);
}

/* close() of a descriptor the test owns */
static int xclose(int fd, const void *who) {
  disown(fd, who);
  return close(fd);
}
static void unlock(pthread_mutex_t *m) { pthread_mutex_unlock(m); }

/* ---- the operation pool ------------------------------------------------------------------- */

static struct op *op_alloc(void) {
  lock(&free_mu);
  struct op *op = free_head;
  if (op)
    free_head = op->free_next;
  unlock(&free_mu);
  if (!op)
    return NULL;
  /* reset everything but the tag (which says FREE) */
  op->kind = 0;
  op->post_flag = op->fill = op->timed = 0;
  __atomic_store_n(&op->sock, (struct sock *)NULL, __ATOMIC_RELAXED);
  op->rec = NULL;
  op->stream = NULL;
  op->inst = NULL;
  op->buf = NULL;
  op->len = 0;
  op->fake_buf = NULL;
  op->fake_len = 0;
  op->fake_sdts = 0;
  op->fake_bavail = 0;
  op->posted_fd = 0;
  op->t_start = 0;
  atomic_store(&op->holds, 1);
  op->cancel_rc = -1;
  op->closed = 0;
  op->posted_at_start = 0;
  op->linked = 0;
  op->snap_valid = 0;
  op->snap = 0;
  op->snext = op->sprev = NULL;
  op->qnext = NULL;
  op->queued = 0;
  memset(op->hlog, 0, sizeof op->hlog);
  atomic_store(&op->hn, 0);
  return op;
}

static uint64_t op_id(struct op *op) { return atomic_load(&op->tag) >> 2; }

static void hlog(struct op *op, char c) {
  unsigned i = atomic_fetch_add(&op->hn, 1);
  op->hlog[i % 15] = c;
}

static void op_release(struct op *op) {
  if (op->kind == K_RECV && op->rec)
    failf("stress self-check: receive id %" PRIu64 " released while its stream record still "
          "refers to it (hold history %.15s)", op_id(op), op->hlog);
  free(op->buf);
  op->buf = NULL;
  atomic_store(&op->tag, 0);
  lock(&free_mu);
  op->free_next = free_head;
  free_head = op;
  unlock(&free_mu);
}

static void op_hold_why(struct op *op, char why) {
  hlog(op, why);
  atomic_fetch_add(&op->holds, 1);
}
#define op_hold(op) op_hold_why((op), '+')
static void op_unhold_why(struct op *op, char why);
#define op_unhold(op) op_unhold_why((op), '-')
static void op_unhold_why(struct op *op, char why) {
  hlog(op, why);
  int was = atomic_fetch_sub(&op->holds, 1);
  if (was == 1)
    op_release(op);
  else if (was <= 0)
    failf("stress self-check: operation slot %td released more often than held",
          op - pool);
}


static void sock_link(struct sock *s, struct op *op) {
  op->sprev = NULL;
  op->snext = s->pend;
  if (s->pend)
    s->pend->sprev = op;
  s->pend = op;
  op->linked = 1;
  switch (op->kind) {
  case K_RECV: s->n_recv++; break;
  case K_SEND: s->n_send++; break;
  case K_ACCEPT: s->n_accept++; break;
  case K_TPOST: s->n_tpost++; break;
  }
}

static void sock_unlink(struct sock *s, struct op *op) {
  if (!op->linked)
    return;
  if (op->sprev)
    op->sprev->snext = op->snext;
  else
    s->pend = op->snext;
  if (op->snext)
    op->snext->sprev = op->sprev;
  op->snext = op->sprev = NULL;
  op->linked = 0;
  switch (op->kind) {
  case K_RECV: s->n_recv--; break;
  case K_SEND: s->n_send--; break;
  case K_ACCEPT: s->n_accept--; break;
  case K_TPOST: s->n_tpost--; break;
  }
}

/* ---- tickets and quarantine --------------------------------------------------------------- */

/* The smallest ticket of a wait in progress, or ULLONG_MAX. */
static unsigned long long min_active_ticket(void) {
  unsigned long long m = ULLONG_MAX;
  for (int i = 0; i < MAX_THREADS; i++) {
    unsigned long long a = atomic_load(&active[i]);
    if (a != 0 && a - 1 < m)
      m = a - 1;
  }
  return m;
}

/* Keeps op (and its buffer) for a later check; released by reap(). */
static void quarantine(struct op *op, unsigned long long need_ticket) {
  lock(&q_mu);
  hlog(op, need_ticket ? 'Q' : 'K');
  if (op->queued) {
    /* already waiting (closed, then its port destroyed): it now also waits for the ticket */
    if (need_ticket > op->qticket)
      op->qticket = need_ticket;
    op->qtime = now_ms();
    unlock(&q_mu);
    return;
  }
  op_hold_why(op, 'k');
  op->queued = 1;
  op->qtime = now_ms();
  op->qticket = need_ticket;
  op->qnext = NULL;
  INC(C_QUARANTINED);
  if (q_tail)
    q_tail->qnext = op;
  else
    q_head = op;
  q_tail = op;
  unlock(&q_mu);
}

static void check_snapshot(struct op *op, const char *when) {
  if (!op->snap_valid || !op->buf)
    return;
  INC(C_SNAP_CHECKS);
  uint64_t h = hash_buf(op->buf, op->len);
  if (h != op->snap)
    failf("buffer of %s id %" PRIu64 " (%zu bytes) changed after %s returned (checked %s)",
          kind_name[op->kind], op_id(op), op->len, op->closed ? "close" : "destroy", when);
}

/* Re-checks quarantined buffers that have waited long enough, and lets them go. */
static void reap(int force) {
  if (force)
    lock(&q_mu);
  else if (pthread_mutex_trylock(&q_mu) != 0)
    return;
  long long now = now_ms();
  unsigned long long min_t = min_active_ticket();
  struct op *done = NULL;
  while (q_head) {
    struct op *op = q_head;
    if (!force && (now - op->qtime < QUARANTINE_MS || min_t < op->qticket))
      break;
    q_head = op->qnext;
    if (!q_head)
      q_tail = NULL;
    op->queued = 0;
    /* Only an entry made (or extended) by a destroy's sweep answers for the completion hold of
     * a dropped operation; captured here, under the lock, because a sweep may queue the same
     * operation again as soon as it is off the queue. */
    op->qdrop = op->qticket != 0;
    op->qnext = done;
    done = op;
  }
  unlock(&q_mu);
  while (done) {
    struct op *op = done;
    done = op->qnext;
    int drop_entry = op->qdrop;
    check_snapshot(op, "later");
    uint64_t tag = atomic_load(&op->tag);
    if (drop_entry && (tag & 3) == S_DROPPED) /* no completion came, none can now: let it go */
      op_unhold_why(op, 'd');
    op_unhold_why(op, 'q');
  }
}

/* ---- streams ------------------------------------------------------------------------------ */

static void hist_add(struct hist *h, unsigned *n, const struct rec *r) {
  struct hist *x = &h[(*n)++ % HIST];
  x->id = r->id;
  x->label = r->label;
  x->len = r->len;
  x->rv = r->rv;
  x->err = r->err;
  x->st = r->st;
}

static const char *raced_note(struct stream *s) {
  return s->raced ? " [after a start on this stream was refused racing the destroy of its port]"
                  : "";
}

static void rec_op_print(const char *what, struct rec *r) {
  if (!r || !r->op)
    return;
  struct op *op = r->op;
  fprintf(stderr, "stress:   %s: record id %" PRIu64 " -> slot %td now id %" PRIu64 " state %d "
          "kind %d holds %d, slot's record %s, buffer %p, hold history %.15s\n", what, r->id,
          op - pool, (uint64_t)(atomic_load(&op->tag) >> 2), (int)(atomic_load(&op->tag) & 3), op->kind,
          atomic_load(&op->holds), op->rec == r ? "is this one" : "is another",
          (void *)op->buf, op->hlog);
}

static void hist_print(struct stream *s) {
  fprintf(stderr, "stress:   stream %" PRIx64 " (%s), verified %" PRIu64 ", offsets send %ld "
          "receive %ld; last sends (id label len rv errno state):", s->seed,
          s->conn->tcp ? "TCP" : "AF_UNIX", s->verified, s->soff, s->roff);
  for (unsigned i = s->nhs > HIST ? s->nhs - HIST : 0; i < s->nhs; i++) {
    struct hist *x = &s->hs[i % HIST];
    fprintf(stderr, " [%" PRIu64 " %" PRIu64 " %ld %ld %d %d]", x->id, x->label, x->len, x->rv,
            x->err, x->st);
  }
  fprintf(stderr, "\nstress:   last receives (id len rv errno state):");
  for (unsigned i = s->nhr > HIST ? s->nhr - HIST : 0; i < s->nhr; i++) {
    struct hist *x = &s->hr[i % HIST];
    fprintf(stderr, " [%" PRIu64 " %ld %ld %d %d]", x->id, x->len, x->rv, x->err, x->st);
  }
  fprintf(stderr, "\nstress:   queued sends:");
  int k = 0;
  for (struct rec *r = s->sh; r && k < 8; r = r->next, k++)
    fprintf(stderr, " [%" PRIu64 " %" PRIu64 " %ld %ld %d %d]", r->id, r->label, r->len, r->rv,
            r->err, r->st);
  fprintf(stderr, "\nstress:   queued receives:");
  k = 0;
  for (struct rec *r = s->rh; r && k < 8; r = r->next, k++)
    fprintf(stderr, " [%" PRIu64 " %ld %ld %d %d]", r->id, r->len, r->rv, r->err, r->st);
  fprintf(stderr, "\n");
  rec_op_print("head receive", s->rh);
}

static struct conn *all_conns_head(void);

/* Where n received bytes came from: which stream, at which offset (the content of every
 * stream is a bijection of (seed, offset / 8) per 8-byte word, so one aligned word names its
 * origin). Printed when bytes do not match. */
static void locate(const unsigned char *got, long n) {
  if (n >= 1 && unpoisoned_at(got, (size_t)n) == (size_t)n) {
    fprintf(stderr, "stress:   the %ld bytes are all poison (0x%02x): never written\n", n, POISON);
    return;
  }
  const uint64_t C = 0x9E3779B97F4A7C15ULL, Ci = inv64(C);
  int found = 0;
  for (int a = 0; a < 8 && !found; a++) {
    long pos = (8 - a) % 8; /* where an aligned word starts, if the first byte is at offset == a mod 8 */
    if (pos + 8 > n)
      continue;
    uint64_t w;
    memcpy(&w, got + pos, 8);
    uint64_t key = unmix64(w);
    for (struct conn *k = all_conns_head(); k && !found; k = k->all_next)
      for (int i = 0; i < 2 && !found; i++) {
        uint64_t q = (key ^ k->st[i].seed) * Ci;
        if (q >= (1ULL << 40))
          continue;
        uint64_t off = q * 8 - (uint64_t)pos;
        unsigned char tmp[64];
        long m = n < 64 ? n : 64;
        gen(k->st[i].seed, off, tmp, (size_t)m);
        if (memcmp(tmp, got, (size_t)m) == 0) {
          fprintf(stderr, "stress:   the bytes are stream %" PRIx64 " (connection %u, %s, "
                  "direction %d) at offset %" PRIu64 "\n", k->st[i].seed, k->serial,
                  k->tcp ? "TCP" : "AF_UNIX", i, off);
          found = 1;
        }
      }
  }
  if (!found)
    fprintf(stderr, "stress:   the bytes match no stream's content\n");
}

static void rec_pop_send(struct stream *s) {
  struct rec *r = s->sh;
  hist_add(s->hs, &s->nhs, r);
  if (r->owner) /* (an operation dropped with its port, popped from a cut stream) */
    r->owner->rec = NULL;
  s->sh = r->next;
  if (!s->sh)
    s->stl = NULL;
  s->soff = 0;
  free(r);
}

static void rec_pop_recv(struct stream *s) {
  struct rec *r = s->rh;
  hist_add(s->hr, &s->nhr, r);
  s->rh = r->next;
  if (!s->rh)
    s->rtl = NULL;
  s->roff = 0;
  if (r->op) {
    r->op->rec = NULL;
    op_unhold_why(r->op, 'v');
  }
  free(r);
}

/* Matches received bytes against sent bytes as far as both sides are known. Stream lock held. */
static void verify(struct stream *s) {
  unsigned char tmp[4096];
  for (int guard = 0; guard < 10000000; guard++) {
    struct rec *sh = s->sh, *rh = s->rh;
    if (!s->dead && ((sh && sh->st == R_UNKNOWN) || (rh && rh->st == R_UNKNOWN))) {
      s->dead = 1;
      INC(C_STREAMS_CUT);
    }
    if (s->dead) {
      while (s->sh && s->sh->st != R_PEND)
        rec_pop_send(s);
      while (s->rh && s->rh->st != R_PEND)
        rec_pop_recv(s);
      return;
    }
    if (rh && rh->st == R_DONE && s->roff == rh->rv) {
      if (rh->eof)
        s->eof = 1;
      rec_pop_recv(s);
      continue;
    }
    if (sh && sh->st == R_DONE && s->soff == sh->rv) {
      rec_pop_send(s);
      continue;
    }
    if (!rh) {
      /* Nothing more will be read (receiver closed, or end of file seen): what was sent is
       * unread (kernel buffers discarded at close), or missing if the end was seen. */
      if ((s->receiver_closed || s->eof) && sh && sh->st == R_DONE) {
        long left = sh->rv - s->soff;
        ADD(C_BYTES_UNREAD, left);
        if (s->eof)
          s->missing_after_eof += (uint64_t)left;
        rec_pop_send(s);
        continue;
      }
      return;
    }
    if (rh->st != R_DONE)
      return;
    /* rh holds rv - roff unmatched bytes */
    if (s->eof) {
      failf("stream %" PRIx64 ": %ld bytes received after end of file%s", s->seed,
            rh->rv - s->roff, raced_note(s));
      s->failed = 1;
      s->dead = 1;
      continue;
    }
    if (!sh) {
      failf("stream %" PRIx64 ": %ld bytes received at offset %" PRIu64
            " beyond everything sent (duplicated bytes?)%s",
            s->seed, rh->rv - s->roff, s->verified, raced_note(s));
      if (atomic_load(&n_fail) <= 40) {
        hist_print(s);
        locate(rh->op->buf + s->roff, rh->rv - s->roff);
      }
      s->failed = 1;
      s->dead = 1;
      continue;
    }
    if (sh->st != R_DONE)
      return; /* its length is not known yet */
    if (s->roff == 0 && hash_buf(rh->op->buf, (size_t)rh->rv) != rh->op->data_hash) {
      failf("receive id %" PRIu64 " (%ld bytes, buffer %p): its data changed between its "
            "completion and its check; holds %d, state %d", op_id(rh->op), rh->rv,
            (void *)rh->op->buf, atomic_load(&rh->op->holds),
            (int)(atomic_load(&rh->op->tag) & 3));
      if (atomic_load(&n_fail) <= 40) {
        locate(rh->op->buf, rh->rv);
        int rfd = s->conn->end[s == &s->conn->st[0] ? 1 : 0]->fd;
        fprintf(stderr, "stress:   receiving socket fd %d\n", rfd);
        fd_history(rfd);
      }
    }
    long n = rh->rv - s->roff;
    if (sh->rv - s->soff < n)
      n = sh->rv - s->soff;
    const unsigned char *got = rh->op->buf + s->roff;
    for (long k = 0; k < n;) {
      long m = n - k < (long)sizeof tmp ? n - k : (long)sizeof tmp;
      gen(s->seed, sh->label + (uint64_t)s->soff + (uint64_t)k, tmp, (size_t)m);
      if (memcmp(tmp, got + k, (size_t)m) != 0) {
        long j = 0;
        while (j < m && tmp[j] == got[k + j])
          j++;
        failf("stream %" PRIx64 ": byte %" PRIu64 " is 0x%02x, expected 0x%02x "
              "(receive id %" PRIu64 " byte %ld, send label %" PRIu64 " byte %ld)%s",
              s->seed, s->verified + (uint64_t)(k + j), got[k + j], tmp[j], op_id(rh->op),
              s->roff + k + j, sh->label, s->soff + k + j, raced_note(s));
        if (atomic_load(&n_fail) <= 40) {
          hist_print(s);
          locate(got + k + j, n - k - j);
          int rfd = s->conn->end[s == &s->conn->st[0] ? 1 : 0]->fd;
          int sfd = s->conn->end[s == &s->conn->st[0] ? 0 : 1]->fd;
          fprintf(stderr, "stress:   receiving socket fd %d, sending socket fd %d\n", rfd, sfd);
          fd_history(rfd);
          fd_history(sfd);
        }
        s->failed = 1;
        s->dead = 1;
        break;
      }
      k += m;
    }
    if (s->dead)
      continue;
    s->roff += n;
    s->soff += n;
    s->verified += (uint64_t)n;
    ADD(C_BYTES_VERIFIED, n);
  }
}

static struct rec *rec_append(struct stream *s, int recv, struct op *op, long len) {
  struct rec *r = calloc(1, sizeof *r);
  if (!r)
    abort();
  r->len = len;
  r->st = R_PEND;
  if (recv) {
    r->op = op;
    if (s->rtl)
      s->rtl->next = r;
    else
      s->rh = r;
    s->rtl = r;
  } else {
    r->owner = op;
    r->label = s->next_label;
    s->next_label += (uint64_t)len;
    if (s->stl)
      s->stl->next = r;
    else
      s->sh = r;
    s->stl = r;
  }
  return r;
}

/* Removes the last record (a start call was refused). */
static void rec_remove_tail(struct stream *s, int recv, struct rec *r) {
  struct rec **head = recv ? &s->rh : &s->sh, **tail = recv ? &s->rtl : &s->stl;
  struct rec *prev = NULL;
  for (struct rec *x = *head; x && x != r; x = x->next)
    prev = x;
  if (prev)
    prev->next = NULL;
  else
    *head = NULL;
  *tail = prev;
  if (!recv)
    s->next_label -= (uint64_t)r->len;
  free(r);
}

/* ---- sockets, connections, cells ---------------------------------------------------------- */

static struct sock *sock_new(int fd, int cell, int tcp) {
  struct sock *s = calloc(1, sizeof *s);
  if (!s)
    abort();
  pthread_mutex_init(&s->mu, NULL);
  transfer(fd, owner_misc, s);
  s->fd = fd;
  s->cell = cell;
  s->tcp = tcp;
  lock(&all_mu);
  s->all_next = all_socks;
  all_socks = s;
  unlock(&all_mu);
  return s;
}

/* Puts s in a free slot of its cell; 0 if the cell is full. */
static int cell_add(struct sock *s) {
  struct cell *c = &cells[s->cell];
  lock(&c->mu);
  for (int i = 0; i < SOCKS_PER_CELL; i++)
    if (!c->socks[i]) {
      c->socks[i] = s;
      unlock(&c->mu);
      return 1;
    }
  unlock(&c->mu);
  return 0;
}

static void cell_remove(struct sock *s) {
  struct cell *c = &cells[s->cell];
  lock(&c->mu);
  for (int i = 0; i < SOCKS_PER_CELL; i++)
    if (c->socks[i] == s)
      c->socks[i] = NULL;
  for (int f = 0; f < 2; f++)
    if (c->lis[f] == s)
      c->lis[f] = NULL;
  unlock(&c->mu);
}

static int cell_count(struct cell *c) {
  int n = 0;
  lock(&c->mu);
  for (int i = 0; i < SOCKS_PER_CELL; i++)
    n += c->socks[i] != NULL;
  unlock(&c->mu);
  return n;
}

static struct sock *cell_pick(struct cell *c, rng_t *r) {
  lock(&c->mu);
  struct sock *s = c->socks[rndn(r, SOCKS_PER_CELL)];
  unlock(&c->mu);
  return s;
}

/* Makes a connection of fds a and b: a in cell ca, b in cell cb. Closes both if no room. */
static void conn_make(int a, int b, int ca, int cb, int tcp) {
  if (atomic_load(&closing_all)) {
    xclose(a, owner_misc);
    xclose(b, owner_misc);
    return;
  }
  struct conn *k = calloc(1, sizeof *k);
  if (!k)
    abort();
  k->tcp = tcp;
  lock(&all_mu);
  k->serial = ++conn_serial;
  k->all_next = all_conns;
  all_conns = k;
  unlock(&all_mu);
  for (int i = 0; i < 2; i++) {
    pthread_mutex_init(&k->st[i].mu, NULL);
    k->st[i].seed = mix64(cfg_seed ^ ((uint64_t)k->serial << 1 | (uint64_t)i));
    k->st[i].conn = k;
  }
  struct sock *sa = sock_new(a, ca, tcp), *sb = sock_new(b, cb, tcp);
  sa->conn = sb->conn = k;
  sa->side = 0;
  sb->side = 1;
  sa->out = &k->st[0];
  sb->in = &k->st[0];
  sb->out = &k->st[1];
  sa->in = &k->st[1];
  k->end[0] = sa;
  k->end[1] = sb;
  if (!cell_add(sa)) {
    sa->fd = -1;
    xclose(a, sa);
    k->st[1].receiver_closed = 1;
    atomic_store(&sb->peer_gone, 1);
  }
  if (!cell_add(sb)) {
    sb->fd = -1;
    xclose(b, sb);
    k->st[0].receiver_closed = 1;
    atomic_store(&sa->peer_gone, 1);
  }
}

static int unix_pair(int sv[2]) {
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return -1;
  claim(sv[0], owner_misc, "socketpair");
  claim(sv[1], owner_misc, "socketpair");
  return 0;
}

static void set_timeouts(int fd) {
  struct timeval tv = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static void clear_timeouts(int fd) {
  struct timeval tv = {0, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* A connected TCP pair on 127.0.0.1 through the plain pair-making listener. */
static int tcp_pair(int sv[2]) {
  lock(&pm_mu);
  int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c < 0) {
    unlock(&pm_mu);
    return -1;
  }
  claim(c, owner_misc, "tcp client");
  set_timeouts(c);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((unsigned short)pm_port);
  int s = -1;
  if (connect(c, (struct sockaddr *)&a, sizeof a) == 0) {
    struct pollfd p = {pm_fd, POLLIN, 0};
    if (poll(&p, 1, 1000) == 1)
      s = accept4(pm_fd, NULL, NULL, SOCK_CLOEXEC);
  }
  unlock(&pm_mu);
  if (s < 0) {
    xclose(c, owner_misc);
    return -1;
  }
  claim(s, owner_misc, "tcp accepted");
  clear_timeouts(c);
  int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sv[0] = s;
  sv[1] = c;
  return 0;
}

/* A listener for cell c: AF_UNIX (abstract name) or TCP on 127.0.0.1. */
static struct sock *listener_new(struct cell *c, int tcp) {
  int fd;
  struct sockaddr_storage ss;
  socklen_t len;
  memset(&ss, 0, sizeof ss);
  if (tcp) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  } else {
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un *u = (struct sockaddr_un *)&ss;
    u->sun_family = AF_UNIX;
    int n = snprintf(u->sun_path + 1, sizeof u->sun_path - 1, "qsostress.%d.%d.%u",
                     (int)getpid(), c->idx, ++c->lis_serial);
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
  }
  if (fd < 0)
    return NULL;
  claim(fd, owner_misc, "listener");
  if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
    failf("listener: %s", strerror(errno));
    xclose(fd, owner_misc);
    return NULL;
  }
  struct sock *s = sock_new(fd, c->idx, tcp);
  s->listener = 1;
  s->addr = ss;
  s->addrlen = len;
  return s;
}

static void cell_new_listener(struct cell *c, int tcp) {
  if (atomic_load(&closing_all))
    return;
  struct sock *s = listener_new(c, tcp);
  if (!s)
    return;
  lock(&c->mu);
  if (!c->lis[tcp]) {
    c->lis[tcp] = s;
    s = NULL;
  }
  unlock(&c->mu);
  if (s) {
    xclose(s->fd, s);
    s->fd = -1;
  }
}

/* The key that pairs an accepted socket with its client: the client's address. */
static int addr_key(int fd, int peer, char *key) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
                : getsockname(fd, (struct sockaddr *)&ss, &len);
  if (rc != 0)
    return -1;
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    memcpy(key, &a->sin_port, 2);
    return 2;
  }
  struct sockaddr_un *u = (struct sockaddr_un *)&ss;
  int n = (int)len - (int)offsetof(struct sockaddr_un, sun_path);
  if (n <= 0 || n > 32)
    return -1;
  memcpy(key, u->sun_path, (size_t)n);
  return n;
}

/* Closes a socket (lock held) through the library's close hook (or dup2 over it), then
 * snapshots the buffers of every operation still outstanding on it. */
static void sock_close_locked(struct thr *t, struct sock *s, int use_dup2) {
  if (s->fd < 0)
    return;
  int fd = s->fd;
  int rc;
  disown(fd, s);
  if (use_dup2 && t) {
    rc = dup2(t->spare, fd);
    if (rc == fd)
      rc = close(fd) == 0 ? 0 : -1;
    else
      failf("dup2(%d, %d) returned %d: %s", t->spare, fd, rc, strerror(errno));
    INC(C_DUP2S);
  } else {
    rc = close(fd);
    if (rc != 0)
      failf("close(%d): %s", fd, strerror(errno));
  }
  INC(C_CLOSES);
  /* close() has returned: from now on no byte of these buffers may change. */
  for (struct op *op = s->pend; op; op = op->snext) {
    op->closed = 1;
    if (op->buf) {
      op->snap = hash_buf(op->buf, op->len);
      op->snap_valid = 1;
    }
    quarantine(op, 0);
  }
  s->fd = -1;
  for (int i = 0; i < s->nclients; i++)
    xclose(s->clients[i].fd, owner_misc);
  s->nclients = 0;
  if (s->in) {
    lock(&s->in->mu);
    s->in->receiver_closed = 1;
    verify(s->in);
    unlock(&s->in->mu);
  }
  if (s->conn)
    atomic_store(&s->conn->end[1 - s->side]->peer_gone, 1);
  cell_remove(s);
}

/* ---- completions -------------------------------------------------------------------------- */

static int expected_code(int kind) {
  switch (kind) {
  case K_RECV: return QSOSTARTRECV;
  case K_SEND: return QSOSTARTSEND;
  case K_ACCEPT: return QSOSTARTACCEPT;
  default: return QSOPOSTIOCOMPLETION;
  }
}

static void adopt_accepted(struct sock *l, int fd) {
  claim(fd, owner_misc, "returned by an accept completion");
  int fdflags = fcntl(fd, F_GETFD), flflags = fcntl(fd, F_GETFL);
  if (fdflags < 0 || !(fdflags & FD_CLOEXEC) || flflags < 0 || (flflags & O_NONBLOCK))
    failf("accepted socket %d: FD_CLOEXEC %d, O_NONBLOCK %d (want close-on-exec, blocking)", fd,
          fdflags >= 0 && (fdflags & FD_CLOEXEC), flflags >= 0 && (flflags & O_NONBLOCK));
  char key[32];
  int kl = addr_key(fd, 1, key);
  for (int i = 0; kl > 0 && i < l->nclients; i++) {
    if (l->clients[i].keylen == kl && memcmp(l->clients[i].key, key, (size_t)kl) == 0) {
      int cfd = l->clients[i].fd;
      l->clients[i] = l->clients[--l->nclients];
      INC(C_CONN_ACCEPTED);
      uint64_t h = mix64((uint64_t)fd * 7 + (uint64_t)cfd);
      conn_make(fd, cfd, l->cell, h % 3 == 0 ? (int)((h >> 8) % (uint64_t)cfg_cells) : l->cell,
                l->tcp);
      return;
    }
  }
  INC(C_ORPHAN_ACCEPTS);
  xclose(fd, owner_misc);
}

/*
 * Checks and accounts one completion (or a start call's immediate result, sync = 1). The op's
 * state is already DONE; its socket's lock is held.
 */
static void finish_op(struct op *op, const Qso_OverlappedIO_t *st, int sync) {
  uint64_t id = op_id(op);
  int kind = op->kind;
  long rv = st->returnValue;
  int err = st->errnoValue;
  const char *kn = kind_name[kind];
  if (st->operationCompleted != expected_code(kind))
    failf("%s id %" PRIu64 ": operationCompleted %d, expected %d", kn, id,
          st->operationCompleted, expected_code(kind));
  if ((struct op *)st->descriptorHandle != op || st->operationId != id)
    failf("%s id %" PRIu64 ": descriptorHandle/operationId not handed back", kn, id);
  if (kind == K_ACCEPT) {
    if (st->buffer != NULL || st->bufferLength != 0 || st->postFlag || st->fillBuffer)
      failf("accept id %" PRIu64 ": buffer %p length %zu postFlag %u fillBuffer %u (want all 0)",
            id, st->buffer, st->bufferLength, st->postFlag, st->fillBuffer);
  } else if (kind == K_POST || kind == K_TPOST) {
    if (st->buffer != op->fake_buf || st->bufferLength != op->fake_len ||
        st->postFlag != (unsigned)op->post_flag || st->secureDataTransferSize != op->fake_sdts ||
        st->bytesAvailable != op->fake_bavail || st->postedDescriptor != op->posted_fd ||
        st->operationWaitTime.tv_sec != (op->timed ? 1 : 0) || st->operationWaitTime.tv_usec != 0 ||
        st->postFlagResult != 0 || st->fillBuffer != 0)
      failf("%s id %" PRIu64 ": a field was not preserved", kn, id);
  } else {
    if (st->buffer != op->buf || st->bufferLength != op->len ||
        st->postFlag != (unsigned)op->post_flag || st->fillBuffer != (unsigned)op->fill)
      failf("%s id %" PRIu64 ": buffer/length/postFlag/fillBuffer not preserved", kn, id);
  }
  if (kind != K_POST && kind != K_TPOST) {
    unsigned want_pfr = sync ? 0u : (unsigned)op->posted_at_start;
    if (st->postFlagResult != want_pfr || st->secureDataTransferSize != 0 ||
        st->bytesAvailable != 0 || st->postedDescriptor != 0)
      failf("%s id %" PRIu64 ": postFlagResult %u (want %u), secureDataTransferSize %d, "
            "bytesAvailable %u, postedDescriptor %d (want 0)", kn, id, st->postFlagResult,
            want_pfr, st->secureDataTransferSize, st->bytesAvailable, st->postedDescriptor);
  }

  /* the ending, and whether the test can justify it */
  long long elapsed = now_ms() - op->t_start;
  switch (err) {
  case 0:
    if (op->cancel_rc == 1)
      failf("%s id %" PRIu64 ": cancelled (QsoCancelOperation returned 1) but ended normally",
            kn, id);
    break;
  case EAGAIN:
    INC(C_EAGAIN);
    if (!op->timed)
      failf("%s id %" PRIu64 ": EAGAIN without a timer", kn, id);
    else if (elapsed < 1000)
      failf("%s id %" PRIu64 ": 1-second timer expired after %lld ms", kn, id, elapsed);
    break;
  case ECANCELED:
    INC(C_ECANCELED);
    if (op->cancel_rc != 1)
      failf("%s id %" PRIu64 ": ECANCELED but QsoCancelOperation returned %d", kn, id,
            op->cancel_rc);
    break;
  case ECLOSED:
    INC(C_ECLOSED);
    if (!op->closed) {
      failf("%s id %" PRIu64 ": ECLOSED but its socket (fd %d) was not closed", kn, id,
            op->sock ? op->sock->fd : -1);
      if (op->sock && atomic_load(&n_fail) <= 40)
        fd_history(op->sock->fd);
    }
    break;
  case ECONNRESET:
  case EPIPE:
  case ECONNABORTED:
  case ENOTCONN:
  case ETIMEDOUT:
    INC(C_ERROR);
    if (kind == K_POST || kind == K_TPOST)
      failf("%s id %" PRIu64 ": errno %d", kn, id, err);
    if (op->sock && op->sock->conn)
      atomic_store(&op->sock->conn->reset, 1);
    break;
  default:
    INC(C_ERROR);
    failf("%s id %" PRIu64 ": unexpected errno %d (%s), returnValue %ld", kn, id, err,
          strerror(err), rv);
  }
  if (err != ECANCELED && op->cancel_rc == 1 && err != 0)
    failf("%s id %" PRIu64 ": cancelled (QsoCancelOperation returned 1) but ended with errno %d",
          kn, id, err);

  /* the value */
  switch (kind) {
  case K_RECV:
    if (err == 0 ? (rv < 0 || rv > (long)op->len)
                 : !(rv == -1 || (op->fill && rv > 0 && rv < (long)op->len)))
      failf("recv id %" PRIu64 ": returnValue %ld errno %d for %zu bytes (fill %d)", id, rv, err,
            op->len, op->fill);
    else {
      size_t got = rv > 0 ? (size_t)rv : 0;
      size_t bad = got + unpoisoned_at(op->buf + got, op->len - got);
      if (bad != op->len)
        failf("recv id %" PRIu64 ": reported %ld bytes but byte %zu of %zu was written (0x%02x)",
              id, rv, bad, op->len, op->buf[bad]);
      if (rv >= 16 && unpoisoned_at(op->buf, (size_t)rv) == (size_t)rv) {
        failf("recv id %" PRIu64 ": reported %ld bytes (errno %d) but its buffer is untouched "
              "at its completion", id, rv, err);
        if (op->sock && atomic_load(&n_fail) <= 40)
          fd_history(op->sock->fd);
      }
      op->data_hash = hash_buf(op->buf, got);
      if (err == 0 && rv > 0)
        INC(C_DATA);
      else if (err == 0)
        INC(C_EOF);
      ADD(C_BYTES_RECV, got);
    }
    break;
  case K_SEND:
    if (err == 0 ? rv != (long)op->len : !(rv == -1 || (rv > 0 && rv < (long)op->len)))
      failf("send id %" PRIu64 ": returnValue %ld errno %d for %zu bytes", id, rv, err, op->len);
    else if (err == 0)
      INC(C_DATA);
    if (rv > 0)
      ADD(C_BYTES_SENT, rv);
    break;
  case K_ACCEPT:
    if (err == 0 && rv < 0)
      failf("accept id %" PRIu64 ": returnValue %ld with errno 0", id, rv);
    else if (err != 0 && rv != -1)
      failf("accept id %" PRIu64 ": returnValue %ld with errno %d", id, rv, err);
    if (err == 0)
      INC(C_DATA);
    break;
  case K_POST:
    if (rv != 0 || err != 0)
      failf("post id %" PRIu64 ": returnValue %ld errno %d (want 0, 0)", id, rv, err);
    else
      INC(C_DATA);
    break;
  case K_TPOST:
    if (rv != -1 || err == 0)
      failf("timed post id %" PRIu64 ": returnValue %ld errno %d (want -1 and an errno)", id, rv,
            err);
    break;
  }
  if (op->snap_valid)
    check_snapshot(op, "at its completion");

  if (op->sock)
    fdev(op->sock->fd, sync ? 'i' : 'c', op, id, err ? err : (int)rv);
  /* streams */
  if (op->rec) {
    struct stream *s = op->stream;
    lock(&s->mu);
    struct rec *r = op->rec;
    if (r && r->st == R_PEND) {
      long moved = rv > 0 ? rv : 0;
      if (moved > r->len)
        moved = r->len;
      r->rv = moved;
      r->eof = kind == K_RECV && rv == 0 && err == 0;
      r->err = err;
      r->st = R_DONE;
    }
    if (r && kind == K_SEND) {
      /* the record outlives the send (it is matched later): they part here */
      r->owner = NULL;
      op->rec = NULL;
    }
    if (r)
      verify(s);
    unlock(&s->mu);
  }
  struct sock *so = op->sock;
  if (so) {
    sock_unlink(so, op);
    so->last_done_id = id;
    if (kind == K_RECV && rv == 0 && err == 0)
      so->eof_seen = 1;
  }
  if (kind == K_ACCEPT && err == 0 && rv >= 0)
    adopt_accepted(so, (int)rv);
  op_unhold_why(op, 'c');
}

/* A completion returned by QsoWaitForIOCompletion from a wait that began at ticket T. */
static void on_completion(const Qso_OverlappedIO_t *st, unsigned long long T) {
  struct op *op = (struct op *)st->descriptorHandle;
  uintptr_t a = (uintptr_t)op, b = (uintptr_t)pool;
  if (a < b || a >= b + (uintptr_t)POOL_MAX * sizeof *op || (a - b) % sizeof *op != 0) {
    INC(C_DUP);
    failf("completion with descriptorHandle %p that is no operation (op %d id %llu rv %d errno "
          "%d)", st->descriptorHandle, st->operationCompleted, st->operationId, st->returnValue,
          st->errnoValue);
    return;
  }
  uint64_t id = st->operationId;
  uint64_t tag = atomic_load(&op->tag);
  if ((tag >> 2) != id) {
    INC(C_DUP);
    failf("duplicated or stale completion: id %" PRIu64 " (its slot now holds id %" PRIu64
          " state %d), op %d rv %d errno %d", id, tag >> 2, (int)(tag & 3),
          st->operationCompleted, st->returnValue, st->errnoValue);
    return;
  }
  struct sock *s = __atomic_load_n(&op->sock, __ATOMIC_ACQUIRE);
  if (s)
    lock(&s->mu);
  uint64_t want = TAG(id, S_PENDING);
  if (atomic_compare_exchange_strong(&op->tag, &want, TAG(id, S_DONE))) {
    unsigned long long d = op->inst ? atomic_load(&op->inst->destroyed_at) : 0;
    if (d != 0 && T >= d) {
      INC(C_AFTER_DESTROY);
      failf("%s id %" PRIu64 " delivered by a wait that began after its port was destroyed",
            kind_name[op->kind], id);
    }
    finish_op(op, st, 0);
  } else if (want == TAG(id, S_DROPPED)) {
    unsigned long long d = atomic_load(&op->inst->destroyed_at);
    if (T >= d) {
      INC(C_AFTER_DESTROY);
      failf("%s id %" PRIu64 " of a destroyed port delivered by a wait that began after destroy "
            "returned", kind_name[op->kind], id);
    } else if (atomic_compare_exchange_strong(&op->tag, &want, TAG(id, S_DONE))) {
      /* returned by a wait that began before destroy returned: a legitimate completion */
      ADD(C_DROPPED, -1);
      INC(C_LATE);
      finish_op(op, st, 0);
    }
  } else {
    INC(C_DUP);
    failf("duplicated completion: %s id %" PRIu64 " (state %d), rv %d errno %d",
          kind_name[op->kind], id, (int)(want & 3), st->returnValue, st->errnoValue);
  }
  if (s)
    unlock(&s->mu);
}

/* One wait on cell c's port; processes what it returns. Returns 1 if it got a completion. */
static int wait_once(struct thr *t, struct cell *c, long usec) {
  struct inst *in = atomic_load(&c->inst);
  if (!in)
    return 0;
  unsigned long long T = atomic_load(&ticket);
  atomic_store(&active[t->idx], T + 1);
  Qso_OverlappedIO_t st;
  struct timeval tv = {usec / 1000000, usec % 1000000};
  errno = 0;
  int rc = QsoWaitForIOCompletion(in->handle, &st, &tv);
  int e = errno;
  if (rc == 1)
    on_completion(&st, T);
  else if (rc == -1) {
    if (e == EDESTROYED || e == EINVAL) {
      INC(e == EDESTROYED ? C_WAIT_DESTROYED : C_WAIT_EINVAL);
      if (cfg_verbose && e == EINVAL && (GET(C_WAIT_EINVAL) & 0xffff) == 0)
        fprintf(stderr, "stress: EINVAL waits %lld at %lld ms, thread %d, stop %d/%d\n",
                GET(C_WAIT_EINVAL), now_ms() - t_begin, t->idx, atomic_load(&stop_workers),
                atomic_load(&stop_waiters));
      if (!atomic_load(&in->destroy_started))
        failf("wait on port %d returned -1 errno %d but the port was not destroyed", in->handle,
              e);
      atomic_store(&active[t->idx], 0);
      sleep_ms(1); /* the port is going away: the cell gets a new one soon */
    } else
      failf("wait on port %d: -1 errno %d", in->handle, e);
  } else if (rc != 0)
    failf("wait on port %d returned %d", in->handle, rc);
  atomic_store(&active[t->idx], 0);
  return rc == 1;
}

/* ---- destroy and recreate ----------------------------------------------------------------- */

static struct inst *inst_new(struct cell *c) {
  pthread_rwlock_wrlock(&handles_lock);
  int h = QsoCreateIOCompletionPort();
  struct inst *in = NULL;
  if (h < 0)
    failf("QsoCreateIOCompletionPort: %s", strerror(errno));
  else {
    in = calloc(1, sizeof *in);
    if (!in)
      abort();
    in->handle = h;
    in->cell = c->idx;
    lock(&all_mu);
    in->all_next = all_insts;
    all_insts = in;
    unlock(&all_mu);
    atomic_store(&c->inst, in);
  }
  pthread_rwlock_unlock(&handles_lock);
  return in;
}

/* Every operation of destroyed instance old that the test still counts as pending is dropped:
 * its buffer is hashed now and checked later; sockets that lost operations are closed. */
static void sweep(struct thr *t, struct inst *old) {
  struct sock *cas[256];
  int ncas = 0;
  for (int i = 0; i < POOL_MAX; i++) {
    struct op *op = &pool[i];
    uint64_t tag = atomic_load(&op->tag);
    if ((tag & 3) != S_PENDING || op->inst != old)
      continue;
    uint64_t id = tag >> 2;
    struct sock *s = __atomic_load_n(&op->sock, __ATOMIC_ACQUIRE);
    if (s)
      lock(&s->mu);
    uint64_t want = TAG(id, S_PENDING);
    if (op->inst == old && atomic_compare_exchange_strong(&op->tag, &want, TAG(id, S_DROPPED))) {
      INC(C_DROPPED);
      if (s)
        fdev(s->fd, 'Z', op, id, op->kind);
      if (op->buf) {
        op->snap = hash_buf(op->buf, op->len);
        op->snap_valid = 1;
      }
      quarantine(op, atomic_load(&old->destroyed_at));
      if (op->rec) {
        struct stream *st = op->stream;
        lock(&st->mu);
        if (op->rec && op->rec->st == R_PEND)
          op->rec->st = R_UNKNOWN;
        if (op->rec && op->kind == K_SEND) {
          /* the record may wait behind others; the operation may be freed before it is popped */
          op->rec->owner = NULL;
          op->rec = NULL;
        }
        verify(st);
        unlock(&st->mu);
      }
      if (s) {
        sock_unlink(s, op);
        if (op->kind != K_TPOST && !s->casualty) {
          s->casualty = 1;
          if (ncas < 256)
            cas[ncas++] = s;
        }
      }
    }
    if (s)
      unlock(&s->mu);
  }
  /* The library aborted these sockets (shut down): retire them. */
  for (int i = 0; i < ncas; i++) {
    struct sock *s = cas[i];
    lock(&s->mu);
    int was_listener = s->listener, tcp = s->tcp;
    sock_close_locked(t, s, 0);
    unlock(&s->mu);
    if (was_listener)
      cell_new_listener(&cells[s->cell], tcp);
  }
}

static void destroy_and_recreate(struct thr *t, struct cell *c) {
  if (pthread_mutex_trylock(&c->life) != 0)
    return;
  pthread_rwlock_rdlock(&handles_lock);
  struct inst *old = atomic_load(&c->inst);
  if (!old) {
    pthread_rwlock_unlock(&handles_lock);
    unlock(&c->life);
    return;
  }
  atomic_store(&old->destroy_started, 1);
  /* Starts on this port may run concurrently (they hold the lock shared too). */
  long long t0 = now_ms();
  int rc = QsoDestroyIOCompletionPort(old->handle);
  long long took = now_ms() - t0;
  if (took > atomic_load(&cnt[C_DESTROY_MAX_MS]))
    atomic_store(&cnt[C_DESTROY_MAX_MS], took);
  if (rc != 0)
    failf("QsoDestroyIOCompletionPort(%d) returned %d errno %d", old->handle, rc, errno);
  atomic_store(&old->destroyed_at, atomic_fetch_add(&ticket, 1) + 1);
  atomic_store(&c->inst, NULL);
  pthread_rwlock_unlock(&handles_lock);
  INC(C_DESTROYS);
  /* barrier: every start call that could still use the old handle has returned */
  pthread_rwlock_wrlock(&handles_lock);
  pthread_rwlock_unlock(&handles_lock);
  lock(&c->mu);
  for (int i = 0; i < SOCKS_PER_CELL; i++)
    if (c->socks[i])
      fdev(c->socks[i]->fd, 'W', c->socks[i], 0, old->handle);
  for (int f = 0; f < 2; f++)
    if (c->lis[f])
      fdev(c->lis[f]->fd, 'W', c->lis[f], 0, old->handle);
  unlock(&c->mu);
  sweep(t, old);
  if (!atomic_load(&closing_all))
    inst_new(c);
  unlock(&c->life);
}

/* ---- actions ------------------------------------------------------------------------------ */

static size_t pick_len(rng_t *r, int send) {
  unsigned p = rndn(r, 100);
  if (p < 70)
    return 1 + rndn(r, 1024);
  if (p < (send ? 99u : 95u))
    return 1 + rndn(r, 8192);
  return send ? 65536 + rndn(r, 65536) : 65536;
}

/* Handles a start call's result. s locked. Returns 1 if it was an operation. */
static int start_result(struct thr *t, struct op *op, Qso_OverlappedIO_t *io, int rc, int e) {
  (void)t;
  uint64_t id = op_id(op);
  if (rc == 0) {
    if (op->post_flag)
      failf("%s id %" PRIu64 ": start returned 0 with postFlag set", kind_name[op->kind], id);
    uint64_t want = TAG(id, S_PENDING);
    INC(C_SYNC);
    if (!atomic_compare_exchange_strong(&op->tag, &want, TAG(id, S_DONE))) {
      INC(C_DUP);
      failf("%s id %" PRIu64 ": returned 0 (finished at once) but was also posted",
            kind_name[op->kind], id);
      return 1;
    }
    finish_op(op, io, 1);
    return 1;
  }
  if (rc == 1) {
    if (io->postFlagResult && !op->post_flag)
      failf("%s id %" PRIu64 ": postFlagResult 1 without postFlag", kind_name[op->kind], id);
    op->posted_at_start = io->postFlagResult;
    INC(io->postFlagResult ? C_POSTED_AT_START : C_QUEUED);
    return 1;
  }
  /* refused: nothing may have been posted */
  INC(C_REFUSED);
  if (op->sock)
    fdev(op->sock->fd, 'R', op, id, e);
  int ok = 0;
  if (rc == -1 && (e == EINVAL || e == EPIPE || e == ECONNABORTED) &&
      atomic_load(&op->inst->destroy_started)) {
    /* its port is being destroyed: unknown (EINVAL), or the socket already aborted because it
     * had other operations on that port (EPIPE for a send, ECONNABORTED otherwise) */
    ok = 1;
    INC(C_REF_EINVAL);
  } else if (rc == -1 && e == ENOTCONN && op->sock &&
             (atomic_load(&op->sock->peer_gone) ||
              (op->sock->conn && atomic_load(&op->sock->conn->reset)))) {
    ok = 1;
    INC(C_REF_ENOTCONN);
  } else if (rc == -1 && (e == ECONNABORTED || e == EPIPE) && op->sock && op->sock->casualty) {
    ok = 1;
    INC(C_REF_OTHER);
  }
  if (!ok) {
    INC(C_REF_OTHER);
    failf("%s id %" PRIu64 " on fd %d: start returned %d errno %d (%s)", kind_name[op->kind], id,
          op->sock ? op->sock->fd : -1, rc, e, strerror(e));
    if (op->sock && atomic_load(&n_fail) <= 40)
      fd_history(op->sock->fd);
  }
  if (ok && op->rec && e != ENOTCONN) {
    lock(&op->stream->mu);
    op->stream->raced = 1;
    unlock(&op->stream->mu);
  }
  uint64_t want = TAG(id, S_PENDING);
  if (!atomic_compare_exchange_strong(&op->tag, &want, TAG(id, S_FREE))) {
    INC(C_DUP);
    failf("%s id %" PRIu64 ": start refused (errno %d) but a completion was delivered",
          kind_name[op->kind], id, e);
    return 0;
  }
  if (op->sock)
    sock_unlink(op->sock, op);
  if (op->rec) {
    lock(&op->stream->mu);
    rec_remove_tail(op->stream, op->kind == K_RECV, op->rec);
    unlock(&op->stream->mu);
    op->rec = NULL;
  }
  atomic_store(&op->holds, 1);
  op_unhold(op);
  return 0;
}

static void act_io(struct thr *t, struct cell *c, int kind) {
  struct sock *s = cell_pick(c, &t->r);
  if (!s)
    return;
  lock(&s->mu);
  /* (receives after the end of file and sends to a peer that is gone happen, but rarely) */
  int ended = kind == K_RECV ? s->eof_seen : atomic_load(&s->peer_gone);
  if (s->fd < 0 || s->listener || s->casualty || (ended && rndn(&t->r, 16) != 0) ||
      (kind == K_RECV && s->n_recv >= MAX_RECV_PER_SOCK) ||
      (kind == K_SEND && (s->n_send >= MAX_SEND_PER_SOCK || s->wr_shut))) {
    unlock(&s->mu);
    return;
  }
  struct op *op = op_alloc();
  if (!op) {
    INC(C_POOL_FULL);
    unlock(&s->mu);
    return;
  }
  size_t len = pick_len(&t->r, kind == K_SEND);
  op->kind = kind;
  op->buf = malloc(len);
  if (!op->buf)
    abort();
  op->len = len;
  op->post_flag = rndn(&t->r, 2);
  op->fill = kind == K_RECV && rndn(&t->r, 8) == 0;
  op->timed = rndn(&t->r, 200) == 0;
  __atomic_store_n(&op->sock, s, __ATOMIC_RELEASE);
  struct stream *st = kind == K_RECV ? s->in : s->out;
  op->stream = st;
  uint64_t id = atomic_fetch_add(&next_id, 1);
  lock(&st->mu);
  op->rec = rec_append(st, kind == K_RECV, op, (long)len);
  op->rec->id = id;
  uint64_t label = op->rec->label;
  unlock(&st->mu);
  if (kind == K_RECV) {
    memset(op->buf, POISON, len);
    op_hold_why(op, 'V'); /* the stream keeps the data until it is matched */
  } else
    gen(st->seed, label, op->buf, len);
  sock_link(s, op);

  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  io.descriptorHandle = op;
  io.buffer = op->buf;
  io.bufferLength = len;
  io.postFlag = (unsigned)op->post_flag;
  io.fillBuffer = (unsigned)op->fill;
  io.operationId = id;
  if (op->timed) {
    io.operationWaitTime.tv_sec = 1;
    INC(C_TIMED);
  }
  pthread_rwlock_rdlock(&handles_lock);
  struct inst *in = atomic_load(&c->inst);
  if (!in) {
    pthread_rwlock_unlock(&handles_lock);
    op->inst = NULL;
    sock_unlink(s, op);
    lock(&st->mu);
    rec_remove_tail(st, kind == K_RECV, op->rec);
    unlock(&st->mu);
    op->rec = NULL;
    atomic_store(&op->holds, 1);
    op_unhold(op);
    unlock(&s->mu);
    return;
  }
  op->inst = in;
  op->t_start = now_ms();
  atomic_store(&op->tag, TAG(id, S_PENDING));
  errno = 0;
  fdev(s->fd, kind == K_RECV ? 'r' : 's', s, id, in->handle);
  int rc = kind == K_RECV ? QsoStartRecv(s->fd, in->handle, &io)
                          : QsoStartSend(s->fd, in->handle, &io);
  int e = errno;
  pthread_rwlock_unlock(&handles_lock);
  if (start_result(t, op, &io, rc, e))
    INC(kind == K_RECV ? C_OP_RECV : C_OP_SEND);
  unlock(&s->mu);
}

static void act_accept(struct thr *t, struct cell *c) {
  int room = cell_count(c) <= SOCKS_PER_CELL - 2;
  int tcp = (int)rndn(&t->r, 2);
  lock(&c->mu);
  struct sock *l = c->lis[tcp];
  unlock(&c->mu);
  if (!l) {
    cell_new_listener(c, tcp);
    return;
  }
  lock(&l->mu);
  if (l->fd < 0 || l->casualty) {
    unlock(&l->mu);
    return;
  }
  if (l->n_accept < MAX_ACCEPT_PER_LISTENER) {
    struct op *op = op_alloc();
    if (!op) {
      INC(C_POOL_FULL);
      unlock(&l->mu);
      return;
    }
    op->kind = K_ACCEPT;
    op->post_flag = rndn(&t->r, 2);
    op->timed = rndn(&t->r, 100) == 0;
    __atomic_store_n(&op->sock, l, __ATOMIC_RELEASE);
    uint64_t id = atomic_fetch_add(&next_id, 1);
    sock_link(l, op);
    Qso_OverlappedIO_t io;
    memset(&io, 0, sizeof io);
    io.descriptorHandle = op;
    io.postFlag = (unsigned)op->post_flag;
    io.operationId = id;
    if (op->timed) {
      io.operationWaitTime.tv_sec = 1;
      INC(C_TIMED);
    }
    pthread_rwlock_rdlock(&handles_lock);
    struct inst *in = atomic_load(&c->inst);
    if (!in) {
      pthread_rwlock_unlock(&handles_lock);
      sock_unlink(l, op);
      op_unhold(op);
      unlock(&l->mu);
      return;
    }
    op->inst = in;
    op->t_start = now_ms();
    atomic_store(&op->tag, TAG(id, S_PENDING));
    errno = 0;
    fdev(l->fd, 'a', l, id, in->handle);
    int rc = QsoStartAccept(l->fd, in->handle, &io);
    int e = errno;
    pthread_rwlock_unlock(&handles_lock);
    if (start_result(t, op, &io, rc, e))
      INC(C_OP_ACCEPT);
  }
  /* a client for it (or for an accept already pending) */
  if (room && l->fd >= 0 && l->nclients < MAX_CLIENTS && l->nclients < l->n_accept + 1) {
    int fd = socket(l->tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
      claim(fd, owner_misc, "client");
      set_timeouts(fd);
      int ok = 1;
      if (!l->tcp) {
        sa_family_t fam = AF_UNIX; /* autobind: a unique abstract name to pair by */
        ok = bind(fd, (struct sockaddr *)&fam, sizeof fam) == 0;
      }
      ok = ok && connect(fd, (struct sockaddr *)&l->addr, l->addrlen) == 0;
      struct client cl;
      cl.fd = fd;
      cl.keylen = ok ? addr_key(fd, 0, cl.key) : -1;
      if (ok && cl.keylen > 0) {
        clear_timeouts(fd);
        l->clients[l->nclients++] = cl;
      } else
        xclose(fd, owner_misc);
    }
  }
  unlock(&l->mu);
}

static void act_post(struct thr *t, struct cell *c, int timed) {
  struct sock *s = NULL;
  if (timed) {
    s = cell_pick(c, &t->r);
    if (!s)
      return;
    lock(&s->mu);
    if (s->fd < 0 || s->casualty || s->n_tpost >= MAX_TPOST_PER_SOCK) {
      unlock(&s->mu);
      return;
    }
  }
  struct op *op = op_alloc();
  if (!op) {
    INC(C_POOL_FULL);
    if (s)
      unlock(&s->mu);
    return;
  }
  op->kind = timed ? K_TPOST : K_POST;
  op->timed = timed;
  op->post_flag = rndn(&t->r, 2);
  op->fake_buf = (void *)(uintptr_t)(rnd(&t->r) | 1);
  op->fake_len = rnd(&t->r) >> 8;
  op->fake_sdts = (int)rndn(&t->r, 100000);
  op->fake_bavail = rndn(&t->r, 100000);
  op->posted_fd = s ? s->fd : (int)rndn(&t->r, 1000);
  __atomic_store_n(&op->sock, s, __ATOMIC_RELEASE);
  uint64_t id = atomic_fetch_add(&next_id, 1);
  if (s)
    sock_link(s, op);
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  io.descriptorHandle = op;
  io.buffer = op->fake_buf;
  io.bufferLength = op->fake_len;
  io.postFlag = (unsigned)op->post_flag;
  io.secureDataTransferSize = op->fake_sdts;
  io.bytesAvailable = op->fake_bavail;
  io.postedDescriptor = op->posted_fd;
  io.operationId = id;
  io.operationWaitTime.tv_sec = timed ? 1 : 0;
  if (timed)
    INC(C_TIMED);
  pthread_rwlock_rdlock(&handles_lock);
  struct inst *in = atomic_load(&c->inst);
  if (!in) {
    pthread_rwlock_unlock(&handles_lock);
    if (s) {
      sock_unlink(s, op);
      unlock(&s->mu);
    }
    op_unhold(op);
    return;
  }
  op->inst = in;
  op->t_start = now_ms();
  atomic_store(&op->tag, TAG(id, S_PENDING));
  errno = 0;
  if (s)
    fdev(s->fd, 'p', s, id, in->handle);
  int rc = QsoPostIOCompletion(in->handle, &io);
  int e = errno;
  pthread_rwlock_unlock(&handles_lock);
  if (rc == 0) {
    INC(timed ? C_OP_TPOST : C_OP_POST);
  } else {
    INC(C_REFUSED);
    if (!(rc == -1 && e == EINVAL && atomic_load(&in->destroy_started))) {
      INC(C_REF_OTHER);
      failf("QsoPostIOCompletion returned %d errno %d", rc, e);
    } else
      INC(C_REF_EINVAL);
    uint64_t want = TAG(id, S_PENDING);
    if (!atomic_compare_exchange_strong(&op->tag, &want, TAG(id, S_FREE))) {
      INC(C_DUP);
      failf("post id %" PRIu64 " refused but delivered", id);
    } else {
      if (s)
        sock_unlink(s, op);
      op_unhold(op);
    }
  }
  if (s)
    unlock(&s->mu);
}

/* The k-th outstanding operation of s (s locked), or NULL. */
static struct op *sock_pick_op(struct sock *s, rng_t *r) {
  int n = 0;
  for (struct op *op = s->pend; op; op = op->snext)
    n++;
  if (n == 0)
    return NULL;
  int k = (int)rndn(r, (unsigned)n);
  struct op *op = s->pend;
  while (k-- > 0)
    op = op->snext;
  return op;
}

static struct sock *pick_any(struct thr *t, struct cell *c) {
  if (rndn(&t->r, 8) == 0) {
    lock(&c->mu);
    struct sock *l = c->lis[rndn(&t->r, 2)];
    unlock(&c->mu);
    return l;
  }
  return cell_pick(c, &t->r);
}

static void act_cancel(struct thr *t, struct cell *c) {
  struct sock *s = pick_any(t, c);
  if (!s)
    return;
  lock(&s->mu);
  if (s->fd >= 0) {
    struct op *op = sock_pick_op(s, &t->r);
    if (op && op->timed && rndn(&t->r, 128) != 0)
      op = NULL; /* let most timers run out */
    if (!op || rndn(&t->r, 10) == 0) {
      /* an id nobody uses: nothing to cancel */
      unsigned long long none = atomic_fetch_add(&next_id, 1);
      int rc = QsoCancelOperation(s->fd, none);
      if (rc != 0)
        failf("QsoCancelOperation(%d, unused id) returned %d errno %d", s->fd, rc, errno);
    } else {
      errno = 0;
      int rc = QsoCancelOperation(s->fd, op_id(op));
      INC(C_CANCELS);
      if (rc != 0 && rc != 1)
        failf("QsoCancelOperation(%d, id %" PRIu64 ") returned %d errno %d", s->fd, op_id(op),
              rc, errno);
      else if (op->cancel_rc == 1 && rc == 1)
        failf("QsoCancelOperation(%d, id %" PRIu64 ") cancelled the same operation twice", s->fd,
              op_id(op));
      else if (op->cancel_rc != 1) {
        /* (a second cancel of an operation whose ECANCELED completion is on its way finds
         * nothing: the first answer stands) */
        op->cancel_rc = rc;
        if (rc == 1)
          INC(C_CANCEL_HITS);
      }
    }
  }
  unlock(&s->mu);
}

static void act_pending(struct thr *t, struct cell *c) {
  struct sock *s = pick_any(t, c);
  if (!s)
    return;
  lock(&s->mu);
  if (s->fd >= 0) {
    INC(C_PENDING_CHECKS);
    struct op *op = sock_pick_op(s, &t->r);
    if (op) {
      int rc = QsoIsOperationPending(s->fd, op_id(op));
      if (rc != 0 && rc != 1)
        failf("QsoIsOperationPending(%d, outstanding id) returned %d errno %d", s->fd, rc, errno);
    }
    if (s->last_done_id) {
      int rc = QsoIsOperationPending(s->fd, s->last_done_id);
      if (rc != 0)
        failf("QsoIsOperationPending(%d, id %" PRIu64 " already completed) returned %d errno %d",
              s->fd, s->last_done_id, rc, errno);
    }
  }
  unlock(&s->mu);
}

static void act_close(struct thr *t, struct cell *c) {
  struct sock *s = cell_pick(c, &t->r);
  if (!s)
    return;
  lock(&s->mu);
  if (s->fd >= 0)
    sock_close_locked(t, s, rndn(&t->r, 4) == 0);
  unlock(&s->mu);
}

/* Half-close a sender with nothing outstanding (so the receiver gets a clean end of file);
 * close a socket whose both directions have ended. */
static void act_finish(struct thr *t, struct cell *c) {
  struct sock *s = cell_pick(c, &t->r);
  if (!s)
    return;
  lock(&s->mu);
  if (s->fd >= 0) {
    if (s->wr_shut && (s->eof_seen || atomic_load(&s->peer_gone)))
      sock_close_locked(t, s, 0);
    else if (!s->wr_shut && s->n_send == 0) {
      if (shutdown(s->fd, SHUT_WR) == 0) {
        s->wr_shut = 1;
        INC(C_SHUTS);
      }
    }
  }
  unlock(&s->mu);
}

static void act_close_listener(struct thr *t, struct cell *c) {
  int tcp = (int)rndn(&t->r, 2);
  lock(&c->mu);
  struct sock *l = c->lis[tcp];
  unlock(&c->mu);
  if (!l)
    return;
  lock(&l->mu);
  if (l->fd >= 0) {
    sock_close_locked(t, l, 0);
    INC(C_LISTENER_CLOSES);
  }
  unlock(&l->mu);
  cell_new_listener(c, tcp);
}

static void act_new_conn(struct thr *t, struct cell *c) {
  if (cell_count(c) > SOCKS_PER_CELL - 2)
    return;
  int sv[2];
  int tcp = (int)rndn(&t->r, 2);
  if ((tcp ? tcp_pair(sv) : unix_pair(sv)) != 0)
    return;
  INC(tcp ? C_CONN_TCP : C_CONN_UNIX);
  int other = rndn(&t->r, 3) == 0 ? (int)rndn(&t->r, (unsigned)cfg_cells) : c->idx;
  conn_make(sv[0], sv[1], c->idx, other, tcp);
}

static struct conn *all_conns_head(void) {
  lock(&all_mu);
  struct conn *k = all_conns;
  unlock(&all_mu);
  return k;
}

static long long total_ops(void) {
  return GET(C_OP_RECV) + GET(C_OP_SEND) + GET(C_OP_ACCEPT) + GET(C_OP_POST) + GET(C_OP_TPOST);
}

/* Per second, all workers together: socket closes, half-closes (and closes of finished
 * sockets), listener closes, port destroys. */
static double churn[4] = {40, 80, 2, 2};

/* Twice the mean interval, in ms, between one worker's churn events of kind k. */
static unsigned churn_interval(int k) {
  if (churn[k] <= 0)
    return 1u << 30; /* (never, in practice) */
  double ms = 2000.0 * cfg_workers / (churn[k] * cfg_churn);
  return ms < 1 ? 1 : ms > 1e9 ? 1u << 30 : (unsigned)ms;
}

static void *worker_main(void *arg) {
  struct thr *t = arg;
  long long deadline = t_begin + (long long)(cfg_secs * 1000);
  for (int k = 0; k < 4; k++)
    t->next_at[k] = t_begin + (long long)rndn(&t->r, churn_interval(k));
  for (long iter = 0; !atomic_load(&stop_workers); iter++) {
    if ((iter & 63) == 0) {
      if (total_ops() >= cfg_ops || now_ms() >= deadline) {
        atomic_store(&stop_workers, 1);
        break;
      }
      reap(0);
    }
    struct cell *c = &cells[rndn(&t->r, (unsigned)cfg_cells)];
    /* Churn at wall-clock rates (so that sockets and ports live long enough for 1 s timers
     * to run out, however fast the rest goes). */
    long long now = now_ms();
    int churned = 0;
    for (int k = 0; k < 4 && !churned; k++) {
      if (now < t->next_at[k])
        continue;
      t->next_at[k] = now + (long long)rndn(&t->r, churn_interval(k));
      churned = 1;
      switch (k) {
      case 0: act_close(t, c); break;
      case 1: act_finish(t, c); break;
      case 2: act_close_listener(t, c); break;
      case 3: destroy_and_recreate(t, c); break;
      }
    }
    if (churned)
      continue;
    /* the mix, per 100000 actions (the rest: waits) */
    unsigned p = rndn(&t->r, 100000);
    if (p < 30000)
      act_io(t, c, K_RECV);
    else if ((p -= 30000) < 30000)
      act_io(t, c, K_SEND);
    else if ((p -= 30000) < 4000)
      act_post(t, c, 0);
    else if ((p -= 4000) < 300)
      act_post(t, c, 1);
    else if ((p -= 300) < 2500)
      act_cancel(t, c);
    else if ((p -= 2500) < 1000)
      act_pending(t, c);
    else if ((p -= 1000) < 600)
      act_accept(t, c);
    else if ((p -= 600) < 600)
      act_new_conn(t, c);
    else {
      /* wait: poll or a short wait, a few completions at a time */
      long usec = rndn(&t->r, 16) == 0 ? (long)rndn(&t->r, 500) : 0;
      for (int k = 0; k < 4 && wait_once(t, c, usec); k++)
        usec = 0;
    }
  }
  return NULL;
}

static void *waiter_main(void *arg) {
  struct thr *t = arg;
  struct cell *c = &cells[t->cell];
  long long hard = t_begin + (long long)(cfg_secs * 1000) + 60000 + DRAIN_MS;
  while (!atomic_load(&stop_waiters) && now_ms() < hard) {
    if (!atomic_load(&c->inst)) {
      sleep_ms(1);
      continue;
    }
    wait_once(t, c, 20000);
  }
  return NULL;
}

/* ---- main --------------------------------------------------------------------------------- */

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1; /* the directory's own descriptor */
}

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "stress: watchdog: the run did not finish in time\n"
                            "stress: 0 passed, 1 failed\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  _exit(1);
}

static long long pending_count(void) {
  long long n = 0;
  for (int i = 0; i < POOL_MAX; i++)
    if ((atomic_load(&pool[i].tag) & 3) == S_PENDING)
      n++;
  return n;
}

static void close_everything(void) {
  lock(&all_mu);
  struct sock *list = all_socks;
  unlock(&all_mu);
  for (struct sock *s = list; s; s = s->all_next) {
    lock(&s->mu);
    if (s->fd >= 0)
      sock_close_locked(NULL, s, 0);
    unlock(&s->mu);
  }
}

static void usage(void) __attribute__((noreturn));
static void usage(void) {
  fprintf(stderr, "usage: stress [-n OPS] [-t SECONDS] [-s SEED] [-c CELLS] [-w WORKERS] "
                  "[-C CHURN] [-R CLOSES,FINISHES,LISTENER_CLOSES,DESTROYS] [-v]\n"
                  "  -R: churn events per second (40,80,2,2); -C multiplies them all (1)\n");
  exit(2);
}

int main(int argc, char **argv) {
  int opt;
  cfg_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
  while ((opt = getopt(argc, argv, "n:t:s:c:w:C:R:v")) != -1) {
    switch (opt) {
    case 'n': cfg_ops = atoll(optarg); break;
    case 't': cfg_secs = atof(optarg); break;
    case 's': cfg_seed = strtoull(optarg, NULL, 0); break;
    case 'c': cfg_cells = atoi(optarg); break;
    case 'w': cfg_workers = atoi(optarg); break;
    case 'v': cfg_verbose = 1; break;
    case 'C': cfg_churn = atof(optarg); break;
    case 'R':
      if (sscanf(optarg, "%lf,%lf,%lf,%lf", &churn[0], &churn[1], &churn[2], &churn[3]) != 4)
        usage();
      break;
    default: usage();
    }
  }
  if (cfg_ops < 1 || cfg_secs <= 0 || cfg_cells < 1 || cfg_cells > MAX_CELLS ||
      cfg_workers < 1 || cfg_workers > MAX_WORKERS || cfg_churn <= 0)
    usage();
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_DFL); /* the library must never raise it */
  signal(SIGALRM, on_alarm);
  alarm((unsigned)cfg_secs + 120);
  printf("stress: seed %" PRIu64 " (rerun with -s %" PRIu64 "), up to %lld operations or %.0f s, "
         "%d cells, %d workers, churn x%g\n", cfg_seed, cfg_seed, cfg_ops, cfg_secs, cfg_cells, cfg_workers,
         cfg_churn);

  t0_us = now_us();
  int fds_before = count_fds();
  pthread_rwlockattr_t ra;
  pthread_rwlockattr_init(&ra);
  pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&handles_lock, &ra);
  pool = calloc(POOL_MAX, sizeof *pool);
  if (!pool)
    abort();
  for (int i = POOL_MAX - 1; i >= 0; i--) {
    pool[i].free_next = free_head;
    free_head = &pool[i];
  }
  /* the pair-making listener */
  pm_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (pm_fd < 0 || bind(pm_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(pm_fd, 16) != 0 ||
      getsockname(pm_fd, (struct sockaddr *)&a, &alen) != 0) {
    perror("stress: listener");
    return 1;
  }
  pm_port = ntohs(a.sin_port);
  claim(pm_fd, owner_misc, "pair listener");

  rng_t seeder = {cfg_seed * 2 + 1};
  for (int i = 0; i < cfg_cells; i++) {
    struct cell *c = &cells[i];
    c->idx = i;
    pthread_mutex_init(&c->life, NULL);
    pthread_mutex_init(&c->mu, NULL);
    if (!inst_new(c))
      return 1;
    cell_new_listener(c, 0);
    cell_new_listener(c, 1);
  }
  struct thr thr[MAX_THREADS];
  memset(thr, 0, sizeof thr);
  int nthr = 0;
  t_begin = now_ms();
  for (int i = 0; i < cfg_cells; i++) {
    struct thr *t = &thr[nthr];
    t->idx = nthr++;
    t->cell = i;
    t->r.s = rnd(&seeder) | 1;
    pthread_create(&t->th, NULL, waiter_main, t);
  }
  int first_worker = nthr;
  for (int i = 0; i < cfg_workers; i++) {
    struct thr *t = &thr[nthr];
    t->idx = nthr++;
    t->r.s = rnd(&seeder) | 1;
    t->spare = eventfd(0, EFD_CLOEXEC);
    claim(t->spare, owner_misc, "eventfd");
    pthread_create(&t->th, NULL, worker_main, t);
  }
  struct thr *me = &thr[nthr];
  me->idx = nthr++;
  me->spare = -1;

  /* progress */
  long long next_report = t_begin + 10000;
  long long deadline = t_begin + (long long)(cfg_secs * 1000) + 5000;
  while (!atomic_load(&stop_workers) && now_ms() < deadline) {
    sleep_ms(50);
    if (now_ms() >= next_report) {
      fprintf(stderr, "stress: %.0f s, %lld operations\n", (now_ms() - t_begin) / 1000.0,
              total_ops());
      next_report += 10000;
    }
  }
  atomic_store(&stop_workers, 1);
  for (int i = first_worker; i < first_worker + cfg_workers; i++)
    pthread_join(thr[i].th, NULL);
  double run_s = (now_ms() - t_begin) / 1000.0;

  /* drain: close every socket (outstanding operations end with ECLOSED), let the waiters take
   * every completion */
  atomic_store(&closing_all, 1);
  close_everything();
  long long drain_end = now_ms() + DRAIN_MS;
  while (pending_count() > 0 && now_ms() < drain_end) {
    close_everything(); /* accepted while closing */
    sleep_ms(20);
  }
  atomic_store(&stop_waiters, 1);
  for (int i = 0; i < cfg_cells; i++)
    pthread_join(thr[i].th, NULL);
  /* nothing more may arrive */
  for (int i = 0; i < cfg_cells; i++) {
    struct inst *in = atomic_load(&cells[i].inst);
    for (int k = 0; in && k < 100000 && wait_once(me, &cells[i], 100000); k++) {
    }
  }
  /* what is still pending was lost (kept as DONE, never released: the library may hold it) */
  for (int i = 0; i < POOL_MAX; i++) {
    struct op *op = &pool[i];
    uint64_t tag = atomic_load(&op->tag);
    if ((tag & 3) != S_PENDING)
      continue;
    uint64_t want = tag;
    if (!atomic_compare_exchange_strong(&op->tag, &want, TAG(tag >> 2, S_DONE)))
      continue;
    INC(C_LOST);
    failf("lost: %s id %" PRIu64 " (fd %d, %s, timed %d, cancel %d, closed %d, started %lld ms "
          "ago) never completed", kind_name[op->kind], tag >> 2,
          op->sock ? op->sock->fd : -1, op->inst && atomic_load(&op->inst->destroyed_at)
              ? "port destroyed" : "port alive", op->timed, op->cancel_rc, op->closed,
          now_ms() - op->t_start);
  }
  /* destroy the ports */
  for (int i = 0; i < cfg_cells; i++) {
    struct inst *in = atomic_load(&cells[i].inst);
    if (!in)
      continue;
    atomic_store(&in->destroy_started, 1);
    if (QsoDestroyIOCompletionPort(in->handle) != 0)
      failf("final QsoDestroyIOCompletionPort(%d): errno %d", in->handle, errno);
    atomic_store(&in->destroyed_at, atomic_fetch_add(&ticket, 1) + 1);
    atomic_store(&cells[i].inst, NULL);
    sweep(me, in);
  }
  sleep_ms(QUARANTINE_MS + 20);
  reap(1);
  /* the streams */
  long long eof_streams = 0;
  lock(&all_mu);
  struct conn *conns = all_conns;
  unlock(&all_mu);
  for (struct conn *k = conns; k; k = k->all_next) {
    for (int i = 0; i < 2; i++) {
      struct stream *s = &k->st[i];
      lock(&s->mu);
      s->receiver_closed = 1;
      verify(s);
      if (s->sh || s->rh)
        if (!s->dead && !s->failed) {
          failf("stream %" PRIx64 ": records left unresolved at the end", s->seed);
          if (atomic_load(&n_fail) <= 40) {
            hist_print(s);
            if (s->sh && s->sh->owner)
              fprintf(stderr, "stress:   head send's operation: slot %td id %" PRIu64
                      " state %d\n", s->sh->owner - pool,
                      (uint64_t)(atomic_load(&s->sh->owner->tag) >> 2),
                      (int)(atomic_load(&s->sh->owner->tag) & 3));
          }
        }
      if (s->eof && !s->dead && !s->failed && !atomic_load(&k->reset)) {
        if (s->missing_after_eof)
          failf("stream %" PRIx64 " (%s): end of file after %" PRIu64 " bytes, but %" PRIu64
                " more bytes were sent%s", s->seed, k->tcp ? "TCP" : "AF_UNIX", s->verified,
                s->missing_after_eof, raced_note(s));
        else
          eof_streams++;
      }
      s->dead = 1;
      verify(s);
      unlock(&s->mu);
    }
  }
  ADD(C_STREAMS_EOF, eof_streams);
  reap(1);
  long long held = 0;
  for (int i = 0; i < POOL_MAX; i++) {
    uint64_t tag = atomic_load(&pool[i].tag);
    if (tag == 0)
      continue;
    held++;
    if (cfg_verbose || held <= 5)
      fprintf(stderr, "stress: held at the end: %s id %" PRIu64 " state %d holds %d linked %d "
              "closed %d rec %p fd %d\n", kind_name[pool[i].kind], tag >> 2, (int)(tag & 3),
              atomic_load(&pool[i].holds), pool[i].linked, pool[i].closed, (void *)pool[i].rec,
              pool[i].sock ? pool[i].sock->fd : -2);
  }
  for (int i = first_worker; i < first_worker + cfg_workers; i++)
    xclose(thr[i].spare, owner_misc);
  xclose(pm_fd, owner_misc);
  int fds_after = count_fds();
  if (fds_after != fds_before || cfg_verbose) {
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
      char path[300], target[256];
      if (e->d_name[0] == '.')
        continue;
      snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
      ssize_t n = readlink(path, target, sizeof target - 1);
      target[n > 0 ? n : 0] = 0;
      struct sockaddr_storage ss;
      socklen_t sl = sizeof ss;
      int fam = getsockname(atoi(e->d_name), (struct sockaddr *)&ss, &sl) == 0 ? ss.ss_family : -1;
      int lis = 0;
      socklen_t ll = sizeof lis;
      getsockopt(atoi(e->d_name), SOL_SOCKET, SO_ACCEPTCONN, &lis, &ll);
      fprintf(stderr, "stress: open at the end: fd %s -> %s (family %d, listening %d)\n",
              e->d_name, target, fam, lis);
    }
    if (d)
      closedir(d);
  }

  long long ops = total_ops();
  /* every completion (a start call's immediate result included) is counted by its kind once */
  long long completions = GET(C_DATA) + GET(C_EOF) + GET(C_ERROR) + GET(C_EAGAIN) +
                          GET(C_ECANCELED) + GET(C_ECLOSED);
  long long dropped = GET(C_DROPPED), lost = GET(C_LOST), dup = GET(C_DUP);
  printf("stress: %.1f s, %lld operations (%.0f/s): recv %lld, send %lld, accept %lld, "
         "post %lld, timed post %lld\n", run_s, ops, ops / (run_s > 0 ? run_s : 1),
         GET(C_OP_RECV), GET(C_OP_SEND), GET(C_OP_ACCEPT), GET(C_OP_POST), GET(C_OP_TPOST));
  printf("stress:   finished at once %lld, posted at start %lld, queued %lld; with a 1 s timer "
         "%lld\n", GET(C_SYNC), GET(C_POSTED_AT_START), GET(C_QUEUED), GET(C_TIMED));
  printf("stress: completions %lld: data %lld, end of file %lld, error %lld, EAGAIN %lld, "
         "ECANCELED %lld, ECLOSED %lld\n", completions, GET(C_DATA), GET(C_EOF), GET(C_ERROR),
         GET(C_EAGAIN), GET(C_ECANCELED), GET(C_ECLOSED));
  printf("stress: dropped with a destroyed port %lld (plus %lld returned by waits begun before "
         "destroy returned); refused start calls %lld (racing the destroy of their port %lld, "
         "ENOTCONN %lld, other %lld)\n", dropped, GET(C_LATE), GET(C_REFUSED), GET(C_REF_EINVAL),
         GET(C_REF_ENOTCONN), GET(C_REF_OTHER));
  printf("stress: bytes sent %lld, received %lld, matched in order %lld, unread at close %lld; "
         "streams ended by a clean end of file with every byte %lld, cut by a destroyed port "
         "%lld\n", GET(C_BYTES_SENT), GET(C_BYTES_RECV), GET(C_BYTES_VERIFIED),
         GET(C_BYTES_UNREAD), GET(C_STREAMS_EOF), GET(C_STREAMS_CUT));
  printf("stress: ports destroyed %lld; sockets closed %lld (by dup2 %lld, listeners %lld), "
         "half-closed %lld; cancels %lld (hit %lld); pending checks %lld; connections unix %lld, "
         "tcp %lld, accepted %lld (unpaired %lld)\n", GET(C_DESTROYS), GET(C_CLOSES),
         GET(C_DUP2S), GET(C_LISTENER_CLOSES), GET(C_SHUTS), GET(C_CANCELS), GET(C_CANCEL_HITS),
         GET(C_PENDING_CHECKS), GET(C_CONN_UNIX), GET(C_CONN_TCP), GET(C_CONN_ACCEPTED),
         GET(C_ORPHAN_ACCEPTS));
  printf("stress: waits ended by EDESTROYED %lld, EINVAL %lld; longest destroy %lld ms; buffers "
         "checked after close/destroy %lld (%lld checks); pool full %lld; descriptors %d before, "
         "%d after\n", GET(C_WAIT_DESTROYED), GET(C_WAIT_EINVAL), GET(C_DESTROY_MAX_MS),
         GET(C_QUARANTINED), GET(C_SNAP_CHECKS), GET(C_POOL_FULL), fds_before, fds_after);
  if (ops != completions + dropped + lost)
    failf("accounting: %lld operations != %lld completions + %lld dropped + %lld lost", ops,
          completions, dropped, lost);
  if (held != lost)
    failf("%lld operations still held by the test at the end", held - lost);
  if (fds_after != fds_before)
    failf("descriptors: %d before, %d after", fds_before, fds_after);
  if (ops < cfg_ops)
    printf("stress: note: the time limit came first (%lld of %lld operations)\n", ops, cfg_ops);
  printf("stress: lost %lld, duplicated %lld, after destroy %lld\n", lost, dup,
         GET(C_AFTER_DESTROY));
  long nf = atomic_load(&n_fail);
  if (nf)
    printf("stress: %ld discrepancies (seed %" PRIu64 ")\n", nf, cfg_seed);
  printf("stress: %d passed, %d failed\n", nf == 0, nf != 0);
  return nf == 0 ? 0 : 1;
}
