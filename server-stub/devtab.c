/*
 * devtab.c - the devices the server has connections of (see devtab.h).
 */
#include "devtab.h"

#include <stdlib.h>
#include <string.h>

#define DEVTAB_INITIAL 1024

/* FNV-1a: user names are short and not chosen to collide with each other
 * in a way that matters (a chain is as long as its collisions; a name that
 * collides costs its own sign-ins a longer walk, not anyone's delivery). */
static uint32_t
hash_user(const char *user)
{
	uint32_t h = 2166136261u;

	for (; *user; user++) {
		h ^= (unsigned char)*user;
		h *= 16777619u;
	}
	return h;
}

int
devtab_init(struct devtab *t)
{
	t->bucket = calloc(DEVTAB_INITIAL, sizeof *t->bucket);
	t->n_buckets = DEVTAB_INITIAL;
	t->n = 0;
	return t->bucket == NULL ? -1 : 0;
}

void
devtab_free(struct devtab *t)
{
	for (size_t i = 0; t->bucket != NULL && i < t->n_buckets; i++) {
		struct dev_entry *e, *next;

		for (e = t->bucket[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(t->bucket);
	t->bucket = NULL;
	t->n_buckets = t->n = 0;
}

/* Twice the buckets, once there are more entries than buckets: chains stay
 * short. Out of memory, the table stays as it is (longer chains). */
static void
grow(struct devtab *t)
{
	size_t nb = t->n_buckets * 2;
	struct dev_entry **b = calloc(nb, sizeof *b), *e, *next;

	if (b == NULL)
		return;
	for (size_t i = 0; i < t->n_buckets; i++) {
		for (e = t->bucket[i]; e != NULL; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(t->bucket);
	t->bucket = b;
	t->n_buckets = nb;
}

struct dev_entry *
devtab_get(struct devtab *t, const char *user, uint32_t device_id, int create)
{
	uint32_t h = hash_user(user);
	struct dev_entry *e;
	size_t len;

	for (e = t->bucket[h & (t->n_buckets - 1)]; e != NULL; e = e->next)
		if (e->hash == h && e->device_id == device_id && strcmp(e->user, user) == 0)
			return e;
	if (!create)
		return NULL;
	len = strlen(user);
	if ((e = calloc(1, sizeof *e + len + 1)) == NULL)
		return NULL;
	memcpy(e->user, user, len + 1);
	e->hash = h;
	e->device_id = device_id;
	if (t->n >= t->n_buckets)
		grow(t);
	e->next = t->bucket[h & (t->n_buckets - 1)];
	t->bucket[h & (t->n_buckets - 1)] = e;
	t->n++;
	return e;
}

struct dev_entry *
devtab_next_of_user(const struct devtab *t, const char *user, const struct dev_entry *prev)
{
	uint32_t h = prev != NULL ? prev->hash : hash_user(user);
	struct dev_entry *e = prev != NULL ? prev->next : t->bucket[h & (t->n_buckets - 1)];

	for (; e != NULL; e = e->next)
		if (e->hash == h && strcmp(e->user, user) == 0)
			return e;
	return NULL;
}

void
devtab_remove(struct devtab *t, struct dev_entry *e)
{
	struct dev_entry **pp = &t->bucket[e->hash & (t->n_buckets - 1)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->next;
	if (*pp == e) {
		*pp = e->next;
		t->n--;
	}
	free(e);
}

void
devtab_join(struct dev_entry *e, struct dev_member *m)
{
	devtab_leave(m);
	m->next = e->members;
	if (m->next != NULL)
		m->next->pprev = &m->next;
	e->members = m;
	m->pprev = &e->members;
}

void
devtab_leave(struct dev_member *m)
{
	if (m->pprev == NULL)
		return;
	*m->pprev = m->next;
	if (m->next != NULL)
		m->next->pprev = m->pprev;
	m->next = NULL;
	m->pprev = NULL;
}
