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
#include "look.h"
#include "text.h"
#include "when.h"

#define INPUT_ROWS_MAX 5

static int pane_rows; /* of the message pane, as last drawn */

/* What the last drawing put where, for a click (view_hit): the list's
 * width and rows, and the message (index in a->msgs, -1 none) on each row
 * of the pane from pane_top. */
#define HIT_ROWS 512
static int hit_list_w, hit_list_rows, hit_pane_top, hit_pane_x, hit_pane_rows;
static int hit_msg[HIT_ROWS];
/* ---- colours --------------------------------------------------------------------- */

/* The configuration's colours (config.h) as curses attributes: one colour
 * pair per foreground, made when first asked for. No colours at all on a
 * terminal without them, or with NO_COLOR or "color = no": only the
 * attributes (bold, dim...) stay. */
static const struct config *view_cfg;
static int colours;      /* colours are drawn */
static short pairs[257]; /* a foreground's pair (fg + 1), 0 not made yet */
static short next_pair = 1;

static int
look_attr(struct look l)
{
	int attr = 0;

	if (l.attrs & LOOK_BOLD)
		attr |= A_BOLD;
	if (l.attrs & LOOK_DIM)
		attr |= A_DIM;
	if (l.attrs & LOOK_UNDERLINE)
		attr |= A_UNDERLINE;
	if (l.attrs & LOOK_REVERSE)
		attr |= A_REVERSE;
#ifdef A_ITALIC
	if (l.attrs & LOOK_ITALIC)
		attr |= A_ITALIC;
#endif
	if (!colours || l.fg < 0 || l.fg > 255)
		return attr;
	/* A bright colour on an eight-colour terminal: the plain one. */
	if (l.fg >= COLORS)
		l.fg = (short)(l.fg % 8);
	if (pairs[l.fg + 1] == 0 && next_pair < COLOR_PAIRS) {
		init_pair(next_pair, l.fg, -1);
		pairs[l.fg + 1] = next_pair++;
	}
	return attr | (pairs[l.fg + 1] ? COLOR_PAIR(pairs[l.fg + 1]) : 0);
}

static int
role(enum look_role r)
{
	return view_cfg != NULL ? look_attr(view_cfg->role[r]) : 0;
}

/* A sender's own colour, from the palette (the same name, the same colour). */
static int
sender_attr(const char *name)
{
	if (view_cfg == NULL || view_cfg->n_palette == 0)
		return 0;
	return look_attr(view_cfg->palette[look_sender_colour(name, view_cfg->n_palette)]);
}

void
view_colours(const struct config *cfg)
{
	view_cfg = cfg;
	colours = cfg->color && has_colors() && COLORS >= 8;
}

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

/* Marks after a chat's name in the list, appended to count: a draft (i15-
 * tuilook: the one hook in the list's drawing, which i15-prefs owns). */
static void
list_marker(const struct app *a, const struct app_chat *ch, char *count, size_t len)
{
	size_t n = strlen(count);

	if (live_has_draft(a, ch->id) && n < len)
		snprintf(count + n, len - n, " \u270e");
}

/* Each chat takes two rows: "N title (unread)" with its time on the right,
 * then its markers (* pinned, z muted) and its last message, "sender: text",
 * cut to the width. With /archived the list shows the archived chats under a
 * heading. */
