/*
 * tests/c/bad_input.c - every exported Qso function (and the close hook's close/dup2/dup3) called
 * with every class of bad argument (spec §3-§6: "bad input gets -1 and an errno, never a crash").
 *
 * Each TEST builds tables of argument classes (descriptors, ports, Qso_OverlappedIO_t records,
 * timevals, ids), loops over their cross product and checks each call: -1 (0 for
 * QsoGenerateOperationId) with an errno that one of the bad arguments justifies (when several
 * arguments are bad, any of their errnos is accepted: the spec gives no precedence), the
 * caller's record untouched, and nothing posted to any port. Combinations where every argument
 * is good are skipped (the other files test them). Each TEST prints how many combinations it
 * tried; all failing combinations are listed before the case fails.
 */
#include "harness.h"

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/un.h>
#include <linux/netlink.h>

/* ---- bookkeeping -------------------------------------------------------------------------- */

static int bi_failures, bi_tried;

#define BI_FAIL(...)                                                                         \
  do {                                                                                       \
    if (bi_failures++ < 30) {                                                                \
      fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                      \
      fprintf(stderr, __VA_ARGS__);                                                          \
      fprintf(stderr, "\n");                                                                 \
    }                                                                                        \
  } while (0)

/* The set of errnos a call may fail with: a bit mask over a small table of errno values. */
static const int bi_errnos[] = {EINVAL, EBADF, ENOTSOCK, EOPNOTSUPP, ENOTCONN, ECONNABORTED,
                                EPIPE, ENOBUFS};
#define BI_NERR ((int)(sizeof bi_errnos / sizeof bi_errnos[0]))
typedef unsigned errset;
/* constant masks, in the order of bi_errnos */
#define M_EINVAL 1u
#define M_EBADF 2u
#define M_ENOTSOCK 4u
#define M_EOPNOTSUPP 8u
#define M_ENOTCONN 16u
#define M_ECONNABORTED 32u
#define M_EPIPE 64u
#define M_ENOBUFS 128u

static errset E(int e) {
  for (int i = 0; i < BI_NERR; i++)
    if (bi_errnos[i] == e)
      return 1u << i;
  return 0;
}

static int in_set(errset s, int e) { return e != 0 && (s & E(e)) != 0; }

static void set_str(errset s, char *out, size_t n) {
  out[0] = 0;
  for (int i = 0; i < BI_NERR; i++)
    if (s & (1u << i)) {
      size_t l = strlen(out);
      snprintf(out + l, n - l, "%s%s", l ? "|" : "", strerror(bi_errnos[i]));
    }
}

static void bi_done(const char *what) {
  printf("bad_input: %s: %d combinations tried, %d wrong\n", what, bi_tried, bi_failures);
  fflush(stdout);
  CHECK_EQ(bi_failures, 0);
}

/* Polls port: nothing may have been posted by a failed call. */
static void bi_expect_empty(int port, const char *after) {
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(0, 0);
  int rc = QsoWaitForIOCompletion(port, &st, &tv);
  if (rc != 0)
    BI_FAIL("after %s: port %d holds a completion (rc %d, op %d, rv %d, errno %d, id %llu)", after,
            port, rc, rc == 1 ? st.operationCompleted : 0, rc == 1 ? st.returnValue : 0,
            rc == 1 ? st.errnoValue : errno, rc == 1 ? st.operationId : 0ULL);
}

/* ---- argument classes --------------------------------------------------------------------- */

/* A descriptor class: what a start call (stream), an accept, and the id calls expect. 0 means
 * the argument is good for that call. */
struct fdc {
  const char *name;
  int fd;
  errset stream; /* QsoStartRecv / QsoStartSend */
  errset accept; /* QsoStartAccept */
  errset ids;    /* QsoGenerateOperationId / QsoIsOperationPending / QsoCancelOperation */
};

#define MAX_FDC 40
static struct fdc fdcs[MAX_FDC];
static int nfdc;

