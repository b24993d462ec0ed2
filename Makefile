# pubfeed: one non-recursive GNU Makefile.
#
# Every src/*.c except main.c goes into build/libpubfeed.a; the daemon and each
# unit test (tests/unit/check_<module>.c) link against it, so the linker pulls
# in only the modules a test really uses.  ASan/UBSan builds live in
# build/asan/ so both flavours can coexist.

PREFIX	?= /usr/local
DESTDIR	?=
BINDIR	 = $(PREFIX)/bin
SBINDIR	 = $(PREFIX)/sbin
DATADIR	 = $(PREFIX)/share/pubfeed
MANDIR	 = $(PREFIX)/share/man
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR	?= $(PREFIX)/lib/systemd/system

VERSION	 = 0.1.0
PKGS	 = libxml-2.0 libmicrohttpd libcurl zlib libsystemd sqlite3 jansson libical \
	   libcrypto
CC	?= cc
OPT	?= -O2 -g
CFLAGS	?= $(OPT)
PF_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	    -Wno-unused-parameter -Wstrict-prototypes -Wmissing-prototypes \
	    -Isrc -Ibuild -DPUBFEED_VERSION='"$(VERSION)"' \
	    $(shell pkg-config --cflags $(PKGS))
PF_LIBS	 = $(shell pkg-config --libs $(PKGS)) -lcsv -lpthread -lm
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS = $(shell pkg-config --libs check)

B	?= build
SAN	?=
ifeq ($(SAN),1)
B	 = build/asan
CFLAGS	 = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=undefined
LDSAN	 = -fsanitize=address,undefined
endif

LIB_SRCS ?= $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS = $(patsubst src/%.c,$(B)/obj/%.o,$(LIB_SRCS)) $(B)/obj/record_xsd.o
UNIT_SRCS = $(wildcard tests/unit/check_*.c)
UNIT_BINS = $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS = $(wildcard fuzz/fuzz_*.c)

all: pubfeed

pubfeed: $(B)/pubfeed
	@if [ "$(B)" = build ]; then cp -f $(B)/pubfeed pubfeed; fi

$(B)/pubfeed: $(B)/obj/main.o $(B)/libpubfeed.a
	$(CC) $(LDSAN) -o $@ $^ $(PF_LIBS)

