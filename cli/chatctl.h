/*
 * chatctl.h - the command line over libchat. Each command is one table entry
 * (cmd-*.c); usage and help come from the entry, so they never drift.
 */
#ifndef CHATCTL_H
#define CHATCTL_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "args.h"
#include "chat.h"

/* Exit codes: part of the interface scripts depend on (chatctl(1)). */
#define EXIT_OK          0
#define EXIT_FAIL        1 /* local failure: home, store, decryption... */
#define EXIT_USAGE       2 /* bad command line or argument */
#define EXIT_UNREACHABLE 3 /* the server cannot be reached, or the connection dropped */
#define EXIT_REFUSED     4 /* the server refused the request */
#define EXIT_KEY_CHANGED 5 /* a contact's key changed (or is invalid) */

/* The completion of an asynchronous libchat call, for cli_wait(). It lives in
 * struct cli, not on a command's stack: a call still pending when a command
 * gives up (Ctrl-C) completes later, while main() closes the handle. */
struct cli_done {
	volatile int flag;
	int err;
	char id[4096]; /* a download's path too */
};

struct cli {
	const char *home;
	const char *server;
	const char *ca_file; /* --ca-file; NULL: libchat reads $CHAT_CA_FILE */
	int json;
	int timeout_ms;
	struct chat_client *c; /* opened on demand by cli_open(); its udata is this */
	int receives;          /* this command takes delivery (recv, listen) */
	int reconnect;         /* and keeps reconnecting (listen) */
	void *cmd_state;       /* the running command's own state, for callbacks;
	                                NULL once the command has returned */
	struct cli_done done;
	int last_pct; /* the progress bar's last figure */
};

/* A command: its name, what it takes, and what runs it. The options and the
 * number of arguments are declared here (.args), as tmux's cmd_entry does,
 * and parsed by cli_run() before exec is called; usage and help come from the
 * entry too, so they never drift (tests/unit/test_cli_commands.c checks that
 * .usage names every option .args declares, and no other). */
struct cmd_entry {
	const char *name;
	const char *usage;   /* arguments, after the name; a command with
	                        subcommands composes its own from theirs */
	const char *summary; /* one line */
	struct args_spec args;
	/* A command made of subcommands (device list|link|...): the first
	 * argument names one, and the rest is parsed with that one's .args.
	 * NULL-terminated; NULL for a plain command. */
	const struct cmd_entry *const *subcommands;
	const struct cmd_entry *parent; /* of a subcommand */
	/* args: the positional arguments and the options given. */
	int (*exec)(struct cli *cli, struct args *args);
};

extern const struct cmd_entry cmd_members_entry, cmd_add_entry, cmd_remove_entry, cmd_leave_entry,
	cmd_device_entry, cmd_verify_entry, cmd_listen_entry, cmd_rpc_entry, cmd_daemon_entry,
	cmd_lastseen_entry, cmd_privacy_entry, cmd_typing_entry, cmd_read_entry, cmd_download_entry,
	cmd_outbox_entry, cmd_retry_entry, cmd_discard_entry, cmd_reply_entry, cmd_react_entry,
	cmd_promote_entry, cmd_demote_entry, cmd_rename_entry, cmd_describe_entry, cmd_edit_entry,
	cmd_delete_entry, cmd_delete_chat_entry, cmd_disappear_entry, cmd_block_entry,
	cmd_unblock_entry, cmd_blocked_entry;
/* cmd-prefs.c (issue 15's chat preferences) */
extern const struct cmd_entry cmd_mute_entry, cmd_unmute_entry, cmd_pin_entry, cmd_unpin_entry,
	cmd_archive_entry, cmd_unarchive_entry;
extern const struct cmd_entry cmd_register_entry, cmd_create_entry, cmd_send_entry, cmd_recv_entry,
	cmd_chats_entry, cmd_history_entry, cmd_search_entry, cmd_trust_entry, cmd_whoami_entry,
	cmd_help_entry;
extern const struct cmd_entry *const cmd_table[];
/* chatctl's own options, before the command (main.c). */
extern const struct args_spec cli_global_args;

