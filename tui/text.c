/*
 * text.c - UTF-8 text on a terminal grid (see text.h).
 *
 * Decisions text.h leaves to this file:
 *
 * - Unsafe: C0 controls but '\n' and '\t', DEL, C1 (U+0080-U+009F), the bidi
 *   embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), and
 *   any code point wcwidth() does not know (unassigned, noncharacters, U+2028
 *   and U+2029, emoji newer than the C library): the terminal and ncurses
 *   would each guess a width for those, and not the same one, so they are
 *   shown as escapes whose width is certain. This depends on the locale: in
 *   one that is not UTF-8, everything but ASCII is shown escaped.
 * - The marks LRM, RLM (U+200E, U+200F) and ALM (U+061C) are not unsafe: they
 *   only settle the direction of neutral characters next to them and cannot
 *   reorder a run of text as an override or isolate can; RTL writers use them.
 *   Like every other code point of width 0 they ride on the cluster before.
 * - Escapes: "\xNN" (4 columns) for an invalid byte and for C0, DEL and C1;
 *   "\uXXXX" (6) for any other unsafe code point up to U+FFFF; "\UXXXXXXXX"
 *   (10) above it. Hex digits are lowercase, as in "\u202e".
 * - '\t' is one column: text_sanitize() shows it as a space.
 * - Clusters: a base, then any code point of width 0 (combining marks, ZWJ,
 *   ZWNJ, variation selectors, the marks above, Hangul vowels and finals, tag
 *   characters). After an emoji base, emoji modifiers (U+1F3FB-U+1F3FF) and,
 *   after a ZWJ, another emoji join too; a ZWJ between other characters (as
 *   in Indic scripts) joins nothing after it, as in Unicode's rules (UAX #29,
 *   GB11), so that ncurses and the terminal give both characters their own
 *   cells as counted here. "Emoji" is approximated by the blocks that hold
 *   Extended_Pictographic characters. Two regional indicators make a flag.
 *   A cluster stops at 32 code points, so a paste of thousands of combining
 *   marks cannot make one unit of the whole text; the rest starts new ones.
 * - A cluster's width is the sum of its code points' (wcwidth), because that
 *   is how far ncursesw moves its cursor when it draws one (it adds them one
 *   by one): 👨‍👩‍👧 is 6, 👍🏽 is 4, e + U+0301 is 1, a flag 2, and a VS16
 *   (U+FE0F) does not widen a width-1 base such as U+2764 ❤ (1). xterm
 *   moves its cursor as far. Others do not: tmux joins what follows a ZWJ
 *   into one cell (👨‍👩‍👧 in 2 columns), kitty and others join skin tones
 *   and widen after a VS16; the cursor curses believes in and the one on the
 *   screen then part, and everything after the cluster lands in the wrong
 *   place. So the quirks (text_set_quirks, measured by tui/term.c) say which
 *   kinds the terminal draws otherwise, and those are drawn in a form both
 *   count alike: without the ZWJ (its parts side by side, each a cluster of
 *   its own here), without the variation selector, without the skin tone
 *   (counted 0 then), regional indicators as letters. Nothing the sender
 *   wrote changes: this is only how it is drawn.
 *   '\n', '\t', unsafe code points and invalid bytes are clusters of their own.
 * - Soft wrapping (text_wrap): a space that would overflow a row ends it, and
 *   it and the spaces right after it belong to no row, as a '\n' does.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "termtext.h"
#include "text.h"

#define CLUSTER_MAX_CPS 32 /* code points in one cluster, at most */
#define ZWJ             0x200d
#define VS15            0xfe0e
#define VS16            0xfe0f

static unsigned quirks;

void
text_set_quirks(unsigned q)
{
	quirks = q & TEXT_QUIRK_ALL;
}

unsigned
text_quirks(void)
{
	return quirks;
}

/* The rules chatctl shares live in libchat's termtext.c. */
size_t
text_decode(const char *s, size_t len, uint32_t *cp)
{
	return termtext_decode(s, len, cp);
}

int
text_is_unsafe(uint32_t cp)
{
	if (cp == '\n' || cp == '\t')
		return 0;
	/* Beyond what chatctl escapes: what curses and the terminal would each
	 * give a width of their own guessing. */
	return termtext_unsafe(cp) || wcwidth((wchar_t)cp) < 0;
}

