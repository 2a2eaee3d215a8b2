/*
 * fuzz-change.c - libFuzzer target: the 0x08 edit and 0x09 delete bodies
 * (PROTOCOL.md, "Edits and deletes"), as they come out of decryption. What
 * the parser takes keeps the limits, and builds back to itself.
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
	struct change_body ch, again;
	uint8_t *b;
	size_t len;

	if (size > PROTO_MAX_PLAINTEXT + 1)
		return 0;
	if (change_body_parse(data, size, &ch, NULL, 0) != REPLY_OK)
		return 0;
	/* the parser's promise */
	if (ch.kind != data[0] || !proto_valid_hex(ch.target, CHAT_MESSAGE_ID_LEN) ||
	    (ch.kind == PROTO_BODY_EDIT &&
	     (ch.text == NULL || ch.text_len == 0 || ch.text_len > CHAT_MAX_TEXT ||
	      strlen(ch.text) != ch.text_len || !proto_valid_utf8(ch.text, ch.text_len))) ||
	    (ch.kind == PROTO_BODY_DELETE && ch.text != NULL))
		abort();
	if ((b = change_body_build(ch.kind, ch.target, ch.text, ch.text_len, &len, NULL, 0)) ==
		    NULL ||
	    change_body_parse(b, len, &again, NULL, 0) != REPLY_OK || again.kind != ch.kind ||
	    strcmp(again.target, ch.target) != 0 || again.text_len != ch.text_len ||
	    (ch.text != NULL && memcmp(again.text, ch.text, ch.text_len) != 0))
		abort();
	change_body_free(&again);
	change_body_free(&ch);
	free(b);
	return 0;
}
