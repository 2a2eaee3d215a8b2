/*
 * view.c - the screen: the chat list on the left, the open chat on the right,
 * a status line and the input line at the bottom. Redrawn whole from the app's
 * state (curses sends only what changed). Every string drawn here is safe
 * already (text_sanitize), and is cut by display columns, cluster by cluster,
 * so wide and combining characters never spill out of their pane.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curses.h>

#include "app.h"
#include "text.h"

#define INPUT_ROWS_MAX 5

static int pane_rows; /* of the message pane, as last drawn */

void
view_init(void)
{
	initscr();
	raw(); /* Ctrl-C, Ctrl-Z... are keys; chat-tui quits on Ctrl-C itself */
	noecho();
	nonl(); /* Enter is '\r', Ctrl-J '\n': send and new line */
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_CYAN, -1);   /* times and events */
		init_pair(2, COLOR_GREEN, -1);  /* our own name */
		init_pair(3, COLOR_YELLOW, -1); /* notices */
		init_pair(4, COLOR_RED, -1);    /* failures */
	}
}

void
view_end(void)
{
	if (!isendwin())
		endwin();
}

int
view_pane_rows(void)
{
	return pane_rows;
}

/* Draws s (safe) at (y, x), at most cols columns, cluster by cluster; returns
 * the columns used. */
static int
put(int y, int x, const char *s, size_t len, int cols)
{
	size_t off = 0;
	int used = 0;

	move(y, x);
	while (off < len && s[off] != '\n') {
		int w;
		size_t n = text_cluster(s + off, len - off, &w);
		char form[160]; /* a cluster: 32 code points at most */

		if (used + w > cols)
			break;
		/* Its escape if unsafe (the input line can hold a bidi control),
		 * else what the terminal draws in w columns (text.h, quirks). */
		text_cluster_form(s + off, n, form, sizeof form);
		addstr(form);
		used += w;
		off += n;
	}
	return used;
}

static void
blank(int y, int x, int cols)
{
	move(y, x);
	for (int i = 0; i < cols; i++)
		addch(' ');
}

/* ---- the chat list ------------------------------------------------------------------ */

static void
draw_list(const struct app *a, int rows, int cols)
{
	for (int y = 0; y < rows; y++) {
		size_t i = (size_t)y;
		char num[8], count[24];
		int used, open, cw;

		blank(y, 0, cols);
		if (i >= a->n_chats)
			continue;
		open = strcmp(a->chats[i].id, a->open) == 0;
		snprintf(num, sizeof num, "%c ", i < 9 ? (char)('1' + i) : ' ');
		count[0] = '\0';
		if (a->chats[i].unread > 0)
			snprintf(count, sizeof count, " (%lld)", (long long)a->chats[i].unread);
		cw = (int)strlen(count);
		if (open)
			attron(A_REVERSE);
		if (a->chats[i].unread > 0)
			attron(A_BOLD);
		used = put(y, 0, num, strlen(num), cols);
		used += put(y, used, a->chats[i].title, strlen(a->chats[i].title),
			    cols - used - cw > 0 ? cols - used - cw : 0);
		put(y, used, count, strlen(count), cols - used);
		if (open) {
			/* The whole row marked, not only the text. */
			for (int x = used + cw; x < cols; x++)
				mvaddch(y, x, ' ');
		}
		attroff(A_REVERSE | A_BOLD);
	}
}

/* ---- the open chat ------------------------------------------------------------------ */

struct row {
	const char *s;
	size_t n;
	int attr;
};

struct rows {
	struct row *v;
	size_t n, cap;
	const char *base;
	int attr;
};

static void
add_row(void *arg, size_t off, size_t n)
{
	struct rows *r = arg;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct row *p = realloc(r->v, cap * sizeof *p);

		if (p == NULL)
			return;
		r->v = p;
		r->cap = cap;
	}
	r->v[r->n++] = (struct row){r->base + off, n, r->attr};
}

