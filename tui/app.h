/*
 * app.h - chat-tui's state and the calls between its parts:
 *
 *   main.c      options, environment, locale; runs the app
 *   live.c      drafts, the unread divider, presence, configured keys, notifications
 *   app.c       the loop (terminal and libchat), keys, what is shown and why
 *   view.c      drawing it with ncursesw
 *   commands.c  the /commands: one table that runs them, completes and helps
 *   text.c      widths, clusters, wrapping, the safe form of others' text
 *   editor.c    the input line
 *   select.c    message ids on screen, MSG arguments, the selection mode
 *   open.c      /openfile and /download: which files, and the desktop's opener
 *   complete.c  Tab in a /command: file names, and @mentions in a message
 *
 * Everything that touches the network or the store goes through libchat,
 * exactly as chatctl does; chat-tui has no protocol code of its own.
 */
#ifndef TUI_APP_H
#define TUI_APP_H

#include <stddef.h>
#include <stdint.h>

#include "chat.h"
#include "config.h"
#include "editor.h"

#define APP_MIN_COLS  40 /* below this the screen only says it is too small */
#define APP_MIN_ROWS  8
#define APP_STATUS_MS 5000 /* a notice stays this long in the status line */
#define APP_LIST_MS   10000 /* the chat list is read again at least this often */

/* A chat in the list, newest activity first (chat_list_chats). */
struct app_chat {
	char id[CHAT_CHAT_ID_LEN + 1];
	char *title; /* a group's name, else the other member, safe for the screen */
	int group;
	int64_t unread;
	int64_t last;
	int64_t disappearing; /* its timer in seconds, 0 off (the header shows it) */
	int blocked; /* a direct chat with a user this user blocked */
	/* A direct chat's other member (raw, for chat_last_seen), else "". */
	char peer[CHAT_USER_MAX + 1];
	/* Issue 15: this device's settings of the chat, and its last message. */
	int64_t muted_until; /* 0 not muted (chat_set_muted) */
	int pinned, archived;
	char *preview; /* "bob: the last message" (safe, one line), or NULL */
	int64_t last_at;
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

/* Who is typing in the open chat, for its header ("bob", "bob and carol",
 * "bob, carol and 2 more") into buf, or NULL if nobody. */
struct app;
const char *app_typing(const struct app *a, char *buf, size_t len);

/* A chat's unsent input, kept while another chat is open (live.c). */
struct app_draft {
	char chat[CHAT_CHAT_ID_LEN + 1];
	char *text;
	size_t cursor;
};

#define APP_TYPERS 8 /* people typing at once, tracked */

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
	/* The list shows the first n_shown of them (Tab and Alt-1..9 move
	 * through those): the chats not archived, or with /archived the
	 * archived ones (show_archived); the others follow, for look-ups. */
	size_t n_shown;
	int show_archived;
	int64_t chats_at; /* when the list was read (ms, monotonic) */
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
	struct app_typer {
		char chat[CHAT_CHAT_ID_LEN + 1];
		char user[CHAT_USER_MAX + 1];
		int64_t until;
	} typers[APP_TYPERS];
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

	/* Files, ids, selection, mouse (open.c, select.c, complete.c). */
	int show_ids; /* each message drawn with its short id (/ids, Alt-i) */
	int mouse;    /* clicks select messages and open chats (--no-mouse: 0) */
	/* The selection mode: the message selected ("" none), keys act on it. */
	char selected[CHAT_MESSAGE_ID_LEN + 1];
	/* Openers started and not reaped yet (open.c). */
	long openers[8];
	int n_openers;
	/* ---- live.c: what makes the chat one to live in ---- */
	struct config cfg;       /* the configuration file's, or the defaults */
	const char *config_path; /* --config FILE, else NULL: the default one */
	enum notify_mode notify; /* cfg.notify resolved at start (notify.h) */
	int focused;             /* the terminal has the focus (focus events; 1 if unknown) */
	int64_t notified_at;     /* the last notification (ms, monotonic): one a second */
	/* Drafts of the chats not open; the open one's is in the editor. */
	struct app_draft *drafts;
	size_t n_drafts;
	/* The unread divider: before the first message that was unread when
	 * the chat was opened, with how many there were; until another opens. */
	char divider[CHAT_MESSAGE_ID_LEN + 1];
	int64_t divider_n;
	int divider_pending; /* opened: set it at the next load */
	/* The open direct chat's peer: online, or last seen (ms), as asked. */
	char seen_user[CHAT_USER_MAX + 1];
	int seen_online;    /* 1, 0, -1 hidden or not known */
	int64_t seen_at;    /* ms since the epoch, or -1 */
	int64_t seen_asked; /* ms, monotonic: asked again each minute */
	/* History sync (issue 15): a sync arriving on this new device, in the
	 * status line as "history: 40%" until it is done. */
	int history_on, history_pct;
};

/* prefs.c: /mute [DURATION|forever], /unmute, /pin, /unpin, /archive,
 * /unarchive on the open chat (argv[0] names which), and /archived. */
