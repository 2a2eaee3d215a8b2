/*
 * app.c - chat-tui's loop: the terminal and libchat's descriptor in one
 * poll(), keys to the input line or the commands, libchat's events to what is
 * shown. Everything shown is read back from libchat's store (chat_list_chats,
 * chat_history) when an event says it changed, so the screen is always what
 * the store holds: a message is on screen because it is stored.
 *
 * Over ~800 lines: the loop, the first start's questions and libchat's
 * callbacks share the one struct app and its static helpers; the commands
 * (commands.c), the drawing (view.c), the text (text.c) and the input line
 * (editor.c) are already apart. The next split is the first start (register
 * or link) into its own file when it grows again.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include <curses.h>

#include "app.h"
#include "proto.h"
#include "term.h"
#include "text.h"

#define HISTORY_PAGE 200 /* messages loaded at a time, more on PgUp */

/* ---- saying things ------------------------------------------------------------ */

/* A malloc'd safe copy of s for the screen. */
static char *
safe_dup(const char *s, size_t len)
{
	size_t n = text_sanitize(s, len, NULL, 0);
	char *out = malloc(n + 1);

	if (out != NULL)
		text_sanitize(s, len, out, n + 1);
	return out;
}

void
app_notice(struct app *a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (a->n_notices == APP_NOTICES) {
		free(a->notices[0]);
		memmove(a->notices, a->notices + 1, (APP_NOTICES - 1) * sizeof *a->notices);
		a->n_notices--;
	}
	if ((a->notices[a->n_notices] = safe_dup(buf, strlen(buf))) != NULL)
		a->n_notices++;
	a->redraw = 1;
}

int64_t
app_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
now_ms(void)
{
	return app_now_ms();
}

void
app_status(struct app *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->status, sizeof a->status, fmt, ap);
	va_end(ap);
	a->status_at = now_ms();
	a->redraw = 1;
}

/* A notice in the status line goes after a while (or at the next key, see
 * key()): left there, an old one reads as news. The questions of the first
 * start stay until answered, and what must last (errors, command output)
 * goes to the pane instead. */
static void
expire_status(struct app *a)
{
	if (a->mode == MODE_CHAT && a->status[0] && now_ms() - a->status_at >= APP_STATUS_MS) {
		a->status[0] = '\0';
		a->redraw = 1;
	}
	/* Typing that was not said again is over. */
	for (int i = 0; i < APP_TYPERS; i++)
		if (a->typers[i].chat[0] && now_ms() >= a->typers[i].until) {
			a->typers[i].chat[0] = '\0';
			a->redraw = 1;
		}
}

const char *
app_typing(const struct app *a, char *buf, size_t len)
{
	const char *names[APP_TYPERS];
	int n = 0;
	int64_t now = now_ms();

	for (int i = 0; i < APP_TYPERS; i++)
		if (a->typers[i].chat[0] && strcmp(a->typers[i].chat, a->open) == 0 &&
		    now < a->typers[i].until)
			names[n++] = a->typers[i].user;
	if (n == 0)
		return NULL;
	if (n == 1)
		snprintf(buf, len, "%s", names[0]);
	else if (n == 2)
		snprintf(buf, len, "%s and %s", names[0], names[1]);
	else
		snprintf(buf, len, "%s, %s and %d more", names[0], names[1], n - 2);
	return buf;
}

const char *
app_why(struct chat_client *c, int err)
{
	return chat_client_errmsg(c)[0] ? app_error(c) : chat_strerror(err);
}

const char *
app_error(struct chat_client *c)
{
	/* One UI thread, one message shown at a time: a static buffer will do. */
	static char buf[768];
	const char *user = chat_client_error_user(c);

	if (user[0] == '\0')
		return chat_client_errmsg(c);
	snprintf(buf, sizeof buf,
		 "%s; if %s really made this change, compare /verify %s with them, "
		 "then /trust %s",
		 chat_client_errmsg(c), user, user, user);
	return buf;
}

static void
clear_notices(struct app *a)
{
	for (size_t i = 0; i < a->n_notices; i++)
		free(a->notices[i]);
	a->n_notices = 0;
}

void
app_done_notice(struct chat_client *c, void *arg, int err, const char *id)
{
	struct app *a = chat_client_udata(c);

	(void)id;
	if (err != CHAT_OK)
		app_notice(a, "%s failed: %s", (const char *)arg, app_why(c, err));
	else
		app_notice(a, "%s: done", (const char *)arg);
	a->dirty_chats = a->dirty_msgs = 1;
}

/* ---- the model: read back from the store --------------------------------------- */

static void
free_chats(struct app *a)
{
	for (size_t i = 0; i < a->n_chats; i++) {
		free(a->chats[i].title);
		free(a->chats[i].preview);
	}
	free(a->chats);
	a->chats = NULL;
	a->n_chats = 0;
}

/* A direct chat is called after the other member; a group by its name. */
static char *
chat_title(const struct chat_chat *ch, const char *self)
{
	char buf[128];

	if (ch->name != NULL)
		return safe_dup(ch->name, strlen(ch->name));
	if (strcmp(ch->kind, "self") == 0)
		return strdup("notes to self");
	for (size_t i = 0; i < ch->n_members; i++)
		if (self == NULL || strcmp(ch->members[i], self) != 0)
			return safe_dup(ch->members[i], strlen(ch->members[i]));
	snprintf(buf, sizeof buf, "(chat %.8s)", ch->chat_id);
	return strdup(buf);
}

