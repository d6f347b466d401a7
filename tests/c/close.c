/*
 * tests/c/close.c - close(), dup2() and dup3() of a socket with outstanding operations (spec §5).
 *
 * Each outstanding operation is posted with -1/ECLOSED; no byte of its buffer is touched once
 * close() has returned; a later socket that reuses the descriptor number inherits nothing. The
 * same holds for dup2()/dup3() over the descriptor. Close racing completion: exactly one ending.
 */
#include "qt_life.h"

TEST(close_pending_recv_eclosed) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[64];
  ql_poison(buf, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.descriptorHandle = ql_handle(0xABC);
  io.operationId = ql_id(sv[0]);
  unsigned long long id = io.operationId;
  ql_start_recv_pending(sv[0], port, &io);
  int sd = sv[0];
  CHECK_EQ(close(sd), 0);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_DONE(st, QSOSTARTRECV, -1, ECLOSED);
  CHECK(st.descriptorHandle == ql_handle(0xABC));
  CHECK(st.buffer == buf);
  CHECK_EQ(st.bufferLength, sizeof buf);
  CHECK_EQ(st.operationId, id);
  CHECK_POISONED(buf, sizeof buf);
  CHECK_ERR(QsoIsOperationPending(sd, id), EBADF);
  qt_expect_none(port, 100);
  /* The socket is really closed: the peer sees the end. */
  char c;
  CHECK(ql_readable(sv[1], 1000));
  CHECK_EQ(recv(sv[1], &c, 1, 0), 0);
}

TEST(close_pending_send_eclosed) {
  int sv[2];
  qt_unix_pair(sv);
  int port = ql_port();
  size_t filled = ql_fill_sndbuf(sv[0]);
  static unsigned char buf[8192];
  ql_pattern(buf, sizeof buf, 1, 0);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.operationId = 4;
  ql_start_send_pending(sv[0], port, &io);
  CHECK_EQ(close(sv[0]), 0);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_DONE(st, QSOSTARTSEND, -1, ECLOSED);
  CHECK_EQ(st.operationId, 4);
  CHECK(st.buffer == buf);
  /* The peer gets the filler, then the end: none of the closed send's bytes. */
  ql_drain_zeros(sv[1], filled);
  char c;
  CHECK_EQ(recv(sv[1], &c, 1, 0), 0);
  qt_expect_none(port, 100);
}

TEST(close_pending_accept_eclosed) {
  int lport;
  int l = qt_listener(&lport);
  int port = ql_port();
  Qso_OverlappedIO_t a = qt_io(NULL, 0), b = qt_io(NULL, 0);
  a.operationId = 1;
  b.operationId = 2;
  ql_start_accept_pending(l, port, &a);
  ql_start_accept_pending(l, port, &b);
  CHECK_EQ(close(l), 0);
  int seen1 = 0, seen2 = 0;
  for (int i = 0; i < 2; i++) {
    Qso_OverlappedIO_t st = qt_wait(port, 1000);
    CHECK_DONE(st, QSOSTARTACCEPT, -1, ECLOSED);
    CHECK(st.buffer == NULL);
    CHECK_EQ(st.bufferLength, 0);
    if (st.operationId == 1)
      seen1++;
    else if (st.operationId == 2)
      seen2++;
    else
      QT_FAIL("unexpected id %llu", st.operationId);
  }
  CHECK_EQ(seen1, 1);
  CHECK_EQ(seen2, 1);
  qt_expect_none(port, 100);
}

