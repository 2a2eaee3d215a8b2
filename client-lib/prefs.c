/*
 * prefs.c - this device's settings of each chat: mute, pin, archive (chat.h,
 * "Chat preferences"). The store keeps them (store_prefs.c) and lists them
 * with each chat; what they mean (notify or not, hide or not) is each
 * program's to decide, by the rules chat.h gives.
 */
#include "internal.h"

#include "proto.h"

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
