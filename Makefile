# One build for the whole project: libchat, chatctl, chat-server, tests.
#
#   make                 build everything into build/ (examples/ too)
#   make check           install missing packages, build with ASan+UBSan into
#                        build/san/ and run every test
#   make check-pg        the same build, and the whole integration suite with
#                        chat-server on PostgreSQL (one started for the run)
#   make run             install missing packages, build, start a local chat-server
#                        (once) and open chat-tui on it as $USER (USER=bob: as bob)
#   make stop            stop that chat-server
#   make install         PREFIX=/usr/local DESTDIR=
#   make analyze         gcc -fanalyzer and cppcheck over every C file; any finding
#                        fails it (make check runs it first)
#   make bench           chat-server's speed beside the machine's limits and
#                        mosquitto, in one run: a table, and JSON in
#                        build/bench/results.json (README, Performance);
#                        make bench-smoke: the same with tiny counts (make check)
#   make fuzz            build the fuzz targets (tests/fuzz/) with clang's libFuzzer
#                        into build/fuzz/ and run each for FUZZ_SECONDS (default 60)
#                        from its saved corpus; what crashes is saved as
#                        build/fuzz/crash-TARGET-*. (make check runs every target
#                        over its saved corpus alone, with any compiler.)
#
# SAN=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer; SAN=fuzz
# (what make fuzz uses) adds libFuzzer's coverage, for clang.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
LIBDIR     ?= $(PREFIX)/lib
INCDIR     ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFDIR ?= $(LIBDIR)/pkgconfig

SAN ?= 0
ifeq ($(SAN),1)
BUILD    ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else ifeq ($(SAN),fuzz)
BUILD    ?= build/fuzz
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
            -fno-omit-frame-pointer
else
BUILD    ?= build
SANFLAGS :=
endif

CC      ?= cc
PKG_CONFIG ?= pkg-config
PKGS_LIB    := libwebsockets sqlite3 libsodium libcjson openssl libcurl
PKGS_TEST   := cmocka
PKGS_TUI    := ncursesw

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
           -fPIC -fvisibility=hidden -MMD -MP $(SANFLAGS) \
           -DCHAT_VERSION=\"$(VERSION)\" -Iclient-lib -Icommon \
           $(shell $(PKG_CONFIG) --cflags $(PKGS_LIB))
LDFLAGS += $(SANFLAGS)
LIBS    := $(shell $(PKG_CONFIG) --libs $(PKGS_LIB)) -lpthread
# chat-server's event loop (--event-loop libev); libev has no .pc file. And
# hiredis, for --bus (server-stub/bus.c), and libpq, for the PostgreSQL
# store (db_pg.c): the server's link line only.
PKGS_SERVER := hiredis libpq
SERVER_LIBS := -lev $(shell $(PKG_CONFIG) --libs $(PKGS_SERVER))

