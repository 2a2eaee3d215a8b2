/*
 * bus_msg.c - the bus's channel names and messages (see bus_msg.h).  What
 * comes off Redis is read as strictly as what comes off a client: every
 * length bounded, every field of its exact form, anything else refused.
 */
#include "bus_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static const struct {
	const char *word;
	enum bus_kind kind;
} kinds[] = {
	{"wake", BUS_WAKE},       {"prekeys", BUS_PREKEYS}, {"takeover", BUS_TAKEOVER},
	{"removed", BUS_REMOVED}, {"eph", BUS_EPH},         {"push", BUS_PUSH},
};

static const char *
kind_word(enum bus_kind k)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (kinds[i].kind == k)
			return kinds[i].word;
	return NULL;
}

static int
has_frame(enum bus_kind k)
{
	return k == BUS_EPH || k == BUS_PUSH;
}

int
bus_channel_name(char *out, size_t cap, const char *user, uint32_t device_id)
{
	int n;

	if (!proto_valid_user(user))
		return -1;
	if (device_id > 0)
		n = snprintf(out, cap, "chat:d:%s:%u", user, (unsigned)device_id);
	else
		n = snprintf(out, cap, "chat:u:%s", user);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* A decimal number of 1 to 20 digits, no sign, no leading zero, at most
 * max: 0, or -1. */
static int
parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
bus_channel_parse(const char *s, size_t len, struct bus_channel *out)
{
	const char *user, *colon;
	size_t ulen;
	uint64_t dev = 0;

	/* A NUL would end the user name early for proto_valid_user. */
	if (len < 7 || len > BUS_CHANNEL_MAX || memchr(s, '\0', len) != NULL ||
	    memcmp(s, "chat:", 5) != 0 || (s[5] != 'd' && s[5] != 'u') || s[6] != ':')
		return -1;
	user = s + 7;
	colon = memchr(user, ':', len - 7);
	if (s[5] == 'u') {
		if (colon != NULL)
			return -1;
		ulen = len - 7;
	} else {
		if (colon == NULL)
			return -1;
		ulen = (size_t)(colon - user);
		if (parse_u64(colon + 1, len - 7 - ulen - 1, UINT32_MAX, &dev) != 0 || dev == 0)
			return -1;
	}
	if (ulen == 0 || ulen > PROTO_USER_MAX)
		return -1;
	memcpy(out->user, user, ulen);
	out->user[ulen] = '\0';
	if (!proto_valid_user(out->user))
		return -1;
	out->device_id = (uint32_t)dev;
	return 0;
}

char *
bus_msg_format(const struct bus_msg *m)
{
	const char *word = kind_word(m->kind);
	size_t flen = 0, cap;
	char *out;
	int n;

	if (word == NULL || !proto_valid_hex(m->nonce, BUS_NONCE_LEN))
		return NULL;
	if (has_frame(m->kind)) {
		if (m->frame == NULL || m->frame[0] != '{')
			return NULL;
		flen = strlen(m->frame);
		if (memchr(m->frame, '\n', flen) != NULL)
			return NULL;
	}
	cap = strlen(word) + 1 + BUS_NONCE_LEN + 2 * 21 + 3 + flen + 1;
	if (flen > BUS_MSG_MAX || (out = malloc(cap)) == NULL)
		return NULL;
	if (m->kind == BUS_TAKEOVER)
		n = snprintf(out, cap, "%s %s %llu %lld", word, m->nonce,
			     (unsigned long long)m->conn_id, (long long)m->at_ms);
	else if (has_frame(m->kind))
		n = snprintf(out, cap, "%s %s %s", word, m->nonce, m->frame);
	else
		n = snprintf(out, cap, "%s %s", word, m->nonce);
	if (n < 0 || (size_t)n >= cap || (size_t)n > BUS_MSG_MAX || m->at_ms < 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* The next word of buf[*pos..len) up to a space or the end: its start and
 * length; *pos past the space.  -1 if empty. */
static int
next_word(const char *buf, size_t len, size_t *pos, const char **w, size_t *wlen)
{
	size_t start = *pos, i = start;

	while (i < len && buf[i] != ' ')
		i++;
	if (i == start)
		return -1;
	*w = buf + start;
	*wlen = i - start;
	*pos = i < len ? i + 1 : i;
	/* A space must be followed by something. */
	return i < len && *pos == len ? -1 : 0;
}

int
bus_msg_parse(const char *buf, size_t len, struct bus_msg *out)
{
	const char *w;
	size_t wlen, pos = 0, i;
	uint64_t v;

	if (len == 0 || len > BUS_MSG_MAX)
		return -1;
	memset(out, 0, sizeof *out);
	if (next_word(buf, len, &pos, &w, &wlen) != 0)
		return -1;
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strlen(kinds[i].word) == wlen && memcmp(kinds[i].word, w, wlen) == 0)
			break;
	if (i == sizeof kinds / sizeof kinds[0])
		return -1;
	out->kind = kinds[i].kind;
	if (next_word(buf, len, &pos, &w, &wlen) != 0 || wlen != BUS_NONCE_LEN)
		return -1;
	memcpy(out->nonce, w, wlen);
	out->nonce[wlen] = '\0';
	if (!proto_valid_hex(out->nonce, BUS_NONCE_LEN))
		return -1;
	if (out->kind == BUS_TAKEOVER) {
		if (next_word(buf, len, &pos, &w, &wlen) != 0 ||
		    parse_u64(w, wlen, UINT64_MAX, &out->conn_id) != 0 ||
		    next_word(buf, len, &pos, &w, &wlen) != 0 ||
		    parse_u64(w, wlen, INT64_MAX, &v) != 0)
			return -1;
		out->at_ms = (int64_t)v;
	} else if (has_frame(out->kind)) {
		/* The rest, spaces and all. */
		if (pos >= len || buf[pos] != '{' || memchr(buf + pos, '\0', len - pos) != NULL ||
		    memchr(buf + pos, '\n', len - pos) != NULL)
			return -1;
		out->frame = buf + pos;
		out->frame_len = len - pos;
		pos = len;
	}
	return pos == len ? 0 : -1;
}
