/*
 * gsk_api.c - the GSK calls without a peer: handles (bad, closed, of the wrong kind), pointer
 * checks, attributes (defaults, set/get, what is refused and how), environment initialisation
 * errors (keyrings, application ids), the argument checks of the start calls, gsk_strerror.
 */
#include "gsk_test.h"

TEST(bad_handles_give_invalid_handle) {
  gsk_handle bogus = (gsk_handle)(uintptr_t)0x1234;
  int v = 0, n = 0;
  const char *b = NULL;
  char buf[8];
  CHECK_GSK(gsk_environment_init(NULL), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_environment_init(bogus), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_attribute_set_enum(bogus, GSK_SESSION_TYPE, GSK_CLIENT_SESSION),
            GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_attribute_get_enum(bogus, GSK_SESSION_TYPE, &v), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_attribute_set_numeric_value(bogus, GSK_HANDSHAKE_TIMEOUT, 1), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_attribute_get_numeric_value(bogus, GSK_HANDSHAKE_TIMEOUT, &v),
            GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_attribute_set_buffer(bogus, GSK_KEYRING_FILE, "x", 0), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_attribute_get_buffer(bogus, GSK_KEYRING_FILE, &b, &n), GSK_INVALID_HANDLE);
  gsk_handle s = NULL;
  CHECK_GSK(gsk_secure_soc_open(bogus, &s), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_secure_soc_init(bogus), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_secure_soc_read(bogus, buf, sizeof buf, &n), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_secure_soc_write(bogus, buf, sizeof buf, &n), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_secure_soc_misc(bogus, GSK_CLOSE_NOTIFY), GSK_INVALID_HANDLE);
  int port = qt_port();
  Qso_OverlappedIO_t io = gt_io(buf, sizeof buf, 1);
  CHECK_GSK(gsk_secure_soc_startInit(bogus, port, &io), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_secure_soc_startRecv(bogus, port, &io), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_secure_soc_startSend(bogus, port, &io), GSK_INVALID_HANDLE);
  gsk_handle h = bogus;
  CHECK_GSK(gsk_secure_soc_close(&h), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_environment_close(&h), GSK_INVALID_HANDLE);
  CHECK(h == bogus);
  qt_expect_empty(port);
}

TEST(closed_handles_are_invalid_and_set_to_null) {
  gsk_handle env = gt_client_env(), s = NULL;
  CHECK_GSK(gsk_secure_soc_open(env, &s), GSK_OK);
  gsk_handle s_copy = s, env_copy = env;
  CHECK_GSK(gsk_secure_soc_close(&s), GSK_OK);
  CHECK(s == NULL);
  CHECK_GSK(gsk_secure_soc_close(&s_copy), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_secure_soc_init(s_copy), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_environment_close(&env), GSK_OK);
  CHECK(env == NULL);
  CHECK_GSK(gsk_environment_close(&env_copy), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_secure_soc_open(env_copy, &s), GSK_INVALID_HANDLE);
}

TEST(handles_of_the_wrong_kind_are_invalid) {
  gsk_handle env = gt_client_env(), s = NULL;
  CHECK_GSK(gsk_secure_soc_open(env, &s), GSK_OK);
  gsk_handle s2 = NULL;
  CHECK_GSK(gsk_secure_soc_open(s, &s2), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_secure_soc_init(env), GSK_INVALID_HANDLE);
  gsk_handle e = s;
  CHECK_GSK(gsk_environment_close(&e), GSK_INVALID_HANDLE);
  e = env;
  CHECK_GSK(gsk_secure_soc_close(&e), GSK_INVALID_HANDLE);
  CHECK_GSK(gsk_environment_init(s), GSK_INVALID_HANDLE);
}

