#!/usr/bin/env bash
# tests/install.sh - `make install` into a temporary DESTDIR, then use the installed copy the way
# a user would: a C and a C++ program (tests/install/) built with nothing but
# `pkg-config --cflags --libs qsoasync` and run against the installed library, a static link
# from `pkg-config --static`, IBM's sample compiled against the installed compatibility headers,
# every man page linted and its EXAMPLE program built and run; then `make uninstall` must leave
# no file behind. Ends with "install: N passed, M failed"; exits non-zero on any failure.
#   tests/install.sh [path-to-shared]     (the library must already be built: make lib)
# Environment: CC, CXX, QSO_INSTALL_PREFIX (default /usr), MAKE.
set -u
cd "$(dirname "$0")/.."
SHARED=${1:-../shared}
CC=${CC:-gcc}
CXX=${CXX:-g++}
MAKE=${MAKE:-make}
PREFIX=${QSO_INSTALL_PREFIX:-/usr}
VERSION=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/qsoasync-install.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
DEST=$STAGE/root            # the DESTDIR
OUT=$STAGE/out              # programs built by this test
mkdir -p "$DEST" "$OUT"
LIB=$DEST$PREFIX/lib
INC=$DEST$PREFIX/include
MAN=$DEST$PREFIX/share/man

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/     /' <<<"$2"; }
# check NAME COMMAND...: passes when the command succeeds; shows its output when it does not.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}
# quiet NAME COMMAND...: passes when the command succeeds and prints nothing at all.
quiet() {
  local name=$1 out
  shift
  out=$("$@" 2>&1)
  if [ $? -eq 0 ] && [ -z "$out" ]; then pass "$name"; else fail "$name" "$out"; fi
}

# pkg-config sees only the staged copy; PKG_CONFIG_SYSROOT_DIR puts DESTDIR in front of its paths.
pc() {
  PKG_CONFIG_PATH=$LIB/pkgconfig PKG_CONFIG_LIBDIR=$LIB/pkgconfig \
    PKG_CONFIG_SYSROOT_DIR=$DEST pkg-config "$@" qsoasync
}

# ---- install -------------------------------------------------------------------------------
check "make install DESTDIR=$DEST PREFIX=$PREFIX" \
  $MAKE --no-print-directory -s install DESTDIR="$DEST" PREFIX="$PREFIX"

for f in "$LIB/libqsoasync.so.$VERSION" "$LIB/libqsoasync.a" "$INC/qsoasync.h" \
         "$INC/qsoasync/ibmi/pthread.h" "$LIB/pkgconfig/qsoasync.pc" "$MAN/man7/qsoasync.7"; do
  check "installed ${f#"$DEST"}" test -f "$f"
done
check "symlink libqsoasync.so.0 -> libqsoasync.so.$VERSION" \
  test -L "$LIB/libqsoasync.so.0" -a "$(readlink "$LIB/libqsoasync.so.0")" = "libqsoasync.so.$VERSION"
check "symlink libqsoasync.so -> libqsoasync.so.0" \
  test -L "$LIB/libqsoasync.so" -a "$(readlink "$LIB/libqsoasync.so")" = "libqsoasync.so.0"
check "SONAME of the installed library is libqsoasync.so.0" \
  grep -q 'Library soname: \[libqsoasync.so.0\]' <(readelf -d "$LIB/libqsoasync.so.$VERSION")

# Every exported Qso* function has its page in section 3.
exported=$(nm -D --defined-only "$LIB/libqsoasync.so.$VERSION" | awk '$2 == "T" && $3 ~ /^Qso/ {print $3}')
check "the library exports the ten Qso* functions" test "$(wc -w <<<"$exported")" -eq 10
for fn in $exported; do
  check "man page for $fn" test -f "$MAN/man3/$fn.3"
done

# ---- pkg-config ----------------------------------------------------------------------------
FLAGS=$(pc --cflags --libs)
check "pkg-config --modversion is $VERSION" test "$(pc --modversion)" = "$VERSION"
check "pkg-config --cflags --libs points into DESTDIR ($FLAGS)" \
  test -n "$(grep -e "-I$INC" <<<"$FLAGS")" -a -n "$(grep -e "-L$LIB" <<<"$FLAGS")"
check "pkg-config names the IBM i include folder" \
  test "$(pc --variable=ibmi_includedir)" = "$INC/qsoasync/ibmi"

# ---- a C and a C++ program, from pkg-config alone ------------------------------------------
# shellcheck disable=SC2086  # FLAGS is a list of words
check "C program builds (-std=c99 -pedantic -Werror)" \
  $CC -std=c99 -Wall -Wextra -Werror -pedantic -o "$OUT/install_c" tests/install/install_c.c $FLAGS
# shellcheck disable=SC2086
check "C++ program builds (-std=c++11 -pedantic -Werror)" \
  $CXX -std=c++11 -Wall -Wextra -Werror -pedantic -o "$OUT/install_cpp" \
  tests/install/install_cpp.cpp $FLAGS
