/*
 * tests/c/destroy.c - QsoDestroyIOCompletionPort with outstanding operations and waiting threads
 * (spec §3).
 *
 * Outstanding operations are dropped, never posted, and no byte of their buffers is touched once
 * destroy has returned. Their sockets are aborted: a later start fails (ECONNABORTED for
 * receive, EPIPE for send) and the peer sees the end. Every waiting thread returns -1/EDESTROYED.
 * A new port that gets the same handle inherits nothing.
 */
#include "qt_life.h"

TEST(destroy_outstanding_ops_never_posted) {
  int port = ql_port();
  int r[2], s[2], lport;
  qt_tcp_pair(r);
  qt_unix_pair(s);
  int l = qt_listener(&lport);
  size_t filled = ql_fill_sndbuf(s[0]);
  unsigned char rb[64], rt[64];
  static unsigned char sb[4096];
  ql_poison(rb, sizeof rb);
  ql_poison(rt, sizeof rt);
  Qso_OverlappedIO_t io = qt_io(rb, sizeof rb);
  ql_start_recv_pending(r[0], port, &io);
  io = ql_io_timed(rt, sizeof rt, 1);
  ql_start_recv_pending(r[0], port, &io);
  io = qt_io(sb, sizeof sb);
  ql_start_send_pending(s[0], port, &io);
  io = qt_io(NULL, 0);
  ql_start_accept_pending(l, port, &io);
  io = ql_io_timed(NULL, 0, 1);
  io.postedDescriptor = r[0];
  CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  /* Whatever happens next, nobody gets anything. */
  int fresh = ql_port();
  struct ql_collector *c = ql_collector_start(fresh);
  send(r[1], "data", 4, MSG_NOSIGNAL);
  /* (The listener was aborted too, so the connection may be refused.) */
  int cl = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((unsigned short)lport);
  (void)connect(cl, (struct sockaddr *)&a, sizeof a);
  ql_drain_zeros(s[1], filled);
  ql_sleep_ms(1300); /* past every timer */
  ql_collector_stop(c);
  CHECK_EQ(c->n, 0);
  CHECK_EQ(c->wait_errno, 0);
  if (fresh != port) {
    Qso_OverlappedIO_t st;
    struct timeval tv = qt_tv(0, 0);
    CHECK_ERR(QsoWaitForIOCompletion(port, &st, &tv), EINVAL);
  }
  CHECK_POISONED(rb, sizeof rb);
  CHECK_POISONED(rt, sizeof rt);
  /* The send never went out either: after the filler, the peer sees only the end. */
  unsigned char peek[16];
  CHECK_EQ(ql_peek(s[1], peek, sizeof peek), 0);
}

/* Sends pattern bytes on fd every few ms until stopped or the socket fails. */
struct flow {
  int fd;
  atomic_int stop;
  size_t sent;
  pthread_t thread;
};

static void *flow_main(void *arg) {
  struct flow *f = (struct flow *)arg;
  while (!atomic_load(&f->stop)) {
    unsigned char data[200];
    ql_pattern(data, sizeof data, 3, f->sent);
    ssize_t n = send(f->fd, data, sizeof data, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0)
      f->sent += (size_t)n;
    else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      break;
    ql_sleep_ms(2);
  }
  return NULL;
}

static void flow_start(struct flow *f, int fd) {
  f->fd = fd;
  atomic_init(&f->stop, 0);
  f->sent = 0;
  f->thread = ql_thread(flow_main, f);
}

static void flow_stop(struct flow *f) {
  atomic_store(&f->stop, 1);
  pthread_join(f->thread, NULL);
}

/*
 * The destroyed port's fill receives sit at the head of the socket's receive queue, ahead of a
 * receive of another, live port whose thread keeps performing I/O on the socket while data flows.
 * The buffers may fill until destroy returns; from then on they never change.
 */
