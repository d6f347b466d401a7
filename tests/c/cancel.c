/*
 * tests/c/cancel.c - QsoCancelOperation (spec §5).
 *
 * Every pending operation on the socket with the id is posted with -1/ECANCELED and counted in
 * the return value; others are unaffected; id 0 is an ordinary id. A cancelled receive takes no
 * byte of the stream. Cancel racing completion: each operation ends exactly once, and no byte is
 * lost.
 */
#include "qt_life.h"

/* Waits for n completions and stores them by descriptorHandle (1..max); each exactly once. */
static void wait_by_handle(int port, int n, Qso_OverlappedIO_t *by_handle, int max) {
  int seen[64] = {0};
  CHECK(max < 64);
  for (int k = 0; k < n; k++) {
    Qso_OverlappedIO_t st = qt_wait(port, 1000);
    long long h = (long long)ql_handle_of(&st);
    CHECK_BETWEEN(h, 1, max);
    seen[h]++;
    if (seen[h] != 1)
      QT_FAIL("operation %lld completed twice", h);
    by_handle[h] = st;
  }
}

TEST(cancel_returns_count_all_matching_posted) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned long long x = ql_id(sv[0]), y = ql_id(sv[0]);
  unsigned char bufs[5][32];
  Qso_OverlappedIO_t io[5];
  for (int i = 1; i <= 4; i++) {
    ql_poison(bufs[i], sizeof bufs[i]);
    io[i] = qt_io(bufs[i], sizeof bufs[i]);
    io[i].descriptorHandle = ql_handle((uintptr_t)i);
    io[i].operationId = i <= 3 ? x : y;
    ql_start_recv_pending(sv[0], port, &io[i]);
  }
  CHECK_EQ(QsoIsOperationPending(sv[0], x), 1);
  CHECK_EQ(QsoCancelOperation(sv[0], x), 3);
  CHECK_EQ(QsoIsOperationPending(sv[0], x), 0);
  CHECK_EQ(QsoIsOperationPending(sv[0], y), 1);
  Qso_OverlappedIO_t got[5];
  wait_by_handle(port, 3, got, 3);
  for (int i = 1; i <= 3; i++) {
    CHECK_DONE(got[i], QSOSTARTRECV, -1, ECANCELED);
    CHECK_EQ(got[i].operationId, x);
    CHECK(got[i].buffer == bufs[i]);
    CHECK_EQ(got[i].bufferLength, sizeof bufs[i]);
    CHECK_POISONED(bufs[i], sizeof bufs[i]);
  }
  qt_expect_none(port, 100);
  /* The one with the other id still receives. */
  unsigned char data[5];
  ql_pattern(data, sizeof data, 1, 0);
  qt_write_all(sv[1], data, sizeof data);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK(ql_handle_of(&st) == 4);
  CHECK_DONE(st, QSOSTARTRECV, 5, 0);
  CHECK_PATTERN(bufs[4], 5, 1, 0);
  CHECK_EQ(QsoCancelOperation(sv[0], y), 0);
  CHECK_EQ(QsoCancelOperation(sv[0], x), 0);
}

