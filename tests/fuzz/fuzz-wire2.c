/*
 * fuzz-wire2.c - libFuzzer target: the forms of a stage-2 envelope
 * (common/wire2.h), the first thing libchat reads of a ciphertext from the
 * network. wire2_parse must refuse the bytes or give parts that lie inside
 * them, of the sizes the forms promise: a ratchet message of at least
 * header and tag, a sender-key message of at least its ids, tag and
 * signature, a group form's key inside it as a whole pairwise form, and
 * prekey fields that read back as they were written.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
	return p >= data && n <= size && (size_t)(p - data) <= size - n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire2 w;
	uint8_t fields[WIRE2_PREKEY_FIELDS];

	if (wire2_parse(data, size, &w) != 0)
		return 0;
	if (!inside(w.msg, w.msg_len, data, size))
		abort();
	switch (w.form) {
	case WIRE2_MSG:
		if (w.msg_len < WIRE2_RATCHET_MIN || w.dist != NULL || w.fields != NULL)
			abort();
		break;
	case WIRE2_PREKEY:
		if (w.msg_len < WIRE2_RATCHET_MIN || !inside(w.fields, WIRE2_PREKEY_FIELDS, data, size))
			abort();
		break;
	case WIRE2_GROUP:
		if (w.msg_len < WIRE2_SKMSG_MIN || (w.dist == NULL) != (w.dist_len == 0) ||
		    (w.dist != NULL && !inside(w.dist, w.dist_len, data, size)))
			abort();
		if (w.dist != NULL) {
			struct wire2 inner;

			if (wire2_parse(w.dist, w.dist_len, &inner) != 0 || inner.form == WIRE2_GROUP)
				abort();
		}
		break;
	default: abort();
	}
	if (w.fields != NULL) {
		wire2_prekey_fields(fields, w.base_key, w.spk_id, w.has_opk, w.opk_id);
		if (memcmp(fields, w.fields, sizeof fields) != 0)
			abort();
	}
	return 0;
}
