/*
 * echo_server.c - a multi-client echo server written the way an IBM i program is: one I/O
 * completion port, a pool of worker threads all waiting on it, and every socket operation
 * started with a Qso* call and finished by whichever worker the port wakes.
 *
 *   echo_server [-p port] [-t threads] [-n connections] [-T seconds]
 *
 *   -p port         TCP port on 127.0.0.1 (default 12346; 0 picks a free one)
 *   -t threads      worker threads waiting on the port (default 4, at most 64)
 *   -n connections  serve this many connections, then stop (default 0: no limit)
 *   -T seconds      stop after this long whatever happens (default 0: no limit)
 *
 * It prints "listening on 127.0.0.1:PORT" once it accepts connections and a summary when it
 * stops. It stops after -n connections have ended, after -T seconds, or on SIGINT/SIGTERM,
 * by posting one shutdown message per worker to the port (QsoPostIOCompletion), joining the
 * workers and destroying the port. Exit status: 0 when it stopped as asked (-n reached, or a
 * signal) and no connection ended in an error; 1 after the -T limit, a connection error or a
 * fatal one; 2 for a bad option.
 *
 * How the work flows (one operation is outstanding per connection at any time, so only the
 * worker holding that operation's completion touches the connection's state: no lock needed):
 *
 *   QsoStartAccept --(QSOSTARTACCEPT)--> new connection, QsoStartRecv, next QsoStartAccept
 *   QsoStartRecv   --(QSOSTARTRECV, n > 0)--> QsoStartSend of those n bytes
 *                      returns 0: sent at once            -> QsoStartRecv again
 *                      returns 1: QSOSTARTSEND comes later -> QsoStartRecv again then
 *   QsoStartRecv   --(QSOSTARTRECV, 0 or -1)--> close the connection
 *
 * Build: make (or: gcc -std=gnu11 -I include c-examples/echo_server.c -L target/release -lqsoasync
 *        -pthread -Wl,-rpath,$PWD/target/release)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "qsoasync.h"

#define BUFFER_SIZE 4096
#define MAX_WORKERS 64

/* Per-connection state; Qso_OverlappedIO_t.descriptorHandle points to it. */
struct connection {
  int sd;
  long number;                  /* 1 for the first connection accepted, ... */
  unsigned long long receives;  /* receive completions that carried data */
  unsigned long long bytes;     /* bytes received and echoed */
  struct connection *prev, *next; /* the server's list of open connections */
  char buffer[BUFFER_SIZE];
};

/* Server-wide state. The fields under "lock" are shared by the main thread and the workers. */
static struct {
  int port;           /* the completion port */
  int workers;
  long max_connections;
  pthread_mutex_t lock;
  pthread_cond_t changed; /* signalled when a reason to stop may have arrived */
  /* under lock: */
  int listen_sd;      /* -1 once closed */
  int stopping;
  int fatal;          /* an error that ends the server (accept failed, ...) */
  int stop_signal;    /* SIGINT/SIGTERM received, or 0 */
  long accepted, finished, failed;
  unsigned long long receives, bytes;
  struct connection *open;
} srv = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .listen_sd = -1,
};

/* Completions handled by each worker (each worker writes only its own slot). */
static unsigned long handled[MAX_WORKERS];

/* descriptorHandle of the shutdown message a worker receives through the port. */
static char shutdown_marker;

/* Like strerror, but also names the IBM i errno values that Linux lacks. */
static const char *errno_text(int e) {
  switch (e) {
  case ECLOSED: return "ECLOSED (descriptor closed)";
  case EDESTROYED: return "EDESTROYED (completion port destroyed)";
  case ETRUNC: return "ETRUNC (truncated)";
  case EUNKNOWN: return "EUNKNOWN";
  default: return strerror(e);
  }
}

/* Starts the next accept; the completion comes through the port (postFlag = 1), even when a
 * connection is already waiting. Called with srv.lock held, so it never races the main
 * thread's close of the listening socket. */
static void start_accept_locked(void) {
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof(io)); /* reserved fields must be zero */
  io.descriptorHandle = NULL; /* accepts need no state: operationCompleted tells them apart */
  io.postFlag = 1;
  if (QsoStartAccept(srv.listen_sd, srv.port, &io) < 0) {
    fprintf(stderr, "echo_server: QsoStartAccept: %s\n", errno_text(errno));
    srv.fatal = 1;
    pthread_cond_broadcast(&srv.changed);
  }
}