/* chatctl.c */
/* Parses argv (the words after the command's name) with e->args and runs e,
 * or reports what is wrong with e's usage (exit 2). */
int cli_run(struct cli *cli, const struct cmd_entry *e, int argc, char **argv);
const struct cmd_entry *cli_find_cmd(const struct cmd_entry *const *table, const char *name);
/* "send", or "device link" for a subcommand, into buf. */
const char *cli_cmd_name(const struct cmd_entry *e, char *buf, size_t size);
/* e's usage after its name: .usage, or its subcommands' joined by " | ". */
const char *cli_cmd_usage(const struct cmd_entry *e, char *buf, size_t size);
void cli_usage_all(FILE *f);
void cli_usage_one(const struct cmd_entry *e); /* on stdout: CMD --help, help CMD */
/* With --json, a failed run's error object on stdout (unless the command
 * printed its own); returns rc. */
int cli_finish(struct cli *cli, const struct cmd_entry *e, int rc);
int cli_open(struct cli *cli); /* opens the home; exit code */
int cli_usage(const struct cmd_entry *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))); /* prints, returns EXIT_USAGE */
/* Prints "chatctl: MESSAGE" on stderr as an error: the first one of a run is
 * also the message of the error object that --json prints at the end. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* That error object, {"error":{"code":code,"message":...}}, for a command
 * that prints it itself (within a result of its own); main then does not. */
cJSON *cli_error_json(int code);
/* Reports a libchat failure on stderr and returns the exit code for it. */
int cli_fail(struct cli *cli, int err, const char *what);
/* libchat's detail of the last failure (or chat_strerror(err)), with what to
 * do about it in chatctl's words (libchat names no program), in buf. */
const char *cli_detail(struct cli *cli, int err, char *buf, size_t cap);
int cli_exit_code(int err);
/* Runs the loop until *flag, or fails with the exit code of what stopped it. */
int cli_wait(struct cli *cli, const volatile int *flag);
/* SIGINT and SIGTERM set a flag that the loops check, instead of killing a
 * run between storing a message and acking it. */
void cli_catch_signals(void);
int cli_interrupted(void); /* SIGINT/SIGTERM seen */
/* Finishes an asynchronous libchat call started with cli->done: rc is what the
 * call returned. Waits for it; returns EXIT_OK, or reports the failure as `what`
 * and returns its exit code. */
int cli_await(struct cli *cli, int rc, const char *what);
/* The on_device_change callback every command uses: see out_device_change. */
void cli_notice_device_change(struct chat_client *c, void *udata, const char *user, uint32_t device,
			      int added);
/* chat_client_set_callbacks on cli's handle: an exit code. */
int cli_set_callbacks(struct cli *cli, const struct chat_callbacks *cbs);
/* The on_send_failed callback every command uses: see out_send_failed. */
void cli_notice_send_failed(struct chat_client *c, void *udata, const char *chat_id,
			    const char *message_id, int err, const char *detail);
/* Resets cli->done and returns it, for one asynchronous call. */
struct cli_done *cli_done_reset(struct cli *cli);
void cli_done_cb(struct chat_client *c, void *arg, int err, const char *id);
int cli_parse_int(const char *s, long min, long max, long *out);
/* "did you mean": the candidate closest to word (Damerau-Levenshtein), or
 * NULL when none is close enough for a likely typo: at most 1 edit for a
 * word of up to 4 letters, 2 up to 8, 3 beyond (suggest.c). */
const char *cli_suggest(const char *word, const char *const *candidates, size_t n);
/* An unknown command (of parent, a command with subcommands, or NULL):
 * "did you mean" when one is close, else the usage. Returns EXIT_USAGE. */
int cli_unknown_command(const struct cmd_entry *const *table, const struct cmd_entry *parent,
			const char *name);
/* Connects and runs the loop until online with nothing left to do (requests
 * answered, acks and receipts out), or fails with the exit code. */
