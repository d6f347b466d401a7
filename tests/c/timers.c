/*
 * tests/c/timers.c - operationWaitTime (spec §5) and timed QsoPostIOCompletion (spec §3).
 *
 * A timer is whole seconds; when it runs out the operation completes with -1/EAGAIN (a fill
 * receive that already placed bytes reports them with EAGAIN). An operation ends exactly once:
 * a timer never fires after the operation completed, was cancelled or closed. A timed post is
 * posted after its time with -1/EAGAIN, at once with -1/ECLOSED when postedDescriptor is closed
 * first, and counts as an operation pending on postedDescriptor.
 */
#include "qt_life.h"

/* ---- recv / send / accept time out ------------------------------------------------------ */

TEST(timer_recv_eagain) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[64];
  ql_poison(buf, sizeof buf);
  Qso_OverlappedIO_t io = ql_io_timed(buf, sizeof buf, 1);
  io.descriptorHandle = ql_handle(0x1234);
  io.operationId = ql_id(sv[0]);
  unsigned long long id = io.operationId;
  long long t0 = qt_now_ms();
  ql_start_recv_pending(sv[0], port, &io);
  CHECK_EQ(QsoIsOperationPending(sv[0], id), 1);
  Qso_OverlappedIO_t st = qt_wait(port, 4000);
  long long elapsed = qt_now_ms() - t0;
  CHECK_DONE(st, QSOSTARTRECV, -1, EAGAIN);
  CHECK_BETWEEN(elapsed, 900, 3000);
  CHECK(st.descriptorHandle == ql_handle(0x1234));
  CHECK(st.buffer == buf);
  CHECK_EQ(st.bufferLength, sizeof buf);
  CHECK_EQ(st.operationId, id);
  CHECK_POISONED(buf, sizeof buf);
  CHECK_EQ(QsoIsOperationPending(sv[0], id), 0);
  /* The timer ended only that operation: the socket still receives. */
  unsigned char data[10];
  ql_pattern(data, sizeof data, 1, 0);
  qt_write_all(sv[1], data, sizeof data);
  Qso_OverlappedIO_t io2 = qt_io(buf, sizeof buf);
  io2.postFlag = 1;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io2), 1);
  st = qt_wait(port, 2000);
  CHECK_DONE(st, QSOSTARTRECV, 10, 0);
  CHECK_PATTERN(buf, 10, 1, 0);
  qt_expect_none(port, 100);
}

TEST(timer_send_eagain_unix) {
  int sv[2];
  qt_unix_pair(sv);
  int port = ql_port();
  size_t filled = ql_fill_sndbuf(sv[0]);
  CHECK(filled > 0);
  static unsigned char buf[65536];
  ql_pattern(buf, sizeof buf, 2, 0);
  Qso_OverlappedIO_t io = ql_io_timed(buf, sizeof buf, 1);
  io.operationId = 42;
  io.descriptorHandle = ql_handle(7);
  long long t0 = qt_now_ms();
  ql_start_send_pending(sv[0], port, &io);
  Qso_OverlappedIO_t st = qt_wait(port, 4000);
  long long elapsed = qt_now_ms() - t0;
  CHECK_DONE(st, QSOSTARTSEND, -1, EAGAIN);
  CHECK_BETWEEN(elapsed, 900, 3000);
  CHECK_EQ(st.operationId, 42);
  CHECK(st.descriptorHandle == ql_handle(7));
  CHECK(st.buffer == buf);
  /* Nothing of the timed-out send reaches the peer, even once there is room. */
  ql_drain_zeros(sv[1], filled);
  ql_sleep_ms(100);
  unsigned char peek[16];
  CHECK_EQ(ql_peek(sv[1], peek, sizeof peek), 0);
  qt_expect_none(port, 100);
}