TEST(cancel_recv_and_send_same_id) {
  int sv[2];
  qt_unix_pair(sv);
  int port = ql_port();
  size_t filled = ql_fill_sndbuf(sv[0]);
  unsigned char rbuf[32], sbuf[4096], zbuf[32];
  ql_poison(rbuf, sizeof rbuf);
  ql_pattern(sbuf, sizeof sbuf, 2, 0);
  ql_poison(zbuf, sizeof zbuf);
  Qso_OverlappedIO_t r = qt_io(rbuf, sizeof rbuf);
  r.operationId = 77;
  r.descriptorHandle = ql_handle(1);
  Qso_OverlappedIO_t s = qt_io(sbuf, sizeof sbuf);
  s.operationId = 77;
  s.descriptorHandle = ql_handle(2);
  Qso_OverlappedIO_t z = qt_io(zbuf, sizeof zbuf);
  z.operationId = 78;
  z.descriptorHandle = ql_handle(3);
  ql_start_recv_pending(sv[0], port, &r);
  ql_start_send_pending(sv[0], port, &s);
  ql_start_recv_pending(sv[0], port, &z);
  CHECK_EQ(QsoCancelOperation(sv[0], 77), 2);
  Qso_OverlappedIO_t got[4];
  wait_by_handle(port, 2, got, 2);
  CHECK_DONE(got[1], QSOSTARTRECV, -1, ECANCELED);
  CHECK_DONE(got[2], QSOSTARTSEND, -1, ECANCELED);
  CHECK_POISONED(rbuf, sizeof rbuf);
  /* The cancelled send never reaches the peer, even once there is room. */
  ql_drain_zeros(sv[1], filled);
  qt_expect_none(port, 150);
  unsigned char peek[16];
  CHECK_EQ(ql_peek(sv[1], peek, sizeof peek), 0);
  /* The receive with the other id is untouched and still works. */
  CHECK_EQ(QsoIsOperationPending(sv[0], 78), 1);
  unsigned char data[6];
  ql_pattern(data, sizeof data, 3, 0);
  qt_write_all(sv[1], data, sizeof data);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK(ql_handle_of(&st) == 3);
  CHECK_DONE(st, QSOSTARTRECV, 6, 0);
  CHECK_PATTERN(zbuf, 6, 3, 0);
}

TEST(cancel_accept_keeps_connection) {
  int lport;
  int l = qt_listener(&lport);
  int port = ql_port();
  Qso_OverlappedIO_t a = qt_io(NULL, 0);
  a.operationId = 5;
  ql_start_accept_pending(l, port, &a);
  CHECK_EQ(QsoCancelOperation(l, 5), 1);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_DONE(st, QSOSTARTACCEPT, -1, ECANCELED);
  CHECK_EQ(st.operationId, 5);
  CHECK(st.buffer == NULL);
  CHECK_EQ(st.bufferLength, 0);
  int c = qt_connect(lport);
  qt_expect_none(port, 150);
  Qso_OverlappedIO_t b = qt_io(NULL, 0);
  b.operationId = 6;
  int rc = QsoStartAccept(l, port, &b);
  int fd;
  if (rc == 0) {
    fd = b.returnValue;
  } else {
    CHECK_EQ(rc, 1);
    st = qt_wait(port, 2000);
    CHECK_EQ(st.operationId, 6);
    fd = st.returnValue;
  }
  CHECK(fd >= 0);
  qt_write_all(c, "k", 1);
  char k = 0;
  qt_read_all(fd, &k, 1);
  CHECK_EQ(k, 'k');
}

TEST(cancel_other_socket_same_id_unaffected) {
  int a[2], b[2];
  qt_tcp_pair(a);
  qt_tcp_pair(b);
  int port = ql_port();
  unsigned char ba[16], bb[16];
  Qso_OverlappedIO_t ia = qt_io(ba, sizeof ba), ib = qt_io(bb, sizeof bb);
  ia.operationId = ib.operationId = 5;
  ia.descriptorHandle = ql_handle(1);
  ib.descriptorHandle = ql_handle(2);
  ql_start_recv_pending(a[0], port, &ia);
  ql_start_recv_pending(b[0], port, &ib);
  CHECK_EQ(QsoCancelOperation(a[0], 5), 1);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK(ql_handle_of(&st) == 1);
  CHECK_DONE(st, QSOSTARTRECV, -1, ECANCELED);
  qt_expect_none(port, 100);
  CHECK_EQ(QsoIsOperationPending(b[0], 5), 1);
  qt_write_all(b[1], "hello", 5);
  st = qt_wait(port, 2000);
  CHECK(ql_handle_of(&st) == 2);
  CHECK_DONE(st, QSOSTARTRECV, 5, 0);
  CHECK(memcmp(bb, "hello", 5) == 0);
}

