/*
 * live.c - what makes chat-tui a place to live in, beside the loop (app.c):
 * the configuration read at start, per-chat drafts (kept across restarts in
 * the home), the unread divider and the jump to it, the open chat's presence
 * (last seen, asked each minute), the keys the configuration binds, and
 * which new message earns a notification (notify.c shows it).
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzer.h"
#include "app.h"
#include "look.h"
#include "notify.h"
#include "text.h"

#define SEEN_EVERY_MS 60000 /* the open chat's last seen, asked again */
#define NOTIFY_GAP_MS 1000  /* one notification a second at most (a catch-up burst) */
#define DRAFTS_MAX    1000  /* drafts kept (read from the file at most) */
#define DRAFTS_FILE   "chat-tui.drafts"

/* ---- the configuration ---------------------------------------------------------- */

static void
config_warn(void *arg, const char *msg)
{
	/* The pane shows it once the screen is up (app_notice only queues). */
	app_notice(arg, "config: %s (the rest of the file applies)", msg);
}

void
live_config(struct app *a)
{
	char path[PATH_MAX];
	const char *nc = getenv("NO_COLOR");

	config_defaults(&a->cfg);
	if (a->config_path != NULL)
		config_load(&a->cfg, a->config_path, 0, config_warn, a);
	else {
		config_default_path(path, sizeof path);
		if (path[0] != '\0')
			config_load(&a->cfg, path, 1, config_warn, a);
	}
	/* https://no-color.org: set and not empty, no colours (bold stays). */
	if (nc != NULL && nc[0] != '\0')
		a->cfg.color = 0;
	a->notify = notify_resolve(a->cfg.notify);
	/* "mouse = no" is --no-mouse's (which wins over "mouse = yes"). */
	if (!a->cfg.mouse)
		a->mouse = 0;
}

/* ---- drafts --------------------------------------------------------------------- */

static struct app_draft *
draft_of(const struct app *a, const char *chat_id)
{
	for (size_t i = 0; i < a->n_drafts; i++)
		if (strcmp(a->drafts[i].chat, chat_id) == 0)
			return &a->drafts[i];
	return NULL;
}

static void write_drafts(struct app *a);

static void
drop_draft(struct app *a, struct app_draft *d)
{
	free(d->text);
	*d = a->drafts[--a->n_drafts];
}

/* Keeps text as chat_id's draft (an empty text drops it). The copy is the
 * draft's, freed by drop_draft or live_free: the analyzer loses it when the
 * array grew on one path and not the other (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
static void
keep_draft(struct app *a, const char *chat_id, const char *text, size_t cursor)
{
	struct app_draft *d = draft_of(a, chat_id), *p;
	char *t;

	if (text[0] == '\0') {
		if (d != NULL)
			drop_draft(a, d);
		return;
	}
	if ((t = strdup(text)) == NULL)
		return;
	if (d == NULL) {
		if (a->n_drafts >= DRAFTS_MAX ||
		    (p = realloc(a->drafts, (a->n_drafts + 1) * sizeof *p)) == NULL) {
			free(t);
			return;
		}
		a->drafts = p;
		d = &a->drafts[a->n_drafts++];
		snprintf(d->chat, sizeof d->chat, "%s", chat_id);
		d->text = NULL;
	}
	free(d->text);
	d->text = t;
	d->cursor = cursor <= strlen(t) ? cursor : strlen(t);
}
ANALYZER_LEAK_FP_END

int
live_has_draft(const struct app *a, const char *chat_id)
{
	/* The open chat's is in the editor, and shown there. */
	return strcmp(chat_id, a->open) != 0 && draft_of(a, chat_id) != NULL;
}

void
live_switch(struct app *a, const char *chat_id)
{
	struct app_draft *d;

	/* Nothing typed is lost for a chat switch: a /command being typed
	 * goes along (it is about no chat in particular). */
	if (a->open[0] != '\0' && !(a->ed.len > 0 && a->ed.buf[0] == '/')) {
		keep_draft(a, a->open, a->ed.buf ? a->ed.buf : "", a->ed.cursor);
		(void)editor_set(&a->ed, "");
	}
	/* Written at each switch as well as at the end: a chat-tui killed
	 * (or a machine that stops) loses at most the open chat's. */
	write_drafts(a);
	if ((d = draft_of(a, chat_id)) != NULL && a->ed.len == 0 &&
	    editor_set(&a->ed, d->text) == 0) {
		/* The cursor where it was, if that is a cluster boundary of
		 * the text (the file may have been edited): else at the end. */
		size_t at = 0;
		int w;

		while (at < d->cursor && at < a->ed.len) {
			size_t n = text_cluster(a->ed.buf + at, a->ed.len - at, &w);

			if (n == 0)
				break;
			at += n;
		}
		if (at == d->cursor)
			a->ed.cursor = at;
		drop_draft(a, d);
	}
	a->divider[0] = '\0';
	a->divider_n = 0;
	a->divider_pending = 1;
	a->seen_user[0] = '\0';
	a->seen_online = -1;
	a->seen_at = -1;
	a->seen_asked = 0;
}

