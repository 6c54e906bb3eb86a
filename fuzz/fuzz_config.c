/*
 * fuzz_config.c - config_load() (superd/config.c) on a whole superd.conf,
 * as superd -t and every start and reload read it, then config_enabled()
 * and the -t report.
 *
 * The input is the main file, in a private directory that also holds an
 * include directory, a file to @include and an inetd.conf, so that the
 * paths an input names lead somewhere.  Host, user and group names are
 * looked up in local files only (fuzz_local_names).
 *
 * The invariants are fuzz_conf.c's.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "superd.h"
#include "fuzz.h"
#include "fuzz_conf.h"

static char	 main_path[4096];

/* What the paths an input may name find in the directory. */
static const struct {
	const char	*fx_name;
	const char	*fx_text;
} fixtures[] = {
	{ "inc.d/10-first.conf",
	  "services : (\n"
	  "  { name = \"inc-a\"; address = \"127.0.0.1\"; port = 0;"
	  " server = \"/bin/cat\"; }\n"
	  ");\n" },
	{ "inc.d/20-second.conf",
	  "services : (\n"
	  "  { name = \"inc-b\"; protocol = \"udp\"; port = 0;"
	  " builtin = \"daytime\"; }\n"
	  ");\n" },
	{ "inc.d/notes.txt", "not a .conf: never read\n" },
	{ "part.inc", "instances = 3;\n" },
	{ "inetd.conf",
	  "# a classic inetd.conf\n"
	  "daytime\tstream\ttcp\tnowait\troot\tinternal\n"
	  "127.0.0.1:echo\tstream\ttcp4\tnowait.10\troot:root\t/bin/cat\tcat\n"
	  "tcpmux/+lister\tstream\ttcp\tnowait\troot\t/bin/ls\tls -l\n" },
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 path[8192];
	size_t	 i;

	(void)argc;
	(void)argv;
	fuzz_local_names();
	snprintf(path, sizeof(path), "%s/inc.d", fuzz_dir());
	if (mkdir(path, 0700) == -1) {
		perror(path);
		exit(2);
	}
	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		fuzz_write(fixtures[i].fx_name, fixtures[i].fx_text,
		    strlen(fixtures[i].fx_text));
	snprintf(main_path, sizeof(main_path), "%s/superd.conf", fuzz_dir());
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*cf;

	fuzz_write("superd.conf", data, size);
	cf = config_load(main_path, &errs);
	fuzz_check_load(main_path, cf, &errs);
	config_errors_clear(&errs);
	FUZZ_ASSERT(errs.ce_msg == NULL && errs.ce_count == 0);
	config_free(cf);
	return 0;
}
