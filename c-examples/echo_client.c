/*
 * echo_client.c - drives an echo server and checks every byte it sends back.
 *
 *   echo_client [-p port] [-c connections] [-m messages] [-s size]
 *
 *   -p port         the server's TCP port on 127.0.0.1 (default 12346)
 *   -c connections  connections opened at once (default 4)
 *   -m messages     messages sent on each connection, one after the other (default 100)
 *   -s size         bytes in each message (default 64)
 *
 * Each message has its own content (it depends on the connection, the message number and the
 * position), so an echo that is late, mixed with another connection's or altered is caught.
 * Prints "ok: C connections x M messages verified" and exits 0, or prints what went wrong and
 * exits 1 (2 for a bad option).
 *
 * It uses the library too, from a single thread, as an event loop on one completion port:
 * for each message it starts a receive of exactly S bytes (fillBuffer = 1: it completes only
 * when the buffer is full, at end of file or on error) and a send of the message. Every
 * operation carries a 10-second limit (operationWaitTime): a server that stops answering
 * makes it end with EAGAIN instead of hanging. The wait itself is limited too.
 *
 * Build: make (or: gcc -std=gnu11 -I include c-examples/echo_client.c -L target/release -lqsoasync
 *        -pthread -Wl,-rpath,$PWD/target/release)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "qsoasync.h"

#define OPERATION_SECONDS 10 /* limit of each send and receive */
#define WAIT_SECONDS 15      /* limit of each QsoWaitForIOCompletion */

struct connection {
  int index;
  int sd;
  int message;              /* the message in flight: 0 .. messages-1 */
  int sent, received;       /* its send and its receive have completed */
  unsigned long long send_id, recv_id; /* operationIds of the two operations in flight */
  unsigned char *out, *in;  /* the message and its echo */
};

static int port_number = 12346, connections = 4, messages = 100;
static size_t size = 64;
static int completion_port = -1;

/* Byte i of message m on connection c. */
static unsigned char pattern(int c, int m, size_t i) {
  uint32_t x = (uint32_t)c * 2654435761u ^ (uint32_t)m * 40503u ^ (uint32_t)i * 2246822519u;
  x ^= x >> 13;
  x *= 0x5bd1e995u;
  x ^= x >> 15;
  return (unsigned char)x;
}

static const char *errno_text(int e) {
  switch (e) {
  case ECLOSED: return "ECLOSED (descriptor closed)";
  case EDESTROYED: return "EDESTROYED (completion port destroyed)";
  case EAGAIN: return "EAGAIN (no answer within the time limit)";
  default: return strerror(e);
  }
}

static int fail(const struct connection *c, const char *what, int err) {
  fprintf(stderr, "echo_client: connection %d, message %d: %s%s%s\n", c->index, c->message,
          what, err ? ": " : "", err ? errno_text(err) : "");
  return -1;
}

/* Starts message c->message: the receive of its echo first, then the send. */
static int start_message(struct connection *c) {
  Qso_OverlappedIO_t io;
  size_t i;
  int rc;

  for (i = 0; i < size; i++)
    c->out[i] = pattern(c->index, c->message, i);
  memset(c->in, 0, size);
  c->sent = c->received = 0;

  memset(&io, 0, sizeof(io));
  io.descriptorHandle = c;
  io.buffer = c->in;
  io.bufferLength = size;
  io.fillBuffer = 1; /* complete only with all S bytes (or at end of file, error, time limit) */
  io.postFlag = 1;   /* always through the port, like every other completion here */
  io.operationWaitTime.tv_sec = OPERATION_SECONDS;
  io.operationId = c->recv_id = QsoGenerateOperationId(c->sd);
  if (QsoStartRecv(c->sd, completion_port, &io) < 0)
    return fail(c, "QsoStartRecv", errno);

  memset(&io, 0, sizeof(io));
  io.descriptorHandle = c;
  io.buffer = c->out;
  io.bufferLength = size;
  io.postFlag = 0; /* sent at once (return 0) when the socket has room */
  io.operationWaitTime.tv_sec = OPERATION_SECONDS;
  io.operationId = c->send_id = QsoGenerateOperationId(c->sd);
  rc = QsoStartSend(c->sd, completion_port, &io);
  if (rc < 0)
    return fail(c, "QsoStartSend", errno);
  if (rc == 0) { /* done at once: the result is in io, nothing will be posted */
    if (io.returnValue != (int)size)
      return fail(c, "send ended early", io.errnoValue);
    c->sent = 1;
  }
  return 0;
}

