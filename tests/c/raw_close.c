/*
 * raw_close.c - a descriptor closed behind the library's back (a raw close system call, which
 * the close hook cannot see) and reused for a new socket: the new socket works, and the old
 * socket's operation is posted with ECLOSED when the reuse is noticed.
 */
#include "harness.h"
#include <sys/syscall.h>

static int raw_close(int fd) { return (int)syscall(SYS_close, fd); }

/* Opens socket pairs until one gets descriptor number `want` as its first member. */
static void pair_on_number(int want, int sv[2]) {
  for (int tries = 0; tries < 16; tries++) {
    qt_unix_pair(sv);
    if (sv[0] == want)
      return;
    close(sv[0]);
    close(sv[1]);
  }
  QT_FAIL("descriptor %d was not reused", want);
}

TEST(reused_number_with_pending_receive_gets_fresh_state) {
  int port = QsoCreateIOCompletionPort();
  int old[2];
  qt_unix_pair(old);
  char old_buf[16], new_buf[16];
  Qso_OverlappedIO_t io = qt_io(old_buf, sizeof old_buf);
  io.operationId = 1;
  CHECK_EQ(QsoStartRecv(old[0], port, &io), 1);
  int number = old[0];
  CHECK_EQ(raw_close(number), 0);
  close(old[1]);

  int now[2];
  pair_on_number(number, now);
  io = qt_io(new_buf, sizeof new_buf);
  io.operationId = 2;
  int rc = QsoStartRecv(now[0], port, &io);
  CHECK(rc == 1 || rc == 0);
  qt_write_all(now[1], "fresh", 5);

  int got_new = rc == 0, got_old = 0;
  for (int i = 0; i < 2 && !(got_new && got_old); i++) {
    Qso_OverlappedIO_t st = qt_wait(port, 2000);
    if (st.operationId == 2) {
      CHECK_EQ(st.returnValue, 5);
      CHECK(memcmp(new_buf, "fresh", 5) == 0);
      got_new = 1;
    } else {
      CHECK_EQ(st.operationId, 1);
      CHECK_EQ(st.returnValue, -1);
      CHECK_EQ(st.errnoValue, ECLOSED);
      got_old = 1;
    }
  }
  CHECK(got_new);
  CHECK(got_old);
}

TEST(reused_number_after_destroy_abort_is_not_aborted) {
  int port = QsoCreateIOCompletionPort();
  int old[2];
  qt_unix_pair(old);
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_EQ(QsoStartRecv(old[0], port, &io), 1);
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0); /* aborts old[0] */
  int number = old[0];
  CHECK_EQ(raw_close(number), 0);
  close(old[1]);

  int now[2];
  pair_on_number(number, now);
  port = QsoCreateIOCompletionPort();
  qt_write_all(now[1], "ok", 2);
  io = qt_io(buf, sizeof buf);
  CHECK_EQ(QsoStartRecv(now[0], port, &io), 0); /* not ECONNABORTED: a new socket */
  CHECK_EQ(io.returnValue, 2);
}

TEST(operation_id_on_pipe_after_timed_post_is_refused) {
  int port = QsoCreateIOCompletionPort();
  int p[2];
  CHECK(pipe(p) == 0);
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  io.operationWaitTime = qt_tv(5, 0);
  io.postedDescriptor = p[0];
  CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
  errno = 0;
  CHECK_EQ(QsoGenerateOperationId(p[0]), 0);
  CHECK_EQ(errno, ENOTSOCK);
}
