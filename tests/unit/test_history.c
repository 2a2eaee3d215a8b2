/*
 * test_history.c - the 0x0c history batch (PROTOCOL.md, "History sync";
 * client-lib/history_body.c): what the approving device builds, the new
 * device reads back field for field; every bound the parser promises holds
 * (counts, lengths, a message's chat described in its batch, kinds and
 * states from their lists, a deleted message without text); and the
 * builder refuses a batch over the size limit. A chat's settings (mute,
 * pin, archive and their time) are all four there or none, each bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "history.h"
#include "reply.h"

#define CHAT  "0123456789abcdef"
#define GROUP "fedcba9876543210"
#define ID_A  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C  "cccccccccccccccccccccccccccccccc"

static char *direct_members[] = {"alice", "bob"};
static char *group_members[] = {"alice", "bob", "carol"};
static char *group_admins[] = {"alice"};

static void
sample(struct history_batch *b, struct history_chat chats[2], struct history_item items[3],
       struct attach_meta *att)
{
	memset(b, 0, sizeof *b);
	memcpy(b->sync, "0011223344556677", HISTORY_SYNC_ID_LEN + 1);
	b->to = 2;
	b->part = 1;
	b->parts = 3;
	b->total = 7;
	memset(chats, 0, 2 * sizeof *chats);
	strcpy(chats[0].id, CHAT);
	strcpy(chats[0].kind, "direct");
	chats[0].members = direct_members;
	chats[0].n_members = 2;
	strcpy(chats[1].id, GROUP);
	strcpy(chats[1].kind, "group");
	chats[1].name = "trip";
	chats[1].description = "where we go";
	chats[1].members = group_members;
	chats[1].n_members = 3;
	chats[1].admins = group_admins;
	chats[1].n_admins = 1;
	chats[1].timer = 3600;
	/* The user's settings of the group (a mute for ever, a pin); the
	 * direct chat has none, as a batch from before them. */
	chats[1].has_prefs = 1;
	chats[1].muted_until = -1;
	chats[1].pinned_at = 1795000000400;
	chats[1].archived_at = 0;
	chats[1].prefs_at = 1795000000500;
	memset(items, 0, 3 * sizeof *items);
	memset(att, 0, sizeof *att);
	strcpy(att->blob_id, "5e1d0000000000000000000000000001");
	strcpy(att->name, "photo.jpg");
	strcpy(att->type, "image/jpeg");
	att->size = 3000;
	att->enc_size = attach_enc_size(3000);
	memset(att->key, 0x42, sizeof att->key);
	memset(att->sha256, 0x17, sizeof att->sha256);

	strcpy(items[0].id, ID_A);
	strcpy(items[0].chat_id, CHAT);
	items[0].seq = 3;
	items[0].sent_at = 1795000000123;
	strcpy(items[0].sender, "bob");
	items[0].device = 1;
	strcpy(items[0].kind, "text");
	strcpy(items[0].state, "read");
	items[0].text = "hi \"alice\"\n";
	items[0].text_len = strlen(items[0].text);
	strcpy(items[0].reply_to, ID_C);
	strcpy(items[0].reply_sender, "alice");
	strcpy(items[0].reply_preview, "hello");
	items[0].atts = att;
	items[0].n_atts = 1;

	strcpy(items[1].id, ID_B);
	strcpy(items[1].chat_id, CHAT);
	items[1].seq = 4;
	items[1].sent_at = 1795000000200;
	strcpy(items[1].sender, "bob");
	items[1].device = 1;
	strcpy(items[1].kind, "reaction");
	strcpy(items[1].state, "received");
	items[1].text = "👍";
	items[1].text_len = strlen(items[1].text);
	strcpy(items[1].reply_to, ID_A);

	strcpy(items[2].id, ID_C);
	strcpy(items[2].chat_id, GROUP);
	items[2].seq = 9;
	items[2].sent_at = 1795000000300;
	strcpy(items[2].sender, "alice");
	items[2].device = 2;
	strcpy(items[2].kind, "text");
	strcpy(items[2].state, "sent");
	items[2].text = "";
	items[2].deleted = 1;
	items[2].expires_at = 1795000003900;

	b->chats = chats;
	b->n_chats = 2;
	b->items = items;
	b->n_items = 3;
}