int
text_cp_width(uint32_t cp)
{
	char esc[16];

	if (cp == '\n')
		return 0;
	if (cp == '\t')
		return 1;
	if (text_is_unsafe(cp))
		return (int)termtext_escape(cp, esc, sizeof esc);
	return wcwidth((wchar_t)cp);
}

/* Code points that are a cluster of their own and join nothing. */
static int
stands_alone(uint32_t cp)
{
	return cp == '\n' || cp == '\t' || text_is_unsafe(cp);
}

static int
is_regional(uint32_t cp)
{
	return cp >= 0x1f1e6 && cp <= 0x1f1ff;
}

static int
is_modifier(uint32_t cp)
{
	return cp >= 0x1f3fb && cp <= 0x1f3ff;
}

/* Emoji that ZWJ sequences and modifiers build on: the blocks holding
 * Unicode's Extended_Pictographic characters, which is close enough here (a
 * miss only splits a sequence into clusters that each have their width). */
static int
is_pictographic(uint32_t cp)
{
	if (is_regional(cp) || is_modifier(cp))
		return 0;
	return cp == 0xa9 || cp == 0xae || cp == 0x203c || cp == 0x2049 || cp == 0x2122 ||
	       cp == 0x2139 || cp == 0x24c2 || cp == 0x2934 || cp == 0x2935 || cp == 0x3030 ||
	       cp == 0x303d || cp == 0x3297 || cp == 0x3299 || (cp >= 0x2190 && cp <= 0x21ff) ||
	       (cp >= 0x2300 && cp <= 0x23ff) || (cp >= 0x25a0 && cp <= 0x27bf) ||
	       (cp >= 0x2b00 && cp <= 0x2bff) || (cp >= 0x1f000 && cp <= 0x1faff) ||
	       (cp >= 0x1fc00 && cp <= 0x1fffd);
}

/* Whether cp joins a cluster whose first code point is base, last is prev,
 * and which has ncp code points so far. */
static int
joins(uint32_t base, uint32_t prev, int ncp, uint32_t cp)
{
	if (stands_alone(cp))
		return 0;
	if (wcwidth((wchar_t)cp) == 0)
		return 1;
	if (is_regional(base))
		return ncp == 1 && is_regional(cp);
	if (!is_pictographic(base))
		return 0;
	if (is_modifier(cp))
		return 1;
	/* Split there when the terminal joins its own way: drawn without the
	 * ZWJ, the parts are clusters of their own on every terminal. */
	return prev == ZWJ && is_pictographic(cp) && !(quirks & TEXT_QUIRK_ZWJ);
}

size_t
text_cluster(const char *s, size_t len, int *width)
{
	uint32_t base, prev, cp;
	size_t off, n;
	int ncp = 1;

	*width = 0;
	if (len == 0)
		return 0;
	if ((off = text_decode(s, len, &base)) == 0) {
		*width = 4; /* "\xNN" */
		return 1;
	}
	*width = text_cp_width(base);
	if (stands_alone(base))
		return off;
	for (prev = base; off < len && ncp < CLUSTER_MAX_CPS; prev = cp, ncp++) {
		n = text_decode(s + off, len - off, &cp);
		if (n == 0 || !joins(base, prev, ncp, cp))
			break;
		/* Every code point's columns: what curses advances the cursor by
		 * (it adds them one by one), so the layout is where curses puts
		 * things. Marks, ZWJ and VS16 add 0; a flag's second indicator, a
		 * skin tone and each joined emoji add their own (a skin tone not
		 * drawn, TEXT_QUIRK_MODIFIER, none). */
		if (!(is_modifier(cp) && (quirks & TEXT_QUIRK_MODIFIER)))
			*width += text_cp_width(cp);
		off += n;
	}
	return off;
}

/* 1 if cp, at index i of a cluster, is left out of what is drawn. */
static int
left_out(uint32_t cp, size_t i)
{
	if (cp == ZWJ)
		return (quirks & TEXT_QUIRK_ZWJ) != 0;
	if (cp == VS15 || cp == VS16)
		return (quirks & TEXT_QUIRK_VS) != 0;
	return i > 0 && is_modifier(cp) && (quirks & TEXT_QUIRK_MODIFIER);
}