static const char *
state_word(const struct app_msg *m)
{
	if (!m->outgoing || m->event)
		return "";
	if (strcmp(m->state, "pending") == 0)
		return " (sending)";
	if (strcmp(m->state, "sent") == 0)
		return " (sent)";
	if (strcmp(m->state, "delivered") == 0)
		return " (delivered)";
	if (strcmp(m->state, "read") == 0)
		return " (read)";
	if (strcmp(m->state, "failed") == 0)
		return " (FAILED)";
	return "";
}

/* "12:04 bob: text (delivered)", or "12:04 * alice added carol". Malloc'd. */
static char *
message_line(const struct app_msg *m)
{
	char when[16] = "--:--";
	time_t t = (time_t)(m->sent_at / 1000);
	struct tm tm;
	size_t len;
	char *s;

	if (m->sent_at > 0 && localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof when, "%H:%M", &tm);
	len = strlen(when) + strlen(m->sender) + strlen(m->text) + 32 +
	      (m->quote ? strlen(m->quote) + 8 : 0) + (m->reactions ? strlen(m->reactions) + 8 : 0);
	if ((s = malloc(len)) == NULL)
		return NULL;
	if (m->event)
		snprintf(s, len, "%s * %s", when, m->text);
	else
		/* A reply: its quote on a row of its own, above the text; the
		 * reactions after the text: "12:04 bob: sure (read)  [👍 2 ❤ 1]". */
		snprintf(s, len, "%s %s: %s%s%s%s%s%s%s", when, m->sender, m->quote ? m->quote : "",
			 m->quote ? "\n      " : "", m->text, state_word(m),
			 m->reactions ? "  [" : "", m->reactions ? m->reactions : "",
			 m->reactions ? "]" : "");
	return s;
}

/* What the pane says while no chat is open. */
static const char *
no_chat_hint(const struct app *a)
{
	if (a->mode != MODE_CHAT)
		return "";
	if (a->n_chats == 0)
		return "No chats yet: /create USER starts one, /group NAME USER... a group; "
		       "/help lists the commands.";
	return "Tab or Alt-1..9 opens a chat from the list, /open CHAT one by name; "
	       "/create USER starts one; /help lists the commands.";
}

static void
draw_chat(struct app *a, int top, int x, int rows, int cols)
{
	struct rows r = {0};
	char **lines = calloc(a->n_msgs + 1, sizeof *lines);
	const struct app_chat *ch = NULL;
	const char *hint = a->open[0] ? "" : no_chat_hint(a);
	int first, y, unread_row = -1, jump_row = -1;

	for (size_t i = 0; i < a->n_chats; i++)
		if (strcmp(a->chats[i].id, a->open) == 0)
			ch = &a->chats[i];
	/* The header: the chat's name. */
	blank(top, x, cols);
	attron(A_BOLD);
	if (ch != NULL) {
		const char *who = app_typing(a);
		int w = put(top, x, ch->title, strlen(ch->title), cols);

		attroff(A_BOLD);
		/* Disappearing messages: the timer, "⏱ 1h". */
		if (ch->disappearing > 0 && w < cols) {
			char d[32], say[48];

			snprintf(say, sizeof say, "  \u23f1 %s",
				 chat_duration_format(ch->disappearing, 1, d, sizeof d));
			w += put(top, x + w, say, strlen(say), cols - w);
		}
		if (ch->blocked && w < cols) {
			attron(A_REVERSE);
			w += put(top, x + w, "  blocked", 9, cols - w);
			attroff(A_REVERSE);
		}
		if (who != NULL && w < cols) {
			char say[CHAT_USER_MAX + 16];

			snprintf(say, sizeof say, "  %s is typing...", who);
			attron(A_DIM);
			put(top, x + w, say, strlen(say), cols - w);
			attroff(A_DIM);
		}
		attron(A_BOLD);
	}
	else if (a->mode == MODE_CHAT && a->open[0] == '\0')
		put(top, x, "no chat open", 12, cols);
	else
		put(top, x, "chat-tui", 8, cols);
	attroff(A_BOLD);
	top++;
	rows--;
	if (rows <= 0 || lines == NULL) {
		free(lines);
		return;
	}
	if (hint[0]) {
		r.base = hint;
		r.attr = 0;
		text_wrap(hint, strlen(hint), cols, add_row, &r);
	}
	for (size_t i = 0; i < a->n_msgs; i++) {
		if ((lines[i] = message_line(&a->msgs[i])) == NULL)
			continue;
		if (a->msgs[i].unread && unread_row < 0)
			unread_row = (int)r.n;
		if (a->jump[0] != '\0' && strcmp(a->msgs[i].id, a->jump) == 0)
			jump_row = (int)r.n;
		r.base = lines[i];
		r.attr = a->msgs[i].event                          ? COLOR_PAIR(1)
			 : strcmp(a->msgs[i].state, "failed") == 0 ? COLOR_PAIR(4)
			 : a->msgs[i].outgoing                     ? COLOR_PAIR(2)
								   : 0;
		/* A message that names this user: in the notices' colour, bold. */
		if (a->msgs[i].mention)
			r.attr = COLOR_PAIR(3) | A_BOLD;
		/* The message a /goto went to. */
		if (strcmp(a->msgs[i].id, a->marked) == 0)
			r.attr |= A_BOLD;
		text_wrap(lines[i], strlen(lines[i]), cols, add_row, &r);
	}
	for (size_t i = 0; i < a->n_notices; i++) {
		r.base = a->notices[i];
		r.attr = COLOR_PAIR(3);
		text_wrap(a->notices[i], strlen(a->notices[i]), cols, add_row, &r);
	}
	/* The newest rows at the bottom, scroll rows up from there (never past
	 * the first row, and not past the first unread message). */
	app_settle_scroll(a, (int)r.n, rows, unread_row, jump_row);
	a->pane_shown = a->open[0] != '\0';
	first = (int)r.n - rows - a->scroll;
	if (first < 0)
		first = 0;
	for (y = 0; y < rows; y++) {
		size_t i = (size_t)(first + y);

		blank(top + y, x, cols);
		if (i >= r.n)
			continue;
		attron(r.v[i].attr);
		put(top + y, x, r.v[i].s, r.v[i].n, cols);
		attroff(r.v[i].attr);
	}
	free(r.v);
	for (size_t i = 0; i < a->n_msgs; i++)
		free(lines[i]);
	free(lines);
}

