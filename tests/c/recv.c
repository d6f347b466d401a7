/*
 * recv.c - QsoStartRecv (spec §4): immediate and asynchronous receives, postFlag and
 * postFlagResult, fillBuffer, EOF, several outstanding receives, the struct handed back, blocking
 * mode, and every refusal (-1 with errno, nothing posted).
 */
#include "qt_extra.h"

TEST(immediate_data_postflag0_returns_0) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  qt_write_all(sv[1], "hello", 5);
  qt_wait_readable(sv[0], 1000);
  char buf[32];
  memset(buf, 0, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.operationId = 5;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 0);
  CHECK_EQ(io.returnValue, 5);
  CHECK_EQ(io.errnoValue, 0);
  CHECK(memcmp(buf, "hello", 5) == 0);
  CHECK_EQ(io.operationId, 5);
  CHECK(io.buffer == buf);
  qt_expect_none(port, 100); /* nothing posted */
}

TEST(immediate_data_postflag1_is_posted) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  qt_write_all(sv[1], "posted", 6);
  qt_wait_readable(sv[0], 1000);
  char buf[32];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.postFlag = 1;
  io.operationId = 6;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  CHECK_EQ(io.postFlagResult, 1);
  /* Already posted: a poll finds it without waiting. */
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(0, 0);
  CHECK_EQ(QsoWaitForIOCompletion(port, &st, &tv), 1);
  CHECK_EQ(st.operationCompleted, QSOSTARTRECV);
  CHECK_EQ(st.returnValue, 6);
  CHECK_EQ(st.errnoValue, 0);
  CHECK_EQ(st.operationId, 6);
  CHECK(memcmp(buf, "posted", 6) == 0);
  qt_expect_empty(port);
}

TEST(no_data_completes_when_peer_sends) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char buf[32];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.postFlagResult = 1; /* the library must clear it */
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  CHECK_EQ(io.postFlagResult, 0);
  qt_expect_none(port, 150);
  qt_write_all(sv[1], "later", 5);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.operationCompleted, QSOSTARTRECV);
  CHECK_EQ(st.returnValue, 5);
  CHECK_EQ(st.errnoValue, 0);
  CHECK(memcmp(buf, "later", 5) == 0);
}

TEST(postflag1_without_data_is_pending) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.postFlag = 1;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  CHECK_EQ(io.postFlagResult, 0);
  qt_expect_none(port, 100);
  qt_write_all(sv[1], "x", 1);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.returnValue, 1);
  CHECK_EQ(st.postFlag, 1);
  CHECK_EQ(buf[0], 'x');
}

TEST(peer_close_completes_with_0) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  qt_expect_none(port, 100);
  close(sv[1]);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.operationCompleted, QSOSTARTRECV);
  CHECK_EQ(st.returnValue, 0);
  CHECK_EQ(st.errnoValue, 0);
}

TEST(immediate_eof_returns_0_with_0_bytes) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  close(sv[1]);
  qt_wait_readable(sv[0], 1000);
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 0);
  CHECK_EQ(io.returnValue, 0);
  CHECK_EQ(io.errnoValue, 0);
  qt_expect_empty(port);
}

TEST(without_fill_completes_with_what_is_there) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char buf[64];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  qt_write_all(sv[1], "0123456789", 10);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.returnValue, 10);
  CHECK(memcmp(buf, "0123456789", 10) == 0);
}

struct piece_sender {
  int fd;
  const char *data;
  size_t piece, total;
  long pause_ms;
  int close_after;
};

static void *send_pieces(void *p) {
  struct piece_sender *s = (struct piece_sender *)p;
  for (size_t off = 0; off < s->total; off += s->piece) {
    qt_sleep_ms(s->pause_ms);
    size_t n = s->total - off < s->piece ? s->total - off : s->piece;
    qt_write_all(s->fd, s->data + off, n);
  }
  if (s->close_after) {
    qt_sleep_ms(s->pause_ms);
    close(s->fd);
  }
  return NULL;
}

TEST(fill_buffer_completes_only_when_full) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  static const char data[] = "AAAAAAAAAABBBBBBBBBBCCCCCCCCCC"; /* 30 bytes */
  char buf[30];
  memset(buf, 0, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.fillBuffer = 1;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  struct piece_sender s = {sv[1], data, 10, 30, 150, 0};
  long long t0 = qt_now_ms();
  pthread_t t = qt_thread(send_pieces, &s);
  Qso_OverlappedIO_t st = qt_wait(port, 3000);
  long long el = qt_now_ms() - t0;
  qt_join(t);
  CHECK(el >= 400); /* not before the third piece */
  CHECK_EQ(st.returnValue, 30);
  CHECK_EQ(st.errnoValue, 0);
  CHECK_EQ(st.fillBuffer, 1);
  CHECK(memcmp(buf, data, 30) == 0);
}