int cli_settle(struct cli *cli, const char *what);
/* Resolves a chat argument (id, prefix, @user) to a full id, or returns an exit code. */
int cli_chat_arg(struct cli *cli, const char *spec, char out[CHAT_CHAT_ID_LEN + 1]);
/* A send (or retry) of message id failed with exit code rc, reported already:
 * if the message is kept, says what becomes of it (pending: it goes out
 * later; failed: retry or discard it), and with --json prints the error
 * object with its chatId, messageId and state. Returns rc. */
int cli_kept(struct cli *cli, const char *id, int rc);
/* Resolves a message argument (id, or a prefix of at least 4 hex digits). */
int cli_message_arg(struct cli *cli, const char *spec, char out[CHAT_MESSAGE_ID_LEN + 1]);

/* cmd-prefs.c */
/* mute (duration: NULL or "forever" for good, else as chat_duration_parse
 * reads it), unmute, pin, unpin, archive or unarchive (what) on chat, a full
 * id: CHAT_OK, a CHAT_ERR_ code, or 1 with err saying what is wrong with
 * duration. chatctl's commands and rpc's methods of those names. */
int cli_prefs_apply(struct cli *cli, const char *what, const char *chat, const char *duration,
		    char *err, size_t cap);
/* The chat as chats --json lists it (NULL if it is gone): what they print. */
cJSON *cli_prefs_json(struct cli *cli, const char *chat);
/* Which chats chats lists: not archived (the default), archived only
 * (--archived), all (--all); 1 if ch is one of them. */
#define CLI_CHATS_USUAL	   0
#define CLI_CHATS_ARCHIVED 1
#define CLI_CHATS_ALL	   2
int cli_chat_shown(const struct chat_chat *ch, int which);
/* rpc's chats: the array of chat objects, params "archived" or "all" 1. */
cJSON *cli_chats_json(struct cli *cli, const cJSON *params);
/* Adds "muted": true to a message event o of a chat muted now. */
void cli_add_muted(struct chat_client *c, cJSON *o, const char *chat_id);

/* output.c */
/* Hex digits of a message id in text output: a prefix that commands taking a
 * message id accept (the full id is in the JSON). */
#define OUT_SHORT_ID 8
void out_json(cJSON *doc); /* prints one line, frees doc */
cJSON *out_message_json(const struct chat_message *m);
void out_message_text(FILE *f, const struct chat_message *m);
/* A reaction that arrived: {"type": "reaction", ...} (chatctl(1), recv), or
 * "<at> <chat> <id> alice reacted 👍 to <message id>". */
cJSON *out_reaction_json(const struct chat_reaction_event *r);
void out_reaction_text(FILE *f, const struct chat_reaction_event *r);
/* An edit or delete that arrived: {"type": "edit" | "delete", ...}
 * (chatctl(1), recv), or "<at> <chat> <id> alice edited <message id>: text". */
cJSON *out_change_json(const struct chat_change_event *e);
void out_change_text(FILE *f, const struct chat_change_event *e);
cJSON *out_update_json(const struct chat_update *u);
/* Disappearing messages: "alice set disappearing messages to 1 hour" (or
 * "... turned off ...") into buf; a timer change as listen prints it; a
 * message that vanished ({"type":"expired"} or "CHAT ID disappeared"). */
const char *out_timer_words(const char *user, long long seconds, char *buf, size_t cap);
cJSON *out_timer_json(const struct chat_timer_event *e);
void out_timer_text(FILE *f, const struct chat_timer_event *e);
void out_expired(int json, const char *chat_id, const char *message_id);
/* History sync progress (issue 15): {"type": "historySync", ...} or a line. */
cJSON *out_history_json(const struct chat_history_sync *h);
void out_history(int json, const struct chat_history_sync *h);
cJSON *out_chat_json(const struct chat_chat *ch);
/* "muted": bool and "mutedUntil": null, "forever" or an RFC 3339 time. */
void out_muted_json(cJSON *o, int64_t until);
cJSON *out_receipt_json(const struct chat_receipt *r);
/* "<at> <chat> ~ bob read <message id> [state]" */
void out_receipt_text(FILE *f, const struct chat_receipt *r);
/* What a send prints with --json once the server has the message
 * ({chatId, messageId, seq, sentAt}); a chat_history_cb (arg unused). */
