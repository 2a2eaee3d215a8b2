/*
 * fuzz-reaction.c - libFuzzer target: the 0x06 reaction body (PROTOCOL.md,
 * "Replies and reactions"), as it comes out of decryption. What the parser
 * takes keeps the limits, and builds back to itself.
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
	struct reaction_body r, again;
	uint8_t *b;
	size_t len;

	if (size > PROTO_MAX_PLAINTEXT + 1)
		return 0;
	if (reaction_body_parse(data, size, &r, NULL, 0) != REPLY_OK)
		return 0;
	if (!proto_valid_hex(r.target, CHAT_MESSAGE_ID_LEN) ||
	    !reaction_valid_emoji(r.emoji, strlen(r.emoji)))
		abort(); /* the parser's promise */
	if ((b = reaction_body_build(r.target, r.emoji, &len, NULL, 0)) == NULL ||
	    reaction_body_parse(b, len, &again, NULL, 0) != REPLY_OK ||
	    strcmp(again.emoji, r.emoji) != 0 || strcmp(again.target, r.target) != 0)
		abort();
	free(b);
	return 0;
}
