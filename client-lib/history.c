/*
 * history.c - history sync (PROTOCOL.md, "History sync"). The device that
 * approved a new one reads the user's recent history from its store, packs
 * it into batches (history_body.c) and writes each as a pending message of
 * kind 'history' in the user's notes-to-self chat: the outbox sends them,
 * now or on the next connection, and only to the user's other devices; the
 * batch names the one it is for. The new device checks that a batch comes
 * from the user's own device, applies it (rows it has are skipped, by
 * message id), and reports progress. The server sees envelopes only.
 */
#include "internal.h"
#include "history.h"
#include "reply.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define META_OUT "history_out" /* "<sync> <to> <parts> <total> <parts sent> <sent>" */
#define META_IN  "history_in"  /* "<sync> <parts seen> <parts> <received> <total>" */
/* Room left in a batch for its header (version, sync id, numbers). */
#define HEADER_ROOM 256

int
chat_set_history_days(struct chat_client *c, int days)
{
	if (days < 0 || days > CHAT_HISTORY_DAYS_MAX)
		return client_fail(c, CHAT_ERR_INVALID, "history days are 0 to %d, not %d",
				   CHAT_HISTORY_DAYS_MAX, days);
	c->history_days = days;
	return CHAT_OK;
}

int
chat_history_days(const struct chat_client *c)
{
	return c->history_days;
}

int
chat_history_progress(struct chat_client *c, struct chat_history_sync *h)
{
	char buf[128], sync[HISTORY_SYNC_ID_LEN + 1];
	unsigned to;
	int64_t parts, total, parts_sent, sent;
	int rc = store_meta_get(&c->store, META_OUT, buf, sizeof buf);

	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	memset(h, 0, sizeof *h);
	if (rc == 0 || sscanf(buf, "%16s %u %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64, sync,
			      &to, &parts, &total, &parts_sent, &sent) != 6)
		return 0;
	*h = (struct chat_history_sync){1, to, sent, total, parts_sent, parts, parts_sent >= parts, 0};
	return 1;
}

/* ---- sending: packing the store's rows into batches ---------------------- */

struct pack_batch {
	cJSON *chats, *items;
	size_t bytes, n_chats, n_items;
};

struct packer {
	struct chat_client *c;
	int64_t now;
	struct pack_batch *b;
	size_t n, cap;
	cJSON *chat;       /* the chat being walked, as a batch describes it */
	size_t chat_bytes; /* its JSON's length */
	int chat_in;       /* it is in the current batch already */
	int64_t total, skipped;
	int err;
};

static size_t
json_len(const cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	size_t n = s ? strlen(s) : 0;

	if (s != NULL) {
		sodium_memzero(s, n);
		free(s);
	}
	return n;
}

static struct pack_batch *
new_batch(struct packer *p)
{
	struct pack_batch *b;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct pack_batch *nb = realloc(p->b, cap * sizeof *nb);

		if (nb == NULL)
			return NULL;
		p->b = nb;
		p->cap = cap;
	}
	b = &p->b[p->n];
	memset(b, 0, sizeof *b);
	if ((b->chats = cJSON_CreateArray()) == NULL || (b->items = cJSON_CreateArray()) == NULL) {
		cJSON_Delete(b->chats);
		return NULL;
	}
	p->n++;
	p->chat_in = 0;
	return b;
}

/* Puts the current chat's description into the current batch. */
static int
add_chat(struct packer *p, struct pack_batch *b)
{
	cJSON *dup = cJSON_Duplicate(p->chat, 1);

	if (dup == NULL || !cJSON_AddItemToArray(b->chats, dup)) {
		cJSON_Delete(dup);
		return -1;
	}
	b->bytes += p->chat_bytes + 1;
	b->n_chats++;
	p->chat_in = 1;
	return 0;
}

/* Adds an item (NULL: only the chat) where it fits: in the current batch, or
 * a new one that describes the chat again. 0, 1 skipped (too large for any
 * batch), -1 out of memory. */
