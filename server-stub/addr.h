/*
 * addr.h - what chat-server counts per client address: the connections open
 * from it (for --max-connections-per-address) and its registrations (a token
 * bucket, --register-rate).  An IPv4 address counts alone; an IPv6 address
 * counts with its whole /64, which one host usually holds all of.  No
 * libwebsockets, so the unit tests drive it directly.
 */
#ifndef CHAT_SERVER_ADDR_H
#define CHAT_SERVER_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wire.h"

/* "192.0.2.1", "2001:db8:1:2::/64": the longest key and its NUL. */
#define ADDR_KEY_MAX 64

struct addr_entry {
	struct addr_entry *next; /* in its hash chain */
	char key[ADDR_KEY_MAX];
	int conns;              /* connections open from it */
	struct rate_bucket reg; /* registrations; never started: full */
};

struct addr_table;

/* NULL when out of memory. */
struct addr_table *addr_table_new(void);
void addr_table_free(struct addr_table *t);

/* The key of a peer address: the IPv4 address (an IPv4-mapped IPv6 one
 * included), or the IPv6 /64 as "PREFIX::/64"; "?" for anything else. */
void addr_key(const struct sockaddr *sa, socklen_t len, char out[ADDR_KEY_MAX]);

/* The entry of key, made (zeroed) if create and there is none; NULL if not
 * found or out of memory. */
struct addr_entry *addr_get(struct addr_table *t, const char *key, int create);

/* Forget e if nothing keeps it: no connection, and a registration bucket
 * that is full again at now_us (refilled at reg_rate a second up to
 * reg_burst). */
void addr_release(struct addr_table *t, struct addr_entry *e, double reg_rate, double reg_burst,
		  int64_t now_us);

/* addr_release for every entry: run now and then, for those whose bucket
 * filled up again after their last connection closed. */
void addr_sweep(struct addr_table *t, double reg_rate, double reg_burst, int64_t now_us);

/* Entries in the table (for tests and the log). */
size_t addr_count(const struct addr_table *t);

#endif /* CHAT_SERVER_ADDR_H */