static void add_fdc(const char *name, int fd, errset stream, errset accept, errset ids) {
  CHECK(nfdc < MAX_FDC);
  fdcs[nfdc].name = name;
  fdcs[nfdc].fd = fd;
  fdcs[nfdc].stream = stream;
  fdcs[nfdc].accept = accept;
  fdcs[nfdc].ids = ids;
  nfdc++;
}

static int unix_listener(void) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  struct sockaddr_un u;
  memset(&u, 0, sizeof u);
  u.sun_family = AF_UNIX;
  int n = snprintf(u.sun_path + 1, sizeof u.sun_path - 1, "qso-bad-input-%d", (int)getpid());
  CHECK(bind(fd, (struct sockaddr *)&u, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                                                    (size_t)n)) == 0);
  CHECK(listen(fd, 8) == 0);
  return fd;
}

/* Builds every descriptor class. `stream_port` is a live port used to abort one socket. */
static void make_fdcs(void) {
  nfdc = 0;
  const errset BAD = M_EBADF, NS = M_ENOTSOCK, NOTSTREAM = M_EOPNOTSUPP;
  add_fdc("-1", -1, BAD, BAD, BAD);
  add_fdc("INT_MIN", INT_MIN, BAD, BAD, BAD);
  add_fdc("INT_MAX", INT_MAX, BAD, BAD, BAD);
  add_fdc("1048576 (past the descriptor limit)", 1 << 20, BAD, BAD, BAD);
  /* a closed descriptor, numbered high so that nothing opened later can take it */
  CHECK(dup2(0, 900) == 900);
  CHECK(close(900) == 0);
  add_fdc("closed descriptor", 900, BAD, BAD, BAD);
  char path[] = "/tmp/qso-bad-input-XXXXXX";
  int file = mkstemp(path);
  CHECK(file >= 0);
  unlink(path);
  add_fdc("regular file", file, NS, NS, NS);
  int p[2];
  CHECK(pipe(p) == 0);
  add_fdc("pipe (read end)", p[0], NS, NS, NS);
  add_fdc("pipe (write end)", p[1], NS, NS, NS);
  add_fdc("eventfd", eventfd(0, 0), NS, NS, NS);
  add_fdc("/dev/null", open("/dev/null", O_RDWR), NS, NS, NS);
  add_fdc("directory", open("/", O_RDONLY | O_DIRECTORY), NS, NS, NS);
  add_fdc("epoll descriptor", epoll_create1(0), NS, NS, NS);
  add_fdc("UDP socket", socket(AF_INET, SOCK_DGRAM, 0), NOTSTREAM, NOTSTREAM, 0);
  int cu = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in lo;
  memset(&lo, 0, sizeof lo);
  lo.sin_family = AF_INET;
  lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lo.sin_port = htons(9);
  CHECK(connect(cu, (struct sockaddr *)&lo, sizeof lo) == 0);
  add_fdc("connected UDP socket", cu, NOTSTREAM, NOTSTREAM, 0);
  add_fdc("AF_UNIX datagram socket", socket(AF_UNIX, SOCK_DGRAM, 0), NOTSTREAM, NOTSTREAM, 0);
  int sp[2];
  CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0);
  add_fdc("AF_UNIX seqpacket socket (connected)", sp[0], NOTSTREAM, NOTSTREAM, 0);
  int nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  if (nl >= 0)
    add_fdc("netlink socket", nl, NOTSTREAM, NOTSTREAM, 0);
  add_fdc("TCP listening socket", qt_listener(NULL), M_ENOTCONN, 0, 0);
  add_fdc("AF_UNIX listening socket", unix_listener(), M_ENOTCONN, 0, 0);
  add_fdc("unconnected TCP socket", socket(AF_INET, SOCK_STREAM, 0), M_ENOTCONN, M_EINVAL, 0);
  int bound = socket(AF_INET, SOCK_STREAM, 0);
  lo.sin_port = 0;
  CHECK(bind(bound, (struct sockaddr *)&lo, sizeof lo) == 0);
  add_fdc("bound, not listening TCP socket", bound, M_ENOTCONN, M_EINVAL, 0);
  add_fdc("unconnected AF_UNIX stream socket", socket(AF_UNIX, SOCK_STREAM, 0), M_ENOTCONN,
          M_EINVAL, 0);
  int sv[2];
  qt_tcp_pair(sv);
  add_fdc("connected TCP socket", sv[0], 0, M_EINVAL, 0);
  qt_unix_pair(sv);
  add_fdc("connected AF_UNIX socket", sv[0], 0, M_EINVAL, 0);
  /* a socket aborted by the destruction of a port with a receive outstanding on it */
  qt_unix_pair(sv);
  int doomed = QsoCreateIOCompletionPort();
  CHECK(doomed >= 0);
  static char ab[16];
  Qso_OverlappedIO_t io = qt_io(ab, sizeof ab);
  CHECK_EQ(QsoStartRecv(sv[0], doomed, &io), 1);
  CHECK_EQ(QsoDestroyIOCompletionPort(doomed), 0);
  /* (for an accept on it, both "aborted" and "not listening" are reasonable) */
  add_fdc("socket aborted by a destroyed port", sv[0], M_ECONNABORTED | M_EPIPE,
          M_ECONNABORTED | M_EINVAL, 0);
  for (int i = 0; i < nfdc; i++)
    if (fdcs[i].fd < 0 && i >= 4 && strcmp(fdcs[i].name, "-1") != 0)
      QT_FAIL("could not create the %s", fdcs[i].name);
}

