/*
 * tls_echo_server.c - an asynchronous TLS echo server written the way an IBM i program is: a
 * GSKit environment (keyring file or application id), one I/O completion port with worker
 * threads waiting on it, and every secure operation started with gsk_secure_soc_startInit,
 * gsk_secure_soc_startRecv or gsk_secure_soc_startSend and finished by whichever worker the
 * port wakes.
 *
 *   tls_echo_server (-k keyring.pem | -a application_id) [-p port] [-t threads]
 *                   [-n connections] [-T seconds] [-s]
 *
 *   -k keyring.pem  the server's PEM keyring: certificate chain and private key
 *   -a app_id       an application id instead: its file is $QSOASYNC_APPID_DIR/app_id.pem
 *   -p port         TCP port on 127.0.0.1 (default 12347; 0 picks a free one)
 *   -t threads      worker threads waiting on the port (default 4, at most 64)
 *   -n connections  serve this many connections, then stop (default 0: no limit)
 *   -T seconds      stop after this long whatever happens (default 0: no limit)
 *   -s              do the handshake synchronously (gsk_secure_soc_init) in the main thread
 *
 * It prints "listening on 127.0.0.1:PORT" once it accepts connections and, when it stops,
 * "tls_echo_server: N connections served (E ended by an error), B bytes echoed". Exit status:
 * 0 when it stopped as asked and no connection ended in an error; 1 otherwise; 2 for a bad
 * option.
 *
 * How the work flows (one operation is outstanding per connection at any time, so only the
 * worker holding its completion touches the connection):
 *
 *   accept() -> gsk_secure_soc_open, GSK_FD, gsk_secure_soc_startInit (always 6019)
 *   GSKSECURESOCSTARTINIT, GSK_OK       -> gsk_secure_soc_startRecv
 *   GSKSECURESOCSTARTRECV, n > 0        -> gsk_secure_soc_startSend of those n bytes
 *        returns GSK_OK: sent at once               -> gsk_secure_soc_startRecv again
 *        returns GSK_OS400_ASYNCHRONOUS_SEND: later -> GSKSECURESOCSTARTSEND, then receive
 *   GSKSECURESOCSTARTRECV, 0 or an error -> gsk_secure_soc_close, close()
 *
 * Build: make (or: gcc -std=gnu11 -I include c-examples/tls_echo_server.c -L target/release
 *        -lqsoasync -pthread -Wl,-rpath,$PWD/target/release)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gskssl.h" /* includes qsoasync.h */

#define BUFFER_SIZE 16384
#define MAX_WORKERS 64
#define SHUTDOWN_ID 0xFFFFFFFFULL /* operationId of the posts that stop the workers */

struct connection {
  int sd;
  gsk_handle session;
  unsigned long long bytes;
  char buffer[BUFFER_SIZE];
};

