/*
 * handoff.c - the cost of handing a completion over through a port.
 *
 *   handoff [-d seconds] [-m none|same|cross|all] [-r rounds]
 *
 * (a) one thread: QsoPostIOCompletion + QsoWaitForIOCompletion({0,0}) on a port that is never
 *     empty (one completion stays queued); ns per pair and system calls per pair (counted by a
 *     perf tracepoint counter on the thread, when perf is available: -1 otherwise).
 * (b) ping-pong between two threads: A posts to port 1, B (blocked in a wait on port 1) posts
 *     what it got to port 2, A waits on port 2. Round trip time, against a raw futex ping-pong
 *     (two threads, two futex words, FUTEX_WAIT / FUTEX_WAKE) measured in the same run, the
 *     two measured in alternation (-r rounds of -d/(2*rounds) seconds each) and the medians
 *     compared. -m picks the CPU placement: none (the scheduler's choice), same (both threads
 *     on CPU 0), cross (A on CPU 0, B on CPU 1), all (the three in turn; default); -m single
 *     runs (a) only (for profilers).
 *
 * Output: one "key=value" line per measurement, for bench/run.sh.
 */
#include "bench.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "qsoasync.h"

static double seconds = 1.0;
static int rounds = 5;

/* ---- (a) one thread ---- */

static void single_thread(void) {
  Qso_OverlappedIO_t io, out;
  struct timeval poll = {0, 0};
  int port = QsoCreateIOCompletionPort();
  int counter = syscall_counter(0);
  uint64_t pairs = 0, t0, t1, deadline;
  long long s0, s1;

  if (port < 0) {
    perror("QsoCreateIOCompletionPort");
    exit(1);
  }
  memset(&io, 0, sizeof(io));
  if (QsoPostIOCompletion(port, &io) != 0) { /* the one that keeps the port non-empty */
    perror("QsoPostIOCompletion");
    exit(1);
  }
  /* warm-up */
  for (int i = 0; i < 10000; i++) {
    QsoPostIOCompletion(port, &io);
    QsoWaitForIOCompletion(port, &out, &poll);
  }
  deadline = now_ns() + (uint64_t)(seconds * 1e9);
  s0 = syscall_count(counter);
  t0 = now_ns();
  do {
    for (int i = 0; i < 10000; i++) {
      if (QsoPostIOCompletion(port, &io) != 0 || QsoWaitForIOCompletion(port, &out, &poll) != 1) {
        fprintf(stderr, "handoff: post/wait failed: %s\n", strerror(errno));
        exit(1);
      }
    }
    pairs += 10000;
    t1 = now_ns();
  } while (t1 < deadline);
  s1 = syscall_count(counter);
  printf("handoff.single ns_per_pair=%.1f syscalls_per_pair=%.4f pairs=%llu\n",
         (double)(t1 - t0) / (double)pairs,
         counter >= 0 ? (double)(s1 - s0 - 1) / (double)pairs : -1.0,
         (unsigned long long)pairs);
  QsoDestroyIOCompletionPort(port);
  if (counter >= 0)
    close(counter);
}

/* ---- (b) ping-pong ---- */

enum placement { PLACE_NONE, PLACE_SAME, PLACE_CROSS };

struct pingpong {
  enum placement place;
  int use_lib;
  double secs;
  /* library */
  int port1, port2;
  /* futex */
  _Atomic int w1, w2, stop;
  /* results */
  uint64_t trips, elapsed_ns;
  long long a_calls, b_calls, b_trips;
};

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static long futex(_Atomic int *addr, int op, int val) {
  return syscall(SYS_futex, (int *)addr, op, val, NULL, NULL, 0);
}

static char stop_marker;

static void *side_b(void *arg) {
  struct pingpong *pp = arg;
  int counter;
  long long c0;
  long long trips = 0;
  if (pp->place == PLACE_SAME)
    pin(0);
  else if (pp->place == PLACE_CROSS)
    pin(1);
  counter = syscall_counter(0);
  c0 = syscall_count(counter);
  if (pp->use_lib) {
    Qso_OverlappedIO_t io;
    for (;;) {
      if (QsoWaitForIOCompletion(pp->port1, &io, NULL) != 1) {
        perror("handoff: B wait");
        exit(1);
      }
      if (io.descriptorHandle == &stop_marker)
        break;
      trips++;
      if (QsoPostIOCompletion(pp->port2, &io) != 0) {
        perror("handoff: B post");
        exit(1);
      }
    }
  } else {
    for (;;) {
      while (atomic_load_explicit(&pp->w1, memory_order_acquire) == 0)
        futex(&pp->w1, FUTEX_WAIT_PRIVATE, 0);
      atomic_store_explicit(&pp->w1, 0, memory_order_relaxed);
      if (atomic_load_explicit(&pp->stop, memory_order_relaxed))
        break;
      trips++;
      atomic_store_explicit(&pp->w2, 1, memory_order_release);
      futex(&pp->w2, FUTEX_WAKE_PRIVATE, 1);
    }
  }
  pp->b_calls = syscall_count(counter) - c0;
  pp->b_trips = trips;
  if (counter >= 0)
    close(counter);
  return NULL;
}