TEST(destroy_buffers_untouched_after_return) {
  int sv[2];
  qt_tcp_pair(sv);
  int p1 = ql_port(), p2 = ql_port();
  enum { BIG = 1 << 20 };
  unsigned char *b1 = (unsigned char *)malloc(BIG), *b2 = (unsigned char *)malloc(BIG);
  unsigned char *snap1 = (unsigned char *)malloc(BIG), *snap2 = (unsigned char *)malloc(BIG);
  CHECK(b1 && b2 && snap1 && snap2);
  ql_poison(b1, BIG);
  ql_poison(b2, BIG);
  Qso_OverlappedIO_t io = qt_io(b1, BIG);
  io.fillBuffer = 1;
  ql_start_recv_pending(sv[0], p1, &io);
  io = qt_io(b2, BIG);
  io.fillBuffer = 1;
  ql_start_recv_pending(sv[0], p1, &io);
  unsigned char b3[64];
  io = qt_io(b3, sizeof b3);
  io.descriptorHandle = ql_handle(3);
  ql_start_recv_pending(sv[0], p2, &io);
  struct ql_collector *c1 = ql_collector_start(p1);
  struct ql_collector *c2 = ql_collector_start(p2);
  struct flow f;
  flow_start(&f, sv[1]);
  ql_sleep_ms(100);
  CHECK_EQ(QsoDestroyIOCompletionPort(p1), 0);
  memcpy(snap1, b1, BIG);
  memcpy(snap2, b2, BIG);
  CHECK(ql_unpoisoned_at(b1, BIG) == 0); /* data did flow into the first one */
  ql_sleep_ms(300);
  flow_stop(&f);
  ql_sleep_ms(50);
  CHECK(memcmp(snap1, b1, BIG) == 0);
  CHECK(memcmp(snap2, b2, BIG) == 0);
  ql_collector_stop(c1);
  ql_collector_stop(c2);
  CHECK_EQ(c1->n, 0);
  /* In a wait when destroyed: EDESTROYED; between two waits: the next one finds no port. */
  CHECK(c1->wait_errno == EDESTROYED || c1->wait_errno == EINVAL);
  /* The live port's receive ends once (the socket was aborted under it), no more. */
  CHECK(c2->n <= 1);
  for (int k = 0; k < c2->n; k++)
    CHECK(ql_handle_of(&c2->got[k]) == 3);
  free(b1);
  free(b2);
  free(snap1);
  free(snap2);
}

static void check_aborted(int sd, int peer) {
  int q = ql_port();
  unsigned char buf[16];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_ERR(QsoStartRecv(sd, q, &io), ECONNABORTED);
  io = qt_io(buf, sizeof buf);
  io.postFlag = 1;
  CHECK_ERR(QsoStartRecv(sd, q, &io), ECONNABORTED);
  io = qt_io(buf, sizeof buf);
  CHECK_ERR(QsoStartSend(sd, q, &io), EPIPE);
  qt_expect_none(q, 100);
  /* The peer sees the end. */
  char c;
  CHECK(ql_readable(peer, 1000));
  CHECK_EQ(recv(peer, &c, 1, 0), 0);
}

TEST(destroy_aborts_socket_tcp) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[16];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  ql_start_recv_pending(sv[0], port, &io);
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  check_aborted(sv[0], sv[1]);
}

TEST(destroy_aborts_socket_with_send_unix) {
  int sv[2];
  qt_unix_pair(sv);
  int port = ql_port();
  size_t filled = ql_fill_sndbuf(sv[0]);
  static unsigned char buf[4096];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  ql_start_send_pending(sv[0], port, &io);
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  ql_drain_zeros(sv[1], filled);
  check_aborted(sv[0], sv[1]);
}

TEST(destroy_idle_socket_not_aborted) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[16];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  ql_start_recv_pending(sv[0], port, &io);
  qt_write_all(sv[1], "one", 3);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_DONE(st, QSOSTARTRECV, 3, 0);
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  /* Nothing was outstanding on it: it works on another port. */
  int q = ql_port();
  io = qt_io(buf, sizeof buf);
  ql_start_recv_pending(sv[0], q, &io);
  qt_write_all(sv[1], "two", 3);
  st = qt_wait(q, 1000);
  CHECK_DONE(st, QSOSTARTRECV, 3, 0);
  io = qt_io("three", 5);
  io.postFlag = 1;
  CHECK_EQ(QsoStartSend(sv[0], q, &io), 1);
  st = qt_wait(q, 1000);
  CHECK_DONE(st, QSOSTARTSEND, 5, 0);
  char got[5];
  qt_read_all(sv[1], got, 5);
  CHECK(memcmp(got, "three", 5) == 0);
}

