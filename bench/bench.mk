# bench/bench.mk - `make bench`, included by the top-level Makefile: superd
# side by side with openbsd-inetd, xinetd, tcpserver, the fork/vfork and
# in-process limits and (as root, bench/systemd.py) systemd Accept=yes
# socket units in a booted machine, written to BENCHMARKS.md.  Not part of
# `make check`: it installs the anchors (as root) and takes several
# minutes.
#
#   make bench                      the full run
#   make bench BENCH_ARGS=--quick   short runs, to try the bench itself

BENCH_BUILD = $(BUILD)/bench
BENCH_PROGS = $(BENCH_BUILD)/loadgen $(BENCH_BUILD)/forkloop \
	      $(BENCH_BUILD)/inproc $(BENCH_BUILD)/reply $(BENCH_BUILD)/udpreply \
	      $(BENCH_BUILD)/nscost
# The exec'd services are linked statically: the dynamic loader would be
# most of their cost, and the same for every server measured.
BENCH_STATIC = $(BENCH_BUILD)/reply $(BENCH_BUILD)/udpreply
BENCH_ARGS ?=

.PHONY: bench bench-progs
bench:
	@./packaging/install-deps build
	$(MAKE) superd/superd bench-progs
	python3 bench/run.py --build $(BENCH_BUILD) --superd superd/superd \
		--out BENCHMARKS.md $(BENCH_ARGS)

bench-progs: $(BENCH_PROGS)

$(BENCH_STATIC): LDFLAGS += -static

$(BENCH_BUILD)/%: bench/%.c bench/bench.h
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<
