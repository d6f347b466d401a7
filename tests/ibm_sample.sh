#!/usr/bin/env bash
# Builds IBM's own sample server (shared/ibm-samples/async_io_server.c) unchanged against the
# library, starts it, sends a message as a client, checks the echo and that the server ends
# with "Success.". Usage: tests/ibm_sample.sh [path-to-shared]
set -u
cd "$(dirname "$0")/.."
SHARED=${1:-../shared}
SRC="$SHARED/ibm-samples/async_io_server.c"
if [ ! -f "$SRC" ]; then
  echo "ibm-sample: skipped ($SRC is absent)"
  exit 0
fi
mkdir -p build
CC=${CC:-gcc}
$CC -O2 -fno-strict-aliasing -I include/ibmi -I include -o build/async_io_server "$SRC" \
  -L target/release -lqsoasync -pthread -Wl,-rpath,"$PWD/target/release" || {
  echo "ibm-sample: 0 passed, 1 failed (build)"; exit 1; }

log=build/async_io_server.log
timeout 20 ./build/async_io_server >"$log" 2>&1 &
server=$!
# The sample listens on port 12345 (its SERVPORT); wait until it does.
for _ in $(seq 1 100); do
  grep -q "Waiting for client connection" "$log" 2>/dev/null && break
  sleep 0.05
done
msg="Hello from the qsoasync client $$"
echo_back=$(python3 - "$msg" <<'PY'
import socket, sys
msg = sys.argv[1].encode()
s = socket.create_connection(("127.0.0.1", 12345), timeout=10)
s.sendall(msg)
got = b""
while len(got) < len(msg):
    chunk = s.recv(100)
    if not chunk:
        break
    got += chunk
print(got.decode(errors="replace"))
PY
)
wait "$server"; rc=$?
cat "$log"
if [ "$echo_back" = "$msg" ] && [ $rc -eq 0 ] && grep -q '^Success\.$' "$log"; then
  echo "client got its echo: \"$echo_back\""
  echo "ibm-sample: 1 passed, 0 failed"
else
  echo "echo was \"$echo_back\", server exit $rc"
  echo "ibm-sample: 0 passed, 1 failed"
  exit 1
fi
