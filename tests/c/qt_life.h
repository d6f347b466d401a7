/*
 * tests/c/qt_life.h - helpers for the lifecycle C tests (timers, cancel, close, destroy, fill,
 * fork). Include instead of harness.h; every name here starts with ql_.
 *
 * What is here: poisoned buffers and byte patterns, a send-buffer filler (so that a send stays
 * pending), a collector thread that waits on a port and records every completion with its
 * arrival time, a single waiter thread, a delayed sender thread, and a bounded wait for a child
 * process.
 */
#ifndef QSO_TEST_LIFE_H
#define QSO_TEST_LIFE_H

#include "harness.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define QL_POISON 0xA5

/* Checks lo <= v <= hi. */
#define CHECK_BETWEEN(v, lo, hi)                                               \
  do {                                                                         \
    long long ql_v = (long long)(v), ql_lo = (long long)(lo),                  \
              ql_hi = (long long)(hi);                                         \
    if (ql_v < ql_lo || ql_v > ql_hi)                                          \
      QT_FAIL("CHECK_BETWEEN failed: %s == %lld, expected in [%lld, %lld]",    \
              #v, ql_v, ql_lo, ql_hi);                                         \
  } while (0)

/* Checks a completion: operation code, returnValue and errnoValue. */
#define CHECK_DONE(st, op, rv, err)                                            \
  do {                                                                         \
    if ((st).operationCompleted != (op) || (st).returnValue != (rv) ||         \
        (st).errnoValue != (err))                                              \
      QT_FAIL("completion (op %d, rv %d, errno %d), expected (op %d, rv %d, "  \
              "errno %d) [%s]",                                                \
              (st).operationCompleted, (st).returnValue, (st).errnoValue,      \
              (int)(op), (int)(rv), (int)(err), #st);                          \
  } while (0)

static inline void ql_sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static inline int ql_port(void) {
  int p = QsoCreateIOCompletionPort();
  CHECK(p >= 0);
  return p;
}

static inline void ql_poison(void *buf, size_t len) { memset(buf, QL_POISON, len); }

/* Index of the first byte that is not the poison, or len when all are. */
static inline size_t ql_unpoisoned_at(const void *buf, size_t len) {
  const unsigned char *p = (const unsigned char *)buf;
  for (size_t i = 0; i < len; i++)
    if (p[i] != QL_POISON)
      return i;
  return len;
}

#define CHECK_POISONED(buf, len)                                               \
  do {                                                                         \
    size_t ql_at = ql_unpoisoned_at((buf), (len));                             \
    if (ql_at != (size_t)(len))                                                \
      QT_FAIL("buffer %s was touched: byte %zu is 0x%02x", #buf, ql_at,        \
              ((const unsigned char *)(buf))[ql_at]);                          \
  } while (0)

/* The byte at stream offset `off` of pattern `seed` (never the poison value). */
static inline unsigned char ql_byte(unsigned seed, size_t off) {
  unsigned char b = (unsigned char)((seed * 131u + off * 7u + off / 251u) % 251u);
  return b == QL_POISON ? 0x5A : b;
}

static inline void ql_pattern(void *buf, size_t len, unsigned seed, size_t off) {
  unsigned char *p = (unsigned char *)buf;
  for (size_t i = 0; i < len; i++)
    p[i] = ql_byte(seed, off + i);
}

/* Index of the first byte that differs from the pattern, or len. */
static inline size_t ql_pattern_bad(const void *buf, size_t len, unsigned seed, size_t off) {
  const unsigned char *p = (const unsigned char *)buf;
  for (size_t i = 0; i < len; i++)
    if (p[i] != ql_byte(seed, off + i))
      return i;
  return len;
}

#define CHECK_PATTERN(buf, len, seed, off)                                     \
  do {                                                                         \
    size_t ql_bad = ql_pattern_bad((buf), (len), (seed), (off));               \
    if (ql_bad != (size_t)(len))                                               \
      QT_FAIL("buffer %s differs from pattern at byte %zu (0x%02x, expected "  \
              "0x%02x)",                                                       \
              #buf, ql_bad, ((const unsigned char *)(buf))[ql_bad],            \
              ql_byte((seed), (off) + ql_bad));                                \
  } while (0)

/*
 * Fills fd's send path (and the peer's receive buffer) until the kernel takes no more, with
 * MSG_DONTWAIT; repeats after a short pause until a round adds nothing. Returns the bytes
 * written (all zero bytes).
 */
static inline size_t ql_fill_sndbuf(int fd) {
  static const char zeros[65536];
  size_t total = 0;
  for (int round = 0; round < 20; round++) {
    size_t added = 0;
    size_t chunk = sizeof zeros;
    while (chunk > 0) {
      ssize_t n = send(fd, zeros, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        added += (size_t)n;
        continue;
      }
      CHECK(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
      chunk /= 2;
    }
    total += added;
    if (added == 0 && round > 0)
      break;
    ql_sleep_ms(20);
  }
  return total;
}

/* Reads and discards exactly `len` bytes of zeros from a blocking fd (checks they are zero). */
static inline void ql_drain_zeros(int fd, size_t len) {
  static char buf[65536];
  while (len > 0) {
    size_t want = len < sizeof buf ? len : sizeof buf;
    ssize_t n = recv(fd, buf, want, 0);
    CHECK(n > 0);
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] != 0)
        QT_FAIL("drained a non-zero byte 0x%02x", (unsigned char)buf[i]);
    len -= (size_t)n;
  }
}

/* Bytes waiting to be read on fd, without blocking (recv MSG_PEEK|MSG_DONTWAIT of up to cap). */
static inline ssize_t ql_peek(int fd, void *buf, size_t cap) {
  ssize_t n = recv(fd, buf, cap, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return 0;
  return n;
}

/* True when fd is readable within ms. */
static inline int ql_readable(int fd, int ms) {
  struct pollfd p;
  p.fd = fd;
  p.events = POLLIN;
  p.revents = 0;
  int rc;
  do {
    rc = poll(&p, 1, ms);
  } while (rc < 0 && errno == EINTR);
  return rc == 1;
}

/* An operation id from the library; fails the test on 0. */
static inline unsigned long long ql_id(int sd) {
  unsigned long long id = QsoGenerateOperationId(sd);
  CHECK(id != 0);
  return id;
}

static inline Qso_OverlappedIO_t ql_io_timed(void *buf, size_t len, long secs) {
  Qso_OverlappedIO_t io = qt_io(buf, len);
  io.operationWaitTime = qt_tv(secs, 0);
  return io;
}

static inline void *ql_handle(uintptr_t v) { return (void *)v; }
static inline uintptr_t ql_handle_of(const Qso_OverlappedIO_t *st) {
  return (uintptr_t)st->descriptorHandle;
}

/* Starts a receive that must stay pending (return 1, postFlagResult 0). */
static inline void ql_start_recv_pending(int sd, int port, Qso_OverlappedIO_t *io) {
  int rc = QsoStartRecv(sd, port, io);
  if (rc != 1 || io->postFlagResult != 0)
    QT_FAIL("QsoStartRecv(%d) returned %d (errno %d), postFlagResult %u: expected pending",
            sd, rc, errno, io->postFlagResult);
}

/* Starts a receive (postFlag 0) and returns its results: from the start call when it finished
   at once, otherwise from the port within `ms` (the start call must not fail). */
static inline Qso_OverlappedIO_t ql_recv_at_once_or_wait(int sd, int port, Qso_OverlappedIO_t io,
                                                         long ms) {
  int rc = QsoStartRecv(sd, port, &io);
  if (rc == 1)
    return qt_wait(port, ms);
  CHECK_EQ(rc, 0);
  return io;
}

static inline void ql_start_send_pending(int sd, int port, Qso_OverlappedIO_t *io) {
  int rc = QsoStartSend(sd, port, io);
  if (rc != 1 || io->postFlagResult != 0)
    QT_FAIL("QsoStartSend(%d) returned %d (errno %d), postFlagResult %u: expected pending",
            sd, rc, errno, io->postFlagResult);
}

static inline void ql_start_accept_pending(int sd, int port, Qso_OverlappedIO_t *io) {
  int rc = QsoStartAccept(sd, port, io);
  if (rc != 1 || io->postFlagResult != 0)
    QT_FAIL("QsoStartAccept(%d) returned %d (errno %d), postFlagResult %u: expected pending",
            sd, rc, errno, io->postFlagResult);
}

/* ---- threads ------------------------------------------------------------ */

static inline pthread_t ql_thread(void *(*fn)(void *), void *arg) {
  pthread_t t;
  CHECK(pthread_create(&t, NULL, fn, arg) == 0);
  return t;
}

/*
 * A collector: a thread that waits on `port` (100 ms at a time) until told to stop, and records
 * every completion and its arrival time. It stops by itself if a wait fails (and records errno).
 */
#define QL_COLLECT_MAX 4096
struct ql_collector {
  int port;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  atomic_int stop;
  int n;
  int wait_errno; /* errno of a failed wait, 0 if none */
  Qso_OverlappedIO_t got[QL_COLLECT_MAX];
  long long at_ms[QL_COLLECT_MAX];
};

static void *ql_collector_main(void *arg) {
  struct ql_collector *c = (struct ql_collector *)arg;
  while (!atomic_load(&c->stop)) {
    Qso_OverlappedIO_t st;
    struct timeval tv = qt_tv(0, 100000);
    int rc = QsoWaitForIOCompletion(c->port, &st, &tv);
    if (rc == 1) {
      long long now = qt_now_ms();
      pthread_mutex_lock(&c->mu);
      if (c->n < QL_COLLECT_MAX) {
        c->got[c->n] = st;
        c->at_ms[c->n] = now;
      }
      c->n++;
      pthread_cond_broadcast(&c->cv);
      pthread_mutex_unlock(&c->mu);
    } else if (rc < 0) {
      pthread_mutex_lock(&c->mu);
      c->wait_errno = errno;
      pthread_cond_broadcast(&c->cv);
      pthread_mutex_unlock(&c->mu);
      break;
    }
  }
  return NULL;
}

static inline struct ql_collector *ql_collector_start(int port) {
  struct ql_collector *c = (struct ql_collector *)calloc(1, sizeof *c);
  CHECK(c != NULL);
  c->port = port;
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  atomic_init(&c->stop, 0);
  c->thread = ql_thread(ql_collector_main, c);
  return c;
}

/* Waits until the collector holds at least `n` completions or `ms` pass; returns its count. */
static inline int ql_collector_await(struct ql_collector *c, int n, long ms) {
  long long end = qt_now_ms() + ms;
  pthread_mutex_lock(&c->mu);
  while (c->n < n && c->wait_errno == 0) {
    long long left = end - qt_now_ms();
    if (left <= 0)
      break;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ns = ts.tv_nsec + (left < 50 ? left : 50) * 1000000LL;
    ts.tv_sec += ns / 1000000000LL;
    ts.tv_nsec = ns % 1000000000LL;
    pthread_cond_timedwait(&c->cv, &c->mu, &ts);
  }
  int got = c->n;
  pthread_mutex_unlock(&c->mu);
  return got;
}

static inline int ql_collector_count(struct ql_collector *c) {
  pthread_mutex_lock(&c->mu);
  int n = c->n;
  pthread_mutex_unlock(&c->mu);
  return n;
}

/* Copy of completion i (the caller knows it exists). */
static inline Qso_OverlappedIO_t ql_collector_get(struct ql_collector *c, int i) {
  pthread_mutex_lock(&c->mu);
  Qso_OverlappedIO_t st = c->got[i];
  pthread_mutex_unlock(&c->mu);
  return st;
}

static inline void ql_collector_stop(struct ql_collector *c) {
  atomic_store(&c->stop, 1);
  pthread_join(c->thread, NULL);
}

/* One thread making one QsoWaitForIOCompletion call (timeout_ms < 0: NULL, wait forever). */
struct ql_waiter {
  int port;
  long timeout_ms;
  pthread_t thread;
  atomic_int started;
  int rc;
  int err;
  long long done_ms;
  Qso_OverlappedIO_t st;
};

static void *ql_waiter_main(void *arg) {
  struct ql_waiter *w = (struct ql_waiter *)arg;
  struct timeval tv = qt_tv(w->timeout_ms / 1000, (w->timeout_ms % 1000) * 1000);
  atomic_store(&w->started, 1);
  errno = 0;
  w->rc = QsoWaitForIOCompletion(w->port, &w->st, w->timeout_ms < 0 ? NULL : &tv);
  w->err = errno;
  w->done_ms = qt_now_ms();
  return NULL;
}

static inline void ql_waiter_start(struct ql_waiter *w, int port, long timeout_ms) {
  memset(w, 0, sizeof *w);
  w->port = port;
  w->timeout_ms = timeout_ms;
  atomic_init(&w->started, 0);
  w->rc = -2;
  w->thread = ql_thread(ql_waiter_main, w);
  while (!atomic_load(&w->started))
    ql_sleep_ms(1);
}

static inline void ql_waiter_join(struct ql_waiter *w) { pthread_join(w->thread, NULL); }

/* A thread that sleeps, then sends bytes (pattern seed/off), then optionally shuts down. */
struct ql_sender {
  int fd;
  long delay_ms;
  size_t len;
  unsigned seed;
  size_t off;
  int shut_wr; /* shutdown(SHUT_WR) after sending */
  pthread_t thread;
};

static void *ql_sender_main(void *arg) {
  struct ql_sender *s = (struct ql_sender *)arg;
  ql_sleep_ms(s->delay_ms);
  if (s->len > 0) {
    unsigned char *buf = (unsigned char *)malloc(s->len);
    if (buf == NULL)
      return NULL;
    ql_pattern(buf, s->len, s->seed, s->off);
    qt_write_all(s->fd, buf, s->len);
    free(buf);
  }
  if (s->shut_wr)
    shutdown(s->fd, SHUT_WR);
  return NULL;
}

static inline void ql_sender_start(struct ql_sender *s, int fd, long delay_ms, size_t len,
                                   unsigned seed, size_t off, int shut_wr) {
  s->fd = fd;
  s->delay_ms = delay_ms;
  s->len = len;
  s->seed = seed;
  s->off = off;
  s->shut_wr = shut_wr;
  s->thread = ql_thread(ql_sender_main, s);
}

static inline void ql_sender_join(struct ql_sender *s) { pthread_join(s->thread, NULL); }

/* ---- child processes ---------------------------------------------------- */

/*
 * Waits up to `ms` for child `pid`; kills it (by its pid) if it is still running then.
 * Returns its exit code, or -1 if it was killed, timed out or died by a signal.
 */
static inline int ql_wait_child(pid_t pid, long ms) {
  long long end = qt_now_ms() + ms;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status))
        return WEXITSTATUS(status);
      fprintf(stderr, "  child died by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
      return -1;
    }
    if (r < 0 && errno != EINTR)
      return -1;
    if (qt_now_ms() > end) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      fprintf(stderr, "  child %d timed out\n", (int)pid);
      return -1;
    }
    ql_sleep_ms(5);
  }
}

#endif /* QSO_TEST_LIFE_H */
