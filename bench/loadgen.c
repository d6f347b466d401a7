/*
 * loadgen.c - one load generator for every echo server: C connections, each doing ping-pong of
 * S-byte messages (the next one is sent when the whole echo of the last one has arrived and
 * matched it byte for byte).
 *
 *   loadgen -p port [-c connections] [-s size] [-d seconds] [-w warmup] [-t threads]
 *
 *   -p port         the server, on 127.0.0.1
 *   -c connections  default 100
 *   -s size         message size in bytes, default 64
 *   -d seconds      measured time, default 3
 *   -w seconds      warm-up before it (not measured), default 0.5
 *   -t threads      client threads, each with its own epoll and a share of the connections
 *                   (default 1)
 *   -P seconds      once every connection is made, print "connected" on stderr and pause this
 *                   long before the first message; after the last one, print "finished" and
 *                   pause again before closing the connections (lets a script count the
 *                   server's system calls for the messages only); default 0
 *
 * Every connection is non-blocking, TCP_NODELAY, registered once (EPOLLIN | EPOLLOUT |
 * EPOLLET). Each message carries its connection's pattern and its sequence number; an echo
 * that differs is counted as an error and the connection is dropped. The time from the send
 * of a message to the last byte of its echo goes into a histogram (1/64 precision).
 *
 * Output (one line):
 *   loadgen conns=C size=S rps=... p50_us=... p99_us=... max_us=... requests=... total=...
 *           errors=... elapsed=...
 * requests: completed in the measured window; total: completed since the first send (for
 * system calls per message over the server's whole run).
 */
#include "bench.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>

struct conn {
  int fd;
  int id;
  uint64_t seq;
  size_t sent, got;
  uint64_t t_send;
  unsigned char *sbuf, *rbuf;
};

struct worker {
  pthread_t tid;
  struct conn *conns;
  int n;
  struct hist *hist;
  uint64_t measured, total, errors;
};

static int port = -1, nconns = 100, nthreads = 1;
static size_t size = 64;
static double duration = 3.0, warmup = 0.5, pause_after_connect;
static uint64_t t_start, t_measure, t_end;
static pthread_barrier_t barrier;

static void fill_message(struct conn *c) {
  /* bytes 0..7: sequence number; the rest: the connection's pattern, shifted per message */
  for (size_t j = 8; j < size; j++)
    c->sbuf[j] = (unsigned char)(j * 7 + (size_t)c->id * 13 + c->seq);
  for (size_t j = 0; j < 8 && j < size; j++)
    c->sbuf[j] = (unsigned char)(c->seq >> (8 * j));
}

/* Sends the rest of the current message; -1 on error. */
static int pump_send(struct conn *c) {
  while (c->sent < size) {
    ssize_t n = send(c->fd, c->sbuf + c->sent, size - c->sent, MSG_NOSIGNAL);
    if (n > 0) {
      c->sent += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return 0;
    } else {
      return -1;
    }
  }
  return 0;
}

static int start_message(struct conn *c) {
  c->seq++;
  fill_message(c);
  c->sent = c->got = 0;
  c->t_send = now_ns();
  return pump_send(c);
}

/* Reads what has arrived; on a whole echo, checks it, records it and sends the next message.
 * Returns -1 when the connection is to be dropped. */