TEST(cancel_id_zero_is_ordinary) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char b1[16], b2[16], b3[16];
  ql_poison(b2, sizeof b2);
  Qso_OverlappedIO_t i1 = qt_io(b1, sizeof b1), i2 = qt_io(b2, sizeof b2),
                     i3 = qt_io(b3, sizeof b3);
  i1.operationId = 0;
  i2.operationId = 7;
  i3.operationId = 0;
  i1.descriptorHandle = ql_handle(1);
  i2.descriptorHandle = ql_handle(2);
  i3.descriptorHandle = ql_handle(3);
  ql_start_recv_pending(sv[0], port, &i1);
  ql_start_recv_pending(sv[0], port, &i2);
  ql_start_recv_pending(sv[0], port, &i3);
  CHECK_EQ(QsoIsOperationPending(sv[0], 0), 1);
  CHECK_EQ(QsoCancelOperation(sv[0], 0), 2);
  CHECK_EQ(QsoIsOperationPending(sv[0], 0), 0);
  Qso_OverlappedIO_t got[4];
  wait_by_handle(port, 2, got, 3);
  CHECK_DONE(got[1], QSOSTARTRECV, -1, ECANCELED);
  CHECK_DONE(got[3], QSOSTARTRECV, -1, ECANCELED);
  CHECK_EQ(got[1].operationId, 0);
  CHECK_EQ(got[3].operationId, 0);
  /* Id 0 did not mean "all": id 7 is still pending and receives. */
  CHECK_EQ(QsoIsOperationPending(sv[0], 7), 1);
  qt_expect_none(port, 100);
  qt_write_all(sv[1], "abc", 3);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK(ql_handle_of(&st) == 2);
  CHECK_DONE(st, QSOSTARTRECV, 3, 0);
  CHECK_EQ(QsoCancelOperation(sv[0], 0), 0);
}

TEST(cancel_nothing_pending_returns_zero) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  /* A socket the library never saw. */
  CHECK_EQ(QsoCancelOperation(sv[0], 1), 0);
  CHECK_EQ(QsoCancelOperation(sv[0], 0), 0);
  /* An operation already completed and returned by a wait. */
  unsigned char buf[16];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.operationId = 9;
  ql_start_recv_pending(sv[0], port, &io);
  qt_write_all(sv[1], "xy", 2);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_DONE(st, QSOSTARTRECV, 2, 0);
  CHECK_EQ(QsoCancelOperation(sv[0], 9), 0);
  /* An operation that finished inside its start call and was posted there (postFlag 1). */
  qt_write_all(sv[1], "zw", 2);
  CHECK(ql_readable(sv[0], 1000));
  Qso_OverlappedIO_t io2 = qt_io(buf, sizeof buf);
  io2.operationId = 10;
  io2.postFlag = 1;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io2), 1);
  CHECK_EQ(io2.postFlagResult, 1);
  CHECK_EQ(QsoIsOperationPending(sv[0], 10), 0);
  CHECK_EQ(QsoCancelOperation(sv[0], 10), 0);
  st = qt_wait(port, 1000);
  CHECK_EQ(st.operationId, 10);
  CHECK_DONE(st, QSOSTARTRECV, 2, 0);
  qt_expect_none(port, 100);
}

TEST(cancel_bad_descriptors) {
  int p[2];
  CHECK(pipe(p) == 0);
  CHECK_ERR(QsoCancelOperation(p[0], 1), ENOTSOCK);
  CHECK_ERR(QsoIsOperationPending(p[0], 1), ENOTSOCK);
  int sv[2];
  qt_unix_pair(sv);
  int dead = sv[0];
  CHECK_EQ(close(dead), 0);
  CHECK_ERR(QsoCancelOperation(dead, 1), EBADF);
  CHECK_ERR(QsoIsOperationPending(dead, 1), EBADF);
  CHECK_ERR(QsoCancelOperation(-1, 1), EBADF);
}

TEST(cancel_recv_takes_no_byte_sent_after) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[64];
  ql_poison(buf, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.operationId = 3;
  ql_start_recv_pending(sv[0], port, &io);
  CHECK_EQ(QsoCancelOperation(sv[0], 3), 1);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_DONE(st, QSOSTARTRECV, -1, ECANCELED);
  unsigned char data[40];
  ql_pattern(data, sizeof data, 4, 0);
  qt_write_all(sv[1], data, sizeof data);
  qt_expect_none(port, 150);
  CHECK_POISONED(buf, sizeof buf);
  /* A new receive gets every byte. */
  unsigned char buf2[64];
  Qso_OverlappedIO_t io2 = qt_io(buf2, sizeof buf2);
  io2.fillBuffer = 1;
  io2.bufferLength = 40;
  io2 = ql_recv_at_once_or_wait(sv[0], port, io2, 2000);
  CHECK_DONE(io2, QSOSTARTRECV, 40, 0);
  CHECK_PATTERN(buf2, 40, 4, 0);
}

