/*
 * commands.c - chat-tui's /commands. One table runs them, checks their
 * arguments, completes their names and prints their help, so none of the
 * three can drift from the others. They call libchat as chatctl's commands
 * do; their results come back as notices in the message pane.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"

#define MAX_ARGS 101 /* a group of 100 and its name */

struct command {
	const char *name;
	const char *usage; /* the arguments */
	const char *summary;
	int min_args, max_args; /* max -1: any number */
	int needs_chat;         /* works on the open chat */
	void (*run)(struct app *a, int argc, char **argv);
};

static const struct command commands[];

static void
usage_of(struct app *a, const struct command *cmd)
{
	app_notice(a, "usage: /%s%s%s  (%s)", cmd->name, cmd->usage[0] ? " " : "", cmd->usage,
		   cmd->summary);
}

/* ---- the commands --------------------------------------------------------------- */

/* /help's overview: the commands by topic, usage only, so the whole list
 * fits on a small terminal (each one's summary is /help COMMAND's). */
static const char *const help_topics[][2] = {
	{"chats", "create group open chats search goto unread"},
	{"messages", "reply react edit delete delete! disappear attach download openfile ids"},
	{"groups", "members add remove leave promote demote rename describe"},
	{"people", "verify trust lastseen block unblock blocked devices approve"},
	{"chat list", "mute unmute pin unpin archive unarchive archived"},
	{"chat-tui", "help bell reconnect quit"},
};