/* A port class. */
struct portc {
  const char *name;
  int port;
  errset bad; /* 0: good */
};
#define MAX_PORTC 10
static struct portc portcs[MAX_PORTC];
static int nportc;
static int good_port;

/* Port classes: a live port, and handles that are negative, out of range, never created, or
 * destroyed. Call after make_fdcs (it destroys a port of its own). */
static void make_portcs(void) {
  nportc = 0;
  good_port = QsoCreateIOCompletionPort();
  CHECK(good_port >= 0);
  int dead = QsoCreateIOCompletionPort();
  CHECK(dead >= 0);
  CHECK_EQ(QsoDestroyIOCompletionPort(dead), 0);
  const errset I = M_EINVAL;
  struct portc all[] = {
      {"live port", good_port, 0},
      {"-1", -1, I},
      {"INT_MIN", INT_MIN, I},
      {"QSO_MAX_IOCOMPLETION_PORTS (256)", QSO_MAX_IOCOMPLETION_PORTS, I},
      {"INT_MAX", INT_MAX, I},
      {"255 (in range, never created)", QSO_MAX_IOCOMPLETION_PORTS - 1, I},
      {"destroyed port", dead, I},
  };
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    portcs[nportc++] = all[i];
}

/* A Qso_OverlappedIO_t class for the start calls and QsoPostIOCompletion. */
struct ioc {
  const char *name;
  int null_io;
  int null_buf;
  size_t len;
  long sec, usec; /* operationWaitTime */
  errset stream;  /* recv/send */
  errset accept;  /* accept (ignores the buffer) */
  errset post;    /* QsoPostIOCompletion (operationWaitTime as its timer) */
};

