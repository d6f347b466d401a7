/*
 * wait.c - QsoWaitForIOCompletion (spec §3): poll, relative timeouts, waiting without limit,
 * EINVAL for bad arguments, and a failed call never consuming a completion.
 */
#include "qt_extra.h"

static int untouched(const Qso_OverlappedIO_t *st, unsigned char fill) {
  const unsigned char *b = (const unsigned char *)st;
  for (size_t i = 0; i < sizeof *st; i++)
    if (b[i] != fill)
      return 0;
  return 1;
}

static void post_id(int port, unsigned long long id) {
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  io.operationId = id;
  CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
}

TEST(poll_empty_returns_0_and_leaves_status) {
  int port = qt_port();
  Qso_OverlappedIO_t st;
  memset(&st, 0xA7, sizeof st);
  struct timeval tv = qt_tv(0, 0);
  long long t0 = qt_now_ms();
  CHECK_EQ(QsoWaitForIOCompletion(port, &st, &tv), 0);
  CHECK(qt_now_ms() - t0 < 100);
  CHECK(untouched(&st, 0xA7));
}

TEST(poll_returns_a_posted_completion) {
  int port = qt_port();
  post_id(port, 42);
  Qso_OverlappedIO_t st;
  memset(&st, 0, sizeof st);
  struct timeval tv = qt_tv(0, 0);
  CHECK_EQ(QsoWaitForIOCompletion(port, &st, &tv), 1);
  CHECK_EQ(st.operationId, 42);
  CHECK_EQ(st.operationCompleted, QSOPOSTIOCOMPLETION);
  /* Consumed: the next poll finds nothing. */
  CHECK_EQ(QsoWaitForIOCompletion(port, &st, &tv), 0);
}

TEST(relative_timeout_returns_0_after_the_time) {
  int port = qt_port();
  Qso_OverlappedIO_t st;
  memset(&st, 0x3C, sizeof st);
  struct timeval tv = qt_tv(0, 300000);
  long long t0 = qt_now_ms();
  CHECK_EQ(QsoWaitForIOCompletion(port, &st, &tv), 0);
  long long el = qt_now_ms() - t0;
  if (el < 290 || el > 1500)
    QT_FAIL("a 300 ms wait took %lld ms", el);
  CHECK(untouched(&st, 0x3C));
}

TEST(timeout_in_whole_seconds) {
  int port = qt_port();
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(1, 0);
  long long t0 = qt_now_ms();
  CHECK_EQ(QsoWaitForIOCompletion(port, &st, &tv), 0);
  long long el = qt_now_ms() - t0;
  if (el < 990 || el > 2500)
    QT_FAIL("a 1 s wait took %lld ms", el);
}

TEST(timeout_has_microsecond_resolution) {
  int port = qt_port();
  Qso_OverlappedIO_t st;
  /* 30 ms: a library rounding to whole seconds would wait 0 or 1000 ms. */
  struct timeval tv = qt_tv(0, 30000);
  long long t0 = qt_now_ms();
  CHECK_EQ(QsoWaitForIOCompletion(port, &st, &tv), 0);
  long long el = qt_now_ms() - t0;
  if (el < 29 || el > 400)
    QT_FAIL("a 30 ms wait took %lld ms", el);
  /* 999999 us is a valid timeval. */
  tv = qt_tv(0, 999999);
  t0 = qt_now_ms();
  CHECK_EQ(QsoWaitForIOCompletion(port, &st, &tv), 0);
  el = qt_now_ms() - t0;
  if (el < 990 || el > 2500)
    QT_FAIL("a 999999 us wait took %lld ms", el);
}

struct poster {
  int port;
  long delay_ms;
  unsigned long long id;
};

static void *delayed_post(void *p) {
  struct poster *a = (struct poster *)p;
  qt_sleep_ms(a->delay_ms);
  post_id(a->port, a->id);
  return NULL;
}

