#!/usr/bin/env bash
# bench/run.sh - builds and runs the benchmarks of issue 5 and prints one table (markdown) with
# the library's figures, the baselines measured in the same run, and the ratios to the goals.
#
#   bench/run.sh              (make bench)
#
# Environment:
#   BENCH_REPS=3        rounds of the echo comparison (library, epoll, libuv, io_uring
#                       interleaved);
#                       the table shows medians
#   BENCH_DURATION=2    measured seconds per echo run (after BENCH_WARMUP=0.5 s of warm-up)
#   BENCH_QUICK=1       a short smoke run (1 round, 0.5 s runs, fewer timer runs)
#   BENCH_NO_SYSCALLS=1 skip the separate system-call counting runs
#
# Everything runs on 127.0.0.1; every program stops by itself (time limits). Nothing here is a
# pass/fail test: the table says where each goal stands. Output: the table on stdout, also in
# build/bench/table.md; every raw figure in build/bench/raw.txt; servers' output in
# build/bench/logs/.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/build/bench
RAW=$OUT/raw.txt
LOGS=$OUT/logs
mkdir -p "$OUT" "$LOGS"
: > "$RAW"

REPS=${BENCH_REPS:-3}
DUR=${BENCH_DURATION:-2}
WARM=${BENCH_WARMUP:-0.5}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
  REPS=1
  DUR=0.5
  WARM=0.2
fi
CC=${CC:-gcc}
CFLAGS="-O2 -g -Wall -Wextra -Werror -std=gnu11"
# The programs run a private copy of the library taken right after the build, so that a rebuild
# of target/release during the run (others work in this tree too) cannot mix two versions.
LIBDIR=$OUT/lib
LINK="-L $LIBDIR -lqsoasync -pthread -Wl,-rpath,$LIBDIR"
T_START=$(date +%s)

say() { echo "bench: $*" >&2; }

# ---- build ----------------------------------------------------------------------------------
make -s lib >&2 || { say "make lib failed"; exit 1; }
mkdir -p "$LIBDIR"
cp -L "$ROOT/target/release/libqsoasync.so" "$LIBDIR/libqsoasync.so.0" || exit 1
ln -sf libqsoasync.so.0 "$LIBDIR/libqsoasync.so"
echo "library commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  "modified_sources=$(git status --porcelain -- src Cargo.toml 2>/dev/null | wc -l)" \
  "built=$(date -u -r "$LIBDIR/libqsoasync.so.0" +%Y-%m-%dT%H:%MZ)" >> "$RAW"
build() {
  local name=$1
  shift
  # shellcheck disable=SC2086
  $CC $CFLAGS -I include -o "$OUT/$name" "bench/$name.c" "$@" || { say "building $name failed"; exit 1; }
}
build handoff $LINK
build scale $LINK
build timers $LINK
build qso_echo_server $LINK
build epoll_echo_server -pthread
build loadgen -pthread
HAVE_UV=0
if echo '#include <uv.h>' | $CC -E -x c - >/dev/null 2>&1; then
  build uv_echo_server -luv && HAVE_UV=1
else
  say "libuv not found (Debian: apt-get install libuv1-dev): the libuv echo server is skipped"
  echo "note libuv=missing" >> "$RAW"
fi
HAVE_URING=0
if echo '#include <liburing.h>' | $CC -E -x c - >/dev/null 2>&1; then
  build uring_echo_server -luring -pthread && HAVE_URING=1
else
  say "liburing not found (Debian: apt-get install liburing-dev): the io_uring echo servers are skipped"
  echo "note liburing=missing" >> "$RAW"
fi
HAVE_PERF=0
if command -v perf >/dev/null 2>&1 && perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1; then
  HAVE_PERF=1
fi

