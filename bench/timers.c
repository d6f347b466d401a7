/*
 * timers.c - how late QsoWaitForIOCompletion returns after its timeout, and what waiting costs.
 *
 *   timers [-q]        (-q: fewer runs, for a quick look)
 *
 * Timeouts of 1 ms, 10 ms and 100 ms (200, 100 and 20 runs): lateness = time spent in the
 * call minus the timeout, p50 and p99, in two situations:
 *   idle   a port with nothing to do: the waiter sleeps on its own (futex) until the timeout;
 *   leader a port with a receive pending on an idle socket: the waiter runs the engine
 *          (epoll) until the timeout.
 * Baseline in the same run: clock_nanosleep for the same times (the kernel's timer slack,
 * 50 us by default, is in every one of them). The three are measured in turn, run after run.
 * CPU: user + system time (getrusage) and system calls (perf counter) during one 2 s wait.
 */
#include "bench.h"

#include <sys/socket.h>

#include "qsoasync.h"

static int quick;

static void wait_once(int port, long usec) {
  Qso_OverlappedIO_t io;
  struct timeval tv = {usec / 1000000, usec % 1000000};
  int rc = QsoWaitForIOCompletion(port, &io, &tv);
  if (rc != 0) {
    fprintf(stderr, "timers: the wait returned %d (%s), not a time-out\n", rc, strerror(errno));
    exit(1);
  }
}

static void sleep_once(int unused, long usec) {
  struct timespec ts = {usec / 1000000, (usec % 1000000) * 1000};
  (void)unused;
  clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

/* The three kinds are measured in turn, run after run, so that they share the same noise. */
static void lateness(int idle, int busy) {
  static const long usecs[] = {1000, 10000, 100000};
  static const int runs[] = {200, 100, 20};
  static const char *names[] = {"nanosleep", "idle", "leader"};
  for (int k = 0; k < 3; k++) {
    int n = quick ? runs[k] / 10 : runs[k];
    uint64_t late[3][200];
    for (int i = -1; i < n; i++) { /* i == -1: warm-up */
      for (int w = 0; w < 3; w++) {
        uint64_t t0 = now_ns(), dt;
        if (w == 0)
          sleep_once(0, usecs[k]);
        else
          wait_once(w == 1 ? idle : busy, usecs[k]);
        dt = now_ns() - t0;
        if (i >= 0)
          late[w][i] = dt > (uint64_t)usecs[k] * 1000 ? dt - (uint64_t)usecs[k] * 1000 : 0;
      }
    }
    for (int w = 0; w < 3; w++) {
      uint64_t p50 = quantile_u64(late[w], (size_t)n, 0.50);
      uint64_t p99 = quantile_u64(late[w], (size_t)n, 0.99);
      printf("timers.late what=%s timeout_ms=%ld runs=%d p50_us=%.1f p99_us=%.1f\n", names[w],
             usecs[k] / 1000, n, p50 / 1e3, p99 / 1e3);
    }
  }
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void cpu_during_wait(const char *what, int port) {
  int counter = syscall_counter(0);
  long long s0 = syscall_count(counter), s1;
  double c0 = cpu_seconds(), c1;
  uint64_t t0 = now_ns();
  wait_once(port, quick ? 500000 : 2000000);
  c1 = cpu_seconds();
  s1 = syscall_count(counter);
  printf("timers.cpu what=%s wait_s=%.2f cpu_ms=%.2f syscalls=%lld\n", what,
         (now_ns() - t0) / 1e9, (c1 - c0) * 1e3, counter >= 0 ? s1 - s0 - 1 : -1);
  if (counter >= 0)
    close(counter);
}

int main(int argc, char **argv) {
  int idle, busy, sv[2];
  char buf[16];
  Qso_OverlappedIO_t io;

  quick = argc > 1 && !strcmp(argv[1], "-q");
  setvbuf(stdout, NULL, _IOLBF, 0);
  idle = QsoCreateIOCompletionPort();
  busy = QsoCreateIOCompletionPort();
  if (idle < 0 || busy < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    perror("timers: setup");
    return 1;
  }
  memset(&io, 0, sizeof(io));
  io.buffer = buf;
  io.bufferLength = sizeof(buf);
  if (QsoStartRecv(sv[0], busy, &io) != 1) { /* stays pending: nobody writes to sv[1] */
    perror("timers: QsoStartRecv");
    return 1;
  }
  lateness(idle, busy);
  cpu_during_wait("idle", idle);
  cpu_during_wait("leader", busy);
  return 0;
}