TEST(timer_send_eagain_tcp) {
  int sv[2];
  qt_tcp_pair(sv);
  int small = 4096;
  CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
  CHECK(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
  int port = ql_port();
  size_t filled = ql_fill_sndbuf(sv[0]);
  CHECK(filled > 0);
  static unsigned char buf[65536];
  ql_pattern(buf, sizeof buf, 3, 0);
  Qso_OverlappedIO_t io = ql_io_timed(buf, sizeof buf, 1);
  long long t0 = qt_now_ms();
  ql_start_send_pending(sv[0], port, &io);
  Qso_OverlappedIO_t st = qt_wait(port, 4000);
  long long elapsed = qt_now_ms() - t0;
  CHECK_DONE(st, QSOSTARTSEND, -1, EAGAIN);
  CHECK_BETWEEN(elapsed, 900, 3000);
  ql_drain_zeros(sv[1], filled);
  ql_sleep_ms(100);
  unsigned char peek[16];
  CHECK_EQ(ql_peek(sv[1], peek, sizeof peek), 0);
}

TEST(timer_accept_eagain) {
  int lport;
  int l = qt_listener(&lport);
  int port = ql_port();
  Qso_OverlappedIO_t io = ql_io_timed(NULL, 0, 1);
  io.operationId = 9;
  io.descriptorHandle = ql_handle(99);
  long long t0 = qt_now_ms();
  ql_start_accept_pending(l, port, &io);
  Qso_OverlappedIO_t st = qt_wait(port, 4000);
  long long elapsed = qt_now_ms() - t0;
  CHECK_DONE(st, QSOSTARTACCEPT, -1, EAGAIN);
  CHECK_BETWEEN(elapsed, 900, 3000);
  CHECK_EQ(st.operationId, 9);
  CHECK(st.descriptorHandle == ql_handle(99));
  CHECK(st.buffer == NULL);
  /* The listener still hands out the next connection. */
  int c = qt_connect(lport);
  Qso_OverlappedIO_t io2 = qt_io(NULL, 0);
  io2.postFlag = 1;
  CHECK_EQ(QsoStartAccept(l, port, &io2), 1);
  st = qt_wait(port, 2000);
  CHECK_EQ(st.operationCompleted, QSOSTARTACCEPT);
  CHECK(st.returnValue >= 0);
  CHECK_EQ(st.errnoValue, 0);
  qt_write_all(c, "x", 1);
  char x = 0;
  qt_read_all(st.returnValue, &x, 1);
  CHECK_EQ(x, 'x');
}

/* ---- a timer fires at most once, and never after another ending -------------------------- */

TEST(timer_data_first_no_second_completion) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[64];
  ql_poison(buf, sizeof buf);
  Qso_OverlappedIO_t io = ql_io_timed(buf, sizeof buf, 1);
  io.operationId = 5;
  long long t0 = qt_now_ms();
  ql_start_recv_pending(sv[0], port, &io);
  struct ql_sender s;
  ql_sender_start(&s, sv[1], 200, 10, 4, 0, 0);
  Qso_OverlappedIO_t st = qt_wait(port, 3000);
  long long elapsed = qt_now_ms() - t0;
  ql_sender_join(&s);
  CHECK_DONE(st, QSOSTARTRECV, 10, 0);
  CHECK(elapsed < 900);
  CHECK_PATTERN(buf, 10, 4, 0);
  CHECK_POISONED(buf + 10, sizeof buf - 10);
  /* Past the timer: no second completion, and the buffer is not touched again. */
  qt_expect_none(port, 1500);
  CHECK_POISONED(buf + 10, sizeof buf - 10);
}

TEST(timer_cancelled_or_closed_no_late_eagain) {
  int a[2], b[2];
  qt_tcp_pair(a);
  qt_tcp_pair(b);
  int port = ql_port();
  unsigned char ba[32], bb[32];
  ql_poison(ba, sizeof ba);
  ql_poison(bb, sizeof bb);
  Qso_OverlappedIO_t ioa = ql_io_timed(ba, sizeof ba, 1);
  ioa.operationId = 11;
  Qso_OverlappedIO_t iob = ql_io_timed(bb, sizeof bb, 1);
  iob.operationId = 12;
  Qso_OverlappedIO_t iop = ql_io_timed(NULL, 0, 1);
  iop.postedDescriptor = a[0];
  iop.operationId = 13;
  ql_start_recv_pending(a[0], port, &ioa);
  ql_start_recv_pending(b[0], port, &iob);
  CHECK_EQ(QsoPostIOCompletion(port, &iop), 0);
  CHECK_EQ(QsoCancelOperation(a[0], 11), 1);
  CHECK_EQ(QsoCancelOperation(a[0], 13), 1);
  CHECK_EQ(close(b[0]), 0);
  int seen_a = 0, seen_b = 0, seen_p = 0;
  for (int i = 0; i < 3; i++) {
    Qso_OverlappedIO_t st = qt_wait(port, 500);
    if (st.operationId == 11) {
      CHECK_DONE(st, QSOSTARTRECV, -1, ECANCELED);
      seen_a++;
    } else if (st.operationId == 12) {
      CHECK_DONE(st, QSOSTARTRECV, -1, ECLOSED);
      seen_b++;
    } else if (st.operationId == 13) {
      CHECK_DONE(st, QSOPOSTIOCOMPLETION, -1, ECANCELED);
      seen_p++;
    } else {
      QT_FAIL("unexpected completion id %llu", st.operationId);
    }
  }
  CHECK_EQ(seen_a, 1);
  CHECK_EQ(seen_b, 1);
  CHECK_EQ(seen_p, 1);
  /* Past the timers: none of them fires. */
  qt_expect_none(port, 1500);
  CHECK_POISONED(ba, sizeof ba);
  CHECK_POISONED(bb, sizeof bb);
}

