# corm - one non-recursive Makefile.
#
#   make            library (static + shared), CLI at build/corm, examples
#   make test       the whole suite under ASan + UBSan (build/asan/), on SQLite
#                   and on a throwaway PostgreSQL (CORM_TEST_SQLITE_ONLY=1: SQLite)
#   make demo       the seed scenarios, naive vs fixed, on a fresh SQLite file
#   make install    PREFIX=/usr/local
#   make valgrind   the suite at -O0 without sanitizers, under valgrind
#   make tsan       the connection pool's threads under ThreadSanitizer
#   make bench      corm vs raw sqlite3 C vs Django (docs/benchmarks.md);
#                   ARGS="--scale full", ARGS=--json, ARGS=--callgrind;
#                   DB=postgresql://... the same on PostgreSQL (libpq C)
#   make bench-pg   text vs binary PostgreSQL results (docs/postgresql.md)
#   make format     clang-format the tree (make test checks it)
#   make check-docs compile every C block of README.md and docs/*.md
#   make deps       install the missing Debian packages (every build runs it)
#   make demo-web   the demo bookstore over HTTP with the corm panel
#                   (corm serve; PORT=8000), docs/inspect.md
#   make bench-inspect  what the request recorder adds per request
#   make test-browser   the panel in headless Chromium (in make test too)
#   make fuzz       the libFuzzer targets of tests/fuzz, FUZZ_TIME seconds
#                   each (clang; FUZZ=lookup: one of them)
#
# Missing Debian packages are installed by the deps target (tools/deps.sh),
# which runs before anything is compiled, never while make reads this file.

.DEFAULT_GOAL := all

PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib
INCDIR   ?= $(PREFIX)/include
BINDIR   ?= $(PREFIX)/bin
B        ?= build
SAN      ?=
OPT      ?= -O2 -g

# Build dependencies.  Every rule that compiles, links or runs a checker
# waits for deps (an order-only prerequisite: it never makes a target out
# of date).  deps asks tools/deps.sh to install what is missing, only when
# pkg-config, python3 or clang-format cannot find something (libmicrohttpd
# is for `corm serve`, the demo web server, and its tests); its stamp is
# redone when deps.sh or the set of installed packages changes.
PKGS       := sqlite3 libpq cmocka jansson libmicrohttpd hiredis libcrypto
DEPS_STAMP := $(B)/deps.stamp
deps: $(DEPS_STAMP)
$(DEPS_STAMP): tools/deps.sh $(wildcard /var/lib/dpkg/status)
	@if ! { pkg-config --exists $(PKGS) && command -v python3 && command -v clang-format; } >/dev/null 2>&1; then \
	  echo "corm: installing missing build dependencies (tools/deps.sh build)"; \
	  tools/deps.sh build web cache || exit 1; \
	  pkg-config --exists $(PKGS) || { echo "corm: pkg-config still cannot find: $(PKGS)"; exit 1; }; \
	fi
	@mkdir -p $(@D) && touch $@

# pkg-config's answers exist only once deps has run, so they are read
# lazily: each variable runs pkg-config the first time a recipe expands it
# (after deps, which that recipe's target waits for) and then keeps the
# value.  A := here would run pkg-config while make reads this file, before
# anything is installed.
# make BACKENDS=sqlite: a library without the PostgreSQL backend, so without
# libpq (src/backend/nopg/pg_none.c links in place of pg.c; a postgresql://
# url fails saying so).  Default: both.  The corm.pc made matches.
comma       := ,
BACKENDS    ?= sqlite,postgresql
WITH_PG     := $(filter postgresql,$(subst $(comma), ,$(BACKENDS)))
PC_REQUIRES := sqlite3$(if $(WITH_PG), libpq) hiredis libcrypto
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PC_REQUIRES) jansson))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $(shell pkg-config --libs $(PC_REQUIRES)))$(PKG_LIBS)
JSON_LIBS  = $(eval JSON_LIBS := $(shell pkg-config --libs jansson))$(JSON_LIBS)
TEST_LIBS  = $(eval TEST_LIBS := $(shell pkg-config --libs cmocka))$(TEST_LIBS)
MHD_LIBS   = $(eval MHD_LIBS := $(shell pkg-config --libs libmicrohttpd))$(MHD_LIBS)

# The test build also checks the library's invariants (CORM_ALWAYS /
# CORM_NEVER in src/core/core_int.h abort on a broken one).
ifeq ($(SAN),1)
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  OPT      := -O1 -g
  DBGFLAGS := -DCORM_DEBUG
