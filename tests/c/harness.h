/*
 * tests/c/harness.h - the C test harness: each TEST runs in its own forked process with a
 * timeout; a test file's main() runs them all (or those named on the command line) and ends
 * with "N passed, M failed". tests/c/run.sh builds every file and sums the totals.
 *
 * Helpers cover what most cases need: connected TCP and AF_UNIX pairs, a listening socket on
 * 127.0.0.1, a zeroed Qso_OverlappedIO_t, and timevals.
 */
#ifndef QSO_TEST_HARNESS_H
#define QSO_TEST_HARNESS_H

#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qsoasync.h"

typedef void (*qt_fn)(void);
struct qt_case {
  const char *name;
  qt_fn fn;
  int timeout_s;
};

#define QT_MAX_CASES 256
static struct qt_case qt_cases[QT_MAX_CASES];
static int qt_ncases;

static void qt_register(const char *name, qt_fn fn, int timeout_s) {
  if (qt_ncases < QT_MAX_CASES) {
    qt_cases[qt_ncases].name = name;
    qt_cases[qt_ncases].fn = fn;
    qt_cases[qt_ncases].timeout_s = timeout_s;
    qt_ncases++;
  }
}

/* TEST_T(name, seconds): a case with its own timeout; TEST(name): 10 seconds. */
#define TEST_T(name, seconds)                                                  \
  static void name(void);                                                      \
  __attribute__((constructor)) static void qt_reg_##name(void) {               \
    qt_register(#name, name, seconds);                                         \
  }                                                                            \
  static void name(void)
#define TEST(name) TEST_T(name, 10)

#define QT_FAIL(...)                                                           \
  do {                                                                         \
    fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                          \
    fprintf(stderr, __VA_ARGS__);                                              \
    fprintf(stderr, "\n");                                                     \
    _exit(1);                                                                  \
  } while (0)

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond))                                                               \
      QT_FAIL("CHECK failed: %s (errno %d: %s)", #cond, errno, strerror(errno)); \
  } while (0)

#define CHECK_EQ(actual, expected)                                             \
  do {                                                                         \
    long long qt_a = (long long)(actual), qt_e = (long long)(expected);        \
    if (qt_a != qt_e)                                                          \
      QT_FAIL("CHECK_EQ failed: %s == %lld, expected %s == %lld", #actual,     \
              qt_a, #expected, qt_e);                                          \
  } while (0)

/* Checks that a call returned -1 with the given errno. */
#define CHECK_ERR(call, expected_errno)                                        \
  do {                                                                         \
    errno = 0;                                                                 \
    long long qt_rc = (long long)(call);                                       \
    int qt_err = errno;                                                        \
    if (qt_rc != -1 || qt_err != (expected_errno))                             \
      QT_FAIL("CHECK_ERR failed: %s returned %lld errno %d (%s), expected -1 " \
              "errno %d (%s)",                                                 \
              #call, qt_rc, qt_err, strerror(qt_err), (int)(expected_errno),   \
              strerror(expected_errno));                                       \
  } while (0)

/* ---- helpers ------------------------------------------------------------ */

static inline Qso_OverlappedIO_t qt_io(void *buf, size_t len) {
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  io.buffer = buf;
  io.bufferLength = len;
  return io;
}

static inline struct timeval qt_tv(long sec, long usec) {
  struct timeval tv;
  tv.tv_sec = sec;
  tv.tv_usec = usec;
  return tv;
}

/* Monotonic milliseconds. */
static inline long long qt_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A TCP socket listening on 127.0.0.1 at an ephemeral port; *port_out gets the port. */
static inline int qt_listener(int *port_out) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
  CHECK(listen(fd, 128) == 0);
  socklen_t len = sizeof a;
  CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
  if (port_out)
    *port_out = ntohs(a.sin_port);
  return fd;
}

/* A blocking TCP client connected to 127.0.0.1:port. */
static inline int qt_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((unsigned short)port);
  CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
  return fd;
}

/* A connected TCP pair on loopback: sv[0] the accepted side, sv[1] the client. */
static inline void qt_tcp_pair(int sv[2]) {
  int port;
  int l = qt_listener(&port);
  sv[1] = qt_connect(port);
  sv[0] = accept(l, NULL, NULL);
  CHECK(sv[0] >= 0);
  close(l);
}

/* A connected AF_UNIX stream pair. */
static inline void qt_unix_pair(int sv[2]) {
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
}

/* Writes all of buf to a blocking fd. */
static inline void qt_write_all(int fd, const void *buf, size_t len) {
  const char *p = (const char *)buf;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    CHECK(n > 0);
    p += n;
    len -= (size_t)n;
  }
}

/* Reads exactly len bytes from a blocking fd. */
static inline void qt_read_all(int fd, void *buf, size_t len) {
  char *p = (char *)buf;
  while (len > 0) {
    ssize_t n = recv(fd, p, len, 0);
    CHECK(n > 0);
    p += n;
    len -= (size_t)n;
  }
}

/* Waits up to `ms` milliseconds for one completion; fails the test if none comes. */
static inline Qso_OverlappedIO_t qt_wait(int port, long ms) {
  Qso_OverlappedIO_t st;
  memset(&st, 0xEE, sizeof st);
  struct timeval tv = qt_tv(ms / 1000, (ms % 1000) * 1000);
  int rc = QsoWaitForIOCompletion(port, &st, &tv);
  if (rc != 1)
    QT_FAIL("expected a completion within %ld ms, QsoWaitForIOCompletion returned %d "
            "(errno %d)", ms, rc, errno);
  return st;
}

/* Checks that no completion arrives within `ms` milliseconds. */
/* The process's resident memory (VmRSS), in KiB. */
static inline long qt_rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  CHECK(f != NULL);
  char line[256];
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
      break;
  fclose(f);
  return kib;
}

static inline void qt_expect_none(int port, long ms) {
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(ms / 1000, (ms % 1000) * 1000);
  int rc = QsoWaitForIOCompletion(port, &st, &tv);
  if (rc != 0)
    QT_FAIL("expected no completion within %ld ms, got rc %d (op %d rv %d errno %d)",
            ms, rc, st.operationCompleted, st.returnValue, st.errnoValue);
}

/* ---- runner ------------------------------------------------------------- */

static int qt_run_case(const struct qt_case *c) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 0;
  }
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL); /* the library must never raise it: let it kill the case */
    alarm((unsigned)c->timeout_s);
    c->fn();
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    printf("ok   %s\n", c->name);
    return 1;
  }
  if (WIFSIGNALED(status))
    printf("FAIL %s (signal %d%s)\n", c->name, WTERMSIG(status),
           WTERMSIG(status) == SIGALRM ? ", timed out" : "");
  else
    printf("FAIL %s (exit %d)\n", c->name, WEXITSTATUS(status));
  return 0;
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 0; i < qt_ncases; i++) {
    int selected = argc < 2;
    for (int a = 1; a < argc; a++)
      if (strcmp(argv[a], qt_cases[i].name) == 0)
        selected = 1;
    if (!selected)
      continue;
    if (qt_run_case(&qt_cases[i]))
      passed++;
    else
      failed++;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

#endif /* QSO_TEST_HARNESS_H */
