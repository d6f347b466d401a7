/*
 * tests/c/fork.c - fork (spec §6).
 *
 * A child process starts with no ports and no operations, and the library works in it. The
 * parent's ports and pending operations are not disturbed by the child, before or after it
 * exits.
 *
 * Children report failure through their exit code (CHECK exits with 1); each sets its own alarm
 * and the parent waits a bounded time, killing the child by its pid if it hangs.
 */
#include "qt_life.h"

/* Runs fn in a child; fails the test unless the child exits 0 within ms. */
static void in_child(void (*fn)(void *), void *arg, long ms) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    alarm((unsigned)(ms / 1000 + 1));
    fn(arg);
    _exit(0);
  }
  int code = ql_wait_child(pid, ms + 1000);
  if (code != 0)
    QT_FAIL("child failed (exit code %d)", code);
}

/* A full receive round trip on a fresh port in the current process. */
static void round_trip(void) {
  int port = QsoCreateIOCompletionPort();
  CHECK(port >= 0);
  int sv[2];
  qt_tcp_pair(sv);
  unsigned char buf[32];
  ql_poison(buf, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.operationId = QsoGenerateOperationId(sv[0]);
  CHECK(io.operationId != 0);
  ql_start_recv_pending(sv[0], port, &io);
  CHECK_EQ(QsoIsOperationPending(sv[0], io.operationId), 1);
  unsigned char data[12];
  ql_pattern(data, sizeof data, 7, 0);
  qt_write_all(sv[1], data, sizeof data);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_DONE(st, QSOSTARTRECV, 12, 0);
  CHECK_PATTERN(buf, 12, 7, 0);
  /* And a send, a timer and a close. */
  Qso_OverlappedIO_t s = qt_io(data, sizeof data);
  s.postFlag = 1;
  CHECK_EQ(QsoStartSend(sv[1], port, &s), 1);
  st = qt_wait(port, 2000);
  CHECK_DONE(st, QSOSTARTSEND, 12, 0);
  unsigned char got[12];
  qt_read_all(sv[0], got, sizeof got);
  CHECK_PATTERN(got, sizeof got, 7, 0);
  Qso_OverlappedIO_t t = ql_io_timed(buf, sizeof buf, 1);
  ql_start_recv_pending(sv[0], port, &t);
  Qso_OverlappedIO_t c = qt_io(buf, sizeof buf);
  ql_start_recv_pending(sv[1], port, &c);
  CHECK_EQ(close(sv[1]), 0);
  st = qt_wait(port, 500);
  CHECK_DONE(st, QSOSTARTRECV, -1, ECLOSED);
  st = qt_wait(port, 3000);
  /* sv[0]'s peer is gone: its receive ends with EOF (0) rather than the timer. */
  CHECK_EQ(st.operationCompleted, QSOSTARTRECV);
  CHECK(st.returnValue == 0 || (st.returnValue == -1 && st.errnoValue == EAGAIN));
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
}

struct parent_state {
  int ports[3];
  int sv[2];
  unsigned long long id;
};

static void child_sees_no_ports(void *arg) {
  struct parent_state *p = (struct parent_state *)arg;
  for (int i = 0; i < 3; i++) {
    Qso_OverlappedIO_t st;
    struct timeval tv = qt_tv(0, 0);
    CHECK_ERR(QsoWaitForIOCompletion(p->ports[i], &st, &tv), EINVAL);
    CHECK_ERR(QsoWaitForIOCompletion(p->ports[i], &st, NULL), EINVAL);
    Qso_OverlappedIO_t io = qt_io(NULL, 0);
    CHECK_ERR(QsoPostIOCompletion(p->ports[i], &io), EINVAL);
    unsigned char buf[8];
    io = qt_io(buf, sizeof buf);
    CHECK_ERR(QsoStartRecv(p->sv[0], p->ports[i], &io), EINVAL);
  }
  /* And no operations: the parent's pending receive is not the child's. */
  CHECK_EQ(QsoIsOperationPending(p->sv[0], p->id), 0);
  CHECK_EQ(QsoCancelOperation(p->sv[0], p->id), 0);
}

TEST(fork_child_has_no_ports_or_ops) {
  struct parent_state p;
  for (int i = 0; i < 3; i++)
    p.ports[i] = ql_port();
  qt_tcp_pair(p.sv);
  unsigned char buf[16];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  p.id = ql_id(p.sv[0]);
  io.operationId = p.id;
  ql_start_recv_pending(p.sv[0], p.ports[1], &io);
  Qso_OverlappedIO_t q = qt_io(NULL, 0);
  CHECK_EQ(QsoPostIOCompletion(p.ports[2], &q), 0);
  in_child(child_sees_no_ports, &p, 3000);
  /* The parent still has all of it. */
  CHECK_EQ(QsoIsOperationPending(p.sv[0], p.id), 1);
  Qso_OverlappedIO_t st = qt_wait(p.ports[2], 500);
  CHECK_DONE(st, QSOPOSTIOCOMPLETION, 0, 0);
  qt_write_all(p.sv[1], "par", 3);
  st = qt_wait(p.ports[1], 2000);
  CHECK_EQ(st.operationId, p.id);
  CHECK_DONE(st, QSOSTARTRECV, 3, 0);
}

static void child_round_trip(void *arg) {
  (void)arg;
  round_trip();
}

TEST(fork_child_creates_port_and_round_trips) {
  int port = ql_port();
  (void)port;
  in_child(child_round_trip, NULL, 6000);
  /* The parent can do the same afterwards. */
  round_trip();
}

static void child_all_ports(void *arg) {
  (void)arg;
  int n = 0;
  for (int i = 0; i < QSO_MAX_IOCOMPLETION_PORTS; i++) {
    int p = QsoCreateIOCompletionPort();
    if (p < 0)
      QT_FAIL("child: port %d of %d failed (errno %d)", i + 1, QSO_MAX_IOCOMPLETION_PORTS,
              errno);
    n++;
  }
  CHECK_EQ(n, QSO_MAX_IOCOMPLETION_PORTS);
  CHECK_ERR(QsoCreateIOCompletionPort(), ENOBUFS);
}

TEST(fork_child_starts_with_full_port_budget) {
  /* The parent uses 200 ports; the child still gets all 256 of its own. */
  for (int i = 0; i < 200; i++)
    ql_port();
  in_child(child_all_ports, NULL, 3000);
  /* The parent's budget is unchanged by the child. */
  for (int i = 0; i < QSO_MAX_IOCOMPLETION_PORTS - 200; i++)
    ql_port();
  CHECK_ERR(QsoCreateIOCompletionPort(), ENOBUFS);
}

/* The child closes its copies of the parent's sockets, and uses the library on its own. */
static void child_closes_and_works(void *arg) {
  struct parent_state *p = (struct parent_state *)arg;
  CHECK_EQ(close(p->sv[0]), 0);
  CHECK_EQ(close(p->sv[1]), 0);
  round_trip();
}

TEST(fork_parent_ops_survive_child) {
  struct parent_state p;
  p.ports[0] = ql_port();
  qt_tcp_pair(p.sv);
  unsigned char buf[16];
  ql_poison(buf, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  p.id = ql_id(p.sv[0]);
  io.operationId = p.id;
  ql_start_recv_pending(p.sv[0], p.ports[0], &io);
  Qso_OverlappedIO_t t = ql_io_timed(NULL, 0, 1);
  t.postedDescriptor = p.sv[1];
  t.operationId = 777;
  long long t0 = qt_now_ms();
  CHECK_EQ(QsoPostIOCompletion(p.ports[0], &t), 0);
  in_child(child_closes_and_works, &p, 6000);
  /* The child's close of its copies posted nothing here. */
  CHECK_EQ(QsoIsOperationPending(p.sv[0], p.id), 1);
  CHECK_EQ(QsoIsOperationPending(p.sv[1], 777), 1);
  CHECK_POISONED(buf, sizeof buf);
  /* The timed post fires on time (or has already). */
  Qso_OverlappedIO_t st = qt_wait(p.ports[0], 3000);
  CHECK_EQ(st.operationId, 777);
  CHECK_DONE(st, QSOPOSTIOCOMPLETION, -1, EAGAIN);
  CHECK(qt_now_ms() - t0 >= 900);
  /* The receive still completes, and the sockets still connect the two ends. */
  qt_write_all(p.sv[1], "after", 5);
  st = qt_wait(p.ports[0], 2000);
  CHECK_EQ(st.operationId, p.id);
  CHECK_DONE(st, QSOSTARTRECV, 5, 0);
  CHECK(memcmp(buf, "after", 5) == 0);
  qt_expect_none(p.ports[0], 100);
}

/* A thread of the parent is inside QsoWaitForIOCompletion (leading the port) when fork runs. */
TEST(fork_while_parent_thread_waits) {
  int port = ql_port();
  int sv[2];
  qt_tcp_pair(sv);
  unsigned char buf[16];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.operationId = 31;
  ql_start_recv_pending(sv[0], port, &io);
  struct ql_waiter w;
  ql_waiter_start(&w, port, 5000);
  struct ql_waiter w2;
  ql_waiter_start(&w2, port, 5000);
  ql_sleep_ms(50);
  for (int k = 0; k < 3; k++)
    in_child(child_round_trip, NULL, 6000);
  CHECK_EQ(w.done_ms, 0);
  CHECK_EQ(w2.done_ms, 0);
  qt_write_all(sv[1], "w", 1);
  Qso_OverlappedIO_t p = qt_io(NULL, 0);
  p.operationId = 32;
  CHECK_EQ(QsoPostIOCompletion(port, &p), 0);
  ql_waiter_join(&w);
  ql_waiter_join(&w2);
  CHECK_EQ(w.rc, 1);
  CHECK_EQ(w2.rc, 1);
  CHECK(w.st.operationId + w2.st.operationId == 63);
  Qso_OverlappedIO_t *r = w.st.operationId == 31 ? &w.st : &w2.st;
  CHECK_DONE(*r, QSOSTARTRECV, 1, 0);
}