static int
add_chat(void *arg, const struct chat_chat *ch)
{
	struct app *a = arg;
	struct app_chat *p = realloc(a->chats, (a->n_chats + 1) * sizeof *p);

	if (p == NULL)
		return 1;
	a->chats = p;
	p = &a->chats[a->n_chats];
	memset(p, 0, sizeof *p);
	/* A chat first seen in a message: libchat asks the server for its
	 * members, and no event says when they are in; look again soon. */
	if (ch->n_members == 0)
		a->members_unknown = 1;
	snprintf(p->id, sizeof p->id, "%s", ch->chat_id);
	p->title = chat_title(ch, chat_client_user(a->c));
	p->group = strcmp(ch->kind, "group") == 0;
	/* The header says so (view.c): sending there fails until /unblock. */
	for (size_t i = 0; !p->group && i < ch->n_members; i++)
		if (strcmp(ch->members[i], chat_client_user(a->c)) != 0) {
			snprintf(p->peer, sizeof p->peer, "%s", ch->members[i]);
			if (chat_is_blocked(a->c, ch->members[i]) == 1)
				p->blocked = 1;
		}
	p->unread = ch->n_unread;
	p->last = ch->last_activity;
	p->disappearing = ch->disappearing_s;
	p->muted_until = ch->muted_until;
	p->pinned = ch->pinned_at > 0;
	p->archived = ch->archived;
	p->last_at = ch->last_at;
	if (p->title == NULL)
		return 1;
	if (ch->last_text != NULL) {
		/* Made safe whole: the sender's name is the server's word. */
		size_t n = strlen(ch->last_sender) + strlen(ch->last_text) + 3;
		char *raw = malloc(n);

		if (raw != NULL) {
			snprintf(raw, n, "%s: %s", ch->last_sender, ch->last_text);
			p->preview = safe_dup(raw, strlen(raw));
			free(raw);
		}
	}
	a->n_chats++;
	return 0;
}

/* The chats the list shows first, in their order (chat_list_chats: pinned
 * first), then the others: n_shown of them are shown. */
static void
partition_chats(struct app *a)
{
	struct app_chat *sorted;
	size_t k = 0;

	a->n_shown = 0;
	if (a->n_chats == 0 || (sorted = malloc(a->n_chats * sizeof *sorted)) == NULL) {
		a->n_shown = a->n_chats;
		return;
	}
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < a->n_chats; i++)
			if ((a->chats[i].archived == a->show_archived) == (pass == 0))
				sorted[k++] = a->chats[i];
	for (size_t i = 0; i < a->n_chats; i++)
		a->n_shown += a->chats[i].archived == a->show_archived;
	memcpy(a->chats, sorted, a->n_chats * sizeof *sorted);
	free(sorted);
}

static void
load_chats(struct app *a)
{
	free_chats(a);
	a->members_unknown = 0;
	if (chat_list_chats(a->c, add_chat, a) < 0)
		app_status(a, "cannot read the chats: %s", app_error(a->c));
	partition_chats(a);
	a->chats_at = now_ms();
	a->dirty_chats = 0;
	a->redraw = 1;
}

static void
free_msgs(struct app *a)
{
	for (size_t i = 0; i < a->n_msgs; i++) {
		free(a->msgs[i].sender);
		free(a->msgs[i].text);
		free(a->msgs[i].quote);
		free(a->msgs[i].reactions);
	}
	free(a->msgs);
	a->msgs = NULL;
	a->n_msgs = 0;
}

/* A reply's quote, on one line, and the message's reactions, both safe for
 * the screen (NULL when it has none, or memory ran out: shown without). */
static void
add_answers(struct app_msg *p, const struct chat_message *m)
{
	char buf[1024];
	size_t o = 0;

	if (m->reply_to != NULL) {
		snprintf(buf, sizeof buf, "> %s: %s", m->reply_sender, m->reply_preview);
		for (char *s = buf; *s; s++)
			if (*s == '\n' || *s == '\t')
				*s = ' ';
		p->quote = safe_dup(buf, strlen(buf));
	}
	for (size_t i = 0; i < m->n_reactions && o < sizeof buf; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s %zu", i ? " " : "",
				      m->reactions[i].emoji, m->reactions[i].count);
	if (m->n_reactions > 0 && o < sizeof buf)
		p->reactions = safe_dup(buf, o);
}

static int
add_msg(void *arg, const struct chat_message *m)
{
	struct app *a = arg;
	struct app_msg *p = realloc(a->msgs, (a->n_msgs + 1) * sizeof *p);

	if (p == NULL)
		return 1;
	a->msgs = p;
	p = &a->msgs[a->n_msgs];
	memset(p, 0, sizeof *p);
	snprintf(p->id, sizeof p->id, "%s", m->message_id);
	snprintf(p->state, sizeof p->state, "%s", m->state ? m->state : "");
	p->sent_at = m->sent_at;
	p->outgoing = m->outgoing;
	p->mention = m->mentions_me && !m->outgoing;
	p->event = m->kind != NULL &&
		   (strcmp(m->kind, "update") == 0 || strcmp(m->kind, "timer") == 0);
	p->sender = safe_dup(m->sender, strlen(m->sender));
	if (m->kind != NULL && strcmp(m->kind, "timer") == 0) {
		/* "alice set disappearing messages to 1 hour" */
		long long s = strtoll(m->text, NULL, 10);
		char d[48], buf[CHAT_USER_MAX + 96];
		int n = s == 0 ? snprintf(buf, sizeof buf, "%s turned off disappearing messages",
					  m->sender)
			       : snprintf(buf, sizeof buf, "%s set disappearing messages to %s",
					  m->sender, chat_duration_format(s, 0, d, sizeof d));

		p->text = safe_dup(buf, n > 0 && (size_t)n < sizeof buf ? (size_t)n : 0);
	} else if (m->kind != NULL && strcmp(m->kind, "undecryptable") == 0)
		p->text = strdup("[this message could not be decrypted]");
	else if (m->deleted)
		p->text = strdup("message deleted");
	else
		p->text = safe_dup(m->text, m->text_len);
	/* Edited: said after the text (and its files). */
	if (p->text != NULL && m->edited_at > 0 && !m->deleted) {
		char *t = realloc(p->text, strlen(p->text) + sizeof " (edited)");

		if (t != NULL) {
			p->text = t;
			strcat(p->text, " (edited)");
		}
	}
	/* Files: "[file: photo.jpg, 1.2 MB]", the text under them: their
	 * caption (open.c). */
	if (p->text != NULL && m->n_attachments > 0) {
		char *t = open_files_text(m, p->text, &p->files, &p->files_fetched);

		free(p->text);
		p->text = t;
	}
	add_answers(p, m);
	if (p->sender == NULL || p->text == NULL) {
		free(p->sender);
		free(p->text);
		free(p->quote);
		free(p->reactions);
		return 1;
	}
	if (p->outgoing && strcmp(p->state, "pending") == 0)
		a->pending_shown = 1;
	p->unread = !p->outgoing && !p->event && strcmp(p->state, "received") == 0;
	a->n_unread += (size_t)p->unread;
	a->n_msgs++;
	return 0;
}

