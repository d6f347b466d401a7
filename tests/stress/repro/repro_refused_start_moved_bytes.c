/* tests/stress/repro/repro_refused_start_moved_bytes.c - minimal reproduction.
 * Bug: a start call refused with EINVAL because its port is being destroyed has already moved bytes.
 * Build: gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -pthread -I include -o build/repro_refused_start_moved_bytes tests/stress/repro/repro_refused_start_moved_bytes.c
 *        -L target/release -lqsoasync -Wl,-rpath,$PWD/target/release
 * Exit status 1 while the bug is there.
 *
 * What happens: a start call racing QsoDestroyIOCompletionPort returns -1/EINVAL ("nothing
 * started") after its try-first attempt already moved bytes: a fill receive that consumed the
 * bytes waiting on the socket (they are lost), or a send that wrote part of its buffer. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "qsoasync.h"

static atomic_int go, port_g;
static void *destroyer(void *a) {
  (void)a;
  while (!atomic_load(&go)) {}
  for (volatile int i = 0; i < (int)(random() % 3000); i++) {
  }
  QsoDestroyIOCompletionPort(atomic_load(&port_g));
  return NULL;
}
int main(void) {
  int lost_recv = 0, moved_send = 0, refused = 0, rounds = 20000;
  static char big[1 << 20];
  for (int r = 0; r < rounds; r++) {
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int port = QsoCreateIOCompletionPort();
    atomic_store(&port_g, port);
    send(sv[1], "0123456789", 10, 0); /* 10 bytes wait for a 100-byte fill receive */
    int sndbuf = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    pthread_t t;
    atomic_store(&go, 0);
    pthread_create(&t, NULL, destroyer, NULL);
    char buf[100];
    Qso_OverlappedIO_t io; memset(&io, 0, sizeof io);
    io.buffer = buf; io.bufferLength = sizeof buf; io.fillBuffer = 1;
    Qso_OverlappedIO_t so; memset(&so, 0, sizeof so);
    so.buffer = big; so.bufferLength = sizeof big; /* more than the socket takes: partial */
    atomic_store(&go, 1);
    errno = 0;
    int rc = QsoStartRecv(sv[0], port, &io);
    int e = errno;
    int rs = QsoStartSend(sv[0], port, &so);
    int es = errno;
    pthread_join(t, NULL);
    if (rc == -1 && e == EINVAL) {
      refused++;
      char chk[16];
      ssize_t n = recv(sv[0], chk, sizeof chk, MSG_DONTWAIT);
      if (n != 10) {
        if (lost_recv < 3) printf("round %d: QsoStartRecv returned -1 EINVAL, but the 10 waiting bytes are gone (recv now %zd)\n", r, n);
        lost_recv++;
      }
    }
    if (rs == -1 && es == EINVAL) {
      char chk[65536];
      ssize_t n = recv(sv[1], chk, sizeof chk, MSG_DONTWAIT);
      if (n > 0) {
        if (moved_send < 3) printf("round %d: QsoStartSend returned -1 EINVAL, but the peer received %zd of its bytes\n", r, n);
        moved_send++;
      }
    }
    close(sv[0]); close(sv[1]);
  }
  printf("%d rounds: %d refused receives lost their bytes, %d refused sends had sent bytes (%d receives refused)\n", rounds, lost_recv, moved_send, refused);
  return lost_recv || moved_send;
}