/* Closes a connection and records how it ended (err == 0: the client closed it). */
static void finish(struct connection *c, int err) {
  close(c->sd); /* no operation is outstanding on it: the caller held its only one */
  pthread_mutex_lock(&srv.lock);
  if (c->prev)
    c->prev->next = c->next;
  else
    srv.open = c->next;
  if (c->next)
    c->next->prev = c->prev;
  srv.finished++;
  srv.receives += c->receives;
  srv.bytes += c->bytes;
  if (err) {
    srv.failed++;
    fprintf(stderr, "echo_server: connection %ld ended: %s\n", c->number, errno_text(err));
  }
  if (srv.max_connections > 0 && srv.finished >= srv.max_connections)
    pthread_cond_broadcast(&srv.changed);
  pthread_mutex_unlock(&srv.lock);
  free(c);
}

/* Starts a receive of whatever arrives next (fillBuffer = 0: finish as soon as any data is
 * there). postFlag = 1: the completion always comes through the port, so the workers share
 * the connections fairly instead of one worker looping on a busy client. */
static void start_receive(struct connection *c) {
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof(io));
  io.descriptorHandle = c;
  io.buffer = c->buffer;
  io.bufferLength = sizeof(c->buffer);
  io.postFlag = 1;
  io.fillBuffer = 0;
  if (QsoStartRecv(c->sd, srv.port, &io) < 0)
    finish(c, errno);
}

/* A send finished (at once, or through the port): on success, receive the next data. */
static void on_sent(struct connection *c, const Qso_OverlappedIO_t *io) {
  if (io->returnValue == (int)io->bufferLength) {
    start_receive(c);
    return;
  }
  /* Fewer bytes than asked (their count is in returnValue), or -1: errnoValue says why. */
  finish(c, io->errnoValue ? io->errnoValue : EIO);
}

/* Echoes the n bytes just received. */
static void echo(struct connection *c, int n) {
  Qso_OverlappedIO_t io;
  int rc;
  memset(&io, 0, sizeof(io));
  io.descriptorHandle = c;
  io.buffer = c->buffer;
  io.bufferLength = (size_t)n;
  io.postFlag = 0; /* if it can be sent at once, say so now rather than through the port */
  rc = QsoStartSend(c->sd, srv.port, &io);
  if (rc == 0)
    on_sent(c, &io); /* done at once: the results are in io, nothing is posted */
  else if (rc == -1)
    finish(c, errno);
  /* rc == 1: the port gets a QSOSTARTSEND completion once every byte is sent; the buffer
   * belongs to the library until then, so nothing else is started on this connection. */
}

static void on_received(struct connection *c, const Qso_OverlappedIO_t *io) {
  if (io->returnValue > 0) {
    c->receives++;
    c->bytes += (unsigned long long)io->returnValue;
    echo(c, io->returnValue);
  } else if (io->returnValue == 0) {
    finish(c, 0); /* the client closed the connection */
  } else {
    finish(c, io->errnoValue);
  }
}