TEST(timer_fill_partial_reports_bytes) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[100];
  ql_poison(buf, sizeof buf);
  unsigned char data[30];
  ql_pattern(data, sizeof data, 5, 0);
  qt_write_all(sv[1], data, sizeof data);
  ql_sleep_ms(20);
  Qso_OverlappedIO_t io = ql_io_timed(buf, sizeof buf, 1);
  io.fillBuffer = 1;
  long long t0 = qt_now_ms();
  int rc = QsoStartRecv(sv[0], port, &io);
  CHECK_EQ(rc, 1);
  /* 12 more bytes arrive while a thread waits. */
  struct ql_sender s;
  ql_sender_start(&s, sv[1], 200, 12, 5, 30, 0);
  Qso_OverlappedIO_t st = qt_wait(port, 4000);
  long long elapsed = qt_now_ms() - t0;
  ql_sender_join(&s);
  CHECK_DONE(st, QSOSTARTRECV, 42, EAGAIN);
  CHECK_BETWEEN(elapsed, 900, 3000);
  CHECK_EQ(st.fillBuffer, 1);
  CHECK_PATTERN(buf, 42, 5, 0);
  CHECK_POISONED(buf + 42, sizeof buf - 42);
  qt_expect_none(port, 200);
}

/* ---- malformed timers ------------------------------------------------------------------- */

static const long bad_tv[][2] = {{1, 1}, {0, 500000}, {-1, 0}, {1, -1}, {0, 1000000}, {-5, 3}};
#define N_BAD_TV ((int)(sizeof bad_tv / sizeof bad_tv[0]))

TEST(timer_einval_recv) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char data[8];
  ql_pattern(data, sizeof data, 6, 0);
  qt_write_all(sv[1], data, sizeof data);
  CHECK(ql_readable(sv[0], 1000));
  unsigned char buf[32];
  for (int i = 0; i < N_BAD_TV; i++) {
    ql_poison(buf, sizeof buf);
    Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
    io.operationWaitTime = qt_tv(bad_tv[i][0], bad_tv[i][1]);
    io.operationId = 100 + (unsigned)i;
    io.postFlag = (unsigned)(i & 1);
    CHECK_ERR(QsoStartRecv(sv[0], port, &io), EINVAL);
    CHECK_POISONED(buf, sizeof buf);
    CHECK_EQ(QsoIsOperationPending(sv[0], 100 + (unsigned)i), 0);
  }
  /* Nothing was started, nothing posted, no byte consumed. */
  qt_expect_none(port, 100);
  unsigned char peek[16];
  CHECK_EQ(ql_peek(sv[0], peek, sizeof peek), 8);
}

TEST(timer_einval_send) {
  int sv[2];
  qt_unix_pair(sv);
  int port = ql_port();
  unsigned char buf[32];
  ql_pattern(buf, sizeof buf, 7, 0);
  for (int i = 0; i < N_BAD_TV; i++) {
    Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
    io.operationWaitTime = qt_tv(bad_tv[i][0], bad_tv[i][1]);
    io.postFlag = (unsigned)(i & 1);
    CHECK_ERR(QsoStartSend(sv[0], port, &io), EINVAL);
  }
  qt_expect_none(port, 100);
  unsigned char peek[16];
  CHECK_EQ(ql_peek(sv[1], peek, sizeof peek), 0);
}

