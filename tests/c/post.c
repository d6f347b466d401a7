/*
 * post.c - QsoPostIOCompletion without a timer (spec §3): what is posted, FIFO order, EINVAL
 * for bad arguments, and the caller's struct being free at once.
 */
#include "qt_extra.h"

TEST(post_copies_the_struct) {
  int port = qt_port();
  static char buf[16];
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  io.descriptorHandle = qt_odd_ptr(0xFEDCBA9876543211ULL);
  io.buffer = buf;
  io.bufferLength = 0x123456789ULL;
  io.postFlag = 1;
  io.fillBuffer = 1;
  io.postFlagResult = 1;
  io.returnValue = 555;
  io.errnoValue = EIO;
  io.operationCompleted = QSOSTARTRECV;
  io.secureDataTransferSize = 4321;
  io.bytesAvailable = 0xDEADBEEFu;
  io.postedDescriptor = 987;
  io.operationId = 0x8000000000000001ULL;
  CHECK_EQ(QsoPostIOCompletion(port, &io), 0);

  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  CHECK_EQ(st.returnValue, 0);
  CHECK_EQ(st.errnoValue, 0);
  CHECK_EQ(st.operationCompleted, QSOPOSTIOCOMPLETION);
  CHECK(qt_ptr_bits(st.descriptorHandle) == 0xFEDCBA9876543211ULL);
  CHECK(st.buffer == (void *)buf);
  CHECK(st.bufferLength == 0x123456789ULL);
  CHECK_EQ(st.postFlag, 1);
  CHECK_EQ(st.fillBuffer, 1);
  CHECK_EQ(st.postFlagResult, 1);
  CHECK_EQ(st.secureDataTransferSize, 4321);
  CHECK(st.bytesAvailable == 0xDEADBEEFu);
  CHECK_EQ(st.operationWaitTime.tv_sec, 0);
  CHECK_EQ(st.operationWaitTime.tv_usec, 0);
  CHECK_EQ(st.postedDescriptor, 987);
  CHECK(st.operationId == 0x8000000000000001ULL);
  for (size_t i = 0; i < sizeof st.reserved2; i++)
    CHECK_EQ(st.reserved2[i], 0);
  /* The caller's struct is not modified by the post. */
  CHECK_EQ(io.returnValue, 555);
  CHECK_EQ(io.operationCompleted, QSOSTARTRECV);
}

TEST(descriptor_handle_holds_an_int_as_ibm_samples_store_it) {
  int port = qt_port();
  Qso_OverlappedIO_t io;
  memset(&io, 0xC3, sizeof io); /* garbage in the upper half of descriptorHandle */
  io.operationWaitTime = qt_tv(0, 0);
  int sd = 17;
  memcpy(&io.descriptorHandle, &sd, sizeof sd);
  CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
  Qso_OverlappedIO_t st = qt_wait(port, 1000);
  int back;
  memcpy(&back, &st.descriptorHandle, sizeof back);
  CHECK_EQ(back, 17);
  CHECK(memcmp(&st.descriptorHandle, &io.descriptorHandle, sizeof io.descriptorHandle) == 0);
  CHECK(st.operationId == io.operationId);
}

TEST(posts_come_out_in_fifo_order) {
  int port = qt_port();
  enum { N = 2000 };
  for (unsigned long long i = 1; i <= N; i++) {
    Qso_OverlappedIO_t io = qt_io(NULL, 0);
    io.operationId = i;
    io.descriptorHandle = qt_odd_ptr(i * 3);
    CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
  }
  for (unsigned long long i = 1; i <= N; i++) {
    Qso_OverlappedIO_t st = qt_wait(port, 1000);
    if (st.operationId != i)
      QT_FAIL("completion %llu came out as id %llu", i, st.operationId);
    CHECK(qt_ptr_bits(st.descriptorHandle) == i * 3);
  }
  qt_expect_empty(port);
}

TEST(unknown_port_einval) {
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  CHECK_ERR(QsoPostIOCompletion(-1, &io), EINVAL);
  CHECK_ERR(QsoPostIOCompletion(77777, &io), EINVAL);
  int port = qt_port();
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  CHECK_ERR(QsoPostIOCompletion(port, &io), EINVAL);
}

TEST(null_io_einval) {
  int port = qt_port();
  CHECK_ERR(QsoPostIOCompletion(port, NULL), EINVAL);
  qt_expect_empty(port);
}

TEST(negative_wait_time_einval) {
  int port = qt_port();
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  io.operationWaitTime = qt_tv(-1, 0);
  CHECK_ERR(QsoPostIOCompletion(port, &io), EINVAL);
  qt_expect_empty(port);
}

TEST(nonzero_wait_time_usec_einval) {
  int port = qt_port();
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  io.operationWaitTime = qt_tv(0, 500000);
  CHECK_ERR(QsoPostIOCompletion(port, &io), EINVAL);
  io.operationWaitTime = qt_tv(1, 1);
  CHECK_ERR(QsoPostIOCompletion(port, &io), EINVAL);
  io.operationWaitTime = qt_tv(0, -1);
  CHECK_ERR(QsoPostIOCompletion(port, &io), EINVAL);
  /* Nothing was posted or armed. */
  qt_expect_none(port, 300);
}

TEST(caller_struct_reusable_right_after_post) {
  int port = qt_port();
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  for (unsigned long long i = 1; i <= 3; i++) {
    io.operationId = i;
    io.descriptorHandle = qt_odd_ptr(100 + i);
    io.bufferLength = 1000 + i;
    CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
  }
  memset(&io, 0xFF, sizeof io); /* scribble over it */
  for (unsigned long long i = 1; i <= 3; i++) {
    Qso_OverlappedIO_t st = qt_wait(port, 1000);
    CHECK_EQ(st.operationId, i);
    CHECK(qt_ptr_bits(st.descriptorHandle) == 100 + i);
    CHECK(st.bufferLength == 1000 + i);
  }
}

struct poster {
  int port;
  int who;
};

enum { POSTERS = 4, PER_POSTER = 2500 };

static void *post_many(void *p) {
  struct poster *a = (struct poster *)p;
  for (int i = 0; i < PER_POSTER; i++) {
    Qso_OverlappedIO_t io = qt_io(NULL, 0);
    io.operationId = ((unsigned long long)a->who << 32) | (unsigned)i;
    if (QsoPostIOCompletion(a->port, &io) != 0)
      QT_FAIL("post %d of poster %d failed (errno %d)", i, a->who, errno);
  }
  return NULL;
}

TEST(posts_from_many_threads_keep_each_threads_order) {
  int port = qt_port();
  struct poster a[POSTERS];
  pthread_t t[POSTERS];
  for (int i = 0; i < POSTERS; i++) {
    a[i].port = port;
    a[i].who = i;
    t[i] = qt_thread(post_many, &a[i]);
  }
  for (int i = 0; i < POSTERS; i++)
    qt_join(t[i]);
  int next[POSTERS] = {0};
  for (int n = 0; n < POSTERS * PER_POSTER; n++) {
    Qso_OverlappedIO_t st = qt_wait(port, 1000);
    int who = (int)(st.operationId >> 32);
    int seq = (int)(st.operationId & 0xFFFFFFFFu);
    CHECK(who >= 0 && who < POSTERS);
    if (seq != next[who])
      QT_FAIL("poster %d: got #%d, expected #%d", who, seq, next[who]);
    next[who]++;
  }
  qt_expect_empty(port);
}
