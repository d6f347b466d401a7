/*
 * ids.c - QsoGenerateOperationId, QsoIsOperationPending and basic QsoCancelOperation (spec §5).
 */
#include "qt_extra.h"

static void start_recv(int sd, int port, void *buf, size_t len, unsigned long long id) {
  Qso_OverlappedIO_t io = qt_io(buf, len);
  io.operationId = id;
  CHECK_EQ(QsoStartRecv(sd, port, &io), 1);
  CHECK_EQ(io.postFlagResult, 0);
}

TEST(generated_ids_are_never_0_and_increasing) {
  int sv[2];
  qt_tcp_pair(sv);
  unsigned long long prev = 0;
  for (int i = 0; i < 1000; i++) {
    unsigned long long id = QsoGenerateOperationId(sv[0]);
    CHECK(id != 0);
    if (id <= prev)
      QT_FAIL("id %llu after %llu", id, prev);
    prev = id;
  }
  /* Other kinds of socket get ids too. */
  int lp;
  int l = qt_listener(&lp);
  CHECK(QsoGenerateOperationId(l) != 0);
  int us[2];
  qt_unix_pair(us);
  CHECK(QsoGenerateOperationId(us[0]) != 0);
  CHECK(QsoGenerateOperationId(qt_unconnected_tcp()) != 0);
}

enum { GEN_N = 5000 };

struct gen_arg {
  int sd;
  unsigned long long ids[GEN_N];
};

static void *generate_many(void *p) {
  struct gen_arg *a = (struct gen_arg *)p;
  for (int i = 0; i < GEN_N; i++)
    a->ids[i] = QsoGenerateOperationId(a->sd);
  return NULL;
}

static int cmp_ull(const void *x, const void *y) {
  unsigned long long a = *(const unsigned long long *)x, b = *(const unsigned long long *)y;
  return a < b ? -1 : a > b;
}

TEST(generated_ids_unique_from_many_threads) {
  int sv[2];
  qt_tcp_pair(sv);
  static struct gen_arg a[4];
  pthread_t t[4];
  for (int k = 0; k < 4; k++) {
    a[k].sd = sv[0];
    t[k] = qt_thread(generate_many, &a[k]);
  }
  for (int k = 0; k < 4; k++)
    qt_join(t[k]);
  static unsigned long long all[4 * GEN_N];
  for (int k = 0; k < 4; k++) {
    for (int i = 0; i < GEN_N; i++) {
      CHECK(a[k].ids[i] != 0);
      if (i > 0)
        CHECK(a[k].ids[i] > a[k].ids[i - 1]); /* increasing as each thread sees them */
      all[k * GEN_N + i] = a[k].ids[i];
    }
  }
  qsort(all, 4 * GEN_N, sizeof all[0], cmp_ull);
  for (int i = 1; i < 4 * GEN_N; i++)
    if (all[i] == all[i - 1])
      QT_FAIL("id %llu handed out twice", all[i]);
}

TEST(generate_on_a_bad_descriptor_returns_0) {
  errno = 0;
  CHECK_EQ(QsoGenerateOperationId(qt_closed_fd()), 0);
  CHECK_EQ(errno, EBADF);
  errno = 0;
  CHECK_EQ(QsoGenerateOperationId(-1), 0);
  CHECK_EQ(errno, EBADF);
  errno = 0;
  CHECK_EQ(QsoGenerateOperationId(qt_file_fd()), 0);
  CHECK_EQ(errno, ENOTSOCK);
  errno = 0;
  CHECK_EQ(QsoGenerateOperationId(qt_pipe_fd(NULL)), 0);
  CHECK_EQ(errno, ENOTSOCK);
}

TEST(pending_while_started_not_after_completion) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  unsigned long long id = QsoGenerateOperationId(sv[0]);
  CHECK(id != 0);
  CHECK_EQ(QsoIsOperationPending(sv[0], id), 0);
  char buf[8];
  start_recv(sv[0], port, buf, sizeof buf, id);
  CHECK_EQ(QsoIsOperationPending(sv[0], id), 1);
  CHECK_EQ(QsoIsOperationPending(sv[0], id + 1), 0);
  CHECK_EQ(QsoIsOperationPending(sv[1], id), 0); /* another socket */
  qt_write_all(sv[1], "done", 4);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.operationId, id);
  CHECK_EQ(QsoIsOperationPending(sv[0], id), 0);
}