int out_sent(void *arg, const struct chat_message *m);
/* Someone typing (or stopped): {"type": "typing", chatId, user, deviceId,
 * typing}, or a line "TIME CHAT ~ USER is typing (device N)". */
cJSON *out_typing_json(const struct chat_typing *t);
void out_typing_text(FILE *f, const struct chat_typing *t);
/* What a message that did not decrypt shows in its text's place. */
#define OUT_UNDECRYPTABLE "[this message could not be decrypted]"
/* What history shows for a message deleted for everyone, and after an
 * edited one's text. */
#define OUT_DELETED "message deleted"
#define OUT_EDITED  "(edited)"
/* After a text that names this user as "@name" (struct chat_message
 * mentions_me). */
#define OUT_MENTION "[mention]"
/* An envelope that did not decrypt (chat_undecryptable_cb), for --json:
 * {"type": "message" or "receipt", ..., "undecryptable": true, "reason"}. */
cJSON *out_undecryptable_json(const struct chat_undecryptable *u);
/* A device change notice: a JSON line on stdout with --json, a line on stderr always. */
void out_device_change(int json, const char *user, uint32_t device, int added);
/* An outbox message that failed for good: a JSON line on stdout with --json, a
 * WARNING on stderr always. */
cJSON *out_send_failed_json(const char *chat_id, const char *message_id, int err,
			    const char *detail);
void out_send_failed(int json, const char *chat_id, const char *message_id, int err,
		     const char *detail);
/* Writes s for a terminal, with what could drive or reorder it (controls, C1,
 * bidi overrides and isolates, bytes that are not UTF-8) shown as escapes
 * (client-lib/termtext.h): every string that others wrote (texts, names, the
 * server's messages) goes out through this or out_esc. flags:
 * TERMTEXT_MULTILINE for a message's text (keeps '\n' and '\t'), else 0. */
void out_safe(FILE *f, const char *s, size_t len, int flags);
/* s made safe as by out_safe (one line), for a printf argument: in a static
 * buffer that the fourth call after this one reuses; cut at 4 KiB. */
const char *out_esc(const char *s);

/* The --json objects of commands that rpc answers with too, built once for
 * both (chatctl(1) shows them). members: {chatId, disappearingSeconds,
 * [name, description,] participants: [{user, admin}]}; device list: {user,
 * devices: [{deviceId, name, thisDevice}]}: NULL with *err on a failure. */
cJSON *out_members_json(struct chat_client *c, const char *chat, int *err);
cJSON *out_devices_json(struct chat_client *c, const char *user, int *err);
/* lastseen: {user, online (null: hidden), lastSeen (null: hidden or never)}. */
cJSON *out_lastseen_json(const char *user, int online, int64_t at);
/* privacy: {hideLastSeen, hideTyping}, each only if set (>= 0). */
cJSON *out_privacy_json(int hide_last_seen, int hide_typing);
cJSON *out_safety_json(const char *user, const char *number); /* verify */
cJSON *out_approved_json(const char *user, long device_id);   /* device approve */
cJSON *out_removed_json(long device_id);                      /* device remove */
cJSON *out_download_json(size_t index, const char *path);     /* download, each file */
/* create: the chat's object as chats prints it (NULL if not stored); leave:
 * {chatId, left: true}. add, remove, promote, demote, rename and describe
 * answer with members' object. */
cJSON *out_chat_by_id_json(struct chat_client *c, const char *chat_id);
cJSON *out_left_json(const char *chat_id);
/* A message as history --json shows it: out_message_json, and an edited
 * one's "edits" (oldest first). */
cJSON *out_history_message_json(struct chat_client *c, const struct chat_message *m);
/* whoami and register: {user, deviceId, server, home}; trust: {user, accepted}. */
cJSON *out_identity_json(struct chat_client *c);
/* device link's code, and when the request lapses (the linkCode notification). */
cJSON *out_link_code_json(struct chat_client *c, const char *code);
cJSON *out_trust_json(const char *user, int accepted);

#endif
