/*
 * prefs.c - the settings of each chat: mute, pin, archive (chat.h, "Chat
 * preferences"). The store keeps them (store_prefs.c) and lists them with
 * each chat; what they mean (notify or not, hide or not) is each program's
 * to decide, by the rules chat.h gives. Each change goes to the user's other
 * devices as a 0x0b body in their notes to self (PROTOCOL.md, "Chat
 * settings"), when there are notes to self to send it in; receive.c applies
 * what comes from them, the newest change winning.
 */
#include "internal.h"
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* Tells the user's other devices the chat's settings as they are now. Not
 * being able to is no failure of the change, which is made here: the other
 * devices keep theirs (no notes to self yet, not registered). */
static void
prefs_sync(struct chat_client *c, const char *chat_id)
{
	char self[CHAT_CHAT_ID_LEN + 1], spec[CHAT_USER_MAX + 2];
	struct prefs_body p = {0};
	int64_t v[4];
	uint8_t *body;
	size_t len;

	if (c->user[0] == '\0')
		return;
	snprintf(spec, sizeof spec, "@%s", c->user);
	if (store_chat_resolve(&c->store, c->user, spec, self) != 1 ||
	    store_chat_prefs_touch(&c->store, chat_id, proto_now_ms()) != 1 ||
	    store_chat_prefs_get(&c->store, chat_id, v) != 1)
		return;
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
