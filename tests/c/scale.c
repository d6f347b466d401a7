/*
 * tests/c/scale.c - 10,000 connections, each with a pending receive, churned by random cancels
 * and closes, then everything cleaned up; leak-free: descriptors and memory return to their
 * level (spec §6 "nothing lost", and the wepoll-style scale check of the design notes).
 *
 * The process holds 10,000 AF_UNIX stream sockets; their peers live in a helper child process
 * (sent over SCM_RIGHTS), so that the descriptor limit (RLIMIT_NOFILE, raised to its hard limit)
 * need only cover one end. Each round:
 *   1. 10,000 socketpairs; the peer ends go to the helper;
 *   2. a receive on every socket, spread over 4 ports; a fifth of them with a 60 s timer (ended
 *      otherwise long before: their heap entries must not leak), some with a 1 s timer;
 *   3. the helper writes one byte to a tenth of the peers; 30% of the receives are cancelled and
 *      30% of the sockets closed, in random order;
 *   4. after 1.2 s the rest are closed; every receive must have completed exactly once, with the
 *      ending its fate calls for (data, EAGAIN, ECANCELED, ECLOSED);
 *   5. the ports are destroyed, the helper closes the peers.
 * A warm-up round, then two measured rounds: the open descriptors (/proc/self/fd) must be back
 * to the count before the warm-up, and VmRSS within 10% or 4 MiB of the level after it.
 */
#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>

#define NCONN 10000
#define NPORTS 4

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  CHECK(d != NULL);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1;
}

/* ---- the helper process holding the peer ends ---------------------------------------------- */

/* Commands: 'F' + descriptors (kept, in order), 'W' (write a byte to every tenth, index%10==3),
 * 'C' (close all, answer 'c'). EOF or a 30 s silence ends it. */
static void helper(int ctl) {
  static int fds[NCONN];
  int n = 0;
  struct timeval tv = qt_tv(30, 0);
  setsockopt(ctl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (int guard = 0; guard < 1000000; guard++) {
    char cmd;
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE(sizeof(int) * 250)];
    } cm;
    struct iovec iov = {&cmd, 1};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cm.buf;
    m.msg_controllen = sizeof cm.buf;
    ssize_t r = recvmsg(ctl, &m, 0);
    if (r <= 0)
      _exit(0);
    if (cmd == 'F') {
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *p = (int *)CMSG_DATA(c);
        for (int i = 0; i < k; i++) {
          if (n < NCONN)
            fds[n++] = p[i];
          else
            close(p[i]);
        }
      }
    } else if (cmd == 'W') {
      for (int i = 3; i < n; i += 10)
        if (send(fds[i], "x", 1, MSG_NOSIGNAL) != 1)
          _exit(3);
    } else if (cmd == 'C') {
      for (int i = 0; i < n; i++)
        close(fds[i]);
      n = 0;
      if (send(ctl, "c", 1, MSG_NOSIGNAL) != 1)
        _exit(4);
    }
  }
  _exit(0);
}

static void send_fds(int ctl, const int *fds, int n) {
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int) * 250)];
  } cm;
  CHECK(n <= 250);
  memset(&cm, 0, sizeof cm);
  char cmd = 'F';
  struct iovec iov = {&cmd, 1};
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cm.buf;
  m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
  CHECK(sendmsg(ctl, &m, 0) == 1);
}

/* ---- one round ---------------------------------------------------------------------------- */

enum { FATE_CANCEL, FATE_DATA, FATE_CLOSE, FATE_CLEANUP, FATE_TIMER };

static int fate_of(int i) {
  int r = i % 10;
  if (i % 50 == 47)
    return FATE_TIMER; /* 1 s timer, left alone */
  if (r <= 2)
    return FATE_CANCEL;
  if (r == 3)
    return FATE_DATA;
  if (r <= 6)
    return FATE_CLOSE;
  return FATE_CLEANUP;
}

static int sock[NCONN];
static char bufs[NCONN][8];
static unsigned char seen[NCONN];
static int order[NCONN];

