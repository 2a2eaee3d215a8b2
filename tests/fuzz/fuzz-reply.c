/*
 * fuzz-reply.c - libFuzzer target: the 0x05 reply body (PROTOCOL.md,
 * "Replies and reactions"), as it comes out of decryption. What the parser
 * takes must keep its promises (the limits), and build back to a body that
 * parses to the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

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
	struct reply_body r, again;
	uint8_t *b;
	size_t len;
	char err[256];

	if (size > PROTO_MAX_PLAINTEXT + 1)
		return 0;
	if (reply_body_parse(data, size, &r, err, sizeof err) != REPLY_OK)
		return 0;
	if (r.text == NULL || r.text_len == 0 || r.text_len > CHAT_MAX_TEXT ||
	    strlen(r.text) != r.text_len || strlen(r.preview) > REPLY_PREVIEW_MAX ||
	    !proto_valid_hex(r.id, CHAT_MESSAGE_ID_LEN) || !proto_valid_user(r.sender))
		abort(); /* the parser's promise */
	b = reply_body_build(r.text, r.text_len, r.id, r.sender, r.preview, &len, err, sizeof err);
	if (b != NULL) {
		if (reply_body_parse(b, len, &again, err, sizeof err) != REPLY_OK ||
		    strcmp(again.text, r.text) != 0 || strcmp(again.preview, r.preview) != 0)
			abort();
		reply_body_free(&again);
		free(b);
	}
	reply_body_free(&r);
	return 0;
}
