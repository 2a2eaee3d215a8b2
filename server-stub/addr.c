/*
 * addr.c - per-address accounting (see addr.h): a hash table of entries
 * chained by key, kept while a connection is open from the address or its
 * registration bucket is not full again.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Enough chains that a lookup stays short for many thousand addresses. */
#define ADDR_BUCKETS 4096

struct addr_table {
	struct addr_entry *chain[ADDR_BUCKETS];
	size_t n;
};

struct addr_table *
addr_table_new(void)
{
	return calloc(1, sizeof(struct addr_table));
}

void
addr_table_free(struct addr_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < ADDR_BUCKETS; i++) {
		while (t->chain[i] != NULL) {
			struct addr_entry *e = t->chain[i];

			t->chain[i] = e->next;
			free(e);
		}
	}
	free(t);
}

void
addr_key(const struct sockaddr *sa, socklen_t len, char out[ADDR_KEY_MAX])
{
	char host[INET6_ADDRSTRLEN];

	snprintf(out, ADDR_KEY_MAX, "?");
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;

		if (inet_ntop(AF_INET, &a->sin_addr, host, sizeof host))
			snprintf(out, ADDR_KEY_MAX, "%s", host);
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		struct in6_addr in = ((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(&in)) {
			if (inet_ntop(AF_INET, &in.s6_addr[12], host, sizeof host))
				snprintf(out, ADDR_KEY_MAX, "%s", host);
			return;
		}
		/* The /64: the host part is the client's to choose. */
		memset(&in.s6_addr[8], 0, 8);
		if (inet_ntop(AF_INET6, &in, host, sizeof host))
			snprintf(out, ADDR_KEY_MAX, "%s/64", host);
	}
}

/* FNV-1a. */
static size_t
slot(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % ADDR_BUCKETS;
}

struct addr_entry *
addr_get(struct addr_table *t, const char *key, int create)
{
	size_t i = slot(key);
	struct addr_entry *e;

	for (e = t->chain[i]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	if (!create || (e = calloc(1, sizeof *e)) == NULL)
		return NULL;
	snprintf(e->key, sizeof e->key, "%s", key);
	e->next = t->chain[i];
	t->chain[i] = e;
	t->n++;
	return e;
}

/* 1 if nothing needs e any more. */
static int
idle(struct addr_entry *e, double reg_rate, double reg_burst, int64_t now_us)
{
	if (e->conns > 0)
		return 0;
	if (!e->reg.started || reg_rate <= 0)
		return 1;
	rate_refill(&e->reg, reg_rate, reg_burst, now_us);
	return e->reg.tokens >= reg_burst;
}

static void
unlink_entry(struct addr_table *t, struct addr_entry *e)
{
	struct addr_entry **pp = &t->chain[slot(e->key)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->next;
	if (*pp == e) {
		*pp = e->next;
		t->n--;
		free(e);
	}
}

void
addr_release(struct addr_table *t, struct addr_entry *e, double reg_rate, double reg_burst,
	     int64_t now_us)
{
	if (e != NULL && idle(e, reg_rate, reg_burst, now_us))
		unlink_entry(t, e);
}

void
addr_sweep(struct addr_table *t, double reg_rate, double reg_burst, int64_t now_us)
{
	for (size_t i = 0; i < ADDR_BUCKETS; i++) {
		struct addr_entry **pp = &t->chain[i];

		while (*pp != NULL) {
			struct addr_entry *e = *pp;

			if (idle(e, reg_rate, reg_burst, now_us)) {
				*pp = e->next;
				t->n--;
				free(e);
			} else {
				pp = &e->next;
			}
		}
	}
}

size_t
addr_count(const struct addr_table *t)
{
	return t->n;
}
