/*
 * app.h - chat-tui's state and the calls between its parts:
 *
 *   main.c      options, environment, locale; runs the app
 *   app.c       the loop (terminal and libchat), keys, what is shown and why
 *   view.c      drawing it with ncursesw
 *   commands.c  the /commands: one table that runs them, completes and helps
 *   text.c      widths, clusters, wrapping, the safe form of others' text
 *   editor.c    the input line
 *
 * Everything that touches the network or the store goes through libchat,
 * exactly as chatctl does; chat-tui has no protocol code of its own.
 */
#ifndef TUI_APP_H
#define TUI_APP_H

#include <stddef.h>
#include <stdint.h>

#include "chat.h"
#include "editor.h"

#define APP_MIN_COLS  40 /* below this the screen only says it is too small */
#define APP_MIN_ROWS  8
#define APP_STATUS_MS 5000 /* a notice stays this long in the status line */

/* A chat in the list, newest activity first (chat_list_chats). */
struct app_chat {
	char id[CHAT_CHAT_ID_LEN + 1];
	char *title; /* a group's name, else the other member, safe for the screen */
	int group;
	int64_t unread;
	int64_t last;
	int64_t disappearing; /* its timer in seconds, 0 off (the header shows it) */
	int blocked; /* a direct chat with a user this user blocked */
};

/* A message of the open chat, as the view draws it. */
struct app_msg {
	char id[CHAT_MESSAGE_ID_LEN + 1];
	char *sender; /* safe for the screen */
	char *text;   /* safe for the screen (text_sanitize) */
	int64_t sent_at;
	int outgoing;
	int event; /* a membership change */
	char state[12];
	int files, files_fetched; /* attachments, and how many are downloaded */
	char *quote;     /* a reply: "> alice: the start of it" (safe, one line), or NULL */
	char *reactions; /* "👍 2 ❤ 1" (safe), or NULL */
	int unread;      /* incoming and not marked read */
	int mention;     /* its text names this user ("@name"): highlighted */
};

/* What the app says to the user itself (command output, errors, notices):
 * lines below the open chat's messages, until the next chat switch. */
#define APP_NOTICES 200
#define APP_HITS    20 /* /search shows at most this many hits */

enum app_mode {
	MODE_CHAT,       /* the normal screen */
	MODE_ASK_SERVER, /* first start: the server's URL */
	MODE_ASK_USER,   /* first start: the user name */
	MODE_REGISTERING /* first start: waiting for the server */
};

/* The user typing in the open chat (shown in its header), or NULL. */
struct app;
const char *app_typing(const struct app *a);

struct app {
	struct chat_client *c;
	const char *home, *server, *ca_file, *user_arg;
	int bell;          /* ring for messages in other chats (/bell) */
	int bell_mentions; /* ring for a message that names this user, bell off or not */
	int probe;         /* measure the terminal at start (else assume the worst) */
	int running;
	int exit_code;
	enum app_mode mode;
	char ask_server[256];             /* first start: the URL answered */
	char ask_user[CHAT_USER_MAX + 1]; /* and the name, kept if the server fails */

	/* The chat list, and which one is open ("" for none). */
	struct app_chat *chats;
	size_t n_chats;
	char open[CHAT_CHAT_ID_LEN + 1];

	/* The open chat's newest `limit` messages, oldest first. */
	struct app_msg *msgs;
	size_t n_msgs, n_unread; /* n_unread: of them, not marked read */
	int limit;
	int scroll;     /* screen rows scrolled up from the newest; 0 follows */
	int more_below; /* something arrived while scrolled up */
	/* The next drawing of the open chat stops at its first unread message if
	 * following the newest would push it off the top unseen: set when a chat
	 * is opened and when messages arrive while following. */
	int to_unread;
	int pane_shown; /* the last drawing showed the open chat's messages */

	char *notices[APP_NOTICES];
	size_t n_notices;

	/* The hits of the last /search, for /goto N (commands.c). */
	struct app_hit {
		char chat[CHAT_CHAT_ID_LEN + 1];
		char id[CHAT_MESSAGE_ID_LEN + 1];
	} hits[APP_HITS];
	int n_hits;
	/* A message to bring into view (/goto): loaded however far back it is,
	 * drawn a few rows below the top of the pane on the next drawing, and
	 * in bold (marked) until another chat opens. */
	char jump[CHAT_MESSAGE_ID_LEN + 1];
	char marked[CHAT_MESSAGE_ID_LEN + 1];

	struct editor ed;
	/* Someone typing in a chat (libchat's on_typing), shown in its header
	 * until typing_until (ms, monotonic), or until they stop. */
	char typing_chat[CHAT_CHAT_ID_LEN + 1];
	char typing_user[CHAT_USER_MAX + 1];
	int64_t typing_until;
	char status[512];  /* the last thing the app said, for the status line */
	int64_t status_at; /* when (ms, monotonic): it goes after APP_STATUS_MS */

	enum chat_state state;
	/* One home, several programs: the lock chat-tui holds on its home (-1:
	 * not open), whether it holds it, and the chat-tui that held it at start. */
	int lock_fd, lock_held;
	long other_pid;
	int dirty_chats, dirty_msgs, redraw;
	int members_unknown; /* a chat in the list has no members yet */
	int pending_shown;   /* a message of ours on screen is not sent yet */
	/* History sync (issue 15): a sync arriving on this new device, in the
	 * status line as "history: 40%" until it is done. */
	int history_on, history_pct;
};

/* app.c */
/* SIGHUP, SIGTERM and SIGINT end the loop as /quit does (the store closed,
 * the terminal restored if it is still there). Before app_run, and before
 * curses sets up its own handlers. */
void app_catch_signals(void);
int app_run(struct app *a);
/* A line in the message pane (printf-style), and the status line. */
void app_notice(struct app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void app_status(struct app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens the chat with this id (it must be in the list or the store): only
 * ever because the user chose it, since what it shows is marked read. */
void app_open(struct app *a, const char *chat_id);
/* Called by the view once it has laid out the open chat: total rows, of
 * which the pane shows rows, the first unread message starting at row
 * unread_row (-1: none), the message to jump to (a->jump) at jump_row (-1:
 * none). Sets where the view stands (a->scroll): never past the first row,
 * at the message jumped to, else at the first unread message rather than
 * past it. */
void app_settle_scroll(struct app *a, int total, int rows, int unread_row, int jump_row);
/* 1 if name (or @name) is this user's own, or is "@me": their notes to self
 * (a lookup of one must not find another chat). */
int app_is_self(struct app *a, const char *name);
/* Resolves what a user typed for a chat: an id, a prefix, @user, a user, or a
 * group's name. 0 and out set, or -1 (with a notice). */
int app_find_chat(struct app *a, const char *spec, char out[CHAT_CHAT_ID_LEN + 1]);
/* The completion of an asynchronous libchat call started by a command: a
 * notice on failure, what (a verb) on success. */
void app_done_notice(struct chat_client *c, void *arg, int err, const char *id);
/* Why a libchat call failed, in words: its message, else err's name. */
const char *app_why(struct chat_client *c, int err);
/* chat_client_errmsg, with what to do about it in chat-tui (libchat's texts
 * name no program): for a key not accepted, /verify and /trust. */
const char *app_error(struct chat_client *c);

/* view.c */
void view_init(void);
void view_end(void);
void view_draw(struct app *a);
/* Rows the message pane has now (for paging). */
int view_pane_rows(void);

/* commands.c */
/* Runs a line that starts with '/'. */
void commands_run(struct app *a, const char *line);
/* Completes the command name (or argument) the input line holds; Tab. */
void commands_complete(struct app *a);

#endif
