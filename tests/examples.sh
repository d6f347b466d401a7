#!/usr/bin/env bash
# Runs the C examples end to end: build/echo_server answering build/echo_client, in several
# shapes (worker threads, connections, messages, message size), plus a stop by SIGTERM.
# Builds nothing: `make` (or `make examples`) builds them first.
# Each case passes when both programs exit 0, the client printed its "ok:" line, and the server
# echoed exactly connections x messages x size bytes with no connection ending in an error.
# Ends with the line "examples: N passed, M failed"; exits non-zero when any case failed.
#   tests/examples.sh
set -u
cd "$(dirname "$0")/.."
SERVER=build/echo_server
CLIENT=build/echo_client
LOGS=build/examples-test
mkdir -p "$LOGS"

passed=0
failed=0
# A port per attempt, starting at an "ephemeral-ish" one that differs between concurrent runs.
next_port=$((20000 + $$ % 1000))

if [ ! -x "$SERVER" ] || [ ! -x "$CLIENT" ]; then
  echo "$SERVER or $CLIENT is missing: run make first"
  echo "examples: 0 passed, 1 failed"
  exit 1
fi

server_pid=
port=
# start_server LOG ARGS...: starts the server on a free port (retrying when the port is busy)
# and waits until it listens. Sets server_pid and port; returns non-zero when it cannot.
start_server() {
  local log=$1 attempt
  shift
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$next_port
    next_port=$((next_port + 1))
    timeout -k 5 60 "$SERVER" -p "$port" -T 50 "$@" >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do # at most 5 s
      grep -q "^listening on 127.0.0.1:$port " "$log" && return 0
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.05
    done
    if ! kill -0 "$server_pid" 2>/dev/null && grep -q "Address already in use" "$log"; then
      wait "$server_pid"
      continue # busy port: try the next one
    fi
    echo "  server did not start listening (attempt $attempt):"
    sed 's/^/    /' "$log"
    kill "$server_pid" 2>/dev/null
    wait "$server_pid"
    return 1
  done
  echo "  no free port found"
  return 1
}

# check NAME OK: counts and reports one case.
check() {
  if [ "$2" -eq 1 ]; then
    passed=$((passed + 1))
    echo "PASS $1"
  else
    failed=$((failed + 1))
    echo "FAIL $1"
  fi
}

# echo_case NAME THREADS CONNECTIONS MESSAGES SIZE: the server stops by itself after
# CONNECTIONS connections (-n); the client verifies every echo.
echo_case() {
  local name=$1 threads=$2 conns=$3 msgs=$4 size=$5
  local slog="$LOGS/$name.server.log" clog="$LOGS/$name.client.log" ok=1 crc src
  echo "== $name: $threads worker threads, $conns connections x $msgs messages x $size bytes"
  if ! start_server "$slog" -t "$threads" -n "$conns"; then
    check "$name" 0
    return
  fi
  timeout -k 5 60 "$CLIENT" -p "$port" -c "$conns" -m "$msgs" -s "$size" >"$clog" 2>&1
  crc=$?
  # A failed client may leave the server short of its -n connections: stop it now.
  [ "$crc" -eq 0 ] || kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid" # bounded: the server runs under timeout (-T 50, TERM at 60 s, KILL at 65 s)
  src=$?
  sed 's/^/  /' "$clog" "$slog"
  local want_line="ok: $conns connections x $msgs messages verified"
  local want_bytes=$((conns * msgs * size))
  [ "$crc" -eq 0 ] || { echo "  client exit $crc"; ok=0; }
  [ "$src" -eq 0 ] || { echo "  server exit $src"; ok=0; }
  grep -qx "$want_line" "$clog" || { echo "  client did not print \"$want_line\""; ok=0; }
  grep -q "^echo_server: $conns connections served (0 ended by an error, 0 cut short), [0-9]* receives, $want_bytes bytes echoed$" "$slog" ||
    { echo "  server summary is not $conns clean connections and $want_bytes bytes"; ok=0; }
  check "$name" "$ok"
}

# signal_case: a server without -n serves a client, then stops cleanly on SIGTERM.
signal_case() {
  local name=sigterm slog="$LOGS/sigterm.server.log" clog="$LOGS/sigterm.client.log" ok=1
  local crc src
  echo "== $name: a server without -n stops cleanly on SIGTERM"
  if ! start_server "$slog" -t 2; then
    check "$name" 0
    return
  fi
  timeout -k 5 60 "$CLIENT" -p "$port" -c 3 -m 20 -s 100 >"$clog" 2>&1
  crc=$?
  kill -TERM "$server_pid" 2>/dev/null # timeout passes it on to the server
  wait "$server_pid"
  src=$?
  sed 's/^/  /' "$clog" "$slog"
  [ "$crc" -eq 0 ] || { echo "  client exit $crc"; ok=0; }
  [ "$src" -eq 0 ] || { echo "  server exit $src"; ok=0; }
  grep -q "^echo_server: stopped by signal 15$" "$slog" || { echo "  no stop by signal"; ok=0; }
  # The signal may come before the server has seen the client's last close: such a connection
  # counts as "cut short", which a stop by signal allows.
  grep -q "^echo_server: 3 connections served (0 ended by an error, [0-3] cut short), [0-9]* receives, 6000 bytes echoed$" "$slog" ||
    { echo "  server summary is not 3 clean connections and 6000 bytes"; ok=0; }
  check "$name" "$ok"
}

echo_case defaults 4 4 100 64
echo_case one-worker 1 8 300 7000
echo_case many-connections 8 64 100 1000
echo_case large-messages 4 2 5 1000000
signal_case

echo "examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
