# services/services.mk - the shipped services and their unit tests, included
# by the top-level Makefile.
#
#   make services        build services/greeting and services/fingerd
#   make check-services  build and run the services' Check runner

SERVICES += services/greeting services/fingerd

SVC_BUILD   = $(BUILD)/services
SVC_HEADERS = services/svcio.h services/greeting_util.h services/fingerd_util.h
GREETING_OBJS = $(SVC_BUILD)/greeting.o $(SVC_BUILD)/greeting_util.o \
		$(SVC_BUILD)/svcio.o
FINGERD_OBJS  = $(SVC_BUILD)/fingerd.o $(SVC_BUILD)/fingerd_util.o \
		$(SVC_BUILD)/svcio.o
SVC_TEST_OBJS = $(SVC_BUILD)/check_services.o $(SVC_BUILD)/greeting_util.o \
		$(SVC_BUILD)/fingerd_util.o $(SVC_BUILD)/svcio.o

.PHONY: check-services

$(SVC_BUILD)/%.o: services/%.c $(SVC_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(SVC_BUILD)/check_services.o: tests/check_services.c $(SVC_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iservices $(CHECK_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

services/greeting: $(GREETING_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

services/fingerd: $(FINGERD_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

$(BUILD)/check_services: $(SVC_TEST_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

check-services: $(BUILD)/check_services
	$(BUILD)/check_services
