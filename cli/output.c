/* output.c - how chatctl prints messages: JSON for scripts, text for people. */
#include "chatctl.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "termtext.h"

void
out_json(cJSON *doc)
{
	char *s = doc ? cJSON_PrintUnformatted(doc) : NULL;

	if (s != NULL) {
		fputs(s, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	cJSON_free(s);
	cJSON_Delete(doc);
}

static cJSON *names(const char *const *list, size_t n);

cJSON *
out_message_json(const struct chat_message *m)
{
	cJSON *o = cJSON_CreateObject();
	char at[32];

	if (o == NULL)
		return NULL;
	proto_rfc3339(m->sent_at, at, sizeof at);
	/* A membership change kept in the history reads as what it is; so does
	 * a reaction of this user's not sent yet (the outbox lists them). */
	cJSON_AddStringToObject(o, "type",
				m->kind && strcmp(m->kind, "update") == 0     ? "chatUpdate"
				: m->kind && strcmp(m->kind, "reaction") == 0 ? "reaction"
				: m->kind && strcmp(m->kind, "edit") == 0     ? "edit"
				: m->kind && strcmp(m->kind, "delete") == 0   ? "delete"
				: m->kind && strcmp(m->kind, "timer") == 0    ? "timer"
				: m->kind && strcmp(m->kind, "prefs") == 0    ? "settings"
									      : "message");
	cJSON_AddStringToObject(o, "chatId", m->chat_id);
	cJSON_AddStringToObject(o, "messageId", m->message_id);
	cJSON_AddNumberToObject(o, "seq", (double)m->seq);
	cJSON_AddStringToObject(o, "sender", m->sender);
	cJSON_AddNumberToObject(o, "senderDevice", m->sender_device);
	cJSON_AddStringToObject(o, "text", m->text);
	if (m->sent_at > 0)
		cJSON_AddStringToObject(o, "sentAt", at);
	else
		cJSON_AddNullToObject(o, "sentAt");
	cJSON_AddBoolToObject(o, "outgoing", m->outgoing);
	cJSON_AddStringToObject(o, "state", m->state);
	/* A change of the chat's disappearing timer: its seconds, 0 off. */
	if (m->kind && strcmp(m->kind, "timer") == 0)
		cJSON_AddNumberToObject(o, "seconds", (double)strtoll(m->text, NULL, 10));
	/* A disappearing message: when it vanishes (null: never). */
	if (m->kind && strcmp(m->kind, "text") == 0 && m->expires_at > 0) {
		char eat[32];

		proto_rfc3339(m->expires_at, eat, sizeof eat);
		cJSON_AddStringToObject(o, "expiresAt", eat);
	} else if (m->kind && strcmp(m->kind, "text") == 0) {
		cJSON_AddNullToObject(o, "expiresAt");
	}
	/* It came, from a valid sender, but did not decrypt: text is "". */
	if (m->kind && strcmp(m->kind, "undecryptable") == 0)
		cJSON_AddBoolToObject(o, "undecryptable", 1);
	/* A search's hit: the words found, in context (chat_search). */
	if (m->snippet != NULL)
		cJSON_AddStringToObject(o, "snippet", m->snippet);
	if (m->n_attachments > 0) {
		cJSON *arr = cJSON_AddArrayToObject(o, "attachments");

		for (size_t i = 0; arr != NULL && i < m->n_attachments; i++) {
			const struct chat_attachment *a = &m->attachments[i];
			cJSON *f = cJSON_CreateObject();

			cJSON_AddStringToObject(f, "name", a->name);
			cJSON_AddStringToObject(f, "type", a->type);
			cJSON_AddNumberToObject(f, "size", (double)a->size);
			cJSON_AddBoolToObject(f, "downloaded", a->path != NULL);
			if (a->path != NULL)
				cJSON_AddStringToObject(f, "path", a->path);
			cJSON_AddItemToArray(arr, f);
		}
	}
	if (m->kind && (strcmp(m->kind, "edit") == 0 || strcmp(m->kind, "delete") == 0) &&
	    m->reply_to != NULL) {
		/* this user's edit or delete not sent yet: text the new text */
		cJSON_AddStringToObject(o, "target", m->reply_to);
	} else if (m->kind && strcmp(m->kind, "reaction") == 0 && m->reply_to != NULL) {
		/* text is the emoji ("" takes it back), reply_to what it is on */
		cJSON_AddStringToObject(o, "target", m->reply_to);
		cJSON_AddStringToObject(o, "emoji", m->text);
	} else if (m->reply_to != NULL) {
		cJSON *q = cJSON_AddObjectToObject(o, "replyTo");

		cJSON_AddStringToObject(q, "id", m->reply_to);
		cJSON_AddStringToObject(q, "sender", m->reply_sender);
		cJSON_AddStringToObject(q, "preview", m->reply_preview);
	}
	if (m->kind && strcmp(m->kind, "text") == 0) {
		char eat[32];

		/* Edited (the text is the latest edit's) or deleted for
		 * everyone (text "", no quote, no files). */
		cJSON_AddBoolToObject(o, "edited", m->edited_at > 0);
		if (m->edited_at > 0) {
			proto_rfc3339(m->edited_at, eat, sizeof eat);
			cJSON_AddStringToObject(o, "editedAt", eat);
		}
		cJSON_AddBoolToObject(o, "deleted", m->deleted != 0);
		/* The members its text names as "@name" (libchat(3), MENTIONS). */
		cJSON_AddBoolToObject(o, "mentionsMe", m->mentions_me != 0);
		cJSON_AddItemToObject(o, "mentions", names(m->mentions, m->n_mentions));
	}
	if (m->kind && strcmp(m->kind, "text") == 0) {
		cJSON *arr = cJSON_AddArrayToObject(o, "reactions");

		for (size_t i = 0; arr != NULL && i < m->n_reactions; i++) {
			const struct chat_reaction *r = &m->reactions[i];
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "emoji", r->emoji);
			cJSON_AddNumberToObject(e, "count", (double)r->count);
			cJSON_AddItemToObject(e, "users", names(r->users, r->count));
			cJSON_AddItemToArray(arr, e);
		}
	}
	return o;
}

cJSON *
out_reaction_json(const struct chat_reaction_event *r)
{
	cJSON *o = cJSON_CreateObject();
	char at[32];

	proto_rfc3339(r->sent_at, at, sizeof at);
	cJSON_AddStringToObject(o, "type", "reaction");
	cJSON_AddStringToObject(o, "chatId", r->chat_id);
	cJSON_AddStringToObject(o, "messageId", r->message_id);
	cJSON_AddStringToObject(o, "target", r->target);
	cJSON_AddStringToObject(o, "user", r->user);
	cJSON_AddNumberToObject(o, "device", r->device);
	cJSON_AddStringToObject(o, "emoji", r->emoji);
	cJSON_AddNumberToObject(o, "seq", (double)r->seq);
	cJSON_AddStringToObject(o, "sentAt", at);
	return o;
}

cJSON *
out_change_json(const struct chat_change_event *e)
{
	cJSON *o = cJSON_CreateObject();
	char at[32];

	proto_rfc3339(e->sent_at, at, sizeof at);
	cJSON_AddStringToObject(o, "type", e->kind); /* "edit" or "delete" */
	cJSON_AddStringToObject(o, "chatId", e->chat_id);
	cJSON_AddStringToObject(o, "messageId", e->message_id);
	cJSON_AddStringToObject(o, "target", e->target);
	cJSON_AddStringToObject(o, "user", e->user);
	cJSON_AddNumberToObject(o, "device", e->device);
	if (strcmp(e->kind, "edit") == 0)
		cJSON_AddStringToObject(o, "text", e->text);
	cJSON_AddStringToObject(o, "status", e->status);
	cJSON_AddNumberToObject(o, "seq", (double)e->seq);
	cJSON_AddStringToObject(o, "sentAt", at);
	return o;
}

void
out_change_text(FILE *f, const struct chat_change_event *e)
{
	char at[32];
	int edit = strcmp(e->kind, "edit") == 0;

	proto_rfc3339(e->sent_at, at, sizeof at);
	fprintf(f, "%s %s %.*s ", at, e->chat_id, OUT_SHORT_ID, e->message_id);
	out_safe(f, e->user, strlen(e->user), 0);
	fprintf(f, edit ? " edited %.*s" : " deleted %.*s for everyone", OUT_SHORT_ID, e->target);
	if (strcmp(e->status, "applied") != 0)
		fprintf(f, " [%s]", e->status);
	if (edit) {
		fputs(": ", f);
		out_safe(f, e->text, e->text_len, TERMTEXT_MULTILINE);
	}
	fputc('\n', f);
	fflush(f);
}

void
out_reaction_text(FILE *f, const struct chat_reaction_event *r)
{
	char at[32];

	proto_rfc3339(r->sent_at, at, sizeof at);
	fprintf(f, "%s %s %.*s ", at, r->chat_id, OUT_SHORT_ID, r->message_id);
	out_safe(f, r->user, strlen(r->user), 0);
	if (r->emoji[0] != '\0') {
		fputs(" reacted ", f);
		out_safe(f, r->emoji, strlen(r->emoji), 0);
		fputs(" to ", f);
	} else {
		fputs(" took back their reaction to ", f);
	}
	fprintf(f, "%.*s\n", OUT_SHORT_ID, r->target);
	fflush(f);
}

const char *
out_timer_words(const char *user, long long seconds, char *buf, size_t cap)
{
	char d[48];

	if (seconds == 0)
		snprintf(buf, cap, "%s turned off disappearing messages", user);
	else
		snprintf(buf, cap, "%s set disappearing messages to %s", user,
			 chat_duration_format(seconds, 0, d, sizeof d));
	return buf;
}

cJSON *
out_timer_json(const struct chat_timer_event *e)
{
	cJSON *o = cJSON_CreateObject();
	char at[32];

	proto_rfc3339(e->sent_at, at, sizeof at);
	cJSON_AddStringToObject(o, "type", "timer");
	cJSON_AddStringToObject(o, "chatId", e->chat_id);
	cJSON_AddStringToObject(o, "messageId", e->message_id);
	cJSON_AddStringToObject(o, "user", e->user);
	cJSON_AddNumberToObject(o, "device", e->device);
	cJSON_AddNumberToObject(o, "seconds", (double)e->seconds);
	cJSON_AddStringToObject(o, "status", e->status);
	cJSON_AddNumberToObject(o, "seq", (double)e->seq);
	cJSON_AddStringToObject(o, "sentAt", at);
	return o;
}

void
out_timer_text(FILE *f, const struct chat_timer_event *e)
{
	char at[32], words[160];

	proto_rfc3339(e->sent_at, at, sizeof at);
	fprintf(f, "%s %s %.*s * ", at, e->chat_id, OUT_SHORT_ID, e->message_id);
	out_timer_words(e->user, e->seconds, words, sizeof words);
	out_safe(f, words, strlen(words), 0);
	if (strcmp(e->status, "applied") != 0)
		fprintf(f, " [%s]", e->status);
	fputc('\n', f);
	fflush(f);
}

void
out_expired(int json, const char *chat_id, const char *message_id)
{
	if (json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "type", "expired");
		cJSON_AddStringToObject(o, "chatId", chat_id);
		cJSON_AddStringToObject(o, "messageId", message_id);
		out_json(o);
		return;
	}
	printf("%s %.*s disappeared\n", chat_id, OUT_SHORT_ID, message_id);
	fflush(stdout);
}

