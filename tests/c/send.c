/*
 * send.c - QsoStartSend (spec §4): immediate and asynchronous sends, whole buffers in order,
 * errors from a closed or reset peer without SIGPIPE, the struct handed back, blocking mode,
 * and every refusal.
 */
#include "qt_extra.h"

TEST(immediate_send_returns_0_with_the_count) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char msg[] = "immediate";
  Qso_OverlappedIO_t io = qt_io(msg, 9);
  io.operationId = 3;
  CHECK_EQ(QsoStartSend(sv[0], port, &io), 0);
  CHECK_EQ(io.returnValue, 9);
  CHECK_EQ(io.errnoValue, 0);
  CHECK_EQ(io.operationId, 3);
  char got[9];
  qt_read_all(sv[1], got, 9);
  CHECK(memcmp(got, "immediate", 9) == 0);
  qt_expect_none(port, 100);
}

TEST(immediate_send_postflag1_is_posted) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char msg[] = "posted";
  Qso_OverlappedIO_t io = qt_io(msg, 6);
  io.postFlag = 1;
  io.operationId = 4;
  CHECK_EQ(QsoStartSend(sv[0], port, &io), 1);
  CHECK_EQ(io.postFlagResult, 1);
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(0, 0);
  CHECK_EQ(QsoWaitForIOCompletion(port, &st, &tv), 1);
  CHECK_EQ(st.operationCompleted, QSOSTARTSEND);
  CHECK_EQ(st.returnValue, 6);
  CHECK_EQ(st.errnoValue, 0);
  CHECK_EQ(st.operationId, 4);
  char got[6];
  qt_read_all(sv[1], got, 6);
  CHECK(memcmp(got, "posted", 6) == 0);
}

struct drainer {
  int fd;
  size_t len;
  unsigned char *buf;
  long delay_ms;
};

static void *drain(void *p) {
  struct drainer *d = (struct drainer *)p;
  qt_sleep_ms(d->delay_ms);
  qt_read_all(d->fd, d->buf, d->len);
  return NULL;
}

TEST_T(large_send_completes_after_peer_drains, 20) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  enum { LEN = 8 << 20 };
  unsigned char *data = malloc(LEN), *got = malloc(LEN);
  CHECK(data && got);
  qt_pattern(data, LEN, 11);
  Qso_OverlappedIO_t io = qt_io(data, LEN);
  io.postFlag = 1;
  io.operationId = 8;
  CHECK_EQ(QsoStartSend(sv[0], port, &io), 1);
  CHECK_EQ(io.postFlagResult, 0); /* the peer is not reading: it cannot finish at once */
  qt_expect_none(port, 200);
  struct drainer d = {sv[1], LEN, got, 0};
  pthread_t t = qt_thread(drain, &d);
  Qso_OverlappedIO_t st = qt_wait(port, 10000);
  qt_join(t);
  CHECK_EQ(st.operationCompleted, QSOSTARTSEND);
  CHECK_EQ(st.returnValue, LEN);
  CHECK_EQ(st.errnoValue, 0);
  CHECK_EQ(st.operationId, 8);
  CHECK(qt_pattern_mismatch(got, LEN, 11) == (size_t)-1);
}