static void
draw_list(const struct app *a, int rows, int cols)
{
	int64_t now = (int64_t)time(NULL) * 1000;
	size_t i = 0;
	int y = 0;

	if (a->show_archived && rows > 0) {
		blank(y, 0, cols);
		attron(A_BOLD);
		put(y, 0, "archived:", 9, cols);
		attroff(A_BOLD);
		y++;
		if (a->n_shown == 0 && y < rows) {
			blank(y, 0, cols);
			put(y++, 0, "  (none)", 8, cols);
		}
	}
	for (; y < rows; i++) {
		const struct app_chat *ch = i < a->n_shown ? &a->chats[i] : NULL;
		char num[8], count[24], when[16], marks[8];
		int used, open, cw, tw;

		blank(y, 0, cols);
		if (y + 1 < rows)
			blank(y + 1, 0, cols);
		if (ch == NULL) {
			y += 2;
			continue;
		}
		open = strcmp(ch->id, a->open) == 0;
		snprintf(num, sizeof num, "%c ", i < 9 ? (char)('1' + i) : ' ');
		count[0] = '\0';
		if (ch->unread > 0)
			snprintf(count, sizeof count, " (%lld)", (long long)ch->unread);
		list_marker(a, ch, count, sizeof count);
		when_narrow(ch->preview != NULL ? ch->last_at : ch->last, now, when, sizeof when);
		cw = text_width(count, strlen(count));
		tw = when[0] ? (int)strlen(when) + 1 : 0;
		if (tw > cols / 2)
			tw = 0, when[0] = '\0';
		if (open)
			attron(A_REVERSE);
		if (ch->unread > 0)
			attron(A_BOLD);
		used = put(y, 0, num, strlen(num), cols);
		used += put(y, used, ch->title, strlen(ch->title),
			    cols - used - cw - tw > 0 ? cols - used - cw - tw : 0);
		used += put(y, used, count, strlen(count), cols - used - tw);
		/* The whole row marked, not only the text. */
		for (int x = used; open && x < cols; x++)
			mvaddch(y, x, ' ');
		if (when[0]) {
			attron(role(LOOK_TIME));
			put(y, cols - tw + 1, when, strlen(when), tw - 1);
			attroff(role(LOOK_TIME));
		}
		attroff(A_BOLD);
		if (++y >= rows) {
			attroff(A_REVERSE);
			break;
		}
		snprintf(marks, sizeof marks, "  %s%s", ch->pinned ? "* " : "",
			 ch->muted_until > 0 ? "z " : "");
		used = put(y, 0, marks, strlen(marks), cols);
		if (!open)
			attron(A_DIM);
		if (ch->preview != NULL)
			used += put(y, used, ch->preview, strlen(ch->preview), cols - used);
		for (int x = used; open && x < cols; x++)
			mvaddch(y, x, ' ');
		attroff(A_REVERSE | A_DIM);
		y++;
	}
}

/* ---- the open chat ------------------------------------------------------------------ */

/* Parts of a line in colours of their own (the time, the sender, the
 * state), by byte offset in the line. */
struct seg {
	size_t off, n;
	int attr;
};

#define LINE_SEGS 4

struct row {
	const char *s;
	size_t n;
	int attr;
	int msg; /* its message's index, -1 none */
	const char *line; /* the line the row is of, for its segments */
	const struct seg *segs;
	int n_segs;
};

