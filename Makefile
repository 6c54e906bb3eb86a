# superd - one non-recursive makefile.
#
#   make            build superd/superd and the shipped services
#   make run        build, then run superd in the foreground with etc/superd-dev.conf
#   make check      install missing build/test packages, build, run every test
#   make check-asan the integration tests against an ASan+UBSan build
#   make check-deps no call or include cycle among superd's files
#   make install    install under $(DESTDIR)$(PREFIX)
#   make clean

PREFIX	?= /usr
SBINDIR	?= $(PREFIX)/sbin
LIBDIR	?= $(PREFIX)/lib/superd
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc

CC	?= cc
CFLAGS	?= -O2 -g
WARN	 = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2
CPPFLAGS += -D_GNU_SOURCE -Isuperd
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS)

PKG_CONFIG ?= pkg-config
CONFIG_CFLAGS = $(shell $(PKG_CONFIG) --cflags libconfig 2>/dev/null)
CONFIG_LIBS   = $(shell $(PKG_CONFIG) --libs libconfig 2>/dev/null || echo -lconfig)
CHECK_CFLAGS  = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS    = $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck)

BUILD	 = build
LIB_SRCS = $(filter-out superd/main.c,$(wildcard superd/*.c))
LIB_OBJS = $(LIB_SRCS:superd/%.c=$(BUILD)/obj/%.o)
ASAN_OBJS = $(LIB_SRCS:superd/%.c=$(BUILD)/asan/%.o)
SYSLIBC_OBJS = $(patsubst superd/%.c,$(BUILD)/syslibc/%.o,$(wildcard superd/*.c))
ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=undefined
# check_shipped.c is the shipped services' own runner (services/services.mk).
TEST_SRCS = $(filter-out tests/check_shipped.c,$(wildcard tests/check_*.c))
TEST_OBJS = $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%.o)

SERVICES =
MANPAGES = $(wildcard man/*.[1-9])

.PHONY: all run check check-unit check-it check-asan check-valgrind check-sys-libc check-man check-deps install clean deps
all: superd/superd services

-include services/services.mk
.PHONY: services
services: $(SERVICES)

deps:
	@./packaging/install-deps test

$(BUILD)/obj/%.o: superd/%.c $(wildcard superd/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CONFIG_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/asan/%.o: superd/%.c $(wildcard superd/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CONFIG_CFLAGS) -std=c11 $(WARN) $(ASAN_FLAGS) -c -o $@ $<

# The files of config_load() share private headers.
$(filter $(BUILD)/obj/config% $(BUILD)/asan/config%,$(LIB_OBJS) $(ASAN_OBJS)): \
	superd/config_int.h superd/config_lcfg.h

$(BUILD)/tests/%.o: tests/%.c $(wildcard superd/*.h) tests/check_superd.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CONFIG_CFLAGS) $(CHECK_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libsuperd.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/libsuperd-asan.a: $(ASAN_OBJS)
	$(AR) rcs $@ $^

superd/superd: $(BUILD)/obj/main.o $(BUILD)/libsuperd.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CONFIG_LIBS)

$(BUILD)/asan/superd: $(BUILD)/asan/main.o $(BUILD)/libsuperd-asan.a
	$(CC) $(ASAN_FLAGS) $(LDFLAGS) -o $@ $^ $(CONFIG_LIBS)

# superd's own calls of the allocators go through tests/check_config_oom.c,
# which fails the one it is told to; libconfig's and libc's do not.
OOM_WRAP = -Wl,--wrap=calloc,--wrap=realloc,--wrap=reallocarray \
	   -Wl,--wrap=strdup,--wrap=strndup,--wrap=vasprintf,--wrap=asprintf
$(BUILD)/check_superd: $(TEST_OBJS) $(BUILD)/libsuperd.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(OOM_WRAP) -o $@ $^ $(CHECK_LIBS) \
		$(CONFIG_LIBS)

# The development configuration names in-tree programs by absolute path.
run: deps
	$(MAKE) all
	@mkdir -p $(BUILD)/dev
	@touch $(BUILD)/dev/greeting.count
	sed -e "s|@TOP@|$(CURDIR)|g" -e "s|@USER@|$$(id -un)|g" \
		etc/superd-dev.conf > $(BUILD)/dev/superd.conf
	chmod 644 $(BUILD)/dev/superd.conf
	superd/superd -d -f $(BUILD)/dev/superd.conf -p '' -P $(BUILD)/dev/superd.ports

check: deps
	$(MAKE) all $(BUILD)/check_superd $(BUILD)/check_shipped
	$(MAKE) check-unit check-deps check-shipped check-man check-fuzz-replay check-it check-asan \
		check-valgrind check-sys-libc
	$(MAKE) check-systemd

check-unit: $(BUILD)/check_superd
	cd tests && ../$(BUILD)/check_superd

# The files call each other one way (README.md, Design): tests/deps.py
# reads who calls whom from the objects' symbols.
check-deps: $(BUILD)/obj/main.o $(LIB_OBJS)
	tests/deps.py $(BUILD)/obj superd

check-it: all
	tests/it/run superd/superd

check-asan: $(BUILD)/asan/superd
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	tests/it/run $(BUILD)/asan/superd

# The children's system calls through libc, and fork, as on architectures
# without superd's own system call path (superd/sys.h): what a child gets
# and how starts fail.
$(BUILD)/syslibc/%.o: superd/%.c $(wildcard superd/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DSUPERD_SYS_LIBC $(CONFIG_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/syslibc/superd: $(SYSLIBC_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CONFIG_LIBS)

check-sys-libc: $(BUILD)/syslibc/superd
	tests/it/run -k program $(BUILD)/syslibc/superd
	tests/it/run -k launch $(BUILD)/syslibc/superd

# Memcheck: the unit tests in one process, then superd through connections
# and reloads (only libconfig 1.5's own parse-error leak is suppressed).
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect \
	--suppressions=tests/valgrind/superd.supp
check-valgrind: $(BUILD)/check_superd superd/superd
	cd tests && CK_FORK=no $(subst tests/,,$(VALGRIND)) ../$(BUILD)/check_superd
	tests/valgrind/run.py superd/superd 1000 1000

check-man:
	@for m in $(MANPAGES); do mandoc -Tlint -W warning "$$m" || exit 1; done

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/superd.d
	install -m 755 superd/superd $(DESTDIR)$(SBINDIR)/superd
	@# An existing configuration is the administrator's: never replaced.
	[ -e $(DESTDIR)$(SYSCONFDIR)/superd.conf ] || \
		install -m 644 etc/superd.conf $(DESTDIR)$(SYSCONFDIR)/superd.conf
	for s in $(SERVICES); do install -m 755 $$s $(DESTDIR)$(LIBDIR)/; done
	for m in $(MANPAGES); do \
		s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done

clean:
	rm -rf $(BUILD) superd/superd $(SERVICES)
-include packaging/deb.mk
-include fuzz/fuzz.mk
-include bench/bench.mk
-include tests/soak/soak.mk