TEST(fill_buffer_immediate_when_already_full) {
  int port = qt_port(), sv[2];
  qt_unix_pair(sv);
  qt_write_all(sv[1], "0123456789abcdef", 16);
  qt_wait_readable(sv[0], 1000);
  char buf[16];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.fillBuffer = 1;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 0);
  CHECK_EQ(io.returnValue, 16);
  CHECK(memcmp(buf, "0123456789abcdef", 16) == 0);
  /* Half there: not finished at once. */
  qt_write_all(sv[1], "01234567", 8);
  qt_wait_readable(sv[0], 1000);
  io = qt_io(buf, sizeof buf);
  io.fillBuffer = 1;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  CHECK_EQ(io.postFlagResult, 0);
  qt_expect_none(port, 100);
  qt_write_all(sv[1], "89abcdef", 8);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.returnValue, 16);
  CHECK(memcmp(buf, "0123456789abcdef", 16) == 0);
}

TEST(fill_buffer_ends_early_at_eof_with_the_bytes) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  static const char data[] = "abcdefghijkl"; /* 12 bytes */
  char buf[30];
  memset(buf, 0, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.fillBuffer = 1;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  struct piece_sender s = {sv[1], data, 6, 12, 100, 1};
  pthread_t t = qt_thread(send_pieces, &s);
  Qso_OverlappedIO_t st = qt_wait(port, 3000);
  qt_join(t);
  CHECK_EQ(st.returnValue, 12);
  CHECK_EQ(st.errnoValue, 0);
  CHECK(memcmp(buf, data, 12) == 0);
}

TEST_T(fill_buffer_large_transfer, 20) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  enum { LEN = 4 << 20 };
  unsigned char *data = malloc(LEN), *buf = malloc(LEN);
  CHECK(data && buf);
  qt_pattern(data, LEN, 3);
  memset(buf, 0, LEN);
  Qso_OverlappedIO_t io = qt_io(buf, LEN);
  io.fillBuffer = 1;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  struct piece_sender s = {sv[1], (const char *)data, 65536, LEN, 0, 0};
  pthread_t t = qt_thread(send_pieces, &s);
  Qso_OverlappedIO_t st = qt_wait(port, 10000);
  qt_join(t);
  CHECK_EQ(st.returnValue, LEN);
  CHECK(qt_pattern_mismatch(buf, LEN, 3) == (size_t)-1);
}

TEST(several_receives_complete_in_start_order) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char b[3][4];
  memset(b, 0, sizeof b);
  for (int i = 0; i < 3; i++) {
    Qso_OverlappedIO_t io = qt_io(b[i], 4);
    io.operationId = (unsigned long long)(i + 1);
    CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  }
  qt_expect_none(port, 100);
  qt_write_all(sv[1], "AAAABBBBCCCC", 12);
  for (int i = 0; i < 3; i++) {
    Qso_OverlappedIO_t st = qt_wait(port, 2000);
    CHECK_EQ(st.operationId, (unsigned long long)(i + 1));
    CHECK_EQ(st.returnValue, 4);
    CHECK(st.buffer == b[i]);
  }
  CHECK(memcmp(b[0], "AAAA", 4) == 0);
  CHECK(memcmp(b[1], "BBBB", 4) == 0);
  CHECK(memcmp(b[2], "CCCC", 4) == 0);
}

TEST(several_receives_each_get_their_own_pieces) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char b[3][16];
  memset(b, 0, sizeof b);
  for (int i = 0; i < 3; i++) {
    Qso_OverlappedIO_t io = qt_io(b[i], 16);
    io.operationId = (unsigned long long)(10 + i);
    CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  }
  const char *msg[3] = {"first", "second", "third"};
  for (int i = 0; i < 3; i++) {
    qt_write_all(sv[1], msg[i], strlen(msg[i]));
    Qso_OverlappedIO_t st = qt_wait(port, 2000);
    CHECK_EQ(st.operationId, (unsigned long long)(10 + i));
    CHECK_EQ(st.returnValue, (int)strlen(msg[i]));
    CHECK(memcmp(b[i], msg[i], strlen(msg[i])) == 0);
    if (i < 2)
      qt_expect_none(port, 50);
  }
}

