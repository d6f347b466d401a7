/*
 * tests/gsk_client.c - a GSKit client for tests/gsk_openssl.sh: connects to 127.0.0.1:PORT,
 * performs the handshake (synchronously, or with gsk_secure_soc_startInit on a port), sends one
 * line and prints the line it gets back.
 *
 *   gsk_client -p port -k keyring.pem [-n server_name] [-a] [-m message] [-2 | -3]
 *
 *   -a   asynchronous handshake and receive (startInit / startRecv on a completion port)
 *   -2   TLS 1.2 only; -3   TLS 1.3 only
 *
 * Prints "protocol: TLSv1.2|TLSv1.3" and "reply: TEXT", or "error: CODE TEXT" (exit 1).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gskssl.h"

static int fail(const char *what, int rc) {
  printf("error: %d %s (%s)\n", rc, gsk_strerror(rc), what);
  return 1;
}

int main(int argc, char **argv) {
  int tcp_port = 0, async = 0, only = 0, opt;
  const char *keyring = NULL, *name = NULL, *message = "hello from gsk";
  while ((opt = getopt(argc, argv, "p:k:n:am:23")) != -1) {
    switch (opt) {
    case 'p': tcp_port = atoi(optarg); break;
    case 'k': keyring = optarg; break;
    case 'n': name = optarg; break;
    case 'a': async = 1; break;
    case 'm': message = optarg; break;
    case '2': only = 2; break;
    case '3': only = 3; break;
    default: return 2;
    }
  }
  if (tcp_port <= 0 || keyring == NULL)
    return 2;

  gsk_handle env = NULL, session = NULL;
  int rc = gsk_environment_open(&env);
  if (rc == GSK_OK)
    rc = gsk_attribute_set_buffer(env, GSK_KEYRING_FILE, keyring, 0);
  if (rc == GSK_OK)
    rc = gsk_attribute_set_enum(env, GSK_SESSION_TYPE, GSK_CLIENT_SESSION);
  if (rc == GSK_OK && name != NULL)
    rc = gsk_attribute_set_buffer(env, GSK_SSL_EXTN_SERVERNAME_REQUEST, name, 0);
  if (rc == GSK_OK && only == 2)
    rc = gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV13, GSK_FALSE);
  if (rc == GSK_OK && only == 3)
    rc = gsk_attribute_set_enum(env, GSK_PROTOCOL_TLSV12, GSK_FALSE);
  if (rc == GSK_OK)
    rc = gsk_environment_init(env);
  if (rc != GSK_OK)
    return fail("environment", rc);

  int sd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((unsigned short)tcp_port);
  if (sd < 0 || connect(sd, (struct sockaddr *)&a, sizeof a) != 0) {
    perror("connect");
    return 1;
  }
  rc = gsk_secure_soc_open(env, &session);
  if (rc == GSK_OK)
    rc = gsk_attribute_set_numeric_value(session, GSK_FD, sd);
  if (rc != GSK_OK)
    return fail("session", rc);

  int port = -1;
  struct timeval limit = {10, 0};
  Qso_OverlappedIO_t io;
  if (async) {
    port = QsoCreateIOCompletionPort();
    memset(&io, 0, sizeof io);
    rc = gsk_secure_soc_startInit(session, port, &io);
    if (rc != GSK_OS400_ASYNCHRONOUS_SOC_INIT)
      return fail("gsk_secure_soc_startInit", rc);
    if (QsoWaitForIOCompletion(port, &io, &limit) != 1)
      return fail("handshake completion", GSK_OS400_ERROR_TIMED_OUT);
    rc = io.returnValue;
  } else {
    rc = gsk_secure_soc_init(session);
  }
  if (rc != GSK_OK)
    return fail("handshake", rc);
  int used = 0;
  gsk_attribute_get_enum(session, GSK_PROTOCOL_USED, &used);
  printf("protocol: %s\n", used == GSK_PROTOCOL_USED_TLSV13   ? "TLSv1.3"
                           : used == GSK_PROTOCOL_USED_TLSV12 ? "TLSv1.2"
                                                              : "other");

  char line[4096];
  int len = snprintf(line, sizeof line, "%s\n", message), n = 0;
  rc = gsk_secure_soc_write(session, line, len, &n);
  if (rc != GSK_OK)
    return fail("gsk_secure_soc_write", rc);

  /* Read until a newline (bounded: at most sizeof reply bytes, 10 s per read). */
  char reply[4096];
  int got = 0;
  gsk_attribute_set_numeric_value(session, GSK_OS400_READ_TIMEOUT, 10000);
  while (got < (int)sizeof reply - 1 && memchr(reply, '\n', (size_t)got) == NULL) {
    if (async) {
      memset(&io, 0, sizeof io);
      io.buffer = reply + got;
      io.bufferLength = sizeof reply - 1 - (size_t)got;
      rc = gsk_secure_soc_startRecv(session, port, &io);
      if (rc == GSK_OS400_ASYNCHRONOUS_RECV) {
        if (QsoWaitForIOCompletion(port, &io, &limit) != 1)
          return fail("receive completion", GSK_OS400_ERROR_TIMED_OUT);
        rc = io.returnValue;
      }
      n = io.secureDataTransferSize;
    } else {
      rc = gsk_secure_soc_read(session, reply + got, (int)sizeof reply - 1 - got, &n);
    }
    if (rc != GSK_OK)
      return fail("receive", rc);
    if (n == 0)
      break;
    got += n;
  }
  reply[got] = '\0';
  char *nl = strchr(reply, '\n');
  if (nl != NULL)
    *nl = '\0';
  printf("reply: %s\n", reply);
  gsk_secure_soc_close(&session);
  close(sd);
  gsk_environment_close(&env);
  return 0;
}
