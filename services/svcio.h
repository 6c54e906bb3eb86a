/*
 * svcio.h - the descriptor helpers the shipped services share: reading the
 * client's request against a deadline, writing a whole reply, and draining
 * what a client sent beyond the part a service wanted.
 */
#ifndef SVCIO_H
#define SVCIO_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

void	 svc_deadline(struct timespec *, unsigned int);
ssize_t	 svc_read(int, void *, size_t, const struct timespec *);
int	 svc_write_all(int, const void *, size_t);
void	 svc_drain(int, int, unsigned int);
int	 svc_parse_seconds(const char *, unsigned int *);

#endif