$(B)/libpubfeed.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(B)/obj/%.o: src/%.c $(wildcard src/*.h) | $(B)/obj
	$(CC) $(CFLAGS) $(PF_CFLAGS) -MMD -MP -c -o $@ $<

# The record schema is compiled into the binary so a daemon never depends on
# finding schemas/ at run time.
$(B)/record_xsd.c: schemas/record.xsd | $(B)/obj
	{ printf 'const unsigned char record_xsd[] = {\n'; \
	  od -An -v -tx1 $< | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  printf '0x00 };\nconst unsigned long record_xsd_len = sizeof(record_xsd) - 1;\n'; } > $@

$(B)/obj/record_xsd.o: $(B)/record_xsd.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/obj $(B)/tests:
	mkdir -p $@

$(B)/tests/check_%: tests/unit/check_%.c $(B)/libpubfeed.a | $(B)/tests
	$(CC) $(CFLAGS) $(PF_CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(B)/libpubfeed.a \
	    $(LDSAN) $(CHECK_LIBS) $(PF_LIBS)

# check_alloc fails the Nth allocation the library makes: the linker sends
# the library's calls to the suite's own __wrap_ functions.
ALLOC_WRAP = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc \
	     -Wl,--wrap=reallocarray,--wrap=strdup,--wrap=strndup
$(B)/tests/check_alloc: CHECK_LIBS += $(ALLOC_WRAP)

# make check: unit tests (Check) then end-to-end tests against the real
# daemon; tests/summary.sh adds up every suite into one line.
# `make check` and `make run` first install missing Debian packages, then
# re-enter make so pkg-config sees them.
check:
	@sh .ci/deps.sh
	@$(MAKE) --no-print-directory check-run

check-run: $(B)/pubfeed $(UNIT_BINS)
	@B=$(B) PUBFEED=$(B)/pubfeed sh tests/run.sh

check-asan:
	$(MAKE) SAN=1 check

check-unit: $(UNIT_BINS)
	@B=$(B) PUBFEED=$(B)/pubfeed PUBFEED_SUITES=unit sh tests/run.sh

# libFuzzer targets: each links one parser's entry point.  The library is
# compiled once with coverage instrumentation (fuzzer-no-link), then `make
# fuzz` links every fuzz/fuzz_*.c and runs it for FUZZ_SECONDS over its seed
# corpus.
FUZZ_SECONDS ?= 20
FZ	 = build/fuzz
FZ_SAN	 = -fsanitize=address,undefined
FZ_CFLAGS = -O1 -g -std=c11 -D_GNU_SOURCE -Isrc -Ibuild \
	    -DPUBFEED_VERSION='"$(VERSION)"' $(shell pkg-config --cflags $(PKGS))
FZ_OBJS	 = $(patsubst src/%.c,$(FZ)/obj/%.o,$(LIB_SRCS)) $(FZ)/obj/record_xsd.o
FZ_BINS	 = $(patsubst fuzz/%.c,$(FZ)/%,$(FUZZ_SRCS))

$(FZ)/obj/%.o: src/%.c $(wildcard src/*.h) | $(FZ)/obj
	clang $(FZ_CFLAGS) -fsanitize=fuzzer-no-link $(FZ_SAN) -c -o $@ $<

$(FZ)/obj/record_xsd.o: $(B)/record_xsd.c | $(FZ)/obj
	clang -O1 -c -o $@ $<

$(FZ)/obj:
	mkdir -p $@

$(FZ)/libfuzzlib.a: $(FZ_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FZ)/fuzz_%: fuzz/fuzz_%.c $(FZ)/libfuzzlib.a
	clang $(FZ_CFLAGS) -fsanitize=fuzzer $(FZ_SAN) -o $@ $< \
	    $(FZ)/libfuzzlib.a $(PF_LIBS)

fuzz: $(FZ_BINS)
	@set -e; for b in $(FZ_BINS); do \
	  n=$$(basename $$b); \
	  mkdir -p $(FZ)/corpus-$$n; \
	  seeds=fuzz/corpus/$${n#fuzz_}; [ -d $$seeds ] || seeds=; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$b -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    $(FZ)/corpus-$$n $$seeds 2>$(FZ)/$$n.log || \
	    { tail -40 $(FZ)/$$n.log; exit 1; }; \
	  tail -1 $(FZ)/$$n.log; \
	done

run:
	@sh .ci/deps.sh
	@$(MAKE) --no-print-directory pubfeed
	./pubfeed serve -c config/pubfeed.conf

deps:
	sh .ci/deps.sh

bench: pubfeed
	sh bench/run.sh

# make install PREFIX=/usr DESTDIR=...: the binary, schemas/, the example
# configuration rewritten for an installed system (records in
# INSTALL_RECORDS, state in INSTALL_STATE, systemd's StateDirectory; an
# existing pubfeed.conf is never overwritten), both of those directories
# (empty, so the installed daemon starts as it is), the man pages and the
# systemd units (their paths follow BINDIR, SYSCONFDIR and the two
# directories).  Under DynamicUser= systemd moves the state directory to
# /var/lib/private/pubfeed on the first start and leaves a symlink.
INSTALL_RECORDS ?= /srv/pubfeed/records
INSTALL_STATE	?= /var/lib/pubfeed
install: pubfeed
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/schemas \
	    $(DESTDIR)$(SYSCONFDIR)/pubfeed $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	install -d -m 755 $(DESTDIR)$(INSTALL_RECORDS)
	install -d -m 700 $(DESTDIR)$(INSTALL_STATE)
	install -m 755 pubfeed $(DESTDIR)$(BINDIR)/pubfeed
	install -m 644 schemas/* $(DESTDIR)$(DATADIR)/schemas/
	if [ ! -e $(DESTDIR)$(SYSCONFDIR)/pubfeed/pubfeed.conf ]; then \
	    sed -e 's|^records config/records$$|records $(INSTALL_RECORDS)|' \
	        -e 's|^state build/state$$|state $(INSTALL_STATE)|' \
	        -e 's|^# Run from the repository root:.*|# Installed by make install; see pubfeed.conf(5).|' \
	        config/pubfeed.conf >$(DESTDIR)$(SYSCONFDIR)/pubfeed/pubfeed.conf.tmp && \
	    chmod 644 $(DESTDIR)$(SYSCONFDIR)/pubfeed/pubfeed.conf.tmp && \
	    mv $(DESTDIR)$(SYSCONFDIR)/pubfeed/pubfeed.conf.tmp \
	        $(DESTDIR)$(SYSCONFDIR)/pubfeed/pubfeed.conf; \
	else echo "keeping $(DESTDIR)$(SYSCONFDIR)/pubfeed/pubfeed.conf"; fi
	install -m 644 man/pubfeed.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/pubfeed.8 $(DESTDIR)$(MANDIR)/man8/
	for u in systemd/pubfeed.service systemd/pubfeed.socket; do \
	    sed -e 's|/usr/bin/pubfeed|$(BINDIR)/pubfeed|g' \
	        -e 's|/etc/pubfeed/|$(SYSCONFDIR)/pubfeed/|g' \
	        -e 's|/srv/pubfeed/records|$(INSTALL_RECORDS)|g' $$u \
	        >$(DESTDIR)$(UNITDIR)/$${u#systemd/} && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$${u#systemd/} || exit 1; \
	done

clean:
	rm -rf build pubfeed

.PHONY: all pubfeed check check-run check-asan check-unit fuzz run deps bench install clean

-include $(wildcard $(B)/obj/*.d)
