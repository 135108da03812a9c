# poolpair: top-level build.  `make demo` and `make check` do all the set-up
# on a fresh Debian machine (scripts/deps.sh installs what is missing).
#
#   make            release build in build/ (cc, -O2)
#   make check      deps, then the ASan+UBSan build (clang) in build/asan and
#                   every test against it; the release build must compile too
#   make soak       deps, the ASan+UBSan build, the long reliability runs
#                   (tests/soak.sh: 200 crash trials, 5 rounds of link faults)
#   make demo       deps, release build, scripts/demo.sh
#   make bench      deps, release build, bench/run.sh, pkg_bench.sh,
#                   failover_bench.sh, lag_bench.sh and compare.sh (write
#                   docs/benchmarks.md and bench/results/); bench-quick: a
#                   tenth; bench-packages, -failover, -lag, -compare: one
#   make hostile    tests/scenario/24-hostile.sh at full size (1,000
#                   connections at once, 20 s) against the release build
#                   (make check runs it with 200 under ASan)
#   make fuzz       libFuzzer harnesses (clang) in build/fuzz, each run for
#                   FUZZ_SECONDS (docs/fuzzing.md); make check replays their corpus
#   make memcheck   unit tests and replays of the release build under valgrind

BUILD	?= build
SAN	?= 0
PKGS	:= openssl sqlite3 jansson libzstd inih libevent libevent_openssl \
	   libevent_pthreads
TESTPKGS := cmocka

WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wpointer-arith -Wvla
CFLAGS	?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -Isrc/common -Isrc/crypto -Isrc/store -Isrc/pkg -Isrc/backup -Isrc/net \
	    -Isrc/admin -Isrc/daemon -Isrc/cli
ALLCFLAGS = -std=c11 $(WARN) -fstack-protector-strong -fPIE $(CFLAGS) \
	    $(shell pkg-config --cflags $(PKGS)) -MMD -MP
LDLIBS	= $(shell pkg-config --libs $(PKGS)) -lpthread
ifeq ($(SAN),1)
ALLCFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else
CPPFLAGS += -D_FORTIFY_SOURCE=2
endif
LDFLAGS += -pie -Wl,-z,relro,-z,now

