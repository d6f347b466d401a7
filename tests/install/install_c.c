/*
 * tests/install/install_c.c - a C program built against the installed qsoasync with nothing but
 * `pkg-config --cflags --libs qsoasync` (tests/install.sh). It creates a port, posts a
 * completion, waits for it and checks every field it gets back. Prints one line per check and
 * exits non-zero when one fails.
 */
#include <qsoasync.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int failed;

static void check(int ok, const char *what)
{
  printf("%s %s\n", ok ? "ok" : "FAIL", what);
  if (!ok)
    failed = 1;
}

int main(void)
{
  static int marker;
  char buffer[24];
  Qso_OverlappedIO_t io, got;
  struct timeval wait = {5, 0}, nowait = {0, 0};
  int port, rc;

#if defined(__x86_64__) && defined(__LP64__)
  check(sizeof(Qso_OverlappedIO_t) == 112, "sizeof(Qso_OverlappedIO_t) == 112");
#endif
  check(ECLOSED == 3417 && EDESTROYED == 3463, "IBM i errno numbers");

  port = QsoCreateIOCompletionPort();
  check(port >= 0, "QsoCreateIOCompletionPort");
  if (port < 0)
    return 1;

  memset(&io, 0, sizeof io);
  io.descriptorHandle = &marker;
  io.buffer = buffer;
  io.bufferLength = sizeof buffer;
  io.operationId = 0x1234567890ULL;
  check(QsoPostIOCompletion(port, &io) == 0, "QsoPostIOCompletion");

  memset(&got, 0xA5, sizeof got);
  rc = QsoWaitForIOCompletion(port, &got, &wait);
  check(rc == 1, "QsoWaitForIOCompletion returns 1");
  check(got.operationCompleted == QSOPOSTIOCOMPLETION, "operationCompleted");
  check(got.returnValue == 0 && got.errnoValue == 0, "returnValue and errnoValue are 0");
  check(got.descriptorHandle == (Qso_DescriptorHandle_t)&marker, "descriptorHandle");
  check(got.buffer == buffer && got.bufferLength == sizeof buffer, "buffer and bufferLength");
  check(got.operationId == 0x1234567890ULL, "operationId");

  rc = QsoWaitForIOCompletion(port, &got, &nowait);
  check(rc == 0, "an empty port polls to 0");
  check(QsoDestroyIOCompletionPort(port) == 0, "QsoDestroyIOCompletionPort");
  errno = 0;
  rc = QsoWaitForIOCompletion(port, &got, &nowait);
  check(rc == -1 && errno == EINVAL, "a destroyed port gives EINVAL");

  printf("%s\n", failed ? "install_c: FAILED" : "install_c: all checks passed");
  return failed;
}
