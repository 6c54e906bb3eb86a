# tests/soak/soak.mk - `make soak`, included by the top-level Makefile:
# superd under mixed load, reloads and faults for SOAK_SECONDS (default
# 120), then a check that descriptors, memory and children are back where
# they were and that the log holds nothing unexpected.  Not part of
# `make check`: it takes a few minutes.
#
#   make soak
#   make soak SOAK_SECONDS=600

SOAK_SECONDS ?= 120

.PHONY: soak
soak: all
	SOAK_SECONDS=$(SOAK_SECONDS) tests/soak/run.py superd/superd
