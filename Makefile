# qsoasync - build, demonstrate, test.
#   make            build the library (target/release) and the examples (build/)
#   make demo       build, then run IBM's sample server answered by a client
#   make test       every test: Rust tests, header check, C suite, IBM sample end to end
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

.PHONY: all lib examples demo test rust-test check-header c-test ibm-sample header clean fmt lint loom

all: lib examples

lib:
	$(CARGO) build --release

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

c-test: lib
	tests/c/run.sh

ibm-sample: lib
	tests/ibm_sample.sh $(SHARED)

test: check-header all rust-test c-test ibm-sample
	@echo "make test: all parts passed"

loom:
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom $(CARGO) test --release --test loom_port

fmt:
	$(CARGO) fmt --check

lint:
	$(CARGO) clippy --release --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