TEST(null_pointers_are_refused) {
  gsk_handle env = gt_client_env(), s = gt_session(env, 0);
  int n = 0, v = 0;
  const char *b = NULL;
  char buf[4];
  CHECK_GSK(gsk_environment_open(NULL), GSK_OS400_ERROR_INVALID_POINTER);
  CHECK_GSK(gsk_environment_close(NULL), GSK_OS400_ERROR_INVALID_POINTER);
  CHECK_GSK(gsk_secure_soc_open(env, NULL), GSK_OS400_ERROR_INVALID_POINTER);
  CHECK_GSK(gsk_secure_soc_close(NULL), GSK_OS400_ERROR_INVALID_POINTER);
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_KEYRING_FILE, NULL, 0),
            GSK_OS400_ERROR_INVALID_POINTER);
  CHECK_GSK(gsk_attribute_get_buffer(env, GSK_KEYRING_FILE, NULL, &n),
            GSK_OS400_ERROR_INVALID_POINTER);
  CHECK_GSK(gsk_attribute_get_buffer(env, GSK_KEYRING_FILE, &b, NULL),
            GSK_OS400_ERROR_INVALID_POINTER);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_SESSION_TYPE, NULL), GSK_OS400_ERROR_INVALID_POINTER);
  CHECK_GSK(gsk_attribute_get_numeric_value(env, GSK_HANDSHAKE_TIMEOUT, NULL),
            GSK_OS400_ERROR_INVALID_POINTER);
  CHECK_GSK(gsk_secure_soc_read(s, NULL, 4, &n), GSK_OS400_ERROR_INVALID_POINTER);
  CHECK_GSK(gsk_secure_soc_read(s, buf, 4, NULL), GSK_OS400_ERROR_INVALID_POINTER);
  CHECK_GSK(gsk_secure_soc_write(s, NULL, 4, &n), GSK_OS400_ERROR_INVALID_POINTER);
  CHECK_GSK(gsk_secure_soc_write(s, buf, 4, NULL), GSK_OS400_ERROR_INVALID_POINTER);
  CHECK_GSK(gsk_secure_soc_read(s, buf, 0, &n), GSK_INVALID_BUFFER_SIZE);
  CHECK_GSK(gsk_secure_soc_write(s, buf, -1, &n), GSK_INVALID_BUFFER_SIZE);
  (void)v;
}

TEST(attribute_defaults_and_round_trips) {
  gsk_handle env = NULL;
  CHECK_GSK(gsk_environment_open(&env), GSK_OK);
  int v = -1;
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_SESSION_TYPE, &v), GSK_OK);
  CHECK_EQ(v, GSK_CLIENT_SESSION);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_PROTOCOL_TLSV12, &v), GSK_OK);
  CHECK_EQ(v, GSK_TRUE);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_PROTOCOL_TLSV13, &v), GSK_OK);
  CHECK_EQ(v, GSK_TRUE);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_PROTOCOL_SSLV2, &v), GSK_OK);
  CHECK_EQ(v, GSK_PROTOCOL_SSLV2_OFF);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_PROTOCOL_SSLV3, &v), GSK_OK);
  CHECK_EQ(v, GSK_PROTOCOL_SSLV3_OFF);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_PROTOCOL_TLSV1, &v), GSK_OK);
  CHECK_EQ(v, GSK_PROTOCOL_TLSV1_ON);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_PROTOCOL_TLSV11, &v), GSK_OK);
  CHECK_EQ(v, GSK_FALSE);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_SERVER_AUTH_TYPE, &v), GSK_OK);
  CHECK_EQ(v, GSK_SERVER_AUTH_FULL);

  CHECK_GSK(gsk_attribute_set_enum(env, GSK_SESSION_TYPE, GSK_SERVER_SESSION_WITH_CL_AUTH), GSK_OK);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_SESSION_TYPE, &v), GSK_OK);
  CHECK_EQ(v, GSK_SERVER_SESSION_WITH_CL_AUTH);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_CLIENT_AUTH_TYPE, GSK_OS400_CLIENT_AUTH_REQUIRED),
            GSK_OK);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_CLIENT_AUTH_TYPE, &v), GSK_OK);
  CHECK_EQ(v, GSK_IBMI_CLIENT_AUTH_REQUIRED);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV13, GSK_FALSE), GSK_OK);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_PROTOCOL_TLSV13, &v), GSK_OK);
  CHECK_EQ(v, GSK_FALSE);

  /* The master switch: TLS 1.2 follows it unless set on its own. */
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV1, GSK_PROTOCOL_TLSV1_OFF), GSK_OK);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_PROTOCOL_TLSV12, &v), GSK_OK);
  CHECK_EQ(v, GSK_FALSE);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV12, GSK_TRUE), GSK_OK);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_PROTOCOL_TLSV12, &v), GSK_OK);
  CHECK_EQ(v, GSK_TRUE);

  CHECK_GSK(gsk_attribute_set_numeric_value(env, GSK_HANDSHAKE_TIMEOUT, 7), GSK_OK);
  CHECK_GSK(gsk_attribute_get_numeric_value(env, GSK_HANDSHAKE_TIMEOUT, &v), GSK_OK);
  CHECK_EQ(v, 7);
  CHECK_GSK(gsk_attribute_set_numeric_value(env, GSK_OS400_READ_TIMEOUT, 250), GSK_OK);
  CHECK_GSK(gsk_attribute_get_numeric_value(env, GSK_IBMI_READ_TIMEOUT, &v), GSK_OK);
  CHECK_EQ(v, 250);

  const char *b = NULL;
  int n = -1;
  CHECK_GSK(gsk_attribute_get_buffer(env, GSK_KEYRING_FILE, &b, &n), GSK_OK);
  CHECK(b != NULL && n == 0 && b[0] == '\0');
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_KEYRING_FILE, "/some/keyring.pemXYZ", 16), GSK_OK);
  CHECK_GSK(gsk_attribute_get_buffer(env, GSK_KEYRING_FILE, &b, &n), GSK_OK);
  CHECK_EQ(n, 16);
  CHECK(strcmp(b, "/some/keyring.pe") == 0);
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_OS400_APPLICATION_ID, "MY_APP", 0), GSK_OK);
  CHECK_GSK(gsk_attribute_get_buffer(env, GSK_AS400_APPLICATION_ID, &b, &n), GSK_OK);
  CHECK(strcmp(b, "MY_APP") == 0);
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_SSL_EXTN_SERVERNAME_REQUEST, "localhost", 0), GSK_OK);
  CHECK_GSK(gsk_attribute_get_buffer(env, GSK_SSL_EXTN_SERVERNAME_REQUEST, &b, &n), GSK_OK);
  CHECK(strcmp(b, "localhost") == 0 && n == 9);
}

