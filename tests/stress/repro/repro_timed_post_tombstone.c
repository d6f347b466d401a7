/* tests/stress/repro/repro_timed_post_tombstone.c - minimal reproduction.
 * Bug: a timed post on a just-opened socket is posted at once with ECLOSED (close tombstone of the number).
 * Build: gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -pthread -I include -o build/repro_timed_post_tombstone tests/stress/repro/repro_timed_post_tombstone.c
 *        -L target/release -lqsoasync -Wl,-rpath,$PWD/target/release
 * Exit status 1 while the bug is there.
 *
 * What happens: a timed QsoPostIOCompletion tied to a socket that was just opened is
 * posted at once with -1/ECLOSED, although that socket is open: close() of the descriptor's
 * previous holder (another thread) keeps a closed "tombstone" entry in the table until after
 * the close system call returns, and start_timed_post() takes that tombstone for the new socket
 * (start() checks the file identity and retries; start_timed_post() does not). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "qsoasync.h"

static atomic_int stop;
static void *churn(void *a) {
  (void)a;
  while (!atomic_load(&stop)) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    close(s); /* through the library's close hook */
  }
  return NULL;
}
int main(void) {
  int port = QsoCreateIOCompletionPort();
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, churn, NULL);
  int bad = 0, rounds = 200000;
  for (int r = 0; r < rounds && bad < 1000; r++) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    Qso_OverlappedIO_t io; memset(&io, 0, sizeof io);
    io.operationWaitTime.tv_sec = 5;
    io.postedDescriptor = s;
    io.operationId = (unsigned long long)r + 1;
    if (QsoPostIOCompletion(port, &io) != 0) { printf("post failed: %d\n", errno); return 2; }
    Qso_OverlappedIO_t st; struct timeval tv = {0, 0};
    if (QsoWaitForIOCompletion(port, &st, &tv) == 1) {
      if (fcntl(s, F_GETFD) >= 0 && st.errnoValue == ECLOSED) {
        if (bad < 3) printf("round %d: timed post on open socket %d completed at once with errno %d (ECLOSED)\n", r, s, st.errnoValue);
        bad++;
      }
    } else
      QsoCancelOperation(s, (unsigned long long)r + 1);
    close(s);
    /* drain the cancellation */
    while (QsoWaitForIOCompletion(port, &st, &tv) == 1) {}
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  printf("%d timed posts on open sockets were posted at once with ECLOSED\n", bad);
  return bad != 0;
}
