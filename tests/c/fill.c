/*
 * tests/c/fill.c - fill receives that end early (spec §4, QsoStartRecv, "ours").
 *
 * A receive with fillBuffer set finishes only when the buffer is full, at end of file or on
 * error; when it ends early (EOF, error, timer, cancel, close) after placing bytes, it reports
 * those bytes in returnValue and the reason in errnoValue (0 for EOF). Bytes beyond returnValue
 * are untouched.
 */
#include "qt_life.h"

enum { LEN = 100, FIRST = 20, SECOND = 10 };

/*
 * Starts a fill receive of LEN bytes on sv[0] with FIRST bytes already there (taken by the start
 * call), then lets SECOND more bytes arrive while a thread waits; checks it is still pending.
 */
static void start_partial(int sv[2], int port, unsigned char *buf, long timer_s,
                          unsigned long long id) {
  ql_poison(buf, LEN);
  unsigned char data[FIRST];
  ql_pattern(data, FIRST, 1, 0);
  qt_write_all(sv[1], data, FIRST);
  CHECK(ql_readable(sv[0], 1000));
  Qso_OverlappedIO_t io = ql_io_timed(buf, LEN, timer_s);
  io.fillBuffer = 1;
  io.operationId = id;
  io.descriptorHandle = ql_handle(0xF111);
  ql_start_recv_pending(sv[0], port, &io);
  struct ql_sender s;
  ql_sender_start(&s, sv[1], 50, SECOND, 1, FIRST, 0);
  qt_expect_none(port, 300); /* a thread waits while the second part arrives */
  ql_sender_join(&s);
  CHECK_EQ(QsoIsOperationPending(sv[0], id), 1);
}

static void check_partial(const Qso_OverlappedIO_t *st, unsigned char *buf, int err) {
  CHECK_DONE(*st, QSOSTARTRECV, FIRST + SECOND, err);
  CHECK_EQ(st->fillBuffer, 1);
  CHECK(st->buffer == buf);
  CHECK_EQ(st->bufferLength, LEN);
  CHECK(st->descriptorHandle == ql_handle(0xF111));
  CHECK_EQ(st->bytesAvailable, 0);
  CHECK_PATTERN(buf, FIRST + SECOND, 1, 0);
  CHECK_POISONED(buf + FIRST + SECOND, LEN - FIRST - SECOND);
}

TEST(fill_eof_reports_bytes_errno_0) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[LEN];
  start_partial(sv, port, buf, 0, 1);
  CHECK_EQ(shutdown(sv[1], SHUT_WR), 0);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  check_partial(&st, buf, 0);
  qt_expect_none(port, 100);
}

TEST(fill_eof_without_bytes_is_zero) {
  int sv[2];
  qt_unix_pair(sv);
  int port = ql_port();
  unsigned char buf[LEN];
  ql_poison(buf, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  io.fillBuffer = 1;
  ql_start_recv_pending(sv[0], port, &io);
  CHECK_EQ(shutdown(sv[1], SHUT_WR), 0);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  CHECK_DONE(st, QSOSTARTRECV, 0, 0);
  CHECK_POISONED(buf, sizeof buf);
}

TEST(fill_timer_reports_bytes_eagain) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[LEN];
  long long t0 = qt_now_ms();
  start_partial(sv, port, buf, 1, 2);
  Qso_OverlappedIO_t st = qt_wait(port, 3000);
  CHECK_BETWEEN(qt_now_ms() - t0, 900, 3000);
  check_partial(&st, buf, EAGAIN);
  qt_expect_none(port, 100);
}

TEST(fill_timer_without_bytes_is_minus_one) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[LEN];
  ql_poison(buf, sizeof buf);
  Qso_OverlappedIO_t io = ql_io_timed(buf, sizeof buf, 1);
  io.fillBuffer = 1;
  ql_start_recv_pending(sv[0], port, &io);
  Qso_OverlappedIO_t st = qt_wait(port, 3000);
  CHECK_DONE(st, QSOSTARTRECV, -1, EAGAIN);
  CHECK_POISONED(buf, sizeof buf);
}

