#!/usr/bin/env bash
# The GSK calls against a real, independent TLS implementation (Debian's openssl):
#   * build/tls_echo_server (c-examples, asynchronous and synchronous handshake, keyring file
#     or application id) answered by `openssl s_client` over TLS 1.2 and TLS 1.3;
#   * build/gsk_client (tests/gsk_client.c, synchronous and asynchronous) against
#     `openssl s_server -rev`, over TLS 1.2 and 1.3, and against an expired certificate.
# Needs the test certificates in $QSO_GSK_CERTS (default build/gsk-certs; tests/gsk_test.sh
# makes them) and build/tls_echo_server (`make examples`). Every program runs under `timeout`.
# Ends with "gsk-openssl: N passed, M failed"; exit status non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
CERTS=${QSO_GSK_CERTS:-build/gsk-certs}
LOGS=build/gsk-openssl
SERVER=build/tls_echo_server
CLIENT=build/gsk_client
mkdir -p "$LOGS"
passed=0
failed=0
check() {
  if [ "$2" -eq 1 ]; then passed=$((passed + 1)); echo "PASS $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}

if ! command -v openssl >/dev/null; then
  echo "openssl is missing"; echo "gsk-openssl: 0 passed, 1 failed"; exit 1
fi
${CC:-gcc} -std=gnu11 -O1 -g -Wall -Wextra -Werror -I include -o "$CLIENT" tests/gsk_client.c \
  -L target/release -lqsoasync -pthread -Wl,-rpath,"$PWD/target/release" ||
  { echo "gsk-openssl: 0 passed, 1 failed"; exit 1; }
[ -x "$SERVER" ] || { echo "$SERVER is missing: run make first"; echo "gsk-openssl: 0 passed, 1 failed"; exit 1; }

# wait_for LOG PATTERN: up to 5 s for a line; prints the matching line.
wait_for() {
  for _ in $(seq 1 100); do
    grep -m1 "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# server_case NAME S_CLIENT_PROTOCOL SERVER_ARGS...: tls_echo_server (one connection) answered
# by openssl s_client, which must verify the server and get its line back.
server_case() {
  local name=$1 proto=$2 slog="$LOGS/$1.server.log" clog="$LOGS/$1.client.log" ok=1 port
  shift 2
  rm -f "$slog" "$clog" # wait_for must not find a line of an earlier run
  timeout -k 5 30 "$SERVER" -p 0 -n 1 -T 25 -t 2 "$@" >"$slog" 2>&1 &
  local pid=$!
  port=$(wait_for "$slog" "^listening on" | sed -n 's/^listening on 127.0.0.1:\([0-9]*\).*/\1/p')
  if [ -z "$port" ]; then
    echo "  server did not start"; sed 's/^/    /' "$slog"; kill "$pid" 2>/dev/null; wait "$pid"
    check "$name" 0; return
  fi
  (printf 'hello over %s\n' "$proto"; sleep 1) |
    timeout -k 5 15 openssl s_client -connect "127.0.0.1:$port" -CAfile "$CERTS/ca.crt" \
      -verify_return_error -servername localhost "$proto" >"$clog" 2>&1
  wait "$pid"
  local src=$?
  grep -qx "hello over $proto" "$clog" || { echo "  s_client did not get its line back"; ok=0; }
  grep -q "Verification: OK\|Verify return code: 0 (ok)" "$clog" || { echo "  s_client did not verify the server"; ok=0; }
  [ "$src" -eq 0 ] || { echo "  server exit $src"; ok=0; }
  grep -q "^tls_echo_server: 1 connections served (0 ended by an error)" "$slog" ||
    { echo "  server summary is not one clean connection"; ok=0; }
  [ "$ok" -eq 1 ] || sed 's/^/    /' "$slog" "$clog" | tail -30
  check "$name" "$ok"
}

# client_case NAME EXPECT CERT KEY S_SERVER_PROTOCOL CLIENT_ARGS...: build/gsk_client against
# openssl s_server -rev; EXPECT is a line the client must print.
client_case() {
  local name=$1 expect=$2 cert=$3 key=$4 proto=$5 slog="$LOGS/$1.server.log" clog="$LOGS/$1.client.log" ok=1 port
  shift 5
  rm -f "$slog" "$clog"
  timeout -k 5 20 openssl s_server -accept 127.0.0.1:0 -cert "$CERTS/$cert" -key "$CERTS/$key" \
    -rev -naccept 1 "$proto" >"$slog" 2>&1 &
  local pid=$!
  port=$(wait_for "$slog" "^ACCEPT" | sed -n 's/^ACCEPT 127.0.0.1:\([0-9]*\).*/\1/p')
  if [ -z "$port" ]; then
    echo "  s_server did not start"; sed 's/^/    /' "$slog"; kill "$pid" 2>/dev/null; wait "$pid"
    check "$name" 0; return
  fi
  timeout -k 5 15 "$CLIENT" -p "$port" -k "$CERTS/ca.pem" "$@" >"$clog" 2>&1
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  grep -qxF "$expect" "$clog" || { echo "  client said:"; sed 's/^/    /' "$clog"; ok=0; }
  check "$name" "$ok"
}

echo "== tls_echo_server answered by openssl s_client"
server_case async-tls13 -tls1_3 -k "$CERTS/server.pem"
server_case async-tls12 -tls1_2 -k "$CERTS/server.pem"
server_case sync-tls13 -tls1_3 -s -k "$CERTS/server.pem"
server_case sync-tls12 -tls1_2 -s -k "$CERTS/server.pem"
QSOASYNC_APPID_DIR="$CERTS/appid" server_case appid-tls13 -tls1_3 -a QSOASYNC_TEST

echo "== gsk_client against openssl s_server -rev"
client_case client-sync-tls13 "reply: kcab dna erehT" server.crt server.key -tls1_3 -n localhost -m "There and back"
client_case client-sync-tls12 "reply: kcab dna erehT" server.crt server.key -tls1_2 -n localhost -m "There and back"
client_case client-async-tls13 "reply: kcab dna erehT" server.crt server.key -tls1_3 -a -n localhost -m "There and back"
client_case client-async-tls12 "reply: kcab dna erehT" server.crt server.key -tls1_2 -a -m "There and back"
client_case client-protocol-12 "protocol: TLSv1.2" server.crt server.key -tls1_2 -a -2 -m "x" -n localhost
client_case client-expired "error: 401 A certificate is expired or not yet valid (handshake)" expired.crt expired.key -tls1_3 -a
client_case client-untrusted "error: 6000 The certificate is not signed by a trusted authority (handshake)" untrusted.crt untrusted.key -tls1_2

echo "gsk-openssl: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