TEST_T(several_sends_go_out_whole_and_in_order, 20) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  enum { N = 4, LEN = 1 << 20 };
  unsigned char *blk[N];
  int async = 0;
  for (int i = 0; i < N; i++) {
    blk[i] = malloc(LEN);
    CHECK(blk[i]);
    qt_pattern(blk[i], LEN, (unsigned)(100 + i));
    Qso_OverlappedIO_t io = qt_io(blk[i], LEN);
    io.operationId = (unsigned long long)(i + 1);
    int rc = QsoStartSend(sv[0], port, &io);
    CHECK(rc == 0 || rc == 1);
    if (rc == 0) { /* finished at once: only possible before anything is queued */
      CHECK_EQ(async, 0);
      CHECK_EQ(io.returnValue, LEN);
    } else {
      async++;
    }
  }
  CHECK(async >= 1); /* 4 MiB cannot all fit in the socket buffers of an idle peer */
  unsigned char *got = malloc((size_t)N * LEN);
  CHECK(got);
  struct drainer d = {sv[1], (size_t)N * LEN, got, 100};
  pthread_t t = qt_thread(drain, &d);
  /* Completions for the asynchronous ones come in start order with the whole count. */
  unsigned long long expect = (unsigned long long)(N - async + 1);
  for (int n = 0; n < async; n++, expect++) {
    Qso_OverlappedIO_t st = qt_wait(port, 10000);
    CHECK_EQ(st.operationCompleted, QSOSTARTSEND);
    CHECK_EQ(st.operationId, expect);
    CHECK_EQ(st.returnValue, LEN);
    CHECK_EQ(st.errnoValue, 0);
  }
  qt_join(t);
  for (int i = 0; i < N; i++) {
    size_t bad = qt_pattern_mismatch(got + (size_t)i * LEN, LEN, (unsigned)(100 + i));
    if (bad != (size_t)-1)
      QT_FAIL("block %d differs at byte %zu (interleaved or reordered)", i, bad);
  }
  qt_expect_empty(port);
}

TEST(many_small_sends_in_order) {
  int port = qt_port(), sv[2];
  qt_unix_pair(sv);
  enum { N = 200 };
  static char msgs[N][8];
  int pending = 0;
  for (int i = 0; i < N; i++) {
    snprintf(msgs[i], sizeof msgs[i], "%07d", i % N); /* i < N: keeps the width obvious */
    Qso_OverlappedIO_t io = qt_io(msgs[i], 7);
    io.postFlag = 1;
    io.operationId = (unsigned long long)i;
    CHECK_EQ(QsoStartSend(sv[0], port, &io), 1);
    pending++;
  }
  char got[N * 7 + 1];
  qt_read_all(sv[1], got, N * 7);
  for (int i = 0; i < N; i++)
    CHECK(memcmp(got + i * 7, msgs[i], 7) == 0);
  for (int i = 0; i < pending; i++) {
    Qso_OverlappedIO_t st = qt_wait(port, 2000);
    CHECK_EQ(st.operationId, (unsigned long long)i);
    CHECK_EQ(st.returnValue, 7);
  }
}

/* Sends until the library reports the broken connection (bounded). */
static void expect_broken(int sd, int port) {
  static char chunk[65536];
  for (int i = 0; i < 100; i++) {
    Qso_OverlappedIO_t io = qt_io(chunk, sizeof chunk);
    errno = 0;
    int rc = QsoStartSend(sd, port, &io);
    if (rc == -1) {
      if (errno != EPIPE && errno != ECONNRESET)
        QT_FAIL("start send failed with errno %d, expected EPIPE or ECONNRESET", errno);
      return;
    }
    Qso_OverlappedIO_t st = io;
    if (rc == 1)
      st = qt_wait(port, 3000);
    if (st.errnoValue != 0) {
      if (st.returnValue != -1 && (st.returnValue <= 0 || st.returnValue >= (int)sizeof chunk))
        QT_FAIL("failed send returned %d, expected -1 or a partial count", st.returnValue);
      if (st.errnoValue != EPIPE && st.errnoValue != ECONNRESET)
        QT_FAIL("send completed with errno %d, expected EPIPE or ECONNRESET", st.errnoValue);
      CHECK_EQ(st.operationCompleted, QSOSTARTSEND);
      return;
    }
    CHECK_EQ(st.returnValue, (int)sizeof chunk);
    qt_sleep_ms(10);
  }
  QT_FAIL("100 sends to a closed peer all succeeded");
}

TEST(send_to_closed_peer_fails_without_sigpipe) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  close(sv[1]);
  qt_sleep_ms(50);
  expect_broken(sv[0], port);
}