/* History sync: the receiving side counts "received", the sending side
 * "sent"; done once every batch is through. */
cJSON *
out_history_json(const struct chat_history_sync *h)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "type", "historySync");
	cJSON_AddStringToObject(o, "direction", h->sending ? "sending" : "receiving");
	cJSON_AddNumberToObject(o, "device", h->device);
	cJSON_AddNumberToObject(o, h->sending ? "sent" : "received", (double)h->done);
	cJSON_AddNumberToObject(o, "total", (double)h->total);
	cJSON_AddNumberToObject(o, "batches", (double)h->parts_done);
	cJSON_AddNumberToObject(o, "ofBatches", (double)h->parts);
	cJSON_AddBoolToObject(o, "done", h->finished);
	if (h->failed)
		cJSON_AddBoolToObject(o, "failed", 1);
	return o;
}

void
out_history(int json, const struct chat_history_sync *h)
{
	if (json) {
		out_json(out_history_json(h));
		return;
	}
	printf("history: %lld/%lld messages %s%s\n", (long long)h->done, (long long)h->total,
	       h->sending ? "sent" : "received", h->finished ? ", done" : "");
	fflush(stdout);
}

cJSON *
out_chat_json(const struct chat_chat *ch)
{
	cJSON *o = cJSON_CreateObject(), *m;
	char at[32];

	cJSON_AddStringToObject(o, "chatId", ch->chat_id);
	cJSON_AddStringToObject(o, "kind", ch->kind);
	if (ch->name != NULL)
		cJSON_AddStringToObject(o, "name", ch->name);
	else
		cJSON_AddNullToObject(o, "name");
	m = cJSON_AddArrayToObject(o, "participants");
	for (size_t i = 0; i < ch->n_members; i++)
		cJSON_AddItemToArray(m, cJSON_CreateString(ch->members[i]));
	proto_rfc3339(ch->last_activity, at, sizeof at);
	cJSON_AddStringToObject(o, "lastActivity", at);
	cJSON_AddNumberToObject(o, "messages", (double)ch->n_messages);
	cJSON_AddNumberToObject(o, "unread", (double)ch->n_unread);
	if (strcmp(ch->kind, "group") == 0)
		cJSON_AddStringToObject(o, "description", ch->description ? ch->description : "");
	cJSON_AddNumberToObject(o, "disappearingSeconds", (double)ch->disappearing_s);
	/* Issue 15's chat preferences: this device's own. */
	out_muted_json(o, ch->muted_until);
	cJSON_AddBoolToObject(o, "pinned", ch->pinned_at > 0);
	cJSON_AddBoolToObject(o, "archived", ch->archived != 0);
	if (ch->last_text != NULL) {
		cJSON *l = cJSON_AddObjectToObject(o, "lastMessage");

		proto_rfc3339(ch->last_at, at, sizeof at);
		cJSON_AddStringToObject(l, "sender", ch->last_sender ? ch->last_sender : "");
		cJSON_AddStringToObject(l, "text", ch->last_text);
		cJSON_AddStringToObject(l, "at", at);
	} else {
		cJSON_AddNullToObject(o, "lastMessage");
	}
	return o;
}

