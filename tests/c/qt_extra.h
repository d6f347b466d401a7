/*
 * tests/c/qt_extra.h - extra helpers for the core C suite (layout, ports, wait, post, waiters,
 * recv, send, accept, ids). Include after harness.h.
 */
#ifndef QSO_TEST_EXTRA_H
#define QSO_TEST_EXTRA_H

#include "harness.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>

/* Sleeps `ms` milliseconds (restarts after signals). */
static inline void qt_sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* A new completion port; fails the test if none can be made. */
static inline int qt_port(void) {
  int p = QsoCreateIOCompletionPort();
  CHECK(p >= 0);
  return p;
}

/* Checks that the port holds no completion right now ({0,0} poll returns 0). */
static inline void qt_expect_empty(int port) {
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(0, 0);
  int rc = QsoWaitForIOCompletion(port, &st, &tv);
  if (rc != 0)
    QT_FAIL("expected an empty port, poll returned %d (op %d rv %d errno %d id %llu)", rc,
            rc == 1 ? st.operationCompleted : 0, rc == 1 ? st.returnValue : 0,
            rc == 1 ? st.errnoValue : errno, rc == 1 ? st.operationId : 0ULL);
}

/* Checks that a call failed with -1 and `err` and that nothing was posted to `port`. */
#define CHECK_REFUSED(call, err, port)                                                        \
  do {                                                                                       \
    CHECK_ERR(call, err);                                                                    \
    qt_expect_empty(port);                                                                   \
  } while (0)

/* Waits until fd is readable (or `ms` pass); fails the test on timeout. */
static inline void qt_wait_readable(int fd, int ms) {
  struct pollfd p;
  p.fd = fd;
  p.events = POLLIN;
  p.revents = 0;
  int rc;
  do {
    rc = poll(&p, 1, ms);
  } while (rc < 0 && errno == EINTR);
  if (rc != 1)
    QT_FAIL("fd %d not readable within %d ms (poll rc %d)", fd, ms, rc);
}

/* The file status flags of fd (fcntl F_GETFL). */
static inline int qt_fl(int fd) {
  int f = fcntl(fd, F_GETFL);
  CHECK(f != -1);
  return f;
}

/* A descriptor number that is certainly not open in this process. */
static inline int qt_closed_fd(void) {
  for (int fd = 700; fd < 1000; fd++)
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
      return fd;
  QT_FAIL("no free descriptor number found");
  return -1;
}

/* An open regular file (a temporary file, already unlinked). */
static inline int qt_file_fd(void) {
  char path[] = "/tmp/qso-test-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(unlink(path) == 0);
  CHECK(write(fd, "file", 4) == 4);
  CHECK(lseek(fd, 0, SEEK_SET) == 0);
  return fd;
}

/* The read end of a pipe whose write end holds data (write end returned in *w). */
static inline int qt_pipe_fd(int *w) {
  int p[2];
  CHECK(pipe(p) == 0);
  CHECK(write(p[1], "pipe", 4) == 4);
  if (w)
    *w = p[1];
  return p[0];
}

/* A connected UDP socket on loopback (connected to a bound peer, which is returned in *peer). */
static inline int qt_udp_fd(int *peer) {
  int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
  CHECK(a >= 0 && b >= 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(b, (struct sockaddr *)&sa, sizeof sa) == 0);
  socklen_t len = sizeof sa;
  CHECK(getsockname(b, (struct sockaddr *)&sa, &len) == 0);
  CHECK(connect(a, (struct sockaddr *)&sa, sizeof sa) == 0);
  if (peer)
    *peer = b;
  return a;
}

/* A TCP socket that is neither connected nor listening. */
static inline int qt_unconnected_tcp(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  return fd;
}

/* Fills buf with a pattern that depends on the offset and a seed. */
static inline void qt_pattern(unsigned char *buf, size_t len, unsigned seed) {
  for (size_t i = 0; i < len; i++)
    buf[i] = (unsigned char)((i * 131u + (i >> 8) * 7u + seed * 29u) & 0xFF);
}

/* Returns the first offset where buf differs from the pattern, or (size_t)-1. */
static inline size_t qt_pattern_mismatch(const unsigned char *buf, size_t len, unsigned seed) {
  for (size_t i = 0; i < len; i++)
    if (buf[i] != (unsigned char)((i * 131u + (i >> 8) * 7u + seed * 29u) & 0xFF))
      return i;
  return (size_t)-1;
}

/* Starts a thread; fails the test if it cannot. */
static inline pthread_t qt_thread(void *(*fn)(void *), void *arg) {
  pthread_t t;
  CHECK(pthread_create(&t, NULL, fn, arg) == 0);
  return t;
}

static inline void *qt_join(pthread_t t) {
  void *r = NULL;
  CHECK(pthread_join(t, &r) == 0);
  return r;
}

/* A pointer value that is not a real address, to prove a field is carried bit for bit. */
static inline void *qt_odd_ptr(unsigned long long v) {
  void *p;
  memcpy(&p, &v, sizeof p);
  return p;
}

static inline unsigned long long qt_ptr_bits(void *p) {
  unsigned long long v = 0;
  memcpy(&v, &p, sizeof p);
  return v;
}

/* The local port of an AF_INET socket. */
static inline int qt_local_port(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
  return ntohs(a.sin_port);
}

/* The peer's port of a connected AF_INET socket. */
static inline int qt_peer_port(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  CHECK(getpeername(fd, (struct sockaddr *)&a, &len) == 0);
  return ntohs(a.sin_port);
}

#endif /* QSO_TEST_EXTRA_H */
