#!/usr/bin/env bash
# Checks that include/qsoasync.h compiles cleanly (spec §1) as C99, C11 and GNU17 with
# -Wall -Wextra -pedantic -Werror and as C++11, that its prototypes, types and constants are
# IBM's, and that an IBM i style program using "pthread.h" from include/ibmi (spec §2) builds
# with nothing but -I flags and runs. Last line: "header: N passed, M failed"; exit status is
# non-zero when anything failed.
#   tests/header_compile.sh          Environment: CC (default gcc), CXX (default g++).
set -u
cd "$(dirname "$0")/.."
CC=${CC:-gcc}
CXX=${CXX:-g++}
OUT=build/header-check
mkdir -p "$OUT"
passed=0
failed=0

ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }

# A translation unit that uses every name of the header. The function pointers pin each
# prototype to IBM's exact signature: a mismatch is a compile error (or a -Werror warning).
cat >"$OUT/use_header.c" <<'EOF'
#include "qsoasync.h"

typedef char size_is_112[sizeof(Qso_OverlappedIO_t) == 112 ? 1 : -1];

int (*p_create)(void) = QsoCreateIOCompletionPort;
int (*p_destroy)(int) = QsoDestroyIOCompletionPort;
int (*p_wait)(int, Qso_OverlappedIO_t *, struct timeval *) = QsoWaitForIOCompletion;
int (*p_recv)(int, int, Qso_OverlappedIO_t *) = QsoStartRecv;
int (*p_send)(int, int, Qso_OverlappedIO_t *) = QsoStartSend;
int (*p_accept)(int, int, Qso_OverlappedIO_t *) = QsoStartAccept;
int (*p_post)(int, Qso_OverlappedIO_t *) = QsoPostIOCompletion;
unsigned long long (*p_gen)(int) = QsoGenerateOperationId;
int (*p_pending)(int, unsigned long long) = QsoIsOperationPending;
int (*p_cancel)(int, unsigned long long) = QsoCancelOperation;

int codes[] = {QSOSTARTSEND, QSOSTARTRECV, QSOPOSTIOCOMPLETION, GSKSECURESOCSTARTSEND,
               GSKSECURESOCSTARTRECV, QSOSTARTACCEPT, GSKSECURESOCSTARTINIT,
               QSO_MAX_IOCOMPLETION_PORTS, ECLOSED, EDESTROYED, ETRUNC, EUNKNOWN, ECANCELED};

int use_record(Qso_OverlappedIO_t *io);
int use_record(Qso_OverlappedIO_t *io) {
  Qso_DescriptorHandle_t h = io->descriptorHandle;
  io->postFlag = 1;
  io->fillBuffer = 0;
  io->postFlagResult = 0;
  io->reserved1 = 0;
  io->operationWaitTime.tv_sec = 0;
  io->operationWaitTime.tv_usec = 0;
  io->reserved2[0] = 0;
  io->operationId = 1ULL;
  return (h != 0) + io->returnValue + io->errnoValue + io->operationCompleted +
         io->secureDataTransferSize + (int)io->bytesAvailable + io->postedDescriptor +
         (int)io->bufferLength + (io->buffer != 0);
}
EOF
cp "$OUT/use_header.c" "$OUT/use_header.cpp"

# Included twice (guard), and first, before any other header.
printf '#include "qsoasync.h"\n#include "qsoasync.h"\nint twice;\n' >"$OUT/twice.c"

for std in c99 c11 gnu17; do
  if $CC -std=$std -Wall -Wextra -pedantic -Werror -I include -c "$OUT/use_header.c" \
       -o "$OUT/use_header_$std.o" 2>"$OUT/use_header_$std.log" &&
     $CC -std=$std -Wall -Wextra -pedantic -Werror -I include -c "$OUT/twice.c" \
       -o "$OUT/twice_$std.o" 2>>"$OUT/use_header_$std.log"; then
    ok "C $std -Wall -Wextra -pedantic -Werror"
  else
    bad "C $std -Wall -Wextra -pedantic -Werror"
    cat "$OUT/use_header_$std.log"
  fi
