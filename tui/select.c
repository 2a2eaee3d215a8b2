/*
 * select.c - reaching a message from the UI: its short id on screen (/ids,
 * Alt-i), the MSG argument of /reply, /react, /edit, /delete, /openfile and
 * /download (a number counted from the newest, or an id), and the selection
 * mode (Alt-s, or a click): a highlighted message, moved with Up and Down,
 * and one key to reply to it, edit, delete, react or open its file.
 *
 * The mode's keys write the command into the input line rather than run
 * it ("/reply #3fa9c1e0 "), so the user sees what is about to happen, types
 * the rest, and Enter is the confirmation: nothing is deleted by one key.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curses.h>

#include "app.h"

#define ID_TYPED 8 /* hex digits of the id the mode writes: unique in practice */

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int
chat_of_msg(void *arg, const struct chat_message *m)
{
	snprintf(arg, CHAT_CHAT_ID_LEN + 1, "%s", m->chat_id);
	return 0;
}

int
app_msg_spec(struct app *a, const char *spec, char id[CHAT_MESSAGE_ID_LEN + 1])
{
	char chat[CHAT_CHAT_ID_LEN + 1] = "";

	/* A number: counted from the newest, as the commands always took it. */
	if (spec[0] != '#' && all_digits(spec)) {
		long n = strtol(spec, NULL, 10), k = 0;

		for (size_t i = a->n_msgs; n > 0 && i-- > 0;)
			if (!a->msgs[i].event && ++k == n) {
				memcpy(id, a->msgs[i].id, CHAT_MESSAGE_ID_LEN + 1);
				return 0;
			}
		if (n < 1)
			app_notice(a, "N is a message counted from the newest: 1, 2...");
		else
			app_notice(a, "no message %ld in this chat (it has %ld)", n, k);
		return -1;
	}
	/* An id: "#3fa9c1" as /ids shows it, or a prefix with a letter in it
	 * (all digits is a count: "1234" is the 1234th newest, "#1234" an id). */
	if (chat_resolve_message(a->c, spec + (spec[0] == '#'), id) != CHAT_OK) {
		app_notice(a,
			   "no message %s here: %s (MSG is N, 1 the newest, or #ID as /ids "
			   "shows it)",
			   spec, app_error(a->c));
		return -1;
	}
	if (chat_message_get(a->c, id, chat_of_msg, chat) != CHAT_OK ||
	    strcmp(chat, a->open) != 0) {
		app_notice(a, "message %s is not in this chat", spec);
		return -1;
	}
	return 0;
}

void
select_id_prefix(const struct app *a, const struct app_msg *m, char *out, size_t size)
{
	if (a->show_ids && !m->event)
		snprintf(out, size, "#%.*s ", APP_ID_SHOWN, m->id);
	else if (a->show_ids)
		snprintf(out, size, "%*s", APP_ID_SHOWN + 2, "");
	else if (size > 0)
		out[0] = '\0';
}

/* ---- the selection mode ---------------------------------------------------------- */

static long
index_of(const struct app *a, const char *id)
{
	for (size_t i = 0; i < a->n_msgs; i++)
		if (strcmp(a->msgs[i].id, id) == 0)
			return (long)i;
	return -1;
}

static void
hint(struct app *a)
{
	app_status(a,
		   "selected #%.*s: r reply, e edit, d delete, + react, o open, "
		   "Up/Down, Esc leaves",
		   APP_ID_SHOWN, a->selected);
}

static void
select_at(struct app *a, size_t i)
{
	memcpy(a->selected, a->msgs[i].id, sizeof a->selected);
	hint(a);
}

static void
leave(struct app *a)
{
	a->selected[0] = '\0';
	a->status[0] = '\0';
	a->redraw = 1;
}

void
select_enter(struct app *a)
{
	for (size_t i = a->n_msgs; i-- > 0;)
		if (!a->msgs[i].event) {
			select_at(a, i);
			return;
		}
	app_status(a, "no message to select in this chat");
}

/* One message on, older (-1) or newer (1); past the newest leaves. */
static void
step(struct app *a, int dir)
{
	long i = index_of(a, a->selected);

	if (i < 0) {
		leave(a);
		return;
	}
	for (i += dir; i >= 0 && (size_t)i < a->n_msgs; i += dir)
		if (!a->msgs[i].event) {
			select_at(a, (size_t)i);
			return;
		}
	if (dir > 0)
		leave(a);
	else
		hint(a);
}

