/*
 * accept.c - QsoStartAccept (spec §4): pending and immediate accepts, the new descriptor
 * (connected, blocking, close-on-exec), the fields of the completion, order of several
 * accepts, and the refusals.
 */
#include "qt_extra.h"

#include <sys/un.h>

/* Waits until the listener has a connection in its backlog. */
static void wait_backlog(int l) { qt_wait_readable(l, 2000); }

TEST(pending_accept_completes_when_a_client_connects) {
  int port = qt_port(), lp;
  int l = qt_listener(&lp);
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  io.operationId = 61;
  CHECK_EQ(QsoStartAccept(l, port, &io), 1);
  CHECK_EQ(io.postFlagResult, 0);
  qt_expect_none(port, 150);
  int c = qt_connect(lp);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.operationCompleted, QSOSTARTACCEPT);
  CHECK_EQ(st.errnoValue, 0);
  CHECK_EQ(st.operationId, 61);
  int fd = st.returnValue;
  CHECK(fd >= 0 && fd != l && fd != c);
  /* It is the client's connection. */
  CHECK_EQ(qt_peer_port(fd), qt_local_port(c));
  qt_write_all(c, "ping", 4);
  char buf[4];
  qt_read_all(fd, buf, 4);
  CHECK(memcmp(buf, "ping", 4) == 0);
  qt_write_all(fd, "pong", 4);
  qt_read_all(c, buf, 4);
  CHECK(memcmp(buf, "pong", 4) == 0);
}

TEST(accepted_socket_is_blocking_and_close_on_exec) {
  int port = qt_port(), lp;
  int l = qt_listener(&lp);
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  CHECK_EQ(QsoStartAccept(l, port, &io), 1);
  int c = qt_connect(lp);
  (void)c;
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  int fd = st.returnValue;
  CHECK(fd >= 0);
  CHECK_EQ(qt_fl(fd) & O_NONBLOCK, 0);
  int fdf = fcntl(fd, F_GETFD);
  CHECK(fdf != -1);
  CHECK(fdf & FD_CLOEXEC);
  /* Blocking for real: a recv with nothing to read waits (cut short by a 200 ms SO_RCVTIMEO). */
  struct timeval tv = qt_tv(0, 200000);
  CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
  char b;
  long long t0 = qt_now_ms();
  CHECK_ERR(recv(fd, &b, 1, 0), EAGAIN);
  CHECK(qt_now_ms() - t0 >= 150);
}

TEST(immediately_accepted_socket_is_blocking_and_close_on_exec) {
  int port = qt_port(), lp;
  int l = qt_listener(&lp);
  int c = qt_connect(lp);
  (void)c;
  wait_backlog(l);
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  CHECK_EQ(QsoStartAccept(l, port, &io), 0);
  int fd = io.returnValue;
  CHECK(fd >= 0);
  CHECK_EQ(qt_fl(fd) & O_NONBLOCK, 0);
  CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

TEST(completion_fields_for_accept) {
  int port = qt_port(), lp;
  int l = qt_listener(&lp);
  char junk[64];
  Qso_OverlappedIO_t io = qt_io(junk, sizeof junk);
  io.descriptorHandle = qt_odd_ptr(0x1122334455667788ULL);
  io.postFlag = 1;
  io.fillBuffer = 1;
  io.operationId = 0x600D;
  io.bytesAvailable = 5;
  io.secureDataTransferSize = 9;
  CHECK_EQ(QsoStartAccept(l, port, &io), 1);
  CHECK_EQ(io.postFlagResult, 0);
  int c = qt_connect(lp);
  (void)c;
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.operationCompleted, QSOSTARTACCEPT);
  CHECK(st.returnValue >= 0);
  CHECK_EQ(st.errnoValue, 0);
  CHECK(st.buffer == NULL);
  CHECK_EQ(st.bufferLength, 0);
  CHECK_EQ(st.postFlag, 0);
  CHECK_EQ(st.fillBuffer, 0);
  CHECK(qt_ptr_bits(st.descriptorHandle) == 0x1122334455667788ULL);
  CHECK_EQ(st.operationId, 0x600D);
  CHECK_EQ(st.bytesAvailable, 0);
  CHECK_EQ(st.secureDataTransferSize, 0);
}

TEST(immediate_accept_postflag0_returns_0) {
  int port = qt_port(), lp;
  int l = qt_listener(&lp);
  int c = qt_connect(lp);
  wait_backlog(l);
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  io.operationId = 3;
  CHECK_EQ(QsoStartAccept(l, port, &io), 0);
  CHECK_EQ(io.errnoValue, 0);
  CHECK_EQ(io.operationId, 3);
  int fd = io.returnValue;
  CHECK(fd >= 0);
  CHECK_EQ(qt_peer_port(fd), qt_local_port(c));
  qt_expect_none(port, 100);
}

TEST(immediate_accept_postflag1_is_posted) {
  int port = qt_port(), lp;
  int l = qt_listener(&lp);
  int c = qt_connect(lp);
  wait_backlog(l);
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  io.postFlag = 1;
  io.operationId = 4;
  CHECK_EQ(QsoStartAccept(l, port, &io), 1);
  CHECK_EQ(io.postFlagResult, 1);
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(0, 0);
  CHECK_EQ(QsoWaitForIOCompletion(port, &st, &tv), 1);
  CHECK_EQ(st.operationCompleted, QSOSTARTACCEPT);
  CHECK_EQ(st.operationId, 4);
  CHECK_EQ(st.postFlag, 0); /* IBM: accept completions carry postFlag 0 */
  CHECK(st.returnValue >= 0);
  CHECK_EQ(qt_peer_port(st.returnValue), qt_local_port(c));
}

