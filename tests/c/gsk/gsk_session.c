/*
 * gsk_session.c - secure sessions between two ends of this library over loopback TCP: the
 * synchronous and asynchronous handshakes, startRecv/startSend (at once, posted, pending,
 * 16 MiB), protocols, certificates that fail (untrusted, expired, wrong name), client
 * authentication, application ids, the peer's close (close_notify, clean end of stream, cut
 * record), time limits, cancel, close() and gsk_secure_soc_close during pending operations.
 */
#include "gsk_test.h"

/* ---- handshakes ------------------------------------------------------------------------------ */

static void peer_echo_once(struct gt_peer *p) {
  char buf[64];
  int n = 0;
  CHECK_GSK(gsk_secure_soc_read(p->session, buf, sizeof buf, &n), GSK_OK);
  CHECK(n > 0);
  gt_write(p->session, buf, n);
}

TEST(sync_handshake_both_ends_and_echo) {
  int sv[2];
  qt_tcp_pair(sv);
  struct gt_peer server;
  gt_peer_start(&server, gt_server_env(), sv[0], peer_echo_once, NULL);
  gsk_handle client = gt_session(gt_client_env(), sv[1]);
  CHECK_GSK(gsk_secure_soc_init(client), GSK_OK);
  gt_write(client, "ping", 4);
  char buf[4];
  gt_read_all(client, buf, 4);
  CHECK(memcmp(buf, "ping", 4) == 0);
  gt_peer_join(&server);
  CHECK_GSK(server.init_rc, GSK_OK);
  int v = 0;
  CHECK_GSK(gsk_attribute_get_enum(client, GSK_PROTOCOL_USED, &v), GSK_OK);
  CHECK_EQ(v, GSK_PROTOCOL_USED_TLSV13);
  CHECK_GSK(gsk_attribute_get_enum(client, GSK_SID_FIRST, &v), GSK_OK);
  CHECK_EQ(v, GSK_SID_IS_FIRST);
}

TEST(start_init_always_completes_through_the_port) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  gsk_handle server = gt_session(gt_server_env(), sv[0]);
  struct gt_peer client;
  gt_peer_start(&client, gt_client_env(), sv[1], peer_echo_once, NULL);
  Qso_OverlappedIO_t io = gt_io(NULL, 0, 77);
  io.postFlag = 0;
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &io), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTINIT, 5000);
  CHECK_GSK(st.returnValue, GSK_OK);
  CHECK_EQ(st.operationId, 77);
  CHECK(st.descriptorHandle == io.descriptorHandle);
  /* Data after an asynchronous handshake, with the synchronous calls. */
  gt_write(server, "hello", 5);
  char buf[5];
  gt_read_all(server, buf, 5);
  CHECK(memcmp(buf, "hello", 5) == 0);
  gt_peer_join(&client);
  CHECK_GSK(client.init_rc, GSK_OK);
  /* A second handshake on the same session is refused. */
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &io), GSK_OS400_ERROR_ALREADY_SECURE);
  qt_expect_empty(port);
}

TEST(both_ends_asynchronous_on_one_port) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  gsk_handle server = gt_session(gt_server_env(), sv[0]);
  gsk_handle client = gt_session(gt_client_env(), sv[1]);
  Qso_OverlappedIO_t a = gt_io(NULL, 0, 1), b = gt_io(NULL, 0, 2);
  CHECK_GSK(gsk_secure_soc_startInit(client, port, &b), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &a), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  int seen = 0;
  for (int i = 0; i < 2; i++) {
    Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTINIT, 5000);
    CHECK_GSK(st.returnValue, GSK_OK);
    seen |= (int)st.operationId;
  }
  CHECK_EQ(seen, 3);
}

/* ---- startRecv / startSend ------------------------------------------------------------------ */

static void peer_send_hello(struct gt_peer *p) { gt_write(p->session, "hello", 5); }

TEST(start_recv_pending_then_completed) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, NULL, NULL);
  gt_peer_join(&client);
  char buf[32];
  memset(buf, 0, sizeof buf);
  Qso_OverlappedIO_t io = gt_io(buf, sizeof buf, 9);
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &io), GSK_OS400_ASYNCHRONOUS_RECV);
  CHECK_EQ(io.postFlagResult, 0);
  qt_expect_none(port, 100);
  gt_write(client.session, "later", 5);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTRECV, 5000);
  CHECK_GSK(st.returnValue, GSK_OK);
  CHECK_EQ(st.secureDataTransferSize, 5);
  CHECK_EQ(st.operationId, 9);
  CHECK(st.buffer == buf);
  CHECK(memcmp(buf, "later", 5) == 0);
}