TEST(timer_einval_accept) {
  int lport;
  int l = qt_listener(&lport);
  int c = qt_connect(lport);
  (void)c;
  int port = ql_port();
  for (int i = 0; i < N_BAD_TV; i++) {
    Qso_OverlappedIO_t io = qt_io(NULL, 0);
    io.operationWaitTime = qt_tv(bad_tv[i][0], bad_tv[i][1]);
    io.postFlag = (unsigned)(i & 1);
    CHECK_ERR(QsoStartAccept(l, port, &io), EINVAL);
  }
  qt_expect_none(port, 100);
  /* The connection was not taken. */
  int a = accept(l, NULL, NULL);
  CHECK(a >= 0);
}

TEST(timer_einval_post) {
  int sv[2];
  qt_unix_pair(sv);
  int port = ql_port();
  for (int i = 0; i < N_BAD_TV; i++) {
    Qso_OverlappedIO_t io = qt_io(NULL, 0);
    io.operationWaitTime = qt_tv(bad_tv[i][0], bad_tv[i][1]);
    io.postedDescriptor = sv[0];
    io.operationId = 200 + (unsigned)i;
    CHECK_ERR(QsoPostIOCompletion(port, &io), EINVAL);
    CHECK_EQ(QsoIsOperationPending(sv[0], 200 + (unsigned)i), 0);
  }
  qt_expect_none(port, 100);
}

/* ---- timed QsoPostIOCompletion ---------------------------------------------------------- */

static void check_post_fields(const Qso_OverlappedIO_t *got, const Qso_OverlappedIO_t *want) {
  CHECK(got->descriptorHandle == want->descriptorHandle);
  CHECK(got->buffer == want->buffer);
  CHECK_EQ(got->bufferLength, want->bufferLength);
  CHECK_EQ(got->postFlag, want->postFlag);
  CHECK_EQ(got->fillBuffer, want->fillBuffer);
  CHECK_EQ(got->postFlagResult, want->postFlagResult);
  CHECK_EQ(got->secureDataTransferSize, want->secureDataTransferSize);
  CHECK_EQ(got->bytesAvailable, want->bytesAvailable);
  CHECK_EQ(got->operationWaitTime.tv_sec, want->operationWaitTime.tv_sec);
  CHECK_EQ(got->operationWaitTime.tv_usec, want->operationWaitTime.tv_usec);
  CHECK_EQ(got->postedDescriptor, want->postedDescriptor);
  CHECK_EQ(got->operationId, want->operationId);
  CHECK(memcmp(got->reserved2, want->reserved2, sizeof want->reserved2) == 0);
}

static Qso_OverlappedIO_t full_post_record(int sd) {
  static char somewhere[33];
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  io.descriptorHandle = ql_handle(0xC0FFEE);
  io.buffer = somewhere;
  io.bufferLength = sizeof somewhere;
  io.postFlag = 1;
  io.fillBuffer = 1;
  io.postFlagResult = 1;
  io.returnValue = 123;
  io.errnoValue = 456;
  io.operationCompleted = 77;
  io.secureDataTransferSize = 5;
  io.bytesAvailable = 9;
  io.operationWaitTime = qt_tv(1, 0);
  io.postedDescriptor = sd;
  io.operationId = ql_id(sd);
  for (size_t i = 0; i < sizeof io.reserved2; i++)
    io.reserved2[i] = (char)(i * 3 + 1);
  return io;
}

TEST(post_timer_eagain_fields_preserved) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  Qso_OverlappedIO_t io = full_post_record(sv[0]);
  Qso_OverlappedIO_t want = io;
  long long t0 = qt_now_ms();
  CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
  /* Not posted before its time. */
  qt_expect_none(port, 0);
  CHECK_EQ(QsoIsOperationPending(sv[0], want.operationId), 1);
  Qso_OverlappedIO_t st = qt_wait(port, 4000);
  long long elapsed = qt_now_ms() - t0;
  CHECK_DONE(st, QSOPOSTIOCOMPLETION, -1, EAGAIN);
  CHECK_BETWEEN(elapsed, 900, 3000);
  check_post_fields(&st, &want);
  CHECK_EQ(QsoIsOperationPending(sv[0], want.operationId), 0);
  qt_expect_none(port, 200);
}