TEST(what_cannot_be_honoured_is_refused_clearly) {
  gsk_handle env = NULL;
  CHECK_GSK(gsk_environment_open(&env), GSK_OK);
  /* Old protocols: off is fine, on is refused. */
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_SSLV2, GSK_PROTOCOL_SSLV2_OFF), GSK_OK);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_SSLV3, GSK_PROTOCOL_SSLV3_OFF), GSK_OK);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV10, GSK_FALSE), GSK_OK);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV11, GSK_FALSE), GSK_OK);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_SSLV2, GSK_PROTOCOL_SSLV2_ON),
            GSK_ERROR_UNSUPPORTED);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_SSLV3, GSK_PROTOCOL_SSLV3_ON),
            GSK_ERROR_UNSUPPORTED);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV10, GSK_TRUE), GSK_ERROR_UNSUPPORTED);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV11, GSK_TRUE), GSK_ERROR_UNSUPPORTED);
  /* Cipher lists, LDAP, OCSP, session caches: IBM's, not this library's. */
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_V3_CIPHER_SPECS, "352F", 0), GSK_ERROR_UNSUPPORTED);
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_TLSV12_CIPHER_SPECS_EX, "TLS_AES_128_GCM_SHA256", 0),
            GSK_ERROR_UNSUPPORTED);
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_KEYRING_STASH_FILE, "x.sth", 0),
            GSK_ERROR_UNSUPPORTED);
  CHECK_GSK(gsk_attribute_set_numeric_value(env, GSK_V3_SESSION_TIMEOUT, 300),
            GSK_ERROR_UNSUPPORTED);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_OCSP_ENABLE, GSK_TRUE), GSK_ERROR_UNSUPPORTED);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_ENVIRONMENT_CLOSE_OPTIONS,
                                   GSK_NORMAL_ENVIRONMENT_CLOSE),
            GSK_ERROR_UNSUPPORTED);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_ENVIRONMENT_CLOSE_OPTIONS,
                                   GSK_DELAYED_ENVIRONMENT_CLOSE),
            GSK_OK);
  /* Unknown identifiers, bad values. */
  CHECK_GSK(gsk_attribute_set_buffer(env, 9999, "x", 0), GSK_ATTRIBUTE_INVALID_ID);
  CHECK_GSK(gsk_attribute_set_enum(env, 9999, GSK_TRUE), GSK_ATTRIBUTE_INVALID_ID);
  CHECK_GSK(gsk_attribute_set_numeric_value(env, 9999, 1), GSK_ATTRIBUTE_INVALID_ID);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_SESSION_TYPE, 4242), GSK_ATTRIBUTE_INVALID_ENUMERATION);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV12, 7), GSK_ATTRIBUTE_INVALID_ENUMERATION);
  CHECK_GSK(gsk_attribute_set_numeric_value(env, GSK_HANDSHAKE_TIMEOUT, -1),
            GSK_ATTRIBUTE_INVALID_NUMERIC_VALUE);
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_KEYRING_FILE, "x", -1), GSK_ATTRIBUTE_INVALID_LENGTH);
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_SSL_EXTN_SERVERNAME_REQUEST, "bad name!", 0),
            GSK_ATTRIBUTE_INVALID_LENGTH);
  /* GSK_FD belongs to sessions. */
  CHECK_GSK(gsk_attribute_set_numeric_value(env, GSK_FD, 3), GSK_ATTRIBUTE_INVALID_ID);
}