void
out_muted_json(cJSON *o, int64_t until)
{
	char at[32];

	cJSON_AddBoolToObject(o, "muted", until > 0);
	if (until == CHAT_MUTE_FOREVER) {
		cJSON_AddStringToObject(o, "mutedUntil", "forever");
	} else if (until > 0) {
		proto_rfc3339(until, at, sizeof at);
		cJSON_AddStringToObject(o, "mutedUntil", at);
	} else {
		cJSON_AddNullToObject(o, "mutedUntil");
	}
}

static const char *
receipt_status(int status)
{
	return status == CHAT_RECEIPT_READ	       ? "read"
	       : status == CHAT_RECEIPT_UNDECRYPTABLE ? "undecryptable"
						      : "delivered";
}

cJSON *
out_receipt_json(const struct chat_receipt *r)
{
	cJSON *o = cJSON_CreateObject();
	char at[32];

	if (o == NULL)
		return NULL;
	proto_rfc3339(r->at, at, sizeof at);
	cJSON_AddStringToObject(o, "type", "receipt");
	cJSON_AddStringToObject(o, "chatId", r->chat_id);
	cJSON_AddStringToObject(o, "messageId", r->message_id);
	cJSON_AddStringToObject(o, "user", r->user);
	cJSON_AddNumberToObject(o, "deviceId", r->device);
	cJSON_AddStringToObject(o, "status", receipt_status(r->status));
	cJSON_AddStringToObject(o, "at", at);
	cJSON_AddStringToObject(o, "state", r->state);
	return o;
}