static const struct app_chat *
chat_of(const struct app *a, const char *id)
{
	for (size_t i = 0; i < a->n_chats; i++)
		if (strcmp(a->chats[i].id, id) == 0)
			return &a->chats[i];
	return NULL;
}

static int
has_msg(const struct app *a, const char *id)
{
	for (size_t i = 0; i < a->n_msgs; i++)
		if (strcmp(a->msgs[i].id, id) == 0)
			return 1;
	return 0;
}

static void
load_msgs(struct app *a)
{
	const struct app_chat *ch;

	free_msgs(a);
	a->n_unread = 0;
	a->dirty_msgs = 0;
	a->pending_shown = 0;
	a->redraw = 1;
	if (a->open[0] == '\0')
		return;
	if (chat_history(a->c, a->open, a->limit, add_msg, a) < 0)
		app_status(a, "cannot read the chat: %s", app_error(a->c));
	/* A /goto to a message older than what is loaded: load back to it. */
	if (a->jump[0] != '\0' && !has_msg(a, a->jump)) {
		if (a->n_msgs == (size_t)a->limit && a->limit < INT_MAX / 2) {
			a->limit *= 2;
			a->dirty_msgs = 1;
			return;
		}
		a->jump[0] = '\0'; /* not in this chat (any more) */
	}
	/* Unread messages older than what is loaded would be marked read with
	 * the rest, never shown: load back to the first of them. */
	ch = chat_of(a, a->open);
	if (ch != NULL && ch->unread > (int64_t)a->n_unread && a->n_msgs == (size_t)a->limit &&
	    ch->unread - (int64_t)a->n_unread < INT_MAX - a->limit - HISTORY_PAGE) {
		a->limit += (int)(ch->unread - (int64_t)a->n_unread) + HISTORY_PAGE;
		a->dirty_msgs = 1;
	}
	if (!a->dirty_msgs)
		live_loaded(a);
}

/* After a drawing: what it showed of the open chat is read, and the senders
 * learn it (read receipts). "Showed" means the pane was drawn at the newest
 * message (not scrolled up, not too small a terminal); app_settle_scroll()
 * stops a drawing at the first unread message instead when they do not all
 * fit, so the newest is reached only once the user has paged through them
 * (or jumped there with Esc). Messages not loaded are not covered: load_msgs
 * loads back to the first unread one first. */
static void
mark_shown_read(struct app *a)
{
	const struct app_chat *ch = chat_of(a, a->open);

	/* A terminal that said it lost the focus is not being looked at. */
	if (!a->focused)
		return;
	if (a->mode != MODE_CHAT || !a->pane_shown || a->scroll != 0 || a->dirty_msgs ||
	    a->n_unread == 0 || ch == NULL || ch->unread > (int64_t)a->n_unread)
		return;
	if (chat_mark_read(a->c, a->open) > 0)
		a->dirty_chats = a->dirty_msgs = 1;
}

void
app_settle_scroll(struct app *a, int total, int rows, int unread_row, int jump_row)
{
	int max = total > rows ? total - rows : 0;

	/* A /goto: the message a few rows below the top, what led to it above
	 * it; scrolled up, so nothing below it is marked read unseen. */
	if (a->jump[0] != '\0' && jump_row >= 0) {
		a->scroll = max - (jump_row > 3 ? jump_row - 3 : 0);
		a->more_below = a->scroll > 0;
		a->to_unread = 0;
		a->jump[0] = '\0';
	}

	/* Following the newest would push the first unread message off the top:
	 * stop there instead, and say there is more below. */
	if (a->to_unread && a->scroll == 0 && unread_row >= 0 && unread_row < max) {
		/* A few rows of what came before it above it (the unread
		 * divider and the day's separator are rows too): where the
		 * reading left off. */
		a->scroll = max - (unread_row > 3 ? unread_row - 3 : 0);
		a->more_below = 1;
	}
	a->to_unread = 0;
	/* Never past the first row: PgUp there does nothing, so the next PgDn
	 * moves at once. */
	if (a->scroll > max)
		a->scroll = max;
	if (a->scroll < 0)
		a->scroll = 0;
	if (a->scroll == 0)
		a->more_below = 0;
}

void
app_open(struct app *a, const char *chat_id)
{
	if (strcmp(a->open, chat_id) != 0) {
		live_switch(a, chat_id);
		snprintf(a->open, sizeof a->open, "%s", chat_id);
		a->limit = HISTORY_PAGE;
		a->scroll = 0;
		a->more_below = 0;
		a->to_unread = 1;
		a->marked[0] = '\0';
		a->selected[0] = '\0'; /* the selection mode is about one chat */
		clear_notices(a);
	}
	a->dirty_msgs = a->dirty_chats = 1;
}

int
app_is_self(struct app *a, const char *name)
{
	const char *me = a->c ? chat_client_user(a->c) : NULL;

	return me != NULL && (strcmp(name, CHAT_SELF_SPEC) == 0 ||
			      strcmp(name[0] == '@' ? name + 1 : name, me) == 0);
}

int
app_find_chat(struct app *a, const char *spec, char out[CHAT_CHAT_ID_LEN + 1])
{
	char at[CHAT_USER_MAX + 2];

	/* Your own name or @me: a group of that name, else your notes to
	 * self. Checked here, not left to the lookups below, which could find
	 * a chat with someone else (both members of any direct chat "match"
	 * you). */
	if (app_is_self(a, spec)) {
		for (size_t i = 0; i < a->n_chats; i++)
			if (a->chats[i].group && strcmp(a->chats[i].title, spec) == 0) {
				memcpy(out, a->chats[i].id, CHAT_CHAT_ID_LEN + 1);
				return 0;
			}
		if (chat_resolve_chat(a->c, CHAT_SELF_SPEC, out) == CHAT_OK)
			return 0;
		app_notice(a, "no notes to self here yet: /create @me starts them");
		return -1;
	}
	/* An id, a prefix or @user, as chatctl takes them. */
	if (chat_resolve_chat(a->c, spec, out) == CHAT_OK)
		return 0;
	/* A user's name alone, or a group's name, as the list shows them. */
	snprintf(at, sizeof at, "@%s", spec);
	if (spec[0] != '@' && chat_resolve_chat(a->c, at, out) == CHAT_OK)
		return 0;
	for (size_t i = 0; i < a->n_chats; i++)
		if (strcmp(a->chats[i].title, spec) == 0) {
			memcpy(out, a->chats[i].id, CHAT_CHAT_ID_LEN + 1);
			return 0;
		}
	app_notice(a, "no chat '%s' here: /create USER opens one, /chats lists them", spec);
	return -1;
}

