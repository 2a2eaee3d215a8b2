/*
 * wire2.c - the forms of a stage-2 envelope (wire2.h).
 */
#include "wire2.h"
#include "chain.h"

#include <string.h>

void
wire2_prekey_fields(uint8_t out[WIRE2_PREKEY_FIELDS], const uint8_t base_key[32], uint32_t spk_id,
		    int has_opk, uint32_t opk_id)
{
	memcpy(out, base_key, 32);
	be32_put(out + 32, spk_id);
	out[36] = has_opk ? 1 : 0;
	be32_put(out + 37, has_opk ? opk_id : 0);
}

/* A pairwise form (0x21 or 0x22). */
static int
parse_pairwise(const uint8_t *b, size_t len, struct wire2 *w)
{
	size_t head = 1;

	if (len < 1)
		return -1;
	if (b[0] == WIRE2_PREKEY) {
		if (len < 1 + WIRE2_PREKEY_FIELDS)
			return -1;
		w->fields = b + 1;
		w->base_key = b + 1;
		w->spk_id = be32_get(b + 33);
		if (b[37] > 1)
			return -1;
		w->has_opk = b[37];
		w->opk_id = be32_get(b + 38);
		if (!w->has_opk && w->opk_id != 0)
			return -1;
		head += WIRE2_PREKEY_FIELDS;
	} else if (b[0] != WIRE2_MSG) {
		return -1;
	}
	if (len - head < WIRE2_RATCHET_MIN)
		return -1;
	w->form = b[0];
	w->msg = b + head;
	w->msg_len = len - head;
	return 0;
}

int
wire2_parse(const uint8_t *b, size_t len, struct wire2 *w)
{
	size_t dist;

	memset(w, 0, sizeof *w);
	if (b == NULL || len < 1)
		return -1;
	if (b[0] != WIRE2_GROUP)
		return parse_pairwise(b, len, w);
	if (len < 3)
		return -1;
	dist = (size_t)b[1] << 8 | b[2];
	if (len - 3 < dist || len - 3 - dist < WIRE2_SKMSG_MIN)
		return -1;
	if (dist > 0) {
		/* Zeroed: parse_pairwise sets base_key and fields for a prekey
		 * form only, and a message form's must read NULL, not the stack. */
		struct wire2 inner = {0};

		if (parse_pairwise(b + 3, dist, &inner) != 0)
			return -1;
		w->base_key = inner.base_key;
		w->fields = inner.fields;
		w->spk_id = inner.spk_id;
		w->has_opk = inner.has_opk;
		w->opk_id = inner.opk_id;
		w->dist = b + 3;
		w->dist_len = dist;
	}
	w->form = WIRE2_GROUP;
	w->msg = b + 3 + dist;
	w->msg_len = len - 3 - dist;
	return 0;
}