# ---- servers ----------------------------------------------------------------------------------
SERVER_PID=
SERVER_PORT=
# start_server NAME CMD...: starts it (time limit 600 s), waits for its "listening" line.
start_server() {
  local name=$1 log
  shift
  log=$LOGS/$name.log
  "$@" -T 600 > "$log" 2>&1 &
  SERVER_PID=$!
  SERVER_PORT=
  for _ in $(seq 100); do
    SERVER_PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
    [ -n "$SERVER_PORT" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  say "$name did not start: $(cat "$log")"
  stop_server
  return 1
}
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  for _ in $(seq 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}
trap 'stop_server' EXIT

server_cmd() {
  case $1 in
    qso) echo "$OUT/qso_echo_server -t 2" ;;
    qso1) echo "$OUT/qso_echo_server -t 1" ;;
    epoll) echo "$OUT/epoll_echo_server" ;;
    epoll2) echo "$OUT/epoll_echo_server -t 2" ;;
    uv) echo "$OUT/uv_echo_server" ;;
    uring) echo "$OUT/uring_echo_server" ;;
    uring_shared) echo "$OUT/uring_echo_server -S" ;;
    uring_contract) echo "$OUT/uring_echo_server -S -C" ;;
  esac
}

# CPU time used so far by the server's threads, in ns (schedstat: time on a CPU), so that the
# CPU each server spends per message can be compared even when other work shares the machine.
server_cpu_ns() {
  cat /proc/"$SERVER_PID"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'
}

# echo_run SERVER CONNS SIZE REP
echo_run() {
  local srv=$1 c=$2 s=$3 rep=$4 line try cpu0=0 cpu1=0 total cpu_per_msg
  for try in 1 2; do
    # shellcheck disable=SC2046
    start_server "$srv" $(server_cmd "$srv") || return
    cpu0=$(server_cpu_ns)
    line=$("$OUT/loadgen" -p "$SERVER_PORT" -c "$c" -s "$s" -d "$DUR" -w "$WARM" 2>&1 | tail -n 1)
    cpu1=$(server_cpu_ns)
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      wait "$SERVER_PID"
      say "$srv ended early (status $?): $(tail -n 3 "$LOGS/$srv.log")"
    fi
    stop_server
    case $line in
      loadgen\ conns=*) break ;;
      *) say "echo $srv c=$c s=$s rep=$rep, try $try: $line" ;;
    esac
  done
  case $line in
    loadgen\ conns=*) ;;
    *) echo "echo.failed server=$srv rep=$rep conns=$c size=$s" >> "$RAW"; return ;;
  esac
  total=$(echo "$line" | sed -n 's/.* total=\([0-9]*\).*/\1/p')
  cpu_per_msg=$(awk -v a="$cpu0" -v b="$cpu1" -v t="$total" 'BEGIN { if (t > 0) printf "%.2f", (b - a) / t / 1000 }')
  line="$line server_cpu_us_per_msg=$cpu_per_msg"
  echo "echo server=$srv rep=$rep ${line#loadgen }" >> "$RAW"
  say "echo $srv c=$c s=$s rep=$rep: ${line#loadgen }"
}

# ---- 1. hand-off ------------------------------------------------------------------------------
say "hand-off"
"$OUT/handoff" -d "$([ "$QUICK" = 1 ] && echo 0.3 || echo 1)" -m all | tee -a "$RAW" >&2

# ---- 2. echo, interleaved ---------------------------------------------------------------------
SERVERS="qso epoll"
[ "$HAVE_UV" = 1 ] && SERVERS="$SERVERS uv"
[ "$HAVE_URING" = 1 ] && SERVERS="$SERVERS uring uring_shared uring_contract"
for rep in $(seq "$REPS"); do
  for c in 1 100 1000; do
    for s in 64 4096; do
      for srv in $SERVERS; do
        echo_run "$srv" "$c" "$s" "$rep"
      done
      # the matched pairs: the library with one worker against epoll with one thread (above),
      # and the library with two workers against epoll with two threads
      echo_run qso1 "$c" "$s" "$rep"
      echo_run epoll2 "$c" "$s" "$rep"
    done
  done
done