TEST(pending_is_0_once_posted_even_before_the_wait) {
  int port = qt_port(), sv[2];
  qt_unix_pair(sv);
  char buf[8];
  start_recv(sv[0], port, buf, sizeof buf, 77);
  qt_write_all(sv[1], "x", 1);
  /* Nobody waits yet; when it has been posted it is no longer pending. Poll for the post. */
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.operationId, 77);
  CHECK_EQ(QsoIsOperationPending(sv[0], 77), 0);
  /* Immediate completions never count as pending. */
  qt_write_all(sv[1], "y", 1);
  qt_wait_readable(sv[0], 1000);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.operationId = 78;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 0);
  CHECK_EQ(QsoIsOperationPending(sv[0], 78), 0);
}

TEST(pending_for_send_and_accept) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  enum { LEN = 8 << 20 };
  char *big = malloc(LEN);
  CHECK(big);
  memset(big, 's', LEN);
  Qso_OverlappedIO_t io = qt_io(big, LEN);
  io.operationId = 500;
  CHECK_EQ(QsoStartSend(sv[0], port, &io), 1);
  CHECK_EQ(QsoIsOperationPending(sv[0], 500), 1);
  int lp;
  int l = qt_listener(&lp);
  io = qt_io(NULL, 0);
  io.operationId = 600;
  CHECK_EQ(QsoStartAccept(l, port, &io), 1);
  CHECK_EQ(QsoIsOperationPending(l, 600), 1);
  CHECK_EQ(QsoIsOperationPending(l, 500), 0);
  int c = qt_connect(lp);
  (void)c;
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.operationId, 600);
  CHECK_EQ(QsoIsOperationPending(l, 600), 0);
  CHECK_EQ(QsoIsOperationPending(sv[0], 500), 1);
}

TEST(pending_on_a_bad_descriptor_fails) {
  CHECK_ERR(QsoIsOperationPending(qt_closed_fd(), 1), EBADF);
  CHECK_ERR(QsoIsOperationPending(-1, 1), EBADF);
  CHECK_ERR(QsoIsOperationPending(qt_file_fd(), 1), ENOTSOCK);
  CHECK_ERR(QsoIsOperationPending(qt_pipe_fd(NULL), 1), ENOTSOCK);
  /* A socket with nothing started: 0, not an error. */
  int sv[2];
  qt_unix_pair(sv);
  errno = 0;
  CHECK_EQ(QsoIsOperationPending(sv[0], 12345), 0);
}

TEST(cancel_returns_the_count_and_posts_ecanceled) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char b[3][8];
  memset(b, 0x5C, sizeof b);
  start_recv(sv[0], port, b[0], 8, 900);
  start_recv(sv[0], port, b[1], 8, 901);
  start_recv(sv[0], port, b[2], 8, 900);
  CHECK_EQ(QsoCancelOperation(sv[0], 900), 2);
  for (int i = 0; i < 2; i++) {
    Qso_OverlappedIO_t st = qt_wait(port, 1000);
    CHECK_EQ(st.operationId, 900);
    CHECK_EQ(st.operationCompleted, QSOSTARTRECV);
    CHECK_EQ(st.returnValue, -1);
    CHECK_EQ(st.errnoValue, ECANCELED);
    CHECK(st.buffer == b[0] || st.buffer == b[2]);
  }
  qt_expect_empty(port);
  CHECK_EQ(QsoIsOperationPending(sv[0], 900), 0);
  CHECK_EQ(QsoIsOperationPending(sv[0], 901), 1);
  /* The survivor still works and gets the next bytes; the cancelled buffers are untouched. */
  qt_write_all(sv[1], "survivor", 8);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.operationId, 901);
  CHECK_EQ(st.returnValue, 8);
  CHECK(memcmp(b[1], "survivor", 8) == 0);
  for (int i = 0; i < 8; i++) {
    CHECK_EQ((unsigned char)b[0][i], 0x5C);
    CHECK_EQ((unsigned char)b[2][i], 0x5C);
  }
}

TEST(cancel_with_nothing_pending_returns_0) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  errno = 0;
  CHECK_EQ(QsoCancelOperation(sv[0], 1), 0);
  char buf[8];
  start_recv(sv[0], port, buf, sizeof buf, 2);
  CHECK_EQ(QsoCancelOperation(sv[0], 3), 0);  /* other id */
  CHECK_EQ(QsoCancelOperation(sv[1], 2), 0);  /* other socket */
  qt_expect_none(port, 100);
  CHECK_EQ(QsoIsOperationPending(sv[0], 2), 1);
}

TEST(cancel_after_completion_returns_0) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char buf[8];
  start_recv(sv[0], port, buf, sizeof buf, 31);
  qt_write_all(sv[1], "abc", 3);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_EQ(st.returnValue, 3);
  CHECK_EQ(QsoCancelOperation(sv[0], 31), 0);
  qt_expect_none(port, 100); /* never delivered twice */
}