TEST(cancel_recv_takes_no_byte_sent_before) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[64];
  ql_poison(buf, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.operationId = 3;
  ql_start_recv_pending(sv[0], port, &io);
  unsigned char data[40];
  ql_pattern(data, sizeof data, 5, 0);
  qt_write_all(sv[1], data, sizeof data);
  CHECK(ql_readable(sv[0], 1000));
  int crc = QsoCancelOperation(sv[0], 3);
  size_t have = 0;
  unsigned char all[40];
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  if (crc == 1) {
    CHECK_DONE(st, QSOSTARTRECV, -1, ECANCELED);
    CHECK_POISONED(buf, sizeof buf);
  } else {
    /* No waiter ran, yet the library made progress on its own: then it must be the data. */
    CHECK_EQ(crc, 0);
    CHECK_EQ(st.errnoValue, 0);
    CHECK(st.returnValue > 0);
    memcpy(all, buf, (size_t)st.returnValue);
    have = (size_t)st.returnValue;
  }
  qt_expect_none(port, 100);
  while (have < sizeof all) {
    unsigned char buf2[64];
    Qso_OverlappedIO_t io2 = qt_io(buf2, sizeof all - have);
    io2 = ql_recv_at_once_or_wait(sv[0], port, io2, 2000);
    CHECK_EQ(io2.errnoValue, 0);
    CHECK(io2.returnValue > 0);
    memcpy(all + have, buf2, (size_t)io2.returnValue);
    have += (size_t)io2.returnValue;
  }
  CHECK_PATTERN(all, sizeof all, 5, 0);
}

TEST(cancel_wakes_waiting_thread) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[16];
  ql_poison(buf, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.operationId = 8;
  ql_start_recv_pending(sv[0], port, &io);
  struct ql_waiter w;
  ql_waiter_start(&w, port, -1);
  ql_sleep_ms(100);
  long long t0 = qt_now_ms();
  CHECK_EQ(QsoCancelOperation(sv[0], 8), 1);
  ql_waiter_join(&w);
  CHECK(w.done_ms - t0 < 500);
  CHECK_EQ(w.rc, 1);
  CHECK_DONE(w.st, QSOSTARTRECV, -1, ECANCELED);
  CHECK_POISONED(buf, sizeof buf);
}

TEST(cancel_timed_recv_no_late_eagain) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[16];
  Qso_OverlappedIO_t io = ql_io_timed(buf, sizeof buf, 1);
  io.operationId = 4;
  ql_start_recv_pending(sv[0], port, &io);
  CHECK_EQ(QsoCancelOperation(sv[0], 4), 1);
  Qso_OverlappedIO_t st = qt_wait(port, 500);
  CHECK_DONE(st, QSOSTARTRECV, -1, ECANCELED);
  qt_expect_none(port, 1300);
}

/* Receives (through the library) what is still in the socket, so the next round starts empty. */
static void drain(int sd, int port, struct ql_collector *c, int *ops, unsigned char *stream,
                  size_t *received, size_t sent) {
  while (*received < sent) {
    unsigned char buf[256];
    Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
    io.postFlag = 1;
    io.descriptorHandle = ql_handle(999999);
    CHECK_EQ(QsoStartRecv(sd, port, &io), 1);
    (*ops)++;
    CHECK(ql_collector_await(c, *ops, 2000) == *ops);
    Qso_OverlappedIO_t st = ql_collector_get(c, *ops - 1);
    CHECK(ql_handle_of(&st) == 999999);
    CHECK_EQ(st.errnoValue, 0);
    CHECK(st.returnValue > 0);
    CHECK(*received + (size_t)st.returnValue <= sent);
    memcpy(stream + *received, buf, (size_t)st.returnValue);
    *received += (size_t)st.returnValue;
  }
}

/*
 * The race: a collector thread leads the port (performs I/O) while the main thread sends and
 * cancels. Each operation ends once; cancel's count agrees with the ending; the bytes received
 * across all operations are exactly the bytes sent, in order.
 */