static uint64_t rng = 88172645463325252ULL;
static unsigned rnd(unsigned n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng % n);
}

static void round_trip(int ctl, int round) {
  int ports[NPORTS];
  for (int p = 0; p < NPORTS; p++) {
    ports[p] = QsoCreateIOCompletionPort();
    CHECK(ports[p] >= 0);
  }
  /* 1. connections */
  int peers[250], np = 0;
  for (int i = 0; i < NCONN; i++) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      QT_FAIL("socketpair %d of round %d: %s", i, round, strerror(errno));
    sock[i] = sv[0];
    peers[np++] = sv[1];
    if (np == 250 || i == NCONN - 1) {
      send_fds(ctl, peers, np);
      for (int k = 0; k < np; k++)
        CHECK_EQ(close(peers[k]), 0);
      np = 0;
    }
  }
  /* 2. a receive on each */
  memset(seen, 0, sizeof seen);
  for (int i = 0; i < NCONN; i++) {
    memset(bufs[i], 0xA5, sizeof bufs[i]);
    Qso_OverlappedIO_t io = qt_io(bufs[i], sizeof bufs[i]);
    io.descriptorHandle = (void *)(uintptr_t)(i + 1);
    io.operationId = (unsigned long long)round * 1000000ULL + (unsigned long long)i;
    if (fate_of(i) == FATE_TIMER)
      io.operationWaitTime = qt_tv(1, 0);
    else if (i % 5 == 1)
      io.operationWaitTime = qt_tv(60, 0);
    int rc = QsoStartRecv(sock[i], ports[i % NPORTS], &io);
    if (rc != 1 || io.postFlagResult)
      QT_FAIL("receive %d: QsoStartRecv returned %d (errno %d)", i, rc, errno);
  }
  long long t_started = qt_now_ms();
  /* 3. data for a tenth; cancels and closes in random order */
  CHECK(send(ctl, "W", 1, MSG_NOSIGNAL) == 1);
  int n = 0;
  for (int i = 0; i < NCONN; i++)
    if (fate_of(i) == FATE_CANCEL || fate_of(i) == FATE_CLOSE)
      order[n++] = i;
  for (int k = n - 1; k > 0; k--) {
    int j = (int)rnd((unsigned)k + 1);
    int t = order[k];
    order[k] = order[j];
    order[j] = t;
  }
  for (int k = 0; k < n; k++) {
    int i = order[k];
    if (fate_of(i) == FATE_CANCEL) {
      int rc = QsoCancelOperation(sock[i],
                                  (unsigned long long)round * 1000000ULL + (unsigned long long)i);
      if (rc != 1)
        QT_FAIL("cancel of receive %d returned %d (errno %d)", i, rc, errno);
    } else {
      CHECK_EQ(close(sock[i]), 0);
      sock[i] = -1;
    }
  }
  /* 4. collect; after the 1 s timers, close the rest */
  int got = 0, closed_rest = 0;
  long long end = qt_now_ms() + 30000;
  while (got < NCONN && qt_now_ms() < end) {
    if (!closed_rest && qt_now_ms() - t_started >= 1200) {
      for (int i = 0; i < NCONN; i++)
        if (sock[i] >= 0) {
          CHECK_EQ(close(sock[i]), 0);
          sock[i] = -1;
        }
      closed_rest = 1;
    }
    int progressed = 0;
    for (int p = 0; p < NPORTS; p++) {
      Qso_OverlappedIO_t st;
      struct timeval tv = qt_tv(0, 20000);
      int rc = QsoWaitForIOCompletion(ports[p], &st, &tv);
      CHECK(rc == 0 || rc == 1);
      if (rc == 0)
        continue;
      progressed = 1;
      long i = (long)(uintptr_t)st.descriptorHandle - 1;
      if (i < 0 || i >= NCONN || st.operationId != (unsigned long long)round * 1000000ULL +
                                                     (unsigned long long)i)
        QT_FAIL("completion with handle %p id %llu is no receive of round %d",
                st.descriptorHandle, st.operationId, round);
      if (seen[i]++)
        QT_FAIL("receive %ld completed twice", i);
      got++;
      int want_rv = -1, want_err;
      switch (fate_of((int)i)) {
      case FATE_CANCEL: want_err = ECANCELED; break;
      case FATE_DATA: want_rv = 1; want_err = 0; break;
      case FATE_TIMER: want_err = EAGAIN; break;
      default: want_err = ECLOSED; break;
      }
      if (st.operationCompleted != QSOSTARTRECV || st.returnValue != want_rv ||
          st.errnoValue != want_err)
        QT_FAIL("receive %ld (fate %d): op %d rv %d errno %d, expected rv %d errno %d", i,
                fate_of((int)i), st.operationCompleted, st.returnValue, st.errnoValue, want_rv,
                want_err);
      for (int k = want_rv > 0 ? want_rv : 0; k < (int)sizeof bufs[i]; k++)
        if ((unsigned char)bufs[i][k] != 0xA5)
          QT_FAIL("receive %ld: byte %d of its buffer was written", i, k);
    }
    (void)progressed;
  }
  if (got != NCONN) {
    int shown = 0;
    for (int i = 0; i < NCONN && shown < 5; i++)
      if (!seen[i]) {
        fprintf(stderr, "  receive %d (fate %d) never completed\n", i, fate_of(i));
        shown++;
      }
    QT_FAIL("round %d: %d of %d receives completed", round, got, NCONN);
  }
  for (int p = 0; p < NPORTS; p++) {
    Qso_OverlappedIO_t st;
    struct timeval tv = qt_tv(0, 0);
    CHECK_EQ(QsoWaitForIOCompletion(ports[p], &st, &tv), 0);
    CHECK_EQ(QsoDestroyIOCompletionPort(ports[p]), 0);
  }
  /* 5. the helper lets go of the peers */
  CHECK(send(ctl, "C", 1, MSG_NOSIGNAL) == 1);
  char ack;
  CHECK(recv(ctl, &ack, 1, 0) == 1 && ack == 'c');
}