/* ---- libchat's events ----------------------------------------------------------- */

static void
on_message(struct chat_client *c, void *udata, const struct chat_message *m)
{
	struct app *a = udata;

	(void)c;
	a->dirty_chats = 1;
	/* A notification (live.c), or the bell, as the configuration says;
	 * none for a muted chat, but for a mention. */
	live_message(a, m);
	if (strcmp(m->chat_id, a->open) == 0) {
		a->dirty_msgs = 1;
		if (a->scroll > 0)
			a->more_below = 1;
		else
			a->to_unread = 1; /* a burst bigger than the pane stops at its start */
		return;
	}
	/* Another chat: its unread count goes up (the list); the bell rang above. */
}

/* A reaction: the message it is on is drawn again, if it is in sight. */
static void
on_reaction(struct chat_client *c, void *udata, const struct chat_reaction_event *r)
{
	struct app *a = udata;

	(void)c;
	if (strcmp(r->chat_id, a->open) == 0)
		a->dirty_msgs = 1;
}

/* Something changed in chat_id: its messages (if open) and the list are
 * drawn again. */
static void
chat_changed(struct app *a, const char *chat_id)
{
	if (strcmp(chat_id, a->open) == 0)
		a->dirty_msgs = 1;
	a->dirty_chats = 1;
}

/* A timer change: the header and the history say it. */
static void
on_timer(struct chat_client *c, void *udata, const struct chat_timer_event *e)
{
	(void)c;
	chat_changed(udata, e->chat_id);
}

/* A message past its time is gone from the store: from the screen too. */
static void
on_expired(struct chat_client *c, void *udata, const char *chat_id, const char *message_id)
{
	(void)c;
	(void)message_id;
	chat_changed(udata, chat_id);
}

/* An edit or delete: the message it changes is drawn again, changed. */
static void
on_message_changed(struct chat_client *c, void *udata, const struct chat_change_event *e)
{
	(void)c;
	chat_changed(udata, e->chat_id);
}

static void
on_update(struct chat_client *c, void *udata, const struct chat_update *u)
{
	struct app *a = udata;

	(void)c;
	a->dirty_chats = 1;
	if (strcmp(u->chat_id, a->open) == 0)
		a->dirty_msgs = 1;
}

static void
on_receipt(struct chat_client *c, void *udata, const struct chat_receipt *r)
{
	struct app *a = udata;

	(void)c;
	if (strcmp(r->chat_id, a->open) == 0)
		a->dirty_msgs = 1;
	a->dirty_chats = 1;
	/* Its state does not change: say it, or nobody would know. */
	if (r->status == CHAT_RECEIPT_UNDECRYPTABLE)
		app_status(a,
			   "%s's device %u could not decrypt your message %.8s; a new secure "
			   "session was started: send it again if it mattered",
			   r->user, (unsigned)r->device, r->message_id);
}

static void
on_typing(struct chat_client *c, void *udata, const struct chat_typing *t)
{
	struct app *a = udata;

	(void)c;
	int slot = -1;

	/* The user's slot in this chat, else a free one, else the one that
	 * ends first (a crowd typing at once shows APP_TYPERS of them). */
	for (int i = 0; i < APP_TYPERS; i++)
		if (strcmp(a->typers[i].chat, t->chat_id) == 0 &&
		    strcmp(a->typers[i].user, t->user) == 0)
			slot = i;
	if (!t->typing) {
		if (slot >= 0)
			a->typers[slot].chat[0] = '\0';
		a->redraw = 1;
		return;
	}
	for (int i = 0; slot < 0 && i < APP_TYPERS; i++)
		if (a->typers[i].chat[0] == '\0')
			slot = i;
	if (slot < 0) {
		slot = 0;
		for (int i = 1; i < APP_TYPERS; i++)
			if (a->typers[i].until < a->typers[slot].until)
				slot = i;
	}
	snprintf(a->typers[slot].chat, sizeof a->typers[slot].chat, "%s", t->chat_id);
	snprintf(a->typers[slot].user, sizeof a->typers[slot].user, "%s", t->user);
	a->typers[slot].until = now_ms() + CHAT_TYPING_SHOW_MS;
	a->redraw = 1;
}

static void
on_state(struct chat_client *c, void *udata, enum chat_state state, int err)
{
	struct app *a = udata;
	enum chat_state was = a->state;

	a->state = state;
	a->redraw = 1;
	/* First start: the status line holds the question being asked. */
	if (a->mode == MODE_ASK_USER || a->mode == MODE_ASK_SERVER)
		return;
	if (state == CHAT_STATE_ONLINE)
		app_status(a, "connected to %s", chat_client_server_url(c));
	else if (state == CHAT_STATE_WAITING || state == CHAT_STATE_OFFLINE)
		app_status(a, "%s", app_why(c, err));
	if (state == CHAT_STATE_ONLINE && a->other_pid > 0) {
		app_notice(a,
			   "another chat-tui (pid %ld) was using this home: this one took over the "
			   "connection (the server keeps one per device), and that one is now "
			   "offline; /reconnect there takes the connection back",
			   a->other_pid);
		a->other_pid = 0;
	}
	/* libchat has stopped trying (another program took the connection, the
	 * device was removed, a certificate was refused): said where it stays,
	 * with the way back. The status line says "[offline: /reconnect]". */
	if (state == CHAT_STATE_OFFLINE && was != CHAT_STATE_OFFLINE && a->mode == MODE_CHAT &&
	    a->running)
		app_notice(a, "OFFLINE: %s. /reconnect connects again", app_why(c, err));
	/* Writing offline puts messages in the outbox: they go out now. */
	a->dirty_msgs = 1;
}