static void
test_round_trip(void **state)
{
	struct history_batch b, r;
	struct history_chat chats[2];
	struct history_item items[3];
	struct attach_meta att;
	uint8_t *body;
	size_t len;
	char err[200];

	(void)state;
	sample(&b, chats, items, &att);
	body = history_batch_build(&b, &len, err, sizeof err);
	assert_non_null(body);
	assert_int_equal(body[0], PROTO_BODY_HISTORY);
	assert_int_equal(history_batch_parse(body, len, &r, err, sizeof err), REPLY_OK);
	assert_string_equal(r.sync, "0011223344556677");
	assert_int_equal(r.to, 2);
	assert_int_equal(r.part, 1);
	assert_int_equal(r.parts, 3);
	assert_int_equal(r.total, 7);
	assert_int_equal(r.n_chats, 2);
	assert_string_equal(r.chats[1].name, "trip");
	assert_string_equal(r.chats[1].description, "where we go");
	assert_int_equal(r.chats[1].n_members, 3);
	assert_string_equal(r.chats[1].members[2], "carol");
	assert_int_equal(r.chats[1].n_admins, 1);
	assert_int_equal(r.chats[1].timer, 3600);
	assert_null(r.chats[0].name);
	assert_int_equal(r.chats[0].has_prefs, 0);
	assert_int_equal(r.chats[1].has_prefs, 1);
	assert_int_equal(r.chats[1].muted_until, -1);
	assert_int_equal(r.chats[1].pinned_at, 1795000000400);
	assert_int_equal(r.chats[1].archived_at, 0);
	assert_int_equal(r.chats[1].prefs_at, 1795000000500);
	assert_int_equal(r.n_items, 3);
	assert_string_equal(r.items[0].text, "hi \"alice\"\n");
	assert_string_equal(r.items[0].reply_to, ID_C);
	assert_string_equal(r.items[0].reply_sender, "alice");
	assert_string_equal(r.items[0].reply_preview, "hello");
	assert_int_equal(r.items[0].n_atts, 1);
	assert_string_equal(r.items[0].atts[0].name, "photo.jpg");
	assert_memory_equal(r.items[0].atts[0].key, att.key, sizeof att.key);
	assert_memory_equal(r.items[0].atts[0].sha256, att.sha256, sizeof att.sha256);
	assert_int_equal(r.items[0].sent_at, 1795000000123);
	assert_string_equal(r.items[1].kind, "reaction");
	assert_string_equal(r.items[1].text, "👍");
	assert_int_equal(r.items[2].deleted, 1);
	assert_int_equal(r.items[2].expires_at, 1795000003900);
	assert_int_equal(r.items[2].device, 2);
	history_batch_free(&r);
	free(body);
}

/* Builds the sample with one change (a JSON text substitution) and parses it. */
static int
parse_with(const char *from, const char *to)
{
	struct history_batch b, r;
	struct history_chat chats[2];
	struct history_item items[3];
	struct attach_meta att;
	uint8_t *body, *edited;
	size_t len, n;
	char *at, err[200];
	int rc;

	sample(&b, chats, items, &att);
	body = history_batch_build(&b, &len, err, sizeof err);
	assert_non_null(body);
	edited = malloc(len + strlen(to) + 1);
	assert_non_null(edited);
	memcpy(edited, body, len);
	edited[len] = '\0';
	at = strstr((char *)edited + 1, from);
	assert_non_null(at);
	n = strlen(from);
	memmove(at + strlen(to), at + n, len - (size_t)(at - (char *)edited) - n + 1);
	memcpy(at, to, strlen(to));
	len = len - n + strlen(to);
	rc = history_batch_parse(edited, len, &r, err, sizeof err);
	if (rc == REPLY_OK)
		history_batch_free(&r);
	free(edited);
	free(body);
	return rc;
}