TEST(send_after_own_shutdown_epipe_without_sigpipe) {
  int port = qt_port(), sv[2];
  qt_unix_pair(sv);
  CHECK(shutdown(sv[0], SHUT_WR) == 0);
  char msg[] = "nope";
  Qso_OverlappedIO_t io = qt_io(msg, 4);
  errno = 0;
  int rc = QsoStartSend(sv[0], port, &io);
  if (rc == -1) {
    CHECK_EQ(errno, EPIPE);
  } else {
    Qso_OverlappedIO_t st = rc == 1 ? qt_wait(port, 2000) : io;
    CHECK_EQ(st.returnValue, -1);
    CHECK_EQ(st.errnoValue, EPIPE);
  }
}

TEST_T(pending_send_to_reset_peer_completes_with_error, 15) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  enum { LEN = 8 << 20 };
  unsigned char *data = malloc(LEN);
  CHECK(data);
  memset(data, 'r', LEN);
  Qso_OverlappedIO_t io = qt_io(data, LEN);
  CHECK_EQ(QsoStartSend(sv[0], port, &io), 1);
  qt_expect_none(port, 100);
  struct linger lg = {1, 0};
  CHECK(setsockopt(sv[1], SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
  close(sv[1]); /* unread data + linger 0: the peer resets */
  Qso_OverlappedIO_t st = qt_wait(port, 5000);
  CHECK_EQ(st.operationCompleted, QSOSTARTSEND);
  /* -1, or the bytes that went out before the reset (never the whole count) ... */
  if (st.returnValue != -1 && (st.returnValue <= 0 || st.returnValue >= LEN))
    QT_FAIL("returnValue %d, expected -1 or a partial count", st.returnValue);
  /* ... with the reason. */
  if (st.errnoValue != EPIPE && st.errnoValue != ECONNRESET)
    QT_FAIL("errnoValue %d, expected EPIPE or ECONNRESET", st.errnoValue);
}

TEST(completion_keeps_the_struct_as_given) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char msg[] = "fields";
  Qso_OverlappedIO_t io = qt_io(msg, 6);
  io.descriptorHandle = qt_odd_ptr(0xAAAABBBBCCCCDDDDULL);
  io.postFlag = 1;
  io.fillBuffer = 1;
  io.operationId = 424242;
  io.returnValue = -77;
  io.errnoValue = 77;
  CHECK_EQ(QsoStartSend(sv[0], port, &io), 1);
  CHECK_EQ(io.postFlagResult, 1);
  memset(&io, 0xFF, sizeof io);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK(qt_ptr_bits(st.descriptorHandle) == 0xAAAABBBBCCCCDDDDULL);
  CHECK(st.buffer == msg);
  CHECK_EQ(st.bufferLength, 6);
  CHECK_EQ(st.postFlag, 1);
  CHECK_EQ(st.fillBuffer, 1);
  CHECK_EQ(st.operationId, 424242);
  CHECK_EQ(st.returnValue, 6);
  CHECK_EQ(st.errnoValue, 0);
  CHECK_EQ(st.operationCompleted, QSOSTARTSEND);
  CHECK_EQ(st.secureDataTransferSize, 0);
}

TEST(blocking_mode_is_preserved) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  int before = qt_fl(sv[0]);
  CHECK((before & O_NONBLOCK) == 0);
  enum { LEN = 4 << 20 };
  unsigned char *data = malloc(LEN), *got = malloc(LEN);
  CHECK(data && got);
  memset(data, 'b', LEN);
  Qso_OverlappedIO_t io = qt_io(data, LEN);
  CHECK_EQ(QsoStartSend(sv[0], port, &io), 1);
  CHECK_EQ(qt_fl(sv[0]), before);
  struct drainer d = {sv[1], LEN, got, 0};
  pthread_t t = qt_thread(drain, &d);
  Qso_OverlappedIO_t st = qt_wait(port, 5000);
  qt_join(t);
  CHECK_EQ(st.returnValue, LEN);
  CHECK_EQ(qt_fl(sv[0]), before);
  io = qt_io(data, 10);
  CHECK_EQ(QsoStartSend(sv[0], port, &io), 0);
  CHECK_EQ(qt_fl(sv[0]), before);
  qt_read_all(sv[1], got, 10);
}