# ---- 2b. system calls per echoed message (separate runs: counting slows the server) ----------
if [ "${BENCH_NO_SYSCALLS:-0}" != 1 ]; then
  EVENTS=raw_syscalls:sys_enter
  for sc in recvfrom sendto read write epoll_wait epoll_pwait epoll_pwait2 epoll_ctl futex newfstatat \
            timerfd_settime io_uring_enter; do
    EVENTS="$EVENTS,syscalls:sys_enter_$sc"
  done
  for srv in $SERVERS; do
    for c in 1 100 1000; do
      # shellcheck disable=SC2046
      start_server "$srv" $(server_cmd "$srv") || continue
      # the load generator connects, says "connected" and pauses, runs, says "finished" and
      # pauses again: counting covers the messages only, not the set-up or the closing
      "$OUT/loadgen" -p "$SERVER_PORT" -c "$c" -s 64 -d 2 -w 0.2 -P 1 \
        > "$LOGS/loadgen.out" 2> "$LOGS/loadgen.err" &
      LOADGEN=$!
      for _ in $(seq 200); do
        grep -q connected "$LOGS/loadgen.err" 2>/dev/null && break
        kill -0 "$LOADGEN" 2>/dev/null || break
        sleep 0.05
      done
      if [ "$HAVE_PERF" = 1 ]; then
        perf stat -x, -o "$LOGS/perf.csv" -e "$EVENTS" -p "$SERVER_PID" 2>/dev/null &
        COUNTER=$!
      elif command -v strace >/dev/null 2>&1; then
        strace -c -f -o "$LOGS/strace.txt" -p "$SERVER_PID" 2>/dev/null &
        COUNTER=$!
      else
        say "neither perf nor strace: no system call counts"
        wait "$LOADGEN"
        stop_server
        break 2
      fi
      for _ in $(seq 400); do # until the last message (the closing of connections is left out)
        grep -q finished "$LOGS/loadgen.err" 2>/dev/null && break
        kill -0 "$LOADGEN" 2>/dev/null || break
        sleep 0.05
      done
      kill -INT "$COUNTER" 2>/dev/null
      wait "$COUNTER" 2>/dev/null
      wait "$LOADGEN"
      line=$(tail -n 1 "$LOGS/loadgen.out")
      stop_server
      total=$(echo "$line" | sed -n 's/.* total=\([0-9]*\).*/\1/p')
      if [ -z "$total" ] || [ "$total" -eq 0 ]; then
        say "syscalls $srv c=$c: no result ($line $(tail -n 2 "$LOGS/loadgen.err"))"
        continue
      fi
      if [ "$HAVE_PERF" = 1 ]; then
        detail=$(awk -F, -v t="$total" '$1+0 > 0 { n = $3; sub("syscalls:sys_enter_", "", n);
                   sub("raw_syscalls:sys_enter", "all", n); printf "%s=%.3f ", n, $1 / t }' \
                 "$LOGS/perf.csv")
        tool=perf
      else
        detail=$(awk -v t="$total" '$NF ~ /^[a-z_0-9]+$/ && $4+0 > 0 && NF >= 5 {
                   printf "%s=%.3f ", $NF, $4 / t; s += $4 } END { printf "all=%.3f", s / t }' \
                 "$LOGS/strace.txt")
        tool=strace
      fi
      echo "syscalls server=$srv conns=$c size=64 tool=$tool messages=$total $detail" >> "$RAW"
      say "syscalls $srv c=$c: $detail"
    done
  done
fi

# ---- 3. scale ---------------------------------------------------------------------------------
say "scale"
SD=$([ "$QUICK" = 1 ] && echo 0.5 || echo 1.5)
for rep in $(seq "$REPS"); do
  for n in 100 10000; do
    "$OUT/scale" -n "$n" -d "$SD" | sed "s/^scale /scale rep=$rep /" | tee -a "$RAW" >&2
  done
done
"$OUT/scale" -d "$SD" | sed "s/^scale /scale.max /" | tee -a "$RAW" >&2

# ---- 4. timers --------------------------------------------------------------------------------
say "timers"
"$OUT/timers" $([ "$QUICK" = 1 ] && echo -q) | tee -a "$RAW" >&2

echo "elapsed seconds=$(( $(date +%s) - T_START ))" >> "$RAW"

# ---- the table --------------------------------------------------------------------------------
python3 "$ROOT/bench/report.py" "$RAW" | tee "$OUT/table.md"