size_t
text_cluster_form(const char *s, size_t n, char *out, size_t cap)
{
	size_t off = 0, len = 0, k, i;
	char esc[16];
	uint32_t cp;

	if (cap == 0)
		return 0;
	if (n > 0 && (text_decode(s, n, &cp) == 0 || text_is_unsafe(cp))) {
		/* An invalid byte or an unsafe code point is a cluster of its
		 * own: its escape. */
		text_sanitize(s, text_decode(s, n, &cp) ? n : 1, esc, sizeof esc);
		snprintf(out, cap, "%s", esc);
		return strlen(out);
	}
	for (i = 0; off < n; i++, off += k) {
		char letter;

		if ((k = text_decode(s + off, n - off, &cp)) == 0)
			break; /* not one cluster: the rest is not drawn */
		if (left_out(cp, i))
			continue;
		if (cp == '\t') { /* curses would expand it to a tab stop */
			if (len + 1 < cap)
				out[len++] = ' ';
			continue;
		}
		if (is_regional(cp) && (quirks & TEXT_QUIRK_FLAG)) {
			letter = (char)('A' + (cp - 0x1f1e6));
			if (len + 1 < cap)
				out[len++] = letter;
			continue;
		}
		if (len + k < cap) {
			memcpy(out + len, s + off, k);
			len += k;
		}
	}
	out[len] = '\0';
	return len;
}

int
text_width(const char *s, size_t len)
{
	size_t off = 0;
	int w, total = 0;

	while (off < len) {
		off += text_cluster(s + off, len - off, &w);
		total = w > INT_MAX - total ? INT_MAX : total + w;
	}
	return total;
}

/* Appends one unit (k bytes) of the safe form to out, only whole: once a unit
 * does not fit, nothing more is written, so out is a prefix that is still
 * valid UTF-8 and never half an escape. *need counts everything. */
static void
put(char *out, size_t cap, size_t *need, size_t *wrote, const char *unit, size_t k)
{
	if (*wrote == *need && cap > 0 && k <= cap - 1 - *wrote) {
		memcpy(out + *wrote, unit, k);
		*wrote += k;
	}
	*need = k > SIZE_MAX - *need ? SIZE_MAX : *need + k;
}

size_t
text_sanitize(const char *s, size_t len, char *out, size_t cap)
{
	size_t i = 0, n, k, need = 0, wrote = 0;
	char esc[16];
	uint32_t cp;

	while (i < len) {
		n = text_decode(s + i, len - i, &cp);
		if (n == 0) {
			n = 1;
			snprintf(esc, sizeof esc, "\\x%02x", (unsigned char)s[i]);
			put(out, cap, &need, &wrote, esc, 4);
		} else if (cp == '\t') {
			put(out, cap, &need, &wrote, " ", 1);
		} else if (text_is_unsafe(cp)) {
			k = termtext_escape(cp, esc, sizeof esc);
			put(out, cap, &need, &wrote, esc, k);
		} else {
			put(out, cap, &need, &wrote, s + i, n);
		}
		i += n;
	}
	if (cap > 0)
		out[wrote] = '\0';
	return need;
}

struct wrap {
	const char *s;
	int cols;
	int soft; /* text_wrap: break at spaces; text_wrap_hard: never */
	text_row_fn row;
	void *arg;
	int rows;
};

static void
emit(struct wrap *w, size_t off, size_t n)
{
	if (w->row != NULL)
		w->row(w->arg, off, n);
	if (w->rows < INT_MAX)
		w->rows++;
}

/* Rows of one line, s[start..end) without '\n'. Greedy: clusters go on the
 * row until one does not fit; then the row ends at the last space in it
 * (soft), else before that cluster. A line gives at least one row. */
