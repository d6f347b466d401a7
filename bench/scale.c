/*
 * scale.c - many idle connections, each with a receive pending on one port.
 *
 *   scale [-n connections] [-d seconds]
 *
 * The idle connections are AF_UNIX socketpairs: this process keeps one end (with a pending
 * QsoStartRecv on it); the other end is passed (SCM_RIGHTS) to helper processes, so that the
 * descriptor limit bounds only the ends that matter. The number is the largest the descriptor
 * limit allows, up to -n (default 100000); the line says which limit stopped it.
 *
 * Memory: VmRSS, VmData and the C heap in use (mallinfo2) are read after the sockets exist
 * (no operation on them yet: the baseline) and again once every one of them has a receive
 * pending; the differences divided by the number of pending operations are the library's
 * memory per pending operation (kernel memory, e.g. epoll's entries, is not in these).
 *
 * Cost: a few active connections (socketpairs, both ends here) do round trips through the
 * port: the peer writes 64 bytes, QsoWaitForIOCompletion returns the receive, QsoStartSend
 * echoes them, QsoStartRecv starts the next receive, the peer reads the echo. ns per round
 * trip (median of 5 slices of -d/5 seconds, default 1.5 s in all) with the N connections
 * idle-pending. bench/run.sh compares runs with -n 100 and -n 10000, alternated.
 */
#include "bench.h"

#include <malloc.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "qsoasync.h"

#define ACTIVE 4
#define MSG 64
#define BATCH 250 /* descriptors per SCM_RIGHTS message (the kernel allows 253) */
#define MAX_HELPERS 64

static int port;
static double slice_secs = 0.3; /* -d / 5 */

struct active {
  int mine, peer;
  char buf[MSG];
  Qso_OverlappedIO_t io;
};
static struct active act[ACTIVE];

/* ---- helper processes holding the far ends ---- */

static void helper(int ctl) {
  alarm(600); /* never outlive a broken run */
  for (;;) {
    char data[1];
    char control[CMSG_SPACE(sizeof(int) * BATCH)];
    struct iovec iov = {data, sizeof(data)};
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    if (recvmsg(ctl, &msg, 0) <= 0)
      _exit(0); /* the parent is done: exiting closes everything */
    /* the received descriptors are simply kept open */
  }
}

static int send_fds(int ctl, const int *fds, int n) {
  char data[1] = {0};
  char control[CMSG_SPACE(sizeof(int) * BATCH)];
  struct iovec iov = {data, sizeof(data)};
  struct msghdr msg;
  struct cmsghdr *cm;
  memset(&msg, 0, sizeof(msg));
  memset(control, 0, sizeof(control));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
  cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
  memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)n);
  return sendmsg(ctl, &msg, 0) == 1 ? 0 : -1;
}

/* ---- the active connections ---- */

static void start_active_recv(struct active *a) {
  int rc;
  memset(&a->io, 0, sizeof(a->io));
  a->io.descriptorHandle = a;
  a->io.buffer = a->buf;
  a->io.bufferLength = MSG;
  a->io.postFlag = 1;
  rc = QsoStartRecv(a->mine, port, &a->io);
  if (rc != 1) {
    fprintf(stderr, "scale: QsoStartRecv on an active connection: %d %s\n", rc, strerror(errno));
    exit(1);
  }
}

/* One round trip on connection i; returns 0, or -1 on a failure. */
static int round_trip(int i) {
  struct active *a = &act[i];
  Qso_OverlappedIO_t done, io;
  struct timeval limit = {2, 0};
  char msg[MSG], back[MSG];
  memset(msg, 'a' + i, sizeof(msg));
  if (write(a->peer, msg, MSG) != MSG)
    return -1;
  if (QsoWaitForIOCompletion(port, &done, &limit) != 1 ||
      done.operationCompleted != QSOSTARTRECV || done.descriptorHandle != a ||
      done.returnValue != MSG)
    return -1;
  memset(&io, 0, sizeof(io));
  io.buffer = a->buf;
  io.bufferLength = MSG;
  if (QsoStartSend(a->mine, port, &io) != 0 || io.returnValue != MSG)
    return -1;
  start_active_recv(a);
  if (read(a->peer, back, MSG) != MSG || memcmp(back, msg, MSG) != 0)
    return -1;
  return 0;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

/* ns per round trip: the median of 5 slices. */
static double measure_rtt(void) {
  double slices[5];
  for (int i = 0; i < 200; i++) /* warm-up */
    if (round_trip(i % ACTIVE) < 0)
      goto fail;
  for (int s = 0; s < 5; s++) {
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)(slice_secs * 1e9), t;
    long n = 0;
    do {
      for (int k = 0; k < 100; k++)
        if (round_trip((int)(n + k) % ACTIVE) < 0)
          goto fail;
      n += 100;
      t = now_ns();
    } while (t < end);
    slices[s] = (double)(t - t0) / (double)n;
  }
  qsort(slices, 5, sizeof(double), cmp_double);
  return slices[2];
fail:
  fprintf(stderr, "scale: a round trip failed: %s\n", strerror(errno));
  exit(1);
}

static size_t heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

