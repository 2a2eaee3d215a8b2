/*
 * fuzz-prefs.c - libFuzzer target: the 0x0b chat-settings body (PROTOCOL.md,
 * "Chat settings"), as it comes out of decryption. What the parser takes is
 * in range, and builds back to itself.
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
	struct prefs_body p, again;
	uint8_t *b;
	size_t len;

	if (size > PROTO_MAX_PLAINTEXT + 1)
		return 0;
	if (prefs_body_parse(data, size, &p, NULL, 0) != REPLY_OK)
		return 0;
	/* the parser's promise */
	if (strlen(p.chat_id) != CHAT_CHAT_ID_LEN || p.muted_until < -1 || p.pinned_at < 0 ||
	    p.archived_at < 0 || p.at < 1 || p.at > PROTO_PREFS_MAX_MS)
		abort();
	if ((b = prefs_body_build(&p, &len, NULL, 0)) == NULL ||
	    prefs_body_parse(b, len, &again, NULL, 0) != REPLY_OK ||
	    memcmp(&p, &again, sizeof p) != 0)
		abort();
	free(b);
	return 0;
}