TEST(start_recv_and_send_finish_at_once_without_posting) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, peer_send_hello, NULL);
  gt_peer_join(&client);
  qt_sleep_ms(50); /* the data is in the socket, or already read by the handshake */
  char buf[32];
  Qso_OverlappedIO_t io = gt_io(buf, sizeof buf, 3);
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &io), GSK_OK);
  CHECK_GSK(io.returnValue, GSK_OK);
  CHECK_EQ(io.secureDataTransferSize, 5);
  CHECK_EQ(io.operationCompleted, GSKSECURESOCSTARTRECV);
  CHECK(memcmp(buf, "hello", 5) == 0);
  Qso_OverlappedIO_t out = gt_io("world", 5, 4);
  CHECK_GSK(gsk_secure_soc_startSend(server, port, &out), GSK_OK);
  CHECK_EQ(out.secureDataTransferSize, 5);
  CHECK_EQ(out.operationCompleted, GSKSECURESOCSTARTSEND);
  qt_expect_none(port, 100);
  gt_read_all(client.session, buf, 5);
  CHECK(memcmp(buf, "world", 5) == 0);
}

TEST(post_flag_posts_even_an_immediate_finish) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, peer_send_hello, NULL);
  gt_peer_join(&client);
  qt_sleep_ms(50); /* the data is in the socket, or already read by the handshake */
  char buf[32];
  Qso_OverlappedIO_t io = gt_io(buf, sizeof buf, 5);
  io.postFlag = 1;
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &io), GSK_OS400_ASYNCHRONOUS_RECV);
  CHECK_EQ(io.postFlagResult, 1);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTRECV, 0);
  CHECK_GSK(st.returnValue, GSK_OK);
  CHECK_EQ(st.secureDataTransferSize, 5);
  CHECK_EQ(st.postFlagResult, 1);
  Qso_OverlappedIO_t out = gt_io("x", 1, 6);
  out.postFlag = 1;
  CHECK_GSK(gsk_secure_soc_startSend(server, port, &out), GSK_OS400_ASYNCHRONOUS_SEND);
  st = gt_wait(port, GSKSECURESOCSTARTSEND, 2000);
  CHECK_GSK(st.returnValue, GSK_OK);
  CHECK_EQ(st.secureDataTransferSize, 1);
}

/* 16 MiB each way through startSend/startRecv(fillBuffer), both ends on one port. */
TEST_T(sixteen_mib_through_start_send_and_recv, 60) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  gsk_handle server = gt_session(gt_server_env(), sv[0]);
  gsk_handle client = gt_session(gt_client_env(), sv[1]);
  Qso_OverlappedIO_t a = gt_io(NULL, 0, 1), b = gt_io(NULL, 0, 2);
  CHECK_GSK(gsk_secure_soc_startInit(client, port, &b), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &a), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  for (int i = 0; i < 2; i++)
    CHECK_GSK(gt_wait(port, GSKSECURESOCSTARTINIT, 5000).returnValue, GSK_OK);

  const size_t size = 16u << 20;
  unsigned char *out = malloc(size), *in = malloc(size);
  CHECK(out != NULL && in != NULL);
  uint32_t x = 12345;
  for (size_t i = 0; i < size; i++) {
    x = x * 1103515245u + 12345u;
    out[i] = (unsigned char)(x >> 16);
  }
  memset(in, 0, size);
  Qso_OverlappedIO_t r = gt_io(in, size, 10);
  r.fillBuffer = 1;
  int rc = gsk_secure_soc_startRecv(client, port, &r);
  CHECK_EQ(rc, GSK_OS400_ASYNCHRONOUS_RECV);
  Qso_OverlappedIO_t s = gt_io(out, size, 11);
  rc = gsk_secure_soc_startSend(server, port, &s);
  CHECK(rc == GSK_OS400_ASYNCHRONOUS_SEND);
  int got_send = 0, got_recv = 0;
  for (int i = 0; i < 2; i++) {
    Qso_OverlappedIO_t st = qt_wait(port, 30000);
    CHECK_GSK(st.returnValue, GSK_OK);
    CHECK_EQ(st.secureDataTransferSize, (long long)size);
    if (st.operationCompleted == GSKSECURESOCSTARTSEND)
      got_send++;
    else if (st.operationCompleted == GSKSECURESOCSTARTRECV)
      got_recv++;
  }
  CHECK(got_send == 1 && got_recv == 1);
  CHECK(memcmp(in, out, size) == 0);
}