TEST(several_accepts_hand_out_connections_in_order) {
  int port = qt_port(), lp;
  int l = qt_listener(&lp);
  enum { N = 3 };
  for (int i = 0; i < N; i++) {
    Qso_OverlappedIO_t io = qt_io(NULL, 0);
    io.operationId = (unsigned long long)(i + 1);
    CHECK_EQ(QsoStartAccept(l, port, &io), 1);
  }
  int c[N];
  for (int i = 0; i < N; i++) {
    c[i] = qt_connect(lp);
    Qso_OverlappedIO_t st = qt_wait(port, 2000);
    CHECK_EQ(st.operationId, (unsigned long long)(i + 1));
    CHECK(st.returnValue >= 0);
    CHECK_EQ(qt_peer_port(st.returnValue), qt_local_port(c[i]));
  }
  qt_expect_empty(port);
}

TEST(several_accepts_with_a_burst_of_clients) {
  int port = qt_port(), lp;
  int l = qt_listener(&lp);
  enum { N = 5 };
  for (int i = 0; i < N; i++) {
    Qso_OverlappedIO_t io = qt_io(NULL, 0);
    io.operationId = (unsigned long long)(i + 1);
    CHECK_EQ(QsoStartAccept(l, port, &io), 1);
  }
  int c[N];
  for (int i = 0; i < N; i++)
    c[i] = qt_connect(lp);
  int seen[N] = {0};
  for (int i = 0; i < N; i++) {
    Qso_OverlappedIO_t st = qt_wait(port, 2000);
    CHECK_EQ(st.operationId, (unsigned long long)(i + 1));
    CHECK(st.returnValue >= 0);
    int pp = qt_peer_port(st.returnValue);
    int found = -1;
    for (int j = 0; j < N; j++)
      if (qt_local_port(c[j]) == pp)
        found = j;
    CHECK(found >= 0);
    CHECK_EQ(seen[found], 0);
    seen[found] = 1;
  }
  qt_expect_empty(port);
}

TEST(unix_listener_works) {
  int port = qt_port();
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK(l >= 0);
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  /* abstract name, unique per process */
  snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "qso-accept-%d", (int)getpid());
  socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                               strlen(a.sun_path + 1));
  CHECK(bind(l, (struct sockaddr *)&a, alen) == 0);
  CHECK(listen(l, 4) == 0);
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  CHECK_EQ(QsoStartAccept(l, port, &io), 1);
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK(c >= 0);
  CHECK(connect(c, (struct sockaddr *)&a, alen) == 0);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK(st.returnValue >= 0);
  qt_write_all(c, "u", 1);
  char b;
  qt_read_all(st.returnValue, &b, 1);
  CHECK_EQ(b, 'u');
}

/* ---- refusals ---- */

TEST(not_listening_einval) {
  int port = qt_port();
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  /* Never listened. */
  CHECK_REFUSED(QsoStartAccept(qt_unconnected_tcp(), port, &io), EINVAL, port);
  /* Bound but not listening. */
  int b = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(b, (struct sockaddr *)&a, sizeof a) == 0);
  CHECK_REFUSED(QsoStartAccept(b, port, &io), EINVAL, port);
  /* A connected socket. */
  int sv[2];
  qt_tcp_pair(sv);
  CHECK_REFUSED(QsoStartAccept(sv[0], port, &io), EINVAL, port);
}

TEST(not_a_socket_enotsock) {
  int port = qt_port();
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  CHECK_REFUSED(QsoStartAccept(qt_file_fd(), port, &io), ENOTSOCK, port);
  CHECK_REFUSED(QsoStartAccept(qt_pipe_fd(NULL), port, &io), ENOTSOCK, port);
}

TEST(closed_fd_ebadf) {
  int port = qt_port();
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  CHECK_REFUSED(QsoStartAccept(qt_closed_fd(), port, &io), EBADF, port);
  int lp;
  int l = qt_listener(&lp);
  close(l);
  CHECK_REFUSED(QsoStartAccept(l, port, &io), EBADF, port);
}

TEST(udp_socket_eopnotsupp) {
  int port = qt_port();
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  CHECK_REFUSED(QsoStartAccept(qt_udp_fd(NULL), port, &io), EOPNOTSUPP, port);
}

TEST(bad_arguments_einval) {
  int port = qt_port(), lp;
  int l = qt_listener(&lp);
  CHECK_REFUSED(QsoStartAccept(l, port, NULL), EINVAL, port);
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  CHECK_ERR(QsoStartAccept(l, -1, &io), EINVAL);
  CHECK_ERR(QsoStartAccept(l, 424242, &io), EINVAL);
  io.operationWaitTime = qt_tv(-1, 0);
  CHECK_REFUSED(QsoStartAccept(l, port, &io), EINVAL, port);
  io.operationWaitTime = qt_tv(1, 1);
  CHECK_REFUSED(QsoStartAccept(l, port, &io), EINVAL, port);
  /* Nothing was started: a client that connects now stays in the backlog. */
  int c = qt_connect(lp);
  (void)c;
  qt_expect_none(port, 150);
  wait_backlog(l);
  int fd = accept(l, NULL, NULL);
  CHECK(fd >= 0);
}