TEST(attributes_are_fixed_after_init) {
  gsk_handle env = gt_client_env();
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_SESSION_TYPE, GSK_SERVER_SESSION), GSK_INVALID_STATE);
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_KEYRING_FILE, "x", 0), GSK_INVALID_STATE);
  CHECK_GSK(gsk_environment_init(env), GSK_INVALID_STATE);
  /* A session inherits, may change its own copy before its handshake, but not keyrings. */
  gsk_handle s = gt_session(env, 0);
  int v = 0;
  CHECK_GSK(gsk_attribute_get_enum(s, GSK_SESSION_TYPE, &v), GSK_OK);
  CHECK_EQ(v, GSK_CLIENT_SESSION);
  CHECK_GSK(gsk_attribute_set_enum(s, GSK_PROTOCOL_TLSV13, GSK_FALSE), GSK_OK);
  CHECK_GSK(gsk_attribute_set_buffer(s, GSK_KEYRING_FILE, "x", 0), GSK_ATTRIBUTE_INVALID_ID);
  CHECK_GSK(gsk_attribute_get_numeric_value(s, GSK_FD, &v), GSK_OK);
  CHECK_EQ(v, 0);
  CHECK_GSK(gsk_attribute_get_enum(s, GSK_PROTOCOL_USED, &v), GSK_INVALID_STATE);
  CHECK_GSK(gsk_attribute_get_enum(env, GSK_PROTOCOL_USED, &v), GSK_ATTRIBUTE_INVALID_ID);
}

TEST(environment_init_errors) {
  gsk_handle env = gt_env_open(GSK_SERVER_SESSION, NULL);
  CHECK_GSK(gsk_environment_init(env), GSK_KEYRING_OPEN_ERROR); /* a server needs a keyring */
  env = gt_env_open(GSK_SERVER_SESSION, "no-such-file.pem");
  CHECK_GSK(gsk_environment_init(env), GSK_KEYRING_OPEN_ERROR);
  env = gt_env_open(GSK_SERVER_SESSION, "notpem.pem");
  CHECK_GSK(gsk_environment_init(env), GSK_KEYFILE_INVALID_FORMAT);
  env = gt_env_open(GSK_SERVER_SESSION, "nokey.pem");
  CHECK_GSK(gsk_environment_init(env), GSK_ERROR_NO_PRIVATE_KEY);
  env = gt_env_open(GSK_CLIENT_SESSION, NULL);
  CHECK_GSK(gsk_environment_init(env), GSK_KEYRING_OPEN_ERROR); /* nothing to trust */
  env = gt_env_open(GSK_CLIENT_SESSION, NULL);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_SERVER_AUTH_TYPE, GSK_SERVER_AUTH_PASSTHRU), GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_OK); /* ...unless it trusts anything */
  env = gt_env_open(GSK_CLIENT_SESSION, "ca.pem");
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV12, GSK_FALSE), GSK_OK);
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV13, GSK_FALSE), GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_ERROR_NO_CIPHERS);
  /* Still open after a failed init: it can be fixed and initialised. */
  CHECK_GSK(gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV13, GSK_TRUE), GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_OK);
}