TEST(fill_cancel_reports_bytes_ecanceled) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[LEN];
  start_partial(sv, port, buf, 0, 3);
  CHECK_EQ(QsoCancelOperation(sv[0], 3), 1);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  check_partial(&st, buf, ECANCELED);
  CHECK_EQ(st.operationId, 3);
  /* The stream goes on where the cancelled receive stopped. */
  unsigned char more[15];
  ql_pattern(more, sizeof more, 1, FIRST + SECOND);
  qt_write_all(sv[1], more, sizeof more);
  unsigned char nb[LEN];
  Qso_OverlappedIO_t io = qt_io(nb, sizeof more);
  io.fillBuffer = 1;
  io = ql_recv_at_once_or_wait(sv[0], port, io, 1000);
  CHECK_DONE(io, QSOSTARTRECV, (int)sizeof more, 0);
  CHECK_PATTERN(nb, sizeof more, 1, FIRST + SECOND);
  CHECK_POISONED(buf + FIRST + SECOND, LEN - FIRST - SECOND);
}

TEST(fill_close_reports_bytes_eclosed) {
  int sv[2];
  qt_tcp_pair(sv);
  int keep = dup(sv[0]);
  CHECK(keep >= 0);
  int port = ql_port();
  unsigned char buf[LEN];
  start_partial(sv, port, buf, 0, 4);
  CHECK_EQ(close(sv[0]), 0);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  check_partial(&st, buf, ECLOSED);
  /* Bytes sent after close() stay in the (still open) socket, not in the buffer. */
  unsigned char more[40];
  ql_pattern(more, sizeof more, 1, FIRST + SECOND);
  qt_write_all(sv[1], more, sizeof more);
  qt_expect_none(port, 200);
  CHECK_POISONED(buf + FIRST + SECOND, LEN - FIRST - SECOND);
  unsigned char got[40];
  qt_read_all(keep, got, sizeof got);
  CHECK_PATTERN(got, sizeof got, 1, FIRST + SECOND);
}

TEST(fill_error_reports_bytes_and_errno) {
  int sv[2];
  qt_tcp_pair(sv);
  int port = ql_port();
  unsigned char buf[LEN];
  start_partial(sv, port, buf, 0, 5);
  /* The peer resets the connection. */
  struct linger lg = {1, 0};
  CHECK(setsockopt(sv[1], SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
  CHECK_EQ(close(sv[1]), 0);
  Qso_OverlappedIO_t st = qt_wait(port, 2000);
  check_partial(&st, buf, ECONNRESET);
}

TEST(fill_completes_only_when_full) {
  int sv[2];
  qt_unix_pair(sv);
  int port = ql_port();
  unsigned char buf[LEN + 8];
  ql_poison(buf, sizeof buf);
  Qso_OverlappedIO_t io = qt_io(buf, LEN);
  io.fillBuffer = 1;
  ql_start_recv_pending(sv[0], port, &io);
  size_t off = 0;
  const size_t parts[] = {1, 30, 29, 39};
  for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
    unsigned char data[64];
    ql_pattern(data, parts[k], 2, off);
    qt_write_all(sv[1], data, parts[k]);
    off += parts[k];
    qt_expect_none(port, 100);
  }
  /* One byte short; the last two bytes complete it (one of them is for the next receive). */
  unsigned char tail[2];
  ql_pattern(tail, 2, 2, off);
  qt_write_all(sv[1], tail, 2);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_DONE(st, QSOSTARTRECV, LEN, 0);
  CHECK_PATTERN(buf, LEN, 2, 0);
  CHECK_POISONED(buf + LEN, 8);
  unsigned char last;
  CHECK_EQ(recv(sv[0], &last, 1, MSG_DONTWAIT), 1);
  CHECK_EQ(last, ql_byte(2, LEN));
}
