# SPDX-License-Identifier: BSD-2-Clause
# ptftpd - one hand-written Makefile. See README for the two commands.
#   make              build build/ptftpd and build/ptftpd-stat
#   make run          build and serve etc/ptftpd.dev.conf in the foreground
#   make check        unit + integration + interop tests (installs deps)
#   make bench-loss   ptftpd vs atftpd, dnsmasq at 0/1/3/10 % loss (root)
#   make check SANITIZE=1   the same under ASan + UBSan (libc malloc)
#   make install PREFIX=/usr DESTDIR=...
#   make deb          Debian package (scripts/debian/, dpkg-buildpackage -b)
#   make deb-test     install, use and purge that package on a fresh Debian 12
#   make systemd-test that package under a real systemd (systemd-nspawn --boot)
# Our flags come first, the user's CPPFLAGS/CFLAGS/LDFLAGS last. Only make
# run, make check (and unit, integration, bench) and make deps install
# packages (scripts/deps.sh); plain make and make install never do.
# WERROR=1 (the default: dev builds, make check, CI) makes warnings errors;
# the package build sets WERROR=0 (another compiler's new warnings must not
# break a user's build).

BUILD		?= build
PREFIX		?= /usr/local
SYSCONFDIR	?= /etc
DESTDIR		?=
SANITIZE	?=
CC		?= cc
PKG_CONFIG	?= pkg-config
WERROR		?= 1

WARN	 = -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla
BASE	 = -std=gnu11 -g -O2 -D_GNU_SOURCE -Iinclude $(WARN) -MMD -MP \
	   -fno-strict-aliasing
LIBS_RUN = libconfig libseccomp liburing
ifeq ($(SANITIZE),1)
BASE	+= -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
SAN_LD	 = -fsanitize=address,undefined
override BUILD = build-san
else
LIBS_RUN += jemalloc
endif

PKG_CFLAGS	 = $(shell $(PKG_CONFIG) --cflags $(LIBS_RUN) 2>/dev/null)
PKG_LIBS	 = $(shell $(PKG_CONFIG) --libs $(LIBS_RUN) 2>/dev/null)
CHECK_CFLAGS	 = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS	 = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

ALL_CFLAGS	 = $(BASE) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS	 = $(SAN_LD) $(LDFLAGS)