static void
wrap_line(struct wrap *w, size_t start, size_t end)
{
	size_t pos = start, row = start, brk = 0, n;
	int used = 0, brk_used = 0, cw, fits, emitted = 0;

	while (pos < end) {
		n = text_cluster(w->s + pos, end - pos, &cw);
		/* Soft rows take width-0 clusters even when full; hard ones start
		 * a row for them, so a cursor before one is not past the edge. */
		if (w->soft)
			fits = cw == 0 || cw <= w->cols - used;
		else
			fits = used < w->cols && cw <= w->cols - used;
		if (fits || used == 0) {
			/* used == 0: wider than a row, it gets one of its own. */
			pos += n;
			used = cw > INT_MAX - used ? INT_MAX : used + cw;
			if (w->soft && n == 1 && w->s[pos - 1] == ' ') {
				brk = pos;
				brk_used = used;
			}
			continue;
		}
		if (w->soft && n == 1 && w->s[pos] == ' ') {
			/* Whole spaces only: one with a mark on it is shown. */
			emit(w, row, pos - row);
			while (pos < end && w->s[pos] == ' ' &&
			       text_cluster(w->s + pos, end - pos, &cw) == 1)
				pos++;
			row = pos;
		} else if (brk != 0 && cw <= w->cols) {
			/* The word so far moves to the next row with this cluster,
			 * which is tried again there. */
			emit(w, row, brk - row);
			used -= brk_used;
			row = brk;
			brk = 0;
			emitted = 1;
			continue;
		} else {
			emit(w, row, pos - row);
			row = pos;
		}
		emitted = 1;
		used = 0;
		brk = 0;
	}
	if (end > row || !emitted)
		emit(w, row, end - row);
}

static int
wrap(const char *s, size_t len, int cols, int soft, text_row_fn row, void *arg)
{
	struct wrap w = {s, cols < 1 ? 1 : cols, soft, row, arg, 0};
	const char *nl;
	size_t start = 0, end;

	if (len == 0) {
		emit(&w, 0, 0);
		return w.rows;
	}
	for (;;) {
		nl = memchr(s + start, '\n', len - start);
		end = nl != NULL ? (size_t)(nl - s) : len;
		wrap_line(&w, start, end);
		if (nl == NULL)
			break;
		start = end + 1;
	}
	return w.rows;
}

int
text_wrap(const char *s, size_t len, int cols, text_row_fn row, void *arg)
{
	return wrap(s, len, cols, 1, row, arg);
}

int
text_wrap_hard(const char *s, size_t len, int cols, text_row_fn row, void *arg)
{
	return wrap(s, len, cols, 0, row, arg);
}

size_t
text_next(const char *s, size_t len, size_t off)
{
	int w;

	if (off >= len)
		return len;
	return off + text_cluster(s + off, len - off, &w);
}

/* The start of the code point, or invalid byte, that ends at off (> 0). A
 * well-formed sequence ending there is what text_decode() reads going forward
 * too: its lead byte cannot be inside another sequence. */
static size_t
unit_before(const char *s, size_t len, size_t off)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t k;

	for (k = 1; k <= 4 && k <= off; k++) {
		if ((p[off - k] & 0xc0) != 0x80) {
			if (text_decode(s + off - k, len - (off - k), &cp) == k)
				return off - k;
			break;
		}
	}
	return off - 1;
}

/* 1 if a cluster certainly starts at q, whatever comes before; 0 if it may
 * not (then the caller looks further back). */
static int
starts_cluster(const char *s, size_t len, size_t q)
{
	uint32_t cp, prev;
	size_t pq;

	if (q == 0)
		return 1;
	if (text_decode(s + q, len - q, &cp) == 0 || stands_alone(cp))
		return 1;
	pq = unit_before(s, len, q);
	if (text_decode(s + pq, len - pq, &prev) != q - pq || stands_alone(prev))
		return 1;
	if (wcwidth((wchar_t)cp) == 0 || is_modifier(cp) || is_regional(cp))
		return 0;
	return prev != ZWJ || (quirks & TEXT_QUIRK_ZWJ);
}

/* Clusters only have a forward definition (a run of regional indicators pairs
 * from its start; the 32 code point cap counts from the base), so this goes
 * back to a point where one certainly starts and walks forward. For an off
 * between two code points of a cluster, it returns the start of the cluster
 * (the editor uses that after an edit joins clusters). */
size_t
text_prev(const char *s, size_t len, size_t off)
{
	size_t q, pos, last;
	int w;

	if (off > len)
		off = len;
	if (off == 0)
		return 0;
	q = unit_before(s, len, off);
	while (!starts_cluster(s, len, q))
		q = unit_before(s, len, q);
	for (last = pos = q; pos < off;) {
		last = pos;
		pos += text_cluster(s + pos, len - pos, &w);
	}
	return last;
}
