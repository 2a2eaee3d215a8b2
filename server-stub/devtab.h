/*
 * devtab.h - the devices the server has connections of: a hash on the user
 * name, each entry one device (user, device id) with its receiving
 * connection, every connection authenticated as it, and its rate buckets.
 *
 * It is what makes the events of the network side O(1) (issue 12): new
 * inbox rows find the device's receiving connection, an auth the one it
 * replaces, "is user online" the user's few devices, a removal the device's
 * connections, without a walk of every connection.  All devices of a user
 * share a chain (the hash is of the name alone), so a user's devices are one
 * chain's walk.  The table grows by doubling; it never shrinks.
 */
#ifndef CHAT_SERVER_DEVTAB_H
#define CHAT_SERVER_DEVTAB_H

#include <stddef.h>
#include <stdint.h>

#include "wheel.h"
#include "wire.h"

/* Embedded in a connection: its place in its device's list. */
struct dev_member {
	struct dev_member *next, **pprev;
};

struct dev_entry {
	struct dev_entry *next; /* the chain of its bucket */
	uint32_t hash;          /* of user */
	uint32_t device_id;
	struct dev_member *members; /* the connections authenticated as it */
	void *recv;                 /* its receiving connection, or NULL */
	/* The device's rate buckets, shared by all its connections, and kept
	 * after the last closes until they are full again (server_hooks.c). */
	struct rate_pair pair;
	struct wheel_node idle;
	char user[]; /* NUL-terminated */
};

struct devtab {
	struct dev_entry **bucket;
	size_t n_buckets; /* a power of two */
	size_t n;
};

/* 0, or -1 when out of memory. */
int devtab_init(struct devtab *t);
/* Frees every entry (their members are the caller's). */
void devtab_free(struct devtab *t);

/* The entry of (user, device_id); with create, a new zeroed one if there is
 * none. NULL if there is none, or when out of memory. */
struct dev_entry *devtab_get(struct devtab *t, const char *user, uint32_t device_id, int create);

/* The entries of user, one after the other: start with prev NULL. */
struct dev_entry *devtab_next_of_user(const struct devtab *t, const char *user,
				      const struct dev_entry *prev);

/* Unlink e and free it; it must have no members. */
void devtab_remove(struct devtab *t, struct dev_entry *e);

/* Add m to e's members; take it out of whichever list it is in (nothing if
 * none). */
void devtab_join(struct dev_entry *e, struct dev_member *m);
void devtab_leave(struct dev_member *m);

#endif /* CHAT_SERVER_DEVTAB_H */