TEST(close_many_ops_two_ports_each_once) {
  int sv[2];
  qt_unix_pair(sv);
  int pa = ql_port(), pb = ql_port();
  ql_fill_sndbuf(sv[0]);
  unsigned char rb[4][32];
  static unsigned char sb[4096];
  Qso_OverlappedIO_t io;
  for (int i = 0; i < 4; i++) {
    ql_poison(rb[i], sizeof rb[i]);
    io = qt_io(rb[i], sizeof rb[i]);
    io.descriptorHandle = ql_handle((uintptr_t)i + 1);
    ql_start_recv_pending(sv[0], i == 3 ? pb : pa, &io);
  }
  io = qt_io(sb, sizeof sb);
  io.descriptorHandle = ql_handle(5);
  ql_start_send_pending(sv[0], pb, &io);
  Qso_OverlappedIO_t tp = ql_io_timed(NULL, 0, 1);
  tp.descriptorHandle = ql_handle(6);
  tp.postedDescriptor = sv[0];
  CHECK_EQ(QsoPostIOCompletion(pa, &tp), 0);
  CHECK_EQ(close(sv[0]), 0);
  int seen[7] = {0};
  for (int k = 0; k < 4; k++) {
    Qso_OverlappedIO_t st = qt_wait(pa, 1000);
    long long h = (long long)ql_handle_of(&st);
    CHECK(h == 1 || h == 2 || h == 3 || h == 6);
    CHECK_EQ(st.errnoValue, ECLOSED);
    CHECK_EQ(st.returnValue, -1);
    CHECK_EQ(st.operationCompleted, h == 6 ? QSOPOSTIOCOMPLETION : QSOSTARTRECV);
    seen[h]++;
  }
  for (int k = 0; k < 2; k++) {
    Qso_OverlappedIO_t st = qt_wait(pb, 1000);
    long long h = (long long)ql_handle_of(&st);
    CHECK(h == 4 || h == 5);
    CHECK_DONE(st, h == 4 ? QSOSTARTRECV : QSOSTARTSEND, -1, ECLOSED);
    seen[h]++;
  }
  for (int h = 1; h <= 6; h++)
    CHECK_EQ(seen[h], 1);
  qt_expect_none(pa, 1200); /* past the timed post's second */
  qt_expect_none(pb, 0);
  for (int i = 0; i < 4; i++)
    CHECK_POISONED(rb[i], sizeof rb[i]);
}

/*
 * A second descriptor keeps the socket alive after close(sd): data sent afterwards reaches the
 * socket, a thread is waiting on the port, and still nothing is written into the buffers.
 */
TEST(close_buffers_untouched_after_close_returns) {
  int sv[2];
  qt_tcp_pair(sv);
  int keep = dup(sv[0]);
  CHECK(keep >= 0);
  int port = ql_port();
  struct ql_collector *c = ql_collector_start(port);
  static unsigned char bufs[3][4096];
  for (int i = 0; i < 3; i++) {
    ql_poison(bufs[i], sizeof bufs[i]);
    Qso_OverlappedIO_t io = qt_io(bufs[i], sizeof bufs[i]);
    io.fillBuffer = (unsigned)(i == 2);
    io.descriptorHandle = ql_handle((uintptr_t)i + 1);
    ql_start_recv_pending(sv[0], port, &io);
  }
  ql_sleep_ms(50);
  CHECK_EQ(close(sv[0]), 0);
  static unsigned char data[10000];
  ql_pattern(data, sizeof data, 2, 0);
  qt_write_all(sv[1], data, sizeof data);
  CHECK_EQ(ql_collector_await(c, 3, 1000), 3);
  ql_sleep_ms(200);
  ql_collector_stop(c);
  CHECK_EQ(c->n, 3);
  for (int k = 0; k < 3; k++)
    CHECK_DONE(c->got[k], QSOSTARTRECV, -1, ECLOSED);
  for (int i = 0; i < 3; i++)
    CHECK_POISONED(bufs[i], sizeof bufs[i]);
  /* Every byte is still in the socket, for the other descriptor. */
  static unsigned char got[10000];
  qt_read_all(keep, got, sizeof got);
  CHECK_PATTERN(got, sizeof got, 2, 0);
}

TEST(close_wakes_waiting_thread) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[16];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.operationId = 3;
  ql_start_recv_pending(sv[0], port, &io);
  struct ql_waiter w;
  ql_waiter_start(&w, port, -1);
  ql_sleep_ms(100);
  long long t0 = qt_now_ms();
  CHECK_EQ(close(sv[0]), 0);
  ql_waiter_join(&w);
  CHECK(w.done_ms - t0 < 500);
  CHECK_EQ(w.rc, 1);
  CHECK_DONE(w.st, QSOSTARTRECV, -1, ECLOSED);
}

/* Puts socket `fd` at descriptor number `num` (which must be free); returns num. */
static int move_to(int fd, int num) {
  if (fd == num)
    return num;
  CHECK_EQ(dup2(fd, num), num);
  CHECK_EQ(close(fd), 0);
  return num;
}