static int
pack(struct packer *p, cJSON *item)
{
	size_t len = item ? json_len(item) + 1 : 0, room = PROTO_HISTORY_MAX_JSON - HEADER_ROOM;
	struct pack_batch *b = p->n ? &p->b[p->n - 1] : NULL;

	if (len + p->chat_bytes + 1 > room) {
		cJSON_Delete(item);
		return 1;
	}
	if (b == NULL || b->bytes + len + (p->chat_in ? 0 : p->chat_bytes + 1) > room ||
	    b->n_items + (item != NULL) > PROTO_HISTORY_MAX_ITEMS ||
	    (!p->chat_in && b->n_chats + 1 > PROTO_HISTORY_MAX_CHATS))
		if ((b = new_batch(p)) == NULL)
			goto nomem;
	if (!p->chat_in && add_chat(p, b) != 0)
		goto nomem;
	if (item != NULL) {
		if (!cJSON_AddItemToArray(b->items, item))
			goto nomem;
		b->bytes += len;
		b->n_items++;
	}
	return 0;
nomem:
	cJSON_Delete(item);
	return -1;
}

static int
state_of(const struct store_history_row *r)
{
	if (r->outgoing)
		return strcmp(r->state, "delivered") == 0 ? 1 : strcmp(r->state, "read") == 0 ? 2 : 0;
	return strcmp(r->state, "read") == 0 ? 2 : 3;
}

static int
pack_row(void *arg, const struct store_history_row *r)
{
	static const char *const states[] = {"sent", "delivered", "read", "received"};
	struct packer *p = arg;
	struct history_item it;
	cJSON *o;
	int rc;

	/* Past its time by now: it goes nowhere (the sweep takes it here too). */
	if (r->expires_at > 0 && r->expires_at <= p->now)
		return 0;
	memset(&it, 0, sizeof it);
	snprintf(it.id, sizeof it.id, "%s", r->message_id);
	snprintf(it.chat_id, sizeof it.chat_id, "%s", r->chat_id);
	snprintf(it.sender, sizeof it.sender, "%s", r->sender);
	snprintf(it.kind, sizeof it.kind, "%s", r->kind);
	snprintf(it.state, sizeof it.state, "%s", states[state_of(r)]);
	it.seq = r->seq;
	it.sent_at = r->sent_at;
	it.device = r->sender_device ? r->sender_device : 1;
	it.expires_at = r->expires_at;
	it.deleted = r->deleted;
	/* Deleted for everyone: nothing of its content goes, only that it was.
	 * Edited: the text as first written; the edits come as rows of their own
	 * and the new device applies them by the same rules. */
	it.text = (char *)(r->deleted ? "" : r->original ? r->original : r->text);
	it.text_len = strlen(it.text);
	if (!r->deleted && r->reply_to != NULL && proto_valid_hex(r->reply_to, CHAT_MESSAGE_ID_LEN)) {
		snprintf(it.reply_to, sizeof it.reply_to, "%s", r->reply_to);
		if (r->reply_sender != NULL && proto_valid_user(r->reply_sender)) {
			snprintf(it.reply_sender, sizeof it.reply_sender, "%s", r->reply_sender);
			snprintf(it.reply_preview, sizeof it.reply_preview, "%s",
				 r->reply_preview ? r->reply_preview : "");
		}
	}
	if (!r->deleted && strcmp(r->kind, "text") == 0 &&
	    store_attachments(&p->c->store, r->message_id, &it.atts, NULL, &it.n_atts) != 0) {
		p->err = client_fail(p->c, CHAT_ERR_STORE, "%s", p->c->store.err);
		return 1;
	}
	o = history_item_json(&it);
	attach_meta_free(it.atts, it.n_atts);
	if (o == NULL) {
		p->err = client_fail(p->c, CHAT_ERR_NOMEM, "out of memory");
		return 1;
	}
	if ((rc = pack(p, o)) < 0) {
		p->err = client_fail(p->c, CHAT_ERR_NOMEM, "out of memory");
		return 1;
	}
	if (rc == 1)
		p->skipped++;
	else
		p->total++;
	return 0;
}

struct admins {
	char **list;
	size_t n;
};

static int
each_admin(void *arg, const char *user, int admin)
{
	struct admins *a = arg;
	char **l;

	if (!admin)
		return 0;
	if ((l = realloc(a->list, (a->n + 1) * sizeof *l)) == NULL)
		return 1;
	a->list = l;
	if ((a->list[a->n] = strdup(user)) == NULL)
		return 1;
	a->n++;
	return 0;
}

