# fuzz/fuzz.mk - libFuzzer targets for every parser of untrusted or operator
# input, included by the top-level Makefile.
#
#   make fuzz               install clang and libFuzzer if missing, then run
#                           every target for FUZZ_SECONDS (default 60) each
#   make fuzz-TARGET        run one target (e.g. make fuzz-proxy FUZZ_SECONDS=600)
#   make check-fuzz-replay  feed every file of the tree's corpora once to each
#                           target built with $(CC) and ASan/UBSan, no libFuzzer
#
# Targets: config (superd.conf through config_load, the -t path),
# inetd_line (inetd_parse_line), inetd_conf (a whole inetd.conf through
# config_load), proxy (PROXY v1/v2), tcpmux (the name line), escape (a
# program's stderr on its way to the log), finger (the finger query),
# greeting (the greeting's name and state file), fdname (the names of
# descriptors handed over by systemd: $LISTEN_FDNAMES and instances'),
# cgroup (/proc/self/cgroup and mountinfo, where superd's cgroup is).
#
# The seeds are fuzz/corpus/TARGET; what a run adds goes to
# build/fuzz/corpus/TARGET and a crashing input to build/fuzz/artifacts/,
# never into the tree.  A crash that is fixed gets its input copied into
# fuzz/corpus/TARGET as regress-WHAT (.gitignore drops crash-*, leak-* and
# timeout-*), so check-fuzz-replay keeps it fixed.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?=
FUZZ_TARGETS  = config inetd_line inetd_conf proxy tcpmux escape finger greeting \
		fdname cgroup

FUZZ_BUILD = $(BUILD)/fuzz
FUZZ_SAN   = -fsanitize=address,undefined -fno-sanitize-recover=all \
	     -fno-omit-frame-pointer
FUZZ_CPPFLAGS = $(CPPFLAGS) -Iservices -Ifuzz
# clang's -Wformat=2 also flags a va_list passed on to vasprintf (gcc's
# does not); the project's warnings are gcc's, the rest stand.
FUZZ_WARN  = $(WARN) -Wno-format-nonliteral
FUZZ_HDRS  = superd/superd.h superd/config_int.h superd/config_lcfg.h \
	     $(SVC_HEADERS) fuzz/fuzz.h fuzz/fuzz_conf.h

# What the targets exercise, compiled here: never build/obj's objects.
FUZZ_UNDER = $(LIB_SRCS) services/fingerd_util.c services/greeting_util.c \
	     services/svcio.c fuzz/fuzz_common.c fuzz/fuzz_conf.c
FUZZ_OBJS   = $(FUZZ_UNDER:%.c=$(FUZZ_BUILD)/obj/%.o)
REPLAY_OBJS = $(FUZZ_UNDER:%.c=$(FUZZ_BUILD)/replay/%.o) \
	      $(FUZZ_BUILD)/replay/fuzz/replay.o
FUZZ_BINS   = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
REPLAY_BINS = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/replay/fuzz_%)

# Longest input per target: room past each parser's own limits.
FUZZ_MAXLEN_config     = 8192
FUZZ_MAXLEN_inetd_conf = 8192
FUZZ_MAXLEN_inetd_line = 1024
FUZZ_MAXLEN_proxy      = 4400
FUZZ_MAXLEN_tcpmux     = 512
FUZZ_MAXLEN_escape     = 4096
FUZZ_MAXLEN_finger     = 2048
FUZZ_MAXLEN_greeting   = 2048
FUZZ_MAXLEN_fdname     = 2048
FUZZ_MAXLEN_cgroup     = 4096
FUZZ_DICT_config     = fuzz/dict/config.dict
FUZZ_DICT_inetd_conf = fuzz/dict/inetd.dict
FUZZ_DICT_inetd_line = fuzz/dict/inetd.dict
FUZZ_DICT_proxy      = fuzz/dict/proxy.dict

# libconfig 1.5 leaks on a syntax error (see tests/valgrind/superd.supp),
# suppressed by its parser's name; every other leak fails the run.  The
# name is only seen through libconfig, built without frame pointers, by
# the slow unwinder: the targets that load a configuration use it.
FUZZ_ASAN = detect_leaks=1:abort_on_error=1
FUZZ_ASAN_config     = :fast_unwind_on_malloc=0
FUZZ_ASAN_inetd_conf = :fast_unwind_on_malloc=0
# The config targets' scratch directories go under build/, where a run
# that ends in a crash leaves its own for make clean.
FUZZ_ENV = LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp:print_suppressions=0 \
	   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	   TMPDIR=$(CURDIR)/$(FUZZ_BUILD)/tmp

.PHONY: fuzz fuzz-build check-fuzz-replay $(FUZZ_TARGETS:%=fuzz-%)
# Made by pattern rules only: without this make deletes them after a link.
.SECONDARY: $(FUZZ_OBJS) $(REPLAY_OBJS) \
	$(FUZZ_TARGETS:%=$(FUZZ_BUILD)/obj/fuzz/fuzz_%.o) \
	$(FUZZ_TARGETS:%=$(FUZZ_BUILD)/replay/fuzz/fuzz_%.o)

fuzz:
	@./packaging/install-deps fuzz
	$(MAKE) fuzz-build
	$(MAKE) $(FUZZ_TARGETS:%=fuzz-%)

fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/obj/%.o: %.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(CONFIG_CFLAGS) -std=c11 $(FUZZ_WARN) -O1 -g \
		$(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/fuzz/fuzz_%.o $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ \
		$(CONFIG_LIBS)

$(FUZZ_TARGETS:%=fuzz-%): fuzz-%: $(FUZZ_BUILD)/fuzz_%
	@mkdir -p $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/artifacts $(FUZZ_BUILD)/tmp
	$(FUZZ_ENV) ASAN_OPTIONS=$(FUZZ_ASAN)$(FUZZ_ASAN_$*) \
		$(FUZZ_BUILD)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) \
		-max_len=$(FUZZ_MAXLEN_$*) -timeout=10 -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_BUILD)/artifacts/$*- \
		$(if $(FUZZ_DICT_$*),-dict=$(FUZZ_DICT_$*)) $(FUZZ_FLAGS) \
		$(FUZZ_BUILD)/corpus/$* fuzz/corpus/$*

$(FUZZ_BUILD)/replay/%.o: %.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(CC) $(FUZZ_CPPFLAGS) $(CONFIG_CFLAGS) -std=c11 $(WARN) $(ASAN_FLAGS) \
		-c -o $@ $<

$(FUZZ_BUILD)/replay/fuzz_%: $(FUZZ_BUILD)/replay/fuzz/fuzz_%.o $(REPLAY_OBJS)
	$(CC) $(ASAN_FLAGS) $(LDFLAGS) -o $@ $^ $(CONFIG_LIBS)

check-fuzz-replay: $(REPLAY_BINS)
	@mkdir -p $(FUZZ_BUILD)/tmp
	@for t in $(FUZZ_TARGETS); do \
		$(FUZZ_ENV) ASAN_OPTIONS=$(FUZZ_ASAN):fast_unwind_on_malloc=0 \
		    $(FUZZ_BUILD)/replay/fuzz_$$t fuzz/corpus/$$t || exit 1; \
	done
