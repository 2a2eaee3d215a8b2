/*
 * editor.c - chat-tui's input line (see editor.h).
 *
 * The buffer only ever holds what editor_insert() lets in: valid UTF-8
 * without NUL or other controls but '\n' and '\t'. Edits can join clusters
 * (an 'e' typed before a lone combining mark, a ZWJ between two emoji); the
 * cursor then moves to the end of the cluster it fell into, so it always sits
 * on a boundary.
 *
 * Decisions editor.h leaves to this file:
 * - Pasted text also loses DEL and C1 controls (U+0080-U+009F), which no one
 *   means to send, and a "\r\n" pair becomes one '\n'.
 * - Words are separated by ' ', '\t' and '\n' (a cluster whose first byte is
 *   one of them); Ctrl-W and word moves cross line ends, Ctrl-U does not.
 * - Browsing the history drops edits made to a recalled line; editor_set()
 *   and editor_insert() do not end browsing, editor_take() does.
 * - editor_take() trims the end of the message only (the last line's trailing
 *   spaces and tabs, and blank lines), not each line; a message of blanks
 *   empties the buffer and gives NULL.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "editor.h"
#include "text.h"

/* What buf points to while nothing is allocated (cap 0): never written. */
static const char empty[1];

static void
reset(struct editor *e)
{
	e->buf = (char *)empty;
	e->len = e->cap = 0;
	e->cursor = 0;
}

void
editor_init(struct editor *e)
{
	memset(e, 0, sizeof *e);
	reset(e);
}

static void
end_browsing(struct editor *e)
{
	free(e->draft);
	e->draft = NULL;
	e->hist_pos = e->n_hist;
}

void
editor_free(struct editor *e)
{
	size_t i;

	if (e->cap > 0)
		free(e->buf);
	for (i = 0; i < e->n_hist; i++)
		free(e->hist[i]);
	free(e->hist);
	free(e->draft);
	editor_init(e);
}

/* Room for n bytes and the NUL. */
static int
grow(struct editor *e, size_t n)
{
	size_t cap = e->cap > 0 ? e->cap : 64;
	char *p;

	if (n < e->cap)
		return 0;
	while (cap <= n)
		cap *= 2;
	if (e->cap == 0) {
		if ((p = malloc(cap)) == NULL)
			return -1;
		p[0] = '\0';
	} else if ((p = realloc(e->buf, cap)) == NULL) {
		return -1;
	}
	e->buf = p;
	e->cap = cap;
	return 0;
}

/* Pasted text as the buffer takes it (see editor_insert) into out, or only
 * counted if out is NULL. Counting stops past limit bytes. Returns the
 * length. */
static size_t
clean(const char *s, size_t n, char *out, size_t limit)
{
	size_t i = 0, used, k, len = 0;
	const char *unit;
	uint32_t cp;

	while (i < n && len <= limit) {
		unit = s + i;
		if ((used = k = text_decode(s + i, n - i, &cp)) == 0) {
			unit = "\xef\xbf\xbd"; /* U+FFFD for one invalid byte */
			used = 1;
			k = 3;
		} else if (cp == '\r') {
			unit = "\n";
			if (i + 1 < n && s[i + 1] == '\n')
				used = 2;
		} else if ((cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7f && cp < 0xa0)) {
			k = 0;
		}
		if (out != NULL)
			memcpy(out + len, unit, k);
		len += k;
		i += used;
	}
	return len;
}

/* The cluster boundary at or after off: an edit may have joined the cluster
 * before off with what follows it. */
static size_t
snap(const struct editor *e, size_t off)
{
	if (off == 0 || off >= e->len)
		return off > e->len ? e->len : off;
	return text_next(e->buf, e->len, text_prev(e->buf, e->len, off));
}

int
editor_insert(struct editor *e, const char *s, size_t n)
{
	size_t add = clean(s, n, NULL, EDITOR_MAX);

	if (add > EDITOR_MAX - e->len)
		return -1;
	if (add == 0)
		return 0;
	if (grow(e, e->len + add) != 0)
		return -1;
	memmove(e->buf + e->cursor + add, e->buf + e->cursor, e->len - e->cursor + 1);
	clean(s, n, e->buf + e->cursor, EDITOR_MAX);
	e->len += add;
	e->cursor = snap(e, e->cursor + add);
	return 0;
}

/* Removes buf[a..b). */
static void
cut(struct editor *e, size_t a, size_t b)
{
	if (a >= b)
		return;
	memmove(e->buf + a, e->buf + b, e->len - b + 1);
	e->len -= b - a;
	e->cursor = snap(e, a);
}