static void cancel_race(int iterations, int fill, size_t oplen, size_t chunk) {
  int sv[2];
  qt_unix_pair(sv);
  int port = ql_port();
  struct ql_collector *c = ql_collector_start(port);
  size_t total = (size_t)iterations * chunk * 2;
  unsigned char *stream = (unsigned char *)malloc(total + 64);
  unsigned char *bufs = (unsigned char *)malloc((size_t)iterations * oplen);
  CHECK(stream != NULL && bufs != NULL);
  ql_poison(bufs, (size_t)iterations * oplen);
  size_t sent = 0, received = 0;
  int cancelled = 0, partial = 0;
  int ops = 0;
  long long deadline = qt_now_ms() + 20000;
  for (int i = 0; i < iterations && qt_now_ms() < deadline; i++) {
    unsigned char *buf = bufs + (size_t)i * oplen;
    Qso_OverlappedIO_t io = qt_io(buf, oplen);
    io.postFlag = 1;
    io.fillBuffer = (unsigned)fill;
    io.descriptorHandle = ql_handle((uintptr_t)i + 1);
    io.operationId = (unsigned long long)i + 1;
    CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
    ops++;
    int send_first = (i % 3) != 2;
    size_t n = chunk * (size_t)(1 + (i % 2));
    unsigned char data[256];
    CHECK(n <= sizeof data);
    ql_pattern(data, n, 9, sent);
    if (send_first) {
      qt_write_all(sv[1], data, n);
      sent += n;
      for (volatile int spin = 0; spin < (i % 17) * 1500; spin++) {
      }
    }
    int crc = QsoCancelOperation(sv[0], (unsigned long long)i + 1);
    CHECK(crc == 0 || crc == 1);
    if (!send_first) {
      qt_write_all(sv[1], data, n);
      sent += n;
    }
    if (ql_collector_await(c, ops, 3000) < ops)
      QT_FAIL("iteration %d: operation never completed (cancel returned %d)", i, crc);
    CHECK_EQ(ql_collector_count(c), ops);
    Qso_OverlappedIO_t st = ql_collector_get(c, ops - 1);
    CHECK(ql_handle_of(&st) == (uintptr_t)i + 1);
    CHECK_EQ(st.operationCompleted, QSOSTARTRECV);
    if (crc == 1) {
      if (st.errnoValue != ECANCELED)
        QT_FAIL("iteration %d: cancel returned 1 but the completion is rv %d errno %d", i,
                st.returnValue, st.errnoValue);
      cancelled++;
      if (st.returnValue == -1) {
        CHECK_POISONED(buf, oplen);
        continue;
      }
      /* A fill receive cancelled after placing bytes reports them. */
      CHECK(fill);
      CHECK(st.returnValue > 0 && (size_t)st.returnValue < oplen);
      partial++;
    } else {
      if (st.errnoValue != 0 || st.returnValue <= 0)
        QT_FAIL("iteration %d: cancel returned 0 but the completion is rv %d errno %d", i,
                st.returnValue, st.errnoValue);
      if (fill)
        CHECK_EQ(st.returnValue, (int)oplen);
    }
    CHECK_POISONED(buf + st.returnValue, oplen - (size_t)st.returnValue);
    memcpy(stream + received, buf, (size_t)st.returnValue);
    received += (size_t)st.returnValue;
    CHECK(received <= sent);
    if (received < sent)
      drain(sv[0], port, c, &ops, stream, &received, sent);
  }
  drain(sv[0], port, c, &ops, stream, &received, sent);
  CHECK_EQ(received, sent);
  CHECK_PATTERN(stream, sent, 9, 0);
  ql_sleep_ms(100);
  ql_collector_stop(c);
  CHECK_EQ(c->n, ops);
  fprintf(stderr, "  (%d operations: %d cancelled, %d of them partial; %zu bytes)\n", ops,
          cancelled, partial, sent);
  free(stream);
  free(bufs);
}

TEST_T(cancel_race_exactly_once_no_byte_lost, 30) { cancel_race(500, 0, 64, 16); }

TEST_T(cancel_race_fill_partial_no_byte_lost, 30) { cancel_race(400, 1, 24, 16); }
