/*
 * uring_echo_server.c - a second baseline: an io_uring echo server, written as a careful C
 * programmer would write it with liburing. It answers one question of the design: would an
 * io_uring engine, submitting the receives and sends themselves, beat epoll on this machine?
 *
 *   uring_echo_server [-p port] [-t threads] [-T seconds] [-S] [-C]
 *
 *   -p port     TCP port on 127.0.0.1 (default 0: a free one, printed)
 *   -t threads  threads, each with its own ring and its own SO_REUSEPORT listener on the same
 *               port (the kernel spreads connections over them); default 1
 *   -T seconds  stop after this long (default 600); SIGINT / SIGTERM stop it at once
 *   -S          "shared ring" set-up: no IORING_SETUP_SINGLE_ISSUER / DEFER_TASKRUN. Those two
 *               are the fast set-up, but they bind the ring to the one thread that submits to it
 *               and waits on it; a completion port, where any thread may submit and any thread
 *               may wait, can only have the set-up of -S.
 *   -C          "the library's obligations": what an io_uring engine under the Qso contract
 *               would still have to do. The echo is sent at once with send() (QsoStartSend tries
 *               first and completes inside the call), and the next receive is tried at once
 *               with recv(MSG_DONTWAIT) (QsoStartRecv must finish inside the call when data is
 *               there); only when that says EAGAIN does the receive go to the ring.
 *
 * Each ring: one multishot accept; per connection one receive in flight into the connection's
 * own buffer. A finished receive of n > 0 bytes queues a send of those bytes (MSG_WAITALL, no
 * completion entry when it succeeds) linked to the next receive, so both go to the kernel in
 * the ring's next io_uring_enter, which also waits: with many connections one system call
 * serves many messages. A receive of 0 or an error (including a cancel after a failed send)
 * closes the connection. Prints "listening on 127.0.0.1:PORT" once ready.
 */
#include "bench.h"

#include <liburing.h>
#include <netinet/tcp.h>

#define BUF_SIZE (16 * 1024)
#define RING_ENTRIES 4096
#define SEND_TAG 1u /* low bit of user_data: a send's completion (connections are aligned) */

struct conn {
  int fd;
  char buf[BUF_SIZE];
};

static volatile sig_atomic_t stop;
static int tcp_port;
static long time_limit = 600;
static int shared_setup;
static int contract_mode;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

/* A free submission entry; when the queue is full, hands it to the kernel first. */
static struct io_uring_sqe *next_sqe(struct io_uring *ring) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
  if (sqe == NULL) {
    io_uring_submit(ring);
    sqe = io_uring_get_sqe(ring);
  }
  if (sqe == NULL) {
    fprintf(stderr, "uring_echo_server: submission queue stays full\n");
    exit(1);
  }
  return sqe;
}

static void queue_accept(struct io_uring *ring, int lfd) {
  struct io_uring_sqe *sqe = next_sqe(ring);
  io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
  io_uring_sqe_set_data(sqe, NULL);
}

static void queue_recv(struct io_uring *ring, struct conn *c) {
  struct io_uring_sqe *sqe = next_sqe(ring);
  io_uring_prep_recv(sqe, c->fd, c->buf, sizeof(c->buf), 0);
  io_uring_sqe_set_data(sqe, c);
}

/* The echo of n bytes, then (linked: only after it) the next receive into the same buffer. */
static void queue_echo(struct io_uring *ring, struct conn *c, int n) {
  struct io_uring_sqe *sqe = next_sqe(ring);
  io_uring_prep_send(sqe, c->fd, c->buf, (size_t)n, MSG_NOSIGNAL | MSG_WAITALL);
  io_uring_sqe_set_data(sqe, (void *)((uintptr_t)c | SEND_TAG));
  sqe->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
  queue_recv(ring, c);
}