/* Several receives and sends outstanding on one session keep their order. */
TEST(several_outstanding_operations_keep_order) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, NULL, NULL);
  gt_peer_join(&client);
  char b1[3], b2[3];
  Qso_OverlappedIO_t r1 = gt_io(b1, 3, 1), r2 = gt_io(b2, 3, 2);
  r1.fillBuffer = r2.fillBuffer = 1;
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &r1), GSK_OS400_ASYNCHRONOUS_RECV);
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &r2), GSK_OS400_ASYNCHRONOUS_RECV);
  gt_write(client.session, "abcdef", 6);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTRECV, 3000);
  CHECK_EQ(st.operationId, 1);
  st = gt_wait(port, GSKSECURESOCSTARTRECV, 3000);
  CHECK_EQ(st.operationId, 2);
  CHECK(memcmp(b1, "abc", 3) == 0 && memcmp(b2, "def", 3) == 0);
}

/* ---- protocols and certificates ------------------------------------------------------------- */

TEST(tls12_when_the_server_turns_tls13_off) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  gsk_handle env = gt_env_open(GSK_SERVER_SESSION, "server.pem");
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV13, GSK_FALSE), GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_OK);
  gsk_handle server = gt_session(env, sv[0]);
  struct gt_peer client;
  gt_peer_start(&client, gt_client_env(), sv[1], peer_send_hello, NULL);
  Qso_OverlappedIO_t io = gt_io(NULL, 0, 1);
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &io), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  CHECK_GSK(gt_wait(port, GSKSECURESOCSTARTINIT, 5000).returnValue, GSK_OK);
  int v = 0;
  CHECK_GSK(gsk_attribute_get_enum(server, GSK_PROTOCOL_USED, &v), GSK_OK);
  CHECK_EQ(v, GSK_PROTOCOL_USED_TLSV12);
  char buf[5];
  gt_read_all(server, buf, 5);
  gt_peer_join(&client);
}

TEST(no_protocol_in_common_fails_both_ends) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  gsk_handle env = gt_env_open(GSK_SERVER_SESSION, "server.pem");
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV13, GSK_FALSE), GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_OK);
  gsk_handle server = gt_session(env, sv[0]);
  gsk_handle cenv = gt_env_open(GSK_CLIENT_SESSION, "ca.pem");
  CHECK_GSK(gsk_attribute_set_enum(cenv, GSK_PROTOCOL_TLSV12, GSK_FALSE), GSK_OK);
  CHECK_GSK(gsk_environment_init(cenv), GSK_OK);
  struct gt_peer client;
  gt_peer_start(&client, cenv, sv[1], NULL, NULL);
  Qso_OverlappedIO_t io = gt_io(NULL, 0, 1);
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &io), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  CHECK_GSK(gt_wait(port, GSKSECURESOCSTARTINIT, 5000).returnValue, GSK_ERROR_NO_CIPHERS);
  gt_peer_join(&client);
  CHECK(client.init_rc != GSK_OK);
}

/* A client handshake (async) against a server using `keyring`; returns the client's result. */
static int client_against(const char *keyring, gsk_handle client_env, int *server_rc) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  struct gt_peer server;
  gt_peer_start(&server, gt_env(GSK_SERVER_SESSION, keyring), sv[0], NULL, NULL);
  gsk_handle client = gt_session(client_env, sv[1]);
  Qso_OverlappedIO_t io = gt_io(NULL, 0, 1);
  CHECK_GSK(gsk_secure_soc_startInit(client, port, &io), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTINIT, 5000);
  gt_peer_join(&server);
  if (server_rc != NULL)
    *server_rc = server.init_rc;
  /* A failed session refuses data calls instead of crashing. */
  if (st.returnValue != GSK_OK) {
    char b[4];
    int n;
    CHECK_GSK(gsk_secure_soc_read(client, b, 4, &n), GSK_INVALID_STATE);
  }
  return st.returnValue;
}