# Every src/*.c is a module object except the two program entry points.
PROG_SRCS	 = src/main.c src/ptftpd_stat.c
MOD_SRCS	 = $(filter-out $(PROG_SRCS),$(wildcard src/*.c))
MOD_OBJS	 = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(MOD_SRCS))

# Unit tests: tests/unit/check_<m>.c links only the objects it names here,
# so a pure module that grows an upward dependency fails to link.
check_tftp_OBJS	 = tftp num
check_sess_OBJS	 = sess
check_timer_OBJS = timer
check_fs_OBJS	 = fs tftp num
check_conf_OBJS	 = conf conf_policy addr num
check_route_OBJS = route conf conf_policy addr num
check_stats_OBJS = stats
check_limit_OBJS = limit addr num
check_execd_OBJS = execd conf conf_policy addr num priv
check_tmpl_OBJS	 = tmpl addr num
check_module_OBJS = module addr num
check_ring_OBJS	 = ring
check_addr_OBJS	 = addr num
check_priv_OBJS	 = priv
check_log_OBJS	 = log
check_txq_OBJS	 = txq sess tftp num net ring log
check_admit_OBJS = admit route limit conf conf_policy addr num log net tftp
check_content_OBJS = content conf conf_policy module tmpl execd fs sess tftp \
		   addr num log priv
check_tclient_OBJS = tools/tclient tftp num
check_wio_OBJS	 = wio_epoll wio_uring ring txq sess tftp num net log
UNIT_SRCS	 = $(wildcard tests/unit/check_*.c)
UNIT_BINS	 = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

# Test tools (clients, relays): tests/tools/<t>.c with the objects named.
# tclient.c (the client protocol, pure) and tcio.c (its socket and argument
# helpers) are no programs: tftpc and loadgen link them (obj/tools/).
TOOL_LIB	 = tools/tclient tools/tcio
tftpc_OBJS	 = $(TOOL_LIB) tftp num
flood_OBJS	 = tools/tcio addr tftp num
TOOL_SRCS	 = $(filter-out $(patsubst tools/%,tests/tools/%.c,$(TOOL_LIB)),\
		   $(wildcard tests/tools/*.c))
TOOL_BINS	 = $(patsubst tests/tools/%.c,$(BUILD)/%,$(TOOL_SRCS))

PROGS		 = $(BUILD)/ptftpd $(if $(wildcard src/ptftpd_stat.c),$(BUILD)/ptftpd-stat)

# Dynamic content modules: src/modules/<m>.c -> $(BUILD)/modules/<m>.so,
# compiled against the public header only.
MODULES		 = $(patsubst src/modules/%.c,$(BUILD)/modules/%.so,$(wildcard src/modules/*.c))

.PHONY: all deps deps-check deps-bench run check unit integration install \
	clean bench bench-loss fuzz-smoke deb deb-test systemd-test
.SECONDEXPANSION:

# The goals that install what they need first (order-only, before any
# compiler runs); any other goal, plain make included, runs no apt-get.
ifneq ($(filter check unit integration,$(MAKECMDGOALS)),)
AUTO_DEPS	 = deps-check
else ifneq ($(filter bench,$(MAKECMDGOALS)),)
AUTO_DEPS	 = deps-bench
else ifneq ($(filter run,$(MAKECMDGOALS)),)
AUTO_DEPS	 = deps
endif

all: $(PROGS) $(MODULES)

deps:
	@scripts/deps.sh build

deps-check:
	@scripts/deps.sh check

$(BUILD)/obj/%.o: src/%.c | $(AUTO_DEPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/tools/%.o: tests/tools/%.c | $(AUTO_DEPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/modules/%.so: src/modules/%.c include/ptftpd/module.h | $(AUTO_DEPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared -fPIC -o $@ $< $(ALL_LDFLAGS)

# check_module and check_content load the example module (found next to
# the tests).
$(BUILD)/tests/check_module $(BUILD)/tests/check_content: | $(MODULES)

$(BUILD)/obj/main.o: src/main.c | $(AUTO_DEPS)
$(BUILD)/ptftpd: $(BUILD)/obj/main.o $(MOD_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

# ptftpd-stat links stats.o, num.o and libconfig (for stats.path) alone: no
# seccomp, io_uring or jemalloc in a tool that only reads a mapping.
STAT_LIBS	 = $(shell $(PKG_CONFIG) --libs libconfig 2>/dev/null || echo -lconfig)
$(BUILD)/ptftpd-stat: $(BUILD)/obj/ptftpd_stat.o $(BUILD)/obj/stats.o \
    $(BUILD)/obj/num.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(STAT_LIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $$(addprefix $(BUILD)/obj/,$$(addsuffix .o,$$($$*_OBJS))) | deps-check
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -o $@ $< \
	    $(addprefix $(BUILD)/obj/,$(addsuffix .o,$($*_OBJS))) $(ALL_LDFLAGS) \
	    $(PKG_LIBS) $(CHECK_LIBS)

$(BUILD)/%: tests/tools/%.c $$(addprefix $(BUILD)/obj/,$$(addsuffix .o,$$($$*_OBJS))) | $(AUTO_DEPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(addprefix $(BUILD)/obj/,$(addsuffix .o,$($*_OBJS))) \
	    $(ALL_LDFLAGS) $(PKG_LIBS)

# Load generator for make bench (tests/bench/). make check builds it too,
# for test_loadgen's correctness checks; nothing timed runs there.
# liburing comes from deps-bench, which runs first: these expand after it.
LOADGEN_PKGS	 = liburing
LOADGEN_CFLAGS	 = $(shell $(PKG_CONFIG) --cflags $(LOADGEN_PKGS) 2>/dev/null)
LOADGEN_LIBS	 = $(shell $(PKG_CONFIG) --libs $(LOADGEN_PKGS) 2>/dev/null || echo -luring)

deps-bench:
	@scripts/deps.sh bench

LOADGEN_OBJS	 = $(addprefix $(BUILD)/obj/,$(addsuffix .o,$(TOOL_LIB) tftp num))
$(BUILD)/loadgen: tests/bench/loadgen.c $(LOADGEN_OBJS) | deps-bench
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LOADGEN_CFLAGS) -o $@ $< $(LOADGEN_OBJS) \
	    $(ALL_LDFLAGS) $(PKG_LIBS) $(LOADGEN_LIBS)

# The bench's measuring stick (tests/bench/ceiling.c): the least work a
# read server can do per packet. Built by make bench only, never installed.
$(BUILD)/ceiling: tests/bench/ceiling.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS)

# Every libFuzzer harness in tests/fuzz/ for FUZZ_SECONDS (default 20) each.
fuzz-smoke:
	scripts/fuzz-smoke.sh

bench: $(PROGS) $(BUILD)/loadgen $(BUILD)/ceiling
	BUILD=$(BUILD) scripts/bench.sh

# ptftpd, atftpd and dnsmasq on a lossy loopback (private netns, nftables,
# root): LOSSES="0 1 3 10" by default; build/bench-loss/results.md.
bench-loss: $(PROGS) $(BUILD)/loadgen | deps-check
	BUILD=$(BUILD) scripts/bench-loss.sh

run: all
	@echo "ptftpd: serving etc/demo-root on 127.0.0.1:6969 and [::1]:6969"
	@echo "ptftpd: try   curl -s tftp://127.0.0.1:6969/hello.txt"
	@echo "ptftpd:       curl -s tftp://[::1]:6969/hello.txt"
	@echo "ptftpd: pid in /tmp/ptftpd-dev.pid, counters: build/ptftpd-stat -s /tmp/ptftpd-dev.stats"
	exec $(BUILD)/ptftpd -f -c etc/ptftpd.dev.conf

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

integration: $(PROGS) $(TOOL_BINS)
	@BUILD=$(BUILD) scripts/run-integration.sh

check: deps-check $(PROGS) $(UNIT_BINS) $(TOOL_BINS) $(BUILD)/loadgen
	@BUILD=$(BUILD) scripts/run-tests.sh $(UNIT_BINS)

# Where systemd looks for units (bookworm: /lib/systemd/system); without
# systemd's pkg-config file, $(PREFIX)/lib/systemd/system.
SYSTEMDUNITDIR	?= $(or $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir \
		   systemd 2>/dev/null),$(PREFIX)/lib/systemd/system)

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(SYSCONFDIR) \
	    $(DESTDIR)$(PREFIX)/lib/ptftpd/modules \
	    $(DESTDIR)$(PREFIX)/include/ptftpd \
	    $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 $(MODULES) $(DESTDIR)$(PREFIX)/lib/ptftpd/modules/
	install -m 0644 include/ptftpd/module.h $(DESTDIR)$(PREFIX)/include/ptftpd/
	sed 's|/usr/sbin/ptftpd|$(PREFIX)/sbin/ptftpd|g; s|/etc/ptftpd.conf|$(SYSCONFDIR)/ptftpd.conf|g' \
	    etc/ptftpd.service >$(DESTDIR)$(SYSTEMDUNITDIR)/ptftpd.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/ptftpd.conf ]; then \
	    echo "install: keeping existing $(DESTDIR)$(SYSCONFDIR)/ptftpd.conf"; \
	else \
	    install -m 0644 etc/ptftpd.conf $(DESTDIR)$(SYSCONFDIR)/ptftpd.conf; \
	fi

# The Debian package: scripts/debian/ is copied into a scratch tree of
# the committed sources (git archive HEAD), built there with
# dpkg-buildpackage -b; the .deb and its lintian report land in $(BUILD)/deb.
deb:
	BUILD=$(BUILD) scripts/deb-build.sh

# Need root and the fresh Debian 12 image (not part of make check);
# systemd-test also systemd-nspawn and a package from make deb.
deb-test:
	scripts/deb-test.sh

systemd-test:
	scripts/systemd-test.sh

clean:
	rm -rf build build-san

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/tools/*.d $(BUILD)/tests/*.d $(BUILD)/*.d)