int main(int argc, char **argv) {
  long want = 100000, limit, n;
  int opt, helpers = 0, ctl[MAX_HELPERS];
  pid_t pids[MAX_HELPERS];
  int *fds;
  char *bufs;
  Qso_OverlappedIO_t *ios;
  long rss1, data1, rss2, data2;
  size_t heap1, heap2;
  double rtt, start_ns;
  const char *bound;
  long per_helper;

  while ((opt = getopt(argc, argv, "n:d:")) != -1) {
    switch (opt) {
    case 'n': want = atol(optarg); break;
    case 'd': slice_secs = atof(optarg) / 5; break;
    default:
      fprintf(stderr, "usage: scale [-n connections] [-d seconds per measurement]\n");
      return 2;
    }
  }
  if (want < 1 || want > 10000000 || slice_secs <= 0 || slice_secs > 10) {
    fprintf(stderr, "scale: -n from 1, -d in (0, 50]\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  limit = raise_nofile();
  /* This process: the kept ends, plus stdio, the port's epoll and wake descriptors, the
   * active pairs, the helpers' control sockets and some slack. */
  n = want;
  bound = "requested";
  if (n > limit - 100 - BATCH) {
    n = limit - 100 - BATCH;
    bound = "RLIMIT_NOFILE";
  }
  per_helper = limit - 20;
  helpers = (int)((n + per_helper - 1) / per_helper);
  if (helpers > MAX_HELPERS) {
    fprintf(stderr, "scale: too many helpers needed\n");
    return 1;
  }
  /* the helpers first, while this process has no library state and few descriptors */
  for (int h = 0; h < helpers; h++) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
      perror("scale: socketpair");
      return 1;
    }
    pids[h] = fork();
    if (pids[h] == 0) {
      close(sv[0]);
      for (int k = 0; k < h; k++)
        close(ctl[k]);
      helper(sv[1]);
    }
    close(sv[1]);
    ctl[h] = sv[0];
  }

  port = QsoCreateIOCompletionPort();
  if (port < 0) {
    perror("scale: QsoCreateIOCompletionPort");
    return 1;
  }
  for (int i = 0; i < ACTIVE; i++) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
      perror("scale: socketpair");
      return 1;
    }
    act[i].mine = sv[0];
    act[i].peer = sv[1];
    start_active_recv(&act[i]);
  }
  for (int i = 0; i < 1000; i++) /* the library's state, the engine and the pages in use */
    if (round_trip(i % ACTIVE) < 0)
      return 1;

  fds = malloc(sizeof(int) * (size_t)n);
  bufs = malloc((size_t)n * 16);
  ios = malloc(sizeof(*ios) * (size_t)n);
  if (fds == NULL || bufs == NULL || ios == NULL) {
    fprintf(stderr, "scale: out of memory\n");
    return 1;
  }
  /* Every record and buffer is written before the baseline: a zeroing memset after malloc is
     turned into calloc by the compiler, whose fresh pages would only become resident during
     the measured loop and be counted as the library's. */
  memset(bufs, 'b', (size_t)n * 16);
  memset(ios, 0, sizeof(*ios) * (size_t)n);
  for (long i = 0; i < n; i++) {
    ios[i].buffer = bufs + i * 16;
    ios[i].bufferLength = 16;
    ios[i].postFlag = 1;
  }

  /* the idle connections: this end kept, the other end passed to a helper */
  {
    int batch[BATCH], nb = 0, h = 0;
    long held = 0;
    for (long i = 0; i < n; i++) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        fprintf(stderr, "scale: socketpair %ld: %s\n", i, strerror(errno));
        return 1;
      }
      fds[i] = sv[0];
      batch[nb++] = sv[1];
      if (nb == BATCH || i == n - 1) {
        if (held + nb > per_helper) {
          h++;
          held = 0;
        }
        if (h >= helpers || send_fds(ctl[h], batch, nb) < 0) {
          fprintf(stderr, "scale: passing descriptors: %s\n", strerror(errno));
          return 1;
        }
        held += nb;
        for (int k = 0; k < nb; k++)
          close(batch[k]);
        nb = 0;
      }
    }
  }
  malloc_trim(0);
  rss1 = proc_status_kb("VmRSS");
  data1 = proc_status_kb("VmData");
  heap1 = heap_in_use();

  /* a pending receive on every idle connection */
  {
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
      Qso_OverlappedIO_t *io = &ios[i];
      if (QsoStartRecv(fds[i], port, io) != 1) {
        fprintf(stderr, "scale: QsoStartRecv %ld: %s\n", i, strerror(errno));
        return 1;
      }
    }
    start_ns = (double)(now_ns() - t0) / (double)n;
  }
  rss2 = proc_status_kb("VmRSS");
  data2 = proc_status_kb("VmData");
  heap2 = heap_in_use();
  rtt = measure_rtt();

  printf("scale conns=%ld bound=%s nofile_limit=%ld rss_per_op=%.0f data_per_op=%.0f "
         "heap_per_op=%.0f start_recv_ns=%.0f rtt_ns=%.0f\n",
         n, bound, limit, (double)(rss2 - rss1) * 1024.0 / (double)n,
         (double)(data2 - data1) * 1024.0 / (double)n, ((double)heap2 - (double)heap1) / (double)n,
         start_ns, rtt);

  for (int h = 0; h < helpers; h++)
    close(ctl[h]);
  for (int h = 0; h < helpers; h++)
    waitpid(pids[h], NULL, 0);
  return 0;
}