TEST(untrusted_certificate_is_reported_on_the_completion) {
  int server_rc = 0;
  CHECK_GSK(client_against("untrusted.pem", gt_client_env(), &server_rc),
            GSK_OS400_ERROR_NOT_TRUSTED_ROOT);
  CHECK_GSK(server_rc, GSK_ERROR_BAD_PEER); /* the client's alert */
}

TEST(expired_certificate_is_reported_on_the_completion) {
  CHECK_GSK(client_against("expired.pem", gt_client_env(), NULL), GSK_ERROR_BAD_DATE);
}

TEST(server_name_is_checked_when_given) {
  gsk_handle env = gt_env_open(GSK_CLIENT_SESSION, "ca.pem");
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_SSL_EXTN_SERVERNAME_REQUEST, "localhost", 0), GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_OK);
  CHECK_GSK(client_against("server.pem", env, NULL), GSK_OK);
  env = gt_env_open(GSK_CLIENT_SESSION, "ca.pem");
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_SSL_EXTN_SERVERNAME_REQUEST, "other.example", 0),
            GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_OK);
  CHECK_GSK(client_against("server.pem", env, NULL), GSK_ERROR_CERT_VALIDATION);
}

TEST(server_auth_passthru_accepts_any_certificate) {
  gsk_handle env = gt_env_open(GSK_CLIENT_SESSION, NULL);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_SERVER_AUTH_TYPE, GSK_SERVER_AUTH_PASSTHRU), GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_OK);
  CHECK_GSK(client_against("untrusted.pem", env, NULL), GSK_OK);
}

/* A server asking for client certificates (GSK_OS400_CLIENT_AUTH_REQUIRED). */
static int client_auth_with(const char *client_keyring, int *client_rc) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  gsk_handle env = gt_env_open(GSK_SERVER_SESSION_WITH_CL_AUTH, "server.pem");
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_CLIENT_AUTH_TYPE, GSK_OS400_CLIENT_AUTH_REQUIRED),
            GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_OK);
  gsk_handle server = gt_session(env, sv[0]);
  struct gt_peer client;
  gt_peer_start(&client, gt_env(GSK_CLIENT_SESSION, client_keyring), sv[1], NULL, NULL);
  Qso_OverlappedIO_t io = gt_io(NULL, 0, 1);
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &io), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTINIT, 5000);
  gt_peer_join(&client);
  *client_rc = client.init_rc;
  return st.returnValue;
}

TEST(client_authentication) {
  int client_rc = -1;
  CHECK_GSK(client_auth_with("client.pem", &client_rc), GSK_OK);
  CHECK_GSK(client_rc, GSK_OK);
  CHECK_GSK(client_auth_with("ca.pem", &client_rc), GSK_ERROR_NO_CERTIFICATE);
}

TEST(server_by_application_id) {
  setenv("QSOASYNC_APPID_DIR", gt_path("appid"), 1);
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  gsk_handle env = gt_env_open(GSK_SERVER_SESSION, NULL);
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_OS400_APPLICATION_ID, "QSOASYNC_TEST", 0), GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_OK);
  gsk_handle server = gt_session(env, sv[0]);
  struct gt_peer client;
  gt_peer_start(&client, gt_client_env(), sv[1], NULL, NULL);
  Qso_OverlappedIO_t io = gt_io(NULL, 0, 1);
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &io), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  CHECK_GSK(gt_wait(port, GSKSECURESOCSTARTINIT, 5000).returnValue, GSK_OK);
  gt_peer_join(&client);
  CHECK_GSK(client.init_rc, GSK_OK);
}

TEST(environment_close_leaves_its_sessions_working) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  gsk_handle env = gt_server_env();
  gsk_handle server = gt_session(env, sv[0]);
  CHECK_GSK(gsk_environment_close(&env), GSK_OK);
  struct gt_peer client;
  gt_peer_start(&client, gt_client_env(), sv[1], peer_echo_once, NULL);
  Qso_OverlappedIO_t io = gt_io(NULL, 0, 1);
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &io), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  CHECK_GSK(gt_wait(port, GSKSECURESOCSTARTINIT, 5000).returnValue, GSK_OK);
  gt_write(server, "abc", 3);
  char buf[3];
  gt_read_all(server, buf, 3);
  CHECK(memcmp(buf, "abc", 3) == 0);
  gt_peer_join(&client);
  CHECK_GSK(gsk_secure_soc_close(&server), GSK_OK);
}

/* ---- the peer's end ---------------------------------------------------------------------------- */

