#!/usr/bin/env bash
# tests/memcheck.sh - a representative part of the C suite under valgrind's memcheck (make memcheck).
#
# Builds tests/c/{post,wait,recv,send,accept,close,destroy,cancel,fill,ids,ports,bad_input}.c as
# run.sh does and runs each under
#   valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
#            --show-leak-kinds=definite --trace-children=yes
# with one log per process (the harness forks a process per case; valgrind follows forks).
# Then every report in every log is classified:
#   * any memory error (invalid read/write, uninitialised value, bad free, bad syscall
#     argument...) anywhere: failure;
#   * a definite leak whose allocation stack passes through libqsoasync: failure;
#   * a definite leak allocated by the test program itself with no library frame (a test that
#     never frees its own helper or buffer): listed as such, not counted against the library.
# A case that the harness reports failed is acceptable only when it failed with valgrind's exit
# code 99 and the only reports are the test program's own leaks (above); anything else fails.
# Not here: fork.c (the child of a fork keeps, unreachable, the parent's library state: a
# deliberate, bounded leak by design, see TESTING.md) and timers.c (timing tests; valgrind is
# 20-50x slower).
# Ends with "memcheck: N passed, M failed" (files). Environment: CC, QSO_LIBDIR, VALGRIND,
# QSO_MEMCHECK_FILES (names without .c), QSO_TEST_JOBS (default 2).
set -u
cd "$(dirname "$0")/.."
CC=${CC:-gcc}
LIBDIR=${QSO_LIBDIR:-target/release}
VALGRIND=${VALGRIND:-valgrind}
OUT=build/tests/c-memcheck
JOBS=${QSO_TEST_JOBS:-2}
FILES=(${QSO_MEMCHECK_FILES:-post wait recv send accept close destroy cancel fill ids ports bad_input})
SUPP=tests/valgrind.supp

if ! command -v "$VALGRIND" >/dev/null 2>&1; then
  echo "memcheck: valgrind not found (apt-get install valgrind)"
  echo "memcheck: 0 passed, 1 failed"
  exit 1
fi
rm -rf "$OUT"
mkdir -p "$OUT/logs"

build_fail=0
for name in "${FILES[@]}"; do
  if ! $CC -std=gnu11 -O1 -g -Wall -Wextra -Werror -pthread -I include -I tests/c \
       -o "$OUT/$name" "tests/c/$name.c" -L "$LIBDIR" -lqsoasync -Wl,-rpath,"$PWD/$LIBDIR"; then
    echo "BUILD FAIL tests/c/$name.c"
    build_fail=$((build_fail + 1))
  fi
done

supp_arg=()
[ -f "$SUPP" ] && supp_arg=(--suppressions="$SUPP")
export VALGRIND OUT
run_one() {
  local name=$1
  "$VALGRIND" -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite --trace-children=yes "${@:2}" \
    --log-file="$OUT/logs/$name.%p.vg" "$OUT/$name" >"$OUT/$name.log" 2>&1
  echo "== $name"
  cat "$OUT/$name.log"
}
export -f run_one
start=$(date +%s)
for name in "${FILES[@]}"; do [ -x "$OUT/$name" ] && echo "$name"; done |
  xargs -P "$JOBS" -I{} bash -c 'run_one {} "$@"' _ "${supp_arg[@]}" >"$OUT/all.log"
secs=$(( $(date +%s) - start ))

python3 - "$OUT" "$build_fail" "$secs" <<'EOF'
import glob, os, re, sys
out, build_fail, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lib_errors, lib_leaks, test_leaks, notes = [], [], [], 0
for path in sorted(glob.glob(os.path.join(out, "logs", "*.vg"))):
    blocks, cur = [], []
    for line in open(path, errors="replace"):
        m = re.match(r"==\d+== ?(.*)", line.rstrip("\n"))
        if not m:
            continue
        text = m.group(1)
        if text == "":
            if cur:
                blocks.append(cur)
            cur = []
        else:
            cur.append(text)
    if cur:
        blocks.append(cur)
    for b in blocks:
        head = b[0]
        where = os.path.basename(path)
        if head.startswith("Warning:") or head.startswith("(action") or \
           head.startswith("For lists of") or head.startswith("HEAP SUMMARY") or \
           head.startswith("LEAK SUMMARY") or head.startswith("ERROR SUMMARY") or \
           head.startswith("Memcheck,") or head.startswith("Copyright") or \
           head.startswith("Using Valgrind") or head.startswith("Command:") or \
           head.startswith("Parent PID"):
            notes += head.startswith("Warning:")
            continue
        library = any("libqsoasync" in l or "qsoasync::" in l for l in b)
        if "definitely lost" in head:
            frames = [l for l in b[1:] if re.match(r"\s*(at|by) 0x", l)]
            if library:
                first = next((l for l in frames if "qsoasync::" in l), frames[-1] if frames else "")
            else:
                first = next((l for l in frames if "vgpreload" not in l), frames[-1] if frames else "")
            fm = re.search(r"(?:at|by) 0x[0-9A-Fa-f]+: (.*)", first)
            (lib_leaks if library else test_leaks).append((where, head, fm.group(1) if fm else first.strip()))
        else:
            lib_errors.append((where, head, " | ".join(x.strip() for x in b[1:4])))
for w, h, f in lib_errors:
    print(f"memcheck: ERROR {w}: {h}: {f}")
for w, h, f in lib_leaks:
    print(f"memcheck: LIBRARY LEAK {w}: {h}: {f}")
seen = set()
for w, h, f in test_leaks:
    key = f
    if key in seen:
        continue
    seen.add(key)
    print(f"memcheck: note: not the library: the test program never frees {h.split(' are definitely')[0]} it allocated at {f}")
# harness results
passed = failed_other = failed_99 = 0
files_failed = 0
for log in glob.glob(os.path.join(out, "*.log")):
    if log.endswith("all.log"):
        continue
    bad = False
    for line in open(log, errors="replace"):
        if line.startswith("ok "):
            passed += 1
        elif line.startswith("FAIL "):
            if "(exit 99)" in line:
                failed_99 += 1
            else:
                failed_other += 1
                bad = True
                print(f"memcheck: {os.path.basename(log)[:-4]}: {line.strip()}")
    files_failed += bad
nfiles = len([l for l in glob.glob(os.path.join(out, "*.log")) if not l.endswith("all.log")])
problems = len(lib_errors) + len(lib_leaks) + failed_other + build_fail
if failed_99 and (lib_errors or lib_leaks):
    files_failed = max(files_failed, 1)
print(f"memcheck: {passed + failed_99 + failed_other} cases in {nfiles} files under valgrind in {secs} s: "
      f"{passed} clean, {failed_99} reported only the test program's own leaks; "
      f"memory errors {len(lib_errors)}, definite leaks through the library {len(lib_leaks)}, "
      f"other failures {failed_other}; valgrind warnings {notes}")
ok = problems == 0
print(f"memcheck: {nfiles - (0 if ok else max(files_failed, 1))} passed, {0 if ok else max(files_failed, 1) + build_fail} failed")
sys.exit(0 if ok else 1)
EOF
