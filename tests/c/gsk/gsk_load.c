/*
 * gsk_load.c - many concurrent TLS connections on one completion port: a server whose worker
 * threads accept (QsoStartAccept), handshake (startInit), receive and echo (startRecv,
 * startSend) for client threads that use the synchronous calls, every echo checked.
 */
#include "gsk_test.h"

#define CLIENTS 48
#define ROUNDS 20
#define MSG 1000
#define WORKERS 4
#define STOP_ID 0xFFFFULL

struct conn {
  int sd;
  gsk_handle session;
  char buf[4096];
};

static struct {
  int port, listen_sd;
  gsk_handle env;
  pthread_mutex_t lock;
  int finished, failed, accepted;
} lsrv = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void load_accept(void) {
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  io.postFlag = 1; /* every accept through the port, even one that finishes at once */
  CHECK_EQ(QsoStartAccept(lsrv.listen_sd, lsrv.port, &io), 1);
}

static void load_end(struct conn *c, int failed) {
  gsk_secure_soc_close(&c->session);
  close(c->sd);
  free(c);
  pthread_mutex_lock(&lsrv.lock);
  lsrv.finished++;
  lsrv.failed += failed;
  pthread_mutex_unlock(&lsrv.lock);
}

static void load_recv(struct conn *c) {
  Qso_OverlappedIO_t io = qt_io(c->buf, sizeof c->buf);
  io.descriptorHandle = c;
  io.postFlag = 1;
  if (gsk_secure_soc_startRecv(c->session, lsrv.port, &io) != GSK_OS400_ASYNCHRONOUS_RECV)
    load_end(c, 1);
}

static void *load_worker(void *arg) {
  (void)arg;
  for (;;) {
    Qso_OverlappedIO_t st;
    if (QsoWaitForIOCompletion(lsrv.port, &st, NULL) != 1)
      return NULL;
    struct conn *c = st.descriptorHandle;
    switch (st.operationCompleted) {
    case QSOPOSTIOCOMPLETION:
      return NULL;
    case QSOSTARTACCEPT: {
      if (st.returnValue < 0)
        return NULL;
      c = calloc(1, sizeof *c);
      CHECK(c != NULL);
      c->sd = st.returnValue;
      CHECK_GSK(gsk_secure_soc_open(lsrv.env, &c->session), GSK_OK);
      CHECK_GSK(gsk_attribute_set_numeric_value(c->session, GSK_FD, c->sd), GSK_OK);
      Qso_OverlappedIO_t io = qt_io(NULL, 0);
      io.descriptorHandle = c;
      CHECK_GSK(gsk_secure_soc_startInit(c->session, lsrv.port, &io),
                GSK_OS400_ASYNCHRONOUS_SOC_INIT);
      pthread_mutex_lock(&lsrv.lock);
      int more = ++lsrv.accepted < CLIENTS;
      pthread_mutex_unlock(&lsrv.lock);
      if (more)
        load_accept();
      break;
    }
    case GSKSECURESOCSTARTINIT:
      if (st.returnValue != GSK_OK)
        load_end(c, 1);
      else
        load_recv(c);
      break;
    case GSKSECURESOCSTARTRECV:
      if (st.returnValue != GSK_OK || st.secureDataTransferSize == 0) {
        load_end(c, st.returnValue != GSK_OK);
        break;
      }
      {
        Qso_OverlappedIO_t io = qt_io(c->buf, (size_t)st.secureDataTransferSize);
        io.descriptorHandle = c;
        int rc = gsk_secure_soc_startSend(c->session, lsrv.port, &io);
        if (rc == GSK_OK)
          load_recv(c);
        else if (rc != GSK_OS400_ASYNCHRONOUS_SEND)
          load_end(c, 1);
      }
      break;
    case GSKSECURESOCSTARTSEND:
      if (st.returnValue != GSK_OK)
        load_end(c, 1);
      else
        load_recv(c);
      break;
    default:
      QT_FAIL("unexpected completion %d", st.operationCompleted);
    }
  }
}

static int load_tcp_port;
static gsk_handle load_client_env;

static void *load_client(void *arg) {
  long id = (long)(intptr_t)arg;
  int fd = qt_connect(load_tcp_port);
  gsk_handle s = gt_session(load_client_env, fd);
  CHECK_GSK(gsk_secure_soc_init(s), GSK_OK);
  char out[MSG], in[MSG];
  for (int r = 0; r < ROUNDS; r++) {
    for (int i = 0; i < MSG; i++)
      out[i] = (char)(id * 31 + r * 7 + i);
    gt_write(s, out, MSG);
    gt_read_all(s, in, MSG);
    if (memcmp(in, out, MSG) != 0)
      QT_FAIL("client %ld round %d: echo differs", id, r);
  }
  CHECK_GSK(gsk_secure_soc_close(&s), GSK_OK);
  close(fd);
  return NULL;
}

TEST_T(many_concurrent_tls_connections_on_one_port, 60) {
  lsrv.env = gt_server_env();
  load_client_env = gt_client_env();
  lsrv.port = qt_port();
  lsrv.listen_sd = qt_listener(&load_tcp_port);
  pthread_t workers[WORKERS], clients[CLIENTS];
  for (int i = 0; i < WORKERS; i++)
    CHECK(pthread_create(&workers[i], NULL, load_worker, NULL) == 0);
  load_accept();
  for (long i = 0; i < CLIENTS; i++)
    CHECK(pthread_create(&clients[i], NULL, load_client, (void *)(intptr_t)i) == 0);
  for (int i = 0; i < CLIENTS; i++)
    CHECK(pthread_join(clients[i], NULL) == 0);
  long long deadline = qt_now_ms() + 20000;
  for (;;) {
    pthread_mutex_lock(&lsrv.lock);
    int done = lsrv.finished;
    pthread_mutex_unlock(&lsrv.lock);
    if (done == CLIENTS)
      break;
    if (qt_now_ms() > deadline)
      QT_FAIL("only %d of %d connections ended", done, CLIENTS);
    qt_sleep_ms(10);
  }
  CHECK_EQ(lsrv.failed, 0);
  for (int i = 0; i < WORKERS; i++) {
    Qso_OverlappedIO_t io = qt_io(NULL, 0);
    io.operationId = STOP_ID;
    CHECK_EQ(QsoPostIOCompletion(lsrv.port, &io), 0);
  }
  for (int i = 0; i < WORKERS; i++)
    CHECK(pthread_join(workers[i], NULL) == 0);
}