static void destroy_wakes(int with_work) {
  int port = ql_port();
  int sv[2];
  qt_tcp_pair(sv);
  unsigned char buf[16];
  if (with_work) {
    /* Engine work, so one of the waiters leads the port inside the kernel wait: a timer only
     * (nothing on a socket wakes the leader), or a timer and a receive. */
    Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
    if (with_work == 2)
      ql_start_recv_pending(sv[0], port, &io);
    io = ql_io_timed(NULL, 0, 5);
    io.postedDescriptor = sv[0];
    CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
  }
  enum { N = 5 };
  struct ql_waiter w[N];
  for (int i = 0; i < N; i++)
    ql_waiter_start(&w[i], port, i == 0 ? 5000 : -1);
  ql_sleep_ms(100);
  for (int i = 0; i < N; i++)
    CHECK_EQ(w[i].done_ms, 0);
  long long t0 = qt_now_ms();
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  for (int i = 0; i < N; i++) {
    ql_waiter_join(&w[i]);
    CHECK_EQ(w[i].rc, -1);
    CHECK_EQ(w[i].err, EDESTROYED);
    CHECK(w[i].done_ms - t0 < 1000);
  }
  /* Later calls see an unknown port. */
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(0, 0);
  CHECK_ERR(QsoWaitForIOCompletion(port, &st, &tv), EINVAL);
  CHECK_ERR(QsoDestroyIOCompletionPort(port), EINVAL);
}

TEST(destroy_wakes_all_parked_waiters) { destroy_wakes(0); }

TEST(destroy_wakes_leader_waiting_for_timer) { destroy_wakes(1); }

TEST(destroy_wakes_all_waiters_with_leader) { destroy_wakes(2); }

/*
 * A thread keeps four receives outstanding and re-arms each as it completes while data flows;
 * the port is destroyed under it. The thread's wait (or re-arm) fails; what it received is the
 * stream, in order; the buffers never change after destroy returned.
 */
struct rearm {
  int port, sd;
  unsigned char bufs[4][512];
  size_t received;
  int waits_failed_with;
  int starts_failed_with;
  int completions;
  pthread_t thread;
};

static void *rearm_main(void *arg) {
  struct rearm *r = (struct rearm *)arg;
  for (;;) {
    Qso_OverlappedIO_t st;
    errno = 0;
    int rc = QsoWaitForIOCompletion(r->port, &st, NULL);
    if (rc != 1) {
      r->waits_failed_with = errno;
      return NULL;
    }
    r->completions++;
    int k = (int)ql_handle_of(&st);
    if (k < 0 || k > 3 || st.errnoValue != 0 || st.returnValue <= 0)
      QT_FAIL("unexpected completion: handle %d rv %d errno %d", k, st.returnValue,
              st.errnoValue);
    CHECK_PATTERN(r->bufs[k], (size_t)st.returnValue, 3, r->received);
    r->received += (size_t)st.returnValue;
    Qso_OverlappedIO_t io = qt_io(r->bufs[k], sizeof r->bufs[k]);
    io.descriptorHandle = ql_handle((uintptr_t)k);
    io.postFlag = 1;
    errno = 0;
    if (QsoStartRecv(r->sd, r->port, &io) != 1) {
      r->starts_failed_with = errno;
      return NULL;
    }
  }
}

TEST(destroy_while_waiting_with_data_flowing) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  struct rearm *r = (struct rearm *)calloc(1, sizeof *r);
  CHECK(r != NULL);
  r->port = port;
  r->sd = sv[0];
  for (int k = 0; k < 4; k++) {
    Qso_OverlappedIO_t io = qt_io(r->bufs[k], sizeof r->bufs[k]);
    io.descriptorHandle = ql_handle((uintptr_t)k);
    io.postFlag = 1;
    CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  }
  r->thread = ql_thread(rearm_main, r);
  struct flow f;
  flow_start(&f, sv[1]);
  ql_sleep_ms(200);
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  pthread_join(r->thread, NULL);
  unsigned char snap[4][512];
  memcpy(snap, r->bufs, sizeof snap);
  ql_sleep_ms(200);
  flow_stop(&f);
  CHECK(memcmp(snap, r->bufs, sizeof snap) == 0);
  CHECK(r->completions > 0);
  CHECK(r->waits_failed_with == EDESTROYED || r->starts_failed_with == EINVAL);
  /* Receives were outstanding on the socket all along: it was aborted. */
  int q = ql_port();
  unsigned char b[8];
  Qso_OverlappedIO_t io = qt_io(b, sizeof b);
  CHECK_ERR(QsoStartRecv(sv[0], q, &io), ECONNABORTED);
  fprintf(stderr, "  (%d completions, %zu bytes; wait errno %d, start errno %d)\n",
          r->completions, r->received, r->waits_failed_with, r->starts_failed_with);
  free(r);
}

