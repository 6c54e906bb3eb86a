/*
 * fuzz_inetd_conf.c - a whole classic inetd.conf, read by config_load()
 * through the inetd_conf setting of a fixed superd.conf: every line goes
 * through inetd_parse_line() (superd/config_inetd.c) and becomes a service with
 * superd's defaults, checked like any other.
 *
 * Invariants: fuzz_conf.c's, and for the services the lines make: no more
 * than one per line, named in the inetd.conf, a port of 1 to 65535 unless
 * reached through tcpmux only, and a service superd.conf already has
 * (daytime/tcp) is left to superd.conf.
 */
#include <stdio.h>
#include <string.h>

#include "superd.h"
#include "fuzz.h"
#include "fuzz_conf.h"

static const char main_text[] =
    "superd : {\n"
    "  inetd_conf = \"inetd.conf\";\n"
    "  instances = 9;\n"
    "};\n"
    "services : (\n"
    "  { name = \"daytime\"; address = \"127.0.0.1\"; port = 0;"
    " server = \"/bin/cat\"; }\n"
    ");\n";

static char	 main_path[4096], inetd_path[4096];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_local_names();
	fuzz_write("superd.conf", main_text, sizeof(main_text) - 1);
	snprintf(main_path, sizeof(main_path), "%s/superd.conf", fuzz_dir());
	snprintf(inetd_path, sizeof(inetd_path), "%s/inetd.conf", fuzz_dir());
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*cf;
	const struct svc_conf	*sc;
	size_t			 i, lines = 1;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	fuzz_write("inetd.conf", data, size);
	cf = config_load(main_path, &errs);
	fuzz_check_load(main_path, cf, &errs);
	if (cf != NULL) {
		FUZZ_ASSERT(cf->cf_nsvcs >= 1 && cf->cf_nsvcs <= 1 + lines);
		FUZZ_ASSERT(strcmp(cf->cf_inetd_conf, inetd_path) == 0);
		FUZZ_ASSERT(strcmp(cf->cf_svcs[0]->sc_name, "daytime") == 0 &&
		    cf->cf_svcs[0]->sc_server != NULL);
		for (i = 1; i < cf->cf_nsvcs; i++) {
			sc = cf->cf_svcs[i];
			FUZZ_ASSERT(strcmp(sc->sc_file, inetd_path) == 0);
			FUZZ_ASSERT(sc->sc_line >= 1 &&
			    (size_t)sc->sc_line <= lines);
			FUZZ_ASSERT(sc->sc_proto != PROTO_UNIX);
			FUZZ_ASSERT(!(sc->sc_proto == PROTO_TCP &&
			    strcmp(sc->sc_name, "daytime") == 0));
			if (sc->sc_port == -1)
				FUZZ_ASSERT(sc->sc_tcpmux);
			else
				FUZZ_ASSERT(sc->sc_port >= 1 &&
				    sc->sc_port <= 65535);
			FUZZ_ASSERT(memmem(data, size, sc->sc_name,
			    strlen(sc->sc_name)) != NULL);
		}
	}
	config_errors_clear(&errs);
	config_free(cf);
	return 0;
}