void app_run_prefs(struct app *a, int argc, char **argv);
void app_run_archived(struct app *a, int argc, char **argv);

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

/* Moves through the list: delta chats on, or the next one with unread
 * messages; and a page of messages up or down. */
void app_switch_chat(struct app *a, int delta, int unread_only);
void app_page(struct app *a, int up, int rows);
int64_t app_now_ms(void);

/* live.c */
/* Reads the configuration file (saying its errors in the pane, after the
 * screen is up) and resolves what it asks for. Before view_init. */
void live_config(struct app *a);
/* The open chat changes from a->open to chat_id: its draft kept, the new
 * one's restored, the divider and presence reset. */
void live_switch(struct app *a, const char *chat_id);
/* After the open chat's messages are loaded: the divider, if one is due. */
void live_loaded(struct app *a);
/* Jumps to the unread divider (the key and /unread). */
void live_to_divider(struct app *a);
/* 1 if the chat has a draft (the list marks it). */
int live_has_draft(const struct app *a, const char *chat_id);
/* A key (config.h's code): 1 if it is bound to an action, which ran. */
int live_key(struct app *a, int code);
/* A new message: a notification if it is due. */
void live_message(struct app *a, const struct chat_message *m);
/* Each pass of the loop: presence asked again when due, children reaped. */
void live_tick(struct app *a);
/* The header's presence text for the open chat into buf ("" if none). */
const char *live_presence(struct app *a, char *buf, size_t len);
/* Drafts to and from the home (chat-tui.drafts), when cfg.persist_drafts. */
void live_load_drafts(struct app *a);
void live_save_drafts(struct app *a);
void live_free(struct app *a);
/* A focus event from the terminal (CSI I / CSI O). */
void live_focus(struct app *a, int in);

/* view.c */
void view_init(void);
void view_end(void);
void view_draw(struct app *a);
/* The configuration's colours (after view_init): kept, not copied. */
void view_colours(const struct config *cfg);
/* Rows the message pane has now (for paging). */
int view_pane_rows(void);

/* select.c */
#define APP_ID_SHOWN 6 /* hex digits of a message id shown by /ids */
/* Resolves a MSG argument for the open chat: N counts from the newest (1, 2...,
 * membership events not counted), #ID or an id prefix of 4+ hex digits (with a
 * letter in it, or after '#') names a message by its id. 0 and id set, or -1
 * (with a notice). */
int app_msg_spec(struct app *a, const char *spec, char id[CHAT_MESSAGE_ID_LEN + 1]);
/* The short id drawn before a message when a->show_ids ("" otherwise). */
void select_id_prefix(const struct app *a, const struct app_msg *m, char *out, size_t size);
/* The selection mode: enter (on the newest message), and a key while in it;
 * returns 1 if the key was the mode's, 0 to let it through. */
void select_enter(struct app *a);
int select_key(struct app *a, int kind, unsigned ch);
/* A mouse event (KEY_MOUSE): a click on a chat opens it, on a message
 * selects it. Returns 1 for the wheel up, -1 down (the caller scrolls), 0. */
int select_mouse(struct app *a);
/* After a drawing's layout: scroll so the selected message (rows first to
 * last of total) is in the pane of rows. */
void select_settle(struct app *a, int total, int rows, int first, int last);

/* open.c */
/* Reaps openers that ended; says so if one failed. In the loop. */
void open_reap(struct app *a);
/* Opens attachment idx of message id with the desktop's opener, downloading
 * it first if needed. */
void open_file(struct app *a, const char *id, int idx);
/* /openfile [MSG] [N] and /download [MSG] [N] [--out PATH] (commands.c's
 * table runs them). */
void open_command(struct app *a, int argc, char **argv);
void download_command(struct app *a, int argc, char **argv);
/* What a message with files shows: "[file: NAME, SIZE(, downloaded)]" for
 * each, and under them its text (safe, as given), their caption; counts its
 * files and those downloaded. Malloc'd, NULL when out of memory. */
char *open_files_text(const struct chat_message *m, const char *text, int *files, int *fetched);
/* A path with ~ or ~/ at its start expanded: malloc'd (NULL: no memory). */
char *open_expand(const char *path);

/* complete.c */
/* Tab in a /command whose word under the cursor is a file name (/attach,
 * /download --out): 1 if it was one (and completed or listed), else 0. */
int complete_path(struct app *a);
/* Tab on an @word in a message: the open chat's members. 1 if it was. */
int complete_mention(struct app *a);

/* view.c: what is at screen row y, column x after the last drawing: a chat of
 * the list (*chat its index), a message of the pane (*msg its index), or
 * neither (both -1). */
void view_hit(int y, int x, int *chat, int *msg);
/* Asks the terminal for clicks and the wheel (on), after view_init. */
void view_mouse(int on);

/* commands.c */
/* Runs a line that starts with '/'. */
void commands_run(struct app *a, const char *line);
/* Completes the command name (or argument) the input line holds; Tab. */
void commands_complete(struct app *a);

#endif