static const struct ioc iocs[] = {
    {"good record", 0, 0, 64, 0, 0, 0, 0, 0},
    {"NULL record", 1, 0, 64, 0, 0, M_EINVAL, M_EINVAL, M_EINVAL},
    {"NULL buffer", 0, 1, 64, 0, 0, M_EINVAL, 0, 0},
    {"zero length", 0, 0, 0, 0, 0, M_EINVAL, 0, 0},
    {"NULL buffer, zero length", 0, 1, 0, 0, 0, M_EINVAL, 0, 0},
    {"length INT_MAX + 1", 0, 0, (size_t)INT_MAX + 1, 0, 0, M_EINVAL, 0, 0},
    {"length SIZE_MAX", 0, 0, SIZE_MAX, 0, 0, M_EINVAL, 0, 0},
    {"operationWaitTime {-1, 0}", 0, 0, 64, -1, 0, M_EINVAL, M_EINVAL, M_EINVAL},
    {"operationWaitTime {LONG_MIN, 0}", 0, 0, 64, LONG_MIN, 0, M_EINVAL, M_EINVAL, M_EINVAL},
    {"operationWaitTime {0, 1}", 0, 0, 64, 0, 1, M_EINVAL, M_EINVAL, M_EINVAL},
    {"operationWaitTime {1, 500000}", 0, 0, 64, 1, 500000, M_EINVAL, M_EINVAL, M_EINVAL},
    {"operationWaitTime {0, 999999}", 0, 0, 64, 0, 999999, M_EINVAL, M_EINVAL, M_EINVAL},
    {"operationWaitTime {0, 1000000}", 0, 0, 64, 0, 1000000, M_EINVAL, M_EINVAL, M_EINVAL},
    {"operationWaitTime {0, -1}", 0, 0, 64, 0, -1, M_EINVAL, M_EINVAL, M_EINVAL},
    {"operationWaitTime {-1, -1}", 0, 0, 64, -1, -1, M_EINVAL, M_EINVAL, M_EINVAL},
};
#define NIOC ((int)(sizeof iocs / sizeof iocs[0]))

static char bi_buf[64];

static Qso_OverlappedIO_t make_io(const struct ioc *c) {
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  io.buffer = c->null_buf ? NULL : bi_buf;
  io.bufferLength = c->len;
  io.operationWaitTime.tv_sec = c->sec;
  io.operationWaitTime.tv_usec = c->usec;
  io.descriptorHandle = (void *)(uintptr_t)0xB1D;
  io.operationId = 77;
  return io;
}

/* ---- the start calls ---------------------------------------------------------------------- */

enum { CALL_RECV, CALL_SEND, CALL_ACCEPT };
static const char *call_name[] = {"QsoStartRecv", "QsoStartSend", "QsoStartAccept"};

static void start_matrix(int call) {
  make_fdcs();
  make_portcs();
  bi_tried = bi_failures = 0;
  char want[128];
  for (int f = 0; f < nfdc; f++)
    for (int p = 0; p < nportc; p++)
      for (int i = 0; i < NIOC; i++) {
        const struct fdc *fc = &fdcs[f];
        const struct ioc *ic = &iocs[i];
        errset exp = (call == CALL_ACCEPT ? fc->accept : fc->stream) | portcs[p].bad |
                     (call == CALL_ACCEPT ? ic->accept : ic->stream);
        if (exp == 0)
          continue; /* every argument good: not this file's business */
        bi_tried++;
        Qso_OverlappedIO_t io = make_io(ic), before = io;
        Qso_OverlappedIO_t *iop = ic->null_io ? NULL : &io;
        errno = 0;
        int rc = call == CALL_RECV   ? QsoStartRecv(fc->fd, portcs[p].port, iop)
                 : call == CALL_SEND ? QsoStartSend(fc->fd, portcs[p].port, iop)
                                     : QsoStartAccept(fc->fd, portcs[p].port, iop);
        int e = errno;
        if (rc != -1 || !in_set(exp, e)) {
          set_str(exp, want, sizeof want);
          BI_FAIL("%s(%s, port %s, %s) returned %d errno %d (%s), expected -1 with %s",
                  call_name[call], fc->name, portcs[p].name, ic->name, rc, e, strerror(e), want);
        }
        if (memcmp(&io, &before, sizeof io) != 0)
          BI_FAIL("%s(%s, port %s, %s) failed but changed the caller's record", call_name[call],
                  fc->name, portcs[p].name, ic->name);
      }
  bi_expect_empty(good_port, call_name[call]);
  char what[160];
  snprintf(what, sizeof what, "%s (%d descriptors x %d ports x %d records)", call_name[call],
           nfdc, nportc, NIOC);
  bi_done(what);
}

