/*
 * readiness.c - a receive started on a socket that the library's last receive emptied, while
 * another thread runs the port's event loop, is not tried inside the start call: it waits for
 * the kernel's next readiness report (ARCHITECTURE.md, "How an operation travels"). These cases
 * check that this never strands data or an end of file: every byte and every EOF still
 * arrives, in order, through the start call or the port.
 *
 * Each case runs a relay thread that waits on the port (it leads the event loop whenever the
 * port has work, which a "keeper" receive on a second socket guarantees) and writes every
 * completion into a pipe that the case reads.
 */
#include "qt_extra.h"

#include <poll.h>

struct relay {
  int port;
  int pipe_r, pipe_w;
  int keeper[2];
  char keeper_buf[8];
  pthread_t thread;
};

static void *relay_main(void *arg) {
  struct relay *r = arg;
  long long end = qt_now_ms() + 8000;
  while (qt_now_ms() < end) {
    Qso_OverlappedIO_t st;
    struct timeval tv = {0, 200000};
    int rc = QsoWaitForIOCompletion(r->port, &st, &tv);
    if (rc < 0)
      break;
    if (rc == 1) {
      if (st.operationCompleted == QSOPOSTIOCOMPLETION)
        break;
      if (write(r->pipe_w, &st, sizeof st) != (ssize_t)sizeof st)
        break;
    }
  }
  return NULL;
}

static void relay_start(struct relay *r) {
  int p[2];
  CHECK(pipe(p) == 0);
  r->pipe_r = p[0];
  r->pipe_w = p[1];
  r->port = qt_port();
  qt_tcp_pair(r->keeper);
  Qso_OverlappedIO_t io = qt_io(r->keeper_buf, sizeof r->keeper_buf);
  CHECK_EQ(QsoStartRecv(r->keeper[0], r->port, &io), 1);
  r->thread = qt_thread(relay_main, r);
}

static void relay_stop(struct relay *r) {
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  CHECK_EQ(QsoPostIOCompletion(r->port, &io), 0);
  qt_join(r->thread);
}

/* The next completion the relay passed on, within 2 s. */
static Qso_OverlappedIO_t relay_take(struct relay *r) {
  struct pollfd pfd = {.fd = r->pipe_r, .events = POLLIN};
  Qso_OverlappedIO_t st;
  memset(&st, 0, sizeof st);
  if (poll(&pfd, 1, 2000) != 1)
    QT_FAIL("no completion within 2 s");
  CHECK(read(r->pipe_r, &st, sizeof st) == (ssize_t)sizeof st);
  return st;
}

/* One receive on `sd` into buf[len]: the start call's result, or the completion the relay
   passed on when it went through the port. */
static Qso_OverlappedIO_t recv_once(struct relay *r, int sd, char *buf, size_t len) {
  Qso_OverlappedIO_t io = qt_io(buf, len);
  int rc = QsoStartRecv(sd, r->port, &io);
  CHECK(rc == 0 || rc == 1);
  if (rc == 1)
    io = relay_take(r);
  CHECK_EQ(io.operationCompleted, QSOSTARTRECV);
  return io;
}

/* Receives on `sd` until `want` bytes have arrived; counts in *pending the receives that went
   through the port. */
static size_t recv_until(struct relay *r, int sd, char *out, size_t want, int *pending) {
  size_t got = 0;
  while (got < want) {
    char buf[64];
    /* Let the relay get back into the event loop, where the hint applies. */
    qt_sleep_ms(2);
    Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
    int rc = QsoStartRecv(sd, r->port, &io);
    if (rc < 0)
      QT_FAIL("QsoStartRecv: %s", strerror(errno));
    if (rc == 1) {
      ++*pending;
      io = relay_take(r);
      CHECK_EQ(io.operationCompleted, QSOSTARTRECV);
      CHECK(io.buffer == buf);
    }
    if (io.returnValue <= 0)
      QT_FAIL("receive ended with %d (errno %d) after %zu of %zu bytes", io.returnValue,
              io.errnoValue, got, want);
    memcpy(out + got, buf, (size_t)io.returnValue);
    got += (size_t)io.returnValue;
  }
  return got;
}

/* A receive that waits (so the port's engine watches `sd`) and ends short: the hint is set. */
static void empty_once(struct relay *r, int sd, int peer) {
  char buf[8];
  Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
  CHECK_EQ(QsoStartRecv(sd, r->port, &io), 1);
  qt_write_all(peer, "0", 1);
  io = relay_take(r);
  CHECK_EQ(io.operationCompleted, QSOSTARTRECV);
  CHECK_EQ(io.returnValue, 1);
}