static struct {
  int port;
  gsk_handle env;
  pthread_mutex_t lock;
  pthread_cond_t changed;
  long finished, failed; /* under lock */
  unsigned long long bytes;
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

/* Ends a connection: closes the secure session, then the socket. */
static void finish(struct connection *c, int failed) {
  gsk_secure_soc_close(&c->session);
  close(c->sd);
  pthread_mutex_lock(&srv.lock);
  srv.finished++;
  srv.failed += failed != 0;
  srv.bytes += c->bytes;
  pthread_cond_broadcast(&srv.changed);
  pthread_mutex_unlock(&srv.lock);
  free(c);
}

/* Starts the next receive; ends the connection when it cannot start. */
static void start_recv(struct connection *c) {
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  io.descriptorHandle = c;
  io.buffer = c->buffer;
  io.bufferLength = sizeof c->buffer;
  io.postFlag = 1; /* always through the port: one code path for every receive */
  int rc = gsk_secure_soc_startRecv(c->session, srv.port, &io);
  if (rc != GSK_OS400_ASYNCHRONOUS_RECV) {
    fprintf(stderr, "gsk_secure_soc_startRecv: %s\n", gsk_strerror(rc));
    finish(c, 1);
  }
}

/* Echoes n received bytes; returns 1 when the send finished at once. */
static int start_send(struct connection *c, int n) {
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  io.descriptorHandle = c;
  io.buffer = c->buffer;
  io.bufferLength = (size_t)n;
  int rc = gsk_secure_soc_startSend(c->session, srv.port, &io);
  if (rc == GSK_OK) {
    c->bytes += (unsigned long long)io.secureDataTransferSize;
    return 1;
  }
  if (rc != GSK_OS400_ASYNCHRONOUS_SEND) {
    fprintf(stderr, "gsk_secure_soc_startSend: %s\n", gsk_strerror(rc));
    finish(c, 1);
  }
  return 0;
}

static void *worker(void *arg) {
  (void)arg;
  for (;;) {
    Qso_OverlappedIO_t io;
    if (QsoWaitForIOCompletion(srv.port, &io, NULL) != 1) {
      perror("QsoWaitForIOCompletion");
      return NULL;
    }
    if (io.operationCompleted == QSOPOSTIOCOMPLETION && io.operationId == SHUTDOWN_ID)
      return NULL;
    struct connection *c = io.descriptorHandle;
    switch (io.operationCompleted) {
    case GSKSECURESOCSTARTINIT:
      if (io.returnValue != GSK_OK) {
        fprintf(stderr, "handshake: %s\n", gsk_strerror(io.returnValue));
        finish(c, 1);
      } else {
        start_recv(c);
      }
      break;
    case GSKSECURESOCSTARTRECV:
      if (io.returnValue != GSK_OK || io.secureDataTransferSize == 0) {
        /* The peer closed (GSK_OK, 0 bytes) or the session failed. */
        if (io.returnValue != GSK_OK)
          fprintf(stderr, "receive: %s (errno %d)\n", gsk_strerror(io.returnValue),
                  io.errnoValue);
        finish(c, io.returnValue != GSK_OK);
      } else if (start_send(c, io.secureDataTransferSize)) {
        start_recv(c);
      }
      break;
    case GSKSECURESOCSTARTSEND:
      if (io.returnValue != GSK_OK) {
        fprintf(stderr, "send: %s (errno %d)\n", gsk_strerror(io.returnValue), io.errnoValue);
        finish(c, 1);
      } else {
        c->bytes += (unsigned long long)io.secureDataTransferSize;
        start_recv(c);
      }
      break;
    default:
      fprintf(stderr, "unexpected completion %d\n", io.operationCompleted);
    }
  }
}

/* Opens the secure session of an accepted socket and starts its handshake. */
static void begin(int sd, int sync_handshake) {
  struct connection *c = calloc(1, sizeof *c);
  if (c == NULL) {
    close(sd);
    return;
  }
  c->sd = sd;
  int rc = gsk_secure_soc_open(srv.env, &c->session);
  if (rc == GSK_OK)
    rc = gsk_attribute_set_numeric_value(c->session, GSK_FD, sd);
  if (rc != GSK_OK) {
    fprintf(stderr, "gsk_secure_soc_open: %s\n", gsk_strerror(rc));
    finish(c, 1);
    return;
  }
  if (sync_handshake) {
    rc = gsk_secure_soc_init(c->session);
    if (rc != GSK_OK) {
      fprintf(stderr, "gsk_secure_soc_init: %s\n", gsk_strerror(rc));
      finish(c, 1);
      return;
    }
    start_recv(c);
    return;
  }
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  io.descriptorHandle = c;
  rc = gsk_secure_soc_startInit(c->session, srv.port, &io);
  if (rc != GSK_OS400_ASYNCHRONOUS_SOC_INIT) {
    fprintf(stderr, "gsk_secure_soc_startInit: %s\n", gsk_strerror(rc));
    finish(c, 1);
  }
}

static long number_option(const char *what, const char *text, long min, long max) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max) {
    fprintf(stderr, "tls_echo_server: bad %s: %s\n", what, text);
    exit(2);
  }
  return v;
}

