/*
 * fuzz-history.c - libFuzzer target: the 0x0c history batch (PROTOCOL.md,
 * "History sync"), as it comes out of decryption on a new device. What the
 * parser takes stays within its bounds and builds back to a batch that
 * parses to the same counts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "history.h"
#include "reply.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0 ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct history_batch b, again;
	uint8_t *body;
	size_t len;

	if (size > PROTO_MAX_PLAINTEXT + 1)
		return 0;
	if (history_batch_parse(data, size, &b, NULL, 0) != REPLY_OK)
		return 0;
	/* the parser's promises */
	if (b.n_chats > PROTO_HISTORY_MAX_CHATS || b.n_items > PROTO_HISTORY_MAX_ITEMS ||
	    b.part < 1 || b.part > b.parts || b.parts > PROTO_HISTORY_MAX_PARTS || b.to == 0)
		abort();
	/* a chat's settings, when there, as a 0x0b body bounds them */
	for (size_t i = 0; i < b.n_chats; i++) {
		const struct history_chat *ch = &b.chats[i];

		if (ch->has_prefs &&
		    (ch->muted_until < -1 || ch->muted_until > PROTO_PREFS_MAX_MS ||
		     ch->pinned_at < 0 || ch->pinned_at > PROTO_PREFS_MAX_MS || ch->archived_at < 0 ||
		     ch->archived_at > PROTO_PREFS_MAX_MS || ch->prefs_at < 1 ||
		     ch->prefs_at > PROTO_PREFS_MAX_MS))
			abort();
		if (!ch->has_prefs && (ch->muted_until || ch->pinned_at || ch->archived_at ||
				       ch->prefs_at))
			abort();
	}
	for (size_t i = 0; i < b.n_items; i++)
		if (b.items[i].text == NULL || b.items[i].text_len > CHAT_MAX_TEXT ||
		    b.items[i].n_atts > PROTO_MAX_BLOBS)
			abort();
	/* What was read builds back (it may be longer than it came, escaped
	 * differently: then the builder refuses it, which is fine). */
	body = history_batch_build(&b, &len, NULL, 0);
	if (body != NULL) {
		if (history_batch_parse(body, len, &again, NULL, 0) != REPLY_OK ||
		    again.n_chats != b.n_chats || again.n_items != b.n_items ||
		    strcmp(again.sync, b.sync) != 0)
			abort();
		for (size_t i = 0; i < b.n_chats; i++)
			if (again.chats[i].has_prefs != b.chats[i].has_prefs ||
			    again.chats[i].muted_until != b.chats[i].muted_until ||
			    again.chats[i].pinned_at != b.chats[i].pinned_at ||
			    again.chats[i].archived_at != b.chats[i].archived_at ||
			    again.chats[i].prefs_at != b.chats[i].prefs_at)
				abort();
		history_batch_free(&again);
		free(body);
	}
	history_batch_free(&b);
	return 0;
}
