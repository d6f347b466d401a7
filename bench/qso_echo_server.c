/*
 * qso_echo_server.c - the library's echo server, the IBM i way: one completion port, N worker
 * threads waiting on it, a receive outstanding per connection, echoes sent with QsoStartSend.
 *
 *   qso_echo_server [-p port] [-t workers] [-T seconds] [-P]
 *
 *   -p port     TCP port on 127.0.0.1 (default 0: a free one, printed)
 *   -t workers  threads waiting on the port (default 2)
 *   -T seconds  stop after this long (default 600); SIGINT / SIGTERM stop it at once
 *   -P          start receives with postFlag = 1 (always through the port) instead of 0
 *
 * Per connection (only the worker holding its one outstanding operation touches it):
 *   receive done (n > 0) -> QsoStartSend(n bytes, postFlag 0)
 *       returns 0 (sent at once) -> QsoStartRecv again (postFlag 0: data already there is
 *                                   handled in the same worker, at most 16 times in a row)
 *       returns 1                -> the QSOSTARTSEND completion restarts the receive
 *   receive done (0 or -1) -> close
 * Accepted sockets get TCP_NODELAY. Prints "listening on 127.0.0.1:PORT" once ready.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
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

#define BUF_SIZE (16 * 1024)
#define MAX_WORKERS 64
#define INLINE_MAX 16

struct conn {
  int sd;
  char buf[BUF_SIZE];
};

static int port;
static int listen_sd;
static int recv_post_flag;
static char shutdown_marker;
static _Atomic long errors;

static void start_accept(void) {
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof(io));
  io.postFlag = 1;
  if (QsoStartAccept(listen_sd, port, &io) < 0 && errno != EBADF)
    perror("qso_echo_server: QsoStartAccept");
}

static void finish(struct conn *c) {
  close(c->sd);
  free(c);
}

static void start_receive(struct conn *c);

/* n bytes arrived in c->buf: echo them, then receive again. Loops while both finish at once. */
static void on_received(struct conn *c, int n) {
  for (int round = 0;; round++) {
    Qso_OverlappedIO_t io;
    int rc;
    if (n <= 0) {
      finish(c);
      return;
    }
    memset(&io, 0, sizeof(io));
    io.descriptorHandle = c;
    io.buffer = c->buf;
    io.bufferLength = (size_t)n;
    rc = QsoStartSend(c->sd, port, &io);
    if (rc == 1)
      return; /* QSOSTARTSEND completes later */
    if (rc < 0 || io.returnValue != n) {
      errors++;
      finish(c);
      return;
    }
    memset(&io, 0, sizeof(io));
    io.descriptorHandle = c;
    io.buffer = c->buf;
    io.bufferLength = sizeof(c->buf);
    io.postFlag = (recv_post_flag || round >= INLINE_MAX) ? 1 : 0;
    rc = QsoStartRecv(c->sd, port, &io);
    if (rc == 1)
      return; /* QSOSTARTRECV completes later */
    if (rc < 0) {
      finish(c);
      return;
    }
    n = io.returnValue; /* finished at once */
  }
}

static void start_receive(struct conn *c) {
  Qso_OverlappedIO_t io;
  int rc;
  memset(&io, 0, sizeof(io));
  io.descriptorHandle = c;
  io.buffer = c->buf;
  io.bufferLength = sizeof(c->buf);
  io.postFlag = recv_post_flag;
  rc = QsoStartRecv(c->sd, port, &io);
  if (rc == 0)
    on_received(c, io.returnValue);
  else if (rc < 0)
    finish(c);
}

static void on_accepted(int sd) {
  struct conn *c;
  int one = 1;
  start_accept(); /* keep one accept outstanding */
  if (sd < 0)
    return;
  setsockopt(sd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c = malloc(sizeof(*c));
  if (c == NULL) {
    close(sd);
    return;
  }
  c->sd = sd;
  start_receive(c);
}

static void *worker(void *arg) {
  Qso_OverlappedIO_t io;
  (void)arg;
  for (;;) {
    if (QsoWaitForIOCompletion(port, &io, NULL) != 1) {
      perror("qso_echo_server: QsoWaitForIOCompletion");
      return NULL;
    }
    switch (io.operationCompleted) {
    case QSOPOSTIOCOMPLETION:
      if (io.descriptorHandle == &shutdown_marker)
        return NULL;
      break;
    case QSOSTARTACCEPT:
      if (io.returnValue >= 0 || io.errnoValue != ECLOSED)
        on_accepted(io.returnValue);
      break;
    case QSOSTARTRECV:
      on_received(io.descriptorHandle, io.returnValue);
      break;
    case QSOSTARTSEND:
      if (io.returnValue != (int)io.bufferLength) {
        errors++;
        finish(io.descriptorHandle);
      } else {
        start_receive(io.descriptorHandle);
      }
      break;
    }
  }
}

int main(int argc, char **argv) {
  int workers = 2, tcp_port = 0, opt, on = 1;
  long time_limit = 600;
  pthread_t tids[MAX_WORKERS];
  struct sockaddr_in addr;
  socklen_t len = sizeof(addr);
  sigset_t set;
  struct timespec limit;

  while ((opt = getopt(argc, argv, "p:t:T:P")) != -1) {
    switch (opt) {
    case 'p': tcp_port = atoi(optarg); break;
    case 't': workers = atoi(optarg); break;
    case 'T': time_limit = atol(optarg); break;
    case 'P': recv_post_flag = 1; break;
    default:
      fprintf(stderr, "usage: qso_echo_server [-p port] [-t workers] [-T seconds] [-P]\n");
      return 2;
    }
  }
  if (workers < 1 || workers > MAX_WORKERS || time_limit < 1) {
    fprintf(stderr, "qso_echo_server: -t 1..%d, -T >= 1\n", MAX_WORKERS);
    return 2;
  }
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by the workers; main takes them */

  listen_sd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt(listen_sd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)tcp_port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (listen_sd < 0 || bind(listen_sd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
      listen(listen_sd, 4096) < 0 ||
      getsockname(listen_sd, (struct sockaddr *)&addr, &len) < 0) {
    perror("qso_echo_server: listen");
    return 1;
  }
  port = QsoCreateIOCompletionPort();
  if (port < 0) {
    perror("qso_echo_server: QsoCreateIOCompletionPort");
    return 1;
  }
  for (int i = 0; i < workers; i++)
    pthread_create(&tids[i], NULL, worker, NULL);
  start_accept();
  printf("listening on 127.0.0.1:%d (%d workers)\n", ntohs(addr.sin_port), workers);
  fflush(stdout);

  limit.tv_sec = time_limit;
  limit.tv_nsec = 0;
  while (sigtimedwait(&set, NULL, &limit) < 0 && errno == EINTR)
    ;

  close(listen_sd); /* the outstanding accept ends with ECLOSED */
  for (int i = 0; i < workers; i++) {
    Qso_OverlappedIO_t msg;
    memset(&msg, 0, sizeof(msg));
    msg.descriptorHandle = &shutdown_marker;
    QsoPostIOCompletion(port, &msg);
  }
  for (int i = 0; i < workers; i++)
    pthread_join(tids[i], NULL);
  QsoDestroyIOCompletionPort(port); /* drops the receives still outstanding */
  if (errors)
    fprintf(stderr, "qso_echo_server: %ld connections ended in an error\n", (long)errors);
  return 0;
}