TEST(completion_keeps_the_struct_as_given) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char buf[20];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.descriptorHandle = qt_odd_ptr(0x0123456789ABCDEFULL);
  io.postFlag = 1;
  io.fillBuffer = 1;
  io.operationId = 0xFFFFFFFFFFFFFFFEULL;
  io.returnValue = 999;
  io.errnoValue = 999;
  io.operationCompleted = 999;
  io.bytesAvailable = 77; /* recv reports bytesAvailable 0 */
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  CHECK_EQ(io.postFlagResult, 0);
  memset(&io, 0, sizeof io); /* the caller's struct is free at once */
  qt_write_all(sv[1], "0123456789ABCDEFGHIJ", 20);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK(qt_ptr_bits(st.descriptorHandle) == 0x0123456789ABCDEFULL);
  CHECK(st.buffer == buf);
  CHECK(st.bufferLength == sizeof buf);
  CHECK_EQ(st.postFlag, 1);
  CHECK_EQ(st.fillBuffer, 1);
  CHECK(st.operationId == 0xFFFFFFFFFFFFFFFEULL);
  CHECK_EQ(st.returnValue, 20);
  CHECK_EQ(st.errnoValue, 0);
  CHECK_EQ(st.operationCompleted, QSOSTARTRECV);
  CHECK_EQ(st.bytesAvailable, 0);
  CHECK_EQ(st.secureDataTransferSize, 0);
  CHECK_EQ(st.operationWaitTime.tv_sec, 0);
}

TEST(unix_socketpair_works) {
  int port = qt_port(), sv[2];
  qt_unix_pair(sv);
  char buf[16];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  qt_write_all(sv[1], "unix!", 5);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.returnValue, 5);
  CHECK(memcmp(buf, "unix!", 5) == 0);
}

TEST(ipv6_loopback_works) {
  int port = qt_port();
  int l = socket(AF_INET6, SOCK_STREAM, 0);
  CHECK(l >= 0);
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof a);
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
  CHECK(listen(l, 4) == 0);
  socklen_t len = sizeof a;
  CHECK(getsockname(l, (struct sockaddr *)&a, &len) == 0);
  int c = socket(AF_INET6, SOCK_STREAM, 0);
  CHECK(c >= 0);
  CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
  int s = accept(l, NULL, NULL);
  CHECK(s >= 0);
  char buf[16];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_EQ(QsoStartRecv(s, port, &io), 1);
  qt_write_all(c, "six", 3);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.returnValue, 3);
  CHECK(memcmp(buf, "six", 3) == 0);
}

TEST(blocking_mode_is_preserved) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  int before = qt_fl(sv[0]);
  CHECK((before & O_NONBLOCK) == 0);
  char buf[16];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1); /* pending */
  CHECK_EQ(qt_fl(sv[0]), before);
  qt_write_all(sv[1], "a", 1);
  (void)qt_wait(port, 2000);
  CHECK_EQ(qt_fl(sv[0]), before);
  qt_write_all(sv[1], "b", 1);
  qt_wait_readable(sv[0], 1000);
  io = qt_io(buf, sizeof buf);
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 0); /* immediate */
  CHECK_EQ(qt_fl(sv[0]), before);
  /* A caller's non-blocking socket stays non-blocking. */
  CHECK(fcntl(sv[1], F_SETFL, qt_fl(sv[1]) | O_NONBLOCK) == 0);
  int nb = qt_fl(sv[1]);
  io = qt_io(buf, sizeof buf);
  CHECK_EQ(QsoStartRecv(sv[1], port, &io), 1);
  qt_write_all(sv[0], "c", 1);
  (void)qt_wait(port, 2000);
  CHECK_EQ(qt_fl(sv[1]), nb);
  /* A blocking recv() by the caller still blocks (and gets the data) after all that. */
  qt_write_all(sv[1], "d", 1);
  CHECK_EQ(recv(sv[0], buf, 1, 0), 1);
  CHECK_EQ(buf[0], 'd');
}