static void
test_malformed(void **state)
{
	(void)state;
	assert_int_equal(parse_with("\"v\":1", "\"v\":1"), REPLY_OK);
	assert_int_equal(parse_with("\"v\":1", "\"v\":2"), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"to\":2", "\"to\":0"), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"part\":1", "\"part\":4"), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"parts\":3", "\"parts\":100001"), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"sync\":\"0011", "\"sync\":\"0X11"), REPLY_ERR_FORMAT);
	/* a message whose chat the batch does not describe */
	assert_int_equal(parse_with("\"chat\":\"" GROUP, "\"chat\":\"" GROUP "0"), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"id\":\"" GROUP "\"", "\"id\":\"1111111111111111\""),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"kind\":\"reaction\"", "\"kind\":\"history\""),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"state\":\"read\"", "\"state\":\"pending\""),
			 REPLY_ERR_FORMAT);
	/* a reaction without its target; an emoji over its limit */
	assert_int_equal(parse_with("\"replyTo\":\"" ID_A "\"", "\"x\":0"), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"text\":\"👍\"", "\"text\":\"" "123456789012345678901234567890123" "\""),
			 REPLY_ERR_FORMAT);
	/* deleted, yet carrying text */
	assert_int_equal(parse_with("\"text\":\"\",\"deleted\":true", "\"text\":\"x\",\"deleted\":true"),
			 REPLY_ERR_FORMAT);
	/* members: a bad name, a name twice */
	assert_int_equal(parse_with("\"carol\"]", "\"Ca rol\"]"), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"carol\"]", "\"bob\"]"), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"timer\":3600", "\"timer\":5"), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"encSize\":", "\"encSize\":1,\"x\":"), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"messages\":[", "\"messages\":[1,"), REPLY_ERR_FORMAT);
	/* the chat's settings: all four or none, each a whole number in range */
	assert_int_equal(parse_with(",\"settingsAt\":1795000000500", ""), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"mutedUntil\":-1,", ""), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"mutedUntil\":-1", "\"mutedUntil\":-2"), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"mutedUntil\":-1", "\"mutedUntil\":1.5"), REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"mutedUntil\":-1", "\"mutedUntil\":\"-1\""),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"mutedUntil\":-1", "\"mutedUntil\":9007199254740992"),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"mutedUntil\":-1", "\"mutedUntil\":9007199254740991"),
			 REPLY_OK);
	assert_int_equal(parse_with("\"pinnedAt\":1795000000400", "\"pinnedAt\":-1"),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"archivedAt\":0", "\"archivedAt\":null"),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_with("\"settingsAt\":1795000000500", "\"settingsAt\":0"),
			 REPLY_ERR_FORMAT);
	/* none of them: a batch from before them */
	assert_int_equal(parse_with("\"mutedUntil\":-1,\"pinnedAt\":1795000000400,"
				    "\"archivedAt\":0,\"settingsAt\":1795000000500",
				    "\"x\":0"),
			 REPLY_OK);
	/* a duplicate member name */
	assert_int_equal(parse_with("\"total\":7", "\"total\":7,\"total\":8"), REPLY_ERR_FORMAT);
}

/* Too many messages for one batch, and a batch over the size limit. */
static void
test_bounds(void **state)
{
	struct history_batch b;
	struct history_chat chats[2];
	struct history_item items[3], *many;
	struct attach_meta att;
	uint8_t *body;
	size_t len;
	char err[200], *big;

	(void)state;
	sample(&b, chats, items, &att);
	many = calloc(PROTO_HISTORY_MAX_ITEMS + 1, sizeof *many);
	assert_non_null(many);
	for (size_t i = 0; i <= PROTO_HISTORY_MAX_ITEMS; i++) {
		many[i] = items[1];
		snprintf(many[i].id, sizeof many[i].id, "%032zx", i);
	}
	b.items = many;
	b.n_items = PROTO_HISTORY_MAX_ITEMS + 1;
	/* More messages than a batch holds are over its bytes too, whatever
	 * counts first. */
	body = history_batch_build(&b, &len, err, sizeof err);
	assert_null(body);
	free(many);

	sample(&b, chats, items, &att);
	big = malloc(CHAT_MAX_TEXT + 1);
	assert_non_null(big);
	memset(big, 'x', CHAT_MAX_TEXT);
	big[CHAT_MAX_TEXT] = '\0';
	b.items[2].deleted = 0;
	b.items[2].text = big;
	b.items[2].text_len = CHAT_MAX_TEXT;
	assert_null(history_batch_build(&b, &len, err, sizeof err));
	assert_non_null(strstr(err, "over"));
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bounds),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
