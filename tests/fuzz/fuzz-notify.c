/*
 * fuzz-notify.c - libFuzzer target: what chat-tui makes of a message's text
 * for a notification (tui/notify.c, notify_clean: text from the network
 * going to notify-send or into an OSC string), and of a line of its
 * configuration file (tui/config.c, config_line). chat-tui's objects are not
 * in FUZZ_LINK (they need curses): the two pure files are compiled in here.
 * The promises: the cleaned text is valid UTF-8 without a control
 * character (C0, DEL, C1), without ';' when asked, within its size; a
 * configuration line of any content is taken or refused, never more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tui/config.c"
#include "../../tui/notify.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *s, size_t max, int semicolon)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	if (n >= max)
		abort();
	while (i < n) {
		size_t len = p[i] < 0x80             ? 1
			     : (p[i] & 0xe0) == 0xc0 ? 2
			     : (p[i] & 0xf0) == 0xe0 ? 3
			     : (p[i] & 0xf8) == 0xf0 ? 4
						     : 0;

		if (len == 0 || i + len > n)
			abort();
		if (p[i] < 0x20 || p[i] == 0x7f || (!semicolon && p[i] == ';'))
			abort();
		if (len == 2 && (p[i] < 0xc2 || (p[i] == 0xc2 && p[i + 1] < 0xa0)))
			abort();
		for (size_t k = 1; k < len; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				abort();
		i += len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[NOTIFY_TEXT_MAX], small[7], err[400], *line;
	struct config c;

	notify_clean((const char *)data, size, 0, out, sizeof out);
	check(out, sizeof out, 0);
	notify_clean((const char *)data, size, 1, small, sizeof small);
	check(small, sizeof small, 1);
	if (size > 2 * CONFIG_LINE_MAX || (line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	config_defaults(&c);
	err[0] = '\0';
	if (config_line(&c, line, err, sizeof err) != 0 && err[0] == '\0')
		abort(); /* a refusal always says why */
	free(line);
	return 0;
}