/* -C: the echo and the next receive the way QsoStartSend / QsoStartRecv start them. */
static void echo_at_once(struct io_uring *ring, struct conn *c, int n) {
  for (int round = 0;; round++) {
    if (send(c->fd, c->buf, (size_t)n, MSG_NOSIGNAL) != n)
      break;
    if (round == 15) { /* fair to the other connections: through the ring after 16 in a row */
      queue_recv(ring, c);
      return;
    }
    n = (int)recv(c->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
    if (n < 0 && errno == EAGAIN) {
      queue_recv(ring, c);
      return;
    }
    if (n <= 0)
      break;
  }
  close(c->fd); /* a failed send, the peer's end, or an error */
  free(c);
}

static void on_accepted(struct io_uring *ring, int fd) {
  int one = 1;
  struct conn *c;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c = malloc(sizeof(*c));
  if (c == NULL) {
    close(fd);
    return;
  }
  c->fd = fd;
  queue_recv(ring, c);
}

/* Opens the ring with the fast set-up unless -S, falling back when the kernel is older;
 * returns the name of the set-up taken. */
static const char *open_ring(struct io_uring *ring) {
  unsigned tries[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
                      IORING_SETUP_COOP_TASKRUN, 0};
  const char *names[] = {"single-issuer, deferred task work", "shared, cooperative task work",
                         "shared"};
  for (size_t i = shared_setup ? 1 : 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
    struct io_uring_params params;
    memset(&params, 0, sizeof(params));
    params.flags = tries[i];
    if (io_uring_queue_init_params(RING_ENTRIES, ring, &params) == 0)
      return names[i];
  }
  fprintf(stderr, "uring_echo_server: io_uring_queue_init failed\n");
  exit(1);
}


static void *serve(void *arg) {
  int lfd = *(int *)arg;
  struct io_uring ring;
  time_t end = time(NULL) + time_limit;

  open_ring(&ring);
  queue_accept(&ring, lfd);
  while (!stop && time(NULL) < end) {
    struct __kernel_timespec wait_limit = {.tv_sec = 1, .tv_nsec = 0};
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    int rc = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &wait_limit, NULL);
    if (rc < 0 && rc != -ETIME && rc != -EINTR) {
      fprintf(stderr, "uring_echo_server: io_uring_submit_and_wait_timeout: %s\n", strerror(-rc));
      exit(1);
    }
    io_uring_for_each_cqe(&ring, head, cqe) {
      uintptr_t data = (uintptr_t)io_uring_cqe_get_data(cqe);
      seen++;
      if (data == 0) { /* the listener */
        if (cqe->res >= 0)
          on_accepted(&ring, cqe->res);
        if (!(cqe->flags & IORING_CQE_F_MORE))
          queue_accept(&ring, lfd);
      } else if (data & SEND_TAG) {
        /* a failed send: its linked receive ends with -ECANCELED and closes the connection */
      } else {
        struct conn *c = (struct conn *)data;
        if (cqe->res > 0 && contract_mode) {
          echo_at_once(&ring, c, cqe->res);
        } else if (cqe->res > 0) {
          queue_echo(&ring, c, cqe->res);
        } else {
          close(c->fd);
          free(c);
        }
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
  io_uring_queue_exit(&ring);
  return NULL;
}

int main(int argc, char **argv) {
  int threads = 1, opt;
  int lfds[MAX_SERVER_THREADS];
  struct io_uring probe;
  const char *setup;

  while ((opt = getopt(argc, argv, "p:t:T:SC")) != -1) {
    switch (opt) {
    case 'p': tcp_port = atoi(optarg); break;
    case 't': threads = atoi(optarg); break;
    case 'T': time_limit = atol(optarg); break;
    case 'S': shared_setup = 1; break;
    case 'C': contract_mode = 1; break;
    default:
      fprintf(stderr, "usage: uring_echo_server [-p port] [-t threads] [-T seconds] [-S] [-C]\n");
      return 2;
    }
  }
  if (threads < 1 || threads > MAX_SERVER_THREADS || time_limit < 1) {
    fprintf(stderr, "uring_echo_server: -t 1..%d, -T >= 1\n", MAX_SERVER_THREADS);
    return 2;
  }
  stop_on_signals(on_signal);
  if (open_listeners(threads, &tcp_port, lfds) < 0) {
    perror("uring_echo_server: listen");
    return 1;
  }
  setup = open_ring(&probe); /* the set-up the kernel takes, to say so; each thread has its own */
  io_uring_queue_exit(&probe);
  printf("listening on 127.0.0.1:%d (%d thread%s, ring set-up: %s)\n", tcp_port, threads,
         threads > 1 ? "s" : "", setup);
  fflush(stdout);
  serve_on_threads(threads, lfds, serve);
  return 0;
}
