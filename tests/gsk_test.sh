#!/usr/bin/env bash
# Everything GSK (`make gsk-test`): makes fresh test certificates, checks that gskssl.h compiles
# with IBM's prototypes, runs the GSK C suite
# (tests/c/gsk: each case in its own process) and the interoperability script against openssl
# (tests/gsk_openssl.sh). Builds nothing but the test programs: `make` first.
# Ends with "gsk-test: N passed, M failed"; exit status non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
export QSO_GSK_CERTS=${QSO_GSK_CERTS:-build/gsk-certs}
rm -rf "$QSO_GSK_CERTS"
if ! tests/gsk_certs.sh "$QSO_GSK_CERTS"; then
  echo "gsk-test: 0 passed, 1 failed"
  exit 1
fi

# gskssl.h compiles cleanly as C99, C11 and C++11, and its prototypes are IBM's (the function
# pointers pin each signature: a mismatch is an error).
mkdir -p build/gsk-header
cat >build/gsk-header/use_gskssl.c <<'X'
#include "gskssl.h"
#include "gskssl.h"
int (*p_eopen)(gsk_handle *) = gsk_environment_open;
int (*p_einit)(gsk_handle) = gsk_environment_init;
int (*p_eclose)(gsk_handle *) = gsk_environment_close;
int (*p_setb)(gsk_handle, GSK_BUF_ID, const char *, int) = gsk_attribute_set_buffer;
int (*p_getb)(gsk_handle, GSK_BUF_ID, const char **, int *) = gsk_attribute_get_buffer;
int (*p_sete)(gsk_handle, GSK_ENUM_ID, GSK_ENUM_VALUE) = gsk_attribute_set_enum;
int (*p_gete)(gsk_handle, GSK_ENUM_ID, GSK_ENUM_VALUE *) = gsk_attribute_get_enum;
int (*p_setn)(gsk_handle, GSK_NUM_ID, int) = gsk_attribute_set_numeric_value;
int (*p_getn)(gsk_handle, GSK_NUM_ID, int *) = gsk_attribute_get_numeric_value;
int (*p_sopen)(gsk_handle, gsk_handle *) = gsk_secure_soc_open;
int (*p_sinit)(gsk_handle) = gsk_secure_soc_init;
int (*p_read)(gsk_handle, char *, int, int *) = gsk_secure_soc_read;
int (*p_write)(gsk_handle, char *, int, int *) = gsk_secure_soc_write;
int (*p_sclose)(gsk_handle *) = gsk_secure_soc_close;
int (*p_misc)(gsk_handle, GSK_MISC_ID) = gsk_secure_soc_misc;
int (*p_sinit_a)(gsk_handle, int, Qso_OverlappedIO_t *) = gsk_secure_soc_startInit;
int (*p_recv_a)(gsk_handle, int, Qso_OverlappedIO_t *) = gsk_secure_soc_startRecv;
int (*p_send_a)(gsk_handle, int, Qso_OverlappedIO_t *) = gsk_secure_soc_startSend;
const char *(*p_strerror)(int) = gsk_strerror;
int codes[] = {GSK_OK, GSK_ERROR_IO, GSK_OS400_ASYNCHRONOUS_RECV, GSK_AS400_ASYNCHRONOUS_SEND,
               GSK_IBMI_ASYNCHRONOUS_SOC_INIT, GSK_OS400_ERROR_TIMED_OUT, GSKSECURESOCSTARTRECV};
X
cp build/gsk-header/use_gskssl.c build/gsk-header/use_gskssl.cpp
header_fail=0
for std in c99 c11; do
  ${CC:-gcc} -std=$std -Wall -Wextra -pedantic -Werror -I include -c \
    -o build/gsk-header/use_gskssl_$std.o build/gsk-header/use_gskssl.c || header_fail=1
done
${CXX:-g++} -std=c++11 -Wall -Wextra -pedantic -Werror -I include -c \
  -o build/gsk-header/use_gskssl_cpp.o build/gsk-header/use_gskssl.cpp || header_fail=1
if [ "$header_fail" -eq 0 ]; then echo "ok   gskssl.h compiles (c99, c11, c++11)"; else echo "FAIL gskssl.h compiles"; fi

tests/c/run.sh tests/c/gsk/*.c | tee build/gsk-suite.log
tests/gsk_openssl.sh | tee build/gsk-openssl.log
sum() { grep -E "^$1: [0-9]+ passed, [0-9]+ failed$" "$2" | awk -v f="$3" '{print $f}'; }
p=$(( $(sum c-suite build/gsk-suite.log 2) + $(sum gsk-openssl build/gsk-openssl.log 2) + 1 - header_fail ))
f=$(( $(sum c-suite build/gsk-suite.log 4) + $(sum gsk-openssl build/gsk-openssl.log 4) + header_fail ))
echo "gsk-test: $p passed, $f failed"
[ "$f" -eq 0 ]