LIB_SRC	:= $(wildcard src/common/*.c src/crypto/*.c src/store/*.c src/pkg/*.c \
	   src/backup/*.c src/net/*.c src/admin/*.c)
DAEMON_SRC := $(wildcard src/daemon/*.c)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/obj/%.o)
CLI_SRC	:= $(wildcard src/cli/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
LIB_OBJ	:= $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ	:= $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_NAMES := fuzz_pkg fuzz_records fuzz_frames fuzz_admin_server \
	      fuzz_admin_client fuzz_config fuzz_sipuri
FUZZ_SECONDS ?= 60
FUZZ_DIR := build/fuzz
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/replay/%)
FUZZ_BIN := $(FUZZ_NAMES:%=$(FUZZ_DIR)/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
# What every harness links besides its own file, and what those that drive
# the daemon's or the CLI's code link too (their sources, less main()).
FUZZ_COMMON := tests/fuzz/fuzz_keys.c tests/fuzz/fuzz_env.c
FUZZ_DAEMON := $(filter-out src/daemon/poolpaird.c,$(DAEMON_SRC)) \
	       tests/fuzz/fuzz_daemon.c
FUZZ_CLI := $(filter-out src/cli/main.c,$(CLI_SRC))
FUZZ_CPPFLAGS = $(filter-out -D_FORTIFY_SOURCE=%,$(CPPFLAGS))
FUZZ_CFLAGS = -std=c11 $(WARN) -g -O1 -fno-omit-frame-pointer \
	      -fsanitize=address,undefined -fno-sanitize-recover=all \
	      $(shell pkg-config --cflags $(PKGS)) -MMD -MP

.PHONY: hostile soak all tests check demo bench bench-quick bench-packages bench-failover bench-lag bench-compare deps clean fuzz fuzz-one fuzz-corpus fuzz-seeds memcheck
.SECONDARY:
all: $(BUILD)/poolpair $(BUILD)/poolpaird $(BUILD)/bench-gen $(BUILD)/bench-chunk \
	$(BUILD)/bench-lag
tests: $(UNIT_BIN) $(REPLAY_BIN) $(BUILD)/tests/flood $(BUILD)/tests/relay \
    $(BUILD)/tests/slowdns.so

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $(BUILD) $<"
	@$(CC) $(CPPFLAGS) $(ALLCFLAGS) -c -o $@ $<

$(BUILD)/libpoolpair.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/poolpair: $(CLI_OBJ) $(BUILD)/libpoolpair.a
	@echo "  LD $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/poolpaird: $(DAEMON_OBJ) $(BUILD)/libpoolpair.a
	@echo "  LD $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench-gen: $(BUILD)/obj/bench/gen.o $(BUILD)/libpoolpair.a
	@echo "  LD $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench-lag: $(BUILD)/obj/bench/lag.o $(BUILD)/libpoolpair.a
	@echo "  LD $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench-chunk: $(BUILD)/obj/bench/chunk_bench.o $(BUILD)/libpoolpair.a
	@echo "  LD $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libpoolpair.a
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) \
	    $(shell pkg-config --libs $(TESTPKGS))

# tests/tools/flood: the hostile client of tests/scenario/24-hostile.sh
# (OpenSSL only; not a test_* binary, so tests/run.sh does not run it).
$(BUILD)/tests/flood: $(BUILD)/obj/tests/tools/flood.o
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The fault-injecting TCP relay of scenario 22 (tests/tools/relay.c).
$(BUILD)/tests/relay: $(BUILD)/obj/tests/tools/relay.o
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $^ -lm

# The slow-resolver shim of scenario 25 (tests/tools/slowdns.c), preloaded
# into poolpaird: no sanitizer flags, as it loads before their runtime.
$(BUILD)/tests/slowdns.so: tests/tools/slowdns.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"
	@$(CC) -std=c11 $(WARN) -O2 -fPIC -shared -o $@ $< -ldl

# Fuzz harnesses (tests/fuzz, docs/fuzzing.md).  Every build links each with
# replay_main.c into $(BUILD)/replay/NAME, which tests/run.sh runs over the
# committed corpus and crashers; `make fuzz` builds the real fuzzers in
# build/fuzz from objects of their own (clang, fuzzer-no-link) and runs each.
$(REPLAY_BIN): $(BUILD)/replay/%: $(BUILD)/obj/tests/fuzz/%.o \
    $(BUILD)/obj/tests/fuzz/replay_main.o \
    $(FUZZ_COMMON:%.c=$(BUILD)/obj/%.o) $(BUILD)/libpoolpair.a
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) \
	    $(filter %.a,$^) $(LDLIBS)
$(BUILD)/replay/fuzz_frames $(BUILD)/replay/fuzz_admin_server: \
    $(FUZZ_DAEMON:%.c=$(BUILD)/obj/%.o)
$(BUILD)/replay/fuzz_admin_client: $(FUZZ_CLI:%.c=$(BUILD)/obj/%.o)

$(BUILD)/gen-corpus: $(BUILD)/obj/tests/fuzz/gen_corpus.o \
    $(BUILD)/obj/tests/fuzz/fuzz_keys.o $(BUILD)/libpoolpair.a
	@echo "  LD $@"
	@$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $(FUZZ_DIR) $<"
	@clang $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
	    -c -o $@ $<

$(FUZZ_BIN): $(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/tests/fuzz/%.o \
    $(FUZZ_COMMON:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_LIB_OBJ)
	@echo "  LD $@"
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
$(FUZZ_DIR)/fuzz_frames $(FUZZ_DIR)/fuzz_admin_server: \
    $(FUZZ_DAEMON:%.c=$(FUZZ_DIR)/obj/%.o)
$(FUZZ_DIR)/fuzz_admin_client: $(FUZZ_CLI:%.c=$(FUZZ_DIR)/obj/%.o)

# One harness: make fuzz-one NAME=fuzz_sipuri [FUZZ_SECONDS=...]
fuzz-one: $(FUZZ_DIR)/$(NAME)
	@sh tests/fuzz/fuzz.sh $(FUZZ_DIR) $(NAME) $(FUZZ_SECONDS)

fuzz: $(FUZZ_BIN)
	@for n in $(FUZZ_NAMES); do \
	    sh tests/fuzz/fuzz.sh $(FUZZ_DIR) $$n $(FUZZ_SECONDS) || exit 1; \
	done

# Rewrite the hand-made seeds of the other harnesses (tests/fuzz/seeds.py).
fuzz-seeds:
	python3 tests/fuzz/seeds.py tests/fuzz/corpus

# Rewrite the committed seed corpus (the packages differ on each run).
fuzz-corpus: $(BUILD)/gen-corpus
	@mkdir -p $(FUZZ_NAMES:%=tests/fuzz/corpus/%)
	$(BUILD)/gen-corpus tests/fuzz/corpus

# Valgrind's memcheck (release build) over the unit tests that run in
# seconds under it and the replays of the newer fuzz corpora: about two
# minutes.  The others (test_audit, test_backup, test_chunker, test_pki)
# take minutes each: MEMCHECK_TESTS="test_pki ..." runs any list.
MEMCHECK_TESTS ?= test_admin test_chunkstore test_config test_contacts test_fileio \
	test_frame test_ingest test_journal test_packs test_sipuri test_store \
	test_storeopen fuzz_frames fuzz_admin_server fuzz_admin_client \
	fuzz_config fuzz_sipuri
memcheck: deps
	$(MAKE) --no-print-directory all tests
	sh tests/memcheck.sh build $(MEMCHECK_TESTS)

deps:
	@sh scripts/deps.sh

check: deps
	$(MAKE) --no-print-directory all tests
	$(MAKE) --no-print-directory BUILD=build/asan SAN=1 CC=clang all tests
	sh tests/run.sh build/asan

# Long reliability runs (docs/reliability.md): 21-crash with 200
# SIGKILL trials (SOAK_TRIALS), 22-faults with 5 rounds (SOAK_ROUNDS) and a
# stall past the idle timeout, on the ASan+UBSan build.
soak: deps
	$(MAKE) --no-print-directory BUILD=build/asan SAN=1 CC=clang all tests
	sh tests/soak.sh build/asan

demo: deps
	$(MAKE) --no-print-directory all
	sh scripts/demo.sh build

bench: deps
	@sh scripts/deps.sh bench
	$(MAKE) --no-print-directory all
	sh bench/run.sh build full
	sh bench/pkg_bench.sh build 1024 4000
	sh bench/failover_bench.sh build 40000 4000
	sh bench/lag_bench.sh build 10
	sh bench/compare.sh build full

bench-packages: deps
	@sh scripts/deps.sh bench
	$(MAKE) --no-print-directory all
	sh bench/pkg_bench.sh build 1024 4000

bench-failover: deps
	@sh scripts/deps.sh bench
	$(MAKE) --no-print-directory all
	sh bench/failover_bench.sh build 40000 4000

bench-compare: deps
	@sh scripts/deps.sh bench
	$(MAKE) --no-print-directory all
	sh bench/compare.sh build quick

bench-lag: deps
	@sh scripts/deps.sh bench
	$(MAKE) --no-print-directory all
	sh bench/lag_bench.sh build 10

bench-quick: deps
	@sh scripts/deps.sh bench
	$(MAKE) --no-print-directory all
	sh bench/run.sh build quick
	sh bench/pkg_bench.sh build 128 400
	sh bench/lag_bench.sh build 3
	sh bench/compare.sh build quick

HOSTILE_CONNS ?= 1000
HOSTILE_SECONDS ?= 20
hostile: deps
	$(MAKE) --no-print-directory all tests
	@d=$$(mktemp -d "$${TMPDIR:-/tmp}/pp-hostile.XXXXXX") && \
	    (cd "$$d" && POOLPAIR="$(CURDIR)/$(BUILD)/poolpair" TESTDIR="$$d" \
	    HOSTILE_CONNS=$(HOSTILE_CONNS) HOSTILE_SECONDS=$(HOSTILE_SECONDS) \
	    timeout 300 sh "$(CURDIR)/tests/scenario/24-hostile.sh") && \
	    rm -rf "$$d" || { echo "make hostile: failed, logs in $$d"; exit 1; }

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