void
out_receipt_text(FILE *f, const struct chat_receipt *r)
{
	char at[32];

	proto_rfc3339(r->at, at, sizeof at);
	fprintf(f, "%s %s ~ %s %s %.*s [%s]\n", at, r->chat_id, r->user,
		r->status == CHAT_RECEIPT_READ		 ? "read"
		: r->status == CHAT_RECEIPT_UNDECRYPTABLE ? "could not decrypt"
							  : "received",
		OUT_SHORT_ID, r->message_id, r->state);
	fflush(f);
}

int
out_sent(void *arg, const struct chat_message *m)
{
	cJSON *o = cJSON_CreateObject();
	char at[32];

	(void)arg;
	proto_rfc3339(m->sent_at, at, sizeof at);
	cJSON_AddStringToObject(o, "chatId", m->chat_id);
	cJSON_AddStringToObject(o, "messageId", m->message_id);
	cJSON_AddNumberToObject(o, "seq", (double)m->seq);
	cJSON_AddStringToObject(o, "sentAt", at);
	out_json(o);
	return 0;
}

cJSON *
out_typing_json(const struct chat_typing *t)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "type", "typing");
	cJSON_AddStringToObject(o, "chatId", t->chat_id);
	cJSON_AddStringToObject(o, "user", t->user);
	cJSON_AddNumberToObject(o, "deviceId", t->device);
	cJSON_AddBoolToObject(o, "typing", t->typing != 0);
	return o;
}