TEST(bad_start_recv) { start_matrix(CALL_RECV); }
TEST(bad_start_send) { start_matrix(CALL_SEND); }
TEST(bad_start_accept) { start_matrix(CALL_ACCEPT); }

/* ---- ports: create, destroy --------------------------------------------------------------- */

TEST(bad_create_port_exhaustion) {
  bi_tried = bi_failures = 0;
  int ports[QSO_MAX_IOCOMPLETION_PORTS];
  int n = 0;
  for (; n < QSO_MAX_IOCOMPLETION_PORTS; n++) {
    ports[n] = QsoCreateIOCompletionPort();
    if (ports[n] < 0)
      break;
  }
  CHECK_EQ(n, QSO_MAX_IOCOMPLETION_PORTS);
  for (int k = 0; k < 3; k++) {
    bi_tried++;
    errno = 0;
    int rc = QsoCreateIOCompletionPort();
    if (rc != -1 || errno != ENOBUFS)
      BI_FAIL("QsoCreateIOCompletionPort with every handle taken: %d errno %d, expected -1 "
              "ENOBUFS", rc, errno);
  }
  /* one freed handle is given out again, and only one */
  CHECK_EQ(QsoDestroyIOCompletionPort(ports[100]), 0);
  int again = QsoCreateIOCompletionPort();
  CHECK_EQ(again, ports[100]);
  bi_tried++;
  errno = 0;
  int rc = QsoCreateIOCompletionPort();
  if (rc != -1 || errno != ENOBUFS)
    BI_FAIL("QsoCreateIOCompletionPort after one re-use: %d errno %d", rc, errno);
  bi_done("QsoCreateIOCompletionPort (256 ports)");
}

TEST(bad_destroy) {
  make_fdcs();
  make_portcs();
  bi_tried = bi_failures = 0;
  for (int p = 0; p < nportc; p++) {
    if (!portcs[p].bad)
      continue;
    bi_tried++;
    errno = 0;
    int rc = QsoDestroyIOCompletionPort(portcs[p].port);
    if (rc != -1 || errno != EINVAL)
      BI_FAIL("QsoDestroyIOCompletionPort(%s) returned %d errno %d, expected -1 EINVAL",
              portcs[p].name, rc, errno);
  }
  /* destroyed twice */
  int once = QsoCreateIOCompletionPort();
  CHECK(once >= 0);
  CHECK_EQ(QsoDestroyIOCompletionPort(once), 0);
  bi_tried++;
  errno = 0;
  int rc = QsoDestroyIOCompletionPort(once);
  if (rc != -1 || errno != EINVAL)
    BI_FAIL("second QsoDestroyIOCompletionPort(%d) returned %d errno %d", once, rc, errno);
  /* the live port survived all of it */
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  CHECK_EQ(QsoPostIOCompletion(good_port, &io), 0);
  Qso_OverlappedIO_t st = qt_wait(good_port, 1000);
  CHECK_EQ(st.operationCompleted, QSOPOSTIOCOMPLETION);
  bi_done("QsoDestroyIOCompletionPort");
}

/* ---- QsoWaitForIOCompletion --------------------------------------------------------------- */

struct tvc {
  const char *name;
  int null_tv;
  long sec, usec;
  errset bad;
};

static const struct tvc tvcs[] = {
    {"NULL timeval (no limit)", 1, 0, 0, 0},
    {"{0, 0} (poll)", 0, 0, 0, 0},
    {"{0, 999999}", 0, 0, 999999, 0},
    {"{-1, 0}", 0, -1, 0, M_EINVAL},
    {"{LONG_MIN, 0}", 0, LONG_MIN, 0, M_EINVAL},
    {"{0, -1}", 0, 0, -1, M_EINVAL},
    {"{-1, -1}", 0, -1, -1, M_EINVAL},
    {"{0, 1000000}", 0, 0, 1000000, M_EINVAL},
    {"{1, LONG_MAX}", 0, 1, LONG_MAX, M_EINVAL},
    {"{0, LONG_MIN}", 0, 0, LONG_MIN, M_EINVAL},
};
#define NTVC ((int)(sizeof tvcs / sizeof tvcs[0]))