TEST(close_fd_reuse_inherits_nothing) {
  int a[2];
  qt_unix_pair(a);
  int port = ql_port();
  int num = a[0];
  unsigned char ba[32], bt[32];
  ql_poison(ba, sizeof ba);
  ql_poison(bt, sizeof bt);
  Qso_OverlappedIO_t ia = qt_io(ba, sizeof ba);
  ia.operationId = 50;
  Qso_OverlappedIO_t it = ql_io_timed(bt, sizeof bt, 1);
  it.operationId = 51;
  Qso_OverlappedIO_t ip = ql_io_timed(NULL, 0, 1);
  ip.operationId = 52;
  ip.postedDescriptor = num;
  ql_start_recv_pending(num, port, &ia);
  ql_start_recv_pending(num, port, &it);
  CHECK_EQ(QsoPostIOCompletion(port, &ip), 0);
  CHECK_EQ(close(num), 0);
  for (int i = 0; i < 3; i++) {
    Qso_OverlappedIO_t st = qt_wait(port, 1000);
    CHECK_EQ(st.errnoValue, ECLOSED);
  }
  /* A new socket at the same number. */
  int b[2];
  qt_unix_pair(b);
  int other = b[0] == num ? b[1] : b[0];
  int mine = b[0] == num ? b[0] : move_to(b[0], num);
  CHECK_EQ(mine, num);
  CHECK_EQ(QsoIsOperationPending(num, 50), 0);
  CHECK_EQ(QsoIsOperationPending(num, 51), 0);
  CHECK_EQ(QsoIsOperationPending(num, 52), 0);
  CHECK_EQ(QsoCancelOperation(num, 50), 0);
  /* Data for the new socket is not taken by the old operations, and their timers stay dead. */
  qt_write_all(other, "new", 3);
  qt_expect_none(port, 1300);
  CHECK_POISONED(ba, sizeof ba);
  CHECK_POISONED(bt, sizeof bt);
  /* A new receive on the same port (whose engine watched the old socket) works. */
  unsigned char nb[16];
  Qso_OverlappedIO_t in = qt_io(nb, sizeof nb);
  in.postFlag = 1;
  in.operationId = 60;
  CHECK_EQ(QsoStartRecv(num, port, &in), 1);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_EQ(st.operationId, 60);
  CHECK_DONE(st, QSOSTARTRECV, 3, 0);
  CHECK(memcmp(nb, "new", 3) == 0);
  in = qt_io(nb, sizeof nb);
  in.operationId = 61;
  ql_start_recv_pending(num, port, &in);
  qt_write_all(other, "again", 5);
  st = qt_wait(port, 1000);
  CHECK_EQ(st.operationId, 61);
  CHECK_DONE(st, QSOSTARTRECV, 5, 0);
  CHECK(memcmp(nb, "again", 5) == 0);
  /* And the old socket's peer saw the old socket close. */
  char c;
  CHECK(ql_readable(a[1], 1000));
  CHECK_EQ(recv(a[1], &c, 1, 0), 0);
}

/* dup2 / dup3 of another socket over `target`, which has a pending receive and a timed post. */
static void dup_over(int use_dup3) {
  int a[2], b[2];
  qt_unix_pair(a);
  qt_unix_pair(b);
  int port = ql_port();
  unsigned char ba[32];
  ql_poison(ba, sizeof ba);
  Qso_OverlappedIO_t ia = qt_io(ba, sizeof ba);
  ia.operationId = 1;
  ql_start_recv_pending(a[0], port, &ia);
  Qso_OverlappedIO_t ip = ql_io_timed(NULL, 0, 1);
  ip.operationId = 2;
  ip.postedDescriptor = a[0];
  CHECK_EQ(QsoPostIOCompletion(port, &ip), 0);
  if (use_dup3) {
    CHECK_EQ(dup3(b[0], a[0], O_CLOEXEC), a[0]);
    CHECK(fcntl(a[0], F_GETFD) & FD_CLOEXEC);
  } else {
    CHECK_EQ(dup2(b[0], a[0]), a[0]);
  }
  int seen1 = 0, seen2 = 0;
  for (int i = 0; i < 2; i++) {
    Qso_OverlappedIO_t st = qt_wait(port, 1000);
    if (st.operationId == 1) {
      CHECK_DONE(st, QSOSTARTRECV, -1, ECLOSED);
      seen1++;
    } else {
      CHECK_EQ(st.operationId, 2);
      CHECK_DONE(st, QSOPOSTIOCOMPLETION, -1, ECLOSED);
      seen2++;
    }
  }
  CHECK_EQ(seen1, 1);
  CHECK_EQ(seen2, 1);
  CHECK_POISONED(ba, sizeof ba);
  /* The old socket is gone (its peer sees the end); the number now means b's socket. */
  char c;
  CHECK(ql_readable(a[1], 1000));
  CHECK_EQ(recv(a[1], &c, 1, 0), 0);
  unsigned char nb[16];
  Qso_OverlappedIO_t in = qt_io(nb, sizeof nb);
  in.operationId = 3;
  ql_start_recv_pending(a[0], port, &in);
  qt_write_all(b[1], "via", 3);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_EQ(st.operationId, 3);
  CHECK_DONE(st, QSOSTARTRECV, 3, 0);
  CHECK(memcmp(nb, "via", 3) == 0);
  qt_expect_none(port, 1200); /* the timed post's second passes: nothing */
}