/* A chat and its rows of the window. */
static int
pack_chat(void *arg, const struct chat_chat *ch)
{
	struct packer *p = arg;
	struct chat_client *c = p->c;
	struct history_chat hc;
	struct admins adm = {NULL, 0};
	int64_t since = p->now - (int64_t)c->history_days * 86400000;
	const char *knob = getenv("CHAT_TEST_HISTORY_SINCE_MS");

	/* Tests only: the window's start, in ms since the epoch, so that a
	 * message seconds old can be outside it. */
	if (knob != NULL && knob[0] != '\0')
		since = strtoll(knob, NULL, 10);
	int rc = 0, stop = 0;

	if (ch->n_members == 0)
		return 0; /* never described to this device: the new one asks the server */
	memset(&hc, 0, sizeof hc);
	snprintf(hc.id, sizeof hc.id, "%s", ch->chat_id);
	snprintf(hc.kind, sizeof hc.kind, "%s", strcmp(ch->kind, "group") == 0 ? "group" : "direct");
	hc.name = (char *)ch->name;
	hc.description = (char *)ch->description;
	hc.members = (char **)ch->members;
	hc.n_members = ch->n_members;
	hc.timer = store_timer_get(&c->store, ch->chat_id);
	if (hc.timer < 0 ||
	    store_chat_member_each(&c->store, ch->chat_id, each_admin, &adm, &stop) < 0 || stop) {
		store_free_list(adm.list, adm.n);
		p->err = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		return 1;
	}
	hc.admins = adm.list;
	hc.n_admins = adm.n;
	/* The user's settings of it, if ever set (here or by another device):
	 * the new device applies them as it would a 0x0b body. */
	{
		int64_t v[4];

		if (store_chat_prefs_get(&c->store, ch->chat_id, v) == 1 && v[3] > 0) {
			hc.has_prefs = 1;
			hc.muted_until = v[0] == CHAT_MUTE_FOREVER ? -1 : v[0];
			hc.pinned_at = v[1];
			hc.archived_at = v[2];
			hc.prefs_at = v[3];
		}
	}
	p->chat = history_chat_json(&hc);
	store_free_list(adm.list, adm.n);
	if (p->chat == NULL) {
		p->err = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		return 1;
	}
	p->chat_bytes = json_len(p->chat);
	p->chat_in = 0;
	if (store_history_rows(&c->store, ch->chat_id, since, p->now, pack_row, p) != 0) {
		if (p->err == CHAT_OK)
			p->err = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		rc = 1;
	}
	/* A chat with nothing in the window is still one of the user's. */
	if (rc == 0 && p->err == CHAT_OK && !p->chat_in && pack(p, NULL) < 0) {
		p->err = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		rc = 1;
	}
	cJSON_Delete(p->chat);
	p->chat = NULL;
	return rc || p->err != CHAT_OK;
}

static void
packer_free(struct packer *p)
{
	for (size_t i = 0; i < p->n; i++) {
		cJSON_Delete(p->b[i].chats);
		cJSON_Delete(p->b[i].items);
	}
	free(p->b);
	cJSON_Delete(p->chat);
}

static void
tell(struct chat_client *c, const struct chat_history_sync *h)
{
	if (c->cbs.on_history_sync)
		c->cbs.on_history_sync(c, c->udata, h);
}

/* Packs the history and writes its batches as pending messages of the
 * notes-to-self chat self, then sends them (or leaves them to the outbox). */