TEST(bad_wait) {
  make_fdcs();
  make_portcs();
  bi_tried = bi_failures = 0;
  /* one completion waits on the live port: no failing call may consume it */
  Qso_OverlappedIO_t mark = qt_io(NULL, 0);
  mark.operationId = 4242;
  CHECK_EQ(QsoPostIOCompletion(good_port, &mark), 0);
  char want[128];
  for (int p = 0; p < nportc; p++)
    for (int s = 0; s < 2; s++)
      for (int t = 0; t < NTVC; t++) {
        errset exp = portcs[p].bad | (s ? M_EINVAL : 0) | tvcs[t].bad;
        if (exp == 0)
          continue;
        bi_tried++;
        Qso_OverlappedIO_t st;
        memset(&st, 0x5C, sizeof st);
        Qso_OverlappedIO_t before = st;
        struct timeval tv = qt_tv(tvcs[t].sec, tvcs[t].usec);
        long long t0 = qt_now_ms();
        errno = 0;
        int rc = QsoWaitForIOCompletion(portcs[p].port, s ? NULL : &st,
                                        tvcs[t].null_tv ? NULL : &tv);
        int e = errno;
        if (rc != -1 || !in_set(exp, e)) {
          set_str(exp, want, sizeof want);
          BI_FAIL("QsoWaitForIOCompletion(port %s, status %s, %s) returned %d errno %d (%s), "
                  "expected -1 with %s", portcs[p].name, s ? "NULL" : "valid", tvcs[t].name, rc,
                  e, strerror(e), want);
        }
        if (qt_now_ms() - t0 > 500)
          BI_FAIL("QsoWaitForIOCompletion(port %s, %s) took %lld ms to fail", portcs[p].name,
                  tvcs[t].name, qt_now_ms() - t0);
        if (memcmp(&st, &before, sizeof st) != 0)
          BI_FAIL("QsoWaitForIOCompletion(port %s, %s) failed but wrote *status", portcs[p].name,
                  tvcs[t].name);
      }
  Qso_OverlappedIO_t st = qt_wait(good_port, 1000);
  CHECK_EQ(st.operationId, 4242);
  bi_expect_empty(good_port, "the wait matrix");
  char what[160];
  snprintf(what, sizeof what, "QsoWaitForIOCompletion (%d ports x 2 x %d timevals)", nportc,
           NTVC);
  bi_done(what);
}

/* ---- QsoPostIOCompletion ------------------------------------------------------------------ */

TEST(bad_post) {
  make_fdcs();
  make_portcs();
  bi_tried = bi_failures = 0;
  char want[128];
  for (int p = 0; p < nportc; p++)
    for (int i = 0; i < NIOC; i++) {
      errset exp = portcs[p].bad | iocs[i].post;
      if (exp == 0)
        continue;
      bi_tried++;
      Qso_OverlappedIO_t io = make_io(&iocs[i]), before = io;
      errno = 0;
      int rc = QsoPostIOCompletion(portcs[p].port, iocs[i].null_io ? NULL : &io);
      int e = errno;
      if (rc != -1 || !in_set(exp, e)) {
        set_str(exp, want, sizeof want);
        BI_FAIL("QsoPostIOCompletion(port %s, %s) returned %d errno %d (%s), expected -1 with %s",
                portcs[p].name, iocs[i].name, rc, e, strerror(e), want);
      }
      if (memcmp(&io, &before, sizeof io) != 0)
        BI_FAIL("QsoPostIOCompletion(port %s, %s) failed but changed the record", portcs[p].name,
                iocs[i].name);
    }
  bi_expect_empty(good_port, "the post matrix");
  char what[160];
  snprintf(what, sizeof what, "QsoPostIOCompletion (%d ports x %d records)", nportc, NIOC);
  bi_done(what);
}