TEST(close_notify_is_a_receive_of_zero_bytes) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, NULL, NULL);
  gt_peer_join(&client);
  char buf[16];
  Qso_OverlappedIO_t io = gt_io(buf, sizeof buf, 1);
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &io), GSK_OS400_ASYNCHRONOUS_RECV);
  gt_write(client.session, "bye", 3);
  CHECK_GSK(gsk_secure_soc_close(&client.session), GSK_OK);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTRECV, 3000);
  CHECK_EQ(st.secureDataTransferSize, 3);
  int rc = gsk_secure_soc_startRecv(server, port, &io);
  st = rc == GSK_OK ? io : gt_wait(port, GSKSECURESOCSTARTRECV, 3000);
  CHECK_GSK(st.returnValue, GSK_OK);
  CHECK_EQ(st.secureDataTransferSize, 0);
  int n = -1;
  CHECK_GSK(gsk_secure_soc_read(server, buf, sizeof buf, &n), GSK_OK);
  CHECK_EQ(n, 0);
}

TEST(end_of_stream_between_records_is_a_clean_close) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, peer_send_hello, NULL);
  gt_peer_join(&client);
  /* The end of the stream without close_notify (shutdown, not close: a close with unread
   * bytes, the server's session tickets, would be a reset). */
  CHECK_EQ(shutdown(sv[1], SHUT_WR), 0);
  char buf[16];
  Qso_OverlappedIO_t io = gt_io(buf, sizeof buf, 1);
  io.fillBuffer = 1;
  int rc = gsk_secure_soc_startRecv(server, port, &io);
  Qso_OverlappedIO_t st = rc == GSK_OK ? io : gt_wait(port, GSKSECURESOCSTARTRECV, 3000);
  CHECK_GSK(st.returnValue, GSK_OK);
  CHECK_EQ(st.secureDataTransferSize, 5);
  CHECK(memcmp(buf, "hello", 5) == 0);
  rc = gsk_secure_soc_startRecv(server, port, &io);
  st = rc == GSK_OK ? io : gt_wait(port, GSKSECURESOCSTARTRECV, 3000);
  CHECK_GSK(st.returnValue, GSK_OK);
  CHECK_EQ(st.secureDataTransferSize, 0);
}

TEST(a_peer_that_closes_mid_record) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, NULL, NULL);
  gt_peer_join(&client);
  char buf[64];
  Qso_OverlappedIO_t io = gt_io(buf, sizeof buf, 1);
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &io), GSK_OS400_ASYNCHRONOUS_RECV);
  /* An application-data record header announcing 100 bytes, 10 of them, then the end. */
  unsigned char cut[15] = {23, 3, 3, 0, 100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  qt_write_all(sv[1], cut, sizeof cut);
  CHECK_EQ(shutdown(sv[1], SHUT_WR), 0);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTRECV, 3000);
  CHECK_GSK(st.returnValue, GSK_ERROR_SOCKET_CLOSED);
  CHECK_EQ(st.secureDataTransferSize, 0);
}

TEST(garbage_from_the_peer_is_a_bad_message) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  gsk_handle server = gt_session(gt_server_env(), sv[0]);
  qt_write_all(sv[1], "GET / HTTP/1.0\r\n\r\n", 18);
  Qso_OverlappedIO_t io = gt_io(NULL, 0, 1);
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &io), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  CHECK_GSK(gt_wait(port, GSKSECURESOCSTARTINIT, 3000).returnValue, GSK_ERROR_BAD_MESSAGE);
}

/* ---- time limits, cancel, close --------------------------------------------------------------- */

TEST(operation_wait_time_on_a_secure_receive_loses_nothing) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, NULL, NULL);
  gt_peer_join(&client);
  char buf[16];
  Qso_OverlappedIO_t io = gt_io(buf, sizeof buf, 4);
  io.operationWaitTime = qt_tv(1, 0);
  long long t0 = qt_now_ms();
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &io), GSK_OS400_ASYNCHRONOUS_RECV);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTRECV, 3000);
  long long took = qt_now_ms() - t0;
  CHECK(took >= 900 && took < 2500);
  CHECK_GSK(st.returnValue, GSK_ERROR_IO);
  CHECK_EQ(st.errnoValue, EAGAIN);
  CHECK_EQ(st.secureDataTransferSize, 0);
  /* The session goes on. */
  gt_write(client.session, "still", 5);
  io = gt_io(buf, sizeof buf, 5);
  int rc = gsk_secure_soc_startRecv(server, port, &io);
  st = rc == GSK_OK ? io : gt_wait(port, GSKSECURESOCSTARTRECV, 3000);
  CHECK_GSK(st.returnValue, GSK_OK);
  CHECK_EQ(st.secureDataTransferSize, 5);
  CHECK(memcmp(buf, "still", 5) == 0);
}