/* The echo pattern: receive (it waits), the peer answers, receive again. */
static void ping_pong(int sv[2], int rounds) {
  struct relay r;
  relay_start(&r);
  empty_once(&r, sv[0], sv[1]);
  for (int round = 0; round < rounds; round++) {
    char msg[32], buf[64];
    int len = snprintf(msg, sizeof msg, "round %d", round);
    qt_sleep_ms(1);
    Qso_OverlappedIO_t io = qt_io(buf, sizeof buf);
    CHECK_EQ(QsoStartRecv(sv[0], r.port, &io), 1);
    qt_write_all(sv[1], msg, (size_t)len);
    io = relay_take(&r);
    CHECK_EQ(io.operationCompleted, QSOSTARTRECV);
    CHECK_EQ(io.returnValue, len);
    CHECK(memcmp(buf, msg, (size_t)len) == 0);
  }
  relay_stop(&r);
}

TEST(tcp_ping_pong_after_emptying_reads_loses_nothing) {
  int sv[2];
  qt_tcp_pair(sv);
  ping_pong(sv, 200);
}

TEST(unix_ping_pong_loses_nothing) {
  int sv[2];
  qt_unix_pair(sv);
  ping_pong(sv, 200);
}

TEST(end_of_file_after_an_emptying_read_is_reported) {
  int sv[2];
  qt_tcp_pair(sv);
  struct relay r;
  relay_start(&r);
  empty_once(&r, sv[0], sv[1]);
  CHECK(shutdown(sv[1], SHUT_WR) == 0);
  /* The end of file, and again for a second receive (reading 0 says nothing about later
     edges: it must not be taken for "emptied"). */
  for (int i = 0; i < 2; i++) {
    char buf[8];
    qt_sleep_ms(5);
    Qso_OverlappedIO_t io = recv_once(&r, sv[0], buf, sizeof buf);
    CHECK_EQ(io.returnValue, 0);
    CHECK_EQ(io.errnoValue, 0);
  }
  relay_stop(&r);
}

TEST(urgent_data_mark_does_not_strand_the_bytes_after_it) {
  int sv[2];
  qt_tcp_pair(sv);
  struct relay r;
  relay_start(&r);
  empty_once(&r, sv[0], sv[1]);
  /* A receive that meets the urgent mark stops short there although bytes follow it: the
     library must not take that short read for "emptied". All of it arrives (and its edges are
     reported to the relay) before the first receive, so no later edge comes to the rescue. */
  char buf[16], got[16];
  CHECK(send(sv[1], "abc", 3, 0) == 3);
  CHECK(send(sv[1], "X", 1, MSG_OOB) == 1);
  CHECK(send(sv[1], "def", 3, 0) == 3);
  qt_sleep_ms(50);
  Qso_OverlappedIO_t io = recv_once(&r, sv[0], buf, sizeof buf);
  CHECK(io.returnValue > 0 && io.returnValue <= 6);
  size_t have = (size_t)io.returnValue;
  memcpy(got, buf, have);
  int pending = 0;
  CHECK_EQ(recv_until(&r, sv[0], got + have, 6 - have, &pending), 6 - have);
  CHECK(memcmp(got, "abcdef", 6) == 0);
  relay_stop(&r);
}

/* The peer's data and its end arrive together, are reported to the relay before any receive,
   and the first receive returns the data short of the buffer: the end (0, or -1 with
   ECONNRESET after a reset) must still come out of the next receive, although no later edge
   will say so. */
static void data_then_end(int reset) {
  int sv[2];
  qt_tcp_pair(sv);
  struct relay r;
  relay_start(&r);
  empty_once(&r, sv[0], sv[1]);
  CHECK(send(sv[1], "hello", 5, 0) == 5);
  if (reset) {
    struct linger abort_close = {1, 0};
    CHECK(setsockopt(sv[1], SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close) == 0);
    CHECK(close(sv[1]) == 0);
  } else {
    CHECK(shutdown(sv[1], SHUT_WR) == 0);
  }
  qt_sleep_ms(50);
  char buf[16];
  size_t got = 0;
  Qso_OverlappedIO_t io;
  for (int i = 0; i < 4; i++) {
    qt_sleep_ms(5);
    io = recv_once(&r, sv[0], buf, sizeof buf);
    if (io.returnValue <= 0)
      break;
    got += (size_t)io.returnValue;
  }
  CHECK(io.returnValue <= 0);
  if (reset) {
    CHECK(io.returnValue == 0 || (io.returnValue == -1 && io.errnoValue == ECONNRESET));
  } else {
    CHECK_EQ(got, (size_t)5);
    CHECK_EQ(io.returnValue, 0);
    CHECK_EQ(io.errnoValue, 0);
  }
  relay_stop(&r);
}

TEST(end_of_file_behind_data_in_one_edge_is_reported) { data_then_end(0); }

TEST(reset_behind_data_in_one_edge_is_reported) { data_then_end(1); }