TEST(application_ids_map_to_files) {
  setenv("QSOASYNC_APPID_DIR", gt_path("appid"), 1);
  gsk_handle env = gt_env_open(GSK_SERVER_SESSION, NULL);
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_OS400_APPLICATION_ID, "QSOASYNC_TEST", 0), GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_OK);
  env = gt_env_open(GSK_SERVER_SESSION, NULL);
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_OS400_APPLICATION_ID, "NOT_REGISTERED", 0), GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_OS400_ERROR_NOT_REGISTERED);
  env = gt_env_open(GSK_SERVER_SESSION, NULL);
  CHECK_GSK(gsk_attribute_set_buffer(env, GSK_OS400_APPLICATION_ID, "../appid/QSOASYNC_TEST", 0),
            GSK_OK);
  CHECK_GSK(gsk_environment_init(env), GSK_OS400_ERROR_NOT_REGISTERED);
}

TEST(sessions_need_an_initialised_environment_and_a_socket) {
  gsk_handle env = gt_env_open(GSK_CLIENT_SESSION, "ca.pem"), s = NULL;
  CHECK_GSK(gsk_secure_soc_open(env, &s), GSK_INVALID_STATE);
  CHECK_GSK(gsk_environment_init(env), GSK_OK);
  CHECK_GSK(gsk_secure_soc_open(env, &s), GSK_OK);
  CHECK_GSK(gsk_secure_soc_init(s), GSK_OS400_ERROR_BAD_SOCKET_DESCRIPTOR); /* no GSK_FD */
  gsk_handle s2 = gt_session(env, qt_closed_fd());
  CHECK_GSK(gsk_secure_soc_init(s2), GSK_OS400_ERROR_BAD_SOCKET_DESCRIPTOR);
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  CHECK(udp >= 0);
  gsk_handle s3 = gt_session(env, udp);
  CHECK_GSK(gsk_secure_soc_init(s3), GSK_OS400_ERROR_NOT_TCP);
  CHECK_GSK(gsk_attribute_set_numeric_value(s3, GSK_FD, -1), GSK_ATTRIBUTE_INVALID_NUMERIC_VALUE);
  /* No handshake yet: no data calls. */
  int sv[2];
  qt_tcp_pair(sv);
  gsk_handle s4 = gt_session(env, sv[1]);
  char buf[4];
  int n = 0;
  CHECK_GSK(gsk_secure_soc_read(s4, buf, 4, &n), GSK_INVALID_STATE);
  CHECK_GSK(gsk_secure_soc_write(s4, buf, 4, &n), GSK_INVALID_STATE);
  int port = qt_port();
  Qso_OverlappedIO_t io = gt_io(buf, sizeof buf, 1);
  CHECK_GSK(gsk_secure_soc_startRecv(s4, port, &io), GSK_INVALID_STATE);
  CHECK_GSK(gsk_secure_soc_startSend(s4, port, &io), GSK_INVALID_STATE);
  qt_expect_empty(port);
}