TEST(post_timer_closed_first_eclosed_at_once) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  Qso_OverlappedIO_t io = full_post_record(sv[0]);
  Qso_OverlappedIO_t want = io;
  CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
  struct ql_waiter w;
  ql_waiter_start(&w, port, -1);
  ql_sleep_ms(100);
  long long t0 = qt_now_ms();
  CHECK_EQ(close(sv[0]), 0);
  ql_waiter_join(&w);
  CHECK_EQ(w.rc, 1);
  CHECK(w.done_ms - t0 < 500);
  CHECK_DONE(w.st, QSOPOSTIOCOMPLETION, -1, ECLOSED);
  check_post_fields(&w.st, &want);
  /* The timer is gone: nothing more after its second. */
  qt_expect_none(port, 1300);
}

TEST(post_timer_fd_already_closed_eclosed) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  Qso_OverlappedIO_t io = full_post_record(sv[0]);
  CHECK_EQ(close(sv[0]), 0);
  Qso_OverlappedIO_t want = io;
  long long t0 = qt_now_ms();
  CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
  Qso_OverlappedIO_t st = qt_wait(port, 500);
  CHECK(qt_now_ms() - t0 < 500);
  CHECK_DONE(st, QSOPOSTIOCOMPLETION, -1, ECLOSED);
  check_post_fields(&st, &want);
  qt_expect_none(port, 1300);
}

TEST(post_timer_pending_and_cancel) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  Qso_OverlappedIO_t io = full_post_record(sv[0]);
  Qso_OverlappedIO_t want = io;
  unsigned long long id = io.operationId;
  CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
  CHECK_EQ(QsoIsOperationPending(sv[0], id), 1);
  CHECK_EQ(QsoIsOperationPending(sv[0], id + 1000), 0);
  CHECK_EQ(QsoIsOperationPending(sv[1], id), 0);
  CHECK_EQ(QsoCancelOperation(sv[1], id), 0);
  CHECK_EQ(QsoCancelOperation(sv[0], id), 1);
  CHECK_EQ(QsoIsOperationPending(sv[0], id), 0);
  Qso_OverlappedIO_t st = qt_wait(port, 500);
  CHECK_DONE(st, QSOPOSTIOCOMPLETION, -1, ECANCELED);
  check_post_fields(&st, &want);
  CHECK_EQ(QsoCancelOperation(sv[0], id), 0);
  qt_expect_none(port, 1300);
}

TEST_T(post_timer_many_fire_once, 15) {
  enum { N = 2000, NSOCK = 4 };
  int pairs[NSOCK][2];
  for (int i = 0; i < NSOCK; i++)
    qt_unix_pair(pairs[i]);
  int port = ql_port();
  struct ql_collector *c1 = ql_collector_start(port);
  struct ql_collector *c2 = ql_collector_start(port);
  static long long posted_at[N];
  for (int i = 0; i < N; i++) {
    Qso_OverlappedIO_t io = qt_io(NULL, 0);
    io.descriptorHandle = ql_handle((uintptr_t)i + 1);
    io.operationWaitTime = qt_tv(1 + (i % 2), 0);
    io.postedDescriptor = pairs[i % NSOCK][0];
    io.operationId = (unsigned long long)i;
    posted_at[i] = qt_now_ms();
    CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
  }
  long long end = qt_now_ms() + 6000;
  while (ql_collector_count(c1) + ql_collector_count(c2) < N && qt_now_ms() < end)
    ql_sleep_ms(20);
  ql_sleep_ms(300); /* room for a duplicate to show up */
  ql_collector_stop(c1);
  ql_collector_stop(c2);
  CHECK_EQ(c1->wait_errno, 0);
  CHECK_EQ(c2->wait_errno, 0);
  CHECK_EQ(c1->n + c2->n, N);
  static int seen[N];
  struct ql_collector *cs[2] = {c1, c2};
  for (int k = 0; k < 2; k++) {
    for (int j = 0; j < cs[k]->n; j++) {
      Qso_OverlappedIO_t *st = &cs[k]->got[j];
      long long i = (long long)ql_handle_of(st) - 1;
      CHECK_BETWEEN(i, 0, N - 1);
      CHECK_EQ(st->operationId, (unsigned long long)i);
      CHECK_DONE(*st, QSOPOSTIOCOMPLETION, -1, EAGAIN);
      seen[i]++;
      long long secs = 1 + (i % 2);
      long long late = cs[k]->at_ms[j] - posted_at[i];
      if (late < secs * 1000 - 2 || late > secs * 1000 + 2500)
        QT_FAIL("timer %lld of %lld s fired after %lld ms", i, secs, late);
    }
  }
  for (int i = 0; i < N; i++)
    if (seen[i] != 1)
      QT_FAIL("timed post %d delivered %d times", i, seen[i]);
  qt_expect_none(port, 100);
}

