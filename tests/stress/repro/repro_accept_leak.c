/* tests/stress/repro/repro_accept_leak.c - minimal reproduction.
 * Bug: an accepted socket whose completion is dropped by QsoDestroyIOCompletionPort is never closed.
 * Build: gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -pthread -I include -o build/repro_accept_leak tests/stress/repro/repro_accept_leak.c
 *        -L target/release -lqsoasync -Wl,-rpath,$PWD/target/release
 * Exit status 1 while the bug is there.
 *
 * What happens: an accept that completed at once with postFlag = 1 (its completion
 * waiting in the port's queue) is dropped by QsoDestroyIOCompletionPort, and the accepted
 * descriptor is never closed: a descriptor leak. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "qsoasync.h"
static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd"); int n = 0; struct dirent *e;
  while ((e = readdir(d))) if (e->d_name[0] != '.') n++;
  closedir(d); return n - 1;
}
int main(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a; memset(&a, 0, sizeof a);
  a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(l, (struct sockaddr *)&a, sizeof a); listen(l, 16); getsockname(l, (struct sockaddr *)&a, &len);
  int port0 = QsoCreateIOCompletionPort(); QsoDestroyIOCompletionPort(port0); /* warm the library */
  int before = count_fds();
  for (int i = 0; i < 10; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, sizeof a);
    int port = QsoCreateIOCompletionPort();
    Qso_OverlappedIO_t io; memset(&io, 0, sizeof io);
    io.postFlag = 1;
    int rc = QsoStartAccept(l, port, &io);   /* finishes at once: posted, returns 1 */
    if (rc != 1 || !io.postFlagResult) printf("start accept: rc %d postFlagResult %u\n", rc, io.postFlagResult);
    QsoDestroyIOCompletionPort(port);         /* the completion (with the new fd) is dropped */
    close(c);
  }
  int after = count_fds();
  printf("descriptors before %d, after 10 rounds %d: %d accepted sockets leaked\n", before, after, after - before);
  return after != before;
}