TEST(id_0_is_an_ordinary_id) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char b0[8], b5[8];
  start_recv(sv[0], port, b0, sizeof b0, 0);
  start_recv(sv[0], port, b5, sizeof b5, 5);
  CHECK_EQ(QsoIsOperationPending(sv[0], 0), 1);
  CHECK_EQ(QsoCancelOperation(sv[0], 0), 1); /* only the one with id 0, not "all" */
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_EQ(st.operationId, 0);
  CHECK_EQ(st.errnoValue, ECANCELED);
  qt_expect_empty(port);
  CHECK_EQ(QsoIsOperationPending(sv[0], 0), 0);
  CHECK_EQ(QsoIsOperationPending(sv[0], 5), 1);
  qt_write_all(sv[1], "five", 4);
  st = qt_wait(port, 2000);
  CHECK_EQ(st.operationId, 5);
  CHECK_EQ(st.returnValue, 4);
}

TEST(cancel_on_a_bad_descriptor_fails) {
  CHECK_ERR(QsoCancelOperation(qt_closed_fd(), 1), EBADF);
  CHECK_ERR(QsoCancelOperation(-1, 0), EBADF);
  CHECK_ERR(QsoCancelOperation(qt_file_fd(), 1), ENOTSOCK);
  CHECK_ERR(QsoCancelOperation(qt_pipe_fd(NULL), 1), ENOTSOCK);
}

TEST(cancel_a_pending_send) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  enum { LEN = 8 << 20 };
  char *big = malloc(LEN);
  CHECK(big);
  memset(big, 'c', LEN);
  Qso_OverlappedIO_t io = qt_io(big, LEN);
  io.operationId = 44;
  CHECK_EQ(QsoStartSend(sv[0], port, &io), 1);
  qt_expect_none(port, 100);
  CHECK_EQ(QsoCancelOperation(sv[0], 44), 1);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_EQ(st.operationCompleted, QSOSTARTSEND);
  CHECK_EQ(st.operationId, 44);
  CHECK_EQ(st.errnoValue, ECANCELED);
  /* -1, or (for a send that had begun) the bytes that went out before the cancel. */
  CHECK(st.returnValue == -1 || (st.returnValue > 0 && st.returnValue < LEN));
  CHECK_EQ(QsoIsOperationPending(sv[0], 44), 0);
}

TEST(cancel_a_pending_accept) {
  int port = qt_port(), lp;
  int l = qt_listener(&lp);
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  io.operationId = 66;
  CHECK_EQ(QsoStartAccept(l, port, &io), 1);
  CHECK_EQ(QsoCancelOperation(l, 66), 1);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_EQ(st.operationCompleted, QSOSTARTACCEPT);
  CHECK_EQ(st.returnValue, -1);
  CHECK_EQ(st.errnoValue, ECANCELED);
  /* The client that comes now is not taken by the cancelled accept. */
  int c = qt_connect(lp);
  (void)c;
  qt_expect_none(port, 150);
  io = qt_io(NULL, 0);
  io.operationId = 67;
  int rc = QsoStartAccept(l, port, &io);
  if (rc == 1)
    st = qt_wait(port, 2000);
  else
    st = io;
  CHECK_EQ(st.operationId, 67);
  CHECK(st.returnValue >= 0);
  CHECK_EQ(qt_peer_port(st.returnValue), qt_local_port(c));
}

TEST(cancelled_fill_receive_reports_the_bytes_it_holds) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char buf[10];
  memset(buf, 0, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.fillBuffer = 1;
  io.operationId = 12;
  CHECK_EQ(QsoStartRecv(sv[0], port, &io), 1);
  qt_write_all(sv[1], "four", 4);
  qt_expect_none(port, 200); /* not full: still pending, the 4 bytes taken in meanwhile */
  CHECK_EQ(QsoCancelOperation(sv[0], 12), 1);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_EQ(st.errnoValue, ECANCELED);
  CHECK_EQ(st.returnValue, 4); /* a received byte is never silently lost */
  CHECK(memcmp(buf, "four", 4) == 0);
}

TEST(cancelled_receive_loses_no_data) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  char b1[8], b2[8];
  memset(b1, 0, sizeof b1);
  start_recv(sv[0], port, b1, sizeof b1, 1);
  CHECK_EQ(QsoCancelOperation(sv[0], 1), 1);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_EQ(st.returnValue, -1);
  CHECK_EQ(st.errnoValue, ECANCELED);
  start_recv(sv[0], port, b2, sizeof b2, 2);
  qt_write_all(sv[1], "next", 4);
  st = qt_wait(port, 2000);
  CHECK_EQ(st.operationId, 2);
  CHECK_EQ(st.returnValue, 4);
  CHECK(memcmp(b2, "next", 4) == 0);
  CHECK_EQ(b1[0], 0);
}