static void usage(void) {
  fprintf(stderr, "usage: tls_echo_server (-k keyring.pem | -a app_id) [-p port] [-t threads]"
                  " [-n connections] [-T seconds] [-s]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *keyring = NULL, *app_id = NULL;
  int tcp_port = 12347, workers = 4, sync_handshake = 0, opt;
  long max_connections = 0, time_limit = 0;
  while ((opt = getopt(argc, argv, "k:a:p:t:n:T:sh")) != -1) {
    switch (opt) {
    case 'k': keyring = optarg; break;
    case 'a': app_id = optarg; break;
    case 'p': tcp_port = (int)number_option("-p port", optarg, 0, 65535); break;
    case 't': workers = (int)number_option("-t threads", optarg, 1, MAX_WORKERS); break;
    case 'n': max_connections = number_option("-n connections", optarg, 0, LONG_MAX); break;
    case 'T': time_limit = number_option("-T seconds", optarg, 0, 86400L * 365); break;
    case 's': sync_handshake = 1; break;
    default: usage();
    }
  }
  if ((keyring == NULL) == (app_id == NULL))
    usage();

  /* The GSKit environment, as on IBM i: a server session type, old protocols off. */
  int rc = gsk_environment_open(&srv.env);
  if (rc == GSK_OK && keyring != NULL)
    rc = gsk_attribute_set_buffer(srv.env, GSK_KEYRING_FILE, keyring, 0);
  if (rc == GSK_OK && app_id != NULL)
    rc = gsk_attribute_set_buffer(srv.env, GSK_OS400_APPLICATION_ID, app_id, 0);
  if (rc == GSK_OK)
    rc = gsk_attribute_set_enum(srv.env, GSK_SESSION_TYPE, GSK_SERVER_SESSION);
  if (rc == GSK_OK)
    rc = gsk_attribute_set_enum(srv.env, GSK_PROTOCOL_SSLV2, GSK_PROTOCOL_SSLV2_OFF);
  if (rc == GSK_OK)
    rc = gsk_attribute_set_enum(srv.env, GSK_PROTOCOL_SSLV3, GSK_PROTOCOL_SSLV3_OFF);
  if (rc == GSK_OK)
    rc = gsk_environment_init(srv.env);
  if (rc != GSK_OK) {
    fprintf(stderr, "tls_echo_server: GSKit environment: %s\n", gsk_strerror(rc));
    return 1;
  }

  int listen_sd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int on = 1;
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons((unsigned short)tcp_port);
  socklen_t len = sizeof addr;
  if (listen_sd < 0 || setsockopt(listen_sd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      bind(listen_sd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listen_sd, 128) != 0 ||
      getsockname(listen_sd, (struct sockaddr *)&addr, &len) != 0) {
    perror("tls_echo_server: listen");
    return 1;
  }

  srv.port = QsoCreateIOCompletionPort();
  if (srv.port < 0) {
    perror("QsoCreateIOCompletionPort");
    return 1;
  }
  pthread_t threads[MAX_WORKERS];
  for (int i = 0; i < workers; i++)
    if (pthread_create(&threads[i], NULL, worker, NULL) != 0) {
      fprintf(stderr, "tls_echo_server: cannot start worker threads\n");
      return 1;
    }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  printf("listening on 127.0.0.1:%d (%s handshake, %d workers)\n", ntohs(addr.sin_port),
         sync_handshake ? "synchronous" : "asynchronous", workers);
  fflush(stdout);

  /* Accept until -n connections, -T seconds or a signal; the port does the rest. */
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long accepted = 0;
  int timed_out = 0;
  while (!stop_signal && (max_connections == 0 || accepted < max_connections)) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (time_limit > 0 && now.tv_sec - start.tv_sec >= time_limit) {
      timed_out = 1;
      break;
    }
    struct pollfd p = {.fd = listen_sd, .events = POLLIN};
    if (poll(&p, 1, 100) != 1)
      continue;
    int sd = accept4(listen_sd, NULL, NULL, SOCK_CLOEXEC);
    if (sd < 0)
      continue;
    accepted++;
    begin(sd, sync_handshake);
  }
  close(listen_sd);

  /* Wait until every accepted connection has ended (bounded by -T and signals). */
  pthread_mutex_lock(&srv.lock);
  while (srv.finished < accepted && !stop_signal && !timed_out) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 100 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&srv.changed, &srv.lock, &until);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    timed_out = time_limit > 0 && now.tv_sec - start.tv_sec >= time_limit;
  }
  long finished = srv.finished, failed = srv.failed;
  unsigned long long bytes = srv.bytes;
  pthread_mutex_unlock(&srv.lock);

  /* One shutdown post per worker, then the port and the environment go. */
  for (int i = 0; i < workers; i++) {
    Qso_OverlappedIO_t io;
    memset(&io, 0, sizeof io);
    io.operationId = SHUTDOWN_ID;
    QsoPostIOCompletion(srv.port, &io);
  }
  for (int i = 0; i < workers; i++)
    pthread_join(threads[i], NULL);
  QsoDestroyIOCompletionPort(srv.port);
  gsk_environment_close(&srv.env);

  printf("tls_echo_server: %ld connections served (%ld ended by an error), %llu bytes echoed\n",
         finished, failed, bytes);
  if (stop_signal)
    printf("tls_echo_server: stopped by signal %d\n", (int)stop_signal);
  if (timed_out)
    printf("tls_echo_server: time limit reached\n");
  return failed == 0 && !timed_out ? 0 : 1;
}