TEST(struct_reused_at_once_does_not_change_the_operation) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char b1[8], b2[8];
  memset(b1, 0, sizeof b1);
  memset(b2, 0, sizeof b2);
  Qso_OverlappedIO_t io = qt_io(b1, sizeof b1);
  io.operationId = 1;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  io = qt_io(b2, sizeof b2); /* reuse for a second receive */
  io.operationId = 2;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  qt_write_all(sv[1], "11111111", 8);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.operationId, 1);
  CHECK(st.buffer == b1);
  CHECK(memcmp(b1, "11111111", 8) == 0);
  qt_write_all(sv[1], "22222222", 8);
  st = qt_wait(port, 2000);
  CHECK_EQ(st.operationId, 2);
  CHECK(memcmp(b2, "22222222", 8) == 0);
}

/* ---- refusals ---- */

TEST(null_io_einval) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  CHECK_REFUSED(QsoStartRecv(sv[0], port, NULL), EINVAL, port);
}

TEST(unknown_port_einval) {
  int sv[2];
  qt_tcp_pair(sv);
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_ERR(QsoStartRecv(sv[0], -1, &io), EINVAL);
  CHECK_ERR(QsoStartRecv(sv[0], 99999, &io), EINVAL);
  /* Nothing started: data sent now is still there for a plain recv. */
  qt_write_all(sv[1], "z", 1);
  CHECK_EQ(recv(sv[0], buf, sizeof buf, 0), 1);
}

TEST(null_buffer_einval) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  Qso_OverlappedIO_t io = qt_io(NULL, 16);
  CHECK_REFUSED(QsoStartRecv(sv[0], port, &io), EINVAL, port);
}

TEST(zero_length_einval) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, 0);
  CHECK_REFUSED(QsoStartRecv(sv[0], port, &io), EINVAL, port);
}

TEST(closed_fd_ebadf) {
  int port = qt_port();
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_REFUSED(QsoStartRecv(qt_closed_fd(), port, &io), EBADF, port);
  int sv[2];
  qt_tcp_pair(sv);
  int fd = sv[0];
  close(fd);
  CHECK_REFUSED(QsoStartRecv(fd, port, &io), EBADF, port);
  CHECK_REFUSED(QsoStartRecv(-1, port, &io), EBADF, port);
}

TEST(regular_file_enotsock) {
  int port = qt_port();
  int fd = qt_file_fd();
  char buf[8];
  memset(buf, 0, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_REFUSED(QsoStartRecv(fd, port, &io), ENOTSOCK, port);
  CHECK_EQ(buf[0], 0);
}

TEST(pipe_enotsock) {
  int port = qt_port();
  int w;
  int r = qt_pipe_fd(&w);
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_REFUSED(QsoStartRecv(r, port, &io), ENOTSOCK, port);
  /* The pipe's data is still there. */
  CHECK_EQ(read(r, buf, sizeof buf), 4);
}

TEST(udp_socket_eopnotsupp) {
  int port = qt_port();
  int peer;
  int fd = qt_udp_fd(&peer);
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_REFUSED(QsoStartRecv(fd, port, &io), EOPNOTSUPP, port);
  int dg[2];
  CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) == 0);
  CHECK_REFUSED(QsoStartRecv(dg[0], port, &io), EOPNOTSUPP, port);
}

TEST(unconnected_tcp_enotconn) {
  int port = qt_port();
  int fd = qt_unconnected_tcp();
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_REFUSED(QsoStartRecv(fd, port, &io), ENOTCONN, port);
}

TEST(listening_socket_enotconn) {
  int port = qt_port();
  int lp;
  int l = qt_listener(&lp);
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_REFUSED(QsoStartRecv(l, port, &io), ENOTCONN, port);
  /* Even with a client waiting in the backlog. */
  int c = qt_connect(lp);
  (void)c;
  CHECK_REFUSED(QsoStartRecv(l, port, &io), ENOTCONN, port);
}

TEST(negative_wait_time_einval) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.operationWaitTime = qt_tv(-1, 0);
  CHECK_REFUSED(QsoStartRecv(sv[0], port, &io), EINVAL, port);
  qt_write_all(sv[1], "q", 1);
  qt_expect_none(port, 100);
}

TEST(nonzero_wait_time_usec_einval) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.operationWaitTime = qt_tv(1, 500000);
  CHECK_REFUSED(QsoStartRecv(sv[0], port, &io), EINVAL, port);
  io.operationWaitTime = qt_tv(0, 1);
  CHECK_REFUSED(QsoStartRecv(sv[0], port, &io), EINVAL, port);
  qt_write_all(sv[1], "q", 1);
  qt_expect_none(port, 100);
}