/* The drafts file: one line a draft, "CHAT_ID CURSOR TEXT", the text with
 * '\\' and '\n' escaped; written whole to a temporary file, then renamed.
 * The open chat's draft is the editor's: not in a->drafts until kept. */
static void
write_drafts(struct app *a)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;
	int fd;

	if (!a->cfg.persist_drafts || a->c == NULL || chat_client_user(a->c) == NULL)
		return;
	snprintf(path, sizeof path, "%s/" DRAFTS_FILE, chat_client_home(a->c));
	if (a->n_drafts == 0) {
		(void)unlink(path);
		return;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return;
	}
	for (size_t i = 0; i < a->n_drafts; i++) {
		fprintf(f, "%s %zu ", a->drafts[i].chat, a->drafts[i].cursor);
		for (const char *s = a->drafts[i].text; *s; s++)
			if (*s == '\\')
				fputs("\\\\", f);
			else if (*s == '\n')
				fputs("\\n", f);
			else
				fputc(*s, f);
		fputc('\n', f);
	}
	if (fclose(f) == 0)
		(void)rename(tmp, path);
	else
		(void)unlink(tmp);
}

void
live_save_drafts(struct app *a)
{
	if (a->open[0] != '\0' && !(a->ed.len > 0 && a->ed.buf[0] == '/'))
		keep_draft(a, a->open, a->ed.buf ? a->ed.buf : "", a->ed.cursor);
	write_drafts(a);
}

void
live_load_drafts(struct app *a)
{
	char path[PATH_MAX], *line = NULL, *text;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if (!a->cfg.persist_drafts)
		return;
	snprintf(path, sizeof path, "%s/" DRAFTS_FILE, chat_client_home(a->c));
	if ((f = fopen(path, "r")) == NULL)
		return;
	while ((n = getline(&line, &cap, f)) > 0 && a->n_drafts < DRAFTS_MAX) {
		char id[CHAT_CHAT_ID_LEN + 1], *end, *o;
		unsigned long cursor;
		size_t idlen = strcspn(line, " ");

		/* A line not of this form is skipped: a draft is not worth an
		 * error at start. */
		if (idlen == 0 || idlen > CHAT_CHAT_ID_LEN || line[idlen] != ' ' ||
		    (size_t)n > EDITOR_MAX * 2 + 100)
			continue;
		memcpy(id, line, idlen);
		id[idlen] = '\0';
		cursor = strtoul(line + idlen + 1, &end, 10);
		if (*end != ' ')
			continue;
		text = o = end + 1;
		for (char *s = text; *s && *s != '\n'; s++) {
			if (*s == '\\' && s[1] == 'n') {
				*o++ = '\n';
				s++;
			} else if (*s == '\\' && s[1] == '\\') {
				*o++ = '\\';
				s++;
			} else {
				*o++ = *s;
			}
		}
		*o = '\0';
		if (strlen(text) <= EDITOR_MAX)
			keep_draft(a, id, text, cursor);
	}
	free(line);
	fclose(f);
}

void
live_free(struct app *a)
{
	for (size_t i = 0; i < a->n_drafts; i++)
		free(a->drafts[i].text);
	free(a->drafts);
	a->drafts = NULL;
	a->n_drafts = 0;
}

/* ---- the unread divider ------------------------------------------------------------ */

void
live_loaded(struct app *a)
{
	if (!a->divider_pending || a->open[0] == '\0' || a->mode != MODE_CHAT)
		return;
	a->divider_pending = 0;
	for (size_t i = 0; i < a->n_msgs; i++)
		if (a->msgs[i].unread) {
			memcpy(a->divider, a->msgs[i].id, sizeof a->divider);
			a->divider_n = (int64_t)(a->n_unread);
			return;
		}
}

void
live_to_divider(struct app *a)
{
	if (a->divider[0] == '\0') {
		app_status(a, "no unread divider in this chat (it marks what was unread when "
			      "you opened it)");
		return;
	}
	memcpy(a->jump, a->divider, sizeof a->jump);
	a->redraw = 1;
}

/* ---- keys ------------------------------------------------------------------------- */

int
live_key(struct app *a, int code)
{
	int action = -1;

	if (code == 0)
		return 0;
	for (int i = 0; i < KEY_ACTIONS && action < 0; i++)
		for (int k = 0; k < CONFIG_KEYS; k++)
			if (a->cfg.keys[i][k] == code)
				action = i;
	if (action < 0)
		return 0;
	/* Tab on a /command completes it, and on an @name a member's name,
	 * whatever Tab is bound to. */
	if (code == '\t' && a->ed.len > 0) {
		if (a->ed.buf[0] == '/')
			return 0;
		if (complete_mention(a))
			return 1;
	}
	switch (action) {
	case KEY_NEXT_CHAT: app_switch_chat(a, 1, 0); break;
	case KEY_PREV_CHAT: app_switch_chat(a, -1, 0); break;
	case KEY_NEXT_UNREAD: app_switch_chat(a, 1, 1); break;
	case KEY_FIRST_UNREAD: live_to_divider(a); break;
	case KEY_PAGE_UP: app_page(a, 1, 0); break;
	case KEY_PAGE_DOWN: app_page(a, 0, 0); break;
	case KEY_QUIT: a->running = 0; break;
	default: return 0;
	}
	return 1;
}

