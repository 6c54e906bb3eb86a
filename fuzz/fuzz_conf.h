/*
 * fuzz_conf.h - the invariants of config_load()'s result (fuzz_conf.c).
 */
#ifndef FUZZ_CONF_H
#define FUZZ_CONF_H

struct conf;
struct conf_errors;

/* Checks what config_load(main_path) returned; aborts on a violation. */
void	 fuzz_check_load(const char *, const struct conf *,
	    const struct conf_errors *);

#endif