done

if $CXX -std=c++11 -Wall -Wextra -pedantic -Werror -I include -c "$OUT/use_header.cpp" \
     -o "$OUT/use_header_cxx.o" 2>"$OUT/use_header_cxx.log"; then
  ok "C++ c++11 -Wall -Wextra -pedantic -Werror"
else
  bad "C++ c++11 -Wall -Wextra -pedantic -Werror"
  cat "$OUT/use_header_cxx.log"
fi

# C++ links against the C library with C linkage (extern "C"): a link error would show
# mangled names.
cat >"$OUT/cxx_link.cpp" <<'EOF'
#include "qsoasync.h"
int main() {
  int port = QsoCreateIOCompletionPort();
  if (port < 0) return 1;
  Qso_OverlappedIO_t io = Qso_OverlappedIO_t();
  io.operationId = 7;
  if (QsoPostIOCompletion(port, &io) != 0) return 2;
  Qso_OverlappedIO_t st;
  struct timeval tv = {1, 0};
  if (QsoWaitForIOCompletion(port, &st, &tv) != 1) return 3;
  if (st.operationId != 7 || st.operationCompleted != QSOPOSTIOCOMPLETION) return 4;
  return QsoDestroyIOCompletionPort(port) == 0 ? 0 : 5;
}
EOF
if $CXX -std=c++11 -Wall -Wextra -pedantic -Werror -I include -o "$OUT/cxx_link" \
     "$OUT/cxx_link.cpp" -L target/release -lqsoasync -pthread \
     -Wl,-rpath,"$PWD/target/release" 2>"$OUT/cxx_link.log" && "$OUT/cxx_link"; then
  ok "C++ program links and runs (extern \"C\")"
else
  bad "C++ program links and runs (extern \"C\") (status $?)"
  cat "$OUT/cxx_link.log"
fi

# An IBM i style program: _MULTI_THREADED, "pthread.h", pthread_id_np_t, .intId.lo,
# __INT and __VOID. Built with -I flags and -lqsoasync (default dialect, gnu99, c99 -pedantic),
# then run.
cat >"$OUT/ibmi_pthread.c" <<'EOF'
#define _GNU_SOURCE /* for syscall(SYS_gettid) in this check itself */
#define _MULTI_THREADED
#include "pthread.h"
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "qsoasync.h"

static void *worker(void *parm) {
  int n = __INT(parm);
  pthread_id_np_t tid = pthread_getthreadid_np();
  printf("thread %.8x %.8x got %d\n", tid.intId.hi, tid.intId.lo, n);
  if (tid.intId.lo != (unsigned int)syscall(SYS_gettid))
    return __VOID(-1);
  return __VOID(n + 1);
}

int main(void) {
  pthread_t t;
  void *status = NULL;
  pthread_id_np_t me = pthread_getthreadid_np();
  if (pthread_create(&t, NULL, worker, __VOID(41)) != 0)
    return 1;
  if (pthread_join(t, &status) != 0)
    return 2;
  if (__INT(status) != 42)
    return 3;
  if (me.intId.lo != (unsigned int)getpid()) /* the main thread's id is the process id */
    return 4;
  return 0;
}
EOF
for std in default gnu99 c99; do
  flag=""
  [ "$std" != default ] && flag="-std=$std -pedantic"
  if $CC $flag -Wall -Wextra -Werror -I include/ibmi -I include -o "$OUT/ibmi_pthread_$std" \
       "$OUT/ibmi_pthread.c" -L target/release -lqsoasync -pthread \
       -Wl,-rpath,"$PWD/target/release" 2>"$OUT/ibmi_pthread_$std.log" &&
     "$OUT/ibmi_pthread_$std" >>"$OUT/ibmi_pthread_$std.log"; then
    ok "IBM i pthread.h program ($std) builds and runs"
  else
    bad "IBM i pthread.h program ($std) builds and runs"
    cat "$OUT/ibmi_pthread_$std.log"
  fi
done

echo "header: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