void
live_focus(struct app *a, int in)
{
	a->focused = in;
	/* Back: what the screen shows now is seen (marked read after the
	 * drawing, which waited for this). */
	a->redraw = 1;
}

/* ---- notifications ------------------------------------------------------------------ */

/* Whether chat_id is muted now (/mute; a mute for a while ends by itself):
 * its messages notify no more, but for mentions. */
static int
chat_is_muted(struct app *a, const char *chat_id)
{
	return chat_muted_until(a->c, chat_id) > 0;
}

void
live_message(struct app *a, const struct chat_message *m)
{
	const struct app_chat *ch = NULL;
	int mention = m->mentions_me, here = strcmp(m->chat_id, a->open) == 0;
	char title[CHAT_USER_MAX + 200];
	const char *body;
	size_t body_len;
	int64_t now = app_now_ms();

	if (m->outgoing ||
	    (m->kind != NULL && (strcmp(m->kind, "update") == 0 || strcmp(m->kind, "timer") == 0)))
		return;
	/* The open chat on a focused terminal is seen already, except a
	 * mention, which rings there too (as before notifications). */
	if (here && a->focused && !mention)
		return;
	if (a->cfg.notify == NOTIFY_OFF)
		return;
	/* /bell off (or --no-bell) silences other chats; a mention gets
	 * through unless --no-bell; a muted chat only for a mention. */
	if (mention ? !(a->bell || a->bell_mentions) : !a->bell)
		return;
	if (!mention && chat_is_muted(a, m->chat_id))
		return;
	/* A mention in the open chat of a focused terminal: the bell alone. */
	if (here && a->focused) {
		if (write(STDOUT_FILENO, "\a", 1) < 0)
			a->focused = 1;
		return;
	}
	if (a->notified_at != 0 && now - a->notified_at < NOTIFY_GAP_MS)
		return;
	a->notified_at = now;
	for (size_t i = 0; i < a->n_chats; i++)
		if (strcmp(a->chats[i].id, m->chat_id) == 0)
			ch = &a->chats[i];
	if (ch != NULL && ch->group)
		snprintf(title, sizeof title, "%s in %s", m->sender, ch->title);
	else
		snprintf(title, sizeof title, "%s", m->sender);
	if (m->n_attachments > 0 && m->text_len == 0) {
		body = "sent a file";
		body_len = strlen(body);
	} else if (a->cfg.notify_body && m->text != NULL) {
		body = m->text;
		body_len = m->text_len;
	} else {
		body = mention ? "mentioned you" : "new message";
		body_len = strlen(body);
	}
	(void)notify_show(a->notify, a->cfg.notify_bell, title, body, body_len);
}

/* ---- presence ---------------------------------------------------------------------- */

static void
seen(struct chat_client *c, void *arg, int err, const char *user, int online, int64_t last_seen)
{
	struct app *a = arg;

	(void)c;
	if (err != CHAT_OK || user == NULL || strcmp(user, a->seen_user) != 0)
		return;
	a->seen_online = online;
	a->seen_at = last_seen;
	a->redraw = 1;
}

void
live_tick(struct app *a)
{
	const struct app_chat *ch = NULL;
	int64_t now = app_now_ms();

	notify_reap();
	if (a->mode != MODE_CHAT || a->open[0] == '\0' || a->state != CHAT_STATE_ONLINE)
		return;
	for (size_t i = 0; i < a->n_chats; i++)
		if (strcmp(a->chats[i].id, a->open) == 0)
			ch = &a->chats[i];
	if (ch == NULL || ch->group || ch->peer[0] == '\0')
		return;
	if (strcmp(a->seen_user, ch->peer) == 0 && a->seen_asked != 0 &&
	    now - a->seen_asked < SEEN_EVERY_MS)
		return;
	snprintf(a->seen_user, sizeof a->seen_user, "%s", ch->peer);
	a->seen_asked = now;
	(void)chat_last_seen(a->c, ch->peer, seen, a);
}

const char *
live_presence(struct app *a, char *buf, size_t len)
{
	const struct app_chat *ch = NULL;
	char who[CHAT_USER_MAX * 3 + 32];
	struct timespec ts;

	for (size_t i = 0; i < a->n_chats; i++)
		if (strcmp(a->chats[i].id, a->open) == 0)
			ch = &a->chats[i];
	buf[0] = '\0';
	if (ch == NULL)
		return buf;
	if (app_typing(a, who, sizeof who) != NULL) {
		/* A direct chat: only the peer types there. */
		if (ch->group)
			snprintf(buf, len, "%s typing\u2026", who);
		else
			snprintf(buf, len, "typing\u2026");
		return buf;
	}
	if (ch->group || ch->peer[0] == '\0' || strcmp(a->seen_user, ch->peer) != 0)
		return buf;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (a->seen_online == 1)
		snprintf(buf, len, "online");
	else if (a->seen_online == 0 && a->seen_at > 0)
		look_last_seen(a->seen_at, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, buf,
			       len);
	return buf;
}