static size_t
line_start(const struct editor *e, size_t off)
{
	while (off > 0 && e->buf[off - 1] != '\n')
		off--;
	return off;
}

static size_t
line_end(const struct editor *e, size_t off)
{
	const char *nl = memchr(e->buf + off, '\n', e->len - off);

	return nl != NULL ? (size_t)(nl - e->buf) : e->len;
}

/* 1 if the cluster at off is white space. */
static int
blank_at(const struct editor *e, size_t off)
{
	char c = e->buf[off];

	return c == ' ' || c == '\t' || c == '\n';
}

/* Back over blanks, then over the word before them. A word's clusters hold
 * no blank byte, and a blank byte always starts a cluster, so the word starts
 * after the cluster of the last blank byte before it: found by bytes, not by
 * text_prev() cluster after cluster, which would be quadratic in a paste of
 * combining marks (each text_prev() may walk back over the whole run). */
static size_t
word_start(const struct editor *e, size_t off)
{
	size_t p;

	while (off > 0 && blank_at(e, p = text_prev(e->buf, e->len, off)))
		off = p;
	for (p = off; p > 0 && !blank_at(e, p - 1);)
		p--;
	return p > 0 ? text_next(e->buf, e->len, p - 1) : 0;
}

/* On over blanks, then over the word after them. */
static size_t
word_end(const struct editor *e, size_t off)
{
	while (off < e->len && blank_at(e, off))
		off = text_next(e->buf, e->len, off);
	while (off < e->len && !blank_at(e, off))
		off = text_next(e->buf, e->len, off);
	return off;
}

void
editor_left(struct editor *e)
{
	e->cursor = text_prev(e->buf, e->len, e->cursor);
}

void
editor_right(struct editor *e)
{
	e->cursor = text_next(e->buf, e->len, e->cursor);
}

void
editor_home(struct editor *e)
{
	e->cursor = line_start(e, e->cursor);
}

void
editor_end(struct editor *e)
{
	e->cursor = line_end(e, e->cursor);
}

void
editor_word_left(struct editor *e)
{
	e->cursor = word_start(e, e->cursor);
}

void
editor_word_right(struct editor *e)
{
	e->cursor = word_end(e, e->cursor);
}

void
editor_backspace(struct editor *e)
{
	cut(e, text_prev(e->buf, e->len, e->cursor), e->cursor);
}

void
editor_delete(struct editor *e)
{
	cut(e, e->cursor, text_next(e->buf, e->len, e->cursor));
}

void
editor_kill_word(struct editor *e)
{
	cut(e, word_start(e, e->cursor), e->cursor);
}

void
editor_kill_start(struct editor *e)
{
	cut(e, line_start(e, e->cursor), e->cursor);
}

void
editor_kill_end(struct editor *e)
{
	size_t end = line_end(e, e->cursor);

	/* At the end of a line, Ctrl-K joins the next one to it. */
	if (end == e->cursor && end < e->len)
		end++;
	cut(e, e->cursor, end);
}

int
editor_set(struct editor *e, const char *s)
{
	size_t n = strlen(s), add = clean(s, n, NULL, EDITOR_MAX), cap = 64;
	char *p;

	if (add > EDITOR_MAX)
		return -1;
	/* A new buffer, not the old one rewritten: s may point into it. */
	while (cap <= add)
		cap *= 2;
	if ((p = malloc(cap)) == NULL)
		return -1;
	clean(s, n, p, EDITOR_MAX);
	p[add] = '\0';
	if (e->cap > 0)
		free(e->buf);
	e->buf = p;
	e->cap = cap;
	e->len = e->cursor = add;
	return 0;
}

void
editor_history_prev(struct editor *e)
{
	char *draft;

	if (e->hist_pos == 0 || e->hist_pos > e->n_hist)
		return;
	if (e->hist_pos == e->n_hist) {
		if ((draft = strdup(e->buf)) == NULL)
			return;
		free(e->draft);
		e->draft = draft;
	}
	if (editor_set(e, e->hist[e->hist_pos - 1]) == 0)
		e->hist_pos--;
}

void
editor_history_next(struct editor *e)
{
	if (e->hist_pos >= e->n_hist)
		return;
	if (e->hist_pos + 1 < e->n_hist) {
		if (editor_set(e, e->hist[e->hist_pos + 1]) == 0)
			e->hist_pos++;
		return;
	}
	if (editor_set(e, e->draft != NULL ? e->draft : "") == 0)
		end_browsing(e);
}