/* ---- a timer racing data ---------------------------------------------------------------- */

enum { RACE_N = 48 };
struct race_send {
  int (*fds)[2];
  long long t0;
};

static void *race_sender(void *arg) {
  struct race_send *r = (struct race_send *)arg;
  for (int i = 0; i < RACE_N; i++) {
    long long at = r->t0 + 900 + (long long)i * 200 / RACE_N;
    long long now = qt_now_ms();
    if (at > now)
      ql_sleep_ms((long)(at - now));
    unsigned char data[16];
    ql_pattern(data, sizeof data, 100 + (unsigned)i, 0);
    qt_write_all(r->fds[i][1], data, sizeof data);
  }
  return NULL;
}

TEST_T(timer_races_data_exactly_once, 15) {
  static int fds[RACE_N][2];
  static unsigned char bufs[RACE_N][32];
  int port = ql_port();
  for (int i = 0; i < RACE_N; i++) {
    qt_unix_pair(fds[i]);
    ql_poison(bufs[i], sizeof bufs[i]);
  }
  struct ql_collector *c = ql_collector_start(port);
  long long t0 = qt_now_ms();
  for (int i = 0; i < RACE_N; i++) {
    Qso_OverlappedIO_t io = ql_io_timed(bufs[i], sizeof bufs[i], 1);
    io.descriptorHandle = ql_handle((uintptr_t)i + 1);
    ql_start_recv_pending(fds[i][0], port, &io);
  }
  struct race_send r = {fds, t0};
  pthread_t t = ql_thread(race_sender, &r);
  CHECK_EQ(ql_collector_await(c, RACE_N, 5000), RACE_N);
  pthread_join(t, NULL);
  ql_sleep_ms(300);
  ql_collector_stop(c);
  CHECK_EQ(c->n, RACE_N);
  int seen[RACE_N] = {0};
  int timed_out = 0;
  for (int j = 0; j < c->n; j++) {
    Qso_OverlappedIO_t *st = &c->got[j];
    long long i = (long long)ql_handle_of(st) - 1;
    CHECK_BETWEEN(i, 0, RACE_N - 1);
    seen[i]++;
    CHECK_EQ(st->operationCompleted, QSOSTARTRECV);
    if (st->returnValue == -1) {
      CHECK_EQ(st->errnoValue, EAGAIN);
      CHECK_POISONED(bufs[i], sizeof bufs[i]);
      /* The bytes were not taken: they are still in the socket. */
      unsigned char got[16];
      qt_read_all(fds[i][0], got, sizeof got);
      CHECK_PATTERN(got, sizeof got, 100 + (unsigned)i, 0);
      timed_out++;
    } else {
      CHECK_EQ(st->returnValue, 16);
      CHECK_EQ(st->errnoValue, 0);
      CHECK_PATTERN(bufs[i], 16, 100 + (unsigned)i, 0);
      CHECK_POISONED(bufs[i] + 16, sizeof bufs[i] - 16);
    }
  }
  for (int i = 0; i < RACE_N; i++)
    CHECK_EQ(seen[i], 1);
  fprintf(stderr, "  (%d of %d timed out, %d got data)\n", timed_out, RACE_N,
          RACE_N - timed_out);
}

/* ---- which thread, which operation ------------------------------------------------------ */

TEST(timer_fires_with_parked_waiters) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  struct ql_waiter w[3];
  for (int i = 0; i < 3; i++)
    ql_waiter_start(&w[i], port, 5000);
  ql_sleep_ms(50);
  unsigned char buf[16];
  Qso_OverlappedIO_t io = ql_io_timed(buf, sizeof buf, 1);
  io.operationId = 31;
  long long t0 = qt_now_ms();
  ql_start_recv_pending(sv[0], port, &io);
  /* Exactly one waiter gets the time-out; then release the others. */
  long long end = t0 + 4000;
  int done = -1;
  while (done < 0 && qt_now_ms() < end) {
    for (int i = 0; i < 3; i++)
      if (w[i].done_ms != 0)
        done = i;
    ql_sleep_ms(5);
  }
  CHECK(done >= 0);
  ql_waiter_join(&w[done]);
  CHECK_EQ(w[done].rc, 1);
  CHECK_DONE(w[done].st, QSOSTARTRECV, -1, EAGAIN);
  CHECK_EQ(w[done].st.operationId, 31);
  CHECK_BETWEEN(w[done].done_ms - t0, 900, 3000);
  for (int i = 0; i < 3; i++)
    if (i != done)
      CHECK_EQ(w[i].done_ms, 0);
  for (int i = 0; i < 2; i++) {
    Qso_OverlappedIO_t p = qt_io(NULL, 0);
    p.operationId = 500;
    CHECK_EQ(QsoPostIOCompletion(port, &p), 0);
  }
  for (int i = 0; i < 3; i++) {
    if (i == done)
      continue;
    ql_waiter_join(&w[i]);
    CHECK_EQ(w[i].rc, 1);
    CHECK_EQ(w[i].st.operationId, 500);
    CHECK_DONE(w[i].st, QSOPOSTIOCOMPLETION, 0, 0);
  }
}