TEST_T(scale_10000_connections_leak_free, 60) {
  struct rlimit rl;
  CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
  }
  if (rl.rlim_cur < NCONN + 200)
    QT_FAIL("RLIMIT_NOFILE hard limit %lu is below %d", (unsigned long)rl.rlim_max, NCONN + 200);
  int cv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cv) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    close(cv[0]);
    helper(cv[1]);
  }
  close(cv[1]);
  struct timeval tv = qt_tv(20, 0);
  setsockopt(cv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  int fds0 = count_fds();
  long long t0 = qt_now_ms();
  round_trip(cv[0], 0); /* warm-up */
  int fds1 = count_fds();
  long rss1 = qt_rss_kib();
  round_trip(cv[0], 1);
  round_trip(cv[0], 2);
  int fds2 = count_fds();
  long rss2 = qt_rss_kib();
  long long ms = qt_now_ms() - t0;
  printf("scale: %d connections x 3 rounds in %lld ms; descriptors %d before, %d after the "
         "warm-up, %d after two more rounds; VmRSS %ld KiB after the warm-up, %ld KiB after "
         "two more rounds (%+ld KiB)\n", NCONN, ms, fds0, fds1, fds2, rss1, rss2, rss2 - rss1);
  fflush(stdout);
  close(cv[0]);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK_EQ(fds1, fds0);
  CHECK_EQ(fds2, fds0);
#if defined(__SANITIZE_ADDRESS__)
  /* AddressSanitizer keeps freed memory in its quarantine (256 MiB by default): resident memory
   * says nothing about leaks there (its LeakSanitizer does). Said, not silently skipped. */
  printf("scale: VmRSS check skipped under AddressSanitizer (its quarantine holds freed "
         "memory)\n");
  fflush(stdout);
#else
  long slack = rss1 / 10 > 4096 ? rss1 / 10 : 4096;
  if (rss2 - rss1 > slack)
    QT_FAIL("VmRSS grew by %ld KiB over two rounds (allowed %ld)", rss2 - rss1, slack);
#endif
}
