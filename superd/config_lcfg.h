/*
 * config_lcfg.h - what the files that see libconfig share: config.c,
 * config_read.c, config_keys.c and config_confine.c.
 *
 * The other config files never see libconfig's types; this header goes
 * after config_int.h.
 */
#ifndef CONFIG_LCFG_H
#define CONFIG_LCFG_H

#include <libconfig.h>

/* One parsed libconfig file; kept until the end (defaults point into it). */
struct cfile {
	config_t	 cf_cfg;
	char		*cf_path;
	char		*cf_dir;	/* libconfig's include dir */
	int		 cf_seq;
};

/* The libconfig side of a load, kept out of the shared struct loader. */
struct lcfg {
	struct cfile		**lc_files;
	size_t			 lc_nfiles;
	const config_setting_t	*lc_dflt[CONFIG_KEYS_MAX]; /* superd block */
	const config_setting_t	*lc_include_at;
	const config_setting_t	*lc_inetd_at;
};

/* config_read.c */
struct where	 where_of(struct loader *, const config_setting_t *);
void		 serr(struct loader *, const config_setting_t *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
struct cfile	*cfile_load(struct loader *, const char *, int, int);
void		 cfile_free(struct cfile *);
const char	*get_string(struct build *, const config_setting_t *);
const char	*get_path(struct build *, const config_setting_t *);
int		 get_bool(struct build *, const config_setting_t *, int *);
int		 is_int(const config_setting_t *);
int		 get_int(struct build *, const config_setting_t *, long long,
		    long long, int *);
const char     **get_strings(struct build *, const config_setting_t *,
		    size_t *);

/* config_confine.c: the confinement keys, applied by config_keys.c */
int		 key_chroot(struct build *, const config_setting_t *);
int		 key_no_new_privs(struct build *, const config_setting_t *);
int		 key_capabilities(struct build *, const config_setting_t *);
int		 key_private_tmp(struct build *, const config_setting_t *);
int		 key_private_network(struct build *, const config_setting_t *);
int		 key_read_only(struct build *, const config_setting_t *);
int		 key_writable(struct build *, const config_setting_t *);

/* config_keys.c */
void		 build_apply(struct build *, const config_setting_t **,
		    const int *);

#endif /* CONFIG_LCFG_H */