/* A timer whose postedDescriptor is not open is posted at once with -1/ECLOSED (spec §3). */
TEST(bad_post_timer_descriptor) {
  make_fdcs();
  make_portcs();
  bi_tried = bi_failures = 0;
  const int bad[] = {-1, INT_MIN, INT_MAX, 900 /* closed */, 1 << 20};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    bi_tried++;
    Qso_OverlappedIO_t io = qt_io(NULL, 0);
    io.operationWaitTime = qt_tv(5, 0);
    io.postedDescriptor = bad[k];
    io.operationId = 1000 + k;
    int rc = QsoPostIOCompletion(good_port, &io);
    if (rc != 0) {
      BI_FAIL("timed QsoPostIOCompletion with postedDescriptor %d returned %d errno %d",
              bad[k], rc, errno);
      continue;
    }
    Qso_OverlappedIO_t st;
    struct timeval tv = qt_tv(0, 500000);
    rc = QsoWaitForIOCompletion(good_port, &st, &tv);
    if (rc != 1 || st.returnValue != -1 || st.errnoValue != ECLOSED ||
        st.operationId != 1000 + k || st.postedDescriptor != bad[k])
      BI_FAIL("timer on postedDescriptor %d: wait %d, rv %d errno %d id %llu (expected -1 "
              "ECLOSED at once)", bad[k], rc, rc == 1 ? st.returnValue : 0,
              rc == 1 ? st.errnoValue : 0, rc == 1 ? st.operationId : 0ULL);
  }
  bi_expect_empty(good_port, "the timers on closed descriptors");
  bi_done("QsoPostIOCompletion timer on a descriptor that is not open");
}

/* ---- ids: QsoGenerateOperationId, QsoIsOperationPending, QsoCancelOperation ---------------- */

TEST(bad_ids) {
  make_fdcs();
  make_portcs();
  bi_tried = bi_failures = 0;
  const unsigned long long ids[] = {0, 1, 77, ULLONG_MAX, 1ULL << 63};
  char want[128];
  for (int f = 0; f < nfdc; f++) {
    const struct fdc *fc = &fdcs[f];
    set_str(fc->ids, want, sizeof want);
    /* QsoGenerateOperationId: 0 with the errno, or a non-zero id for any socket */
    bi_tried++;
    errno = 0;
    unsigned long long g = QsoGenerateOperationId(fc->fd);
    int e = errno;
    if (fc->ids ? (g != 0 || !in_set(fc->ids, e)) : g == 0)
      BI_FAIL("QsoGenerateOperationId(%s) returned %llu errno %d (%s), expected %s%s", fc->name,
              g, e, strerror(e), fc->ids ? "0 with " : "a non-zero id", fc->ids ? want : "");
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
      /* (on the aborted and the connected sockets nothing with these ids is outstanding) */
      bi_tried += 2;
      errno = 0;
      int rc = QsoIsOperationPending(fc->fd, ids[k]);
      e = errno;
      if (fc->ids ? (rc != -1 || !in_set(fc->ids, e)) : rc != 0)
        BI_FAIL("QsoIsOperationPending(%s, %llu) returned %d errno %d (%s), expected %s%s",
                fc->name, ids[k], rc, e, strerror(e), fc->ids ? "-1 with " : "0",
                fc->ids ? want : "");
      errno = 0;
      rc = QsoCancelOperation(fc->fd, ids[k]);
      e = errno;
      if (fc->ids ? (rc != -1 || !in_set(fc->ids, e)) : rc != 0)
        BI_FAIL("QsoCancelOperation(%s, %llu) returned %d errno %d (%s), expected %s%s",
                fc->name, ids[k], rc, e, strerror(e), fc->ids ? "-1 with " : "0",
                fc->ids ? want : "");
    }
  }
  bi_expect_empty(good_port, "the id calls");
  char what[160];
  snprintf(what, sizeof what, "QsoGenerateOperationId, QsoIsOperationPending, "
           "QsoCancelOperation (%d descriptors)", nfdc);
  bi_done(what);
}