TEST(start_calls_check_their_arguments) {
  gsk_handle env = gt_client_env();
  int sv[2];
  qt_tcp_pair(sv);
  gsk_handle s = gt_session(env, sv[1]);
  int port = qt_port();
  char buf[16];
  Qso_OverlappedIO_t io = gt_io(buf, sizeof buf, 1);
  CHECK_GSK(gsk_secure_soc_startInit(s, port, NULL), GSK_OS400_ERROR_INVALID_OVERLAPPEDIO_T);
  CHECK_GSK(gsk_secure_soc_startRecv(s, port, NULL), GSK_OS400_ERROR_INVALID_OVERLAPPEDIO_T);
  CHECK_GSK(gsk_secure_soc_startSend(s, port, NULL), GSK_OS400_ERROR_INVALID_OVERLAPPEDIO_T);
  CHECK_GSK(gsk_secure_soc_startInit(s, 999, &io), GSK_OS400_ERROR_INVALID_IOCOMPLETIONPORT);
  CHECK_GSK(gsk_secure_soc_startRecv(s, -1, &io), GSK_OS400_ERROR_INVALID_IOCOMPLETIONPORT);
  io.postedDescriptor = 5;
  errno = 0;
  CHECK_GSK(gsk_secure_soc_startInit(s, port, &io), GSK_ERROR_IO);
  CHECK_EQ(errno, EINVAL);
  errno = 0;
  CHECK_GSK(gsk_secure_soc_startRecv(s, port, &io), GSK_ERROR_IO);
  CHECK_EQ(errno, EINVAL);
  io = gt_io(buf, sizeof buf, 1);
  io.operationWaitTime = qt_tv(1, 5);
  errno = 0;
  CHECK_GSK(gsk_secure_soc_startSend(s, port, &io), GSK_ERROR_IO);
  CHECK_EQ(errno, EINVAL);
  io = gt_io(NULL, sizeof buf, 1);
  CHECK_GSK(gsk_secure_soc_startRecv(s, port, &io), GSK_OS400_ERROR_INVALID_POINTER);
  io = gt_io(buf, 0, 1);
  CHECK_GSK(gsk_secure_soc_startSend(s, port, &io), GSK_INVALID_BUFFER_SIZE);
  qt_expect_empty(port);
}

TEST(strerror_always_has_a_text) {
  int codes[] = {GSK_OK, GSK_INVALID_HANDLE, GSK_ERROR_IO, GSK_ERROR_BAD_DATE,
                 GSK_OS400_ERROR_NOT_TRUSTED_ROOT, GSK_OS400_ERROR_TIMED_OUT,
                 GSK_OS400_ASYNCHRONOUS_RECV, GSK_OS400_ASYNCHRONOUS_SOC_INIT, 31337, -5};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *t = gsk_strerror(codes[i]);
    CHECK(t != NULL && strlen(t) > 3);
  }
  CHECK(strcmp(gsk_strerror(31337), gsk_strerror(GSK_OK)) != 0);
}

TEST(ibm_numbers_and_spellings) {
  CHECK_EQ(GSK_OS400_ASYNCHRONOUS_RECV, 6012);
  CHECK_EQ(GSK_OS400_ASYNCHRONOUS_SEND, 6013);
  CHECK_EQ(GSK_OS400_ASYNCHRONOUS_SOC_INIT, 6019);
  CHECK_EQ(GSK_OS400_ERROR_TIMED_OUT, 6011);
  CHECK_EQ(GSK_AS400_ERROR_TIMED_OUT, 6011);
  CHECK_EQ(GSK_IBMI_ASYNCHRONOUS_SOC_INIT, 6019);
  CHECK_EQ(GSK_AS400_ERROR_NOT_TRUSTED_ROOT, GSK_IBMI_ERROR_NOT_TRUSTED_ROOT);
  CHECK_EQ(GSK_ERROR_IO, 406);
  CHECK_EQ(GSK_KEYRING_FILE, 201);
  CHECK_EQ(GSK_OS400_APPLICATION_ID, 6999);
  CHECK_EQ(GSK_FD, 300);
  CHECK_EQ(GSK_HANDSHAKE_TIMEOUT, 6998);
  CHECK_EQ(GSK_OS400_READ_TIMEOUT, 6993);
  CHECK_EQ(GSK_SESSION_TYPE, 402);
  CHECK_EQ(GSK_SERVER_SESSION_WITH_CL_AUTH, 509);
  CHECK_EQ(GSK_PROTOCOL_TLSV13, 4030);
  CHECK_EQ(GSK_SSL_EXTN_SERVERNAME_REQUEST, 230);
  CHECK_EQ(sizeof(gsk_handle), sizeof(void *));
}

TEST(a_forked_child_starts_without_handles) {
  gsk_handle env = gt_client_env();
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    gsk_handle s = NULL;
    if (gsk_secure_soc_open(env, &s) != GSK_INVALID_HANDLE)
      _exit(1);
    gsk_handle mine = gt_client_env();
    _exit(mine != NULL && mine != env ? 0 : 2);
  }
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  gsk_handle s = NULL;
  CHECK_GSK(gsk_secure_soc_open(env, &s), GSK_OK); /* the parent's handles are untouched */
}