/* Handles one completion; returns 1 when its connection has finished every message. */
static int on_completion(struct connection *c, const Qso_OverlappedIO_t *io) {
  size_t i;

  if (io->operationCompleted == QSOSTARTSEND) {
    if (io->operationId != c->send_id)
      return fail(c, "send completion with an unexpected operationId", 0);
    if (io->returnValue != (int)size)
      return fail(c, "send ended early", io->errnoValue);
    c->sent = 1;
  } else if (io->operationCompleted == QSOSTARTRECV) {
    if (io->operationId != c->recv_id || io->buffer != c->in)
      return fail(c, "receive completion with an unexpected operationId or buffer", 0);
    if (io->returnValue != (int)size) {
      char what[96];
      snprintf(what, sizeof(what), "echo incomplete (%d of %zu bytes%s)", io->returnValue, size,
               io->returnValue >= 0 && io->errnoValue == 0 ? ", server closed" : "");
      return fail(c, what, io->errnoValue);
    }
    for (i = 0; i < size; i++) {
      if (c->in[i] != c->out[i]) {
        char what[96];
        snprintf(what, sizeof(what), "echo differs at byte %zu (0x%02x, expected 0x%02x)", i,
                 c->in[i], c->out[i]);
        return fail(c, what, 0);
      }
    }
    c->received = 1;
  } else {
    return fail(c, "unexpected completion", 0);
  }

  if (!c->sent || !c->received)
    return 0;
  if (++c->message == messages)
    return 1;
  return start_message(c) < 0 ? -1 : 0;
}

static int connect_to_server(void) {
  struct sockaddr_in addr;
  struct timeval limit = {OPERATION_SECONDS, 0};
  int sd = socket(AF_INET, SOCK_STREAM, 0);
  if (sd < 0)
    return -1;
  /* On Linux, SO_SNDTIMEO also limits a blocking connect. */
  setsockopt(sd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port_number);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(sd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    int e = errno;
    close(sd);
    errno = e;
    return -1;
  }
  return sd;
}

static long number_option(const char *name, const char *text, long min, long max) {
  char *end;
  long v;
  errno = 0;
  v = strtol(text, &end, 10);
  if (errno || *text == '\0' || *end != '\0' || v < min || v > max) {
    fprintf(stderr, "echo_client: %s must be a number from %ld to %ld\n", name, min, max);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  struct connection *conns;
  int opt, i, done = 0, ok = 1;

  while ((opt = getopt(argc, argv, "p:c:m:s:h")) != -1) {
    switch (opt) {
    case 'p': port_number = (int)number_option("-p port", optarg, 1, 65535); break;
    case 'c': connections = (int)number_option("-c connections", optarg, 1, 1000); break;
    case 'm': messages = (int)number_option("-m messages", optarg, 1, 100000000); break;
    case 's': size = (size_t)number_option("-s size", optarg, 1, 16L << 20); break;
    default:
      fprintf(stderr, "usage: %s [-p port] [-c connections] [-m messages] [-s size]\n",
              argv[0]);
      return opt == 'h' ? 0 : 2;
    }
  }

  conns = calloc((size_t)connections, sizeof(*conns));
  if (conns == NULL) {
    fprintf(stderr, "echo_client: out of memory\n");
    return 1;
  }
  for (i = 0; i < connections; i++)
    conns[i].sd = -1;

  completion_port = QsoCreateIOCompletionPort();
  if (completion_port < 0) {
    perror("echo_client: QsoCreateIOCompletionPort");
    return 1;
  }

  for (i = 0; i < connections && ok; i++) {
    struct connection *c = &conns[i];
    c->index = i;
    c->out = malloc(size);
    c->in = malloc(size);
    if (c->out == NULL || c->in == NULL) {
      fprintf(stderr, "echo_client: out of memory\n");
      ok = 0;
    } else if ((c->sd = connect_to_server()) < 0) {
      fprintf(stderr, "echo_client: connect to 127.0.0.1:%d: %s\n", port_number,
              strerror(errno));
      ok = 0;
    } else if (start_message(c) < 0) {
      ok = 0;
    }
  }

  /* The event loop: one completion at a time, until every connection is done. */
  while (ok && done < connections) {
    Qso_OverlappedIO_t io;
    struct timeval wait = {WAIT_SECONDS, 0};
    struct connection *c;
    int rc = QsoWaitForIOCompletion(completion_port, &io, &wait);
    if (rc == 0) {
      fprintf(stderr, "echo_client: no completion for %d s\n", WAIT_SECONDS);
      ok = 0;
      break;
    }
    if (rc < 0) {
      perror("echo_client: QsoWaitForIOCompletion");
      ok = 0;
      break;
    }
    c = io.descriptorHandle; /* handed back bit for bit */
    if (c < conns || c >= conns + connections) {
      fprintf(stderr, "echo_client: completion with an unknown descriptorHandle %p\n",
              (void *)c);
      ok = 0;
      break;
    }
    rc = on_completion(c, &io);
    if (rc < 0) {
      ok = 0;
    } else if (rc == 1) {
      close(c->sd); /* nothing is outstanding on it any more */
      c->sd = -1;
      done++;
    }
  }

  /* Destroying the port drops whatever is still outstanding (only after a failure); the
   * buffers are untouched once it returns, so they can be freed. */
  QsoDestroyIOCompletionPort(completion_port);
  for (i = 0; i < connections; i++) {
    if (conns[i].sd >= 0)
      close(conns[i].sd);
    free(conns[i].out);
    free(conns[i].in);
  }
  free(conns);

  if (!ok)
    return 1;
  printf("ok: %d connections x %d messages verified\n", connections, messages);
  return 0;
}