void
out_typing_text(FILE *f, const struct chat_typing *t)
{
	char at[32];

	proto_rfc3339(proto_now_ms(), at, sizeof at);
	fprintf(f, "%s %s ~ %s %s (device %u)\n", at, t->chat_id, t->user,
		t->typing ? "is typing" : "stopped typing", (unsigned)t->device);
	fflush(f);
}

void
out_safe(FILE *f, const char *s, size_t len, int flags)
{
	size_t need = termtext_sanitize(s, len, flags, NULL, 0);
	char *buf = malloc(need + 1);

	/* Out of memory: nothing of it, rather than the text as it is. */
	if (buf == NULL) {
		fputs("(out of memory)", f);
		return;
	}
	termtext_sanitize(s, len, flags, buf, need + 1);
	fwrite(buf, 1, need, f);
	free(buf);
}

const char *
out_esc(const char *s)
{
	/* A few at once, for the arguments of one printf. */
	static char ring[4][4096];
	static unsigned next;
	char *buf = ring[next++ % 4];

	if (s == NULL)
		return "(null)";
	termtext_sanitize(s, strlen(s), 0, buf, sizeof ring[0]);
	return buf;
}

void
out_message_text(FILE *f, const struct chat_message *m)
{
	char at[32];

	if (m->sent_at > 0)
		proto_rfc3339(m->sent_at, at, sizeof at);
	else
		snprintf(at, sizeof at, "%-24s", m->state);
	/* The id's first digits: what download, retry and discard take. */
	fprintf(f, "%s %s %.*s ", at, m->chat_id, OUT_SHORT_ID, m->message_id);
	if (m->kind && strcmp(m->kind, "update") == 0) {
		fputs("* ", f);
		out_safe(f, m->text, m->text_len, 0); /* it may quote a group's name */
		fputc('\n', f);
		fflush(f);
		return;
	}
	/* Chat settings for the user's other devices, not sent yet (outbox). */
	if (m->kind && strcmp(m->kind, "prefs") == 0) {
		fprintf(f, "* chat settings for your other devices [%s]\n", out_esc(m->state));
		fflush(f);
		return;
	}
	if (m->kind && strcmp(m->kind, "timer") == 0) {
		char words[160];

		fputs("* ", f);
		out_timer_words(m->sender, strtoll(m->text, NULL, 10), words, sizeof words);
		out_safe(f, words, strlen(words), 0);
		if (m->outgoing && strcmp(m->state, "sent") != 0)
			fprintf(f, " [%s]", m->state);
		fputc('\n', f);
		fflush(f);
		return;
	}
	if (m->kind && strcmp(m->kind, "reaction") == 0 && m->reply_to != NULL) {
		out_safe(f, m->sender, strlen(m->sender), 0);
		if (m->text_len > 0) {
			fputs(" reacts ", f);
			out_safe(f, m->text, m->text_len, 0);
			fputs(" to ", f);
		} else {
			fputs(" takes back their reaction to ", f);
		}
		fprintf(f, "%.*s [%s]\n", OUT_SHORT_ID, m->reply_to, m->state);
		fflush(f);
		return;
	}
	if (m->kind && (strcmp(m->kind, "edit") == 0 || strcmp(m->kind, "delete") == 0) &&
	    m->reply_to != NULL) {
		out_safe(f, m->sender, strlen(m->sender), 0);
		fprintf(f, " %s %.*s", strcmp(m->kind, "edit") == 0 ? "edits" : "deletes",
			OUT_SHORT_ID, m->reply_to);
		if (strcmp(m->kind, "edit") == 0) {
			fputs(": ", f);
			out_safe(f, m->text, m->text_len, 0);
		}
		fprintf(f, " [%s]\n", m->state);
		fflush(f);
		return;
	}
	out_safe(f, m->sender, strlen(m->sender), 0);
	fputs(": ", f);
	if (m->deleted) {
		fputs(OUT_DELETED, f);
		fputc('\n', f);
		fflush(f);
		return;
	}
	if (m->kind && strcmp(m->kind, "undecryptable") == 0)
		fputs(OUT_UNDECRYPTABLE, f);
	/* A reply: the quote on the first line ("> alice: the start of it"),
	 * the reply under it. */
	if (m->reply_to != NULL) {
		char preview[CHAT_REPLY_PREVIEW_MAX + 1];

		/* On one line: its line breaks read as spaces. */
		snprintf(preview, sizeof preview, "%s", m->reply_preview);
		for (char *p = preview; *p != '\0'; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		fputs("> ", f);
		out_safe(f, m->reply_sender, strlen(m->reply_sender), 0);
		fputs(": ", f);
		out_safe(f, preview, strlen(preview), 0);
		fputs("\n    ", f);
	}
	out_safe(f, m->text, m->text_len, TERMTEXT_MULTILINE);
	for (size_t i = 0; i < m->n_attachments; i++) {
		fprintf(f, "%s[file: ", m->text_len || i ? " " : "");
		out_safe(f, m->attachments[i].name, strlen(m->attachments[i].name), 0);
		fprintf(f, ", %lld bytes%s]", (long long)m->attachments[i].size,
			m->attachments[i].path ? ", downloaded" : "");
	}
	if (m->edited_at > 0)
		fputs(" " OUT_EDITED, f);
	/* It names this user ("@name"): what a muted group still shows. */
	if (m->mentions_me)
		fputs(" " OUT_MENTION, f);
	/* Ours: how far it got (sent is the norm, and says nothing). */
	if (m->outgoing && strcmp(m->state, "sent") != 0 && strcmp(m->state, "received") != 0)
		fprintf(f, " [%s]", m->state);
	/* Its reactions, the most used first: "  👍 2 ❤ 1". */
	for (size_t i = 0; i < m->n_reactions; i++) {
		fputs(i ? " " : "  ", f);
		out_safe(f, m->reactions[i].emoji, strlen(m->reactions[i].emoji), 0);
		fprintf(f, " %zu", m->reactions[i].count);
	}
	fputc('\n', f);
	fflush(f);
}

static cJSON *
names(const char *const *list, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a != NULL && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(list[i]));
	return a;
}