static int
enqueue(struct chat_client *c, const char *self, uint32_t to)
{
	struct packer p = {c, proto_now_ms(), NULL, 0, 0, NULL, 0, 0, 0, 0, CHAT_OK};
	struct history_batch hb;
	char (*ids)[CHAT_MESSAGE_ID_LEN + 1] = NULL;
	char meta[128];
	uint8_t raw[HISTORY_SYNC_ID_LEN / 2];
	int stop = 0, rc = CHAT_OK;

	memset(&hb, 0, sizeof hb);
	/* What expired goes first, so that nothing past its time is packed. */
	if (store_chat_each(&c->store, pack_chat, &p, &stop) < 0 && p.err == CHAT_OK)
		p.err = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (p.err == CHAT_OK && p.n == 0 && new_batch(&p) == NULL)
		p.err = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	if (p.err != CHAT_OK) {
		packer_free(&p);
		return p.err;
	}
	if ((ids = calloc(p.n, sizeof *ids)) == NULL) {
		packer_free(&p);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(hb.sync, sizeof hb.sync, raw, sizeof raw);
	hb.to = to;
	hb.parts = (int64_t)p.n;
	hb.total = p.total;
	if (store_begin(&c->store) != 0) {
		packer_free(&p);
		free(ids);
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	}
	for (size_t i = 0; rc == CHAT_OK && i < p.n; i++) {
		struct chat_message m = {0};
		char err[200];
		size_t len;
		uint8_t *body;

		hb.part = (int64_t)i + 1;
		body = history_body_build(&hb, p.b[i].chats, p.b[i].items, &len, err, sizeof err);
		p.b[i].chats = p.b[i].items = NULL; /* taken over */
		if (body == NULL) {
			rc = client_fail(c, CHAT_ERR_TOO_LARGE, "history: %s", err);
			break;
		}
		{
			uint8_t mid[CHAT_MESSAGE_ID_LEN / 2];

			randombytes_buf(mid, sizeof mid);
			sodium_bin2hex(ids[i], sizeof ids[i], mid, sizeof mid);
		}
		m.chat_id = self;
		m.message_id = ids[i];
		m.sender = c->user;
		m.sender_device = c->device_id;
		m.text = (const char *)body + 1;
		m.text_len = len - 1;
		m.outgoing = 1;
		m.state = "pending";
		m.kind = "history";
		if (store_message_insert(&c->store, &m) < 0)
			rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		sodium_memzero(body, len);
		free(body);
	}
	snprintf(meta, sizeof meta, "%s %u %" PRId64 " %" PRId64 " 0 0", hb.sync, (unsigned)to,
		 hb.parts, hb.total);
	if (rc == CHAT_OK && store_meta_set(&c->store, META_OUT, meta) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == CHAT_OK && store_commit(&c->store) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	else if (rc != CHAT_OK)
		store_rollback(&c->store);
	packer_free(&p);
	if (rc == CHAT_OK) {
		struct chat_history_sync h = {1, to, 0, hb.total, 0, hb.parts, 0, 0};

		tell(c, &h);
		/* Online: out now, in order, each a send of its own; offline, the
		 * outbox sends them on the next connection. */
		for (size_t i = 0; c->state == CHAT_STATE_ONLINE && i < (size_t)hb.parts; i++)
			if (send_stored(c, ids[i], NULL, NULL) != CHAT_OK)
				break; /* pending: the outbox tries again */
	}
	free(ids);
	return rc;
}

/* A sync that could not start: said, with why in the handle's errmsg. */
static void
start_failed(struct chat_client *c, uint32_t to)
{
	struct chat_history_sync h = {1, to, 0, 0, 0, 0, 0, 1};

	tell(c, &h);
}

static void
self_made(struct chat_client *c, void *arg, int err, const char *id)
{
	uint32_t to = c->history_to;

	(void)arg;
	c->history_to = 0;
	if (err != CHAT_OK || id == NULL || to == 0) {
		client_fail(c, err != CHAT_OK ? err : CHAT_ERR_PROTOCOL,
			    "history was not sent to device %u: no notes-to-self chat to send it "
			    "by",
			    (unsigned)to);
		start_failed(c, to);
		return;
	}
	if (enqueue(c, id, to) != CHAT_OK)
		start_failed(c, to);
	/* Settings owed for want of these notes go by them now (prefs.c). */
	prefs_online(c);
}

void
history_start(struct chat_client *c, uint32_t device)
{
	char self[CHAT_CHAT_ID_LEN + 1], spec[CHAT_USER_MAX + 2];
	const char *users[1] = {c->user};
	int rc;

	if (c->history_days <= 0)
		return;
	snprintf(spec, sizeof spec, "@%s", c->user);
	rc = store_chat_resolve(&c->store, c->user, spec, self);
	if (rc == 1) {
		if (enqueue(c, self, device) != CHAT_OK)
			start_failed(c, device);
		return;
	}
	/* No notes to self yet: made first (the server gives its id). */
	c->history_to = device;
	if (chat_create_chat(c, users, 1, self_made, NULL) != CHAT_OK) {
		c->history_to = 0;
		start_failed(c, device);
	}
}

void
history_sent(struct chat_client *c, const char *message_id, const char *json, int was_pending)
{
	char buf[128], sync[HISTORY_SYNC_ID_LEN + 1];
	unsigned to;
	int64_t parts, total, parts_sent, sent;
	cJSON *root;
	const char *s;
	const cJSON *items;
	struct chat_history_sync h;

	(void)store_history_wipe(&c->store, message_id);
	c->history_tries = 0;
	if (!was_pending || store_meta_get(&c->store, META_OUT, buf, sizeof buf) != 1 ||
	    sscanf(buf, "%16s %u %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64, sync, &to, &parts,
		   &total, &parts_sent, &sent) != 6)
		return;
	if ((root = cJSON_Parse(json)) == NULL)
		return;
	s = proto_get_str(root, "sync");
	items = cJSON_GetObjectItemCaseSensitive(root, "messages");
	if (s != NULL && strcmp(s, sync) == 0 && cJSON_IsArray(items)) {
		parts_sent++;
		sent += cJSON_GetArraySize(items);
		snprintf(buf, sizeof buf, "%s %u %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64, sync,
			 to, parts, total, parts_sent, sent);
		if (store_meta_set(&c->store, META_OUT, buf) == 0) {
			h = (struct chat_history_sync){1, to, sent, total, parts_sent, parts,
						       parts_sent >= parts, 0};
			tell(c, &h);
		}
	}
	cJSON_Delete(root);
}

/* Tries of a batch that failed, a second apart: a new device uploads its
 * prekeys right after it is linked, and the first batch may be quicker. */
#define HISTORY_TRIES 60

int
history_failed(struct chat_client *c, int err)
{
	struct chat_history_sync h;

	(void)err;
	if (c->history_tries >= HISTORY_TRIES) {
		/* Given up: said, so that nobody waits for the rest. */
		c->history_tries = 0;
		if (chat_history_progress(c, &h) == 1) {
			h.failed = 1;
			tell(c, &h);
		}
		return 0;
	}
	c->history_tries++;
	c->history_retry_at = proto_now_ms() + 1000;
	return 1;
}

void
history_tick(struct chat_client *c)
{
	if (c->history_retry_at == 0 || proto_now_ms() < c->history_retry_at ||
	    c->state != CHAT_STATE_ONLINE)
		return;
	c->history_retry_at = 0;
	/* Everything pending without a send under way goes again, the
	 * batches among it, in order. */
	outbox_resume(c);
}

/* ---- receiving ----------------------------------------------------------- */

/* Stores one item unless this device has it: 1 new, 0 had it, -1. */
static int
take_item(struct chat_client *c, const struct history_item *it, int64_t now)
{
	struct chat_message m = {0};
	int outgoing = strcmp(it->sender, c->user) == 0, rc;

	if (it->expires_at > 0 && it->expires_at <= now)
		return 0;
	m.chat_id = it->chat_id;
	m.message_id = it->id;
	m.sender = it->sender;
	m.sender_device = it->device;
	m.seq = it->seq;
	m.sent_at = it->sent_at;
	m.text = it->text;
	m.text_len = it->text_len;
	m.outgoing = outgoing;
	/* This user's own messages were sent (as far as the sender knew, and
	 * further); another's, read if the user had read them, else unread. */
	m.state = outgoing ? (strcmp(it->state, "received") == 0 ? "sent" : it->state)
			   : (strcmp(it->state, "read") == 0 ? "read" : "received");
	m.kind = it->kind;
	if (it->reply_to[0] != '\0') {
		m.reply_to = it->reply_to;
		m.reply_sender = it->reply_sender[0] ? it->reply_sender : NULL;
		m.reply_preview = it->reply_sender[0] ? it->reply_preview : NULL;
	}
	if ((rc = store_message_insert(&c->store, &m)) != 1)
		return rc;
	/* Not handed over one by one: the progress says it came. */
	if (store_message_handed(&c->store, it->id) != 0)
		return -1;
	for (size_t i = 0; i < it->n_atts; i++)
		if (store_attachment_put(&c->store, it->id, (int)i, &it->atts[i]) != 0)
			return -1;
	if (strcmp(it->kind, "reaction") == 0 &&
	    store_reaction_put(&c->store, it->reply_to, it->sender, it->chat_id, it->text, it->seq,
			       it->id) != 0)
		return -1;
	return 1;
}

static int
apply_batch(struct chat_client *c, const struct history_batch *b)
{
	int64_t now = proto_now_ms();
	char **fresh = NULL;
	size_t n_fresh = 0;
	int rc;

	for (size_t i = 0; i < b->n_chats; i++) {
		const struct history_chat *ch = &b->chats[i];

		/* A chat this device knows already (it heard of it live) keeps what
		 * the server told it, which is newer. */
		if ((rc = store_chat_has_members(&c->store, ch->id)) < 0)
			return -1;
		if (rc == 0 &&
		    store_chat_put(&c->store, ch->id, ch->kind, ch->name, ch->description, now,
				   (const char *const *)ch->members, ch->n_members,
				   (const char *const *)ch->admins, ch->n_admins) != 0)
			return -1;
		/* The user's settings of it, by the rule of a 0x0b body: the
		 * newest change wins (one made here since is kept). */
		if (ch->has_prefs &&
		    store_chat_prefs_apply(&c->store, ch->id,
					   ch->muted_until < 0 ? CHAT_MUTE_FOREVER : ch->muted_until,
					   ch->pinned_at, ch->archived_at, ch->prefs_at) < 0)
			return -1;
	}
	if (b->n_items > 0 && (fresh = calloc(b->n_items, sizeof *fresh)) == NULL)
		return -1;
	for (size_t i = 0; i < b->n_items; i++) {
		if ((rc = take_item(c, &b->items[i], now)) < 0) {
			free(fresh);
			return -1;
		}
		if (rc == 1)
			fresh[n_fresh++] = (char *)&b->items[i];
	}
	/* Then the rules, as for rows that arrive live: edits and deletes on
	 * their messages (either may have come first), the chats' timers. */
	rc = 0;
	for (size_t i = 0; rc == 0 && i < n_fresh; i++) {
		const struct history_item *it = (const struct history_item *)fresh[i];
		int change = strcmp(it->kind, "edit") == 0 || strcmp(it->kind, "delete") == 0;

		if (strcmp(it->kind, "reaction") != 0 && strcmp(it->kind, "update") != 0 &&
		    changes_apply(c, change ? it->reply_to : it->id) < 0)
			rc = -1;
	}
	for (size_t i = 0; rc == 0 && n_fresh > 0 && i < b->n_chats; i++)
		if (store_timer_refresh(&c->store, b->chats[i].id) != 0)
			rc = -1;
	free(fresh);
	return rc;
}

/* Progress of the sync this batch is of, kept across runs. */
static void
progress_in(struct chat_client *c, const struct history_batch *b)
{
	char buf[128], sync[HISTORY_SYNC_ID_LEN + 1] = "";
	int64_t seen = 0, parts = 0, received = 0, total = 0;
	struct chat_history_sync h;

	if (store_meta_get(&c->store, META_IN, buf, sizeof buf) != 1 ||
	    sscanf(buf, "%16s %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64, sync, &seen, &parts,
		   &received, &total) != 5 ||
	    strcmp(sync, b->sync) != 0) {
		snprintf(sync, sizeof sync, "%s", b->sync);
		seen = received = 0;
	}
	seen++;
	received += (int64_t)b->n_items;
	parts = b->parts;
	total = b->total;
	snprintf(buf, sizeof buf, "%s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64, sync, seen,
		 parts, received, total);
	(void)store_meta_set(&c->store, META_IN, buf);
	h = (struct chat_history_sync){0, c->device_id, received, total, seen, parts, seen >= parts, 0};
	tell(c, &h);
}

int
history_take(struct chat_client *c, const char *message_id, const char *user, uint32_t device,
	     const uint8_t *body, size_t len, char *why, size_t cap)
{
	struct history_batch b;
	int rc;

	/* Only the user's own other devices send history (their keys checked
	 * and pinned like any sender's): from anyone else, or for another of
	 * the user's devices, it is dropped unread, its id kept so it is only
	 * acked if it comes again. */
	if (strcmp(user, c->user) != 0 || device == c->device_id) {
		if (store_dropped_add(&c->store, message_id, proto_now_ms()) != 0)
			return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		return CHAT_OK;
	}
	rc = history_batch_parse(body, len, &b, why, cap);
	if (rc == REPLY_ERR_NOMEM)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	if (rc != REPLY_OK)
		return 1;
	if (b.to != c->device_id) {
		history_batch_free(&b);
		if (store_dropped_add(&c->store, message_id, proto_now_ms()) != 0)
			return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		return CHAT_OK;
	}
	if (store_begin(&c->store) != 0) {
		history_batch_free(&b);
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	}
	if (apply_batch(c, &b) != 0 ||
	    store_dropped_add(&c->store, message_id, proto_now_ms()) != 0 ||
	    store_commit(&c->store) != 0) {
		store_rollback(&c->store);
		history_batch_free(&b);
		return client_fail(c, CHAT_ERR_STORE, "history: %s", c->store.err);
	}
	progress_in(c, &b);
	history_batch_free(&b);
	return CHAT_OK;
}