TEST(destroy_handle_reuse_inherits_nothing) {
  int port = ql_port();
  int sv[2];
  qt_tcp_pair(sv);
  unsigned char b1[32], b2[32];
  ql_poison(b1, sizeof b1);
  ql_poison(b2, sizeof b2);
  for (int i = 0; i < 3; i++) {
    Qso_OverlappedIO_t p = qt_io(NULL, 0);
    p.operationId = 900 + (unsigned)i;
    CHECK_EQ(QsoPostIOCompletion(port, &p), 0);
  }
  Qso_OverlappedIO_t io = qt_io(b1, sizeof b1);
  ql_start_recv_pending(sv[0], port, &io);
  io = ql_io_timed(b2, sizeof b2, 1);
  ql_start_recv_pending(sv[0], port, &io);
  io = ql_io_timed(NULL, 0, 1);
  io.postedDescriptor = sv[1];
  CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  /* Find the same handle again (the library hands out free handles). */
  int again = -1;
  int made[QSO_MAX_IOCOMPLETION_PORTS];
  int nmade = 0;
  while (nmade < QSO_MAX_IOCOMPLETION_PORTS) {
    int p = QsoCreateIOCompletionPort();
    if (p < 0)
      break;
    if (p == port) {
      again = p;
      break;
    }
    made[nmade++] = p;
  }
  for (int i = 0; i < nmade; i++)
    CHECK_EQ(QsoDestroyIOCompletionPort(made[i]), 0);
  if (again < 0)
    QT_FAIL("handle %d was never handed out again", port);
  send(sv[1], "late", 4, MSG_NOSIGNAL);
  qt_expect_none(again, 1300);
  CHECK_POISONED(b1, sizeof b1);
  CHECK_POISONED(b2, sizeof b2);
  /* The new port works, with only its own completions. */
  Qso_OverlappedIO_t p = qt_io(NULL, 0);
  p.operationId = 4242;
  CHECK_EQ(QsoPostIOCompletion(again, &p), 0);
  Qso_OverlappedIO_t st = qt_wait(again, 500);
  CHECK_EQ(st.operationId, 4242);
  qt_expect_none(again, 50);
}

TEST(destroy_then_close_posts_nothing) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[16];
  ql_poison(buf, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  ql_start_recv_pending(sv[0], port, &io);
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  int fresh = ql_port();
  CHECK_EQ(close(sv[0]), 0);
  qt_expect_none(fresh, 200);
  CHECK_POISONED(buf, sizeof buf);
  /* Start calls on the destroyed handle are refused when it is not reused. */
  if (fresh != port) {
    io = qt_io(buf, sizeof buf);
    CHECK_ERR(QsoStartRecv(sv[1], port, &io), EINVAL);
  }
}

/* An aborted socket is closed; a new socket at the same number is not aborted. */
TEST(destroy_aborted_number_reused_inherits_nothing) {
  int sv[2];
  qt_unix_pair(sv);
  int port = ql_port();
  unsigned char buf[16];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  ql_start_recv_pending(sv[0], port, &io);
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  int num = sv[0];
  CHECK_EQ(close(num), 0);
  int nv[2];
  qt_unix_pair(nv);
  int mine = nv[0], other = nv[1];
  if (nv[1] == num) {
    mine = nv[1];
    other = nv[0];
  } else if (nv[0] != num) {
    CHECK_EQ(dup2(nv[0], num), num);
    CHECK_EQ(close(nv[0]), 0);
    mine = num;
  }
  int q = ql_port();
  io = qt_io(buf, sizeof buf);
  ql_start_recv_pending(mine, q, &io);
  qt_write_all(other, "fresh", 5);
  Qso_OverlappedIO_t st = qt_wait(q, 1000);
  CHECK_DONE(st, QSOSTARTRECV, 5, 0);
  io = qt_io("back", 4);
  io.postFlag = 1;
  CHECK_EQ(QsoStartSend(mine, q, &io), 1);
  st = qt_wait(q, 1000);
  CHECK_DONE(st, QSOSTARTSEND, 4, 0);
  char got[4];
  qt_read_all(other, got, 4);
  CHECK(memcmp(got, "back", 4) == 0);
}