TEST(dup2_over_pending_eclosed) { dup_over(0); }

TEST(dup3_over_pending_eclosed) { dup_over(1); }

TEST(dup2_that_closes_nothing_leaves_ops) {
  int sv[2];
  qt_unix_pair(sv);
  int port = ql_port();
  unsigned char buf[16];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.operationId = 7;
  ql_start_recv_pending(sv[0], port, &io);
  /* Same descriptor: dup2 returns it and closes nothing. */
  CHECK_EQ(dup2(sv[0], sv[0]), sv[0]);
  /* A bad old descriptor: dup2/dup3 fail and close nothing. */
  int p[2];
  CHECK(pipe(p) == 0);
  int dead = p[0];
  CHECK_EQ(close(dead), 0);
  CHECK_ERR(dup2(dead, sv[0]), EBADF);
  CHECK_ERR(dup3(dead, sv[0], 0), EBADF);
  CHECK_ERR(dup3(sv[0], sv[0], 0), EINVAL);
  /* Closing some other descriptor does nothing to it either. */
  CHECK_EQ(close(p[1]), 0);
  qt_expect_none(port, 100);
  CHECK_EQ(QsoIsOperationPending(sv[0], 7), 1);
  qt_write_all(sv[1], "ok", 2);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_EQ(st.operationId, 7);
  CHECK_DONE(st, QSOSTARTRECV, 2, 0);
}

TEST(close_hook_keeps_close_semantics) {
  CHECK_ERR(close(-1), EBADF);
  int p[2];
  CHECK(pipe(p) == 0);
  CHECK_EQ(close(p[0]), 0);
  CHECK_ERR(close(p[0]), EBADF);
  CHECK_EQ(close(p[1]), 0);
  /* After the library is in use too. */
  int port = ql_port();
  (void)port;
  int sv[2];
  qt_unix_pair(sv);
  unsigned char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  ql_start_recv_pending(sv[0], port, &io);
  CHECK_EQ(close(sv[0]), 0);
  CHECK_ERR(close(sv[0]), EBADF);
  CHECK_ERR(dup2(sv[1], -1), EBADF);
}

/*
 * The race: a collector thread leads the port while the main thread sends one chunk and closes
 * the socket. Each operation ends once: with the data, or with ECLOSED and its buffer untouched;
 * and the buffer as it is when close() returns is the buffer for good.
 */