TEST(timer_each_op_own_deadline) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char ba[16], bb[16], bc[16];
  /* The head of the receive queue has the later deadline. */
  Qso_OverlappedIO_t a = ql_io_timed(ba, sizeof ba, 2);
  a.operationId = 1;
  Qso_OverlappedIO_t b = ql_io_timed(bb, sizeof bb, 1);
  b.operationId = 2;
  Qso_OverlappedIO_t c = qt_io(bc, sizeof bc); /* no limit */
  c.operationId = 3;
  long long t0 = qt_now_ms();
  ql_start_recv_pending(sv[0], port, &a);
  ql_start_recv_pending(sv[0], port, &b);
  ql_start_recv_pending(sv[0], port, &c);
  Qso_OverlappedIO_t st = qt_wait(port, 4000);
  CHECK_EQ(st.operationId, 2);
  CHECK_DONE(st, QSOSTARTRECV, -1, EAGAIN);
  CHECK_BETWEEN(qt_now_ms() - t0, 900, 1900);
  CHECK_EQ(QsoIsOperationPending(sv[0], 1), 1);
  st = qt_wait(port, 4000);
  CHECK_EQ(st.operationId, 1);
  CHECK_DONE(st, QSOSTARTRECV, -1, EAGAIN);
  CHECK_BETWEEN(qt_now_ms() - t0, 1900, 4000);
  /* The one without a limit is still pending, and receives. */
  qt_expect_none(port, 200);
  CHECK_EQ(QsoIsOperationPending(sv[0], 3), 1);
  unsigned char data[5];
  ql_pattern(data, sizeof data, 8, 0);
  qt_write_all(sv[1], data, sizeof data);
  st = qt_wait(port, 2000);
  CHECK_EQ(st.operationId, 3);
  CHECK_DONE(st, QSOSTARTRECV, 5, 0);
  CHECK_PATTERN(bc, 5, 8, 0);
}

/* Waits shorter than the timer come back empty; the timer is not reset by them and fires on time;
 * a timer that ran out while nobody waited is delivered at the next wait, at once. */
TEST(timer_survives_short_waits) {
  int a[2], b[2];
  qt_tcp_pair(a);
  qt_tcp_pair(b);
  int port = ql_port();
  unsigned char buf[16], buf2[16];
  Qso_OverlappedIO_t io = ql_io_timed(buf, sizeof buf, 1);
  io.operationId = 1;
  long long t0 = qt_now_ms();
  ql_start_recv_pending(a[0], port, &io);
  int empty = 0;
  Qso_OverlappedIO_t st;
  for (;;) {
    struct timeval tv = qt_tv(0, 150000);
    int rc = QsoWaitForIOCompletion(port, &st, &tv);
    if (rc == 1)
      break;
    CHECK_EQ(rc, 0);
    empty++;
    CHECK(qt_now_ms() - t0 < 3000);
  }
  CHECK_BETWEEN(qt_now_ms() - t0, 900, 1600);
  CHECK(empty >= 5);
  CHECK_DONE(st, QSOSTARTRECV, -1, EAGAIN);
  /* Nobody waits while the next one runs out. */
  io = ql_io_timed(buf2, sizeof buf2, 1);
  io.operationId = 2;
  ql_start_recv_pending(b[0], port, &io);
  ql_sleep_ms(1200);
  long long t1 = qt_now_ms();
  st = qt_wait(port, 1000);
  CHECK(qt_now_ms() - t1 < 300);
  CHECK_EQ(st.operationId, 2);
  CHECK_DONE(st, QSOSTARTRECV, -1, EAGAIN);
}