static int pump_recv(struct worker *w, struct conn *c) {
  for (;;) {
    ssize_t n;
    if (c->got == size) {
      uint64_t t = now_ns();
      if (memcmp(c->sbuf, c->rbuf, size) != 0) {
        w->errors++;
        return -1;
      }
      w->total++;
      if (t >= t_measure && t < t_end) {
        w->measured++;
        hist_add(w->hist, t - c->t_send);
      }
      if (t >= t_end)
        return 0;
      /* the echo cannot be there yet: the next edge says when it is (saves a recv) */
      return start_message(c) < 0 ? -1 : 0;
    }
    n = recv(c->fd, c->rbuf + c->got, size - c->got, 0);
    if (n > 0) {
      c->got += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return 0;
    if (n == 0 || c->got < size)
      w->errors++; /* the server closed, or an error, in the middle of an echo */
    return -1;
  }
}

static void *run(void *arg) {
  struct worker *w = arg;
  struct epoll_event events[256];
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int live = w->n;
  if (ep < 0) {
    perror("loadgen: epoll_create1");
    exit(1);
  }
  for (int i = 0; i < w->n; i++) {
    struct epoll_event ev;
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &w->conns[i];
    if (epoll_ctl(ep, EPOLL_CTL_ADD, w->conns[i].fd, &ev) < 0) {
      perror("loadgen: epoll_ctl");
      exit(1);
    }
  }
  pthread_barrier_wait(&barrier);
  for (int i = 0; i < w->n; i++) {
    if (start_message(&w->conns[i]) < 0) {
      w->errors++;
      close(w->conns[i].fd);
      w->conns[i].fd = -1;
      live--;
    }
  }
  while (live > 0) {
    uint64_t now = now_ns();
    int n;
    if (now >= t_end)
      break;
    n = epoll_wait(ep, events, 256, (int)((t_end - now) / 1000000) + 1);
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      int bad = 0;
      if (c->fd < 0)
        continue;
      if ((events[i].events & EPOLLOUT) && c->sent < size)
        bad = pump_send(c) < 0;
      if (!bad && (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        bad = pump_recv(w, c) < 0;
      if (bad) {
        close(c->fd);
        c->fd = -1;
        live--;
      }
    }
  }
  close(ep); /* the connections are closed by main, after the optional pause */
  return NULL;
}

static int connect_one(void) {
  struct sockaddr_in addr;
  int one = 1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    close(fd);
    return -1;
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

int main(int argc, char **argv) {
  int opt;
  struct worker *workers;
  struct conn *conns;
  struct hist *all;
  uint64_t measured = 0, total = 0, errors = 0;
  long limit;

  while ((opt = getopt(argc, argv, "p:c:s:d:w:t:P:")) != -1) {
    switch (opt) {
    case 'p': port = atoi(optarg); break;
    case 'c': nconns = atoi(optarg); break;
    case 's': size = (size_t)atol(optarg); break;
    case 'd': duration = atof(optarg); break;
    case 'w': warmup = atof(optarg); break;
    case 't': nthreads = atoi(optarg); break;
    case 'P': pause_after_connect = atof(optarg); break;
    default:
      fprintf(stderr, "usage: loadgen -p port [-c conns] [-s size] [-d secs] [-w secs] [-t threads] [-P secs]\n");
      return 2;
    }
  }
  if (port <= 0 || port > 65535 || nconns < 1 || size < 1 || size > (1 << 20) ||
      duration <= 0 || duration > 120 || warmup < 0 || warmup > 60 || nthreads < 1 ||
      nthreads > 16 || nthreads > nconns || pause_after_connect < 0 || pause_after_connect > 10) {
    fprintf(stderr, "loadgen: bad arguments\n");
    return 2;
  }
  limit = raise_nofile();
  if (limit < nconns + 64) {
    fprintf(stderr, "loadgen: %d connections need more descriptors than the limit (%ld)\n",
            nconns, limit);
    return 1;
  }
  conns = calloc((size_t)nconns, sizeof(*conns));
  workers = calloc((size_t)nthreads, sizeof(*workers));
  all = calloc(1, sizeof(*all));
  if (conns == NULL || workers == NULL || all == NULL) {
    fprintf(stderr, "loadgen: out of memory\n");
    return 1;
  }
  for (int i = 0; i < nconns; i++) {
    conns[i].id = i;
    conns[i].sbuf = malloc(size);
    conns[i].rbuf = malloc(size);
    if (conns[i].sbuf == NULL || conns[i].rbuf == NULL) {
      fprintf(stderr, "loadgen: out of memory\n");
      return 1;
    }
    memset(conns[i].rbuf, 0, size);
    for (int attempt = 0; (conns[i].fd = connect_one()) < 0; attempt++) {
      if (attempt == 50) {
        fprintf(stderr, "loadgen: connect to 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
      }
      usleep(20000);
    }
  }
  /* connections are dealt to the threads in turn */
  for (int t = 0; t < nthreads; t++) {
    workers[t].conns = conns + (size_t)nconns * (size_t)t / (size_t)nthreads;
    workers[t].n = (int)((size_t)nconns * (size_t)(t + 1) / (size_t)nthreads -
                         (size_t)nconns * (size_t)t / (size_t)nthreads);
    workers[t].hist = calloc(1, sizeof(struct hist));
    if (workers[t].hist == NULL)
      return 1;
  }
  if (pause_after_connect > 0) {
    struct timespec ts = {(time_t)pause_after_connect,
                          (long)((pause_after_connect - (double)(time_t)pause_after_connect) * 1e9)};
    fprintf(stderr, "connected\n");
    nanosleep(&ts, NULL);
  }
  pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
  t_start = now_ns();
  t_measure = t_start + (uint64_t)(warmup * 1e9);
  t_end = t_measure + (uint64_t)(duration * 1e9);
  for (int t = 1; t < nthreads; t++)
    pthread_create(&workers[t].tid, NULL, run, &workers[t]);
  run(&workers[0]);
  for (int t = 1; t < nthreads; t++)
    pthread_join(workers[t].tid, NULL);
  if (pause_after_connect > 0) {
    struct timespec ts = {(time_t)pause_after_connect,
                          (long)((pause_after_connect - (double)(time_t)pause_after_connect) * 1e9)};
    fprintf(stderr, "finished\n");
    nanosleep(&ts, NULL);
  }
  for (int i = 0; i < nconns; i++) {
    if (conns[i].fd >= 0)
      close(conns[i].fd);
  }
  for (int t = 0; t < nthreads; t++) {
    hist_merge(all, workers[t].hist);
    measured += workers[t].measured;
    total += workers[t].total;
    errors += workers[t].errors;
  }
  printf("loadgen conns=%d size=%zu rps=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f requests=%llu "
         "total=%llu errors=%llu elapsed=%.2f\n",
         nconns, size, (double)measured / duration, hist_quantile(all, 0.50) / 1e3,
         hist_quantile(all, 0.99) / 1e3, all->max / 1e3, (unsigned long long)measured,
         (unsigned long long)total, (unsigned long long)errors, (now_ns() - t_start) / 1e9);
  return errors ? 1 : 0;
}