TEST(cancel_a_secure_receive) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, NULL, NULL);
  gt_peer_join(&client);
  char buf[16];
  Qso_OverlappedIO_t io = gt_io(buf, sizeof buf, 42);
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &io), GSK_OS400_ASYNCHRONOUS_RECV);
  CHECK_EQ(QsoIsOperationPending(sv[0], 42), 1);
  CHECK_EQ(QsoCancelOperation(sv[0], 42), 1);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTRECV, 1000);
  CHECK_GSK(st.returnValue, GSK_ERROR_IO);
  CHECK_EQ(st.errnoValue, ECANCELED);
  gt_write(client.session, "after", 5);
  io = gt_io(buf, sizeof buf, 43);
  io.postFlag = 1;
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &io), GSK_OS400_ASYNCHRONOUS_RECV);
  st = gt_wait(port, GSKSECURESOCSTARTRECV, 3000);
  CHECK_GSK(st.returnValue, GSK_OK);
  CHECK(memcmp(buf, "after", 5) == 0);
}

TEST(a_begun_handshake_cannot_be_cancelled) {
  int sport = qt_port(), cport = qt_port(), sv[2];
  qt_tcp_pair(sv);
  gsk_handle server = gt_session(gt_server_env(), sv[0]);
  gsk_handle client = gt_session(gt_client_env(), sv[1]);
  /* The client's start call sends its hello; nobody waits on its port, so it stops there. */
  Qso_OverlappedIO_t c = gt_io(NULL, 0, 2);
  CHECK_GSK(gsk_secure_soc_startInit(client, cport, &c), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  qt_wait_readable(sv[0], 2000);
  /* The server's start call answers it, and then waits for the client's finish. */
  Qso_OverlappedIO_t s = gt_io(NULL, 0, 1);
  CHECK_GSK(gsk_secure_soc_startInit(server, sport, &s), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  CHECK_ERR(QsoCancelOperation(sv[0], 1), EAGAIN);
  CHECK_EQ(QsoIsOperationPending(sv[0], 1), 1);
  /* Both complete normally once their ports are waited on. */
  CHECK_GSK(gt_wait(cport, GSKSECURESOCSTARTINIT, 3000).returnValue, GSK_OK);
  CHECK_GSK(gt_wait(sport, GSKSECURESOCSTARTINIT, 3000).returnValue, GSK_OK);
}

TEST(a_handshake_not_yet_begun_can_be_cancelled) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  gsk_handle server = gt_session(gt_server_env(), sv[0]);
  Qso_OverlappedIO_t s = gt_io(NULL, 0, 1);
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &s), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  CHECK_EQ(QsoCancelOperation(sv[0], 1), 1);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTINIT, 1000);
  CHECK_GSK(st.returnValue, GSK_ERROR_IO);
  CHECK_EQ(st.errnoValue, ECANCELED);
  char b[4];
  Qso_OverlappedIO_t io = gt_io(b, 4, 2);
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &io), GSK_INVALID_STATE);
}

TEST(handshake_timeout) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  gsk_handle env = gt_env_open(GSK_SERVER_SESSION, "server.pem");
  CHECK_GSK(gsk_attribute_set_numeric_value(env, GSK_HANDSHAKE_TIMEOUT, 1), GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_OK);
  gsk_handle server = gt_session(env, sv[0]);
  Qso_OverlappedIO_t s = gt_io(NULL, 0, 1);
  long long t0 = qt_now_ms();
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &s), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTINIT, 3000);
  CHECK(qt_now_ms() - t0 >= 900);
  CHECK_GSK(st.returnValue, GSK_OS400_ERROR_TIMED_OUT);
  /* The synchronous handshake has the same limit. */
  int sv2[2];
  qt_tcp_pair(sv2);
  gsk_handle server2 = gt_session(env, sv2[0]);
  t0 = qt_now_ms();
  CHECK_GSK(gsk_secure_soc_init(server2), GSK_OS400_ERROR_TIMED_OUT);
  CHECK(qt_now_ms() - t0 >= 900 && qt_now_ms() - t0 < 2500);
}