for prog in install_c install_cpp; do
  [ -x "$OUT/$prog" ] || continue
  check "$prog links against the SONAME libqsoasync.so.0" \
    grep -q 'Shared library: \[libqsoasync.so.0\]' <(readelf -d "$OUT/$prog")
  check "$prog loads the installed library" \
    grep -q "=> $LIB/libqsoasync.so.0" <(LD_LIBRARY_PATH=$LIB ldd "$OUT/$prog")
  check "$prog runs" env LD_LIBRARY_PATH="$LIB" timeout 20 "$OUT/$prog"
done

# Static link: Libs.private must be enough for libqsoasync.a.
# shellcheck disable=SC2086
check "C program links statically with pkg-config --static" \
  $CC -std=c99 -o "$OUT/install_c_static" tests/install/install_c.c $(pc --cflags) \
  $(pc --static --libs | sed 's/-lqsoasync/-l:libqsoasync.a/')
if [ -x "$OUT/install_c_static" ]; then
  check "the static program needs no libqsoasync.so" \
    bash -c "! readelf -d '$OUT/install_c_static' | grep -q libqsoasync"
  check "the static program runs" timeout 20 "$OUT/install_c_static"
fi

# IBM's own sample, compiled unchanged against the installed compatibility headers.
SAMPLE=$SHARED/ibm-samples/async_io_server.c
if [ -f "$SAMPLE" ]; then
  # shellcheck disable=SC2086
  check "IBM's sample compiles with -I\$ibmi_includedir and pkg-config" \
    $CC -fno-strict-aliasing -pthread -o "$OUT/async_io_server" "$SAMPLE" \
    -I"$(pc --variable=ibmi_includedir)" $FLAGS
else
  echo "skip IBM's sample ($SAMPLE is absent)"
fi

# ---- man pages -----------------------------------------------------------------------------
# Prints the C program in a page's EXAMPLE section (between .EX and .EE), roff escapes undone.
example_of() {
  awk '/^\.SH /{ex = ($0 ~ /^\.SH EXAMPLE/)} ex && /^\.EE/{inex=0} ex && inex{print} ex && /^\.EX/{inex=1}' "$1" |
    sed -e 's/\\-/-/g' -e 's/\\&//g' -e "s/\\\\(aq/'/g" -e 's/\\(dq/"/g' -e 's/\\e/\\/g'
}
have_mandoc=0
command -v mandoc >/dev/null && have_mandoc=1
[ $have_mandoc -eq 1 ] || echo "skip mandoc -T lint (mandoc is not installed)"
pages=("$MAN"/man3/*.3 "$MAN"/man7/*.7)
check "man pages installed: ${#pages[@]}" test "${#pages[@]}" -eq "$(ls man | wc -l)"
for page in "${pages[@]}"; do
  name=$(basename "$page")
  quiet "$name: groff -man -ww -z is silent" groff -man -ww -z "$page"
  [ $have_mandoc -eq 1 ] && quiet "$name: mandoc -T lint is silent" mandoc -T lint "$page"
  if command -v man >/dev/null; then
    quiet "$name: man -l renders without warnings" \
      bash -c "MANWIDTH=80 man --warnings -l '$page' 2>&1 >/dev/null"
  fi
  sections="NAME|SYNOPSIS|DESCRIPTION|NOTES|EXAMPLE|SEE ALSO"
  case $name in *.3) sections="$sections|RETURN VALUE|ERRORS" ;; esac
  missing=$(tr '|' '\n' <<<"$sections" | while read -r s; do
    grep -qx "\.SH \"\?$s\"\?" "$page" || echo "$s"; done)
  check "$name: has ${sections//|/, }" test -z "$missing"
  example_of "$page" >"$OUT/example_${name%.*}.c"
  # shellcheck disable=SC2086
  if check "$name: EXAMPLE builds" $CC -std=c11 -Wall -Wextra -Werror -pthread \
       -o "$OUT/example_${name%.*}" "$OUT/example_${name%.*}.c" $FLAGS; then :; fi
  [ -x "$OUT/example_${name%.*}" ] &&
    check "$name: EXAMPLE runs" env LD_LIBRARY_PATH="$LIB" timeout 20 "$OUT/example_${name%.*}"
done

# ---- LIBDIR given on the command line ------------------------------------------------------
ALT=$STAGE/alt
check "make install LIBDIR=$PREFIX/lib64 puts the libraries and qsoasync.pc there" \
  bash -c "$MAKE --no-print-directory -s install DESTDIR='$ALT' PREFIX='$PREFIX' LIBDIR='$PREFIX/lib64' &&
    test -f '$ALT$PREFIX/lib64/libqsoasync.so.$VERSION' &&
    grep -qx 'libdir=\${prefix}/lib64' '$ALT$PREFIX/lib64/pkgconfig/qsoasync.pc' &&
    test ! -e '$ALT$PREFIX/lib'"

# ---- uninstall -----------------------------------------------------------------------------
check "make uninstall DESTDIR=$DEST PREFIX=$PREFIX" \
  $MAKE --no-print-directory -s uninstall DESTDIR="$DEST" PREFIX="$PREFIX"
left=$(find "$DEST" ! -type d)
check "uninstall leaves no file behind" test -z "$left"
[ -n "$left" ] && sed 's/^/     left: /' <<<"$left"
check "uninstall removes include/qsoasync/" test ! -e "$INC/qsoasync"

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