/* Keeps a copy of s as the newest entry, unless it is the newest already;
 * the oldest goes when full. Out of memory, the history stays as it was.
 * gcc -fanalyzer: no leak; e->hist holds copy until it is the oldest of a
 * full history or editor_free frees it (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
static void
remember(struct editor *e, const char *s)
{
	char *copy;

	if (e->n_hist > 0 && strcmp(e->hist[e->n_hist - 1], s) == 0)
		return;
	if (e->hist == NULL && (e->hist = calloc(EDITOR_HISTORY, sizeof *e->hist)) == NULL)
		return;
	if ((copy = strdup(s)) == NULL)
		return;
	if (e->n_hist == EDITOR_HISTORY) {
		free(e->hist[0]);
		memmove(e->hist, e->hist + 1, (EDITOR_HISTORY - 1) * sizeof *e->hist);
		e->n_hist--;
	}
	e->hist[e->n_hist++] = copy;
}
ANALYZER_LEAK_FP_END

/* What editor_take() sends: buf[*a..*b), from the first line with anything
 * but blanks to the last thing that is not a blank. */
static void
trim(const struct editor *e, size_t *a, size_t *b)
{
	size_t i = 0, j = e->len;

	while (i < j && blank_at(e, i))
		i++;
	while (j > i && blank_at(e, j - 1))
		j--;
	if (i == j) {
		*a = *b = 0;
		return;
	}
	*a = line_start(e, i);
	*b = j;
}

char *
editor_take(struct editor *e)
{
	size_t a, b;
	char *t = NULL;

	trim(e, &a, &b);
	if (a < b) {
		if ((t = malloc(b - a + 1)) == NULL)
			return NULL; /* the text stays, to try again */
		memcpy(t, e->buf + a, b - a);
		t[b - a] = '\0';
		remember(e, t);
	}
	if (e->cap > 0)
		e->buf[0] = '\0';
	e->len = e->cursor = 0;
	end_browsing(e);
	return t;
}

struct layout {
	const struct editor *e;
	int cols;
	void (*row)(void *arg, size_t off, size_t n);
	void *arg;
	size_t base;     /* the line being wrapped starts there */
	size_t last_off; /* its last row so far */
	int rows, cursor_row, cursor_col;
};

static void
add_row(struct layout *l, size_t off, size_t n)
{
	if (l->row != NULL)
		l->row(l->arg, off, n);
	if (l->rows < INT_MAX)
		l->rows++;
}

/* text_wrap_hard()'s rows of one line; a cursor inside one is placed here,
 * one at the line's end by layout(). */
static void
line_row(void *arg, size_t off, size_t n)
{
	struct layout *l = arg;
	size_t cursor = l->e->cursor;

	off += l->base;
	if (cursor >= off && cursor - off < n) {
		l->cursor_row = l->rows;
		l->cursor_col = text_width(l->e->buf + off, cursor - off);
	}
	l->last_off = off;
	add_row(l, off, n);
}

static void
layout(struct layout *l)
{
	const struct editor *e = l->e;
	size_t start = 0, end;
	int w;

	for (;;) {
		end = line_end(e, start);
		l->base = start;
		text_wrap_hard(e->buf + start, end - start, l->cols, line_row, l);
		if (e->cursor == end) {
			/* After a full row, the cursor starts the next one. */
			w = text_width(e->buf + l->last_off, end - l->last_off);
			if (w < l->cols) {
				l->cursor_row = l->rows - 1;
				l->cursor_col = w;
			} else {
				l->cursor_row = l->rows;
				l->cursor_col = 0;
				add_row(l, end, 0);
			}
		}
		if (end == e->len)
			break;
		start = end + 1;
	}
}

void
editor_layout(const struct editor *e, int cols, int *rows, int *cursor_row, int *cursor_col)
{
	struct layout l = {e, cols < 1 ? 1 : cols, NULL, NULL, 0, 0, 0, 0, 0};

	layout(&l);
	if (rows != NULL)
		*rows = l.rows;
	if (cursor_row != NULL)
		*cursor_row = l.cursor_row;
	if (cursor_col != NULL)
		*cursor_col = l.cursor_col;
}

void
editor_rows(const struct editor *e, int cols, void (*row)(void *arg, size_t off, size_t n),
	    void *arg)
{
	struct layout l = {e, cols < 1 ? 1 : cols, row, arg, 0, 0, 0, 0, 0};

	layout(&l);
}