TEST_T(close_race_exactly_once, 30) {
  enum { ITER = 300, LEN = 32, CHUNK = 8 };
  int port = ql_port();
  struct ql_collector *c = ql_collector_start(port);
  static unsigned char bufs[ITER][LEN];
  unsigned char snap[LEN];
  int closed = 0;
  long long deadline = qt_now_ms() + 20000;
  int i;
  for (i = 0; i < ITER && qt_now_ms() < deadline; i++) {
    int sv[2];
    qt_unix_pair(sv);
    ql_poison(bufs[i], LEN);
    Qso_OverlappedIO_t io = qt_io(bufs[i], LEN);
    io.descriptorHandle = ql_handle((uintptr_t)i + 1);
    io.postFlag = 1;
    io.fillBuffer = (unsigned)(i % 4 == 3);
    io.bufferLength = io.fillBuffer ? CHUNK * 2 : LEN;
    CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
    unsigned char data[CHUNK];
    ql_pattern(data, CHUNK, (unsigned)i, 0);
    int send_first = (i % 5) != 4;
    if (send_first) {
      qt_write_all(sv[1], data, CHUNK);
      for (volatile int spin = 0; spin < (i % 17) * 1500; spin++) {
      }
    }
    CHECK_EQ(close(sv[0]), 0);
    memcpy(snap, bufs[i], LEN);
    if (!send_first)
      send(sv[1], data, CHUNK, MSG_NOSIGNAL);
    if (ql_collector_await(c, i + 1, 3000) < i + 1)
      QT_FAIL("iteration %d: no completion", i);
    CHECK_EQ(ql_collector_count(c), i + 1);
    Qso_OverlappedIO_t st = ql_collector_get(c, i);
    CHECK(ql_handle_of(&st) == (uintptr_t)i + 1);
    CHECK_EQ(st.operationCompleted, QSOSTARTRECV);
    if (st.errnoValue == ECLOSED) {
      closed++;
      if (st.returnValue == -1) {
        CHECK_POISONED(bufs[i], LEN);
      } else {
        /* A fill receive closed after placing bytes reports them. */
        CHECK(io.fillBuffer);
        CHECK_EQ(st.returnValue, CHUNK);
        CHECK_PATTERN(bufs[i], CHUNK, (unsigned)i, 0);
      }
    } else {
      CHECK(!io.fillBuffer);
      CHECK_DONE(st, QSOSTARTRECV, CHUNK, 0);
      CHECK_PATTERN(bufs[i], CHUNK, (unsigned)i, 0);
    }
    if (memcmp(snap, bufs[i], LEN) != 0)
      QT_FAIL("iteration %d: the buffer changed after close() returned", i);
    close(sv[1]);
  }
  ql_sleep_ms(200);
  ql_collector_stop(c);
  CHECK_EQ(c->n, i);
  fprintf(stderr, "  (%d operations, %d closed)\n", i, closed);
}

/* A listener at a reused number: the old listener's state (accepts, non-blocking mode) is gone. */
TEST(close_fd_reuse_listener_inherits_nothing) {
  int port = ql_port();
  int lport1;
  int l1 = qt_listener(&lport1);
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  io.operationId = 1;
  ql_start_accept_pending(l1, port, &io);
  CHECK_EQ(close(l1), 0);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_DONE(st, QSOSTARTACCEPT, -1, ECLOSED);
  int lport2;
  int l2 = qt_listener(&lport2);
  int l = l2 == l1 ? l2 : move_to(l2, l1);
  CHECK_EQ(l, l1);
  /* The new listener's flags are its own (blocking, as created)... */
  CHECK_EQ(fcntl(l, F_GETFL) & O_NONBLOCK, 0);
  /* ...and an accept started on it waits, then completes with the new connection. */
  io = qt_io(NULL, 0);
  io.operationId = 2;
  ql_start_accept_pending(l, port, &io);
  qt_expect_none(port, 100);
  int c = qt_connect(lport2);
  st = qt_wait(port, 1000);
  CHECK_EQ(st.operationId, 2);
  CHECK_EQ(st.operationCompleted, QSOSTARTACCEPT);
  CHECK(st.returnValue >= 0);
  qt_write_all(c, "L", 1);
  char x = 0;
  qt_read_all(st.returnValue, &x, 1);
  CHECK_EQ(x, 'L');
}

/*
 * close() racing start calls on the same descriptor from another thread. Each start either fails
 * with -1/EBADF or starts an operation (returns 1), and every started operation is posted exactly
 * once (here with ECLOSED, since no data comes); once close() has returned, every start fails
 * with -1/EBADF. Many operations pending before the close make close() take a while (it posts
 * each of them), which gives the race room.
 */
struct starter {
  int sd, port;
  atomic_int go;
  atomic_int closed; /* set by the main thread once close() has returned */
  atomic_int started;
  int ebadf, after_close;
  int bad_rc, bad_errno, bad_after_close; /* first unexpected result */
  Qso_OverlappedIO_t bad_io;
  unsigned char buf[16];
  pthread_t thread;
};