# common/: the protocol core (docs/PROTOCOL.md's constants, forms and the
# crypto both sides check), compiled once, put into libchat and linked into
# chat-server directly.
COMMON_SRC := $(wildcard common/*.c)
LIB_SRC    := $(wildcard client-lib/*.c)
CLI_SRC    := $(wildcard cli/*.c)
SERVER_SRC := $(wildcard server-stub/*.c)
TUI_SRC    := $(wildcard tui/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o) $(COMMON_OBJ)
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(BUILD)/%.o)
TUI_OBJ    := $(TUI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# The option parser chatctl and chat-tui share (common/args.c): pure, linked
# into both programs, not into libchat.
ARGS_OBJ   := $(BUILD)/common/args.o
CFLAGS     += -Icommon

# The ABI's number: chat.h ("Growing structs, and the ABI") says when it changes.
SONAME  := libchat.so.1
PROGS   := $(BUILD)/chat-server $(BUILD)/chatctl $(BUILD)/chat-tui
LIBS_OUT := $(BUILD)/libchat.a $(BUILD)/libchat.so

.PHONY: all deps check check-pg unit integration integration-pg run install uninstall clean tests format
all: $(LIBS_OUT) $(PROGS)

deps:
	@sh scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The server and common/ do not see libchat's headers: the server shares the
# protocol core with the client, nothing else.
$(SERVER_OBJ) $(COMMON_OBJ): $(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Iclient-lib,$(CFLAGS)) -c $< -o $@

# chat-tui's own objects also see ncursesw's headers (and -D_XOPEN_SOURCE for
# its wide-character calls).
$(BUILD)/tui/%.o: tui/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(shell $(PKG_CONFIG) --cflags $(PKGS_TUI)) -c $< -o $@

$(BUILD)/libchat.a: $(LIB_OBJ) | $(BUILD)/fts5.ok
	@rm -f $@
	$(AR) rcs $@ $^

# libchat's search (client-lib/store_search.c) needs SQLite's FTS5, which
# Debian 12's libsqlite3 has (SQLITE_ENABLE_FTS5). Without it every home
# would fail to open at its migration to schema 9: refuse to build instead.
$(BUILD)/fts5.ok:
	@mkdir -p $(dir $@)
	@printf '%s\n' '#include <sqlite3.h>' 'int main(void) { sqlite3 *d; int r;' \
		'if (sqlite3_open(":memory:", &d) != SQLITE_OK) return 1;' \
		'r = sqlite3_exec(d, "CREATE VIRTUAL TABLE t USING fts5(x)", 0, 0, 0);' \
		'sqlite3_close(d); return r != SQLITE_OK; }' >$@.c
	@$(CC) -o $@.bin $@.c $(shell $(PKG_CONFIG) --cflags --libs sqlite3) && $@.bin || \
		{ rm -f $@.c $@.bin; echo "libsqlite3 has no FTS5 (SQLITE_ENABLE_FTS5): libchat's" \
		  "search needs it; Debian 12's libsqlite3-dev has it" >&2; exit 1; }
	@rm -f $@.c $@.bin
	@touch $@

$(BUILD)/libchat.so: $(LIB_OBJ) | $(BUILD)/fts5.ok
	$(CC) -shared -Wl,-soname,$(SONAME) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/chatctl: $(CLI_OBJ) $(ARGS_OBJ) $(BUILD)/libchat.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(ARGS_OBJ) $(BUILD)/libchat.a $(LIBS)

$(BUILD)/chat-tui: $(TUI_OBJ) $(ARGS_OBJ) $(BUILD)/libchat.a
	$(CC) $(LDFLAGS) -o $@ $(TUI_OBJ) $(ARGS_OBJ) $(BUILD)/libchat.a $(LIBS) \
		$(shell $(PKG_CONFIG) --libs $(PKGS_TUI))

# The server links the protocol core, not libchat.
# The PostgreSQL store is the one file that sees libpq's headers.
$(BUILD)/server-stub/db_pg.o: CFLAGS += $(shell $(PKG_CONFIG) --cflags libpq)

$(BUILD)/chat-server: $(SERVER_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $(SERVER_OBJ) $(COMMON_OBJ) $(LIBS) $(SERVER_LIBS)

# ---- examples/: programs against libchat as its users build them ------------
# Each examples/NAME.c is built the way libchat(3) says to build a program:
# C11, the one header chat.h, and what `pkg-config --cflags --libs libchat`
# gives -- here from an uninstalled libchat.pc for this build, whose include
# directory holds chat.h alone, so no example can reach libchat's insides.
# They find libchat.so.1 beside them ($$ORIGIN/..), wherever the build is.
# tests/integration/examples.sh runs them; tests/install-check.sh builds
# them against the installed library; man/libchat.3 quotes them.
EXAMPLE_SRC    := $(wildcard examples/*.c)
EXAMPLES       := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)
EXAMPLE_PC     := $(BUILD)/uninstalled
EXAMPLE_CFLAGS := -std=c11 -Wall -Wextra -Werror -O2 -g $(SANFLAGS)

all: $(EXAMPLES)

$(BUILD)/include/chat.h: client-lib/chat.h
	@mkdir -p $(dir $@)
	cp $< $@

$(BUILD)/$(SONAME): $(BUILD)/libchat.so
	ln -sf libchat.so $@

$(EXAMPLE_PC)/libchat.pc: Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' 'Name: libchat' 'Description: libchat, not installed: $(abspath $(BUILD))' \
		'Version: $(VERSION)' 'Requires.private: $(PKGS_LIB)' \
		'Libs: -L$(abspath $(BUILD)) -lchat' 'Cflags: -I$(abspath $(BUILD))/include' > $@

$(BUILD)/examples/%: examples/%.c $(BUILD)/include/chat.h $(BUILD)/$(SONAME) \
		$(EXAMPLE_PC)/libchat.pc
	@mkdir -p $(dir $@)
	$(CC) $(EXAMPLE_CFLAGS) -o $@ $< \
		$$(PKG_CONFIG_PATH=$(EXAMPLE_PC) $(PKG_CONFIG) --cflags --libs libchat) \
		$(EXAMPLE_EXTRA) -Wl,-rpath,'$$ORIGIN/..'

# daemon-bot speaks JSON-RPC to chatctl daemon: cJSON, not libchat.
$(BUILD)/examples/daemon-bot: EXAMPLE_EXTRA = $(shell $(PKG_CONFIG) --cflags --libs libcjson)

# Installed as sources, where libchat(3) says they are.
DOCDIR ?= $(PREFIX)/share/doc/libchat
.PHONY: install-examples uninstall-examples
install: install-examples
uninstall: uninstall-examples
install-examples:
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 644 $(EXAMPLE_SRC) $(DESTDIR)$(DOCDIR)/examples/
uninstall-examples:
	rm -f $(EXAMPLE_SRC:examples/%=$(DESTDIR)$(DOCDIR)/examples/%)
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

TEST_CFLAGS = $(CFLAGS) $(shell $(PKG_CONFIG) --cflags $(PKGS_TEST)) -Iserver-stub
TEST_LIBS   = $(BUILD)/libchat.a $(LIBS) $(shell $(PKG_CONFIG) --libs $(PKGS_TEST))

# Server unit tests link the server's objects (all but main); the others only libchat.
# One file per area of the store and of the request layer (test_server_db_AREA.c,
# test_server_wire_AREA.c), all set up from tests/unit/server_fixture.h.
$(BUILD)/tests/test_server_%: tests/unit/test_server_%.c $(SERVER_OBJ) $(BUILD)/libchat.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(filter-out $(BUILD)/server-stub/main.o,$(SERVER_OBJ)) $(TEST_LIBS) $(SERVER_LIBS)

# chat-tui's unit tests link its objects (all but main), as the server's do.
$(BUILD)/tests/test_tui_%: tests/unit/test_tui_%.c $(TUI_OBJ) $(BUILD)/libchat.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -Itui $(LDFLAGS) -o $@ $< \
		$(filter-out $(BUILD)/tui/main.o,$(TUI_OBJ)) $(TEST_LIBS) \
		$(shell $(PKG_CONFIG) --libs $(PKGS_TUI))

# The option parser's tests link it alone.
$(BUILD)/tests/test_args: tests/unit/test_args.c $(ARGS_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $< $(ARGS_OBJ) $(shell $(PKG_CONFIG) --libs $(PKGS_TEST))

# chatctl's unit tests link its objects (all but main), as chat-tui's do.
$(BUILD)/tests/test_cli_%: tests/unit/test_cli_%.c $(CLI_OBJ) $(ARGS_OBJ) $(BUILD)/libchat.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -Icli $(LDFLAGS) -o $@ $< \
		$(filter-out $(BUILD)/cli/main.o,$(CLI_OBJ)) $(ARGS_OBJ) $(TEST_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libchat.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_LIBS)

# Test-only client for what chatctl must not do (raw frames, no acks).
$(BUILD)/tests/chat-probe: tests/tools/chat-probe.c $(BUILD)/libchat.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_LIBS)

# Test-only TCP proxy that can drop a connection silently (no FIN, no RST).
$(BUILD)/tests/blackhole-proxy: tests/tools/blackhole-proxy.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# Test-only TLS-terminating relay: a hostile server in the middle (tls.sh).
$(BUILD)/tests/tls-relay: tests/tools/tls-relay.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(shell $(PKG_CONFIG) --libs openssl)

# Test-only line client for chatctl daemon's sockets (daemon.sh): socat is no dependency.
$(BUILD)/tests/rpc-client: tests/tools/rpc-client.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

TEST_TOOLS := $(BUILD)/tests/chat-probe $(BUILD)/tests/blackhole-proxy $(BUILD)/tests/tls-relay \
	      $(BUILD)/tests/rpc-client

# Fuzz targets (tests/fuzz/fuzz-NAME.c): one per parser of bytes from the
# network. Each links the server's objects (all but main) and libchat. For
# make check, with standalone.c as main: every file of tests/fuzz/corpus/NAME
# once, with the compiler at hand; for make fuzz, with clang's libFuzzer.
FUZZ_NAMES  := $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz-%)
FUZZ_SECONDS ?= 60
FUZZ_DEPS = tests/fuzz/fuzz-keys.h $(SERVER_OBJ) $(BUILD)/libchat.a
FUZZ_LINK = $(filter-out $(BUILD)/server-stub/main.o,$(SERVER_OBJ)) $(BUILD)/libchat.a $(LIBS) \
	    $(SERVER_LIBS)

$(BUILD)/tests/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/standalone.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/standalone.c $(FUZZ_LINK)

$(BUILD)/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_DEPS)
	$(CC) $(TEST_CFLAGS) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LINK)

# rpcline: chatctl's JSON-RPC framing and request parsing (cli/rpc-frame.c),
# what chatctl daemon reads from its socket clients.
$(BUILD)/tests/fuzz-rpcline $(BUILD)/fuzz-rpcline: $(BUILD)/cli/rpc-frame.o
$(BUILD)/tests/fuzz-rpcline $(BUILD)/fuzz-rpcline: FUZZ_LINK += $(BUILD)/cli/rpc-frame.o

# A test is rebuilt when a header it includes changes (a fixture header, say).
-include $(UNIT_BIN:=.d) $(FUZZ_REPLAY:=.d)

tests: all $(UNIT_BIN) $(TEST_TOOLS) $(FUZZ_REPLAY)

# make check: everything under the sanitizers, from a clean machine.
check: deps
	@$(MAKE) --no-print-directory analyze
	@$(MAKE) --no-print-directory SAN=1 tests
	@$(MAKE) --no-print-directory SAN=1 unit integration
	@sh tests/install-check.sh
	@$(MAKE) --no-print-directory bench-smoke

unit: $(UNIT_BIN) $(FUZZ_REPLAY)
	@fail=0; for t in $(UNIT_BIN); do echo "== $$t"; $$t || fail=1; done; \
	for t in $(FUZZ_NAMES); do echo "== fuzz corpus: $$t"; \
		$(BUILD)/tests/fuzz-$$t tests/fuzz/corpus/$$t || fail=1; done; exit $$fail

# make fuzz: look for new crashes, FUZZ_SECONDS per target. New inputs go to
# build/fuzz/corpus/NAME (copy the interesting ones to tests/fuzz/corpus/NAME).
.PHONY: fuzz fuzz-run
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@$(MAKE) --no-print-directory SAN=fuzz CC=clang fuzz-run

fuzz-run: $(FUZZ_NAMES:%=$(BUILD)/fuzz-%)
	@for t in $(FUZZ_NAMES); do echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
		mkdir -p $(BUILD)/corpus/$$t; \
		$(BUILD)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/crash-$$t- \
			$(BUILD)/corpus/$$t tests/fuzz/corpus/$$t || exit 1; done

integration: all $(TEST_TOOLS) $(FUZZ_REPLAY)
	@BIN=$(abspath $(BUILD)) sh tests/integration/run.sh

# make check-pg: every integration test again with the server's store on
# PostgreSQL (CHAT_TEST_STORE=pg in tests/integration/lib.sh), on a server
# tests/check-pg.sh starts for the run and stops. Apart from make check, so
# that it stays as fast as it was.
check-pg: deps
	@$(MAKE) --no-print-directory SAN=1 tests
	@$(MAKE) --no-print-directory SAN=1 integration-pg

integration-pg: all $(TEST_TOOLS) $(FUZZ_REPLAY)
	@BIN=$(abspath $(BUILD)) sh tests/check-pg.sh

# make bench: speed figures against the machine's limits and the peer
# (mosquitto), in one run (bench/run.sh): a table, and JSON in
# build/bench/results.json. Always from the normal optimised build, never the
# sanitizer one. make bench-smoke runs the same suite with tiny counts, so it
# never rots: only a broken run fails it (a crash, a VOID figure, a hang),
# never a figure; make check runs it once.
BENCH_PROGS := $(addprefix $(BUILD)/bench/,sqlite-commit store-commit ws-echo chat-bench \
                 chat-load crypto-cost search-cost mqtt-load)
.PHONY: bench bench-run bench-smoke bench-smoke-run

$(BUILD)/bench/%: bench/%.c bench/bench.h $(BUILD)/libchat.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libchat.a $(LIBS)

# The peer's client library, only for this program (not a dependency of the build).
$(BUILD)/bench/mqtt-load: bench/mqtt-load.c bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lmosquitto $(LIBS)

# chat-server's own store, linked in without its main.
$(BUILD)/bench/store-commit: bench/store-commit.c bench/bench.h $(SERVER_OBJ) $(BUILD)/libchat.a
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Iclient-lib,$(CFLAGS)) -Iserver-stub $(LDFLAGS) -o $@ $< \
		$(filter-out $(BUILD)/server-stub/main.o,$(SERVER_OBJ)) $(BUILD)/libchat.a $(LIBS) \
		$(SERVER_LIBS)

bench:
	@$(MAKE) --no-print-directory SAN=0 bench-run

bench-run: all $(BENCH_PROGS)
	@BIN=$(abspath $(BUILD)) sh bench/run.sh

bench-smoke:
	@$(MAKE) --no-print-directory SAN=0 bench-smoke-run

bench-smoke-run: all $(BENCH_PROGS)
	@BIN=$(abspath $(BUILD)) BENCH_OUT=$(abspath $(BUILD))/bench/smoke.json sh bench/run.sh -s

# ---- make analyze: gcc -fanalyzer and cppcheck, clean ------------------------
# Every C file of the project, found by wildcard so that a new one is covered:
# libchat, common/, chat-server, chatctl, chat-tui, examples/, the tests, their
# tools and fuzz targets, bench/. Any finding fails it. Fix the code; suppress
# only a false positive (or what the project decided against), where it is,
# with the reason beside it: common/analyzer.h says how for gcc,
# .cppcheck-suppressions for cppcheck. make check runs it.
#
# gcc analyses one file at a time, at -O0 (GCC 12's analyzer reports fewer
# false positives there, and is faster), and keeps a stamp per file in
# build/analyze/, so only what changed (or a header it includes) is analysed
# again. cppcheck sees every file in one run (its whole-program checks too).
ANALYZE_CC    ?= gcc
CPPCHECK      ?= cppcheck
ANALYZE_SRC   := $(wildcard common/*.c client-lib/*.c server-stub/*.c cli/*.c tui/*.c \
                  examples/*.c tests/unit/*.c tests/tools/*.c tests/fuzz/*.c bench/*.c)
ANALYZE_OK    := $(ANALYZE_SRC:%.c=build/analyze/%.ok)
ANALYZE_DEFS  := -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DCHAT_VERSION=\"$(VERSION)\" \
                 -Icommon -Iclient-lib -Iserver-stub -Icli -Itui
ANALYZE_FLAGS := -std=c11 -O0 -fanalyzer -Wall -Wextra -Werror $(ANALYZE_DEFS) \
                 $(shell $(PKG_CONFIG) --cflags $(PKGS_LIB) $(PKGS_TEST))
CPPCHECK_FLAGS := --std=c11 --quiet --error-exitcode=1 \
                  --enable=warning,style,performance,portability,information \
                  --library=posix,gnu,sqlite3,libcurl,openssl \
                  --inline-suppr --suppressions-list=.cppcheck-suppressions $(ANALYZE_DEFS)

.PHONY: analyze analyze-gcc analyze-cppcheck
analyze: analyze-gcc analyze-cppcheck

analyze-gcc: $(ANALYZE_OK)

# chat-tui's files see ncursesw's flags, as in the build.
build/analyze/tui/%.ok build/analyze/tests/unit/test_tui_%.ok: \
	ANALYZE_FLAGS += $(shell $(PKG_CONFIG) --cflags $(PKGS_TUI))

# The PostgreSQL store sees libpq's, as in the build.
build/analyze/server-stub/db_pg.ok: ANALYZE_FLAGS += $(shell $(PKG_CONFIG) --cflags libpq)

build/analyze/%.ok: %.c
	@mkdir -p $(dir $@)
	$(ANALYZE_CC) $(ANALYZE_FLAGS) -MMD -MP -MF $(@:.ok=.d) -MT $@ -c $< -o /dev/null
	@touch $@

analyze-cppcheck:
	@command -v $(CPPCHECK) >/dev/null || \
		{ echo "make analyze needs cppcheck: apt-get install cppcheck (or make deps)"; exit 1; }
	@echo "$(CPPCHECK) ... $(words $(ANALYZE_SRC)) files"
	@$(CPPCHECK) $(CPPCHECK_FLAGS) $(ANALYZE_SRC)

-include $(ANALYZE_OK:.ok=.d)

RUN_DIR  ?= $(HOME)/.local/state/chat-server
RUN_ADDR ?= 127.0.0.1:8700
# make run: a local chat-server (started once, left running) and chat-tui on it
# as $(USER); make run USER=bob in a second terminal is a second person.
.PHONY: stop
run: deps
	@$(MAKE) --no-print-directory all
	@BIN='$(BUILD)' RUN_DIR='$(RUN_DIR)' RUN_ADDR='$(RUN_ADDR)' RUN_USER='$(USER)' sh scripts/run.sh

stop:
	@BIN='$(BUILD)' RUN_DIR='$(RUN_DIR)' RUN_ADDR='$(RUN_ADDR)' sh scripts/run.sh stop

# make cluster: three chat-servers on PostgreSQL and Redis behind HAProxy, on
# this machine (docs/CLUSTER.md); make cluster-stop stops them, the data stays
# in CLUSTER_DIR.
CLUSTER_DIR ?= build/cluster
.PHONY: cluster cluster-stop cluster-status
cluster: deps
	@$(MAKE) --no-print-directory all
	@BIN='$(BUILD)' sh scripts/cluster.sh start '$(CLUSTER_DIR)'

cluster-stop:
	@BIN='$(BUILD)' sh scripts/cluster.sh stop '$(CLUSTER_DIR)'

cluster-status:
	@BIN='$(BUILD)' sh scripts/cluster.sh status '$(CLUSTER_DIR)'

$(BUILD)/libchat.pc: Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCDIR)' '' \
		'Name: libchat' 'Description: end-to-end encrypted chat client library' \
		'Version: $(VERSION)' 'Requires.private: $(PKGS_LIB)' \
		'Libs: -L$${libdir} -lchat' 'Cflags: -I$${includedir}' > $@

install: all $(BUILD)/libchat.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCDIR) $(DESTDIR)$(PKGCONFDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(BUILD)/chatctl $(DESTDIR)$(BINDIR)/chatctl
	install -m 755 $(BUILD)/chat-tui $(DESTDIR)$(BINDIR)/chat-tui
	install -m 755 $(BUILD)/chat-server $(DESTDIR)$(SBINDIR)/chat-server
	install -m 644 $(BUILD)/libchat.a $(DESTDIR)$(LIBDIR)/libchat.a
	install -m 755 $(BUILD)/libchat.so $(DESTDIR)$(LIBDIR)/libchat.so.$(VERSION)
	ln -sf libchat.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libchat.so
	install -m 644 client-lib/chat.h $(DESTDIR)$(INCDIR)/chat.h
	install -m 644 $(BUILD)/libchat.pc $(DESTDIR)$(PKGCONFDIR)/libchat.pc
	install -m 644 man/chatctl.1 $(DESTDIR)$(MANDIR)/man1/chatctl.1
	install -m 644 man/chat-tui.1 $(DESTDIR)$(MANDIR)/man1/chat-tui.1
	install -m 644 man/libchat.3 $(DESTDIR)$(MANDIR)/man3/libchat.3
	install -m 644 man/chat-server.8 $(DESTDIR)$(MANDIR)/man8/chat-server.8

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/chatctl $(DESTDIR)$(BINDIR)/chat-tui \
		$(DESTDIR)$(SBINDIR)/chat-server $(DESTDIR)$(MANDIR)/man1/chat-tui.1 \
		$(DESTDIR)$(LIBDIR)/libchat.a $(DESTDIR)$(LIBDIR)/libchat.so* \
		$(DESTDIR)$(INCDIR)/chat.h $(DESTDIR)$(PKGCONFDIR)/libchat.pc \
		$(DESTDIR)$(MANDIR)/man1/chatctl.1 $(DESTDIR)$(MANDIR)/man3/libchat.3 \
		$(DESTDIR)$(MANDIR)/man8/chat-server.8

# The project's style is .clang-format (tabs, tmux/BSD layout); bench/ included,
# and examples/ (its own .clang-format: 72 columns, for man/libchat.3).
FORMAT_SRC = $(wildcard common/*.[ch] client-lib/*.[ch] server-stub/*.[ch] cli/*.[ch] tui/*.[ch] tests/unit/*.c tests/tools/*.c bench/*.c examples/*.c)
format:
	clang-format -i $(FORMAT_SRC)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(SERVER_OBJ:.o=.d) $(TUI_OBJ:.o=.d) $(ARGS_OBJ:.o=.d)