/* ---- the close hook: close, dup2, dup3 ---------------------------------------------------- */

TEST(bad_close_dup) {
  make_fdcs();
  bi_tried = bi_failures = 0;
  int good = open("/dev/null", O_RDONLY);
  CHECK(good >= 0);
  const int badfd[] = {-1, INT_MIN, INT_MAX, 900 /* closed */, 1 << 20};
  const int n = (int)(sizeof badfd / sizeof badfd[0]);
  for (int i = 0; i < n; i++) {
    bi_tried++;
    errno = 0;
    int rc = close(badfd[i]);
    if (rc != -1 || errno != EBADF)
      BI_FAIL("close(%d) returned %d errno %d, expected -1 EBADF", badfd[i], rc, errno);
    /* dup2/dup3 with a bad old descriptor (new one good, bad, or equal) */
    int news[] = {good, badfd[i], 901};
    for (int k = 0; k < 3; k++) {
      bi_tried += 2;
      errno = 0;
      rc = dup2(badfd[i], news[k]);
      if (rc != -1 || errno != EBADF)
        BI_FAIL("dup2(%d, %d) returned %d errno %d, expected -1 EBADF", badfd[i], news[k], rc,
                errno);
      errno = 0;
      rc = dup3(badfd[i], news[k], 0);
      int e = errno;
      /* dup3(x, x) is EINVAL whatever x is; otherwise EBADF */
      int want = badfd[i] == news[k] ? EINVAL : EBADF;
      if (rc != -1 || (e != want && !(badfd[i] == news[k] && e == EBADF)))
        BI_FAIL("dup3(%d, %d, 0) returned %d errno %d, expected -1 %s", badfd[i], news[k], rc, e,
                strerror(want));
    }
    /* a good old descriptor onto a bad new number (negative or past the limit) */
    if (badfd[i] != 900) {
      bi_tried += 2;
      errno = 0;
      rc = dup2(good, badfd[i]);
      if (rc != -1 || errno != EBADF)
        BI_FAIL("dup2(%d, %d) returned %d errno %d, expected -1 EBADF", good, badfd[i], rc,
                errno);
      errno = 0;
      rc = dup3(good, badfd[i], 0);
      if (rc != -1 || errno != EBADF)
        BI_FAIL("dup3(%d, %d, 0) returned %d errno %d, expected -1 EBADF", good, badfd[i], rc,
                errno);
    }
  }
  /* dup3 of a descriptor onto itself, and with unknown flags */
  bi_tried += 2;
  errno = 0;
  int rc = dup3(good, good, 0);
  if (rc != -1 || errno != EINVAL)
    BI_FAIL("dup3(%d, %d, 0) returned %d errno %d, expected -1 EINVAL", good, good, rc, errno);
  errno = 0;
  rc = dup3(good, 902, 0x7fff0000);
  if (rc != -1 || errno != EINVAL)
    BI_FAIL("dup3(%d, 902, bad flags) returned %d errno %d, expected -1 EINVAL", good, rc, errno);
  /* dup2 of a good descriptor onto itself is a no-op returning it */
  bi_tried++;
  if (dup2(good, good) != good)
    BI_FAIL("dup2(%d, %d) did not return %d", good, good, good);
  /* the close hook still works after all that: a pending receive gets ECLOSED */
  int sv[2];
  qt_unix_pair(sv);
  int port = QsoCreateIOCompletionPort();
  CHECK(port >= 0);
  char b[8];
  Qso_OverlappedIO_t io = qt_io(b, sizeof b);
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  CHECK_EQ(close(sv[0]), 0);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_EQ(st.errnoValue, ECLOSED);
  bi_done("close, dup2, dup3");
}