cJSON *
out_update_json(const struct chat_update *u)
{
	cJSON *o = cJSON_CreateObject();
	char at[32];

	if (o == NULL)
		return NULL;
	proto_rfc3339(u->sent_at, at, sizeof at);
	cJSON_AddStringToObject(o, "type", "chatUpdate");
	cJSON_AddStringToObject(o, "chatId", u->chat_id);
	cJSON_AddStringToObject(o, "updateId", u->update_id);
	cJSON_AddNumberToObject(o, "seq", (double)u->seq);
	cJSON_AddStringToObject(o, "sentAt", at);
	cJSON_AddStringToObject(o, "kind", u->kind ? u->kind : "group");
	if (u->name != NULL)
		cJSON_AddStringToObject(o, "name", u->name);
	else
		cJSON_AddNullToObject(o, "name");
	cJSON_AddStringToObject(o, "actor", u->actor);
	cJSON_AddStringToObject(o, "operation", u->operation);
	cJSON_AddItemToObject(o, "users", names(u->users, u->n_users));
	cJSON_AddItemToObject(o, "participants", names(u->participants, u->n_participants));
	cJSON_AddItemToObject(o, "admins", names(u->admins, u->n_admins));
	if (u->description != NULL) /* a "describe" update */
		cJSON_AddStringToObject(o, "description", u->description);
	return o;
}

void
out_device_change(int json, const char *user, uint32_t device, int added)
{
	if (json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "type", "deviceChange");
		cJSON_AddStringToObject(o, "user", user);
		cJSON_AddNumberToObject(o, "deviceId", device);
		cJSON_AddStringToObject(o, "change", added ? "added" : "removed");
		out_json(o);
	}
	if (added)
		fprintf(stderr,
			"chatctl: NOTICE: %s has a new device (%u), approved by one of "
			"their devices; compare safety numbers with: chatctl verify %s\n",
			user, device, user);
	else
		fprintf(stderr, "chatctl: NOTICE: %s's device %u was removed\n", user, device);
}

