/*
 * fuzz-body.c - libFuzzer target: the plaintext of an envelope, as it comes
 * out of decryption (PROTOCOL.md, "End-to-end encryption"): the padding, then
 * the body of each kind: text (0x01), receipt (0x02), text and attachments
 * (0x03), reply (0x05), reaction (0x06), edit (0x08), delete (0x09). The input is taken both as a padded plaintext and as a body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "attach.h"
#include "e2e.h"
#include "internal.h"
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

static void
body(const uint8_t *p, size_t len)
{
	struct receipt_body r;
	struct attach_meta *atts = NULL;
	struct reply_body rb;
	struct reaction_body ra;
	struct change_body ch;
	size_t n = 0;
	char *text = NULL, err[256];

	if (len == 0)
		return;
	switch (p[0]) {
	case PROTO_BODY_TEXT:
		(void)proto_valid_utf8((const char *)p + 1, len - 1);
		break;
	case PROTO_BODY_RECEIPT:
		if (receipt_body_parse(p, len, &r) == 0 &&
		    (r.n < 1 || r.n > PROTO_MAX_RECEIPT_IDS || r.ids + 16 * r.n != p + len))
			abort(); /* the parser's promise */
		break;
	case PROTO_BODY_ATTACH:
		if (attach_body_parse(p, len, &text, &atts, &n, err, sizeof err) == ATTACH_OK) {
			if (n < 1 || n > PROTO_MAX_BLOBS || strlen(text) > CHAT_MAX_TEXT)
				abort();
			free(text);
			attach_meta_free(atts, n);
		}
		break;
	case PROTO_BODY_REPLY:
		if (reply_body_parse(p, len, &rb, err, sizeof err) == REPLY_OK) {
			if (rb.text_len == 0 || rb.text_len > CHAT_MAX_TEXT)
				abort();
			reply_body_free(&rb);
		}
		break;
	case PROTO_BODY_REACTION:
		if (reaction_body_parse(p, len, &ra, err, sizeof err) == REPLY_OK &&
		    strlen(ra.emoji) > REACTION_EMOJI_MAX)
			abort();
		break;
	case PROTO_BODY_EDIT:
	case PROTO_BODY_DELETE:
		if (change_body_parse(p, len, &ch, err, sizeof err) == REPLY_OK) {
			if (ch.kind != p[0] || ch.text_len > CHAT_MAX_TEXT ||
			    (ch.kind == PROTO_BODY_EDIT) != (ch.text != NULL))
				abort();
			change_body_free(&ch);
		}
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;

	if (size > PROTO_MAX_PADDED)
		return 0; /* no envelope holds more */
	body(data, size);
	if (e2e_unpad(data, size, &n) == 0) {
		if (n >= size || data[n] != 0x80)
			abort();
		body(data, n);
	}
	return 0;
}