/* ---- the status and input lines ------------------------------------------------------- */

static const char *
state_name(const struct app *a)
{
	switch (a->state) {
	case CHAT_STATE_ONLINE: return "online";
	case CHAT_STATE_CONNECTING:
	case CHAT_STATE_AUTHENTICATING: return "connecting";
	case CHAT_STATE_WAITING: return "reconnecting";
	/* libchat has given up (it retries by itself otherwise): say the way back. */
	default: return a->mode == MODE_CHAT ? "offline: /reconnect" : "offline";
	}
}

static void
draw_status(const struct app *a, int y, int cols)
{
	char left[160], right[64] = "";
	int used;

	if (a->state == CHAT_STATE_WAITING && a->c != NULL && chat_client_retry_in(a->c) >= 0)
		snprintf(left, sizeof left, "[reconnecting in %ds] %s",
			 (chat_client_retry_in(a->c) + 999) / 1000,
			 a->c && chat_client_user(a->c) ? chat_client_user(a->c) : "");
	else
		snprintf(left, sizeof left, "[%s] %s", state_name(a),
			 a->c && chat_client_user(a->c) ? chat_client_user(a->c) : "");
	if (a->history_on) {
		size_t n = strlen(left);

		snprintf(left + n, sizeof left - n, " [history: %d%%]", a->history_pct);
	}
	if (a->more_below)
		snprintf(right, sizeof right, " -- new messages below (PgDn) --");
	else if (a->scroll > 0)
		snprintf(right, sizeof right, " -- scrolled up (PgDn) --");
	attron(A_REVERSE);
	blank(y, 0, cols);
	used = put(y, 0, left, strlen(left), cols);
	if (used + 3 < cols)
		used += put(y, used, " | ", 3, cols - used);
	used += put(y, used, a->status, strlen(a->status),
		    cols - used - (int)strlen(right) > 0 ? cols - used - (int)strlen(right) : 0);
	put(y, cols - (int)strlen(right) > used ? cols - (int)strlen(right) : used, right,
	    strlen(right), cols - used);
	attroff(A_REVERSE);
}