TEST(unix_socketpair_works) {
  int port = qt_port(), sv[2];
  qt_unix_pair(sv);
  char msg[] = "over unix";
  Qso_OverlappedIO_t io = qt_io(msg, 9);
  io.postFlag = 1;
  CHECK_EQ(QsoStartSend(sv[0], port, &io), 1);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.returnValue, 9);
  char got[9];
  qt_read_all(sv[1], got, 9);
  CHECK(memcmp(got, msg, 9) == 0);
}

/* ---- refusals ---- */

TEST(null_io_or_unknown_port_einval) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  CHECK_REFUSED(QsoStartSend(sv[0], port, NULL), EINVAL, port);
  char msg[] = "x";
  Qso_OverlappedIO_t io = qt_io(msg, 1);
  CHECK_ERR(QsoStartSend(sv[0], -1, &io), EINVAL);
  CHECK_ERR(QsoStartSend(sv[0], 99999, &io), EINVAL);
  /* Nothing was sent. */
  CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
  char got[4];
  CHECK_ERR(recv(sv[1], got, sizeof got, 0), EAGAIN);
}

TEST(null_buffer_or_zero_length_einval) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  Qso_OverlappedIO_t io = qt_io(NULL, 8);
  CHECK_REFUSED(QsoStartSend(sv[0], port, &io), EINVAL, port);
  char msg[] = "x";
  io = qt_io(msg, 0);
  CHECK_REFUSED(QsoStartSend(sv[0], port, &io), EINVAL, port);
}

TEST(closed_fd_ebadf) {
  int port = qt_port();
  char msg[] = "x";
  Qso_OverlappedIO_t io = qt_io(msg, 1);
  CHECK_REFUSED(QsoStartSend(qt_closed_fd(), port, &io), EBADF, port);
  CHECK_REFUSED(QsoStartSend(-1, port, &io), EBADF, port);
}

TEST(not_a_socket_enotsock) {
  int port = qt_port();
  char msg[] = "x";
  Qso_OverlappedIO_t io = qt_io(msg, 1);
  int f = qt_file_fd();
  CHECK_REFUSED(QsoStartSend(f, port, &io), ENOTSOCK, port);
  int w;
  int r = qt_pipe_fd(&w);
  (void)r;
  CHECK_REFUSED(QsoStartSend(w, port, &io), ENOTSOCK, port);
}

TEST(udp_socket_eopnotsupp) {
  int port = qt_port();
  int peer;
  int fd = qt_udp_fd(&peer);
  char msg[] = "x";
  Qso_OverlappedIO_t io = qt_io(msg, 1);
  CHECK_REFUSED(QsoStartSend(fd, port, &io), EOPNOTSUPP, port);
}

TEST(unconnected_or_listening_enotconn) {
  int port = qt_port();
  char msg[] = "x";
  Qso_OverlappedIO_t io = qt_io(msg, 1);
  CHECK_REFUSED(QsoStartSend(qt_unconnected_tcp(), port, &io), ENOTCONN, port);
  int lp;
  int l = qt_listener(&lp);
  CHECK_REFUSED(QsoStartSend(l, port, &io), ENOTCONN, port);
}

TEST(malformed_wait_time_einval) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char msg[] = "x";
  Qso_OverlappedIO_t io = qt_io(msg, 1);
  io.operationWaitTime = qt_tv(-3, 0);
  CHECK_REFUSED(QsoStartSend(sv[0], port, &io), EINVAL, port);
  io.operationWaitTime = qt_tv(2, 250000);
  CHECK_REFUSED(QsoStartSend(sv[0], port, &io), EINVAL, port);
  CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
  char got[4];
  CHECK_ERR(recv(sv[1], got, sizeof got, 0), EAGAIN);
}