endif

CFLAGS_ALL  = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
              -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              $(OPT) $(DBGFLAGS) $(SANFLAGS) -MMD -MP -Iinclude $(PKG_CFLAGS) $(CFLAGS)
LIB_CFLAGS  = $(CFLAGS_ALL) -fPIC -fvisibility=hidden
APP_CFLAGS  = $(CFLAGS_ALL) -Wno-missing-prototypes
LDLIBS_ALL  = $(PKG_LIBS) -lm -pthread $(SANFLAGS)

LIB_SRC  := $(filter-out src/json/%,$(sort $(wildcard src/*/*.c)))
ifeq ($(WITH_PG),)
LIB_SRC  := $(filter-out src/backend/pg.c,$(LIB_SRC)) src/backend/nopg/pg_none.c
endif
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
CLI_SRC  := $(sort $(wildcard cli/*.c))
CLI_BOOT := $(filter-out cli/cmd_demo%.c cli/cmd_serve%.c cli/demo%.c,$(CLI_SRC))
GEN_DIR  := $(B)/gen
BOOKSTORE_C := $(GEN_DIR)/bookstore.c
BOOKSTORE_O := $(B)/obj/gen/bookstore.o

UNIT_SRC := $(sort $(wildcard tests/unit/*/test_*.c))
INT_SRC  := $(sort $(wildcard tests/integration/test_*.c tests/oom/test_*.c tests/invariants/test_*.c))
EX_SRC   := $(sort $(wildcard examples/*.c))
UNIT_BIN := $(UNIT_SRC:tests/%.c=$(B)/tests/%)
INT_BIN  := $(INT_SRC:tests/%.c=$(B)/tests/%)
EX_BIN   := $(EX_SRC:examples/%.c=$(B)/examples/%)
FUZZ_NAMES := schema lookup queryset
FUZZ_BIN := $(FUZZ_NAMES:%=$(B)/tests/fuzz/replay_%)
SUPPORT_SRC := $(sort $(wildcard tests/support/*.c))
SUPPORT_OBJ := $(SUPPORT_SRC:%.c=$(B)/obj/%.o)

.SECONDARY:
.PHONY: check-sqlite-only fuzz
.PHONY: all lib deps test test-run lint lint-deps demo install valgrind tsan bench bench-pg bench-search demo-web bench-inspect browser-deps test-browser check-src check-format check-layers check-sql-text check-exports check-docs format clean
all: lib $(B)/corm $(EX_BIN) | deps
lib: $(B)/libcorm.a $(B)/libcorm.so $(B)/corm.pc | deps

$(B)/obj/src/%.o: src/%.c | deps
	@mkdir -p $(@D)
	@echo '  CC    $<'
	@$(CC) $(LIB_CFLAGS) -c $< -o $@

$(B)/libcorm.a: $(LIB_OBJ) | deps
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/libcorm.so: $(LIB_OBJ) | deps
	$(CC) -shared -Wl,-soname,libcorm.so.0 -o $@ $^ $(LDLIBS_ALL)

$(B)/corm.pc: corm.pc.in
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCDIR@|$(INCDIR)|g' -e 's|@REQUIRES@|$(PC_REQUIRES)|g' corm.pc.in > $@

# The CLI is built twice: a bootstrap without the demo generates the
# bookstore models the demo (and the integration tests) are written against.
$(B)/obj/cli/%.o: cli/%.c | deps
	@mkdir -p $(@D)
	@echo '  CC    $<'
	@$(CC) $(APP_CFLAGS) -I$(GEN_DIR) -c $< -o $@

$(B)/obj/boot/%.o: cli/%.c | deps
	@mkdir -p $(@D)
	@echo '  CC    $< (bootstrap)'
	@$(CC) $(APP_CFLAGS) -DCORM_BOOTSTRAP -c $< -o $@

$(B)/corm-boot: $(CLI_BOOT:cli/%.c=$(B)/obj/boot/%.o) $(B)/libcorm.a | deps
	$(CC) -o $@ $^ $(LDLIBS_ALL) $(JSON_LIBS)

$(GEN_DIR)/bookstore.h $(GEN_DIR)/bookstore.c &: examples/bookstore.corm $(B)/corm-boot
	@mkdir -p $(GEN_DIR)
	$(B)/corm-boot gen examples/bookstore.corm -o $(GEN_DIR)

$(BOOKSTORE_O): $(BOOKSTORE_C) | deps
	@mkdir -p $(@D)
	@echo '  CC    $<'
	@$(CC) $(APP_CFLAGS) -I$(GEN_DIR) -c $< -o $@

$(CLI_SRC:cli/%.c=$(B)/obj/cli/%.o): $(GEN_DIR)/bookstore.h

$(B)/corm: $(CLI_SRC:cli/%.c=$(B)/obj/cli/%.o) $(BOOKSTORE_O) $(B)/libcorm.a | deps
	$(CC) -o $@ $^ $(LDLIBS_ALL) $(JSON_LIBS) $(MHD_LIBS)

$(B)/examples/%: examples/%.c $(BOOKSTORE_O) $(B)/libcorm.a | deps
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -I$(GEN_DIR) $< $(BOOKSTORE_O) $(B)/libcorm.a -o $@ $(LDLIBS_ALL)

# corm lint (docs/nplusone.md): its own program, as it needs libclang
# (tools/deps.sh lint, installed here before it is built).  make lint builds
# it and lints the project's examples, tests and demo (tests/lint/check.sh).
$(B)/corm-lint: lint/lint.c $(B)/libcorm.a | deps
	@tools/deps.sh lint
	@mkdir -p $(@D)
	@d=$$(ls -d /usr/lib/llvm-*/include/clang-c | sort -V | tail -1); d=$${d%/include/clang-c}; \
	  echo "  CC    $< (libclang in $$d)"; \
	  $(CC) $(APP_CFLAGS) -I$$d/include $< $(B)/libcorm.a -o $@ -L$$d/lib -lclang \
	    -Wl,-rpath,$$d/lib $(LDLIBS_ALL) $(JSON_LIBS)

lint: $(B)/corm-lint $(GEN_DIR)/bookstore.h $(GEN_DIR)/shop/shop.h $(GEN_DIR)/default_eager/default_eager.h $(B)/corm lint-deps
	@tests/lint/check.sh $(B)/corm-lint $(GEN_DIR) $(B)/corm

# Tests: each file is one cmocka program linked against the static library,
# the generated bookstore and tests/support.
$(B)/obj/tests/%.o: tests/%.c $(GEN_DIR)/bookstore.h | deps
	@mkdir -p $(@D)
	@echo '  CC    $<'
	@$(CC) $(APP_CFLAGS) -I$(GEN_DIR) -Itests/support -Isrc -c $< -o $@

$(B)/tests/%: $(B)/obj/tests/%.o $(SUPPORT_OBJ) $(BOOKSTORE_O) $(B)/libcorm.a | deps
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(LDLIBS_ALL) $(TEST_LIBS)

# A program compiled with its migrations (docs/migrations.md, "Embedded
# migrations"): the shop schema of tests/migrations/embedded, generated by
# `corm gen --migrations`, linked into test_embedded_migrations.
SHOP_DIR := tests/migrations/embedded
$(GEN_DIR)/shop/shop.h $(GEN_DIR)/shop/shop.c &: $(SHOP_DIR)/shop.corm $(wildcard $(SHOP_DIR)/migrations/*) $(B)/corm-boot
	@mkdir -p $(GEN_DIR)/shop
	$(B)/corm-boot gen $(SHOP_DIR)/shop.corm --migrations $(SHOP_DIR)/migrations -o $(GEN_DIR)/shop
$(B)/obj/gen/shop.o: $(GEN_DIR)/shop/shop.c | deps
	@mkdir -p $(@D)
	@$(CC) $(APP_CFLAGS) -pedantic -I$(GEN_DIR)/shop -c $< -o $@
$(B)/obj/tests/integration/test_embedded_migrations.o: $(GEN_DIR)/shop/shop.h
$(B)/tests/integration/test_embedded_migrations: $(B)/obj/gen/shop.o

test: | deps
	$(MAKE) --no-print-directory B=build/asan SAN=1 test-run

# The SQLite-only build (BACKENDS=sqlite): its own build directory, a .pc
# without libpq, a library with no libpq symbol, and one test program linked
# without -lpq that runs.
NOPG_B := build/sqlite-only
check-sqlite-only: | deps
	@$(MAKE) --no-print-directory B=$(NOPG_B) SAN= BACKENDS=sqlite \
	  $(NOPG_B)/corm.pc $(NOPG_B)/tests/integration/test_queryset >/dev/null
	@! grep -q libpq $(NOPG_B)/corm.pc || { echo "check-sqlite-only: corm.pc names libpq"; exit 1; }
	@! nm $(NOPG_B)/libcorm.a | grep -q ' U PQ' || { echo "check-sqlite-only: libcorm.a uses libpq"; exit 1; }
	@CORM_TEST_SQLITE_ONLY=1 $(NOPG_B)/tests/integration/test_queryset >/dev/null 2>&1 || \
	  { echo "check-sqlite-only: test_queryset failed (run $(NOPG_B)/tests/integration/test_queryset)"; exit 1; }
	@echo "check-sqlite-only: BACKENDS=sqlite builds without libpq; test_queryset passes"

# The suite runs twice: on SQLite, then the integration programs, the
# PostgreSQL-only ones and the demo check again on a throwaway PostgreSQL
# (primary + streaming replica) that tools/pg-test-server.sh starts and
# stops.  CORM_TEST_SQLITE_ONLY=1 skips the second pass (and says so); a
# CORM_TEST_DB=postgresql://... of your own is used instead of starting one.
# The cache tests get a throwaway redis-server on a unix socket
# (tools/redis-test-server.sh, CORM_TEST_REDIS).
PG_ONLY_BIN := $(filter $(B)/tests/unit/backend/test_pg $(B)/tests/integration/test_replica $(B)/tests/integration/test_pg_faults,$(UNIT_BIN) $(INT_BIN))
SQLITE_BIN  := $(filter-out $(PG_ONLY_BIN),$(UNIT_BIN) $(INT_BIN)) $(FUZZ_BIN)
PG_BIN      := $(PG_ONLY_BIN) $(filter-out $(PG_ONLY_BIN),$(INT_BIN)) $(B)/tests/fuzz/replay_queryset

test-run: check-src check-format check-layers check-sql-text check-exports check-docs check-sqlite-only lib $(B)/corm $(UNIT_BIN) $(INT_BIN) $(FUZZ_BIN) $(EX_BIN) browser-deps lint-deps $(B)/corm-lint
	@tests/lint/check.sh $(B)/corm-lint $(GEN_DIR) $(B)/corm
	@B=$(B) tools/redis-test-server.sh run -- tools/pg-test-server.sh run -- tools/run-tests.sh \
	  --backend=sqlite $(SQLITE_BIN) tests/demo/check.sh:$(B)/corm tests/cli/check-help.sh:$(B)/corm tools/check-install.sh:$(B) \
	  tests/inspect/check-http.sh:$(B)/corm tests/browser/check-browser.sh:$(B) examples/api/check.sh:$(B) \
	  tests/migrations/check-docs.sh:$(B)/corm \
	  tests/inspect/check-viewcache.sh:$(B)/corm \
	  --backend=postgresql $(PG_BIN) tests/demo/check.sh:$(B)/corm examples/api/check.sh:$(B) \
	  tests/migrations/check-docs.sh:$(B)/corm

# The benchmark suite (docs/benchmarks.md): corm vs hand-written sqlite3 C
# vs Django on one SQLite file.  make bench [ARGS="--scale full --json"].
# make bench DB=postgresql://user@host:port/dbname: the same on a
# PostgreSQL server (libpq C, Django's postgresql backend); the bench makes
# its own databases there (corm_bench_N), see docs/benchmarks.md.
BENCH_SRC := bench/common.c bench/seed.c bench/seed_pg.c bench/raw_common.c bench/raw.c bench/raw_pg.c bench/orm.c bench/main.c
PYTHON    ?= /usr/bin/python3
$(B)/bench/obj/%.o: bench/%.c bench/bench.h bench/raw_common.h $(GEN_DIR)/bookstore.h | deps
	@mkdir -p $(@D)
	@echo '  CC    $<'
	@$(CC) $(APP_CFLAGS) -I$(GEN_DIR) -c $< -o $@

$(B)/bench/corm-bench: $(BENCH_SRC:bench/%.c=$(B)/bench/obj/%.o) $(BOOKSTORE_O) $(B)/libcorm.a | deps
	$(CC) -o $@ $(filter %.o,$^) -Wl,--whole-archive $(B)/libcorm.a -Wl,--no-whole-archive $(LDLIBS_ALL)

bench: $(B)/bench/corm-bench
	@tools/deps.sh bench
	@$(PYTHON) bench/run.py --bin $(B)/bench/corm-bench $(if $(DB),--db '$(DB)') $(ARGS)

# Text or binary results from PostgreSQL, measured (docs/postgresql.md):
# make bench-pg (optimized build, throwaway server).
$(B)/bench/pg_results: bench/pg_results.c $(BOOKSTORE_O) $(B)/libcorm.a | deps
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -I$(GEN_DIR) -Isrc $< $(BOOKSTORE_O) $(B)/libcorm.a -o $@ $(LDLIBS_ALL)

bench-pg: $(B)/bench/pg_results
	@tools/pg-test-server.sh run -- sh -c '$(B)/bench/pg_results "$$CORM_TEST_DB"'

# The connection pool's threads under ThreadSanitizer, on both databases.
tsan:
	$(MAKE) --no-print-directory B=build/tsan SANFLAGS=-fsanitize=thread OPT="-O1 -g" build/tsan/tests/integration/test_pool
	@B=build/tsan tools/pg-test-server.sh run -- tools/run-tests.sh \
	  --backend=sqlite build/tsan/tests/integration/test_pool \
	  --backend=postgresql build/tsan/tests/integration/test_pool

# make valgrind: the suite at -O0 without sanitizers under valgrind (memcheck,
# full leak check), on SQLite and on a throwaway PostgreSQL it starts itself.
# The quick tier (default): the unit tests and the core integration programs;
# VG_TIER=full: every program (slow: valgrind runs code some 30 times slower).
VG_TIER  ?= quick
VG_CORE  := queryset prefetch writes errors backends
VG_INT   := $(if $(filter full,$(VG_TIER)),$(INT_BIN),$(VG_CORE:%=$(B)/tests/integration/test_%))
VG_UNIT  := $(UNIT_BIN:build/%=build/vg/%)
VG_PGO   := $(filter $(PG_ONLY_BIN:build/%=build/vg/%),$(VG_UNIT) $(VG_INT:build/%=build/vg/%))
VG_SQL   := $(filter-out $(VG_PGO),$(VG_UNIT) $(VG_INT:build/%=build/vg/%))
valgrind:
	$(MAKE) --no-print-directory B=build/vg OPT="-O0 -g" lib $(VG_UNIT) $(VG_INT:build/%=build/vg/%)
	@B=build/vg RUNNER="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=1" \
	  tools/redis-test-server.sh run -- tools/pg-test-server.sh run -- tools/run-tests.sh --backend=sqlite $(VG_SQL) \
	  --backend=postgresql $(VG_PGO) $(filter-out $(VG_UNIT),$(VG_SQL))

demo: all | deps
	@rm -f $(B)/demo.db $(B)/demo.db-wal $(B)/demo.db-shm
	$(B)/corm demo --db sqlite:$(B)/demo.db

# The demo bookstore over HTTP with the panel (docs/inspect.md): open
# http://127.0.0.1:$(PORT)/ and http://127.0.0.1:$(PORT)/__corm/.
PORT ?= 8000
demo-web: all
	$(B)/corm serve --db sqlite:$(B)/serve.db --port $(PORT)

# What the recorder adds per request: recording on vs off, same load, same
# run (tests/inspect/serve.py bench; ARGS="--requests 2000 --concurrency 4").
bench-inspect: all
	@python3 tests/inspect/serve.py bench $(B)/corm $(ARGS)

# The browser tests need Debian's Chromium and playwright-core from npm
# (tests/browser/package-lock.json); both are installed here, never a
# browser download.  When Chromium cannot be installed the browser tests
# say so and are skipped.
browser-deps:
	@tools/deps.sh browser || echo "browser-deps: Chromium could not be installed: the browser tests will be skipped"
	@if command -v npm >/dev/null && [ ! tests/browser/node_modules/.package-lock.json -nt tests/browser/package-lock.json ]; then \
	  cd tests/browser && npm ci --no-audit --no-fund --loglevel=error; fi

# The SARIF schema and its validator for make lint (npm, like the browser
# tests' driver; node comes with tools/deps.sh browser).
lint-deps: browser-deps
	@if command -v npm >/dev/null && [ ! tests/lint/sarif/node_modules/.package-lock.json -nt tests/lint/sarif/package-lock.json ]; then \
	  cd tests/lint/sarif && npm ci --no-audit --no-fund --loglevel=error; fi

test-browser: all browser-deps
	@tests/browser/check-browser.sh $(B)

# src/ allocates only through src/core/alloc.c and never formats with sprintf.
check-src:
	@bad=$$(grep -nE '\b(malloc|calloc|realloc|free|strdup|strndup|sprintf)\s*\(' src/*/*.c \
	        | grep -v '^src/core/alloc.c' | grep -vE 'corm__|sqlite3_|PQ|snprintf' || true); \
	if [ -n "$$bad" ]; then echo "check-src: use corm__malloc & co. in src/:"; echo "$$bad"; exit 1; fi

# The C tree is formatted by clang-format (.clang-format); make format
# applies it, check-format (in make test) fails when a file differs.
FORMAT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null | grep -v '^tests/schema/')
format: | deps
	@clang-format -i $(FORMAT_SRC)

check-format: | deps
	@command -v clang-format >/dev/null || { echo "check-format: clang-format is missing (tools/deps.sh build)"; exit 1; }
	@bad=$$(for f in $(FORMAT_SRC); do clang-format "$$f" | cmp -s - "$$f" || echo "$$f"; done); \
	if [ -n "$$bad" ]; then echo "check-format: not formatted (run make format):"; echo "$$bad"; exit 1; fi

# Layers depend downward only (docs/architecture.md).
check-layers: | deps
	@tools/check-layers.sh

# SQL text is written by src/sql only: querysets, fetches and writes call
# its compiler (no SQL keyword in their string literals, no quoting or
# placeholders of their own).
check-sql-text: | deps
	@tools/check-sql-text.sh

# libcorm.so exports exactly the CORM_API declarations of include/corm.h
# and include/corm/*.h, each with the corm_ prefix and a definition.
check-exports: $(B)/libcorm.so $(B)/libcorm_json.so | deps
	@tools/check-exports.py $(B)/libcorm.so include/corm.h $(filter-out include/corm/json.h,$(wildcard include/corm/*.h))
	@tools/check-exports.py $(B)/libcorm_json.so include/corm/json.h

# Every C block of the README and docs/*.md compiles against the generated
# bookstore models (-Wall -Wextra -Werror; tools/check-docs.py says how a
# fragment is wrapped), and so do the examples/ programs.
DOC_MD := README.md $(sort $(wildcard docs/*.md))
check-docs: $(GEN_DIR)/bookstore.h $(EX_BIN) | deps
	@tools/check-docs.py --cc '$(CC)' --out $(B)/docs --gen $(GEN_DIR)/bookstore.h \
	  --cflags '-std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror' $(DOC_MD)

install: lib $(B)/corm
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/corm $(DESTDIR)$(BINDIR)
	install -m 644 $(B)/libcorm.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libcorm.so $(DESTDIR)$(LIBDIR)/libcorm.so.0
	ln -sf libcorm.so.0 $(DESTDIR)$(LIBDIR)/libcorm.so
	install -m 644 include/corm.h $(DESTDIR)$(INCDIR)/
	install -m 644 include/corm/*.h $(DESTDIR)$(INCDIR)/corm/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCDIR@|$(INCDIR)|g' -e 's|@REQUIRES@|$(PC_REQUIRES)|g' corm.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/corm.pc
	install -m 755 $(B)/corm $(DESTDIR)$(BINDIR)/
	install -m 644 $(B)/libcorm_json.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libcorm_json.so $(DESTDIR)$(LIBDIR)/libcorm_json.so.0
	ln -sf libcorm_json.so.0 $(DESTDIR)$(LIBDIR)/libcorm_json.so
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCDIR@|$(INCDIR)|g' corm-json.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/corm-json.pc

clean:
	rm -rf build

# libcorm_json (include/corm/json.h, docs/json.md): objects and rows to
# JSON and back with jansson, a library of its own so that a program
# without it does not link jansson (pkg-config corm-json).
JSON_SRC := $(sort $(wildcard src/json/*.c))
JSON_OBJ := $(JSON_SRC:%.c=$(B)/obj/%.o)
JSON_LIB := $(B)/libcorm_json.a $(B)/libcorm_json.so $(B)/corm-json.pc
lib: $(JSON_LIB)
$(B)/libcorm_json.a: $(JSON_OBJ) | deps
	@rm -f $@
	$(AR) rcs $@ $^

# The shared library uses libcorm.so's public API only, and carries its own
# (hidden) copy of core's allocation, buffers and errors, which libcorm.so
# does not export.
JSON_CORE := $(addprefix $(B)/obj/src/core/,alloc.o buf.o error.o)
$(B)/libcorm_json.so: $(JSON_OBJ) $(JSON_CORE) $(B)/libcorm.so src/json/libcorm_json.map | deps
	$(CC) -shared -Wl,-soname,libcorm_json.so.0 -Wl,--no-undefined \
	  -Wl,--version-script=src/json/libcorm_json.map -o $@ $(JSON_OBJ) $(JSON_CORE) \
	  -L$(B) -lcorm $(JSON_LIBS) $(LDLIBS_ALL)

$(B)/corm-json.pc: corm-json.pc.in
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCDIR@|$(INCDIR)|g' $< > $@

$(B)/tests/integration/test_json: $(B)/obj/tests/integration/test_json.o $(SUPPORT_OBJ) $(BOOKSTORE_O) $(B)/libcorm_json.a $(B)/libcorm.a | deps
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(LDLIBS_ALL) $(JSON_LIBS) $(TEST_LIBS)

# Fuzzing (tests/fuzz, docs/reliability.md).  make test links each target
# with tests/fuzz/replay.c (gcc, ASan + UBSan) and replays its committed
# corpus and crash reproducers; make fuzz builds the library and the
# targets with clang's libFuzzer (tools/deps.sh fuzz) in build/fuzz and
# runs each for FUZZ_TIME seconds, one after the other (the queryset one
# on SQLite and on a throwaway PostgreSQL).  New inputs go to
# build/fuzz/corpus/<target>; a failing one to tests/fuzz/crash/<target>/,
# to fix and commit as a regression input.
FUZZ_TIME ?= 60
FUZZ      ?= $(FUZZ_NAMES)
FUZZ_B    := build/fuzz
FUZZ_SAN  := -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer
# clang warns about GCC's cleanup-attribute variables (src/qs/qs_int.h), which
# the gcc build checks as written
FUZZ_CFLAGS := -Wno-unused-variable
$(B)/tests/fuzz/replay_%: $(B)/obj/tests/fuzz/fuzz_%.o $(B)/obj/tests/fuzz/replay.o $(SUPPORT_OBJ) $(BOOKSTORE_O) $(B)/libcorm.a | deps
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(LDLIBS_ALL) $(TEST_LIBS)
$(B)/tests/fuzz/fuzz_%: $(B)/obj/tests/fuzz/fuzz_%.o $(SUPPORT_OBJ) $(BOOKSTORE_O) $(B)/libcorm.a | deps
	@mkdir -p $(@D)
	$(CC) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_ALL) $(TEST_LIBS)
fuzz: | deps
	@tools/deps.sh fuzz
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=clang SAN=1 SANFLAGS='$(FUZZ_SAN)' CFLAGS='$(FUZZ_CFLAGS)' $(FUZZ:%=$(FUZZ_B)/tests/fuzz/fuzz_%)
	@for t in $(FUZZ); do \
	  mkdir -p $(FUZZ_B)/corpus/$$t tests/fuzz/crash/$$t; \
	  case $$t in schema) len=8192 ;; lookup) len=1024 ;; *) len=512 ;; esac; \
	  pg=""; [ $$t = queryset ] && pg="tools/pg-test-server.sh run --"; \
	  echo "fuzz: $$t for $(FUZZ_TIME) s"; \
	  B=$(FUZZ_B) $$pg $(FUZZ_B)/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -max_len=$$len \
	    -print_final_stats=1 -artifact_prefix=tests/fuzz/crash/$$t/ \
	    $(FUZZ_B)/corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

-include $(shell find build -name '*.d' 2>/dev/null)

# Exact decimals (issue 15): the schema of tests/integration/decimals.corm,
# generated into its own directory and linked into test_decimal.
$(GEN_DIR)/decimals/decimals.h $(GEN_DIR)/decimals/decimals.c &: tests/integration/decimals.corm $(B)/corm-boot
	@mkdir -p $(GEN_DIR)/decimals
	$(B)/corm-boot gen tests/integration/decimals.corm -o $(GEN_DIR)/decimals
$(B)/obj/gen/decimals.o: $(GEN_DIR)/decimals/decimals.c | deps
	@mkdir -p $(@D)
	@$(CC) $(APP_CFLAGS) -pedantic -I$(GEN_DIR)/decimals -c $< -o $@
$(B)/obj/tests/integration/test_decimal.o: $(GEN_DIR)/decimals/decimals.h
$(B)/tests/integration/test_decimal: $(B)/obj/gen/decimals.o

# Default eager loads (test_default_eager.c): tests/integration/default_eager.corm.
$(GEN_DIR)/default_eager/default_eager.h $(GEN_DIR)/default_eager/default_eager.c &: tests/integration/default_eager.corm $(B)/corm-boot
	@mkdir -p $(GEN_DIR)/default_eager
	$(B)/corm-boot gen tests/integration/default_eager.corm -o $(GEN_DIR)/default_eager
$(B)/obj/gen/default_eager.o: $(GEN_DIR)/default_eager/default_eager.c | deps
	@mkdir -p $(@D)
	@$(CC) $(APP_CFLAGS) -pedantic -I$(GEN_DIR)/default_eager -c $< -o $@
$(B)/obj/tests/integration/test_default_eager.o: $(GEN_DIR)/default_eager/default_eager.h
$(B)/tests/integration/test_default_eager: $(B)/obj/gen/default_eager.o

# tests/migrations/text: a generated model with trigram and search indexes,
# for test_migrations_indexes (querysets run on generated models).
TEXT_DIR := tests/migrations/text
$(GEN_DIR)/library/library.h $(GEN_DIR)/library/library.c &: $(TEXT_DIR)/library.corm $(B)/corm-boot
	@mkdir -p $(GEN_DIR)/library
	$(B)/corm-boot gen $(TEXT_DIR)/library.corm -o $(GEN_DIR)/library
$(B)/obj/gen/library.o: $(GEN_DIR)/library/library.c | deps
	@mkdir -p $(@D)
	@$(CC) $(APP_CFLAGS) -pedantic -I$(GEN_DIR)/library -c $< -o $@
$(B)/obj/tests/integration/test_migrations_indexes.o: $(GEN_DIR)/library/library.h
$(B)/tests/integration/test_migrations_indexes: $(B)/obj/gen/library.o

# icontains with and without a trigram index (PostgreSQL), search vs
# icontains (SQLite), on 100,000 titles (docs/benchmarks.md, "Text search"):
# make bench-search [DB=postgresql://...] (default: SQLite in memory).
$(B)/bench/corm-bench-search: bench/search.c $(GEN_DIR)/library/library.h $(B)/obj/gen/library.o $(B)/libcorm.a | deps
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -I$(GEN_DIR) $< $(B)/obj/gen/library.o $(B)/libcorm.a -o $@ $(LDLIBS_ALL)

bench-search: $(B)/bench/corm-bench-search
	$(B)/bench/corm-bench-search --db '$(or $(DB),sqlite::memory:)' $(ARGS)

# Django conformance ports (test_django_prefetch.c, test_django_related.c):
# Django's test models, tests/integration/django_prefetch.corm.
$(GEN_DIR)/django_prefetch/django_prefetch.h $(GEN_DIR)/django_prefetch/django_prefetch.c &: tests/integration/django_prefetch.corm $(B)/corm-boot
	@mkdir -p $(GEN_DIR)/django_prefetch
	$(B)/corm-boot gen tests/integration/django_prefetch.corm -o $(GEN_DIR)/django_prefetch
$(B)/obj/gen/django_prefetch.o: $(GEN_DIR)/django_prefetch/django_prefetch.c | deps
	@mkdir -p $(@D)
	@$(CC) $(APP_CFLAGS) -pedantic -I$(GEN_DIR)/django_prefetch -c $< -o $@
$(B)/obj/tests/integration/test_django_prefetch.o $(B)/obj/tests/integration/test_django_related.o: $(GEN_DIR)/django_prefetch/django_prefetch.h
$(B)/tests/integration/test_django_prefetch $(B)/tests/integration/test_django_related: $(B)/obj/gen/django_prefetch.o
# Bulk writes over arrays (test_bulk_pg_arrays.c): tests/integration/bulk_arrays.corm.
$(GEN_DIR)/bulk_arrays/bulk_arrays.h $(GEN_DIR)/bulk_arrays/bulk_arrays.c &: tests/integration/bulk_arrays.corm $(B)/corm-boot
	@mkdir -p $(GEN_DIR)/bulk_arrays
	$(B)/corm-boot gen tests/integration/bulk_arrays.corm -o $(GEN_DIR)/bulk_arrays
$(B)/obj/gen/bulk_arrays.o: $(GEN_DIR)/bulk_arrays/bulk_arrays.c | deps
	@mkdir -p $(@D)
	@$(CC) $(APP_CFLAGS) -pedantic -I$(GEN_DIR)/bulk_arrays -c $< -o $@
$(B)/obj/tests/integration/test_bulk_pg_arrays.o $(B)/obj/tests/integration/test_bulk_diagnose.o $(B)/obj/tests/integration/test_hydrate_cells.o: $(GEN_DIR)/bulk_arrays/bulk_arrays.h
$(B)/tests/integration/test_bulk_pg_arrays $(B)/tests/integration/test_bulk_diagnose $(B)/tests/integration/test_hydrate_cells: $(B)/obj/gen/bulk_arrays.o
