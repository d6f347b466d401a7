/*
 * epoll_echo_server.c - the baseline: a raw edge-triggered epoll echo server, written as a
 * careful C programmer would write it.
 *
 *   epoll_echo_server [-p port] [-t threads] [-T seconds]
 *
 *   -p port     TCP port on 127.0.0.1 (default 0: a free one, printed)
 *   -t threads  threads, each with its own epoll and its own SO_REUSEPORT listener on the
 *               same port (the kernel spreads connections over them); default 1
 *   -T seconds  stop after this long (default 600); SIGINT / SIGTERM stop it at once
 *
 * Each connection: non-blocking, TCP_NODELAY, registered once (EPOLLIN | EPOLLRDHUP |
 * EPOLLET). On readiness it reads until EAGAIN and writes every chunk straight back; only
 * bytes the kernel would not take are kept, and only then is EPOLLOUT asked for (and reading
 * paused until they are flushed). One read buffer per thread, no allocation per message.
 * Prints "listening on 127.0.0.1:PORT" once ready.
 */
#include "bench.h"

#include <netinet/tcp.h>
#include <sys/epoll.h>

#define READ_BUF (64 * 1024)
#define MAX_EVENTS 256

struct conn {
  int fd;
  int out_armed;   /* EPOLLOUT asked for */
  char *pending;   /* bytes not yet written back */
  size_t off, len, cap;
};

static volatile sig_atomic_t stop;
static int tcp_port;
static long time_limit = 600;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void close_conn(struct conn *c) {
  close(c->fd); /* removes it from the epoll set */
  free(c->pending);
  free(c);
}

/* Keeps bytes the kernel did not take. */
static int keep(struct conn *c, const char *data, size_t n) {
  size_t have = c->len - c->off;
  if (c->off) {
    memmove(c->pending, c->pending + c->off, have);
    c->off = 0;
    c->len = have;
  }
  if (have + n > c->cap) {
    size_t cap = c->cap ? c->cap : 4096;
    char *p;
    while (cap < have + n)
      cap *= 2;
    p = realloc(c->pending, cap);
    if (p == NULL)
      return -1;
    c->pending = p;
    c->cap = cap;
  }
  memcpy(c->pending + c->len, data, n);
  c->len += n;
  return 0;
}

/* Writes what is pending; returns 1 when all is written, 0 when some is left, -1 on error. */
static int flush_pending(struct conn *c) {
  while (c->off < c->len) {
    ssize_t n = send(c->fd, c->pending + c->off, c->len - c->off, MSG_NOSIGNAL);
    if (n > 0) {
      c->off += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return 0;
    } else {
      return -1;
    }
  }
  c->off = c->len = 0;
  return 1;
}

static int set_out(int ep, struct conn *c, int on) {
  struct epoll_event ev;
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (on ? EPOLLOUT : 0);
  ev.data.ptr = c;
  c->out_armed = on;
  return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Reads until EAGAIN, echoing each chunk; returns -1 when the connection is to be closed. */
static int on_readable(int ep, struct conn *c, char *buf) {
  for (;;) {
    ssize_t n, w;
    if (c->out_armed)
      return 0; /* output is backed up: read again once it drains */
    n = recv(c->fd, buf, READ_BUF, 0);
    if (n == 0)
      return -1;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno == EAGAIN ? 0 : -1;
    }
    w = send(c->fd, buf, (size_t)n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno != EAGAIN && errno != EINTR)
        return -1;
      w = 0;
    }
    if (w < n) {
      if (keep(c, buf + w, (size_t)(n - w)) < 0 || set_out(ep, c, 1) < 0)
        return -1;
      return 0;
    }
    if (n < READ_BUF)
      return 0; /* a short read: the socket is drained (saves the recv that says EAGAIN) */
  }
}

static void accept_all(int ep, int lfd) {
  for (;;) {
    struct epoll_event ev;
    struct conn *c;
    int one = 1;
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      return; /* EAGAIN, or out of descriptors: try again at the next event */
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
      close(fd);
      continue;
    }
    c->fd = fd;
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
      close_conn(c);
  }
}

static void *serve(void *arg) {
  int lfd = *(int *)arg;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  char *buf = malloc(READ_BUF);
  struct epoll_event events[MAX_EVENTS];
  struct epoll_event lev;
  static char listener_tag;
  time_t end = time(NULL) + time_limit;

  if (ep < 0 || buf == NULL) {
    perror("epoll_echo_server");
    exit(1);
  }
  lev.events = EPOLLIN | EPOLLET;
  lev.data.ptr = &listener_tag;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  while (!stop) {
    int n = epoll_wait(ep, events, MAX_EVENTS, 1000);
    if (n < 0 && errno != EINTR) {
      perror("epoll_wait");
      exit(1);
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      uint32_t e = events[i].events;
      if (events[i].data.ptr == &listener_tag) {
        accept_all(ep, lfd);
        continue;
      }
      if (e & EPOLLERR) {
        close_conn(c);
        continue;
      }
      if ((e & EPOLLOUT) && c->out_armed) {
        int r = flush_pending(c);
        if (r < 0) {
          close_conn(c);
          continue;
        }
        if (r == 1) {
          if (set_out(ep, c, 0) < 0) {
            close_conn(c);
            continue;
          }
          e |= EPOLLIN; /* reading was paused: catch up on what arrived meanwhile */
        }
      }
      if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
        if (on_readable(ep, c, buf) < 0)
          close_conn(c);
      }
    }
    if (time(NULL) >= end)
      break;
  }
  free(buf);
  close(ep);
  return NULL;
}

int main(int argc, char **argv) {
  int threads = 1, opt;
  int lfds[MAX_SERVER_THREADS];

  while ((opt = getopt(argc, argv, "p:t:T:")) != -1) {
    switch (opt) {
    case 'p': tcp_port = atoi(optarg); break;
    case 't': threads = atoi(optarg); break;
    case 'T': time_limit = atol(optarg); break;
    default:
      fprintf(stderr, "usage: epoll_echo_server [-p port] [-t threads] [-T seconds]\n");
      return 2;
    }
  }
  if (threads < 1 || threads > MAX_SERVER_THREADS || time_limit < 1) {
    fprintf(stderr, "epoll_echo_server: -t 1..%d, -T >= 1\n", MAX_SERVER_THREADS);
    return 2;
  }
  stop_on_signals(on_signal);
  if (open_listeners(threads, &tcp_port, lfds) < 0) {
    perror("epoll_echo_server: listen");
    return 1;
  }
  printf("listening on 127.0.0.1:%d (%d thread%s)\n", tcp_port, threads, threads > 1 ? "s" : "");
  fflush(stdout);
  serve_on_threads(threads, lfds, serve);
  return 0;
}