static void
on_key_changed(struct chat_client *c, void *udata, const char *user, uint32_t device)
{
	(void)c;
	app_notice(udata,
		   "WARNING: %s's device %u has a new key: their messages are held back. If "
		   "they really changed it, compare /verify %s with them, then /trust %s",
		   user, (unsigned)device, user, user);
}

static void
on_receive_error(struct chat_client *c, void *udata, const char *message_id, int err,
		 const char *detail)
{
	(void)c;
	app_notice(udata, "a message (%.8s) could not be received (%s): %s",
		   message_id ? message_id : "?", chat_strerror(err), detail);
}

static void
on_undecryptable(struct chat_client *c, void *udata, const struct chat_undecryptable *u)
{
	struct app *a = udata;

	(void)c;
	app_notice(a, "WARNING: %s", u->reason);
	a->dirty_chats = 1;
	if (strcmp(u->chat_id, a->open) == 0)
		a->dirty_msgs = 1;
}

static void
on_device_change(struct chat_client *c, void *udata, const char *user, uint32_t device, int added)
{
	(void)c;
	if (added)
		app_notice(udata, "%s has a new device (%u); compare safety numbers: /verify %s",
			   user, (unsigned)device, user);
	else
		app_notice(udata, "%s's device %u was removed", user, (unsigned)device);
}

static void
on_missed(struct chat_client *c, void *udata, int64_t count, int64_t oldest)
{
	(void)c;
	(void)oldest;
	app_notice(udata,
		   "WARNING: %lld message%s expired on the server before this device "
		   "collected them",
		   (long long)count, count == 1 ? "" : "s");
}

static void
on_send_failed(struct chat_client *c, void *udata, const char *chat_id, const char *message_id,
	       int err, const char *detail)
{
	struct app *a = udata;

	(void)chat_id;
	(void)detail; /* the handle's errmsg, which app_error gives with a hint */
	app_notice(a, "a message written earlier (%.8s) cannot be sent (%s): %s", message_id,
		   chat_strerror(err), app_error(c));
	a->dirty_msgs = 1;
}

/* The block list changed (here, on another device, or found on
 * connecting): the headers say who is blocked. */
static void
on_blocked_changed(struct chat_client *c, void *udata)
{
	struct app *a = udata;

	(void)c;
	a->dirty_chats = 1;
	a->redraw = 1;
}

/* History arriving on this new device: its share in the status line; the
 * chats it brings, in the list. */
static void
on_history_sync(struct chat_client *c, void *udata, const struct chat_history_sync *h)
{
	struct app *a = udata;

	(void)c;
	if (h->sending)
		return;
	a->history_on = !h->finished;
	a->history_pct = h->total > 0 ? (int)(h->done * 100 / h->total) : 100;
	if (a->history_pct > 100)
		a->history_pct = 100;
	if (h->finished)
		app_status(a, "history: %lld messages received", (long long)h->done);
	a->dirty_chats = a->dirty_msgs = 1;
	a->redraw = 1;
}

static const struct chat_callbacks callbacks =
	CHAT_CALLBACKS_INIT(.on_message = on_message, .on_state = on_state,
			    .on_key_changed = on_key_changed, .on_receive_error = on_receive_error,
			    .on_undecryptable = on_undecryptable, .on_update = on_update,
			    .on_device_change = on_device_change, .on_missed = on_missed,
			    .on_receipt = on_receipt, .on_send_failed = on_send_failed,
			    .on_typing = on_typing, .on_reaction = on_reaction,
			    .on_message_changed = on_message_changed, .on_timer = on_timer,
			    .on_expired = on_expired,
			    .on_blocked_changed = on_blocked_changed,
			    .on_history_sync = on_history_sync);

/* ---- one home, several programs ------------------------------------------------- */

/* chat-tui holds a lock (fcntl, so it goes whenever the process does) on
 * chat-tui.lock in its home. The server keeps one receiving connection per
 * device, and a second chat-tui on the home takes it from the first: the
 * second learns here who the first is, to say so once online. One that does
 * not get the lock tries again (each pass of the loop) until the other ends. */
