#!/usr/bin/env bash
# Builds every tests/c/*.c against the library and runs them, two files at a time; each file runs
# its cases one per process with a timeout. Ends with the line "N passed, M failed".
#   tests/c/run.sh [file.c ...]     (default: all)
# Environment: CC, QSO_LIBDIR (default target/release), QSO_TEST_CFLAGS (extra flags, e.g.
# sanitizers), QSO_TEST_JOBS (default 2).
set -u
cd "$(dirname "$0")/../.."
CC=${CC:-gcc}
LIBDIR=${QSO_LIBDIR:-target/release}
OUT=build/tests/c${QSO_TEST_SUFFIX:-}
JOBS=${QSO_TEST_JOBS:-2}
mkdir -p "$OUT"
files=("$@")
[ ${#files[@]} -eq 0 ] && files=(tests/c/*.c)

build_fail=0
for f in "${files[@]}"; do
  name=$(basename "$f" .c)
  if ! $CC -std=gnu11 -O1 -g -Wall -Wextra -Werror -pthread -I include -I tests/c \
       ${QSO_TEST_CFLAGS:-} -o "$OUT/$name" "$f" -L "$LIBDIR" -lqsoasync \
       -Wl,-rpath,"$PWD/$LIBDIR"; then
    echo "BUILD FAIL $f"
    build_fail=$((build_fail + 1))
  fi
done

run_one() {
  local bin=$1 log="$1.log"
  "$bin" >"$log" 2>&1
  echo "== $(basename "$bin")"
  cat "$log"
  # A program that could not start (or died outside its cases) printed no summary: count it.
  grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$log" || echo "NO SUMMARY $(basename "$bin")"
}
export -f run_one
for f in "${files[@]}"; do echo "$OUT/$(basename "$f" .c)"; done |
  while read -r b; do [ -x "$b" ] && echo "$b"; done |
  xargs -P "$JOBS" -I{} bash -c 'run_one {}' | tee "$OUT/all.log" | grep -v '^ok '

passed=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT/all.log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT/all.log" | awk '{s+=$3} END {print s+0}')
no_summary=$(grep -c '^NO SUMMARY ' "$OUT/all.log")
failed=$((failed + build_fail + no_summary))
echo "c-suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