/* The input rows shown: the INPUT_ROWS_MAX (at most) that end at the cursor's
 * row, however long the text is. */
struct input_rows {
	int first, count; /* rows wanted */
	size_t off[INPUT_ROWS_MAX], len[INPUT_ROWS_MAX];
	int n; /* rows seen so far */
};

static void
add_input_row(void *arg, size_t off, size_t n)
{
	struct input_rows *r = arg;
	int k = r->n++ - r->first;

	if (k >= 0 && k < r->count) {
		r->off[k] = off;
		r->len[k] = n;
	}
}

static void
draw_input(const struct app *a, int y, int rows, int cols, int crow, int ccol, int *cy, int *cx)
{
	struct input_rows r = {.first = crow - rows + 1 > 0 ? crow - rows + 1 : 0, .count = rows};

	editor_rows(&a->ed, cols, add_input_row, &r);
	for (int i = 0; i < rows; i++) {
		blank(y + i, 0, cols);
		/* The editor's own text: it refuses controls when typed or pasted. */
		if (r.first + i < r.n)
			put(y + i, 0, a->ed.buf + r.off[i], r.len[i], cols);
	}
	*cy = y + crow - r.first;
	*cx = ccol;
}

/* 1 if no word of s is wider than cols (so wrapping cuts none). */
static int
fits_words(const char *s, int cols)
{
	while (*s) {
		size_t n = strcspn(s, " ");

		if (text_width(s, n) > cols)
			return 0;
		s += n + (s[n] == ' ');
	}
	return 1;
}

/* Rows of a too small screen: wrapped into it. */
struct small {
	const char *s;
	int y;
};

static void
small_row(void *arg, size_t off, size_t n)
{
	struct small *sm = arg;

	put(sm->y++, 0, sm->s + off, n, COLS);
}

/* "terminal too small": the longest of these that fits whole, wrapped, so the
 * size needed is never cut off (it alone fits 5 columns). */
static void
draw_too_small(int cols, int lines)
{
	char forms[4][96];
	struct small sm = {0};
	int k;

	snprintf(forms[0], sizeof forms[0], "terminal too small (%dx%d): chat-tui needs %dx%d",
		 cols, lines, APP_MIN_COLS, APP_MIN_ROWS);
	snprintf(forms[1], sizeof forms[1], "too small: needs %dx%d", APP_MIN_COLS, APP_MIN_ROWS);
	snprintf(forms[2], sizeof forms[2], "needs %dx%d", APP_MIN_COLS, APP_MIN_ROWS);
	snprintf(forms[3], sizeof forms[3], "%dx%d", APP_MIN_COLS, APP_MIN_ROWS);
	/* Cut at word ends only: "needs 40x8" must not break inside "40x8". */
	for (k = 0; k < 3; k++)
		if (text_wrap(forms[k], strlen(forms[k]), cols, NULL, NULL) <= lines &&
		    fits_words(forms[k], cols))
			break;
	sm.s = forms[k];
	text_wrap(forms[k], strlen(forms[k]), cols, small_row, &sm);
	refresh();
}

void
view_draw(struct app *a)
{
	int cols = COLS, lines = LINES, list_w, in_rows, crow, ccol, cy, cx, status_y;

	erase();
	a->pane_shown = 0;
	if (cols < APP_MIN_COLS || lines < APP_MIN_ROWS) {
		draw_too_small(cols, lines);
		return;
	}
	editor_layout(&a->ed, cols, &in_rows, &crow, &ccol);
	if (in_rows > INPUT_ROWS_MAX)
		in_rows = INPUT_ROWS_MAX;
	status_y = lines - in_rows - 1;
	list_w = cols / 4 < 14 ? 14 : cols / 4 > 26 ? 26 : cols / 4;
	pane_rows = status_y - 1;
	draw_list(a, status_y, list_w);
	for (int y = 0; y < status_y; y++)
		mvaddch(y, list_w, ACS_VLINE);
	draw_chat(a, 0, list_w + 2, status_y, cols - list_w - 2);
	draw_status(a, status_y, cols);
	draw_input(a, status_y + 1, in_rows, cols, crow, ccol, &cy, &cx);
	move(cy, cx);
	curs_set(1);
	refresh();
}