static void *starter_main(void *arg) {
  struct starter *s = (struct starter *)arg;
  while (!atomic_load(&s->go)) {
  }
  for (int k = 0; k < 400000 && s->after_close < 20; k++) {
    int was_closed = atomic_load(&s->closed);
    Qso_OverlappedIO_t io = qt_io(s->buf, sizeof s->buf);
    io.descriptorHandle = ql_handle(2);
    errno = 0;
    int rc = QsoStartRecv(s->sd, s->port, &io);
    int err = errno;
    if (was_closed)
      s->after_close++;
    if (rc == 1 && !was_closed) {
      atomic_fetch_add(&s->started, 1);
    } else if (rc == -1 && err == EBADF) {
      s->ebadf++;
    } else {
      if (rc == 1)
        atomic_fetch_add(&s->started, 1); /* started: it must be posted too */
      if (s->bad_rc == 0 && s->bad_errno == 0) {
        s->bad_rc = rc;
        s->bad_errno = err;
        s->bad_after_close = was_closed;
        s->bad_io = io;
      }
    }
  }
  return NULL;
}

TEST_T(close_race_with_start_every_op_posted, 30) {
  enum { ITER = 30, PRE = 20000 };
  int port = ql_port();
  static unsigned char pre[16];
  int problems = 0, total_started = 0, iterations = 0;
  char first_problem[300] = "";
  long long deadline = qt_now_ms() + 6000;
  for (int i = 0; i < ITER && qt_now_ms() < deadline && problems == 0; i++) {
    iterations++;
    int sv[2];
    qt_unix_pair(sv);
    for (int k = 0; k < PRE; k++) {
      Qso_OverlappedIO_t io = qt_io(pre, sizeof pre);
      io.descriptorHandle = ql_handle(1);
      ql_start_recv_pending(sv[0], port, &io);
    }
    struct starter *s = (struct starter *)calloc(1, sizeof *s);
    CHECK(s != NULL);
    s->sd = sv[0];
    s->port = port;
    atomic_init(&s->go, 0);
    atomic_init(&s->closed, 0);
    atomic_init(&s->started, 0);
    s->thread = ql_thread(starter_main, s);
    atomic_store(&s->go, 1);
    long long until = qt_now_ms() + 1000;
    while (atomic_load(&s->started) < 2 && qt_now_ms() < until) {
    }
    for (volatile int spin = 0; spin < (i % 11) * 2000; spin++) {
    }
    CHECK_EQ(close(sv[0]), 0);
    atomic_store(&s->closed, 1);
    pthread_join(s->thread, NULL);
    int started = atomic_load(&s->started);
    total_started += started;
    if (s->bad_rc != 0 || s->bad_errno != 0) {
      problems++;
      snprintf(first_problem, sizeof first_problem,
               "iteration %d: a start %s close() returned %d errno %d (%s)%s", i,
               s->bad_after_close ? "after" : "racing", s->bad_rc, s->bad_errno,
               strerror(s->bad_errno),
               s->bad_rc == 0 ? (s->bad_io.returnValue == -1 && s->bad_io.errnoValue == EBADF
                                     ? ", with returnValue -1 errnoValue EBADF in *io"
                                     : ", with a result in *io")
                              : "");
    }
    int want = PRE + started;
    int got = 0;
    for (;;) {
      Qso_OverlappedIO_t st;
      struct timeval tv = qt_tv(0, got < want ? 300000 : 0);
      int rc = QsoWaitForIOCompletion(port, &st, &tv);
      if (rc != 1)
        break;
      CHECK_DONE(st, QSOSTARTRECV, -1, ECLOSED);
      got++;
    }
    if (got > want)
      QT_FAIL("iteration %d: %d completions for %d operations", i, got, want);
    if (got < want) {
      problems++;
      snprintf(first_problem + strlen(first_problem),
               sizeof first_problem - strlen(first_problem),
               "%siteration %d: %d of %d started operations never posted",
               first_problem[0] ? "; " : "", i, want - got, want);
    }
    close(sv[1]);
    free(s);
  }
  fprintf(stderr, "  (%d iterations, %d operations started by the racing thread)\n", iterations,
          total_started);
  if (problems)
    QT_FAIL("%s", first_problem);
}

/* A "close everything from 3 up" loop over numbers that name nothing costs no memory: the close
   hook keeps no place for a number that is not open. */
TEST(closing_numbers_that_name_nothing_keeps_no_memory) {
  int port = ql_port(); /* the library is in use: its close hook is live */
  (void)port;
  long before = qt_rss_kib();
  for (int fd = 1000000; fd < 2000000; fd++)
    close(fd);
  long grown = qt_rss_kib() - before;
  fprintf(stderr, "  (1,000,000 closes of unused numbers: VmRSS %+ld KiB)\n", grown);
  CHECK(grown < 2048);
}
