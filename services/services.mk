# services/services.mk - the shipped services and their unit tests, included
# by the top-level Makefile.
#
#   make services        build services/greeting and services/fingerd
#   make check-shipped   build and run the shipped services' Check runner
#                        (tests/check_shipped.c)

SERVICES += services/greeting services/fingerd

SVC_BUILD   = $(BUILD)/services
SVC_HEADERS = services/svcio.h services/greeting_util.h services/fingerd_util.h
GREETING_OBJS = $(SVC_BUILD)/greeting.o $(SVC_BUILD)/greeting_util.o \
		$(SVC_BUILD)/svcio.o
FINGERD_OBJS  = $(SVC_BUILD)/fingerd.o $(SVC_BUILD)/fingerd_util.o \
		$(SVC_BUILD)/svcio.o
SVC_TEST_OBJS = $(SVC_BUILD)/check_shipped.o $(SVC_BUILD)/greeting_util.o \
		$(SVC_BUILD)/fingerd_util.o $(SVC_BUILD)/svcio.o

.PHONY: check-shipped

$(SVC_BUILD)/%.o: services/%.c $(SVC_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(SVC_BUILD)/check_shipped.o: tests/check_shipped.c $(SVC_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iservices $(CHECK_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

services/greeting: $(GREETING_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

services/fingerd: $(FINGERD_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

$(BUILD)/check_shipped: $(SVC_TEST_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

check-shipped: $(BUILD)/check_shipped
	$(BUILD)/check_shipped
