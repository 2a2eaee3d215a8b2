/* termtext.c - text made safe for a terminal (see termtext.h). */
#include "termtext.h"

#include <stdio.h>
#include <string.h>

size_t
termtext_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c, min;
	size_t n;

	if (len == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	/* 0x80-0xc1 (continuation bytes, or overlong leads) and 0xf5-0xff never lead. */
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		c = p[0] & 0x1f;
		min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		c = p[0] & 0x0f;
		min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		c = p[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int
termtext_unsafe(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		return 1;
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 1;
	return cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff);
}

size_t
termtext_escape(uint32_t cp, char *buf, size_t cap)
{
	char tmp[16];
	int n;

	if (cp < 0xa0) /* C0, DEL, C1 */
		n = snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned)cp);
	else if (cp <= 0xffff)
		n = snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)cp);
	else
		n = snprintf(tmp, sizeof tmp, "\\U%08x", (unsigned)cp);
	if (cap > 0)
		snprintf(buf, cap, "%s", tmp);
	return n > 0 ? (size_t)n : 0;
}

/* Appends n bytes of piece to out if they fit whole (and the NUL after them). */
static void
put(char *out, size_t cap, size_t at, const char *piece, size_t n)
{
	if (cap > 0 && at + n < cap)
		memcpy(out + at, piece, n);
}

size_t
termtext_sanitize(const char *s, size_t len, int flags, char *out, size_t cap)
{
	size_t i = 0, need = 0, fit = 0;

	while (i < len) {
		char esc[16];
		uint32_t cp = 0;
		size_t n = termtext_decode(s + i, len - i, &cp), m;
		int keep = (flags & TERMTEXT_MULTILINE) && (cp == '\n' || cp == '\t');

		if (n == 0) { /* an invalid byte: "\xNN" of the byte itself */
			m = (size_t)snprintf(esc, sizeof esc, "\\x%02x", (unsigned char)s[i]);
			n = 1;
			put(out, cap, need, esc, m);
		} else if (termtext_unsafe(cp) && !keep) {
			m = termtext_escape(cp, esc, sizeof esc);
			put(out, cap, need, esc, m);
		} else {
			m = n;
			put(out, cap, need, s + i, m);
		}
		/* What fits stops at the first piece that does not, whole. */
		if (fit == need && cap > 0 && need + m < cap)
			fit = need + m;
		need += m;
		i += n;
	}
	if (cap > 0)
		out[fit] = '\0';
	return need;
}
