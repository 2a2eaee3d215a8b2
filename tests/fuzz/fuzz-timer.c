/*
 * fuzz-timer.c - libFuzzer target: the 0x0a disappearing-timer body
 * (PROTOCOL.md, "Disappearing messages"), as it comes out of decryption.
 * What the parser takes is a timer the wire allows, and builds back to itself.
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
	long long s, again;
	uint8_t *b;
	size_t len;

	if (size > PROTO_MAX_PLAINTEXT + 1)
		return 0;
	if (timer_body_parse(data, size, &s, NULL, 0) != REPLY_OK)
		return 0;
	/* the parser's promise */
	if (!timer_seconds_valid(s))
		abort();
	if ((b = timer_body_build(s, &len, NULL, 0)) == NULL ||
	    timer_body_parse(b, len, &again, NULL, 0) != REPLY_OK || again != s)
		abort();
	free(b);
	return 0;
}