TEST(read_timeout_returns_timed_out_and_loses_nothing) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, NULL, NULL);
  gt_peer_join(&client);
  CHECK_GSK(gsk_attribute_set_numeric_value(server, GSK_OS400_READ_TIMEOUT, 200), GSK_OK);
  char buf[16];
  int n = -1;
  long long t0 = qt_now_ms();
  CHECK_GSK(gsk_secure_soc_read(server, buf, sizeof buf, &n), GSK_OS400_ERROR_TIMED_OUT);
  long long took = qt_now_ms() - t0;
  CHECK(took >= 190 && took < 1500);
  CHECK_EQ(n, 0);
  gt_write(client.session, "kept", 4);
  CHECK_GSK(gsk_secure_soc_read(server, buf, sizeof buf, &n), GSK_OK);
  CHECK_EQ(n, 4);
  CHECK(memcmp(buf, "kept", 4) == 0);
}

TEST(close_of_the_socket_during_a_pending_secure_receive) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, NULL, NULL);
  gt_peer_join(&client);
  char buf[16];
  Qso_OverlappedIO_t io = gt_io(buf, sizeof buf, 1);
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &io), GSK_OS400_ASYNCHRONOUS_RECV);
  CHECK_EQ(close(sv[0]), 0);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTRECV, 1000);
  CHECK_GSK(st.returnValue, GSK_ERROR_IO);
  CHECK_EQ(st.errnoValue, ECLOSED);
  /* The session knows its socket is gone; closing it touches no other socket. */
  int other[2];
  qt_tcp_pair(other); /* may reuse the number of sv[0] */
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &io), GSK_ERROR_SOCKET_CLOSED);
  CHECK_GSK(gsk_secure_soc_close(&server), GSK_OK);
  char probe;
  CHECK(recv(other[1], &probe, 1, MSG_DONTWAIT) == -1 && errno == EAGAIN);
}

TEST(close_of_the_socket_during_a_pending_handshake) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv);
  gsk_handle server = gt_session(gt_server_env(), sv[0]);
  Qso_OverlappedIO_t s = gt_io(NULL, 0, 1);
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &s), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  close(sv[0]);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTINIT, 1000);
  CHECK_GSK(st.returnValue, GSK_ERROR_IO);
  CHECK_EQ(st.errnoValue, ECLOSED);
}

TEST(gsk_close_during_a_pending_receive) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, NULL, NULL);
  gt_peer_join(&client);
  char buf[16];
  Qso_OverlappedIO_t io = gt_io(buf, sizeof buf, 1);
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &io), GSK_OS400_ASYNCHRONOUS_RECV);
  CHECK_GSK(gsk_secure_soc_close(&server), GSK_OK);
  Qso_OverlappedIO_t st = gt_wait(port, GSKSECURESOCSTARTRECV, 1000);
  CHECK_GSK(st.returnValue, GSK_OS400_ERROR_CLOSED);
  /* The peer saw the close_notify. */
  int n = -1;
  CHECK_GSK(gsk_secure_soc_read(client.session, buf, sizeof buf, &n), GSK_OK);
  CHECK_EQ(n, 0);
}

/* Set by peer_read_once just before its read. */
static int peer_about_to_read;

/* The peer blocks in a synchronous read (10 s limit); p->arg becomes its GSK code + 1 once the
 * read has returned (0 while it has not). */
static void peer_read_once(struct gt_peer *p) {
  char buf[16];
  int n = -1;
  CHECK_GSK(gsk_attribute_set_numeric_value(p->session, GSK_OS400_READ_TIMEOUT, 10000), GSK_OK);
  __atomic_store_n(&peer_about_to_read, 1, __ATOMIC_SEQ_CST);
  int rc = gsk_secure_soc_read(p->session, buf, sizeof buf, &n);
  __atomic_store_n((intptr_t *)&p->arg, (intptr_t)rc + 1, __ATOMIC_SEQ_CST);
}