static int
in_topic(const char *names, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = names; (p = strstr(p, name)) != NULL; p += n)
		if ((p == names || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/* One topic's line: the commands named in names, or with names NULL the
 * commands no topic names (so a new command is never missing from /help). */
static void
help_line(struct app *a, const char *topic, const char *names)
{
	char line[512];
	size_t len = (size_t)snprintf(line, sizeof line, "  %s:", topic), n = 0;

	for (const struct command *c = commands; c->name != NULL; c++) {
		int listed = 0;

		for (size_t i = 0; names == NULL && i < sizeof help_topics / sizeof help_topics[0]; i++)
			listed |= in_topic(help_topics[i][1], c->name);
		if (names != NULL ? !in_topic(names, c->name) : listed)
			continue;
		if (len < sizeof line)
			len += (size_t)snprintf(line + len, sizeof line - len, "  /%s%s%s", c->name,
						c->usage[0] ? " " : "", c->usage);
		n++;
	}
	if (n > 0)
		app_notice(a, "%s", line);
}

static void
run_help(struct app *a, int argc, char **argv)
{
	const struct command *c;

	if (argc == 2) {
		for (c = commands; c->name != NULL; c++)
			if (strcmp(c->name, argv[1][0] == '/' ? argv[1] + 1 : argv[1]) == 0) {
				usage_of(a, c);
				return;
			}
		app_notice(a, "no command /%s; /help lists them", argv[1]);
		return;
	}
	app_notice(a, "commands (/help COMMAND tells what one does; Tab completes them):");
	for (size_t i = 0; i < sizeof help_topics / sizeof help_topics[0]; i++)
		help_line(a, help_topics[i][0], help_topics[i][1]);
	help_line(a, "other", NULL);
	app_notice(a, "keys: Enter sends, Ctrl-J or Alt-Enter a new line, Tab/Shift-Tab "
		      "next/previous chat, Alt-1..9 a chat, Alt-a or Ctrl-N the next unread, "
		      "Alt-u the unread divider, PgUp/PgDn scroll, Up/Down sent lines, "
		      "Ctrl-A/E/W/U/K edit, Ctrl-C quits (the defaults: the configuration "
		      "file can bind others, see chat-tui(1))");
	app_notice(a, "messages: Alt-s (or a click) selects one: r reply, e edit, d delete, "
		      "+ react, o open its file; Alt-i shows ids (#ID for MSG)");
}

/* A chat was made: open it. */
static void
opened(struct chat_client *c, void *arg, int err, const char *id)
{
	if (err != CHAT_OK)
		app_done_notice(c, arg, err, id);
	else
		app_open(chat_client_udata(c), id);
}

static void
run_create(struct app *a, int argc, char **argv)
{
	const char *users[1] = {argv[1]};
	char id[CHAT_CHAT_ID_LEN + 1];
	int rc;

	(void)argc;
	/* Yourself (@me, or your name): your notes to self, made once. */
	if (app_is_self(a, argv[1])) {
		if (chat_resolve_chat(a->c, CHAT_SELF_SPEC, id) == CHAT_OK) {
			app_open(a, id);
			return;
		}
		users[0] = chat_client_user(a->c);
	} else if (argv[1][0] != '@') {
		/* Already there: just open it. */
		char at[CHAT_USER_MAX + 2];

		snprintf(at, sizeof at, "@%s", argv[1]);
		if (chat_resolve_chat(a->c, at, id) == CHAT_OK) {
			app_open(a, id);
			return;
		}
	}
	if (argv[1][0] == '@' && !app_is_self(a, argv[1]))
		users[0] = argv[1] + 1;
	rc = chat_create_chat(a->c, users, 1, opened, "create");
	if (rc != CHAT_OK)
		app_notice(a, "create failed: %s", app_error(a->c));
	else
		app_status(a, "opening a chat with %s...", users[0]);
}

static void
run_group(struct app *a, int argc, char **argv)
{
	int others = 0, rc;

	for (int i = 2; i < argc; i++)
		others += !app_is_self(a, argv[i]);
	if (others == 0) {
		app_status(a, "a group needs at least one member besides you");
		return;
	}
	rc = chat_create_group(a->c, argv[1], (const char *const *)argv + 2, (size_t)argc - 2,
			       opened, "group");
	if (rc != CHAT_OK)
		app_notice(a, "group failed: %s", app_error(a->c));
	else
		app_status(a, "creating the group %s...", argv[1]);
}

static void
run_chats(struct app *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (a->n_chats == 0) {
		app_notice(a, "no chats yet: /create USER starts one");
		return;
	}
	app_notice(a, "chats (newest first; /open takes the name or the id):");
	for (size_t i = 0; i < a->n_chats; i++) {
		const struct app_chat *ch = &a->chats[i];
		char unread[32] = "";

		if (ch->unread > 0)
			snprintf(unread, sizeof unread, ", %lld unread", (long long)ch->unread);
		app_notice(a, "  %zu %s (%s, %s)%s%s", i + 1, ch->title,
			   ch->group ? "group" : "direct", ch->id, unread,
			   ch->archived ? ", archived" : "");
	}
}

/* The words of argv from i on, joined by one space: malloc'd, or NULL. */
static char *
join_words(int argc, char **argv, int from)
{
	size_t len = 0;
	char *text;

	for (int i = from; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((text = malloc(len + 1)) == NULL)
		return NULL;
	text[0] = '\0';
	for (int i = from; i < argc; i++) {
		if (i > from)
			strcat(text, " ");
		strcat(text, argv[i]);
	}
	return text;
}

/* /open CHAT: a group's name of several words needs no quotes. */
static void
run_open(struct app *a, int argc, char **argv)
{
	char id[CHAT_CHAT_ID_LEN + 1];
	char *name = join_words(argc, argv, 1);

	if (name != NULL && app_find_chat(a, name, id) == 0)
		app_open(a, id);
	free(name);
}

static void
modify(struct app *a, int op, int argc, char **argv, const char *what)
{
	int rc = chat_modify_members(a->c, a->open, op, (const char *const *)argv + 1,
				     (size_t)argc - 1, app_done_notice, (void *)what);

	if (rc != CHAT_OK)
		app_notice(a, "%s failed: %s", what, app_error(a->c));
}

static void
run_add(struct app *a, int argc, char **argv)
{
	modify(a, CHAT_MEMBERS_ADD, argc, argv, "add");
}

static void
run_remove(struct app *a, int argc, char **argv)
{
	modify(a, CHAT_MEMBERS_REMOVE, argc, argv, "remove");
}

static void
run_leave(struct app *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (chat_leave(a->c, a->open, app_done_notice, "leave") != CHAT_OK)
		app_notice(a, "leave failed: %s", app_error(a->c));
}

static void
run_promote(struct app *a, int argc, char **argv)
{
	int rc = chat_modify_admins(a->c, a->open, CHAT_ADMINS_PROMOTE,
				    (const char *const *)argv + 1, (size_t)argc - 1,
				    app_done_notice, "promote");

	if (rc != CHAT_OK)
		app_notice(a, "promote failed: %s", app_error(a->c));
}

static void
run_demote(struct app *a, int argc, char **argv)
{
	int rc =
		chat_modify_admins(a->c, a->open, CHAT_ADMINS_DEMOTE, (const char *const *)argv + 1,
				   (size_t)argc - 1, app_done_notice, "demote");

	if (rc != CHAT_OK)
		app_notice(a, "demote failed: %s", app_error(a->c));
}

/* /rename NAME..., /describe TEXT... (none: removes the description). */
static void
edit_group(struct app *a, int argc, char **argv, int name)
{
	char *text = join_words(argc, argv, 1);
	int rc;

	if (text == NULL)
		return;
	rc = chat_update_group(a->c, a->open, name ? text : NULL, name ? NULL : text,
			       app_done_notice, name ? "rename" : "describe");
	if (rc != CHAT_OK)
		app_notice(a, "%s failed: %s", name ? "rename" : "describe", app_error(a->c));
	free(text);
}

static void
run_rename(struct app *a, int argc, char **argv)
{
	edit_group(a, argc, argv, 1);
}

static void
run_describe(struct app *a, int argc, char **argv)
{
	edit_group(a, argc, argv, 0);
}

static int
show_about(void *arg, const struct chat_chat *ch)
{
	if (strcmp(ch->kind, "group") == 0 && ch->description != NULL && ch->description[0])
		app_notice(arg, "description: %s", ch->description);
	return 0;
}

static int
show_member(void *arg, const char *user, int admin)
{
	app_notice(arg, "  %s%s", user, admin ? " (admin)" : "");
	return 0;
}

static void
run_members(struct app *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (chat_get_chat(a->c, a->open, show_about, a) < 0)
		app_notice(a, "cannot read the chat: %s", app_error(a->c));
	app_notice(a, "members:");
	if (chat_members(a->c, a->open, show_member, a) < 0)
		app_notice(a, "cannot read the members: %s", app_error(a->c));
}

/* verify: the keys are asked for first, so the number is of the keys now. */
static void
verified(struct chat_client *c, void *arg, int err, const char *id)
{
	struct app *a = chat_client_udata(c);
	char *user = arg, num[CHAT_SAFETY_NUMBER_LEN + 1];

	(void)id;
	if (err != CHAT_OK || (err = chat_safety_number(c, user, num)) != CHAT_OK)
		app_notice(a, "verify %s failed: %s", user, app_why(c, err));
	else
		app_notice(a,
			   "safety number with %s: %s (the same on their screen: no one is "
			   "in the middle)",
			   user, num);
	free(user);
}

static void
run_verify(struct app *a, int argc, char **argv)
{
	char *user = strdup(argv[1]);
	const char *users[1] = {argv[1]};

	(void)argc;
	if (user == NULL)
		return;
	if (chat_refresh_keys(a->c, users, 1, verified, user) != CHAT_OK) {
		app_notice(a, "verify failed: %s", app_error(a->c));
		free(user);
	}
}

static void
run_trust(struct app *a, int argc, char **argv)
{
	int n = chat_trust(a->c, argv[1]);

	(void)argc;
	if (n < 0)
		app_notice(a, "trust failed: %s", app_error(a->c));
	else
		app_notice(a, "%d changed key%s of %s accepted%s", n, n == 1 ? "" : "s", argv[1],
			   n ? "; held messages come on the next connection" : "");
}

static int
show_device(void *arg, const struct chat_device *d)
{
	app_notice(arg, "  %u %s%s%s", (unsigned)d->device_id, d->name,
		   d->this_device ? " (this device)" : "", d->key_changed ? " (KEY CHANGED)" : "");
	return 0;
}

static void
devices_listed(struct chat_client *c, void *arg, int err, const char *id)
{
	struct app *a = chat_client_udata(c);

	(void)arg;
	(void)id;
	if (err != CHAT_OK)
		app_notice(a, "devices: %s (showing what this device knows)", app_error(c));
	app_notice(a, "your devices:");
	chat_devices(c, chat_client_user(c), show_device, a);
}

static void
run_devices(struct app *a, int argc, char **argv)
{
	const char *me[1] = {chat_client_user(a->c)};

	(void)argc;
	(void)argv;
	if (chat_refresh_keys(a->c, me, 1, devices_listed, NULL) != CHAT_OK)
		devices_listed(a->c, NULL, CHAT_ERR_NOT_CONNECTED, NULL);
}

static void
run_approve(struct app *a, int argc, char **argv)
{
	(void)argc;
	if (chat_approve_device(a->c, argv[1], app_done_notice, "approve") != CHAT_OK)
		app_notice(a, "approve failed: %s", app_error(a->c));
}

static void
seen(struct chat_client *c, void *arg, int err, const char *user, int online, int64_t last)
{
	struct app *a = chat_client_udata(c);

	(void)arg;
	if (err != CHAT_OK)
		app_notice(a, "lastseen failed: %s", app_error(c));
	else if (online < 0)
		app_notice(a, "%s: hidden", user);
	else if (online)
		app_notice(a, "%s: online", user);
	else if (last < 0)
		app_notice(a, "%s: never seen", user);
	else {
		char when[64];
		time_t t = (time_t)(last / 1000);
		struct tm tm;

		strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
		app_notice(a, "%s: last seen %s", user, when);
	}
}

static void
run_lastseen(struct app *a, int argc, char **argv)
{
	(void)argc;
	if (chat_last_seen(a->c, argv[1], seen, NULL) != CHAT_OK)
		app_notice(a, "lastseen failed: %s", app_error(a->c));
}

static void
run_block(struct app *a, int argc, char **argv)
{
	int block = strcmp(argv[0], "block") == 0;
	int rc;

	(void)argc;
	rc = block ? chat_block_user(a->c, argv[1], app_done_notice, "block")
		   : chat_unblock_user(a->c, argv[1], app_done_notice, "unblock");
	if (rc != CHAT_OK)
		app_notice(a, "%s failed: %s", argv[0], app_error(a->c));
}

struct blocked_list {
	char text[1024];
	size_t len, n;
};

static int
add_blocked(void *arg, const char *user)
{
	struct blocked_list *l = arg;

	if (l->len < sizeof l->text)
		l->len += (size_t)snprintf(l->text + l->len, sizeof l->text - l->len, "%s%s",
					   l->n ? ", " : "", user);
	l->n++;
	return 0;
}

/* The copy the device keeps (fetched on every connection, pushed on every
 * change), so it answers offline too. */
static void
run_blocked(struct app *a, int argc, char **argv)
{
	struct blocked_list l = {.len = 0};

	(void)argc;
	(void)argv;
	if (chat_blocked_users(a->c, add_blocked, &l) < 0)
		app_notice(a, "blocked failed: %s", app_error(a->c));
	else if (l.n == 0)
		app_notice(a, "you have blocked nobody");
	else
		app_notice(a, "blocked (%zu): %s%s", l.n, l.text,
			   l.len >= sizeof l.text ? "..." : "");
}

static void
run_bell(struct app *a, int argc, char **argv)
{
	(void)argc;
	/* commands_run checked the word. */
	a->bell = strcmp(argv[1], "on") == 0;
	app_notice(a, "bell %s for messages in other chats%s", argv[1],
		   a->bell_mentions ? " (a message that mentions you rings all the same)" : "");
}

static void
transfer_progress(struct chat_client *c, void *arg, int64_t done, int64_t total)
{
	app_status(chat_client_udata(c), "%s: %d%%", (const char *)arg,
		   total > 0 ? (int)(done * 100 / total) : 100);
}

static void
attached(struct chat_client *c, void *arg, int err, const char *id)
{
	struct app *a = chat_client_udata(c);

	(void)arg;
	(void)id;
	if (err != CHAT_OK)
		app_notice(a, "the files were not sent: %s", app_why(c, err));
	else
		app_status(a, "files sent");
	a->dirty_msgs = a->dirty_chats = 1;
}

/* /attach FILE... [-- CAPTION]: the files, ~ and ~/ expanded, and the
 * words after -- as the message's text (its caption). */
static void
run_attach(struct app *a, int argc, char **argv)
{
	char *paths[CHAT_MAX_ATTACHMENTS], *caption = NULL;
	int n = 0, i, rc = CHAT_OK;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (n == CHAT_MAX_ATTACHMENTS) {
			app_notice(a, "attach: at most %d files a message", CHAT_MAX_ATTACHMENTS);
			goto done;
		}
		if ((paths[n] = open_expand(argv[i])) == NULL)
			goto done;
		n++;
	}
	if (n == 0) {
		app_notice(a, "usage: /attach FILE... [-- CAPTION]");
		goto done;
	}
	if (i < argc && (caption = join_words(argc, argv, i + 1)) == NULL)
		goto done;
	rc = chat_send_files(a->c, a->open, caption, (const char *const *)paths, (size_t)n,
			     transfer_progress, attached, "uploading");
	if (rc != CHAT_OK)
		app_notice(a, "attach: %s", app_error(a->c));
	else
		app_status(a, "uploading...");
done:
	while (n > 0)
		free(paths[--n]);
	free(caption);
}

/* /search: the hits of libchat's full-text search of this device's store,
 * newest first, as numbered notices: which chat, who, when, and the words
 * found in their context ([between brackets]); /goto N opens hit N. */
struct search {
	struct app *a;
	int n;
};

static int
show_hit(void *arg, const struct chat_message *m)
{
	struct search *s = arg;
	const char *title = m->chat_id;
	char when[32] = "not sent", *words;
	time_t t = (time_t)(m->sent_at / 1000);
	struct tm tm;

	for (size_t i = 0; i < s->a->n_chats; i++)
		if (strcmp(s->a->chats[i].id, m->chat_id) == 0)
			title = s->a->chats[i].title;
	if (m->sent_at > 0)
		strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
	if (s->n == APP_HITS)
		return 1;
	snprintf(s->a->hits[s->n].chat, sizeof s->a->hits[0].chat, "%s", m->chat_id);
	snprintf(s->a->hits[s->n].id, sizeof s->a->hits[0].id, "%s", m->message_id);
	s->a->n_hits = s->n + 1;
	/* One line a hit: line breaks and tabs as spaces; app_notice makes the
	 * rest safe for the screen. */
	if ((words = strdup(m->snippet ? m->snippet : m->text)) == NULL)
		return 1;
	for (char *p = words; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	app_notice(s->a, "  %d. %s, %s, %s: %s", ++s->n, title, when,
		   m->outgoing ? "you" : m->sender, words);
	free(words);
	return 0;
}

static void
run_search(struct app *a, int argc, char **argv)
{
	struct search s = {a, 0};
	char words[CHAT_SEARCH_MAX + 1] = "";
	size_t used = 0;
	int rc;

	for (int i = 1; i < argc && used < sizeof words; i++)
		used += (size_t)snprintf(words + used, sizeof words - used, "%s%s",
					 i > 1 ? " " : "", argv[i]);
	if (used >= sizeof words) {
		app_notice(a, "search: at most %d bytes of words", CHAT_SEARCH_MAX);
		return;
	}
	app_notice(a, "search for %s (newest first; /goto N shows hit N in its chat):", words);
	a->n_hits = 0;
	rc = chat_search(a->c, words, NULL, APP_HITS, show_hit, &s);
	if (rc < 0)
		app_notice(a, "search failed: %s", app_error(a->c));
	else if (s.n == 0)
		app_notice(a, "  no message here has all these words");
	else if (s.n == APP_HITS)
		app_notice(a, "  (the newest %d; more words find fewer)", APP_HITS);
}

/* /goto N: hit N of the last /search, in its chat, with what came before it. */
static void
run_goto(struct app *a, int argc, char **argv)
{
	char *end;
	long n = strtol(argv[1], &end, 10);

	(void)argc;
	if (a->n_hits == 0) {
		app_notice(a, "no search hits: /search WORDS first");
		return;
	}
	if (*end != '\0' || n < 1 || n > a->n_hits) {
		app_notice(a, "/goto takes a hit's number, 1 to %d", a->n_hits);
		return;
	}
	app_open(a, a->hits[n - 1].chat);
	memcpy(a->jump, a->hits[n - 1].id, sizeof a->jump);
	memcpy(a->marked, a->hits[n - 1].id, sizeof a->marked);
}

/* i15-tuilook: the first message that was unread when the chat opened. */
static void
run_unread(struct app *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	live_to_divider(a);
}

/* The message MSG of /reply, /react, /edit, /delete: N counted from the
 * newest, or #ID (select.c). NULL, said why, if there is none such. */
struct msg_ref {
	char id[CHAT_MESSAGE_ID_LEN + 1];
};

static const struct msg_ref *
nth_message(struct app *a, const char *arg, struct msg_ref *ref)
{
	return app_msg_spec(a, arg, ref->id) == 0 ? ref : NULL;
}

static void
answered(struct chat_client *c, void *arg, int err, const char *id)
{
	struct app *a = chat_client_udata(c);

	(void)id;
	if (err != CHAT_OK && err != CHAT_ERR_CONNECTION_LOST && err != CHAT_ERR_CONNECT &&
	    err != CHAT_ERR_TIMEOUT)
		app_notice(a, "%s failed: %s", (const char *)arg, app_why(c, err));
	a->dirty_msgs = a->dirty_chats = 1;
}

/* /reply N TEXT: TEXT (the rest of the line, words joined by one space)
 * quoting message N. */
static void
run_reply(struct app *a, int argc, char **argv)
{
	struct msg_ref ref;
	const struct msg_ref *m = nth_message(a, argv[1], &ref);
	size_t len = 0;
	char *text;
	int rc;

	if (m == NULL)
		return;
	for (int i = 2; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((text = malloc(len + 1)) == NULL)
		return;
	text[0] = '\0';
	for (int i = 2; i < argc; i++) {
		if (i > 2)
			strcat(text, " ");
		strcat(text, argv[i]);
	}
	rc = chat_send_reply(a->c, a->open, m->id, text, strlen(text), NULL, answered, "reply");
	if (rc != CHAT_OK && rc != CHAT_ERR_CONNECT)
		app_notice(a, "reply: %s", app_error(a->c));
	free(text);
	a->scroll = 0;
	a->dirty_msgs = a->dirty_chats = 1;
}

/* /react N EMOJI, or /react N - to take yours back. */
static void
run_react(struct app *a, int argc, char **argv)
{
	struct msg_ref ref;
	const struct msg_ref *m = nth_message(a, argv[1], &ref);
	const char *emoji = argc > 2 && strcmp(argv[2], "-") != 0 ? argv[2] : "";
	int rc;

	if (m == NULL)
		return;
	rc = chat_react(a->c, a->open, m->id, emoji, NULL, answered, "react");
	if (rc != CHAT_OK && rc != CHAT_ERR_CONNECT)
		app_notice(a, "react: %s", app_error(a->c));
	a->dirty_msgs = 1;
}

/* /edit N TEXT: message N (one of yours) now reads TEXT, on every device. */
static void
run_edit(struct app *a, int argc, char **argv)
{
	struct msg_ref ref;
	const struct msg_ref *m = nth_message(a, argv[1], &ref);
	char *text;
	int rc;

	if (m == NULL || (text = join_words(argc, argv, 2)) == NULL)
		return;
	rc = chat_edit(a->c, a->open, m->id, text, strlen(text), NULL, answered, "edit");
	if (rc != CHAT_OK && rc != CHAT_ERR_CONNECT)
		app_notice(a, "edit: %s", app_error(a->c));
	free(text);
	a->dirty_msgs = a->dirty_chats = 1;
}

/* /delete N: message N from this device only; /delete! N: one of yours, for
 * everyone (within 48 hours). */
static void
run_delete(struct app *a, int argc, char **argv)
{
	struct msg_ref ref;
	const struct msg_ref *m = nth_message(a, argv[1], &ref);
	int everyone = strcmp(argv[0], "delete!") == 0, rc;

	(void)argc;
	if (m == NULL)
		return;
	if (everyone)
		rc = chat_delete_for_everyone(a->c, a->open, m->id, NULL, answered, "delete!");
	else
		rc = chat_delete_for_me(a->c, m->id);
	if (rc != CHAT_OK && rc != CHAT_ERR_CONNECT)
		app_notice(a, "%s: %s", argv[0], app_error(a->c));
	a->dirty_msgs = a->dirty_chats = 1;
}

/* /disappear DURATION|off: this chat's messages from now on vanish that
 * long after they are sent, on every device. */
static void
run_disappear(struct app *a, int argc, char **argv)
{
	long long s;
	int rc;

	(void)argc;
	if (chat_duration_parse(argv[1], &s) != 0 ||
	    (s != 0 && (s < CHAT_DISAPPEAR_MIN_S || s > CHAT_DISAPPEAR_MAX_S))) {
		app_notice(a, "disappear: give off, or 30s to 90d (30s, 5m, 1h, 1d, 1w)");
		return;
	}
	rc = chat_set_disappearing(a->c, a->open, s, NULL, answered, "disappear");
	if (rc != CHAT_OK && rc != CHAT_ERR_CONNECT)
		app_notice(a, "disappear: %s", app_error(a->c));
	a->dirty_msgs = a->dirty_chats = 1;
}

/* /ids [on|off]: each message drawn with its short id, for MSG arguments. */
static void
run_ids(struct app *a, int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0) {
		app_notice(a, "usage: /ids [on|off]");
		return;
	}
	a->show_ids = argc > 1 ? strcmp(argv[1], "on") == 0 : !a->show_ids;
	app_status(a, "message ids %s%s", a->show_ids ? "shown" : "hidden",
		   a->show_ids ? ": /reply #ID... takes them (Alt-i toggles)" : "");
	a->redraw = 1;
}

static void
run_reconnect(struct app *a, int argc, char **argv)
{
	enum chat_state st = chat_client_state(a->c);

	(void)argc;
	(void)argv;
	if (st == CHAT_STATE_ONLINE) {
		app_notice(a, "already online");
	} else if (st == CHAT_STATE_CONNECTING || st == CHAT_STATE_AUTHENTICATING) {
		app_status(a, "connecting already");
	} else if (chat_client_connect(a->c) != CHAT_OK) {
		app_notice(a, "reconnect failed: %s", app_error(a->c));
	} else {
		app_status(a, "connecting to %s...", chat_client_server_url(a->c));
	}
}

static void
run_quit(struct app *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	a->running = 0;
}

/* clang-format off */
static const struct command commands[] = {
	{"help",     "[COMMAND]",       "the commands and keys, or one command's usage", 0, 1, 0, run_help},
	{"create",   "USER",            "open the chat with USER (made if new)",         1, 1, 0, run_create},
	{"group",    "NAME USER...",    "make a group NAME with these users",             2, 100, 0, run_group},
	{"open",     "CHAT",            "go to a chat: a user, a group's name, or an id", 1, -1, 0, run_open},
	{"chats",    "",                "list the chats, with their ids",                 0, 0, 0, run_chats},
	{"search",   "WORDS...",        "find messages with all these words, in every chat", 1, -1, 0, run_search},
	{"goto",     "N",               "show hit N of the last /search in its chat",      1, 1, 0, run_goto},
	/* i15-tuilook */
	{"unread",   "",                "jump to the unread divider (also Alt-u)",         0, 0, 1, run_unread},
	{"add",      "USER...",         "add users to this group (admins)",               1, 99, 1, run_add},
	{"remove",   "USER...",         "remove users from this group (admins)",          1, 99, 1, run_remove},
	{"leave",    "",                "leave this group",                               0, 0, 1, run_leave},
	{"members",  "",                "this chat's description and members",            0, 0, 1, run_members},
	{"promote",  "USER...",         "make members of this group admins (admins)",     1, 99, 1, run_promote},
	{"demote",   "USER...",         "make admins of this group members (admins)",     1, 99, 1, run_demote},
	{"rename",   "NAME",            "rename this group (admins)",                     1, -1, 1, run_rename},
	{"describe", "[TEXT]",          "set this group's description, none to remove (admins)", 0, -1, 1, run_describe},
	{"verify",   "USER",            "the safety number to compare with USER",         1, 1, 0, run_verify},
	{"trust",    "USER",            "accept USER's changed key (after /verify)",       1, 1, 0, run_trust},
	{"devices",  "",                "your devices",                                   0, 0, 0, run_devices},
	{"approve",  "CODE",            "approve a new device showing CODE",              1, 1, 0, run_approve},
	{"lastseen", "USER",            "when USER was last online",                      1, 1, 0, run_lastseen},
	{"block",    "USER",            "block USER on all your devices: nothing of theirs reaches you", 1, 1, 0, run_block},
	{"unblock",  "USER",            "unblock USER",                                   1, 1, 0, run_block},
	{"blocked",  "",                "the users you blocked",                          0, 0, 0, run_blocked},
	{"attach",   "FILE... [-- CAPTION]", "send files (~ is your home) to this chat, CAPTION as their text", 1, -1, 1, run_attach},
	{"download", "[MSG] [N] [--out PATH]", "fetch MSG's files (the newest not fetched), or its file N", 0, 4, 1, download_command},
	{"openfile", "[MSG] [N]",       "open MSG's file N (the newest file) with $OPENER or xdg-open", 0, 2, 1, open_command},
	{"ids",      "[on|off]",        "show each message's short id (#ID) for MSG (also Alt-i)", 0, 1, 0, run_ids},
	{"reply",    "MSG TEXT",        "reply to MSG (N: 1 the newest; or #ID) quoting it", 2, -1, 1, run_reply},
	{"react",    "MSG EMOJI|-",     "react to MSG (1 the newest, or #ID); - takes it back", 2, 2, 1, run_react},
	{"edit",     "MSG TEXT",        "change your message MSG (1 the newest, or #ID) to TEXT, everywhere", 2, -1, 1, run_edit},
	{"delete",   "MSG",             "delete MSG (1 the newest, or #ID) from this device", 1, 1, 1, run_delete},
	{"delete!",  "MSG",             "delete your message MSG for everyone (within 48 hours)", 1, 1, 1, run_delete},
	{"disappear", "DURATION|off",   "messages from now on vanish DURATION (30s..90d) after sending", 1, 1, 1, run_disappear},
	/* issue 15's chat preferences (prefs.c) */
	{"mute",     "[DURATION|forever]", "mute this chat (for ever, or 30s, 8h, 1d, 1w): only mentions notify", 0, 1, 1, app_run_prefs},
	{"unmute",   "",                "unmute this chat",                               0, 0, 1, app_run_prefs},
	{"pin",      "",                "pin this chat to the top of the list",           0, 0, 1, app_run_prefs},
	{"unpin",    "",                "unpin this chat",                                0, 0, 1, app_run_prefs},
	{"archive",  "",                "hide this chat from the list until a new message (unless muted)", 0, 0, 1, app_run_prefs},
	{"unarchive", "",               "bring this chat back into the list",             0, 0, 1, app_run_prefs},
	{"archived", "",                "the list shows the archived chats (again: the others)", 0, 0, 0, app_run_archived},
	{"bell",     "on|off",          "notify (or ring) for messages in other chats",   1, 1, 0, run_bell},
	{"reconnect", "",               "connect now (after another program took over)",  0, 0, 0, run_reconnect},
	{"quit",     "",                "leave chat-tui (also Ctrl-C)",                   0, 0, 0, run_quit},
	{NULL, NULL, NULL, 0, 0, 0, NULL},
};
/* clang-format on */

static const struct command *
find(const char *name)
{
	for (const struct command *c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Splits line into words; "double quotes" hold spaces. Returns argc, or -1
 * for an unterminated quote or too many words. buf is modified. */
static int
split(char *buf, char **argv, int max)
{
	int argc = 0;
	char *p = buf, *out;

	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (argc == max)
			return -1;
		argv[argc++] = out = p;
		while (*p && *p != ' ' && *p != '\t') {
			if (*p == '"') {
				p++;
				while (*p && *p != '"')
					*out++ = *p++;
				if (*p != '"')
					return -1;
				p++;
			} else {
				*out++ = *p++;
			}
		}
		if (*p)
			p++;
		*out = '\0';
	}
	return argc;
}

void
commands_run(struct app *a, const char *line)
{
	char *buf = strdup(line + 1), *argv[MAX_ARGS + 1];
	const struct command *cmd;
	int argc;

	if (buf == NULL)
		return;
	argc = split(buf, argv, MAX_ARGS);
	if (argc == 0) {
		app_notice(a, "an empty command; /help lists them");
	} else if (argc < 0) {
		app_notice(a, "a quote is not closed, or too many words");
	} else if ((cmd = find(argv[0])) == NULL) {
		app_notice(a, "unknown command /%s; /help lists them", argv[0]);
	} else if (argc - 1 < cmd->min_args || (cmd->max_args >= 0 && argc - 1 > cmd->max_args)) {
		usage_of(a, cmd);
	} else if (cmd->needs_chat && a->open[0] == '\0') {
		app_notice(a, "/%s works on the open chat, and none is open", cmd->name);
	} else if (cmd->run == run_bell && strcmp(argv[1], "on") != 0 &&
		   strcmp(argv[1], "off") != 0) {
		usage_of(a, cmd);
	} else {
		cmd->run(a, argc, argv);
	}
	free(buf);
}

/* Tab: completes the command's name, or the word being typed with a user or
 * chat name from the list. */
void
commands_complete(struct app *a)
{
	const char *buf = a->ed.buf, *word = strrchr(buf, ' ');
	const char *found = NULL, *cands[64];
	size_t n = 0, wlen;
	char out[512];

	/* A file name under the cursor (complete.c). */
	if (complete_path(a))
		return;
	if (word == NULL) {
		/* The command's name. */
		wlen = strlen(buf + 1);
		for (const struct command *c = commands; c->name != NULL; c++)
			if (strncmp(c->name, buf + 1, wlen) == 0 && n < 64)
				cands[n++] = c->name;
		if (n == 1) {
			snprintf(out, sizeof out, "/%s ", cands[0]);
			editor_set(&a->ed, out);
			return;
		}
	} else {
		word++;
		wlen = strlen(word);
		for (size_t i = 0; i < a->n_chats; i++)
			if (wlen > 0 && strncmp(a->chats[i].title, word, wlen) == 0 && n < 64)
				cands[n++] = found = a->chats[i].title;
		if (n == 1 && strchr(found, ' ') == NULL) {
			snprintf(out, sizeof out, "%.*s%s ", (int)(word - buf), buf, found);
			editor_set(&a->ed, out);
			return;
		}
	}
	if (n == 0) {
		app_status(a, "no completion");
		return;
	}
	{
		char list[400] = "";
		size_t used = 0;

		for (size_t i = 0; i < n && used < sizeof list - 40; i++)
			used += (size_t)snprintf(list + used, sizeof list - used, "%s ", cands[i]);
		app_status(a, "%s", list);
	}
}
