/* tests/stress/repro/repro_wait_errno_after_destroy.c - minimal reproduction.
 * Suspected: errno of a wait ended by destroy clobbered (EAGAIN) when the waiter drops the last port reference.
 * Build: gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -pthread -I include -o build/repro_wait_errno_after_destroy tests/stress/repro/repro_wait_errno_after_destroy.c
 *        -L target/release -lqsoasync -Wl,-rpath,$PWD/target/release
 * Exit status 1 while the bug is there.
 *
 * What happens: a waiter released by QsoDestroyIOCompletionPort returns -1 but errno is
 * not EDESTROYED (EAGAIN) when it drops the last reference of the port while other threads
 * contend for the library's descriptor table. */
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

static atomic_int stop;
static int busy_sd;
static void *hammer(void *a) {
  (void)a;
  while (!atomic_load(&stop))
    QsoIsOperationPending(busy_sd, 1); /* takes the descriptor table's lock */
  return NULL;
}
struct w { int port, rc, err; };
static void *waiter(void *a) {
  struct w *w = a;
  Qso_OverlappedIO_t st;
  errno = 0;
  w->rc = QsoWaitForIOCompletion(w->port, &st, NULL);
  w->err = errno;
  return NULL;
}
int main(void) {
  int sv[2], bv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, bv);
  busy_sd = bv[0];
  pthread_t h[2];
  for (int i = 0; i < 2; i++) pthread_create(&h[i], NULL, hammer, NULL);
  int bad = 0, rounds = 3000;
  for (int r = 0; r < rounds; r++) {
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int port = QsoCreateIOCompletionPort();
    char buf[16];
    Qso_OverlappedIO_t io; memset(&io, 0, sizeof io);
    io.buffer = buf; io.bufferLength = sizeof buf;
    QsoStartRecv(sv[0], port, &io); /* pending: the port now has an engine (epoll, eventfd) */
    struct w w = {port, 0, 0};
    pthread_t t;
    pthread_create(&t, NULL, waiter, &w);
    usleep(1000);
    QsoDestroyIOCompletionPort(port);
    pthread_join(t, NULL);
    if (w.rc != -1 || (w.err != EDESTROYED && w.err != EINVAL)) {
      if (bad < 5) printf("round %d: wait returned %d errno %d (%s), expected -1 EDESTROYED\n", r, w.rc, w.err, strerror(w.err));
      bad++;
    }
    close(sv[0]); close(sv[1]);
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++) pthread_join(h[i], NULL);
  printf("%d of %d waits ended by destroy had an errno other than EDESTROYED (or EINVAL if the wait began late)\n", bad, rounds); if (0) printf("%d of %d waits released by destroy had the wrong errno\n", bad, rounds);
  return bad != 0;
}