cJSON *
out_send_failed_json(const char *chat_id, const char *message_id, int err, const char *detail)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "type", "sendFailed");
	cJSON_AddStringToObject(o, "chatId", chat_id);
	cJSON_AddStringToObject(o, "messageId", message_id);
	cJSON_AddStringToObject(o, "error", chat_strerror(err));
	cJSON_AddStringToObject(o, "detail", detail);
	return o;
}

void
out_send_failed(int json, const char *chat_id, const char *message_id, int err, const char *detail)
{
	if (json)
		out_json(out_send_failed_json(chat_id, message_id, err, detail));
	fprintf(stderr,
		"chatctl: WARNING: message %s to chat %s, written earlier, cannot be sent "
		"and is marked failed: %s\n",
		message_id, chat_id, detail[0] ? out_esc(detail) : chat_strerror(err));
}

cJSON *
out_undecryptable_json(const struct chat_undecryptable *u)
{
	cJSON *o = cJSON_CreateObject();
	char at[32];

	if (o == NULL)
		return NULL;
	proto_rfc3339(u->sent_at, at, sizeof at);
	cJSON_AddStringToObject(o, "type", u->receipt ? "receipt" : "message");
	cJSON_AddStringToObject(o, "chatId", u->chat_id);
	cJSON_AddStringToObject(o, u->receipt ? "receiptId" : "messageId", u->message_id);
	cJSON_AddStringToObject(o, "sender", u->sender);
	cJSON_AddNumberToObject(o, "senderDevice", u->sender_device);
	cJSON_AddStringToObject(o, "sentAt", at);
	cJSON_AddBoolToObject(o, "undecryptable", 1);
	cJSON_AddStringToObject(o, "reason", u->reason);
	return o;
}

/* ---- The --json objects of commands that rpc answers with too (i15-daemon) ---- */

static int
add_member(void *arg, const char *user, int admin)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "user", user);
	cJSON_AddBoolToObject(o, "admin", admin);
	cJSON_AddItemToArray(arg, o);
	return 0;
}

static int
add_about(void *arg, const struct chat_chat *ch)
{
	cJSON *doc = arg;

	cJSON_AddNumberToObject(doc, "disappearingSeconds", (double)ch->disappearing_s);
	if (strcmp(ch->kind, "group") != 0)
		return 0;
	cJSON_AddStringToObject(doc, "name", ch->name ? ch->name : "");
	cJSON_AddStringToObject(doc, "description", ch->description ? ch->description : "");
	return 0;
}

cJSON *
out_members_json(struct chat_client *c, const char *chat, int *err)
{
	cJSON *doc = cJSON_CreateObject(), *arr;

	cJSON_AddStringToObject(doc, "chatId", chat);
	if ((*err = chat_get_chat(c, chat, add_about, doc)) < 0) {
		cJSON_Delete(doc);
		return NULL;
	}
	arr = cJSON_AddArrayToObject(doc, "participants");
	if ((*err = chat_members(c, chat, add_member, arr)) < 0) {
		cJSON_Delete(doc);
		return NULL;
	}
	*err = CHAT_OK;
	return doc;
}

static int
add_device(void *arg, const struct chat_device *d)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "deviceId", d->device_id);
	cJSON_AddStringToObject(o, "name", d->name);
	cJSON_AddBoolToObject(o, "thisDevice", d->this_device);
	cJSON_AddItemToArray(arg, o);
	return 0;
}

cJSON *
out_devices_json(struct chat_client *c, const char *user, int *err)
{
	cJSON *doc = cJSON_CreateObject(), *arr;

	cJSON_AddStringToObject(doc, "user", user);
	arr = cJSON_AddArrayToObject(doc, "devices");
	if ((*err = chat_devices(c, user, add_device, arr)) < 0) {
		cJSON_Delete(doc);
		return NULL;
	}
	*err = CHAT_OK;
	return doc;
}

