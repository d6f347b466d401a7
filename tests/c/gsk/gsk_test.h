/*
 * tests/c/gsk/gsk_test.h - helpers for the GSK C suite (the files of tests/c/gsk): test certificates,
 * environments and sessions, and a peer thread that runs the other end of a connection with
 * the synchronous GSK calls. Include instead of harness.h.
 *
 * The certificates come from tests/gsk_certs.sh, in $QSO_GSK_CERTS (default build/gsk-certs);
 * tests/gsk_test.sh makes them before it runs the suite.
 */
#ifndef QSO_GSK_TEST_H
#define QSO_GSK_TEST_H

#include "qt_extra.h"

#include "gskssl.h"

/* Checks that a GSK call returned the expected code, naming both. */
#define CHECK_GSK(call, expected)                                                             \
  do {                                                                                       \
    int gt_rc = (call);                                                                      \
    if (gt_rc != (expected))                                                                 \
      QT_FAIL("CHECK_GSK failed: %s returned %d (%s), expected %d (%s)", #call, gt_rc,        \
              gsk_strerror(gt_rc), (int)(expected), gsk_strerror(expected));                \
  } while (0)

/* The path of a file of the test certificates folder (never freed: each case is a process). */
static inline const char *gt_path(const char *name) {
  const char *dir = getenv("QSO_GSK_CERTS");
  if (dir == NULL || *dir == '\0')
    dir = "build/gsk-certs";
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  CHECK(p != NULL);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* An open (not yet initialised) environment of this session type using keyring `file` of the
 * certificates folder (NULL: none). */
static inline gsk_handle gt_env_open(int session_type, const char *file) {
  gsk_handle env = NULL;
  CHECK_GSK(gsk_environment_open(&env), GSK_OK);
  CHECK(env != NULL);
  if (file != NULL)
    CHECK_GSK(gsk_attribute_set_buffer(env, GSK_KEYRING_FILE, gt_path(file), 0), GSK_OK);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_SESSION_TYPE, session_type), GSK_OK);
  return env;
}

static inline gsk_handle gt_env(int session_type, const char *file) {
  gsk_handle env = gt_env_open(session_type, file);
  CHECK_GSK(gsk_environment_init(env), GSK_OK);
  return env;
}

/* The usual pair: a server with server.pem, a client trusting the test CA. */
static inline gsk_handle gt_server_env(void) { return gt_env(GSK_SERVER_SESSION, "server.pem"); }
static inline gsk_handle gt_client_env(void) { return gt_env(GSK_CLIENT_SESSION, "ca.pem"); }

/* A session of `env` on socket `fd`. */
static inline gsk_handle gt_session(gsk_handle env, int fd) {
  gsk_handle s = NULL;
  CHECK_GSK(gsk_secure_soc_open(env, &s), GSK_OK);
  CHECK_GSK(gsk_attribute_set_numeric_value(s, GSK_FD, fd), GSK_OK);
  return s;
}

/* Writes all of buf with gsk_secure_soc_write. */
static inline void gt_write(gsk_handle s, const void *buf, int len) {
  int n = -1;
  CHECK_GSK(gsk_secure_soc_write(s, (char *)buf, len, &n), GSK_OK);
  CHECK_EQ(n, len);
}

/* Reads exactly len bytes with gsk_secure_soc_read. */
static inline void gt_read_all(gsk_handle s, void *buf, int len) {
  char *p = buf;
  while (len > 0) {
    int n = -1;
    CHECK_GSK(gsk_secure_soc_read(s, p, len, &n), GSK_OK);
    CHECK(n > 0);
    p += n;
    len -= n;
  }
}

/* A record for a secure operation. */
static inline Qso_OverlappedIO_t gt_io(void *buf, size_t len, unsigned long long id) {
  Qso_OverlappedIO_t io = qt_io(buf, len);
  io.operationId = id;
  io.descriptorHandle = (void *)(uintptr_t)(0x5000 + id);
  return io;
}

/* Waits for one completion and checks its operation code. */
static inline Qso_OverlappedIO_t gt_wait(int port, int op, long ms) {
  Qso_OverlappedIO_t st = qt_wait(port, ms);
  if (st.operationCompleted != op)
    QT_FAIL("expected completion %d, got %d (returnValue %d errno %d)", op, st.operationCompleted,
            st.returnValue, st.errnoValue);
  return st;
}

/* ---- the peer thread ------------------------------------------------------------------------ */

/* The other end of a connection: a session of `env` on `fd` that runs the synchronous
 * handshake, then `then` (when the handshake succeeded). */
struct gt_peer {
  gsk_handle env;
  int fd;
  void (*then)(struct gt_peer *);
  void *arg;
  gsk_handle session;
  int init_rc;
  pthread_t thread;
};

static void *gt_peer_main(void *arg) {
  struct gt_peer *p = arg;
  p->session = gt_session(p->env, p->fd);
  p->init_rc = gsk_secure_soc_init(p->session);
  if (p->init_rc == GSK_OK && p->then != NULL)
    p->then(p);
  return NULL;
}

static inline void gt_peer_start(struct gt_peer *p, gsk_handle env, int fd,
                                 void (*then)(struct gt_peer *), void *arg) {
  memset(p, 0, sizeof *p);
  p->env = env;
  p->fd = fd;
  p->then = then;
  p->arg = arg;
  p->init_rc = -1;
  CHECK(pthread_create(&p->thread, NULL, gt_peer_main, p) == 0);
}

static inline void gt_peer_join(struct gt_peer *p) { CHECK(pthread_join(p->thread, NULL) == 0); }

/* A server session on sv[0] whose handshake (startInit on `port`) completed against a client
 * peer thread on sv[1] (which then runs `then`). */
static inline gsk_handle gt_async_server(int port, int sv[2], struct gt_peer *client,
                                         void (*then)(struct gt_peer *), void *arg) {
  qt_tcp_pair(sv);
  gsk_handle server = gt_session(gt_server_env(), sv[0]);
  gt_peer_start(client, gt_client_env(), sv[1], then, arg);
  Qso_OverlappedIO_t io = gt_io(NULL, 0, 1);
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &io), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTINIT, 5000);
  CHECK_GSK(st.returnValue, GSK_OK);
  return server;
}

#endif /* QSO_GSK_TEST_H */
