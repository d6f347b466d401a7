/*
 * ports.c - QsoCreateIOCompletionPort / QsoDestroyIOCompletionPort (spec §3): handles, the
 * 256-port limit, EINVAL for unknown ports, EDESTROYED for waiters.
 */
#include "qt_extra.h"

#include <limits.h>

TEST(create_returns_distinct_handles) {
  int p[8];
  for (int i = 0; i < 8; i++) {
    p[i] = QsoCreateIOCompletionPort();
    CHECK(p[i] >= 0);
    for (int j = 0; j < i; j++)
      CHECK(p[i] != p[j]);
  }
  for (int i = 0; i < 8; i++)
    CHECK_EQ(QsoDestroyIOCompletionPort(p[i]), 0);
}

TEST(limit_is_256_then_enobufs) {
  static int p[QSO_MAX_IOCOMPLETION_PORTS];
  for (int i = 0; i < QSO_MAX_IOCOMPLETION_PORTS; i++) {
    p[i] = QsoCreateIOCompletionPort();
    if (p[i] < 0)
      QT_FAIL("port %d of 256 could not be created (errno %d)", i + 1, errno);
  }
  CHECK_ERR(QsoCreateIOCompletionPort(), ENOBUFS);
  CHECK_ERR(QsoCreateIOCompletionPort(), ENOBUFS);
  /* Every one of the 256 works. */
  for (int i = 0; i < QSO_MAX_IOCOMPLETION_PORTS; i++) {
    Qso_OverlappedIO_t io = qt_io(NULL, 0);
    io.operationId = (unsigned long long)i;
    CHECK_EQ(QsoPostIOCompletion(p[i], &io), 0);
    Qso_OverlappedIO_t st = qt_wait(p[i], 1000);
    CHECK_EQ(st.operationId, (unsigned long long)i);
  }
  /* Freeing one makes room for exactly one more. */
  CHECK_EQ(QsoDestroyIOCompletionPort(p[100]), 0);
  p[100] = QsoCreateIOCompletionPort();
  CHECK(p[100] >= 0);
  CHECK_ERR(QsoCreateIOCompletionPort(), ENOBUFS);
  for (int i = 0; i < QSO_MAX_IOCOMPLETION_PORTS; i++)
    CHECK_EQ(QsoDestroyIOCompletionPort(p[i]), 0);
  int again = QsoCreateIOCompletionPort();
  CHECK(again >= 0);
}

TEST(destroy_then_handle_is_invalid) {
  int port = qt_port();
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  CHECK_ERR(QsoDestroyIOCompletionPort(port), EINVAL);
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(0, 0);
  CHECK_ERR(QsoWaitForIOCompletion(port, &st, &tv), EINVAL);
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  CHECK_ERR(QsoPostIOCompletion(port, &io), EINVAL);
  int sv[2];
  qt_unix_pair(sv);
  char buf[8];
  io = qt_io(buf, sizeof buf);
  CHECK_ERR(QsoStartRecv(sv[0], port, &io), EINVAL);
}

TEST(destroy_unknown_port_einval) {
  CHECK_ERR(QsoDestroyIOCompletionPort(-1), EINVAL);
  CHECK_ERR(QsoDestroyIOCompletionPort(INT_MIN), EINVAL);
  CHECK_ERR(QsoDestroyIOCompletionPort(INT_MAX), EINVAL);
  CHECK_ERR(QsoDestroyIOCompletionPort(100000), EINVAL);
  /* A live port is not disturbed by those. */
  int port = qt_port();
  CHECK_ERR(QsoDestroyIOCompletionPort(port + 1000), EINVAL);
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
  (void)qt_wait(port, 1000);
}

TEST(ports_are_independent) {
  int a = qt_port(), b = qt_port();
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  io.operationId = 0xA;
  CHECK_EQ(QsoPostIOCompletion(a, &io), 0);
  qt_expect_empty(b);
  Qso_OverlappedIO_t st = qt_wait(a, 1000);
  CHECK_EQ(st.operationId, 0xA);
  /* Destroying one leaves the other working. */
  io.operationId = 0xB;
  CHECK_EQ(QsoPostIOCompletion(b, &io), 0);
  CHECK_EQ(QsoDestroyIOCompletionPort(a), 0);
  st = qt_wait(b, 1000);
  CHECK_EQ(st.operationId, 0xB);
}

struct waiter_arg {
  int port;
  int rc;
  int err;
  int status_untouched;
};

static void *destroy_waiter(void *p) {
  struct waiter_arg *a = (struct waiter_arg *)p;
  Qso_OverlappedIO_t st;
  memset(&st, 0x5A, sizeof st);
  errno = 0;
  a->rc = QsoWaitForIOCompletion(a->port, &st, NULL);
  a->err = errno;
  unsigned char *b = (unsigned char *)&st;
  a->status_untouched = 1;
  for (size_t i = 0; i < sizeof st; i++)
    if (b[i] != 0x5A)
      a->status_untouched = 0;
  return NULL;
}

TEST(destroy_wakes_waiter_with_edestroyed) {
  struct waiter_arg a = {qt_port(), 99, 0, 0};
  pthread_t t = qt_thread(destroy_waiter, &a);
  qt_sleep_ms(200); /* the waiter is parked */
  CHECK_EQ(a.rc, 99);
  long long t0 = qt_now_ms();
  CHECK_EQ(QsoDestroyIOCompletionPort(a.port), 0);
  qt_join(t);
  CHECK(qt_now_ms() - t0 < 2000);
  CHECK_EQ(a.rc, -1);
  CHECK_EQ(a.err, EDESTROYED);
  CHECK(a.status_untouched);
}

TEST(destroy_wakes_every_waiter) {
  int port = qt_port();
  struct waiter_arg a[4];
  pthread_t t[4];
  for (int i = 0; i < 4; i++) {
    a[i].port = port;
    a[i].rc = 99;
    t[i] = qt_thread(destroy_waiter, &a[i]);
  }
  qt_sleep_ms(200);
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  for (int i = 0; i < 4; i++) {
    qt_join(t[i]);
    CHECK_EQ(a[i].rc, -1);
    CHECK_EQ(a[i].err, EDESTROYED);
  }
}

static void *timed_destroy_waiter(void *p) {
  struct waiter_arg *a = (struct waiter_arg *)p;
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(5, 0);
  errno = 0;
  a->rc = QsoWaitForIOCompletion(a->port, &st, &tv);
  a->err = errno;
  return NULL;
}

TEST(destroy_wakes_timed_waiter) {
  struct waiter_arg a = {qt_port(), 99, 0, 0};
  pthread_t t = qt_thread(timed_destroy_waiter, &a);
  qt_sleep_ms(200);
  long long t0 = qt_now_ms();
  CHECK_EQ(QsoDestroyIOCompletionPort(a.port), 0);
  qt_join(t);
  CHECK(qt_now_ms() - t0 < 2000); /* well before its 5 s ran out */
  CHECK_EQ(a.rc, -1);
  CHECK_EQ(a.err, EDESTROYED);
}
