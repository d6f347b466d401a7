/*
 * bench.h - small helpers shared by the benchmark programs (header only, static functions).
 *
 *   now_ns()            CLOCK_MONOTONIC in nanoseconds
 *   raise_nofile()      soft RLIMIT_NOFILE up to the hard limit; returns the new soft limit
 *   syscall_counter()   a perf counter of the calling thread's system calls (the
 *                       raw_syscalls:sys_enter tracepoint), or -1 when perf is not available
 *   struct hist         log-linear latency histogram (1/64 relative precision), percentiles
 *   proc_status_kb()    a field of /proc/self/status (VmRSS, VmData...) in KiB
 *   the echo servers' common frame (epoll_echo_server.c, uring_echo_server.c):
 *   open_listeners()    one listener per thread on one port of 127.0.0.1 (SO_REUSEPORT)
 *   stop_on_signals()   SIGINT / SIGTERM call the handler (waits return EINTR), SIGPIPE ignored
 *   serve_on_threads()  runs serve() for each listener, each on its own thread, until all end
 */
#ifndef QSO_BENCH_H
#define QSO_BENCH_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline long raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -1;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
      getrlimit(RLIMIT_NOFILE, &rl);
  }
  return (long)rl.rlim_cur;
}

/* ---- system call counting (perf tracepoint, counted in the kernel: no ptrace slowdown) ---- */

static int tracepoint_id(const char *name) {
  const char *roots[] = {"/sys/kernel/tracing/events/", "/sys/kernel/debug/tracing/events/"};
  for (unsigned i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
    char path[256];
    FILE *f;
    int id = -1;
    snprintf(path, sizeof(path), "%s%s/id", roots[i], name);
    f = fopen(path, "r");
    if (f == NULL)
      continue;
    if (fscanf(f, "%d", &id) != 1)
      id = -1;
    fclose(f);
    if (id >= 0)
      return id;
  }
  return -1;
}

/* Counts the system calls of the calling thread (and, with inherit, of threads it creates
 * afterwards). Returns a descriptor to read with syscall_count(), or -1. */
static inline int syscall_counter(int inherit) {
  struct perf_event_attr attr;
  int id = tracepoint_id("raw_syscalls/sys_enter");
  if (id < 0)
    return -1;
  memset(&attr, 0, sizeof(attr));
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.size = sizeof(attr);
  attr.config = (uint64_t)id;
  attr.disabled = 0;
  attr.inherit = inherit ? 1 : 0;
  attr.exclude_kernel = 0;
  return (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/* The count so far (the read itself is a system call, entered before it is counted: callers
 * measure a difference of two reads, which then includes exactly one read). */
static inline long long syscall_count(int fd) {
  uint64_t v = 0;
  if (fd < 0 || read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
    return -1;
  return (long long)v;
}

/* ---- latency histogram: values in ns, buckets of 1/64 of a power of two ---- */

#define HIST_SUB 64
#define HIST_BUCKETS (HIST_SUB * 40)

struct hist {
  uint64_t count;
  uint64_t max;
  uint64_t b[HIST_BUCKETS];
};

static inline unsigned hist_index(uint64_t v) {
  unsigned e;
  if (v < HIST_SUB)
    return (unsigned)v;
  e = 63u - (unsigned)__builtin_clzll(v) - 6u; /* v >> e is in [64, 128) */
  {
    unsigned idx = e * HIST_SUB + (unsigned)(v >> e);
    return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
  }
}

/* The lowest value of bucket idx (inverse of hist_index). */
static inline uint64_t hist_value(unsigned idx) {
  unsigned e;
  if (idx < 2 * HIST_SUB)
    return idx;
  e = idx / HIST_SUB - 1;
  return (uint64_t)(idx - e * HIST_SUB) << e;
}

static inline void hist_add(struct hist *h, uint64_t v) {
  h->b[hist_index(v)]++;
  h->count++;
  if (v > h->max)
    h->max = v;
}

static inline void hist_merge(struct hist *into, const struct hist *from) {
  for (unsigned i = 0; i < HIST_BUCKETS; i++)
    into->b[i] += from->b[i];
  into->count += from->count;
  if (from->max > into->max)
    into->max = from->max;
}

/* The value at quantile q (0..1): the middle of the bucket that holds it. */
static inline uint64_t hist_quantile(const struct hist *h, double q) {
  uint64_t rank, seen = 0;
  if (h->count == 0)
    return 0;
  rank = (uint64_t)(q * (double)(h->count - 1)) + 1;
  for (unsigned i = 0; i < HIST_BUCKETS; i++) {
    seen += h->b[i];
    if (seen >= rank) {
      uint64_t lo = hist_value(i), hi = hist_value(i + 1);
      return lo + (hi - lo) / 2;
    }
  }
  return h->max;
}

/* ---- /proc/self/status ---- */

static inline long proc_status_kb(const char *field) {
  char line[256];
  size_t n = strlen(field);
  long v = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL)
    return -1;
  while (fgets(line, sizeof(line), f)) {
    if (strncmp(line, field, n) == 0 && line[n] == ':') {
      v = strtol(line + n + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  return v;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorts v[0..n) and returns the value at quantile q. */
static inline uint64_t quantile_u64(uint64_t *v, size_t n, double q) {
  size_t i;
  if (n == 0)
    return 0;
  qsort(v, n, sizeof(*v), cmp_u64);
  i = (size_t)(q * (double)(n - 1) + 0.5);
  return v[i];
}

/* ---- the echo servers' common frame ---------------------------------------------------------- */

#define MAX_SERVER_THREADS 16

/* A non-blocking TCP listener on 127.0.0.1:port (0: a free one), backlog 4096, close-on-exec;
 * SO_REUSEPORT when several threads each have one on the same port. -1 on error. */
static inline int open_listener(int port, int reuseport) {
  struct sockaddr_in addr;
  int on = 1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (reuseport)
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4096) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Opens `threads` listeners (1..MAX_SERVER_THREADS) on one port into lfds[]; *port 0 takes a
 * free one and is set to it. Returns 0, or -1 with errno. */
static inline int open_listeners(int threads, int *port, int lfds[]) {
  for (int i = 0; i < threads; i++) {
    lfds[i] = open_listener(*port, threads > 1);
    if (lfds[i] < 0)
      return -1;
    if (i == 0) {
      struct sockaddr_in addr;
      socklen_t len = sizeof(addr);
      getsockname(lfds[0], (struct sockaddr *)&addr, &len);
      *port = ntohs(addr.sin_port);
    }
  }
  return 0;
}

/* SIGINT and SIGTERM call `handler` without SA_RESTART (a blocked wait returns EINTR, so a
 * server notices its stop flag at once); SIGPIPE is ignored (a send to a closed peer fails). */
static inline void stop_on_signals(void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = handler;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

/* Runs serve(&lfds[i]) for each of the `threads` listeners, the first on the calling thread;
 * when it returns, stops the others with SIGTERM and waits for them. */
static inline void serve_on_threads(int threads, int lfds[], void *(*serve)(void *)) {
  pthread_t tids[MAX_SERVER_THREADS];
  for (int i = 1; i < threads; i++)
    pthread_create(&tids[i], NULL, serve, &lfds[i]);
  serve(&lfds[0]);
  for (int i = 1; i < threads; i++)
    pthread_kill(tids[i], SIGTERM);
  for (int i = 1; i < threads; i++)
    pthread_join(tids[i], NULL);
}

#endif