TEST(null_timeout_waits_until_a_post) {
  struct poster a = {qt_port(), 400, 7};
  pthread_t t = qt_thread(delayed_post, &a);
  Qso_OverlappedIO_t st;
  memset(&st, 0, sizeof st);
  long long t0 = qt_now_ms();
  CHECK_EQ(QsoWaitForIOCompletion(a.port, &st, NULL), 1);
  long long el = qt_now_ms() - t0;
  qt_join(t);
  CHECK(el >= 350);
  CHECK_EQ(st.operationId, 7);
  CHECK_EQ(st.operationCompleted, QSOPOSTIOCOMPLETION);
}

TEST(timed_wait_returns_early_when_posted) {
  struct poster a = {qt_port(), 150, 9};
  pthread_t t = qt_thread(delayed_post, &a);
  Qso_OverlappedIO_t st;
  memset(&st, 0, sizeof st);
  struct timeval tv = qt_tv(5, 0);
  long long t0 = qt_now_ms();
  CHECK_EQ(QsoWaitForIOCompletion(a.port, &st, &tv), 1);
  long long el = qt_now_ms() - t0;
  qt_join(t);
  CHECK(el >= 100 && el < 2000);
  CHECK_EQ(st.operationId, 9);
}

TEST(unknown_port_einval) {
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(0, 0);
  CHECK_ERR(QsoWaitForIOCompletion(-1, &st, &tv), EINVAL);
  CHECK_ERR(QsoWaitForIOCompletion(123456, &st, &tv), EINVAL);
  CHECK_ERR(QsoWaitForIOCompletion(123456, &st, NULL), EINVAL); /* does not block */
}

TEST(null_status_einval) {
  int port = qt_port();
  struct timeval tv = qt_tv(0, 0);
  CHECK_ERR(QsoWaitForIOCompletion(port, NULL, &tv), EINVAL);
  CHECK_ERR(QsoWaitForIOCompletion(port, NULL, NULL), EINVAL); /* does not block */
}

TEST(negative_tv_sec_einval) {
  int port = qt_port();
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(-1, 0);
  CHECK_ERR(QsoWaitForIOCompletion(port, &st, &tv), EINVAL);
  tv = qt_tv(-5, 500);
  CHECK_ERR(QsoWaitForIOCompletion(port, &st, &tv), EINVAL);
}

TEST(negative_tv_usec_einval) {
  int port = qt_port();
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(0, -1);
  CHECK_ERR(QsoWaitForIOCompletion(port, &st, &tv), EINVAL);
  tv = qt_tv(1, -999999);
  CHECK_ERR(QsoWaitForIOCompletion(port, &st, &tv), EINVAL);
}

TEST(tv_usec_one_million_einval) {
  int port = qt_port();
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(0, 1000000);
  CHECK_ERR(QsoWaitForIOCompletion(port, &st, &tv), EINVAL);
  tv = qt_tv(2, 5000000);
  CHECK_ERR(QsoWaitForIOCompletion(port, &st, &tv), EINVAL);
}

TEST(failed_call_never_consumes_a_completion) {
  int port = qt_port();
  post_id(port, 1234);
  Qso_OverlappedIO_t st;
  memset(&st, 0x11, sizeof st);
  struct timeval bad[] = {qt_tv(-1, 0), qt_tv(0, -1), qt_tv(0, 1000000)};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_ERR(QsoWaitForIOCompletion(port, &st, &bad[i]), EINVAL);
    CHECK(untouched(&st, 0x11));
  }
  struct timeval tv = qt_tv(0, 0);
  CHECK_ERR(QsoWaitForIOCompletion(port, NULL, &tv), EINVAL);
  CHECK_ERR(QsoWaitForIOCompletion(port, NULL, NULL), EINVAL);
  /* The completion is still there, exactly once. */
  CHECK_EQ(QsoWaitForIOCompletion(port, &st, &tv), 1);
  CHECK_EQ(st.operationId, 1234);
  CHECK_EQ(QsoWaitForIOCompletion(port, &st, &tv), 0);
}

TEST(timeout_does_not_lose_a_later_post) {
  int port = qt_port();
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(0, 50000);
  CHECK_EQ(QsoWaitForIOCompletion(port, &st, &tv), 0);
  post_id(port, 77);
  st = qt_wait(port, 1000);
  CHECK_EQ(st.operationId, 77);
}