/* The text /edit starts from: the message's own, when /edit's words give
 * it back as it is (one line, no quotes, single spaces), else nothing. */
static int
edit_text(void *arg, const struct chat_message *m)
{
	char **out = arg;

	if (m->outgoing && m->text_len > 0 && memchr(m->text, '\n', m->text_len) == NULL &&
	    memchr(m->text, '"', m->text_len) == NULL && strstr(m->text, "  ") == NULL &&
	    strlen(m->text) == m->text_len)
		*out = strdup(m->text);
	return 0;
}

/* The command for the selected message, in the input line to finish. */
static void
prefill(struct app *a, const char *cmd)
{
	char line[64], *text = NULL, *full;

	snprintf(line, sizeof line, "/%s #%.*s ", cmd, ID_TYPED, a->selected);
	if (strcmp(cmd, "edit") == 0)
		(void)chat_message_get(a->c, a->selected, edit_text, &text);
	if (text != NULL && (full = malloc(strlen(line) + strlen(text) + 1)) != NULL) {
		strcpy(full, line);
		strcat(full, text);
		editor_set(&a->ed, full);
		free(full);
	} else {
		editor_set(&a->ed, line);
	}
	free(text);
	leave(a);
	app_status(a, "Enter runs it");
}

int
select_key(struct app *a, int kind, unsigned ch)
{
	if (a->selected[0] == '\0')
		return 0;
	/* The selected message went (deleted, expired, another chat). */
	if (index_of(a, a->selected) < 0) {
		leave(a);
		return 0;
	}
	if (kind == KEY_CODE_YES) {
		switch (ch) {
		case KEY_UP: step(a, -1); return 1;
		case KEY_DOWN: step(a, 1); return 1;
		case KEY_ENTER: leave(a); return 1;
		case KEY_RESIZE:
		case KEY_MOUSE:
		case KEY_PPAGE:
		case KEY_NPAGE: return 0;
		default: hint(a); return 1;
		}
	}
	switch (ch) {
	case 'k': step(a, -1); return 1;
	case 'j': step(a, 1); return 1;
	case 'r': prefill(a, "reply"); return 1;
	case 'e': prefill(a, "edit"); return 1;
	case 'd': prefill(a, "delete"); return 1;
	case '+': prefill(a, "react"); return 1;
	case 'o': {
		char id[CHAT_MESSAGE_ID_LEN + 1];

		memcpy(id, a->selected, sizeof id);
		leave(a);
		open_file(a, id, 0);
		return 1;
	}
	case '\r': leave(a); return 1;
	case 3: return 0; /* Ctrl-C quits as ever */
	case 27: {
		/* Esc alone leaves; Alt+key leaves and is that key. */
		wint_t next;

		leave(a);
		if (get_wch(&next) == OK) {
			unget_wch((wchar_t)next);
			return 0;
		}
		return 1;
	}
	default: hint(a); return 1;
	}
}

int
select_mouse(struct app *a)
{
	MEVENT ev;
	int chat, msg;

	if (getmouse(&ev) != OK)
		return 0;
	if (ev.bstate & BUTTON4_PRESSED)
		return 1;
#ifdef BUTTON5_PRESSED
	if (ev.bstate & BUTTON5_PRESSED)
		return -1;
#endif
	if (!(ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED)))
		return 0;
	view_hit(ev.y, ev.x, &chat, &msg);
	if (chat >= 0) {
		a->selected[0] = '\0';
		app_open(a, a->chats[chat].id);
	} else if (msg >= 0 && (size_t)msg < a->n_msgs && !a->msgs[msg].event) {
		select_at(a, (size_t)msg);
	}
	return 0;
}

void
select_settle(struct app *a, int total, int rows, int first, int last)
{
	int top = total - rows - a->scroll; /* the first row shown */

	if (a->selected[0] == '\0' || first < 0)
		return;
	if (top < 0)
		top = 0;
	if (first < top)
		a->scroll = total - rows - first;
	else if (last >= top + rows)
		a->scroll = total - 1 - last;
	if (a->scroll < 0)
		a->scroll = 0;
	a->more_below = a->scroll > 0;
}