static void *side_a(void *arg) {
  struct pingpong *pp = arg;
  uint64_t trips = 0, t0, t1, deadline;
  int counter;
  long long c0;
  if (pp->place != PLACE_NONE)
    pin(0);
  counter = syscall_counter(0);
  deadline = now_ns() + (uint64_t)(pp->secs * 1e9);
  c0 = syscall_count(counter);
  t0 = now_ns();
  if (pp->use_lib) {
    Qso_OverlappedIO_t io, out;
    memset(&io, 0, sizeof(io));
    do {
      for (int i = 0; i < 100; i++) {
        if (QsoPostIOCompletion(pp->port1, &io) != 0 ||
            QsoWaitForIOCompletion(pp->port2, &out, NULL) != 1) {
          perror("handoff: A post/wait");
          exit(1);
        }
      }
      trips += 100;
      t1 = now_ns();
    } while (t1 < deadline);
    pp->a_calls = syscall_count(counter) - c0;
    io.descriptorHandle = &stop_marker;
    QsoPostIOCompletion(pp->port1, &io);
  } else {
    do {
      for (int i = 0; i < 100; i++) {
        atomic_store_explicit(&pp->w1, 1, memory_order_release);
        futex(&pp->w1, FUTEX_WAKE_PRIVATE, 1);
        while (atomic_load_explicit(&pp->w2, memory_order_acquire) == 0)
          futex(&pp->w2, FUTEX_WAIT_PRIVATE, 0);
        atomic_store_explicit(&pp->w2, 0, memory_order_relaxed);
      }
      trips += 100;
      t1 = now_ns();
    } while (t1 < deadline);
    pp->a_calls = syscall_count(counter) - c0;
    atomic_store(&pp->stop, 1);
    atomic_store_explicit(&pp->w1, 1, memory_order_release);
    futex(&pp->w1, FUTEX_WAKE_PRIVATE, 1);
  }
  pp->trips = trips;
  pp->elapsed_ns = t1 - t0;
  if (counter >= 0)
    close(counter);
  return NULL;
}

/* One timed ping-pong; returns ns per round trip and the syscalls per round trip (A + B). */
static double run_pingpong(enum placement place, int use_lib, double secs, double *calls) {
  struct pingpong pp;
  pthread_t a, b;
  memset(&pp, 0, sizeof(pp));
  pp.place = place;
  pp.use_lib = use_lib;
  pp.secs = secs;
  if (use_lib) {
    pp.port1 = QsoCreateIOCompletionPort();
    pp.port2 = QsoCreateIOCompletionPort();
    if (pp.port1 < 0 || pp.port2 < 0) {
      perror("QsoCreateIOCompletionPort");
      exit(1);
    }
  }
  pthread_create(&b, NULL, side_b, &pp);
  pthread_create(&a, NULL, side_a, &pp);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  if (use_lib) {
    QsoDestroyIOCompletionPort(pp.port1);
    QsoDestroyIOCompletionPort(pp.port2);
  }
  /* B's count includes the final wake-up for the stop message (one trip more or less) */
  *calls = (pp.a_calls >= 0 && pp.b_calls >= 0)
               ? (double)(pp.a_calls + pp.b_calls) / (double)pp.trips
               : -1.0;
  return (double)pp.elapsed_ns / (double)pp.trips;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void pingpong(enum placement place) {
  static const char *names[] = {"none", "same", "cross"};
  double lib[64], fut[64], lib_calls[64], fut_calls[64];
  double slice = seconds / (2.0 * rounds);
  double dummy;
  run_pingpong(place, 1, 0.05, &dummy); /* warm-up: threads, ports, pages */
  run_pingpong(place, 0, 0.05, &dummy);
  for (int r = 0; r < rounds; r++) {
    fut[r] = run_pingpong(place, 0, slice, &fut_calls[r]);
    lib[r] = run_pingpong(place, 1, slice, &lib_calls[r]);
  }
  {
    double l = median(lib, rounds), f = median(fut, rounds);
    printf("handoff.pingpong place=%s lib_rtt_ns=%.0f futex_rtt_ns=%.0f ratio=%.2f "
           "lib_syscalls_per_rt=%.2f futex_syscalls_per_rt=%.2f\n",
           names[place], l, f, l / f, median(lib_calls, rounds), median(fut_calls, rounds));
  }
}

int main(int argc, char **argv) {
  int opt;
  const char *mode = "all";
  while ((opt = getopt(argc, argv, "d:m:r:")) != -1) {
    switch (opt) {
    case 'd': seconds = atof(optarg); break;
    case 'm': mode = optarg; break;
    case 'r': rounds = atoi(optarg); break;
    default:
      fprintf(stderr, "usage: handoff [-d seconds] [-m none|same|cross|all|single] [-r rounds]\n");
      return 2;
    }
  }
  if (seconds <= 0 || seconds > 60 || rounds < 1 || rounds > 64) {
    fprintf(stderr, "handoff: -d must be in (0, 60], -r in [1, 64]\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  single_thread();
  if (!strcmp(mode, "none") || !strcmp(mode, "all"))
    pingpong(PLACE_NONE);
  if (!strcmp(mode, "same") || !strcmp(mode, "all"))
    pingpong(PLACE_SAME);
  if (!strcmp(mode, "cross") || !strcmp(mode, "all"))
    pingpong(PLACE_CROSS);
  return 0;
}
