/*
 * config.h - chat-tui's configuration file: "key = value" lines, '#'
 * comments, read once at start ($XDG_CONFIG_HOME/chat-tui/config, or
 * --config FILE). Pure (no curses): tests/unit/test_tui_config.c. A line it
 * does not understand is reported (FILE:LINE: why) and skipped; the rest of
 * the file still applies, and chat-tui starts all the same. chat-tui(1),
 * CONFIGURATION, lists every key.
 */
#ifndef TUI_CONFIG_H
#define TUI_CONFIG_H

#include <stddef.h>

#define CONFIG_LINE_MAX  1024 /* longer lines are an error, not read on */
#define CONFIG_LINES_MAX 2000 /* a file is read this far, no further */
#define CONFIG_PALETTE   16   /* sender colours at most */
#define CONFIG_KEYS      4    /* keys bound to one action at most */

/* Attributes of a colour (bits), as curses' A_* are picked in view.c. */
#define LOOK_BOLD      0x1
#define LOOK_DIM       0x2
#define LOOK_UNDERLINE 0x4
#define LOOK_REVERSE   0x8
#define LOOK_ITALIC    0x10

/* A colour: a foreground (-1 the terminal's own, 0..255: black red green
 * yellow blue magenta cyan white are 0..7, bright ones 8..15) and attributes. */
struct look {
	short fg;
	short attrs;
};

/* The roles that have a colour. */
enum look_role {
	LOOK_SELF,     /* your own messages */
	LOOK_MENTION,  /* a message that names you */
	LOOK_EVENT,    /* membership changes and timers */
	LOOK_NOTICE,   /* what chat-tui says */
	LOOK_TIME,     /* the time before each message */
	LOOK_DATE,     /* the date separators */
	LOOK_DIVIDER,  /* the unread divider */
	LOOK_HEADER,   /* the open chat's header (its name) */
	LOOK_PRESENCE, /* online / last seen / typing in the header */
	LOOK_SENDING,  /* states of your messages */
	LOOK_SENT,
	LOOK_DELIVERED,
	LOOK_READ,
	LOOK_FAILED,
	LOOK_ROLES
};

/* The actions keys are bound to (besides the editing keys). */
enum key_action {
	KEY_NEXT_CHAT,
	KEY_PREV_CHAT,
	KEY_NEXT_UNREAD,
	KEY_FIRST_UNREAD, /* jump to the unread divider */
	KEY_PAGE_UP,
	KEY_PAGE_DOWN,
	KEY_QUIT,
	KEY_ACTIONS
};

/* A key: a character or control character (its code), Alt+character
 * (CONFIG_KEY_ALT | code), or a named key (CONFIG_KEY_NAMED | enum
 * config_named). 0: none. */
#define CONFIG_KEY_ALT   0x1000000
#define CONFIG_KEY_NAMED 0x2000000
enum config_named {
	NAMED_BTAB = 1,
	NAMED_PGUP,
	NAMED_PGDN,
	NAMED_UP,
	NAMED_DOWN,
	NAMED_HOME,
	NAMED_END,
	NAMED_F1 /* ... F12: NAMED_F1 + 11 */
};

enum notify_mode {
	NOTIFY_AUTO,    /* desktop if it can, else the terminal's, else the bell */
	NOTIFY_DESKTOP, /* notify-send (the bell where there is none) */
	NOTIFY_OSC777,  /* ESC ] 777;notify;TITLE;BODY ESC \ */
	NOTIFY_OSC9,    /* ESC ] 9;TEXT ESC \ */
	NOTIFY_BELL,
	NOTIFY_OFF
};

struct config {
	struct look role[LOOK_ROLES];
	struct look palette[CONFIG_PALETTE];
	int n_palette;
	int keys[KEY_ACTIONS][CONFIG_KEYS];
	enum notify_mode notify;
	int notify_bell;    /* also ring the bell with a notification */
	int notify_body;    /* show the message's text (else only who and where) */
	int color;          /* 0: no colours at all (attributes still) */
	int persist_drafts; /* keep drafts across restarts (in the home) */
	int mouse;          /* ask for mouse reports (clicks, the wheel) */
};

/* The defaults: what chat-tui does with no file. */
void config_defaults(struct config *c);

/* Reads one line (without its '\n') into c; line numbers are for messages.
 * 0, or -1 with why (a sentence) in err. */
int config_line(struct config *c, const char *line, char *err, size_t errlen);

/* Reads a file: each line as config_line(); each error goes to warn(arg,
 * "FILE:LINE: why"). Returns the number of errors, or -1 if the file cannot
 * be read (warned too, unless it does not exist and missing_ok). */
int config_load(struct config *c, const char *path, int missing_ok,
		void (*warn)(void *arg, const char *msg), void *arg);

/* The file read when --config is not given: $XDG_CONFIG_HOME/chat-tui/config,
 * else $HOME/.config/chat-tui/config; "" if neither is set. */
void config_default_path(char *out, size_t len);

/* Parsers, for the tests: a colour ("bold yellow", "red", "default",
 * "color123", "none"), a key ("C-n", "M-u", "Tab", "S-Tab", "PgUp", "F5").
 * 0 or -1. */
int config_parse_look(const char *s, struct look *out);
int config_parse_key(const char *s, int *out);

#endif
