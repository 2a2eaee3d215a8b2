/*
 * prefs.c - the settings of each chat: mute, pin, archive (chat.h, "Chat
 * preferences"). The store keeps them (store_prefs.c) and lists them with
 * each chat; what they mean (notify or not, hide or not) is each program's
 * to decide, by the rules chat.h gives. Each change goes to the user's other
 * devices as a 0x0b body in their notes to self (PROTOCOL.md, "Chat
 * settings"); with none yet, they are made first (offline: the sync is owed,
 * kept in the store, and done on the next connection). receive.c applies
 * what comes from them, the newest change winning; history.c carries each
 * chat's settings to a newly linked device.
 */
#include "internal.h"
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define META_OWED "prefs_owed" /* "1": settings changed with no notes to self to send them by */

/* Sends chat_id's settings as they are now into the notes to self self
 * (pending in the outbox until the server has them). */
static void
prefs_send(struct chat_client *c, const char *self, const char *chat_id)
{
	struct prefs_body p = {0};
	int64_t v[4];
	uint8_t *body;
	size_t len;

	if (store_chat_prefs_get(&c->store, chat_id, v) != 1 || v[3] <= 0)
		return; /* never set: nothing to tell */
	snprintf(p.chat_id, sizeof p.chat_id, "%s", chat_id);
	p.muted_until = v[0] == CHAT_MUTE_FOREVER ? -1 : v[0];
	p.pinned_at = v[1];
	p.archived_at = v[2];
	p.at = v[3];
	if ((body = prefs_body_build(&p, &len, NULL, 0)) == NULL)
		return;
	(void)send_prefs(c, self, (const char *)body + 1, len - 1);
	free(body);
}

struct set_chats {
	char (*ids)[CHAT_CHAT_ID_LEN + 1];
	size_t n, cap;
};

static int
each_set(void *arg, const struct chat_chat *ch)
{
	struct set_chats *s = arg;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *n = realloc(s->ids, cap * sizeof *s->ids);

		if (n == NULL)
			return 1;
		s->ids = n;
		s->cap = cap;
	}
	snprintf(s->ids[s->n++], sizeof *s->ids, "%s", ch->chat_id);
	return 0;
}

/* Sends the settings of every chat that has any (prefs_at set: changed
 * here or by another device; prefs_send skips the rest) into self: what was owed while there were no notes to self. */
static void
prefs_flush(struct chat_client *c, const char *self)
{
	struct set_chats s = {NULL, 0, 0};
	int stop = 0;

	if (store_chat_each(&c->store, each_set, &s, &stop) < 0 || stop) {
		free(s.ids);
		return; /* still owed: the next connection tries again */
	}
	for (size_t i = 0; i < s.n; i++)
		prefs_send(c, self, s.ids[i]);
	free(s.ids);
	/* In the outbox now, pending or sent: owed no more. */
	(void)store_meta_set(&c->store, META_OWED, "0");
}

static void
self_made(struct chat_client *c, void *arg, int err, const char *id)
{
	(void)arg;
	c->prefs_self_making = 0;
	/* Not made (offline again, refused): still owed, for the next
	 * connection. */
	if (err == CHAT_OK && id != NULL)
		prefs_flush(c, id);
}

/* Online and settings owed: into the notes to self, made first if need be
 * (as history.c makes them; the server gives the id). */
static void
prefs_owed_send(struct chat_client *c)
{
	char self[CHAT_CHAT_ID_LEN + 1], spec[CHAT_USER_MAX + 2];
	const char *users[1] = {c->user};

	snprintf(spec, sizeof spec, "@%s", c->user);
	if (store_chat_resolve(&c->store, c->user, spec, self) == 1) {
		prefs_flush(c, self);
		return;
	}
	if (c->prefs_self_making || c->state != CHAT_STATE_ONLINE)
		return;
	c->prefs_self_making = 1;
	if (chat_create_chat(c, users, 1, self_made, NULL) != CHAT_OK)
		c->prefs_self_making = 0;
}

int
prefs_owed(struct chat_client *c)
{
	char buf[8];

	return c->user[0] != '\0' && store_meta_get(&c->store, META_OWED, buf, sizeof buf) == 1 &&
	       strcmp(buf, "1") == 0;
}

void
prefs_online(struct chat_client *c)
{
	if (prefs_owed(c))
		prefs_owed_send(c);
}

/* Tells the user's other devices the chat's settings as they are now. Not
 * being able to is no failure of the change, which is made here. With no
 * notes to self yet, they are made: the store cannot tell that the user has
 * no other device (one linked by another device is unknown here until the
 * directory is read), so a sync is owed until they exist, made now if
 * online, else on the next connection (prefs_online). */
static void
prefs_sync(struct chat_client *c, const char *chat_id)
{
	char self[CHAT_CHAT_ID_LEN + 1], spec[CHAT_USER_MAX + 2];

	if (c->user[0] == '\0')
		return;
	if (store_chat_prefs_touch(&c->store, chat_id, proto_now_ms()) != 1)
		return;
	snprintf(spec, sizeof spec, "@%s", c->user);
	if (store_chat_resolve(&c->store, c->user, spec, self) == 1) {
		prefs_send(c, self, chat_id);
		return;
	}
	if (store_meta_set(&c->store, META_OWED, "1") != 0)
		return;
	prefs_owed_send(c);
}

int
chat_prefs_sync_owed(struct chat_client *c)
{
	return prefs_owed(c);
}

/* Sets one setting through set: CHAT_OK or a CHAT_ERR_ code. */
static int
prefs_set(struct chat_client *c, const char *chat_id, int64_t v,
	  int (*set)(struct store *, const char *, int64_t))
{
	int rc = chats_check_local(c, chat_id);

	if (rc != CHAT_OK)
		return rc;
	rc = set(&c->store, chat_id, v);
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 0) /* gone between the check and the update */
		return client_fail(c, CHAT_ERR_NO_SUCH_CHAT, "no chat %s in this device's store",
				   chat_id);
	prefs_sync(c, chat_id);
	return CHAT_OK;
}

int
chat_set_muted(struct chat_client *c, const char *chat_id, int64_t until_ms)
{
	if (until_ms < 0)
		return client_fail(c, CHAT_ERR_INVALID, "a mute lasts until a time (ms), not %lld",
				   (long long)until_ms);
	/* A time already past is no mute: stored as none. */
	return prefs_set(c, chat_id, store_mute_in_force(until_ms, proto_now_ms()),
			 store_chat_set_muted);
}

int
chat_set_pinned(struct chat_client *c, const char *chat_id, int pinned)
{
	return prefs_set(c, chat_id, pinned ? proto_now_ms() : 0, store_chat_set_pinned);
}

int
chat_set_archived(struct chat_client *c, const char *chat_id, int archived)
{
	return prefs_set(c, chat_id, archived ? proto_now_ms() : 0, store_chat_set_archived);
}

int64_t
chat_muted_until(struct chat_client *c, const char *chat_id)
{
	int rc = chats_check_local(c, chat_id);
	int64_t v;

	if (rc != CHAT_OK)
		return rc;
	if ((v = store_chat_muted_until(&c->store, chat_id, proto_now_ms())) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return v;
}