static void on_accepted(const Qso_OverlappedIO_t *io) {
  struct connection *c;
  int sd = io->returnValue, one = 1;

  pthread_mutex_lock(&srv.lock);
  if (srv.stopping) {
    /* The listening socket was closed (ECLOSED), or a last connection raced the stop. */
    pthread_mutex_unlock(&srv.lock);
    if (sd >= 0)
      close(sd);
    return;
  }
  if (sd < 0) {
    fprintf(stderr, "echo_server: accept failed: %s\n", errno_text(io->errnoValue));
    srv.fatal = 1;
    pthread_cond_broadcast(&srv.changed);
    pthread_mutex_unlock(&srv.lock);
    return;
  }
  c = calloc(1, sizeof(*c));
  if (c == NULL) {
    fprintf(stderr, "echo_server: out of memory\n");
    srv.fatal = 1;
    pthread_cond_broadcast(&srv.changed);
    pthread_mutex_unlock(&srv.lock);
    close(sd);
    return;
  }
  /* An echo comes back in pieces of at most BUFFER_SIZE bytes; without TCP_NODELAY, Nagle's
   * algorithm would hold a second piece until the client's delayed ACK (about 40 ms). */
  setsockopt(sd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->sd = sd;
  c->number = ++srv.accepted;
  c->next = srv.open;
  if (srv.open)
    srv.open->prev = c;
  srv.open = c;
  /* Keep one accept outstanding until the last connection we will serve has arrived. */
  if (srv.max_connections == 0 || srv.accepted < srv.max_connections)
    start_accept_locked();
  pthread_mutex_unlock(&srv.lock);

  start_receive(c);
}

/* A worker: waits on the port and handles whatever completion it is given. */
static void *worker(void *arg) {
  int self = (int)(intptr_t)arg;
  Qso_OverlappedIO_t io;

  for (;;) {
    /* No time limit: the main thread always ends the wait with a shutdown message. */
    int rc = QsoWaitForIOCompletion(srv.port, &io, NULL);
    if (rc != 1) {
      fprintf(stderr, "echo_server: worker %d: QsoWaitForIOCompletion: %s\n", self,
              rc < 0 ? errno_text(errno) : "timed out");
      return NULL;
    }
    switch (io.operationCompleted) {
    case QSOPOSTIOCOMPLETION:
      if (io.descriptorHandle == &shutdown_marker)
        return NULL;
      break;
    case QSOSTARTACCEPT:
      handled[self]++;
      on_accepted(&io);
      break;
    case QSOSTARTRECV:
      handled[self]++;
      on_received(io.descriptorHandle, &io);
      break;
    case QSOSTARTSEND:
      handled[self]++;
      on_sent(io.descriptorHandle, &io);
      break;
    default:
      fprintf(stderr, "echo_server: worker %d: unexpected completion %d\n", self,
              io.operationCompleted);
      break;
    }
  }
}

/* Turns SIGINT/SIGTERM into a request to stop (the signals are blocked in every other thread). */
static void *signal_waiter(void *arg) {
  sigset_t *set = arg;
  int sig;
  if (sigwait(set, &sig) == 0) {
    pthread_mutex_lock(&srv.lock);
    srv.stop_signal = sig;
    pthread_cond_broadcast(&srv.changed);
    pthread_mutex_unlock(&srv.lock);
  }
  return NULL;
}

static long number_option(const char *name, const char *text, long min, long max) {
  char *end;
  long v;
  errno = 0;
  v = strtol(text, &end, 10);
  if (errno || *text == '\0' || *end != '\0' || v < min || v > max) {
    fprintf(stderr, "echo_server: %s must be a number from %ld to %ld\n", name, min, max);
    exit(2);
  }
  return v;
}

static int open_listener(int tcp_port, int *bound_port) {
  struct sockaddr_in addr;
  socklen_t len = sizeof(addr);
  int on = 1;
  int sd = socket(AF_INET, SOCK_STREAM, 0);
  if (sd < 0) {
    perror("echo_server: socket");
    return -1;
  }
  if (setsockopt(sd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0) {
    perror("echo_server: setsockopt(SO_REUSEADDR)");
    close(sd);
    return -1;
  }
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)tcp_port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only */
  if (bind(sd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    fprintf(stderr, "echo_server: bind 127.0.0.1:%d: %s\n", tcp_port, strerror(errno));
    close(sd);
    return -1;
  }
  if (listen(sd, 128) < 0 || getsockname(sd, (struct sockaddr *)&addr, &len) < 0) {
    perror("echo_server: listen");
    close(sd);
    return -1;
  }
  *bound_port = ntohs(addr.sin_port);
  return sd;
}

int main(int argc, char **argv) {
  int tcp_port = 12346, bound_port = 0, opt, i, started = 0, timed_out = 0, status;
  long time_limit = 0, cut_short = 0;
  pthread_t threads[MAX_WORKERS], sig_thread;
  sigset_t stop_signals;
  pthread_condattr_t cattr;
  struct timespec deadline;
  struct connection *c;

  srv.workers = 4;
  while ((opt = getopt(argc, argv, "p:t:n:T:h")) != -1) {
    switch (opt) {
    case 'p': tcp_port = (int)number_option("-p port", optarg, 0, 65535); break;
    case 't': srv.workers = (int)number_option("-t threads", optarg, 1, MAX_WORKERS); break;
    case 'n': srv.max_connections = number_option("-n connections", optarg, 0, LONG_MAX); break;
    case 'T': time_limit = number_option("-T seconds", optarg, 0, 86400L * 365); break;
    default:
      fprintf(stderr, "usage: %s [-p port] [-t threads] [-n connections] [-T seconds]\n",
              argv[0]);
      return opt == 'h' ? 0 : 2;
    }
  }
  setvbuf(stdout, NULL, _IOLBF, 0); /* one line at a time, even into a pipe or a file */

  pthread_condattr_init(&cattr);
  pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
  pthread_cond_init(&srv.changed, &cattr);

  /* SIGINT/SIGTERM are taken by one thread (sigwait); every thread created after this
   * inherits the mask. */
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  if (pthread_create(&sig_thread, NULL, signal_waiter, &stop_signals) != 0) {
    fprintf(stderr, "echo_server: cannot create a thread\n");
    return 1;
  }

  srv.listen_sd = open_listener(tcp_port, &bound_port);
  if (srv.listen_sd < 0)
    return 1;

  /* One completion port for the whole server. */
  srv.port = QsoCreateIOCompletionPort();
  if (srv.port < 0) {
    perror("echo_server: QsoCreateIOCompletionPort");
    return 1;
  }

  /* The workers: all wait on the same port; each completion wakes exactly one of them. */
  for (i = 0; i < srv.workers; i++) {
    if (pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i) != 0)
      break;
    started++;
  }

  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += time_limit;

  pthread_mutex_lock(&srv.lock);
  if (started < srv.workers) {
    fprintf(stderr, "echo_server: could only create %d of %d workers\n", started, srv.workers);
    srv.fatal = 1;
  } else {
    start_accept_locked();
  }
  if (!srv.fatal)
    printf("listening on 127.0.0.1:%d (%d worker threads, %s)\n", bound_port, srv.workers,
           srv.max_connections ? "stops after -n connections" : "no connection limit");

  /* Sleep until there is a reason to stop. */
  while (!srv.fatal && !srv.stop_signal &&
         !(srv.max_connections > 0 && srv.finished >= srv.max_connections)) {
    if (time_limit == 0) {
      pthread_cond_wait(&srv.changed, &srv.lock);
    } else if (pthread_cond_timedwait(&srv.changed, &srv.lock, &deadline) == ETIMEDOUT) {
      timed_out = 1;
      break;
    }
  }

  /* Stop: no new accept may start once the listening socket is closed (an outstanding one is
   * posted with ECLOSED and ignored), then one shutdown message per worker. */
  srv.stopping = 1;
  close(srv.listen_sd);
  srv.listen_sd = -1;
  pthread_mutex_unlock(&srv.lock);

  for (i = 0; i < started; i++) {
    Qso_OverlappedIO_t msg;
    memset(&msg, 0, sizeof(msg));
    msg.descriptorHandle = &shutdown_marker;
    if (QsoPostIOCompletion(srv.port, &msg) < 0)
      perror("echo_server: QsoPostIOCompletion");
  }
  for (i = 0; i < started; i++)
    pthread_join(threads[i], NULL);

  /* Destroying the port drops the receives still outstanding on open connections; their
   * buffers are never touched once it returns, so the connections can be freed. */
  if (QsoDestroyIOCompletionPort(srv.port) < 0)
    perror("echo_server: QsoDestroyIOCompletionPort");
  while ((c = srv.open) != NULL) {
    srv.open = c->next;
    srv.receives += c->receives;
    srv.bytes += c->bytes;
    close(c->sd);
    free(c);
    cut_short++;
  }

  pthread_cancel(sig_thread);
  pthread_join(sig_thread, NULL);

  if (timed_out)
    printf("echo_server: time limit of %ld s reached\n", time_limit);
  if (srv.stop_signal)
    printf("echo_server: stopped by signal %d\n", srv.stop_signal);
  printf("echo_server: %ld connections served (%ld ended by an error, %ld cut short), "
         "%llu receives, %llu bytes echoed\n",
         srv.finished + cut_short, srv.failed, cut_short, srv.receives, srv.bytes);
  printf("echo_server: completions handled per worker:");
  for (i = 0; i < started; i++)
    printf(" %lu", handled[i]);
  printf("\n");

  /* Connections cut short by SIGINT/SIGTERM are expected; by a time limit or an error, not. */
  status = srv.fatal || timed_out || srv.failed > 0 || (cut_short > 0 && !srv.stop_signal);
  return status;
}
