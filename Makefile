# qsoasync - build, demonstrate, test.
#   make            build the library (target/release) and the examples (build/)
#   make demo       build, then run IBM's sample server answered by a client
#   make test       every test: Rust tests, header check, C suite, IBM sample and examples end to end,
#                   GSK secure sessions (make gsk-test); the short stress, the sanitizer build,
#                   valgrind and the loom models (see TESTING.md)
#   make bench      benchmarks against raw epoll, libuv, io_uring and futex baselines (bench/run.sh; ~8 min)
CARGO   ?= cargo
CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror
LIBDIR  := target/release
LIB     := $(LIBDIR)/libqsoasync.so
BUILD   := build
SHARED  ?= ../shared
LINK    := -L $(LIBDIR) -lqsoasync -pthread -Wl,-rpath,$(CURDIR)/$(LIBDIR)

EXAMPLES := $(patsubst c-examples/%.c,$(BUILD)/%,$(wildcard c-examples/*.c))

.PHONY: all lib examples demo test rust-test check-header header-test c-test ibm-sample examples-test header clean fmt lint loom

all: lib examples

lib:
	$(CARGO) build --release
	@ln -sf libqsoasync.so $(LIBDIR)/libqsoasync.so.0  # the SONAME programs record

$(LIB): lib

examples: lib $(EXAMPLES)

$(BUILD)/%: c-examples/%.c include/qsoasync.h | lib
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) $(WARN) -std=gnu11 -I include -o $@ $< $(LINK)

header: lib

demo: all
	tests/ibm_sample.sh $(SHARED)

check-header:
	QSOASYNC_CHECK_HEADER=1 $(CARGO) build --release

rust-test:
	$(CARGO) test --release

header-test: lib
	tests/header_compile.sh

c-test: lib
	tests/c/run.sh

ibm-sample: lib
	tests/ibm_sample.sh $(SHARED)

examples-test: examples
	tests/examples.sh

# Secure sessions (GSKit on rustls): fresh test certificates, the GSK C suite, openssl interop.
.PHONY: gsk-test
gsk-test: examples
	tests/gsk_test.sh

test: check-header all rust-test header-test c-test ibm-sample examples-test install-test gsk-test \
      stress-test repro-test asan-test memcheck loom
	@echo "make test: all parts passed"

# ---- proof under stress (issue 4): randomised stress, sanitizers, valgrind (see TESTING.md) ---
#   make stress [OPS=10000000] [SECONDS=600] [SEED=n] [CHURN=1]
#                         tests/stress/stress.c: OPS operations or SECONDS, whichever comes first;
#                         the seed is printed (SEED= replays its choices); CHURN multiplies the
#                         rates of closes and port destroys
#   make stress-test      its short form, part of make test: 10^6 operations (about 15 s; 60 s cap)
#   make asan-test        the C suite built with -fsanitize=address,undefined, against the library
#   make memcheck         a representative part of the C suite under valgrind (about 1-2 min)
OPS     ?= 1000000
SECONDS ?= 120
SEED    ?=
CHURN   ?= 1
STRESS  := $(BUILD)/stress
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer

.PHONY: stress stress-test asan-test memcheck

$(STRESS): tests/stress/stress.c include/qsoasync.h | lib
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) $(WARN) -std=gnu11 -I include -o $@ $< $(LINK)

stress: lib $(STRESS)
	$(STRESS) -n $(OPS) -t $(SECONDS) -C $(CHURN) $(if $(SEED),-s $(SEED))

stress-test: lib $(STRESS)
	$(STRESS) -n 1000000 -t 55

# Regression programs for bugs the stress found (each exits 1 while its bug is there).
REPROS := $(patsubst tests/stress/repro/%.c,$(BUILD)/repro/%,$(wildcard tests/stress/repro/*.c))
$(BUILD)/repro/%: tests/stress/repro/%.c include/qsoasync.h | lib
	@mkdir -p $(BUILD)/repro
	$(CC) -O1 -g $(WARN) -std=gnu11 -I include -o $@ $< $(LINK)

.PHONY: repro-test
repro-test: lib $(REPROS)
	@pass=0; fail=0; for r in $(REPROS); do \
	  if timeout 120 $$r; then pass=$$((pass+1)); else echo "FAIL $$r"; fail=$$((fail+1)); fi; \
	done; echo "repro: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

# UBSan only reports and goes on by default: halt_on_error makes a finding fail its case.
asan-test: lib
	@mkdir -p $(BUILD)
	$(CC) -std=gnu11 -O1 -g $(WARN) $(SANITIZE) -I include -o $(BUILD)/close-binding-asan \
	  tests/stress/close_binding.c $(LINK) -ldl
	$(BUILD)/close-binding-asan
	QSO_TEST_CFLAGS="$(SANITIZE)" QSO_TEST_SUFFIX=-asan \
	  ASAN_OPTIONS=halt_on_error=1:detect_stack_use_after_return=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 tests/c/run.sh

memcheck: lib
	tests/memcheck.sh

# Benchmarks (issue 5): prints one table; not part of `make test` (see docs/PERFORMANCE.md).
.PHONY: bench
bench: lib
	bench/run.sh

loom:
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom $(CARGO) test --release --test loom_port --test loom_fd -- --test-threads=1

fmt:
	$(CARGO) fmt --check

lint:
	$(CARGO) clippy --release --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf $(BUILD)

# ---- make install / make uninstall ---------------------------------------------------------
#   make install                          into /usr/local
#   make install PREFIX=/usr DESTDIR=/tmp/stage LIBDIR=/usr/lib/x86_64-linux-gnu
# Every location below gets $(DESTDIR) in front (staged installs, packaging). Build first
# (`make lib`): install only copies, so `sudo make install` never runs cargo as root.
# LIBDIR above is cargo's output folder; given on the command line it is where the libraries
# are installed instead, otherwise they go to $(PREFIX)/lib.
PREFIX       ?= /usr/local
ifeq ($(origin LIBDIR),command line)
INSTALL_LIBDIR := $(LIBDIR)
else
INSTALL_LIBDIR := $(PREFIX)/lib
endif
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(INSTALL_LIBDIR)/pkgconfig
# The IBM i compatibility headers live in their own folder, so that only programs that ask for
# them (-I $(IBMI_INCLUDEDIR)) see this pthread.h in front of the system's.
IBMI_INCLUDEDIR := $(INCLUDEDIR)/qsoasync/ibmi
INSTALL      ?= install

# What cargo built (fixed: a LIBDIR given on the command line must not move it).
BUILT      := target/release
VERSION    := $(shell sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
# ABI version: keep in step with the -soname line in build.rs.
SOVERSION  := 0
SO_REAL    := libqsoasync.so.$(VERSION)
SO_NAME    := libqsoasync.so.$(SOVERSION)
HEADERS    := include/qsoasync.h $(wildcard include/gskssl.h)
IBMI_HEADERS := $(wildcard include/ibmi/*.h)
MAN3       := $(wildcard man/*.3)
MAN7       := $(wildcard man/*.7)
# qsoasync.pc names folders under ${prefix} when they are, so `pkg-config --define-prefix` works.
pc_rel = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

.PHONY: install uninstall install-test FORCE

$(BUILD)/qsoasync.pc: qsoasync.pc.in Cargo.toml FORCE
	@mkdir -p $(BUILD)
	sed -e 's|@PREFIX@|$(PREFIX)|g' \
	    -e 's|@LIBDIR@|$(call pc_rel,$(INSTALL_LIBDIR))|g' \
	    -e 's|@INCLUDEDIR@|$(call pc_rel,$(INCLUDEDIR))|g' \
	    -e 's|@VERSION@|$(VERSION)|g' qsoasync.pc.in > $@

FORCE:

install: $(BUILD)/qsoasync.pc
	@test -f $(BUILT)/libqsoasync.so && test -f $(BUILT)/libqsoasync.a || \
	  { echo "make install: no library in $(BUILT); run 'make lib' first" >&2; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(INSTALL_LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	  $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(IBMI_INCLUDEDIR) \
	  $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7
	$(INSTALL) -m 644 $(BUILT)/libqsoasync.so $(DESTDIR)$(INSTALL_LIBDIR)/$(SO_REAL)
	ln -sf $(SO_REAL) $(DESTDIR)$(INSTALL_LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(INSTALL_LIBDIR)/libqsoasync.so
	$(INSTALL) -m 644 $(BUILT)/libqsoasync.a $(DESTDIR)$(INSTALL_LIBDIR)/libqsoasync.a
	$(INSTALL) -m 644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/
	$(INSTALL) -m 644 $(IBMI_HEADERS) $(DESTDIR)$(IBMI_INCLUDEDIR)/
	$(INSTALL) -m 644 $(BUILD)/qsoasync.pc $(DESTDIR)$(PKGCONFIGDIR)/qsoasync.pc
	$(INSTALL) -m 644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/
	$(INSTALL) -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/

uninstall:
	rm -f $(DESTDIR)$(INSTALL_LIBDIR)/libqsoasync.so $(DESTDIR)$(INSTALL_LIBDIR)/$(SO_NAME) \
	  $(DESTDIR)$(INSTALL_LIBDIR)/$(SO_REAL) $(DESTDIR)$(INSTALL_LIBDIR)/libqsoasync.a
	rm -f $(DESTDIR)$(INCLUDEDIR)/qsoasync.h $(DESTDIR)$(INCLUDEDIR)/gskssl.h
	rm -f $(addprefix $(DESTDIR)$(IBMI_INCLUDEDIR)/,$(notdir $(IBMI_HEADERS)))
	rmdir $(DESTDIR)$(IBMI_INCLUDEDIR) $(DESTDIR)$(INCLUDEDIR)/qsoasync 2>/dev/null || true
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/qsoasync.pc
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MAN3)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(MAN7)))

# Installs into a temporary DESTDIR and builds C and C++ programs from pkg-config alone.
install-test: lib
	tests/install.sh $(SHARED)