cJSON *
out_lastseen_json(const char *user, int online, int64_t at)
{
	cJSON *o = cJSON_CreateObject();
	char when[32];

	cJSON_AddStringToObject(o, "user", user);
	if (online < 0)
		cJSON_AddNullToObject(o, "online");
	else
		cJSON_AddBoolToObject(o, "online", online);
	if (at < 0) {
		cJSON_AddNullToObject(o, "lastSeen");
	} else {
		proto_rfc3339(at, when, sizeof when);
		cJSON_AddStringToObject(o, "lastSeen", when);
	}
	return o;
}

cJSON *
out_privacy_json(int hide_last_seen, int hide_typing)
{
	cJSON *o = cJSON_CreateObject();

	if (hide_last_seen >= 0)
		cJSON_AddBoolToObject(o, "hideLastSeen", hide_last_seen);
	if (hide_typing >= 0)
		cJSON_AddBoolToObject(o, "hideTyping", hide_typing);
	return o;
}

cJSON *
out_safety_json(const char *user, const char *number)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "user", user);
	cJSON_AddStringToObject(o, "safetyNumber", number);
	return o;
}

cJSON *
out_approved_json(const char *user, long device_id)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "user", user);
	cJSON_AddNumberToObject(o, "deviceId", (double)device_id);
	return o;
}

cJSON *
out_removed_json(long device_id)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "deviceId", (double)device_id);
	cJSON_AddBoolToObject(o, "removed", 1);
	return o;
}

cJSON *
out_download_json(size_t index, const char *path)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "index", (double)index);
	cJSON_AddStringToObject(o, "path", path);
	return o;
}

struct chat_by_id {
	const char *chat_id;
	cJSON *found;
};

static int
find_chat(void *arg, const struct chat_chat *ch)
{
	struct chat_by_id *f = arg;

	if (strcmp(ch->chat_id, f->chat_id) != 0)
		return 0;
	f->found = out_chat_json(ch);
	return 1;
}

cJSON *
out_chat_by_id_json(struct chat_client *c, const char *chat_id)
{
	struct chat_by_id f = {chat_id, NULL};

	chat_list_chats(c, find_chat, &f);
	return f.found;
}

cJSON *
out_left_json(const char *chat_id)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "chatId", chat_id);
	cJSON_AddBoolToObject(o, "left", 1);
	return o;
}

static int
add_edit(void *arg, const struct chat_edit *e)
{
	cJSON *o = cJSON_CreateObject();
	char at[32];

	cJSON_AddStringToObject(o, "messageId", e->edit_id);
	cJSON_AddStringToObject(o, "text", e->text);
	cJSON_AddNumberToObject(o, "seq", (double)e->seq);
	if (e->sent_at > 0) {
		proto_rfc3339(e->sent_at, at, sizeof at);
		cJSON_AddStringToObject(o, "sentAt", at);
	} else {
		cJSON_AddNullToObject(o, "sentAt");
	}
	cJSON_AddItemToArray(arg, o);
	return 0;
}

cJSON *
out_history_message_json(struct chat_client *c, const struct chat_message *m)
{
	cJSON *o = out_message_json(m);

	/* An edited message's edits, oldest first. */
	if (o != NULL && m->edited_at > 0 && !m->deleted) {
		cJSON *edits = cJSON_AddArrayToObject(o, "edits");

		if (edits != NULL)
			(void)chat_edits(c, m->message_id, add_edit, edits);
	}
	return o;
}

cJSON *
out_identity_json(struct chat_client *c)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "user", chat_client_user(c));
	cJSON_AddNumberToObject(o, "deviceId", chat_client_device_id(c));
	cJSON_AddStringToObject(o, "server", chat_client_server_url(c));
	cJSON_AddStringToObject(o, "home", chat_client_home(c));
	return o;
}

cJSON *
out_link_code_json(struct chat_client *c, const char *code)
{
	cJSON *o = cJSON_CreateObject();
	int64_t until = chat_client_link_expires(c);
	char at[32];

	cJSON_AddStringToObject(o, "code", code);
	if (until > 0) {
		proto_rfc3339(until, at, sizeof at);
		cJSON_AddStringToObject(o, "expiresAt", at);
	}
	return o;
}

cJSON *
out_trust_json(const char *user, int accepted)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "user", user);
	cJSON_AddNumberToObject(o, "accepted", accepted);
	return o;
}