struct rows {
	struct row *v;
	size_t n, cap;
	const char *base;
	int attr;
	int msg;
	const struct seg *segs;
	int n_segs;
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
	r->v[r->n++] = (struct row){r->base + off, n, r->attr, r->msg, r->base, r->segs, r->n_segs};
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

/* "12:04 bob: text (delivered)", or "12:04 * alice added carol"; a time
 * not of today says its day ("Tue 12:04", "2026-11-20 12:04"); with /ids,
 * "#3fa9c1 12:04 bob: text". Malloc'd. */
static char *
message_line(const struct app *a, const struct app_msg *m, int64_t now)
{
	char when[32 + APP_ID_SHOWN + 4], id[APP_ID_SHOWN + 4];
	size_t len;
	char *s;

	look_time(m->sent_at, now, when, sizeof when);
	select_id_prefix(a, m, id, sizeof id);
	if (id[0] != '\0') {
		memmove(when + strlen(id), when, strlen(when) + 1);
		memcpy(when, id, strlen(id));
	}
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

/* Draws a row: its parts in their segments' colours, over the row's. */
static void
put_row(const struct row *row, int y, int x, int cols)
{
	size_t at = 0;
	int used = 0;

	if (row->n_segs == 0) {
		attron(row->attr);
		put(y, x, row->s, row->n, cols);
		attroff(row->attr);
		return;
	}
	while (at < row->n && used < cols) {
		size_t off = (size_t)(row->s - row->line) + at, end = row->n;
		int attr = row->attr;

		/* The run up to the next segment boundary, in one colour. */
		for (int k = 0; k < row->n_segs; k++) {
			const struct seg *sg = &row->segs[k];

			if (off >= sg->off && off < sg->off + sg->n) {
				/* A selected row stays reversed throughout. */
				attr = (sg->attr ? sg->attr : row->attr) |
				       (row->attr & (int)A_REVERSE);
				if (sg->off + sg->n - (off - at) < end)
					end = sg->off + sg->n - (off - at);
			} else if (sg->off > off && sg->off - (off - at) < end) {
				end = sg->off - (off - at);
			}
		}
		attron(attr);
		used += put(y, x + used, row->s + at, end - at, cols - used);
		attroff(attr);
		at = end;
	}
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

/* The colours of a message line's parts: its time, its sender (their own
 * colour; the self colour for ours), its state word. n: how many set. */
static int
line_segments(const struct app *a, const struct app_msg *m, const char *line, int64_t now,
	      struct seg *segs)
{
	const char *st = state_word(m);
	char when[32], id[APP_ID_SHOWN + 4];
	size_t wlen, idlen;
	int n = 0;

	/* The time as message_line wrote it ("Tue 14:03" has a space too),
	 * after the id with /ids ("#3fa9c1 "), drawn as the time is. */
	select_id_prefix(a, m, id, sizeof id);
	idlen = strlen(id);
	look_time(m->sent_at, now, when, sizeof when);
	wlen = idlen + strlen(when);
	if (strncmp(line, id, idlen) != 0 || strncmp(line + idlen, when, wlen - idlen) != 0 ||
	    line[wlen] != ' ')
		return 0;
	segs[n++] = (struct seg){0, wlen, role(LOOK_TIME)};
	if (m->event)
		return n;
	segs[n++] =
		(struct seg){wlen + 1, strlen(m->sender),
			     m->outgoing ? role(LOOK_SELF) | (int)A_BOLD : sender_attr(m->sender)};
	if (st[0] != '\0') {
		/* Where message_line put it: before the reactions, if any. */
		size_t end = strlen(line) - (m->reactions ? strlen(m->reactions) + 4 : 0);
		const char *at = end >= strlen(st) ? line + end - strlen(st) : NULL;
		static const struct {
			const char *state;
			enum look_role role;
		} states[] = {{"pending", LOOK_SENDING},
			      {"sent", LOOK_SENT},
			      {"delivered", LOOK_DELIVERED},
			      {"read", LOOK_READ},
			      {"failed", LOOK_FAILED}};

		for (size_t i = 0; at != NULL && i < sizeof states / sizeof *states; i++)
			if (strcmp(m->state, states[i].state) == 0 &&
			    (view_cfg == NULL || view_cfg->role[states[i].role].fg >= 0 ||
			     view_cfg->role[states[i].role].attrs != 0))
				segs[n++] = (struct seg){(size_t)(at - line) + 1, strlen(st) - 1,
							 role(states[i].role)};
	}
	return n;
}

/* A separator row, "── TEXT ──" across the pane, kept in *keep (freed by
 * the caller) and added to r with attr. */
static void
add_separator(struct rows *r, const char *text, int attr, int cols, char **keep)
{
	size_t len = strlen(text) + 3 * (size_t)(cols > 0 ? cols : 0) + 16;
	char *s = malloc(len);
	int w;

	*keep = s;
	if (s == NULL)
		return;
	w = snprintf(s, len, "\u2500\u2500 %s ", text) > 0 ? text_width(s, strlen(s)) : 0;
	for (; w < cols - 1 && strlen(s) + 4 < len; w++)
		strcat(s, "\u2500");
	r->base = s;
	r->attr = attr;
	r->segs = NULL;
	r->n_segs = 0;
	add_row(r, 0, strlen(s));
}

/* What goes before message i: a date separator when its day is not the
 * one before's, and the unread divider before the first message that was
 * unread when the chat was opened. Its strings kept in keep[0..1]. Returns
 * the divider's row, or -1. */
static int
before_message(struct app *a, size_t i, struct rows *r, int cols, char **keep)
{
	const struct app_msg *m = &a->msgs[i];
	long day = when_day(m->sent_at);
	int divider_row = -1;

	keep[0] = keep[1] = NULL;
	if (day >= 0 && (i == 0 || when_day(a->msgs[i - 1].sent_at) != day)) {
		char label[64];

		look_day_label(m->sent_at, label, sizeof label);
		add_separator(r, label, role(LOOK_DATE), cols, &keep[0]);
	}
	if (a->divider[0] != '\0' && strcmp(m->id, a->divider) == 0) {
		char say[48];

		snprintf(say, sizeof say, "%lld unread", (long long)a->divider_n);
		divider_row = (int)r->n;
		add_separator(r, say, role(LOOK_DIVIDER), cols, &keep[1]);
	}
	return divider_row;
}

/* The header: the chat's name, its timer, blocked, and presence (typing,
 * online, last seen). */
static void
draw_header(struct app *a, const struct app_chat *ch, int top, int x, int cols)
{
	char say[CHAT_USER_MAX * 3 + 64];
	int w;

	attron(role(LOOK_HEADER));
	w = put(top, x, ch->title, strlen(ch->title), cols);
	attroff(role(LOOK_HEADER));
	/* Disappearing messages: the timer, "⏱ 1h". */
	if (ch->disappearing > 0 && w < cols) {
		char d[32];

		snprintf(say, sizeof say, "  \u23f1 %s",
			 chat_duration_format(ch->disappearing, 1, d, sizeof d));
		w += put(top, x + w, say, strlen(say), cols - w);
	}
	if (ch->blocked && w < cols) {
		attron(A_REVERSE);
		w += put(top, x + w, "  blocked", 9, cols - w);
		attroff(A_REVERSE);
	}
	if (live_presence(a, say + 2, sizeof say - 2)[0] != '\0' && w < cols) {
		say[0] = say[1] = ' ';
		attron(role(LOOK_PRESENCE));
		put(top, x + w, say, strlen(say), cols - w);
		attroff(role(LOOK_PRESENCE));
	}
}

static void
draw_chat(struct app *a, int top, int x, int rows, int cols)
{
	struct rows r = {0};
	char **lines = calloc(a->n_msgs + 1, sizeof *lines);
	/* Each message's separators (date, divider), kept until drawn. */
	char **seps = calloc(2 * a->n_msgs + 1, sizeof *seps);
	struct seg *segs = calloc(a->n_msgs + 1, LINE_SEGS * sizeof *segs);
	struct timespec ts;
	int64_t now;
	const struct app_chat *ch = NULL;
	const char *hint = a->open[0] ? "" : no_chat_hint(a);
	int first, y, unread_row = -1, jump_row = -1, sel_first = -1, sel_last = -1;

	for (size_t i = 0; i < a->n_chats; i++)
		if (strcmp(a->chats[i].id, a->open) == 0)
			ch = &a->chats[i];
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	/* The header: the chat's name. */
	blank(top, x, cols);
	attron(A_BOLD);
	if (ch != NULL) {
		attroff(A_BOLD);
		draw_header(a, ch, top, x, cols);
		attron(A_BOLD);
	} else if (a->mode == MODE_CHAT && a->open[0] == '\0')
		put(top, x, "no chat open", 12, cols);
	else
		put(top, x, "chat-tui", 8, cols);
	attroff(A_BOLD);
	top++;
	rows--;
	if (rows <= 0 || lines == NULL || seps == NULL || segs == NULL) {
		free(lines);
		free(seps);
		free(segs);
		return;
	}
	r.msg = -1;
	if (hint[0]) {
		r.base = hint;
		r.attr = 0;
		text_wrap(hint, strlen(hint), cols, add_row, &r);
	}
	for (size_t i = 0; i < a->n_msgs; i++) {
		int divider_row;

		if ((lines[i] = message_line(a, &a->msgs[i], now)) == NULL)
			continue;
		divider_row = before_message(a, i, &r, cols, &seps[2 * i]);
		if (a->msgs[i].unread && unread_row < 0)
			unread_row = divider_row >= 0 ? divider_row : (int)r.n;
		if (a->jump[0] != '\0' && strcmp(a->msgs[i].id, a->jump) == 0)
			jump_row = divider_row >= 0 ? divider_row : (int)r.n;
		r.base = lines[i];
		r.segs = &segs[i * LINE_SEGS];
		r.n_segs = line_segments(a, &a->msgs[i], lines[i], now, &segs[i * LINE_SEGS]);
		r.attr = a->msgs[i].event                          ? role(LOOK_EVENT)
			 : strcmp(a->msgs[i].state, "failed") == 0 ? role(LOOK_FAILED)
			 : a->msgs[i].outgoing                     ? role(LOOK_SELF)
								   : 0;
		/* A message that names this user: in the mention colour, whole. */
		if (a->msgs[i].mention) {
			r.attr = role(LOOK_MENTION);
			r.n_segs = 0;
		}
		/* The message a /goto went to. */
		if (strcmp(a->msgs[i].id, a->marked) == 0)
			r.attr |= A_BOLD;
		/* The selection mode's message (select.c). */
		if (strcmp(a->msgs[i].id, a->selected) == 0) {
			r.attr |= A_REVERSE;
			sel_first = (int)r.n;
		}
		r.msg = (int)i;
		text_wrap(lines[i], strlen(lines[i]), cols, add_row, &r);
		if (sel_first >= 0 && sel_last < 0)
			sel_last = (int)r.n - 1;
	}
	r.msg = -1;
	r.segs = NULL;
	r.n_segs = 0;
	for (size_t i = 0; i < a->n_notices; i++) {
		r.base = a->notices[i];
		r.attr = role(LOOK_NOTICE);
		text_wrap(a->notices[i], strlen(a->notices[i]), cols, add_row, &r);
	}
	/* The newest rows at the bottom, scroll rows up from there (never past
	 * the first row, and not past the first unread message). */
	app_settle_scroll(a, (int)r.n, rows, unread_row, jump_row);
	select_settle(a, (int)r.n, rows, sel_first, sel_last);
	a->pane_shown = a->open[0] != '\0';
	first = (int)r.n - rows - a->scroll;
	if (first < 0)
		first = 0;
	hit_pane_top = top;
	hit_pane_x = x;
	hit_pane_rows = rows < HIT_ROWS ? rows : HIT_ROWS;
	for (y = 0; y < rows; y++) {
		size_t i = (size_t)(first + y);

		blank(top + y, x, cols);
		if (y < HIT_ROWS)
			hit_msg[y] = i < r.n ? r.v[i].msg : -1;
		if (i >= r.n)
			continue;
		put_row(&r.v[i], top + y, x, cols);
	}
	free(r.v);
	for (size_t i = 0; i < a->n_msgs; i++) {
		free(lines[i]);
		free(seps[2 * i]);
		free(seps[2 * i + 1]);
	}
	free(lines);
	free(seps);
	free(segs);
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
	hit_list_rows = hit_pane_rows = 0;
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
	hit_list_w = list_w;
	hit_list_rows = status_y < (int)a->n_chats ? status_y : (int)a->n_chats;
	for (int y = 0; y < status_y; y++)
		mvaddch(y, list_w, ACS_VLINE);
	draw_chat(a, 0, list_w + 2, status_y, cols - list_w - 2);
	draw_status(a, status_y, cols);
	draw_input(a, status_y + 1, in_rows, cols, crow, ccol, &cy, &cx);
	move(cy, cx);
	curs_set(1);
	refresh();
}

void
view_hit(int y, int x, int *chat, int *msg)
{
	*chat = *msg = -1;
	if (x < hit_list_w && y >= 0 && y < hit_list_rows)
		*chat = y;
	else if (x >= hit_pane_x && y >= hit_pane_top && y < hit_pane_top + hit_pane_rows)
		*msg = hit_msg[y - hit_pane_top];
}

void
view_mouse(int on)
{
	/* Clicks and the wheel; the terminal's own selection stays on
	 * Shift+drag (xterm, VTE, kitty, tmux...). */
	if (on) {
		mousemask(BUTTON1_CLICKED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
				  | BUTTON5_PRESSED
#endif
			  ,
			  NULL);
		mouseinterval(200);
	}
}