TEST(gsk_close_ends_a_synchronous_read_in_another_thread) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, peer_read_once, NULL);
  long long started = qt_now_ms();
  while (!__atomic_load_n(&peer_about_to_read, __ATOMIC_SEQ_CST) && qt_now_ms() - started < 5000)
    usleep(1000);
  CHECK(__atomic_load_n(&peer_about_to_read, __ATOMIC_SEQ_CST));
  usleep(100 * 1000); /* from its call into its wait: microseconds; give it far more */
  CHECK(__atomic_load_n((intptr_t *)&client.arg, __ATOMIC_SEQ_CST) == 0);
  gsk_handle session = client.session;
  long long closed_at = qt_now_ms();
  CHECK_GSK(gsk_secure_soc_close(&session), GSK_OK);
  intptr_t ended = 0;
  while ((ended = __atomic_load_n((intptr_t *)&client.arg, __ATOMIC_SEQ_CST)) == 0 &&
         qt_now_ms() - closed_at < 2000)
    usleep(1000);
  CHECK(ended != 0); /* without the wake-up it waits until its 10 s limit */
  CHECK_GSK((int)(ended - 1), GSK_OS400_ERROR_CLOSED);
  gt_peer_join(&client);
  CHECK_GSK(gsk_secure_soc_close(&server), GSK_OK);
}

TEST(destroying_the_port_drops_pending_secure_operations) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, NULL, NULL);
  gt_peer_join(&client);
  char *buf = malloc(64);
  Qso_OverlappedIO_t io = gt_io(buf, 64, 1);
  CHECK_GSK(gsk_secure_soc_startRecv(server, port, &io), GSK_OS400_ASYNCHRONOUS_RECV);
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  free(buf);
  gt_write(client.session, "late", 4); /* must not land in the freed buffer */
  qt_sleep_ms(50);
  CHECK_GSK(gsk_secure_soc_close(&server), GSK_OK);
}

/* The peer starts reading only after a pause, then reads until the session ends; p->arg
 * becomes 0 when it saw the close_notify (0 bytes, GSK_OK), else the failing GSK code. */
static void peer_drain_after_pause(struct gt_peer *p) {
  usleep(300 * 1000);
  CHECK_GSK(gsk_attribute_set_numeric_value(p->session, GSK_OS400_READ_TIMEOUT, 3000), GSK_OK);
  static char buf[65536];
  for (int reads = 0; reads < 100000; reads++) {
    int n = -1;
    int rc = gsk_secure_soc_read(p->session, buf, sizeof buf, &n);
    if (rc != GSK_OK || n == 0) {
      p->arg = (void *)(intptr_t)rc;
      return;
    }
  }
}

TEST_T(close_waits_for_room_to_send_its_close_notify, 20) {
  int port = qt_port(), sv[2];
  struct gt_peer client;
  gsk_handle server = gt_async_server(port, sv, &client, peer_drain_after_pause, NULL);
  client.arg = (void *)(intptr_t)-1;
  int small = 4096;
  CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
  static char big[1 << 21];
  memset(big, 'z', sizeof big);
  Qso_OverlappedIO_t io = gt_io(big, sizeof big, 2);
  /* The peer is not reading yet: the socket fills and the send stays pending. */
  CHECK_GSK(gsk_secure_soc_startSend(server, port, &io), GSK_OS400_ASYNCHRONOUS_SEND);
  /* The close_notify queues behind records the socket has not taken: close must wait for room
   * (the peer drains after 300 ms) instead of dropping it. The socket itself stays open, so
   * only the alert can end the peer's reading before its 3 s read timeout. */
  CHECK_GSK(gsk_secure_soc_close(&server), GSK_OK);
  gt_peer_join(&client);
  CHECK_EQ((intptr_t)client.arg, GSK_OK);
}

TEST(a_handshake_cut_off_by_destroy_leaves_the_session_failed_not_half_open) {
  int port = qt_port(), sv[2];
  qt_tcp_pair(sv); /* the client end never speaks TLS: the handshake stays pending */
  gsk_handle server = gt_session(gt_server_env(), sv[0]);
  Qso_OverlappedIO_t io = gt_io(NULL, 0, 1);
  CHECK_GSK(gsk_secure_soc_startInit(server, port, &io), GSK_OS400_ASYNCHRONOUS_SOC_INIT);
  CHECK_EQ(QsoDestroyIOCompletionPort(port), 0);
  /* Failed (a new handshake is refused as for any failed session), not "already secure". */
  CHECK_GSK(gsk_secure_soc_init(server), GSK_INVALID_STATE);
  CHECK_GSK(gsk_secure_soc_close(&server), GSK_OK);
}