static void
lock_home(struct app *a)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char path[PATH_MAX];

	if (a->lock_held || a->c == NULL || chat_client_user(a->c) == NULL)
		return;
	if (a->lock_fd < 0) {
		snprintf(path, sizeof path, "%s/chat-tui.lock", chat_client_home(a->c));
		if ((a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
			return; /* only a warning is lost */
	}
	if (fcntl(a->lock_fd, F_SETLK, &fl) == 0) {
		a->lock_held = 1;
		return;
	}
	fl.l_type = F_WRLCK;
	if (a->other_pid == 0 && fcntl(a->lock_fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
		a->other_pid = fl.l_pid;
}

/* ---- the handle, and registering on first start -------------------------------- */

static int
open_client(struct app *a, const char *server)
{
	struct chat_opts o = CHAT_OPTS_INIT(.home = a->home, .server_url = server, .reconnect = 1,
					    .ca_file = a->ca_file);
	char err[512];
	int rc;

	if (a->c != NULL)
		chat_client_destroy(a->c);
	a->c = chat_client_new(&o, a, &rc, err, sizeof err);
	if (a->c == NULL) {
		view_end();
		/* libchat found no home to use: say how chat-tui is given one. */
		fprintf(stderr, "chat-tui: %s%s\n", err,
			rc == CHAT_ERR_HOME && (a->home == NULL || a->home[0] == '\0') &&
					getenv("CHATCTL_HOME") == NULL && getenv("HOME") == NULL
				? "; give --home DIR or set CHATCTL_HOME"
				: "");
		return -1;
	}
	if (chat_client_set_callbacks(a->c, &callbacks) != CHAT_OK) {
		view_end();
		fprintf(stderr, "chat-tui: %s\n", chat_client_errmsg(a->c));
		return -1;
	}
	return 0;
}

#define DEFAULT_SERVER "ws://127.0.0.1:8700/" /* make run's */

static void
ask_user(struct app *a)
{
	a->mode = MODE_ASK_USER;
	app_status(a, "first start on %s: your user name (1 to 32 of a-z 0-9 . _ -):",
		   chat_client_server_url(a->c));
}

/* The question in the status line; what went wrong before it (why, may be
 * "") in the pane, where a long reason fits. */
static void
ask_server(struct app *a, const char *why)
{
	a->mode = MODE_ASK_SERVER;
	if (why[0])
		app_notice(a, "%s", why);
	app_status(a, "%sthe server's URL (Enter for %s):", why[0] ? "" : "first start: ",
		   a->ask_server[0] ? a->ask_server : DEFAULT_SERVER);
}

static void
registered(struct chat_client *c, void *arg, int err, const char *id)
{
	struct app *a = arg;
	char why[400];

	(void)id;
	if (err == CHAT_ERR_REFUSED) {
		/* The server said no to the name (taken...). libchat closes that
		 * connection itself (not from inside its own callback, which
		 * disconnecting here would be); the next try connects again. */
		app_notice(a, "registration failed: %s", app_why(c, err));
		app_status(a, "give another user name:");
		a->mode = MODE_ASK_USER;
		return;
	}
	if (err != CHAT_OK) {
		/* The name passed plausible_name(): what failed is the server (a
		 * wrong URL, nothing listening, TLS...). Ask it again, keep the
		 * name; Enter tries the same server again. */
		snprintf(why, sizeof why, "cannot register %s on %s: %s", a->ask_user,
			 chat_client_server_url(c), app_why(c, err));
		snprintf(a->ask_server, sizeof a->ask_server, "%s", chat_client_server_url(c));
		ask_server(a, why);
		return;
	}
	a->mode = MODE_CHAT;
	app_status(a, "registered as %s; /create USER opens a chat, /help lists the commands",
		   chat_client_user(c));
	a->dirty_chats = 1;
}

static void
start_register(struct app *a, const char *user)
{
	int rc;

	/* The protocol's rule (common/proto.h), checked here before libchat
	 * does so that a failure of chat_register() is about the server, whose
	 * URL is then asked again. */
	if (!proto_valid_user(user)) {
		a->mode = MODE_ASK_USER;
		app_notice(a, "'%.40s' is not a user name: " PROTO_USER_FORM, user);
		app_status(a, "your user name:");
		return;
	}
	if (user != a->ask_user)
		snprintf(a->ask_user, sizeof a->ask_user, "%s", user);
	a->mode = MODE_REGISTERING;
	app_status(a, "registering %s on %s...", user, chat_client_server_url(a->c));
	rc = chat_register(a->c, user, NULL, registered, a);
	if (rc != CHAT_OK)
		registered(a->c, a, rc, NULL);
}

/* First start, one answer at a time, in the input line ("" is Enter alone). */
static void
answer(struct app *a, const char *line)
{
	if (a->mode == MODE_ASK_SERVER) {
		const char *url = line[0]            ? line
				  : a->ask_server[0] ? a->ask_server
						     : DEFAULT_SERVER;
		char why[400];

		/* A user name typed a question too early is not a URL. */
		if (strncmp(url, "ws://", 5) != 0 && strncmp(url, "wss://", 6) != 0) {
			snprintf(why, sizeof why,
				 "'%.60s' is not a server URL (ws://HOST:PORT/ or "
				 "wss://HOST/)",
				 url);
			ask_server(a, why);
			return;
		}
		if (url != a->ask_server)
			snprintf(a->ask_server, sizeof a->ask_server, "%s", url);
		if (open_client(a, a->ask_server) != 0) {
			a->running = 0;
			a->exit_code = 1;
			return;
		}
		if (a->ask_user[0] != '\0' || a->user_arg != NULL)
			start_register(a, a->ask_user[0] ? a->ask_user : a->user_arg);
		else
			ask_user(a);
		return;
	}
	if (a->mode == MODE_ASK_USER && line[0])
		start_register(a, line);
}

/* ---- keys ----------------------------------------------------------------------- */

/* Confirmed (sent), or refused for good (failed): the state on screen moves. */
static void
sent_done(struct chat_client *c, void *arg, int err, const char *id)
{
	struct app *a = arg;

	(void)id;
	if (err != CHAT_OK && err != CHAT_ERR_CONNECTION_LOST && err != CHAT_ERR_CONNECT &&
	    err != CHAT_ERR_TIMEOUT)
		app_notice(a, "a message was not sent: %s", app_why(c, err));
	a->dirty_msgs = a->dirty_chats = 1;
}

static void
send_line(struct app *a)
{
	char *line = editor_take(&a->ed);
	int rc;

	if (a->mode != MODE_CHAT) {
		/* Enter alone answers too: it takes the default. */
		answer(a, line ? line : "");
		free(line);
		return;
	}
	if (line == NULL)
		return;
	if (line[0] == '/' && line[1] != '/') {
		commands_run(a, line);
	} else if (a->open[0] == '\0') {
		/* Kept in the input line: nothing typed is lost for want of a chat. */
		(void)editor_set(&a->ed, line);
		app_status(a, "no chat open: /create USER opens one, Tab goes to the next");
	} else {
		/* "//text" sends "/text". */
		const char *text = line[0] == '/' ? line + 1 : line;

		rc = chat_send_text(a->c, a->open, text, strlen(text), NULL, sent_done, a);
		if (rc != CHAT_OK && rc != CHAT_ERR_CONNECT)
			app_status(a, "not sent: %s", app_error(a->c));
		/* Typing is over with the message (best effort). */
		if (a->state == CHAT_STATE_ONLINE)
			(void)chat_typing(a->c, a->open, 0);
		a->scroll = 0;
		a->more_below = 0;
		a->dirty_msgs = a->dirty_chats = 1;
	}
	free(line);
}

void
app_switch_chat(struct app *a, int delta, int unread_only)
{
	size_t n = a->n_shown, cur;

	if (n == 0)
		return;
	/* None open: Tab goes to the first chat, Shift-Tab to the last. */
	cur = delta > 0 ? n - 1 : 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(a->chats[i].id, a->open) == 0)
			cur = i;
	for (size_t step = 1; step <= n; step++) {
		size_t i = (cur + n + (size_t)(delta * (long)step) % n) % n;

		if (!unread_only || a->chats[i].unread > 0) {
			app_open(a, a->chats[i].id);
			return;
		}
	}
	if (unread_only)
		app_status(a, "nothing unread");
}

/* Scrolls by rows (a page: 0), up or down. */
void
app_page(struct app *a, int up, int rows)
{
	if (rows == 0)
		rows = view_pane_rows() - 2;
	if (rows < 1)
		rows = 1;
	if (up) {
		/* The drawing clamps it at the first row (app_settle_scroll). */
		a->scroll += rows;
		/* Near the top of what is loaded: load older messages from the store. */
		if ((size_t)a->limit == a->n_msgs) {
			a->limit += HISTORY_PAGE;
			a->dirty_msgs = 1;
		}
	} else {
		a->scroll -= rows;
		if (a->scroll <= 0) {
			a->scroll = 0;
			a->more_below = 0;
		}
	}
	a->redraw = 1;
}

/* A key as config.h codes it. */
static int
key_code(int kind, wint_t ch)
{
	if (kind != KEY_CODE_YES)
		return ch == 27 ? 0 : (int)ch;
	switch (ch) {
	case KEY_BTAB: return CONFIG_KEY_NAMED | NAMED_BTAB;
	case KEY_PPAGE: return CONFIG_KEY_NAMED | NAMED_PGUP;
	case KEY_NPAGE: return CONFIG_KEY_NAMED | NAMED_PGDN;
	case KEY_UP: return CONFIG_KEY_NAMED | NAMED_UP;
	case KEY_DOWN: return CONFIG_KEY_NAMED | NAMED_DOWN;
	case KEY_HOME: return CONFIG_KEY_NAMED | NAMED_HOME;
	case KEY_END: return CONFIG_KEY_NAMED | NAMED_END;
	default:
		if (ch >= KEY_F(1) && ch <= KEY_F(12))
			return CONFIG_KEY_NAMED | (NAMED_F1 + (int)(ch - KEY_F(1)));
		return 0;
	}
}

/* Alt+key (ESC then the key). */
static void
alt_key(struct app *a, wint_t ch)
{
	if (ch >= '1' && ch <= '9') {
		if ((size_t)(ch - '1') < a->n_shown)
			app_open(a, a->chats[ch - '1'].id);
	} else if (ch == '0') {
		if (a->n_shown >= 10)
			app_open(a, a->chats[9].id);
	} else if (ch == 'b') {
		editor_word_left(&a->ed);
	} else if (ch == 'f') {
		editor_word_right(&a->ed);
	} else if (ch == '\r' || ch == '\n') {
		editor_insert(&a->ed, "\n", 1);
	} else if (ch == 's') {
		select_enter(a); /* the selection mode (select.c) */
	} else if (ch == 'i') {
		a->show_ids = !a->show_ids;
	}
}

static void
key(struct app *a, int kind, wint_t ch)
{
	char mb[MB_LEN_MAX];
	mbstate_t ps;
	size_t n;

	a->redraw = 1;
	/* The status line's notice was about what came before this key. */
	if (a->mode == MODE_CHAT && !(kind == KEY_CODE_YES && ch == KEY_RESIZE))
		a->status[0] = '\0';
	/* The selection mode takes its keys first (select.c), then the
	 * configuration's actions (config.h). */
	if ((a->mode == MODE_CHAT && select_key(a, kind, (unsigned)ch)) ||
	    live_key(a, key_code(kind, ch)))
		return;
	if (kind == KEY_CODE_YES) {
		switch (ch) {
		case KEY_RESIZE: break;
		case KEY_ENTER: send_line(a); break;
		case KEY_BACKSPACE: editor_backspace(&a->ed); break;
		case KEY_DC: editor_delete(&a->ed); break;
		case KEY_LEFT: editor_left(&a->ed); break;
		case KEY_RIGHT: editor_right(&a->ed); break;
		case KEY_HOME: editor_home(&a->ed); break;
		case KEY_END: editor_end(&a->ed); break;
		case KEY_UP: editor_history_prev(&a->ed); break;
		case KEY_DOWN: editor_history_next(&a->ed); break;
		case KEY_MOUSE: {
			/* A click opens a chat or selects a message (select.c); the
			 * wheel scrolls three rows. */
			int wheel = select_mouse(a);

			if (wheel != 0)
				app_page(a, wheel > 0, 3);
			break;
		}
		default: break;
		}
		return;
	}
	switch (ch) {
	case '\r': send_line(a); return;
	case '\n': editor_insert(&a->ed, "\n", 1); return; /* Ctrl-J: a new line */
	case '\t':
		/* Completion (live_key leaves Tab here on a /command). */
		if (a->ed.len > 0 && a->ed.buf[0] == '/')
			commands_complete(a);
		else
			(void)complete_mention(a);
		return;
	case 1: editor_home(&a->ed); return; /* Ctrl-A */
	case 2: editor_left(&a->ed); return; /* Ctrl-B */
	case 4:                              /* Ctrl-D: delete, or quit when empty */
		if (a->ed.len == 0)
			a->running = 0;
		else
			editor_delete(&a->ed);
		return;
	case 5: editor_end(&a->ed); return;         /* Ctrl-E */
	case 6: editor_right(&a->ed); return;       /* Ctrl-F */
	case 11: editor_kill_end(&a->ed); return;   /* Ctrl-K */
	case 12: clearok(curscr, TRUE); return;     /* Ctrl-L */
	case 21: editor_kill_start(&a->ed); return; /* Ctrl-U */
	case 23: editor_kill_word(&a->ed); return;  /* Ctrl-W */
	case 8:
	case 127: editor_backspace(&a->ed); return;
	case 27: {
		/* Alt+key arrives as ESC and the key, at once; ESC alone cancels
		 * a scroll (back to the newest message). */
		wint_t next;
		int k = get_wch(&next);

		/* The terminal's focus reports: ESC [ I and ESC [ O. */
		if (k == OK && next == '[') {
			wint_t third;

			if (get_wch(&third) == OK) {
				if (third == 'I' || third == 'O')
					live_focus(a, third == 'I');
				else
					key(a, OK, third);
			}
			return;
		}
		if (k == OK && live_key(a, CONFIG_KEY_ALT | (int)next))
			return;
		if (k == OK) {
			alt_key(a, next);
		} else if (a->scroll > 0) {
			/* At the newest again, past any unread ones: the user chose
			 * to skip them, and the drawing marks them read. */
			a->scroll = 0;
			a->more_below = 0;
			a->to_unread = 0;
		}
		return;
	}
	default: break;
	}
	if (ch < 32)
		return;
	memset(&ps, 0, sizeof ps);
	n = wcrtomb(mb, (wchar_t)ch, &ps);
	if (n != (size_t)-1 && editor_insert(&a->ed, mb, n) != 0)
		app_status(a, "the message is at its limit of %d bytes", CHAT_MAX_TEXT);
	/* Typing a message (not a /command): the chat hears it, at most every
	 * few seconds (libchat drops the rest); best effort, errors unsaid. */
	else if (a->open[0] && a->state == CHAT_STATE_ONLINE && a->ed.len > 0 &&
		 a->ed.buf[0] != '/')
		(void)chat_typing(a->c, a->open, 1);
}

/* ---- the loop ---------------------------------------------------------------------- */

static volatile sig_atomic_t stop_signal;

static void
on_stop_signal(int sig)
{
	stop_signal = sig;
}

void
app_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the signal interrupts poll(), and the loop ends. Set
	 * even where the parent ignored SIGHUP (nohup): a full-screen program
	 * whose terminal is gone has nothing left to do. */
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* Reads the keys waiting; returns how many. */
static int
read_keys(struct app *a)
{
	wint_t ch;
	int kind, n = 0;

	while (a->running && (kind = get_wch(&ch)) != ERR) {
		key(a, kind, ch);
		n++;
	}
	return n;
}

/* 1 if the terminal is gone (hung up, closed): poll() says so, or it said
 * there was input and none could be read, and the terminal no longer
 * answers (a hung-up tty fails every call with EIO). Without this check the
 * loop would spin on a terminal that is always "readable". */
static int
terminal_lost(short revents, int keys)
{
	struct termios t;

	if (revents & (POLLHUP | POLLERR | POLLNVAL))
		return 1;
	if (!(revents & POLLIN) || keys > 0)
		return 0;
	return tcgetattr(STDIN_FILENO, &t) != 0 && errno != EINTR;
}

static void
start(struct app *a)
{
	if (open_client(a, a->server) != 0) {
		a->running = 0;
		a->exit_code = 1;
		return;
	}
	if (chat_client_user(a->c) != NULL) {
		/* No chat is opened for the user: what it shows would be marked
		 * read unseen (the pane says how to open one). */
		a->mode = MODE_CHAT;
		lock_home(a);
		live_load_drafts(a);
		load_chats(a);
		/* Down is not an error: the store is there, and it keeps trying. */
		chat_client_connect(a->c);
		return;
	}
	/* An empty home: ask (or take --user and --server). */
	if (chat_client_server_url(a->c) == NULL)
		ask_server(a, "");
	else if (a->user_arg != NULL)
		start_register(a, a->user_arg);
	else
		ask_user(a);
}

/* Before curses takes the terminal: how it draws what wcwidth() cannot
 * speak for (a second is plenty; a terminal answers in microseconds). Then
 * curses starts, and reads first what was typed during the probe. */
static void
probe_terminal(struct app *a)
{
	char typed[1024];
	size_t n = 0;

	if (a->probe)
		text_set_quirks(
			term_probe(STDIN_FILENO, STDOUT_FILENO, 1000, typed, sizeof typed, &n));
	else
		text_set_quirks(TEXT_QUIRK_ALL);
	view_init();
	view_colours(&a->cfg);
	while (n > 0)
		ungetch((unsigned char)typed[--n]);
}

/* Reads back what changed, draws, and marks read what the drawing showed;
 * that changes counts and states, which are read back and drawn at once (a
 * few passes at most: loading can ask for older messages once). */
static void
update(struct app *a)
{
	for (int pass = 0; pass < 3; pass++) {
		if (a->dirty_chats && a->mode == MODE_CHAT)
			load_chats(a);
		if (a->dirty_msgs && a->mode == MODE_CHAT)
			load_msgs(a);
		if (!a->redraw)
			return;
		view_draw(a);
		a->redraw = 0;
		mark_shown_read(a);
	}
}

int
app_run(struct app *a)
{
	editor_init(&a->ed);
	a->lock_fd = -1;
	a->running = 1;
	a->limit = HISTORY_PAGE;
	a->focused = 1;
	live_config(a);
	probe_terminal(a);
	view_mouse(a->mouse);
	/* Focus reports (ESC [ I, ESC [ O) where the terminal gives them:
	 * notifications for the open chat too while it is not looked at. */
	if (write(STDOUT_FILENO, "\033[?1004h", 8) < 0)
		a->focused = 1;
	start(a);
	while (a->running) {
		struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = -1, .events = POLLIN}};

		update(a);
		if (a->c != NULL)
			p[1].fd = chat_client_fd(a->c);
		if (stop_signal)
			break;
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			break;
		if (stop_signal)
			break;
		/* A resize (SIGWINCH) interrupts poll; curses turns it into a key. */
		if (terminal_lost(p[0].revents, read_keys(a)))
			break;
		if (a->c != NULL) {
			chat_client_loop(a->c, 0);
			/* Every 10 s too: a mute that has ended, the settings
			 * another device of the user sent (no event says
			 * so), the list's times after midnight. */
			if (a->members_unknown || now_ms() - a->chats_at >= APP_LIST_MS)
				a->dirty_chats = 1;
			/* Messages of the outbox (earlier sessions) have no done
			 * callback: while one shows as sending, look again. */
			if (a->pending_shown && a->state == CHAT_STATE_ONLINE)
				a->dirty_msgs = 1;
			/* The clock in the status line and the retry countdown. */
			if (a->state != CHAT_STATE_ONLINE)
				a->redraw = 1;
		}
		expire_status(a);
		open_reap(a);
		live_tick(a);
		if (a->mode == MODE_CHAT)
			lock_home(a);
	}
	view_end();
	if (write(STDOUT_FILENO, "\033[?1004l", 8) < 0)
		a->focused = 0;
	if (a->c != NULL && chat_client_user(a->c) != NULL)
		live_save_drafts(a);
	if (a->c != NULL) {
		chat_client_disconnect(a->c);
		chat_client_destroy(a->c);
	}
	free_chats(a);
	free_msgs(a);
	clear_notices(a);
	live_free(a);
	editor_free(&a->ed);
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	return a->exit_code;
}
