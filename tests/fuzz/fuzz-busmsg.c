/*
 * fuzz-busmsg.c - libFuzzer target: what chat-server reads off Redis
 * (--bus): the channel names and the messages of bus_msg.h.  Whatever the
 * parser takes must come out of bus_msg_format as the same message, and
 * parse again to the same fields.
 *
 * Input: one byte choosing the mode (odd: a channel name, even: a
 * message), then the bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
channel(const char *s, size_t len)
{
	struct bus_channel c;
	char again[BUS_CHANNEL_MAX + 1];

	if (bus_channel_parse(s, len, &c) != 0)
		return;
	if (bus_channel_name(again, sizeof again, c.user, c.device_id) != 0 ||
	    strlen(again) != len || memcmp(again, s, len) != 0)
		abort();
}

static void
message(const char *s, size_t len)
{
	struct bus_msg m, m2;
	char *frame = NULL, *text;

	if (bus_msg_parse(s, len, &m) != 0)
		return;
	if (m.frame != NULL) {
		if ((frame = malloc(m.frame_len + 1)) == NULL)
			abort();
		memcpy(frame, m.frame, m.frame_len);
		frame[m.frame_len] = '\0';
		m.frame = frame;
	}
	text = bus_msg_format(&m);
	if (text == NULL || strlen(text) != len || memcmp(text, s, len) != 0)
		abort();
	if (bus_msg_parse(text, strlen(text), &m2) != 0 || m2.kind != m.kind ||
	    strcmp(m2.nonce, m.nonce) != 0 || m2.conn_id != m.conn_id || m2.at_ms != m.at_ms ||
	    m2.frame_len != m.frame_len)
		abort();
	free(text);
	free(frame);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		channel((const char *)data + 1, size - 1);
	else
		message((const char *)data + 1, size - 1);
	return 0;
}
