/*
 * chat.h - libchat, the client SDK of the end-to-end encrypted chat system.
 *
 * (Longer than the project's ~800-line rule on purpose: this header is the
 * SDK's manual, every call with its parameters, return codes and callbacks in
 * one place, as mosquitto.h and sqlite3.h are; splitting it would split the
 * manual.)
 *
 * libchat owns a device's identity (its keys, in the "device home" directory),
 * encrypts every message end to end for every recipient device, keeps the
 * WebSocket session to chat-server, acknowledges what it receives only after it
 * is stored, and keeps a local SQLite store (chats, messages, pinned keys) that
 * works with no server at all.
 *
 * Model: one opaque handle per device home (struct chat_client), events through
 * callbacks, and two ways to run it: the library's own loop (chat_client_loop),
 * or the application's poll loop (chat_client_fd + chat_client_loop(c, 0)).
 *
 * This header is the contract; libchat(3) says the same at more length, and
 * docs/PROTOCOL.md is the wire protocol. Each call below says what it returns:
 * "Returns" lists every error code it can give back at once, "done gets" what
 * can reach its callback.
 *
 * ---- Errors
 *
 * Calls return CHAT_OK (0) or a negative enum chat_err value (some return a
 * count or a flag instead, as they say). chat_strerror() names a code;
 * chat_client_errmsg() gives the detail of the last failure on a handle, in
 * words for people that name no program (front ends add their own hints:
 * chat_client_error_user() and chat_client_server_code() tell them what the
 * failure was about). Later versions may add codes: treat an unknown one as
 * a failure, and show chat_strerror() of it.
 *
 * ---- Asynchronous calls
 *
 * These talk to the server and report their result later, to a callback:
 *
 *   chat_register       chat_link_device    chat_approve_device
 *   chat_remove_device  chat_refresh_keys   chat_create_chat
 *   chat_create_group   chat_modify_members chat_leave
 *   chat_refresh_chat   chat_send_text      chat_send_files
 *   chat_send_reply     chat_react          chat_retry
 *   chat_edit           chat_delete_for_everyone
 *   chat_download       chat_set_privacy    chat_block_user
 *   chat_unblock_user   chat_refresh_blocked
 *   chat_last_seen (its callback is a chat_last_seen_cb)
 *
 * Each returns CHAT_OK once the request is queued (connecting first if there
 * is no connection), or an error, and then:
 *   - after CHAT_OK, its done (or cb) runs exactly once, with CHAT_OK or the
 *     failure; never before the call has returned;
 *   - after an error, it never runs.
 * done may be NULL (nobody is told). The calls copy their arguments (names,
 * user lists, texts, codes, paths) before they return; only arg must live
 * until done has run. "Done" for a send means the server has committed the
 * message for every recipient device; delivery to each device is later.
 *
 * Beyond its own codes, listed with it, every asynchronous call
 *   Returns at once: CHAT_ERR_NOMEM; CHAT_ERR_TOO_LARGE (the request is over
 *     the server's frame limit); and, when it has to connect, what
 *     chat_client_connect returns (CHAT_ERR_INVALID for a missing or malformed
 *     server URL or an unreadable CA file, CHAT_ERR_CONNECT, CHAT_ERR_NOMEM);
 *   done gets: CHAT_ERR_CONNECT, CHAT_ERR_CONNECTION_LOST, CHAT_ERR_TIMEOUT,
 *     CHAT_ERR_TLS, CHAT_ERR_PROTOCOL, CHAT_ERR_REFUSED (with
 *     chat_client_server_code()), CHAT_ERR_NOMEM.
 * These are "the session errors" below.
 *
 * ---- Walks
 *
 * chat_list_chats, chat_history, chat_search, chat_outbox, chat_members and
 * chat_devices call each() for one item after another from the local store.
 * One rule for all: each() returns 0 to go on; any other value stops the
 * walk, and the call returns that value as it is (so a program may pass its
 * own code out of a walk; a value that looks like a chat_err is the
 * program's, not libchat's). A walk that ran to its end returns 0, one that
 * failed a chat_err. What each() gets is valid during the call only.
 *
 * ---- Threads and reentrancy
 *
 * A handle must be used from one thread at a time; different handles are
 * independent and may be used from different threads at once. Every callback
 * runs on the thread that made the call it runs in, and only inside calls on
 * its handle:
 *   - events (on_message, on_receipt, on_update...) and most completions:
 *     inside chat_client_loop, and the calls that run it (chat_client_run_until,
 *     chat_client_disconnect);
 *   - on_state: also inside any call that connects (CONNECTING, or OFFLINE
 *     when connecting fails at once) and chat_client_destroy;
 *   - a done with CHAT_ERR_CONNECTION_LOST: inside chat_client_destroy, for
 *     every call still pending;
 *   - the done of an earlier send (its failure): also inside a later
 *     chat_send_text or chat_retry, when the earlier one, waiting for its
 *     turn, fails as it goes;
 *   - each() of a walk: inside that walk only.
 * libchat starts threads of its own for file transfers; no callback ever runs
 * on them.
 *
 * Inside any callback (each() of a walk included), a program may call every
 * accessor (chat_client_errmsg, chat_client_state...), the local-store calls
 * (walks too, nested: chat_history inside chat_list_chats is fine),
 * chat_mark_read, chat_trust, chat_discard and chat_client_set_callbacks. It
 * may start asynchronous calls too, except inside on_state and inside a done
 * (or cb) that got an error: there the connection may be going away, and what
 * they queue would fail with it (a program that retried there would loop).
 * It must not call, on the same handle:
 *   - chat_client_destroy: the handle is in use below the callback; destroy it
 *     once the call that ran the callback has returned;
 *   - chat_client_loop, chat_client_run_until, chat_client_disconnect: they
 *     run the network loop, which is running already (libwebsockets does not
 *     nest);
 *   - chat_client_connect: the connection may be changing below the callback;
 *     set a flag, and connect once the loop has returned.
 * Inside a callback run by chat_client_destroy, call nothing on the handle.
 *
 * ---- Growing structs, and the ABI
 *
 * struct chat_opts and struct chat_callbacks begin with their size, as the
 * program was compiled: initialise them with CHAT_OPTS_INIT(...) and
 * CHAT_CALLBACKS_INIT(...), which set it. Members are only ever added at the
 * end; the library reads the ones the program's size covers, takes 0 for the
 * rest, and refuses (CHAT_ERR_INVALID) a size of 0, one too small, and one
 * larger than its own unless the members it does not know are all 0. The
 * structs the library hands to callbacks (chat_message...) also only grow at
 * the end: read their members, never rely on their sizeof.
 *
 * The soname, libchat.so.N, changes when a program built against the previous
 * header could misbehave with the new library: a call removed, or changed in
 * its signature or meaning; a member of a public struct moved, retyped or
 * removed; a constant or enum value changed. Within one N these are
 * compatible: new calls, new error codes, new enum values at the end, new
 * members at the end of the structs above; a program built against an older
 * header keeps working with a newer library of the same N. libchat.so.1 is
 * the first with sized structs (libchat.so.0 copied them by sizeof).
 */
#ifndef CHAT_H
#define CHAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CHAT_API __attribute__((visibility("default")))
#else
#define CHAT_API
#endif

#define CHAT_PROTOCOL_VERSION  1
#define CHAT_CHAT_ID_LEN       16    /* hex digits in a chat id */
#define CHAT_MESSAGE_ID_LEN    32    /* hex digits in a message id */
#define CHAT_USER_MAX          32    /* bytes in a user name */
/* chat_resolve_chat's name for the user's notes to self (the direct chat
 * whose only member is the user), as is "@" and their own name. */
#define CHAT_SELF_SPEC "@me"
#define CHAT_MAX_TEXT          65536 /* bytes of text in one message */
#define CHAT_REPLY_PREVIEW_MAX 100   /* bytes of the quoted text a reply carries */
#define CHAT_EMOJI_MAX         32    /* bytes of a reaction's emoji */

enum chat_err {
	CHAT_OK = 0,
	CHAT_ERR_INVALID = -1, /* a bad argument (user name, chat id, empty text...) */
	CHAT_ERR_NOMEM = -2,
	CHAT_ERR_HOME = -3,             /* the device home cannot be created, read or written */
	CHAT_ERR_STORE = -4,            /* the local database failed */
	CHAT_ERR_NOT_REGISTERED = -5,   /* this home has no registered device yet */
	CHAT_ERR_REGISTERED = -6,       /* this home is registered already */
	CHAT_ERR_CONNECT = -7,          /* the server cannot be reached */
	CHAT_ERR_CONNECTION_LOST = -8,  /* the connection dropped before the answer came */
	CHAT_ERR_TIMEOUT = -9,          /* no answer in time */
	CHAT_ERR_PROTOCOL = -10,        /* the server broke the protocol */
	CHAT_ERR_REFUSED = -11,         /* the server refused; see chat_client_server_code() */
	CHAT_ERR_KEY_CHANGED = -12,     /* a contact's key changed; see chat_trust() */
	CHAT_ERR_BAD_KEY = -13,         /* a key whose signature does not verify */
	CHAT_ERR_DECRYPT = -14,         /* a message that does not decrypt or authenticate */
	CHAT_ERR_TOO_LARGE = -15,       /* text or frame over the protocol's limit */
	CHAT_ERR_NO_SUCH_CHAT = -16,    /* the chat is not known here or on the server */
	CHAT_ERR_NOT_CONNECTED = -17,   /* the call needs a connection and there is none */
	CHAT_ERR_UNSUPPORTED = -18,     /* a URL scheme this build cannot speak; a peer device or a
					   server of end-to-end encryption stage 1 */
	CHAT_ERR_TLS = -19,             /* wss://: the server's certificate was refused */
	CHAT_ERR_NO_SUCH_MESSAGE = -20, /* no message of the local store has that id (prefix) */
	CHAT_ERR_EXPIRED = -21,         /* a message not sent within the server's retention */
	CHAT_ERR_BLOCKED = -22          /* a send to a direct chat with a user this user blocked */
};

/* A static English description of err. Never NULL. */
CHAT_API const char *chat_strerror(int err);

/* The library's version string, e.g. "0.1.0". */
CHAT_API const char *chat_version(void);

enum chat_state {
	CHAT_STATE_OFFLINE = 0,    /* not connected */
	CHAT_STATE_CONNECTING,     /* TCP/WebSocket handshake under way */
	CHAT_STATE_AUTHENTICATING, /* connected, proving the device's identity */
	CHAT_STATE_ONLINE,         /* authenticated: requests flow, messages arrive */
	CHAT_STATE_WAITING         /* the connection dropped; the next attempt is due in
	                              chat_client_retry_in() ms (chat_opts.reconnect) */
};

/* How a handle works; see chat_client_new. Initialise it with CHAT_OPTS_INIT,
 * which sets size (see "Growing structs" above); every member left out is 0,
 * its default:
 *
 *	struct chat_opts o = CHAT_OPTS_INIT(.home = dir, .reconnect = 1);
 */
struct chat_opts {
	/* sizeof(struct chat_opts) where the program was compiled. */
	size_t size;
	/* The device home. NULL: $CHATCTL_HOME, else $XDG_DATA_HOME/chatctl, else
	 * $HOME/.local/share/chatctl. Created (mode 0700) when missing. */
	const char *home;
	/* ws://HOST:PORT/ of the server, or wss://HOST[:PORT]/ for TLS (port 443 by
	 * default); an IPv6 HOST in brackets, ws://[::1]:8700/. NULL: the one
	 * remembered at registration. */
	const char *server_url;
	/* How long connecting and each request may take; 0 means 10000 ms. */
	int timeout_ms;
	/* 1: this handle does not take delivery: messages and chat updates pushed to
	 * it are left on the server (not stored, not acknowledged) for the next
	 * session that does. For programs that only send or manage chats, so that
	 * what arrives meanwhile is not stored unseen by whoever receives. */
	int send_only;
	/* 1: when the connection drops (or cannot be made), try again and again, after
	 * 0.5 s, then twice as long each time up to 30 s, with +-25% jitter; sends not
	 * yet confirmed are sent again once connected. A refusal of this device (say,
	 * it was removed) ends the retries, and so does a certificate refused. */
	int reconnect;
	/* wss:// only: a PEM file of the CA certificates to trust instead of the
	 * system's (/etc/ssl/certs), say a development CA's. NULL: $CHAT_CA_FILE
	 * if set and not empty, else the system's. Either way the server's
	 * certificate must chain to one of them, be valid now and name the URL's
	 * host; if not, connecting fails with CHAT_ERR_TLS. */
	const char *ca_file;
	/* Heartbeat, in seconds: a connection that no pong has confirmed for this
	 * long is taken for dead and closed (then made again, with reconnect); a
	 * ping goes out after 40% of it. 0: $CHAT_HEARTBEAT if set, else
	 * CHAT_HEARTBEAT_DEFAULT. From CHAT_HEARTBEAT_MIN to CHAT_HEARTBEAT_MAX. */
	int heartbeat_s;
};

/* A struct chat_opts with its size set, and the members given (designated
 * initialisers, or nothing: CHAT_OPTS_INIT()). */
#define CHAT_OPTS_INIT(...)                                                                        \
	{                                                                                          \
		.size = sizeof(struct chat_opts), __VA_ARGS__                                      \
	}

#define CHAT_HEARTBEAT_DEFAULT 25   /* seconds (PROTOCOL.md, "Heartbeats") */
#define CHAT_HEARTBEAT_MIN     2    /* seconds */
#define CHAT_HEARTBEAT_MAX     3600 /* seconds */

/* A file attached to a message (PROTOCOL.md, "Attachments"). */
struct chat_attachment {
	const char *name; /* the file's name, as the sender gave it: no '/', no controls */
	const char *type; /* its media type, e.g. "image/jpeg" */
	int64_t size;     /* bytes */
	const char *path; /* where chat_download() put it on this device, or NULL */
};

#define CHAT_MAX_ATTACHMENTS 10

/* A message, as delivered to chat_message_cb and chat_history(). Every pointer
 * is valid only during the callback; copy what you keep. */
/* The reactions to a message with one emoji, as struct chat_message lists
 * them: who put it (users, count of them, in name order). */
struct chat_reaction {
	const char *emoji; /* 1 to CHAT_EMOJI_MAX bytes of UTF-8 */
	size_t count;
	const char *const *users;
};

struct chat_message {
	const char *chat_id;    /* 16 hex digits */
	const char *message_id; /* 32 hex digits */
	const char *sender;     /* user name of the sender */
	uint32_t sender_device; /* the sender's device id */
	int64_t seq;            /* place in the chat, from the server; 0 if not yet sent */
	int64_t sent_at;        /* ms since the epoch, server time; 0 if not yet sent */
	const char *text;       /* UTF-8, NUL-terminated */
	size_t text_len;        /* bytes, without the NUL */
	int outgoing;           /* 1 if sent by this user */
	/* outgoing: "pending" (not confirmed by the server yet), "sent" (committed by
	 * the server), "delivered" (stored by a device of every other member),
	 * "read" (read by every other member) or "failed"; incoming: "received",
	 * or "read" once chat_mark_read() (here or on another device of this user)
	 * covered it. */
	const char *state;
	/* "text"; "update" for a membership change kept in the history (text then
	 * describes it, sender is who made it); "undecryptable" for a message from
	 * a sender whose keys are valid that did not decrypt, or decrypted to a
	 * malformed body (text is then "": see chat_undecryptable_cb). */
	const char *kind;
	const struct chat_attachment *attachments; /* n_attachments files, or NULL */
	size_t n_attachments;
	/* A hit of chat_search(): the part of text around the words found, each
	 * word found between '[' and ']', "..." where text goes on. NULL
	 * everywhere else (history, events). */
	const char *snippet;
	/* A reply (chat_send_reply): the id of the message it quotes, that
	 * message's sender and the start of its text (at most
	 * CHAT_REPLY_PREVIEW_MAX bytes), as the replier's device had them: shown
	 * even when the quoted message is not in this store. NULL for a message
	 * that is no reply. */
	const char *reply_to;
	const char *reply_sender;
	const char *reply_preview;
	/* The reactions on it now (chat_react): one entry per emoji, the most
	 * used first (then by emoji), each person counted once, with their
	 * latest reaction. NULL and 0 when there are none: in on_message, most
	 * often (a message's reactions come after it, see chat_reaction_cb;
	 * only those that arrived before it are there). */
	const struct chat_reaction *reactions;
	size_t n_reactions;
	/* Since issue 14's edits (chat_edit): the sentAt (ms) of the edit whose
	 * text shows now (its sender's edit of the highest seq), 0 if it was
	 * never edited; text is then the edited text (chat_edits lists the
	 * history). deleted 1: its sender deleted it for everyone
	 * (chat_delete_for_everyone): text is "", it has no quote, no
	 * attachments; show "message deleted". */
	int64_t edited_at;
	int deleted;
	/* Since issue 14's mentions: the chat's members its text names as
	 * "@name" (the rule: libchat(3), MENTIONS), each once, in the order
	 * of their first mention, and mentions_me 1 when this user is one of
	 * them. Found by this device in the text against the chat's members
	 * as it knows them when the message is handed over or read back (no
	 * wire change): a member who left is no longer found. NULL, 0 and 0
	 * for a message that names no member, and for any kind but "text". */
	int mentions_me;
	const char *const *mentions;
	size_t n_mentions;
	/* Since issue 14's disappearing messages: when it vanishes from this
	 * device's store (ms since the epoch, by this device's clock; 0
	 * never): its sentAt + the chat's timer in force at its seq
	 * (chat_set_disappearing). Kind "timer" is a change of the chat's
	 * timer, kept in the history: sender set it, text is its seconds in
	 * decimal ("0": turned off; chat_duration_format words it). */
	int64_t expires_at;
};

/* A chat, as listed by chat_list_chats(). Pointers valid during the callback. */
struct chat_chat {
	const char *chat_id;
	/* "direct", "group", or "self": the user's notes to self, a direct
	 * chat whose only member is the user (CHAT_SELF_SPEC). */
	const char *kind;
	const char *name;           /* NULL for a direct chat */
	const char *const *members; /* user names, n_members of them */
	size_t n_members;
	int64_t last_activity; /* ms since epoch of the newest message, or creation */
	int64_t n_messages;    /* in the local store */
	int64_t n_unread;      /* incoming messages not marked read (chat_mark_read) */
	/* Since store schema 11: a group's description ("" none), or NULL when
	 * the server has not described it to this device yet (a direct chat). */
	const char *description;
	/* Since issue 14's disappearing messages: the chat's timer in
	 * seconds, 0 off (chat_set_disappearing). */
	int64_t disappearing_s;
	/* Since issue 15's chat preferences (chat_set_muted, chat_set_pinned,
	 * chat_set_archived; the user's other devices' changes applied): */
	int64_t muted_until; /* 0 not muted, else ms since epoch (CHAT_MUTE_FOREVER);
			      * a mute past its time reads 0 */
	int64_t pinned_at;   /* 0 not pinned; pinned chats list first, newest pin first */
	int archived;        /* 1 archived (still listed: each program decides) */
	/* The newest message (kind "text") of the chat, as a one-line preview:
	 * its text with every run of white space and control characters made
	 * one space, cut to CHAT_PREVIEW_MAX bytes (whole UTF-8 characters);
	 * "message deleted" once deleted for everyone; "[file NAME]" for a
	 * file without text. NULL, NULL and 0 when the chat has none. The
	 * text is the sender's: show it as chat_history's texts are shown. */
	const char *last_text;
	const char *last_sender; /* its sender's user name */
	int64_t last_at;         /* its time (ms): sentAt, or when it was stored */
};

/* What a receipt says about a message. */
#define CHAT_RECEIPT_DELIVERED 1 /* a device of the user has stored it */
#define CHAT_RECEIPT_READ      2 /* the user has seen it */
/* The device could not decrypt it: its session state, or this device's, was
 * lost or restored, or too many messages were lost on the way (it started a
 * new secure session), or, in a group, it lacked this device's sender key
 * (libchat gives it the key with the next message). The message is lost to
 * that device unless sent again. Told once; the message's state does not
 * change. */
#define CHAT_RECEIPT_UNDECRYPTABLE 3

/* A receipt, as delivered to chat_receipt_cb: user's device says it has stored
 * (or the user has read) a message. Receipts travel end-to-end encrypted, like
 * messages. Pointers valid during the callback. */
struct chat_receipt {
	const char *chat_id;
	const char *message_id; /* the message it is about */
	const char *user;       /* who stored or read it */
	uint32_t device;        /* on which device */
	int status;             /* CHAT_RECEIPT_DELIVERED, _READ or _UNDECRYPTABLE */
	int64_t at;             /* ms since the epoch, by the reader's clock */
	/* The message's state after this receipt ("sent", "delivered" or "read",
	 * see struct chat_message). user is this user when another of their own
	 * devices marked an incoming message read: state is then "read". */
	const char *state;
};

/* A change of a chat's membership, as delivered to chat_update_cb. Pointers valid
 * during the callback. */
struct chat_update {
	const char *chat_id;
	const char *update_id; /* 32 hex digits, unique like a message id */
	int64_t seq;           /* place in the chat's sequence, with its messages */
	int64_t sent_at;       /* ms since the epoch, server time */
	const char *kind;      /* "group" or "direct" */
	const char *name;      /* the group's name, or NULL */
	const char *actor;     /* who made the change */
	/* "create", "add", "remove", "leave"; "promote", "demote" (users became
	 * admins, or are no longer); "rename" (name is the new name);
	 * "describe" (description is the new one) */
	const char *operation;
	const char *const *users; /* who was added or removed (for create: everyone) */
	size_t n_users;
	const char *const *participants; /* the members after the change */
	size_t n_participants;
	const char *const *admins;
	size_t n_admins;
	/* Added with group administration (at the end: older programs never
	 * read it): the new description for "describe" ("" removed), else NULL. */
	const char *description;
};

/* A device of a user, as listed by chat_devices(). */
struct chat_device {
	const char *user;
	uint32_t device_id;
	const char *name; /* "" if the device has none */
	int this_device;  /* 1 for the device of this handle */
	int key_changed;  /* 1 if its key changed and is not accepted yet */
};

struct chat_client;

/* Called for each new incoming message, after it is committed to the local store
 * and before it is acknowledged to the server. A message already handed to this
 * callback is not reported again; one stored but not handed over (the program
 * died before the callback returned) is reported when it comes again. */
typedef void (*chat_message_cb)(struct chat_client *c, void *udata, const struct chat_message *m);

/* Called when the connection state changes. err is CHAT_OK or why it dropped. */
typedef void (*chat_state_cb)(struct chat_client *c, void *udata, enum chat_state state, int err);

/* Called when a message from a device whose identity key differs from the pinned
 * one arrives. The message is kept on the server (not acknowledged) until the
 * user accepts the new key with chat_trust() and receives again. */
typedef void (*chat_key_changed_cb)(struct chat_client *c, void *udata, const char *user,
				    uint32_t device);

/* Called for a message that could not be received (its sender's key is invalid,
 * the local store failed, the server sent a malformed frame...). err says why;
 * the message is not acknowledged: it comes again with the next session. (One
 * that does not decrypt goes to chat_undecryptable_cb instead.) */
typedef void (*chat_receive_error_cb)(struct chat_client *c, void *udata, const char *message_id,
				      int err, const char *detail);

/* An envelope that could not be read, as delivered to chat_undecryptable_cb.
 * Pointers valid during the callback. */
struct chat_undecryptable {
	const char *chat_id;
	const char *message_id; /* the message's id, or the receipt's */
	const char *sender;     /* who sent it (their keys were valid) */
	uint32_t sender_device;
	int64_t sent_at;    /* ms since the epoch, server time */
	int receipt;        /* 1: a receipt, dropped; 0: a message, kept in the history as
	                       kind "undecryptable", with no text */
	const char *reason; /* what was wrong, for people */
};

/* Called once for each envelope from a sender whose keys are valid (pinned, the
 * exchange key signed, no change waiting for chat_trust) that does not decrypt,
 * or decrypts to a malformed body: a broken or hostile sender's client (anyone
 * can address envelopes to anyone's devices). It is stored (a message, in its
 * place in the history) and acknowledged, so it never comes again and never
 * blocks what follows; no receipt is sent for it. A message whose sender's key
 * changed is still held back (chat_key_changed_cb), not reported here. */
typedef void (*chat_undecryptable_cb)(struct chat_client *c, void *udata,
				      const struct chat_undecryptable *u);

/* Completion of an asynchronous call. err is CHAT_OK or the failure; id is the
 * result (registration: the device id in decimal; create: the chat id; send:
 * the message id), or NULL on failure. A send that fails once its message is
 * in the local store still gets its id: the message is then "pending" (the
 * network failed: it goes out with a later connection, see chat_outbox) or
 * "failed". arg is the caller's pointer. */
typedef void (*chat_done_cb)(struct chat_client *c, void *arg, int err, const char *id);

/* Called for each membership change, after it is stored (members, admins, and an
 * event in the chat's history) and before it is acknowledged. */
typedef void (*chat_update_cb)(struct chat_client *c, void *udata, const struct chat_update *u);

/* Called when the devices of a user this device knows change: a new device
 * (approved by one of theirs that was already pinned, so it is accepted) or one
 * that is gone. added is 1 or 0. */
typedef void (*chat_device_change_cb)(struct chat_client *c, void *udata, const char *user,
				      uint32_t device, int added);

/* Called when the server deleted messages of this device's inbox before it
 * collected them (they were older than the server's retention time): count of
 * them, the oldest sent at oldest (ms since the epoch). Once per occurrence. */
typedef void (*chat_missed_cb)(struct chat_client *c, void *udata, int64_t count, int64_t oldest);

/* Called for each receipt that tells something new about a message in the local
 * store, after it is stored and before it is acknowledged. */
typedef void (*chat_receipt_cb)(struct chat_client *c, void *udata, const struct chat_receipt *r);

/* Called when a message this home wrote earlier (the outbox: an earlier session,
 * a killed process, another program on the home) fails for good as this handle
 * sends it again: the server refused it (the user left the chat...) or a
 * recipient's key changed. It is marked "failed" and not sent again. err and
 * detail say why; CHAT_ERR_STORE: the store could not mark it, so it stays
 * pending and a later connection tries again (one past the server's
 * retention is never sent). (A send started by chat_send_text on this handle
 * reports to its done callback instead.) */
typedef void (*chat_send_failed_cb)(struct chat_client *c, void *udata, const char *chat_id,
				    const char *message_id, int err, const char *detail);

/* Someone is typing in a chat, or stopped (typing 0), on one of their
 * devices; see chat_typing. Nothing of it is stored. A typing 1 that is not
 * followed by another within CHAT_TYPING_SHOW_MS is over (show it that long
 * at most). Pointers valid during the callback. */
struct chat_typing {
	const char *chat_id;
	const char *user;
	uint32_t device;
	int typing; /* 1 typing, 0 stopped */
};
#define CHAT_TYPING_SHOW_MS 6000
typedef void (*chat_typing_cb)(struct chat_client *c, void *udata, const struct chat_typing *t);
/* A reaction, as delivered to chat_reaction_cb. Pointers valid during the
 * callback. */
struct chat_reaction_event {
	const char *chat_id;
	const char *message_id; /* the reaction's own id */
	const char *target;     /* the message it is on (maybe not in this store yet) */
	const char *user;       /* who reacted (this user: from another of their devices) */
	uint32_t device;
	const char *emoji; /* "" when they took their reaction back */
	int64_t seq;       /* its place in the chat: the highest seq of a person's wins */
	int64_t sent_at;
};

/* Called for each new reaction (chat_react on any device of a member, this
 * user's other devices included), after it is stored and before it is
 * acknowledged. A reaction is no message: on_message does not get it, and
 * neither chat_history nor the chat's counts show it; the message it is on
 * lists the reactions in force (struct chat_message's reactions). One that
 * arrives after a newer one of the same person (a higher seq) changes
 * nothing, but is still reported. */
typedef void (*chat_reaction_cb)(struct chat_client *c, void *udata,
				 const struct chat_reaction_event *r);

/* An edit or delete for everyone, as delivered to chat_change_cb. Pointers
 * valid during the callback. */
struct chat_change_event {
	const char *chat_id;
	const char *message_id; /* the edit's or delete's own id */
	const char *target;     /* the message it changes (maybe not in this store yet) */
	const char *user;       /* who sent it (this user: from another of their devices) */
	uint32_t device;
	const char *kind; /* "edit" or "delete" */
	const char *text; /* an edit's new text; "" for a delete */
	size_t text_len;
	int64_t seq;
	int64_t sent_at;
	/* What it does here as it is handed over: "applied" (an edit counts:
	 * target shows it unless an edit of a higher seq came; a delete:
	 * target is deleted), "waiting" (target not here yet: applied when
	 * it comes), "refused" (target was written by someone else: never
	 * applied, never shown), "ignored" (an edit of a deleted message, a
	 * delete past the window). */
	const char *status;
};

/* Called for each new edit or delete for everyone (chat_edit,
 * chat_delete_for_everyone on any device of a member, this user's other
 * devices included), after it is stored and applied, before it is
 * acknowledged. Like a reaction it is no message: on_message does not get
 * it; the message it changes reads changed (chat_history, struct
 * chat_message's edited_at and deleted). */
typedef void (*chat_change_cb)(struct chat_client *c, void *udata,
			       const struct chat_change_event *e);

/* A change of a chat's disappearing timer (chat_set_disappearing), as
 * delivered to chat_timer_cb. Pointers valid during the callback. */
struct chat_timer_event {
	const char *chat_id;
	const char *message_id; /* the change's own id */
	const char *user;       /* who set it (this user: from another of their devices) */
	uint32_t device;
	int64_t seconds; /* 0: turned off */
	int64_t seq;
	int64_t sent_at;
	/* What it does here: "applied" (it is the chat's timer now), "older"
	 * (a change of a higher seq came first: it rules only the messages
	 * between the two), "refused" (in a group, from a member who is no
	 * admin as this device knows the group: never applied, not in the
	 * history). */
	const char *status;
};

/* Called for each new timer change from another device (this user's other
 * devices included), after it is stored and applied, before it is
 * acknowledged. No message: on_message does not get it; chat_history shows
 * an accepted one in its place, kind "timer". */
typedef void (*chat_timer_cb)(struct chat_client *c, void *udata,
			      const struct chat_timer_event *e);

/* Called for each message that vanished from the store at its expires_at
 * (struct chat_message), with its reactions, edits and downloaded files:
 * show it no more. Runs inside chat_client_loop (offline too), at most a
 * second or so late; chat_history, chat_search and chat_list_chats never
 * show one past its time, whether or not this has run yet. */
typedef void (*chat_expired_cb)(struct chat_client *c, void *udata, const char *chat_id,
				const char *message_id);

/* One edit of a message, as chat_edits lists them. */
struct chat_edit {
	const char *target;  /* the message edited */
	const char *edit_id; /* the edit's own id */
	const char *text;    /* the text it gave ("" once the message is deleted) */
	size_t text_len;
	int64_t seq;     /* 0: this device's, not sent yet */
	int64_t sent_at; /* 0 likewise */
};
typedef int (*chat_edit_cb)(void *arg, const struct chat_edit *e);

/* Called when this device's copy of the user's block list changed: a change
 * made on another device (its push), one found on connecting (the list is
 * fetched on every connection), or chat_block_user / chat_unblock_user here
 * (before their done). Read the list with chat_blocked_users. */
typedef void (*chat_blocked_cb)(struct chat_client *c, void *udata);

/* History sync (PROTOCOL.md, "History sync"; since issue 15): the progress
 * of a sync of the user's recent history, on the device that approved a new
 * one and sends it (sending 1), and on the new device that receives it
 * (sending 0). done counts the messages (rows: texts, events, reactions,
 * edits, deletes) sent or received so far of total; finished is 1 once
 * every batch is sent (or received). Called after each batch. */
struct chat_history_sync {
	int sending;
	uint32_t device; /* the new device */
	int64_t done, total;
	int64_t parts_done, parts;
	int finished;
	/* sending: the sync could not start, or a batch could not be sent
	 * after a minute of tries and is failed (chat_client_errmsg says
	 * why); the sync stops there. */
	int failed;
};
typedef void (*chat_history_sync_cb)(struct chat_client *c, void *udata,
				     const struct chat_history_sync *h);

/* For chat_link_device: the code to show the user, to be approved on one of their
 * existing devices. */
typedef void (*chat_code_cb)(struct chat_client *c, void *arg, const char *code);

/* The event callbacks of a handle; see chat_client_set_callbacks. Initialise
 * it with CHAT_CALLBACKS_INIT, which sets size; every callback left out is
 * NULL (not called):
 *
 *	static const struct chat_callbacks cbs =
 *		CHAT_CALLBACKS_INIT(.on_message = got, .on_state = state);
 */
struct chat_callbacks {
	/* sizeof(struct chat_callbacks) where the program was compiled. */
	size_t size;
	chat_message_cb on_message;
	chat_state_cb on_state;
	chat_key_changed_cb on_key_changed;
	chat_receive_error_cb on_receive_error;
	chat_update_cb on_update;
	chat_device_change_cb on_device_change;
	chat_missed_cb on_missed;
	chat_receipt_cb on_receipt;
	chat_send_failed_cb on_send_failed;
	chat_undecryptable_cb on_undecryptable;
	chat_typing_cb on_typing; /* since libchat 0.1.0 with issue 14 */
	chat_reaction_cb on_reaction;
	chat_change_cb on_message_changed; /* since issue 14's edits and deletes */
	chat_timer_cb on_timer;            /* since issue 14's disappearing messages */
	chat_expired_cb on_expired;        /* likewise */
	chat_blocked_cb on_blocked_changed; /* since issue 14's blocking */
	chat_history_sync_cb on_history_sync; /* since issue 15's history sync */
};

/* A struct chat_callbacks with its size set, and the callbacks given. */
#define CHAT_CALLBACKS_INIT(...)                                                                   \
	{                                                                                          \
		.size = sizeof(struct chat_callbacks), __VA_ARGS__                                 \
	}

/* ---- Handle --------------------------------------------------------------- */

/* Opens the device home (creating it if needed) and its store, and loads the
 * device's identity if it has one. Does not connect. opts may be NULL (all
 * defaults). udata goes to every event callback.
 * Returns the handle, or NULL with errno set (ENOMEM or EIO), *err (if err is
 * not NULL) set to CHAT_ERR_NOMEM, CHAT_ERR_INVALID (opts without its size or
 * setting members this libchat does not know, a heartbeat out of range),
 * CHAT_ERR_HOME (the home or its identity cannot be made or read, or the
 * identity is readable by others) or CHAT_ERR_STORE (the store cannot be
 * opened, or is from a newer libchat), and a message of at most errlen bytes
 * in errbuf (if not NULL). */
CHAT_API struct chat_client *chat_client_new(const struct chat_opts *opts, void *udata, int *err,
					     char *errbuf, size_t errlen);

/* Closes the connection at once, completes every pending asynchronous call
 * (done gets CHAT_ERR_CONNECTION_LOST; on_state may run too), closes the store,
 * wipes the keys and frees the handle. NULL is a no-op. Never inside a
 * callback of the handle. */
CHAT_API void chat_client_destroy(struct chat_client *c);

/* Sets the callbacks: a copy of *cbs (made with CHAT_CALLBACKS_INIT) replaces
 * them all; any member may be NULL, and cbs NULL clears them all.
 * Returns CHAT_OK, or CHAT_ERR_INVALID (no size, too small a one, or members
 * this libchat does not know set) and the callbacks stay as they were. */
CHAT_API int chat_client_set_callbacks(struct chat_client *c, const struct chat_callbacks *cbs);

/* Detail of the last failure on this handle, for people; "" if none. Valid
 * until the next call on the handle. */
CHAT_API const char *chat_client_errmsg(const struct chat_client *c);

/* For CHAT_ERR_REFUSED: the server's machine-readable code ("no_such_chat"...),
 * or ""; valid as chat_client_errmsg. */
CHAT_API const char *chat_client_server_code(const struct chat_client *c);

/* For CHAT_ERR_KEY_CHANGED: the user whose device has a key this device has
 * not accepted (changed, or a removed device listed again): what chat_trust()
 * takes once the user has checked it. For CHAT_ERR_BLOCKED: the user blocked.
 * "" after any other failure. Valid as chat_client_errmsg. */
CHAT_API const char *chat_client_error_user(const struct chat_client *c);

/* The registered user name, or NULL when the home is not registered. */
CHAT_API const char *chat_client_user(const struct chat_client *c);
/* The registered device id, or 0. */
CHAT_API uint32_t chat_client_device_id(const struct chat_client *c);
/* The server URL in use (from opts, else remembered), or NULL. */
CHAT_API const char *chat_client_server_url(const struct chat_client *c);
/* The absolute path of the device home. */
CHAT_API const char *chat_client_home(const struct chat_client *c);
/* The udata given to chat_client_new(), for a chat_done_cb whose arg is not it. */
CHAT_API void *chat_client_udata(const struct chat_client *c);

/* ---- Session -------------------------------------------------------------- */

/* Starts connecting to the server (and, when registered, authenticating).
 * Returns at once; on_state reports progress (it runs inside this call with
 * CHAT_STATE_CONNECTING). Connected already: nothing to do.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED (nothing to authenticate as, and no
 * registration or link queued); CHAT_ERR_INVALID (no server URL, a malformed
 * one, an unreadable CA file); CHAT_ERR_NOMEM; CHAT_ERR_CONNECT (the
 * connection cannot even be started). Never inside a callback. */
CHAT_API int chat_client_connect(struct chat_client *c);

/* Closes the connection, after flushing acknowledgements and requests already
 * queued (it runs the loop for up to a second, so callbacks run), and ends the
 * retries of opts.reconnect. Pending calls complete with
 * CHAT_ERR_CONNECTION_LOST. Never inside a callback. */
CHAT_API void chat_client_disconnect(struct chat_client *c);

CHAT_API enum chat_state chat_client_state(const struct chat_client *c);

/* Runs the network for at most timeout_ms (0: only what is ready now); the
 * callbacks run inside it.
 * Returns CHAT_OK; CHAT_ERR_NOT_CONNECTED when there is no connection to run
 * (offline, and not waiting to reconnect); CHAT_ERR_CONNECTION_LOST when the
 * network loop itself failed. Never inside a callback. */
CHAT_API int chat_client_loop(struct chat_client *c, int timeout_ms);

/* A file descriptor that becomes readable when chat_client_loop(c, 0) has work,
 * or -1 before the first connection. For the application's own poll loop: poll
 * it for POLLIN, call chat_client_loop(c, 0) when it is readable, and at least
 * once a second (deadlines are checked there). */
CHAT_API int chat_client_fd(const struct chat_client *c);

/* With chat_opts.reconnect, while CHAT_STATE_WAITING: milliseconds until the next
 * attempt. -1 in any other state. */
CHAT_API int chat_client_retry_in(const struct chat_client *c);

/* 1 once the server has pushed everything that was waiting in this device's inbox
 * when the session began (and it was stored and handed to on_message), else 0. */
CHAT_API int chat_client_drained(const struct chat_client *c);

/* 1 when no request is waiting for an answer and every received message has been
 * acknowledged to the server. */
CHAT_API int chat_client_idle(const struct chat_client *c);

/* Runs the loop until *flag becomes non-zero, the connection is lost, or
 * timeout_ms passes (negative: no limit). For programs that want to block.
 * Returns CHAT_OK when *flag was set; CHAT_ERR_TIMEOUT; CHAT_ERR_NOT_CONNECTED;
 * or why the connection ended (a session error, or CHAT_ERR_NOT_REGISTERED).
 * Never inside a callback. */
CHAT_API int chat_client_run_until(struct chat_client *c, const volatile int *flag, int timeout_ms);

/* ---- Calls that talk to the server (asynchronous) ------------------------- */

/* Registers user with this home's new device on server_url (NULL: opts). Creates
 * the device's identity if the home has none, connects if needed. On success
 * the home remembers the user, the device id and the server URL.
 * Returns CHAT_OK; CHAT_ERR_INVALID (a bad user name, no server URL, a
 * registration or link under way); CHAT_ERR_TOO_LARGE (device_name over 64
 * bytes); CHAT_ERR_REGISTERED; CHAT_ERR_HOME (the identity cannot be written);
 * the session errors.
 * done gets the device id in decimal; or a session error (CHAT_ERR_REFUSED
 * with "user_exists" for a name taken), CHAT_ERR_STORE (registered, but the
 * store cannot remember it). */
CHAT_API int chat_register(struct chat_client *c, const char *user, const char *device_name,
			   chat_done_cb done, void *arg);

/* Opens the one-to-one chat with the one other user listed (n_users == 1), or
 * returns the existing one; for more users, see chat_create_group. Pins the
 * members' keys.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (no user, a bad
 * name, this user itself: no notes to self yet); CHAT_ERR_TOO_LARGE (over 99
 * users); the session errors.
 * done gets the chat id; or a session error (CHAT_ERR_REFUSED: "unknown_user"
 * and others), CHAT_ERR_KEY_CHANGED or CHAT_ERR_BAD_KEY (a member's keys fail
 * the checks; the chat is made all the same, and chat_resolve_chat finds it),
 * CHAT_ERR_STORE. */
CHAT_API int chat_create_chat(struct chat_client *c, const char *const *users, size_t n_users,
			      chat_done_cb done, void *arg);

/* Encrypts text for every device in the chat and sends it. The message is in the
 * local store (state "pending") when this returns; the message id is written to
 * message_id (CHAT_MESSAGE_ID_LEN + 1 bytes) if not NULL, as soon as it is
 * stored: also when the call then fails (the message is then "failed", or
 * still pending if the network failed).
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (a bad chat id,
 * empty text, text that is not UTF-8 or holds a NUL); CHAT_ERR_TOO_LARGE (over
 * CHAT_MAX_TEXT bytes); CHAT_ERR_BLOCKED (a direct chat with a user this user
 * blocked: nothing stored, nothing sent; so for every send, reply, reaction,
 * edit and file); CHAT_ERR_STORE; when online, what fails before
 * anything goes out (CHAT_ERR_KEY_CHANGED, CHAT_ERR_BAD_KEY, CHAT_ERR_INVALID:
 * nobody else in the chat); the session errors.
 * done gets the message id, on success and on failure; err is CHAT_OK once the
 * server has committed it, or a session error, CHAT_ERR_KEY_CHANGED,
 * CHAT_ERR_BAD_KEY, CHAT_ERR_NO_SUCH_CHAT, CHAT_ERR_INVALID (nobody else in
 * the chat), CHAT_ERR_TOO_LARGE, CHAT_ERR_EXPIRED (not sent within the
 * server's retention), CHAT_ERR_STORE. */
CHAT_API int chat_send_text(struct chat_client *c, const char *chat_id, const char *text,
			    size_t len, char *message_id, chat_done_cb done, void *arg);

/* Sends text as a reply to the message reply_to (a full message id) of the
 * chat, as chat_send_text sends (same store, outbox, order and
 * encryption): the reply carries the quoted message's sender and the start
 * of its text (CHAT_REPLY_PREVIEW_MAX bytes, cut at a character boundary),
 * taken from the local store, so that every receiver can show the quote.
 * Returns what chat_send_text returns, and CHAT_ERR_INVALID when reply_to is
 * not 32 hex digits, or is no message (text or files) of this chat in the
 * local store: nothing is sent then. done gets what chat_send_text's gets. */
CHAT_API int chat_send_reply(struct chat_client *c, const char *chat_id, const char *reply_to,
			     const char *text, size_t len, char *message_id, chat_done_cb done,
			     void *arg);

/* Puts this user's reaction emoji (1 to CHAT_EMOJI_MAX bytes of UTF-8, no
 * control character) on message message_id of the chat, replacing the one
 * they had on it; "" takes it back. It travels as a message (its id written
 * to reaction_id, if not NULL, as chat_send_text writes message_id; outbox,
 * order, encryption as for text) to every member and this user's other
 * devices; it shows here at once (struct chat_message's reactions), and on
 * each device once it arrives there. Whatever order reactions arrive in,
 * every device keeps for each person the one the server numbered last.
 * Returns what chat_send_text returns, and CHAT_ERR_INVALID when message_id
 * is no message (text or files) of this chat in the local store, or emoji
 * breaks the rules. done gets what chat_send_text's gets. */
CHAT_API int chat_react(struct chat_client *c, const char *chat_id, const char *message_id,
			const char *emoji, char *reaction_id, chat_done_cb done, void *arg);

/* Edits message message_id of the chat, one this user wrote (from any of
 * their devices): its new text is text (len bytes, as chat_send_text's).
 * The edit travels as a message (its id into edit_id, if not NULL; outbox,
 * order, encryption as for text) to every member and this user's other
 * devices; it shows here at once, on each device once it arrives. Every
 * device shows the edit the server numbered last, and keeps every edit
 * (chat_edits). Returns what chat_send_text returns, and CHAT_ERR_INVALID
 * when message_id is not a message (text or files) of this chat in the local
 * store, was written by someone else, or is deleted. */
CHAT_API int chat_edit(struct chat_client *c, const char *chat_id, const char *message_id,
		       const char *text, size_t len, char *edit_id, chat_done_cb done, void *arg);

/* Deletes message message_id of the chat for everyone: like chat_edit (its
 * own id into delete_id), and refused likewise (CHAT_ERR_INVALID), and also
 * past the window: 48 hours after the message's sentAt (receivers judge by
 * the delete's sentAt). This device shows it deleted once the server has the
 * delete (until then chat_discard takes it back; a discarded edit likewise
 * gives back the text before it). Every device then shows the message as deleted
 * (struct chat_message's deleted: no text, quote or files; its files, and
 * their copies downloaded under the home, are removed) for good. */
CHAT_API int chat_delete_for_everyone(struct chat_client *c, const char *chat_id,
				      const char *message_id, char *delete_id, chat_done_cb done,
				      void *arg);

/* Sets the chat's disappearing timer to seconds: 0 turns it off, else
 * CHAT_DISAPPEAR_MIN_S to CHAT_DISAPPEAR_MAX_S (30 seconds to 90 days).
 * Every message sent in the chat after the change (by its seq) vanishes from
 * every device's store at its sentAt + seconds, and the server holds it no
 * longer than that; messages sent before stay. In a direct chat either member
 * may set it; in a group only an admin (as this device knows the group). The
 * change travels as a message (its id into change_id, if not NULL; outbox,
 * order, encryption as for text) to every member and this user's other
 * devices, and is kept in the history (kind "timer"). It applies here once
 * the server has numbered it (done with CHAT_OK); chat_disappearing and
 * struct chat_chat's disappearing_s then say the new timer.
 * Returns what chat_send_text returns (but CHAT_ERR_TOO_LARGE), and
 * CHAT_ERR_INVALID for seconds out of range, or in a group when this user is
 * no admin: nothing is sent then. done gets what chat_send_text's gets. */
#define CHAT_DISAPPEAR_MIN_S 30LL
#define CHAT_DISAPPEAR_MAX_S (90LL * 24 * 3600)
CHAT_API int chat_set_disappearing(struct chat_client *c, const char *chat_id, long long seconds,
				   char *change_id, chat_done_cb done, void *arg);

/* The chat's disappearing timer in seconds (0 off), from the local store;
 * or CHAT_ERR_INVALID, CHAT_ERR_NO_SUCH_CHAT, CHAT_ERR_STORE. */
CHAT_API long long chat_disappearing(struct chat_client *c, const char *chat_id);

/* Reads a duration as people write it: "off" or "0" (0), a whole number of
 * seconds, or one followed by s, m, h, d or w ("30s", "5m", "1h", "1d",
 * "1w"). 0 with *seconds set, or -1 (malformed or over a year): it does not
 * check the timer's range (chat_set_disappearing does). */
CHAT_API int chat_duration_parse(const char *text, long long *seconds);

/* Words a timer for people: "off", "30 seconds", "5 minutes", "1 hour",
 * "1 day", "2 weeks"; units that do not divide it evenly give a longer
 * form ("90 minutes"). short_form 1: "off", "30s", "90m", "1h", "1d",
 * "2w". Writes at most cap bytes (NUL included); returns buf. */
CHAT_API const char *chat_duration_format(long long seconds, int short_form, char *buf,
					  size_t cap);

/* Deletes a message (any, anyone's) from this device's store only: gone
 * from history, search and counts, with its files (those downloaded under
 * the home), receipts, reactions and edits. No other device hears of it.
 * CHAT_OK; CHAT_ERR_INVALID (a bad id, not in the store, being sent now,
 * or a change of the disappearing timer, which stays); CHAT_ERR_NOT_REGISTERED;
 * CHAT_ERR_STORE. */
CHAT_API int chat_delete_for_me(struct chat_client *c, const char *message_id);

/* Deletes a whole chat's history from this device's store, as
 * chat_delete_for_me deletes a message; the chat itself stays (its members,
 * its keys), empty, and new messages land in it; so do the changes of its
 * disappearing timer, which rule the messages to come. Returns how many rows
 * went (0 or more), or chat_history's errors. */
CHAT_API int chat_delete_chat_for_me(struct chat_client *c, const char *chat_id);

/* Calls each for every edit of message message_id in the store (its
 * sender's, applied or not), oldest first; each's return, not 0, stops the
 * walk and is returned. 0 when done; CHAT_ERR_INVALID (a bad id, not in the
 * store); CHAT_ERR_STORE. */
CHAT_API int chat_edits(struct chat_client *c, const char *message_id, chat_edit_cb each,
			void *arg);

/* Marks every incoming message of chat_id that is not read yet as read, and
 * queues a read receipt for each to its sender's devices (and to this user's
 * other devices, which then mark it read too). The receipts go out on this
 * handle's connection (at once when online, else when it is next online), or
 * with any later session on this home; they are kept in the store until then.
 * Likewise, a handle that takes delivery sends a delivered receipt for every
 * message it stores. Local: no callback.
 * Returns how many messages it marked (0 if none); CHAT_ERR_NOT_REGISTERED;
 * CHAT_ERR_INVALID (a bad chat id); CHAT_ERR_NO_SUCH_CHAT (not in the local
 * store); CHAT_ERR_STORE. */
CHAT_API int chat_mark_read(struct chat_client *c, const char *chat_id);

/* Returns 1 when receipts wait in the store to be sent, 0 if none;
 * CHAT_ERR_STORE. */
CHAT_API int chat_receipts_pending(struct chat_client *c);

/* ---- Attachments ------------------------------------------------------------ */

/* Progress of a file transfer: done of total bytes (of the encrypted file).
 * Runs inside chat_client_loop. */
typedef void (*chat_progress_cb)(struct chat_client *c, void *arg, int64_t done, int64_t total);

/* Sends text (may be NULL or "") with the files at paths (1 to
 * CHAT_MAX_ATTACHMENTS) attached: each is encrypted here with a fresh key, put
 * into the server's blob store with a pre-signed URL (progress reports it, may
 * be NULL), and only when all have arrived is the message sent, carrying the
 * keys end to end; it is then in the local store as any message. A lost
 * connection or a failed upload fails the call through done, and no message
 * is sent.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (a bad chat id,
 * no file or too many, text not UTF-8 or too long, a file that cannot be
 * read); CHAT_ERR_TOO_LARGE (a file over the server's limit, when known);
 * CHAT_ERR_HOME (no room for the encrypted copies in the home); the session
 * errors.
 * done gets the message id once the server has committed it; or a session
 * error (CHAT_ERR_REFUSED: a quota, or an upload the blob store refused;
 * CHAT_ERR_CONNECTION_LOST: an upload cut off), CHAT_ERR_TOO_LARGE,
 * CHAT_ERR_HOME, CHAT_ERR_STORE, or what done of chat_send_text gets. */
CHAT_API int chat_send_files(struct chat_client *c, const char *chat_id, const char *text,
			     const char *const *paths, size_t n, chat_progress_cb progress,
			     chat_done_cb done, void *arg);

/* Fetches attachment idx (from 0) of the message message_id (in the local
 * store), checks its hash and every chunk, decrypts it and puts it at out_path
 * (NULL: the home's downloads/ directory, under the file's name, made unique).
 * Nothing is written under the destination unless all of it checked out.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (a bad message id,
 * no such message here, or no attachment idx); CHAT_ERR_HOME (no room for the
 * download); CHAT_ERR_STORE; the session errors.
 * done gets the path written; or a session error (CHAT_ERR_REFUSED
 * "no_such_blob": gone, or this user is no longer in the chat;
 * CHAT_ERR_CONNECTION_LOST: the download cut off), CHAT_ERR_DECRYPT (the file
 * does not match its hash or does not decrypt), CHAT_ERR_HOME (it cannot be
 * written), CHAT_ERR_TOO_LARGE. */
CHAT_API int chat_download(struct chat_client *c, const char *message_id, size_t idx,
			   const char *out_path, chat_progress_cb progress, chat_done_cb done,
			   void *arg);

/* ---- The local store (no server needed) ----------------------------------- */

/* The callbacks of the walks: 0 goes on, anything else stops (see "Walks"). */
typedef int (*chat_chat_cb)(void *arg, const struct chat_chat *chat);
typedef int (*chat_history_cb)(void *arg, const struct chat_message *m);

/* Walks every chat: the pinned ones first (the newest pin first), then the
 * others by their newest activity. Archived chats are listed too, with
 * archived 1: a program that hides them skips them.
 * Returns 0, what each() stopped the walk with, or CHAT_ERR_STORE. */
CHAT_API int chat_list_chats(struct chat_client *c, chat_chat_cb each, void *arg);

/* ---- Chat preferences: mute, pin, archive ----------------------------------
 *
 * The user's settings of a chat, kept in this device's store and shown in
 * struct chat_chat. Each change also goes, end-to-end encrypted, to the
 * user's other devices, in the user's notes to self (PROTOCOL.md, "Chat
 * settings"; sent now if online, else by the outbox). With no notes to self
 * yet, libchat makes them (as chat_create_chat with the user alone does)
 * when online, else on the next connection, and sends the settings then;
 * history sync carries them to a newly linked device too. libchat applies theirs
 * as they come, the newest change winning, and tells the application
 * nothing (chat_list_chats shows them). What a setting means is the
 * program's to decide, by these rules as chatctl and chat-tui follow them:
 *
 * - A muted chat's messages raise no notification, but one that mentions
 *   the user (struct chat_message's mentions_me) still does. A mute until a
 *   time ends by itself then: muted_until reads 0, chat_muted_until too.
 * - Pinned chats list first (chat_list_chats), the one pinned last first.
 * - An archived chat is hidden from the usual list. A message from someone
 *   else (kind "text") sent after the chat was archived un-archives it,
 *   unless the chat is muted at that moment: then it stays archived (as
 *   WhatsApp does with "keep chats archived" off). The store does it as the
 *   message is stored, whichever program receives it.
 *
 * Each returns CHAT_OK; CHAT_ERR_INVALID (a bad chat id, a negative time);
 * CHAT_ERR_NO_SUCH_CHAT (not in this device's store); CHAT_ERR_STORE. */
#define CHAT_MUTE_FOREVER INT64_MAX
#define CHAT_PREVIEW_MAX  120 /* bytes of struct chat_chat's last_text, at most */

/* Mutes the chat until until_ms (ms since the epoch; a time already past
 * unmutes), CHAT_MUTE_FOREVER for good; 0 unmutes. */
CHAT_API int chat_set_muted(struct chat_client *c, const char *chat_id, int64_t until_ms);
/* pinned 1 pins the chat (now: it lists first; pinning a pinned chat again
 * moves it to the top), 0 unpins it. */
CHAT_API int chat_set_pinned(struct chat_client *c, const char *chat_id, int pinned);
/* archived 1 archives the chat, 0 un-archives it. */
CHAT_API int chat_set_archived(struct chat_client *c, const char *chat_id, int archived);
/* Until when the chat is muted: 0 not (or no longer), a time in ms, or
 * CHAT_MUTE_FOREVER; or CHAT_ERR_INVALID, CHAT_ERR_NO_SUCH_CHAT,
 * CHAT_ERR_STORE. For a program that notifies of a message. */
CHAT_API int64_t chat_muted_until(struct chat_client *c, const char *chat_id);
/* 1 if settings changed here wait to go to the user's other devices until
 * the next connection makes the notes to self they go by (none existed
 * yet); else 0. For a program that connects only to sync them. */
CHAT_API int chat_prefs_sync_owed(struct chat_client *c);

/* Walks the newest `limit` messages of chat_id (0: all), oldest first.
 * Returns 0, what each() stopped the walk with, CHAT_ERR_INVALID (a bad chat
 * id), CHAT_ERR_NO_SUCH_CHAT (not in the local store) or CHAT_ERR_STORE. */
CHAT_API int chat_history(struct chat_client *c, const char *chat_id, int limit,
			  chat_history_cb each, void *arg);

/* Calls each() once for the message with this id, if it is in the local store
 * (what each() returns is not used).
 * Returns CHAT_OK; CHAT_ERR_INVALID (a bad id, or no such message here);
 * CHAT_ERR_STORE. */
CHAT_API int chat_message_get(struct chat_client *c, const char *message_id, chat_history_cb each,
			      void *arg);

/* Full-text search of the local store (SQLite FTS5; no server, nothing on
 * the wire): walks the messages of chat_id (NULL: of every chat) whose text
 * has every word of query, newest first (in the order this device stored
 * them: for what arrives, the order it arrived in), at most limit of them
 * (0: all). Each hit is a struct chat_message as chat_history gives it, with
 * its snippet set. Texts of messages with attachments are searched too;
 * membership changes and undecryptable messages are not.
 * The rule for query, which no input can turn into an error: it is split
 * into words at white space; each word matches the words of a text that
 * begin with it ("caf" finds "Café"), case and accents ignored, punctuation
 * splitting words as it does in the texts ("e-mail" is "e" then "mail");
 * quotes, '*', AND, OR, NOT, NEAR and parentheses are plain text, never
 * operators; a word with no letter or digit in it is left out, and a query
 * of such words only finds nothing. At most CHAT_SEARCH_MAX bytes.
 * Returns 0, what each() stopped the walk with, CHAT_ERR_INVALID (query
 * NULL, empty, all white space, longer than CHAT_SEARCH_MAX or not UTF-8;
 * a bad chat id), CHAT_ERR_NO_SUCH_CHAT (chat_id not in the local store) or
 * CHAT_ERR_STORE. */
#define CHAT_SEARCH_MAX 1024
CHAT_API int chat_search(struct chat_client *c, const char *query, const char *chat_id, int limit,
			 chat_history_cb each, void *arg);

/* Accepts the current keys of every device of user that changed since they were
 * pinned, and the removed devices of user that the server lists again.
 * Returns the number of devices accepted (0 if none); CHAT_ERR_INVALID (a bad
 * user name); CHAT_ERR_STORE. */
CHAT_API int chat_trust(struct chat_client *c, const char *user);

/* Resolves a chat given as a full id, an unambiguous prefix of at least 4 hex
 * digits, or "@user" for the direct chat with user, to its full id in out
 * (CHAT_CHAT_ID_LEN + 1 bytes). Local store only; a full id not in it is taken
 * as it is (the chat may be on the server).
 * Returns CHAT_OK; CHAT_ERR_INVALID (a malformed or ambiguous spec, or "@"
 * this user: no notes to self yet); CHAT_ERR_NO_SUCH_CHAT (nothing matches);
 * CHAT_ERR_STORE. */
CHAT_API int chat_resolve_chat(struct chat_client *c, const char *spec, char *out);

/* Resolves a message given as its full id or an unambiguous prefix of at
 * least 4 hex digits to its full id in out (CHAT_MESSAGE_ID_LEN + 1 bytes).
 * Local store only.
 * Returns CHAT_OK; CHAT_ERR_INVALID (a malformed spec, or one that matches
 * several messages); CHAT_ERR_NO_SUCH_MESSAGE (none matches); CHAT_ERR_STORE. */
CHAT_API int chat_resolve_message(struct chat_client *c, const char *spec, char *out);

/* ---- The outbox: messages not sent yet ----------------------------------------- */

/* Walks every message of this home that no server has confirmed, oldest
 * first: state "pending" (it goes out with the next connection of any handle
 * on the home) or "failed" (refused, or a recipient's key failed the checks:
 * never sent again but by chat_retry).
 * Returns 0, what each() stopped the walk with, or CHAT_ERR_STORE. */
CHAT_API int chat_outbox(struct chat_client *c, chat_history_cb each, void *arg);

/* Sends a pending or failed message of the outbox again, under its id (the
 * server stores it once however often it comes): it becomes pending, and goes
 * out now when online, else once connected (this call connects).
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (a bad id, a
 * message that is not in the outbox, or one this handle is sending already);
 * CHAT_ERR_NO_SUCH_MESSAGE (no such message here); CHAT_ERR_EXPIRED (written
 * longer ago than the server's retention: it is failed for good); CHAT_ERR_STORE;
 * when online, what fails before anything goes out, as for chat_send_text (the
 * message is failed again); the session errors.
 * done gets the message id, and what done of chat_send_text gets. */
CHAT_API int chat_retry(struct chat_client *c, const char *message_id, chat_done_cb done,
			void *arg);

/* Deletes a pending or failed message of the outbox from the local store, so
 * that it is never sent. A pending message may have reached the server all
 * the same (its answer was lost, or another program of the home is sending
 * it now): its recipients then get it.
 * Returns CHAT_OK; CHAT_ERR_INVALID (a bad id, a message that is not in the
 * outbox, one this handle is sending now, or one sent meanwhile);
 * CHAT_ERR_NO_SUCH_MESSAGE; CHAT_ERR_STORE. */
CHAT_API int chat_discard(struct chat_client *c, const char *message_id);

/* ---- Groups ---------------------------------------------------------------- */

/* Creates a group named name (1 to 64 bytes) with the users listed and this user,
 * at most 100 members in all; this user is its admin.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (a bad name or
 * user name, no user); CHAT_ERR_TOO_LARGE (over 99 users); the session errors.
 * done gets the chat id; or a session error (CHAT_ERR_REFUSED:
 * "bad_participants" and others), CHAT_ERR_KEY_CHANGED, CHAT_ERR_BAD_KEY,
 * CHAT_ERR_STORE. */
CHAT_API int chat_create_group(struct chat_client *c, const char *name, const char *const *users,
			       size_t n_users, chat_done_cb done, void *arg);

#define CHAT_MEMBERS_ADD    1
#define CHAT_MEMBERS_REMOVE 2

/* Adds or removes members of a group (admins only, except that anyone may remove
 * themselves). Nothing changes unless every user listed can be added or removed.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (a bad chat id,
 * operation or user name, no user); CHAT_ERR_TOO_LARGE (over 99 users); the
 * session errors.
 * done gets the chat id; or a session error (CHAT_ERR_REFUSED: "not_admin",
 * "already_member", "not_member"...), CHAT_ERR_NO_SUCH_CHAT, CHAT_ERR_STORE. */
CHAT_API int chat_modify_members(struct chat_client *c, const char *chat_id, int operation,
				 const char *const *users, size_t n_users, chat_done_cb done,
				 void *arg);

#define CHAT_ADMINS_PROMOTE 1
#define CHAT_ADMINS_DEMOTE  2

/* Makes members of a group admins (CHAT_ADMINS_PROMOTE) or takes that away
 * (CHAT_ADMINS_DEMOTE); admins only. A group keeps at least one admin: a
 * demote that would leave none is refused ("last_admin"). Nothing changes
 * unless every user listed can be changed. Every member's devices get a
 * chat update ("promote" or "demote") in the chat's history.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (a bad chat id,
 * operation or user name, no user); CHAT_ERR_TOO_LARGE (over 99 users); the
 * session errors.
 * done gets the chat id; or a session error (CHAT_ERR_REFUSED: "not_admin",
 * "not_member", "already_admin", "not_an_admin", "last_admin", "bad_request"
 * for a direct chat), CHAT_ERR_NO_SUCH_CHAT, CHAT_ERR_STORE. */
CHAT_API int chat_modify_admins(struct chat_client *c, const char *chat_id, int operation,
				const char *const *users, size_t n_users, chat_done_cb done,
				void *arg);

/* Renames a group (name: 1 to 64 bytes of UTF-8, no control characters) or
 * sets its description (0 to 512 bytes of UTF-8, no control characters but
 * line breaks; "" removes it): exactly one of name and description, the
 * other NULL; admins only. Every member's devices get a chat update
 * ("rename" or "describe") in the chat's history.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (a bad chat id,
 * name or description, both or neither); the session errors.
 * done gets the chat id; or a session error (CHAT_ERR_REFUSED: "not_admin",
 * "bad_request" for a direct chat), CHAT_ERR_NO_SUCH_CHAT, CHAT_ERR_STORE. */
CHAT_API int chat_update_group(struct chat_client *c, const char *chat_id, const char *name,
			       const char *description, chat_done_cb done, void *arg);

/* Calls each() once with chat_id as chat_list_chats() would list it (its
 * name, members and description as this device's store knows them).
 * Returns what each() returned, CHAT_ERR_INVALID (a bad chat id),
 * CHAT_ERR_NO_SUCH_CHAT (not in the local store) or CHAT_ERR_STORE. */
CHAT_API int chat_get_chat(struct chat_client *c, const char *chat_id, chat_chat_cb each,
			   void *arg);

/* Leaves a group: chat_modify_members with this user; returns and reports as
 * it does. */
CHAT_API int chat_leave(struct chat_client *c, const char *chat_id, chat_done_cb done, void *arg);

/* Asks the server for the chat's current members and stores them.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (a bad chat id);
 * the session errors.
 * done gets the chat id; or a session error, CHAT_ERR_NO_SUCH_CHAT (not on the
 * server, or this user is not in it), CHAT_ERR_STORE. */
CHAT_API int chat_refresh_chat(struct chat_client *c, const char *chat_id, chat_done_cb done,
			       void *arg);

/* Walks the members of chat_id in the local store, by name; admin is 1 for an
 * admin.
 * Returns 0, what each() stopped the walk with, CHAT_ERR_INVALID (a bad chat
 * id), CHAT_ERR_NO_SUCH_CHAT (not in the local store) or CHAT_ERR_STORE. */
typedef int (*chat_member_cb)(void *arg, const char *user, int admin);
CHAT_API int chat_members(struct chat_client *c, const char *chat_id, chat_member_cb each,
			  void *arg);

/* ---- Devices ----------------------------------------------------------------- */

/* On a new device (an unregistered home): asks to join user. code() gets the code
 * to approve on one of the user's devices (chat_approve_device): a secret of 80
 * random bits, new for each call, as "K7TF-2VWI-R4RZ-4TYD", that the server never
 * sees; it runs once, inside chat_client_loop, when the server holds the
 * request (not if the request fails first). done gets this device's id once
 * approved. The home then remembers user, device and server. The request ends
 * after 10 minutes or when the connection closes.
 * Returns CHAT_OK and fails as chat_register does.
 * done gets the device id; or a session error (CHAT_ERR_REFUSED:
 * "unknown_user", "too_many_devices", "too_many_links"...), CHAT_ERR_STORE. */
CHAT_API int chat_link_device(struct chat_client *c, const char *user, const char *device_name,
			      chat_code_cb code, chat_done_cb done, void *arg);
/* While chat_link_device's request waits for approval (from its code() on):
 * when the server drops it, in milliseconds since the epoch; else 0. */
CHAT_API int64_t chat_client_link_expires(const struct chat_client *c);

/* On an existing device: approves the device that shows code (16 base32
 * characters; case, dashes and spaces do not matter): finds the waiting request
 * whose MAC the code makes (the server cannot swap its keys) and signs its keys.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (not a link
 * code); the session errors.
 * done gets the new device's id; or a session error (CHAT_ERR_REFUSED with
 * server code "invalid_code", set by libchat, when no request matches: a
 * wrong or expired code, one of another user, or keys the server changed),
 * CHAT_ERR_BAD_KEY (the request's keys do not verify), CHAT_ERR_STORE. */
CHAT_API int chat_approve_device(struct chat_client *c, const char *code, chat_done_cb done,
				 void *arg);

/* Removes one of this user's devices (this one too): it gets nothing more and can
 * no longer connect.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (not a device id);
 * the session errors.
 * done gets its id; or a session error (CHAT_ERR_REFUSED "unknown_device": this
 * user has no such device), CHAT_ERR_STORE (removed on the server, but the
 * store cannot record it). */
CHAT_API int chat_remove_device(struct chat_client *c, uint32_t device_id, chat_done_cb done,
				void *arg);

/* Asks the key directory for users' devices and checks and pins them (a changed
 * key is refused as for a send).
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (no user, too
 * many, a bad name); the session errors.
 * done gets NULL as id; err CHAT_OK, or a session error, CHAT_ERR_KEY_CHANGED,
 * CHAT_ERR_BAD_KEY, CHAT_ERR_STORE. */
CHAT_API int chat_refresh_keys(struct chat_client *c, const char *const *users, size_t n_users,
			       chat_done_cb done, void *arg);

/* Walks the known devices of user (local store), by id.
 * Returns 0, what each() stopped the walk with, CHAT_ERR_INVALID (a bad user
 * name) or CHAT_ERR_STORE. */
typedef int (*chat_device_cb)(void *arg, const struct chat_device *d);
CHAT_API int chat_devices(struct chat_client *c, const char *user, chat_device_cb each, void *arg);

/* ---- Presence ---------------------------------------------------------------- */

/* The answer of chat_last_seen: online is 1 or 0, or -1 when hidden (by user, or
 * because this user hides their own); last_seen is ms since the epoch, or -1 when
 * hidden or never seen. On failure err is set and the rest is meaningless. */
typedef void (*chat_last_seen_cb)(struct chat_client *c, void *arg, int err, const char *user,
				  int online, int64_t last_seen);

/* Asks the server when user was last connected. cb runs as a done does.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (a bad user
 * name); the session errors. cb gets the answer, or a session error. */
CHAT_API int chat_last_seen(struct chat_client *c, const char *user, chat_last_seen_cb cb,
			    void *arg);

/* Hides (hide = 1) or shows this user's last seen. Hiding it also hides everyone
 * else's from this user, as in the reference design.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; the session errors.
 * done gets NULL as id; err CHAT_OK or a session error. */
CHAT_API int chat_set_privacy(struct chat_client *c, int hide_last_seen, chat_done_cb done,
			      void *arg);

/*
 * Tells the chat's other devices that this user is typing in it (typing 1),
 * or stopped (0): end-to-end encrypted like a message, but relayed by the
 * server to the devices connected now and stored nowhere, and never sent
 * again. A device with no session with this one yet does not hear it
 * (typing never starts one). Call it as the user types: libchat sends at
 * most one typing 1 a chat every 3 s (the rest are dropped here), and a
 * typing 0 once; the server relays at most one a chat a second from a
 * connection (a stop dropped there ends on its own: CHAT_TYPING_SHOW_MS).
 * Typing is off both ways while chat_set_typing_privacy
 * hides it: nothing is sent, and on_typing is not called.
 * Returns CHAT_OK (sent, or dropped as too soon or hidden);
 * CHAT_ERR_NOT_CONNECTED (not online); CHAT_ERR_INVALID; CHAT_ERR_NO_SUCH_CHAT
 * (not in the local store); CHAT_ERR_STORE.
 */
CHAT_API int chat_typing(struct chat_client *c, const char *chat_id, int typing);
/* Hides (1) or shows (0) typing both ways on this home (kept in its store),
 * as hiding last seen does. Returns CHAT_OK or CHAT_ERR_STORE. */
CHAT_API int chat_set_typing_privacy(struct chat_client *c, int hide);
/* 1 if this home hides typing, 0 if not, or CHAT_ERR_STORE. */
CHAT_API int chat_typing_privacy(struct chat_client *c);

/*
 * Blocking (PROTOCOL.md, "Blocking"). The block list is the user's, kept by
 * the server and shared by all their devices; each device keeps a copy,
 * fetched on every connection and updated by the server's push when another
 * device changes it. From a user on it, nothing reaches this user: the
 * server drops their messages and receipts (direct and group chats alike),
 * relays no typing, refuses their adding this user to a group, and shows
 * neither their last seen to the other; and libchat, whatever the server
 * does, reads (so that the sessions stay in step) and throws away every
 * message, reaction, edit, receipt and typing of theirs that still comes:
 * on_message and the others are not called, nothing is stored, it is
 * acknowledged. Group updates they make are still applied (the group's
 * state must stay right). A send to a direct chat with a blocked user
 * fails with CHAT_ERR_BLOCKED ("you blocked alice: unblock them to send");
 * in a group both are in, what this user sends still reaches them, as in
 * WhatsApp: a block hides them from this user, not this user from a group.
 * After an unblock, what they sent meanwhile stays lost; what they send
 * from then on arrives (a group's sender key that moved on meanwhile is
 * recovered as any missing one is, PROTOCOL.md "Recovery").
 *
 * chat_block_user and chat_unblock_user change the list on the server (at
 * once idempotent: blocking twice is fine), then the copy; done gets NULL
 * as id. chat_refresh_blocked fetches the list into the copy.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (a bad user
 * name, or this user); the session errors. done gets CHAT_OK, or
 * CHAT_ERR_REFUSED with chat_client_server_code() "unknown_user" (no such
 * user) or "quota_exceeded" (10,000 users blocked already), or a session
 * error.
 */
CHAT_API int chat_block_user(struct chat_client *c, const char *user, chat_done_cb done,
			     void *arg);
CHAT_API int chat_unblock_user(struct chat_client *c, const char *user, chat_done_cb done,
			       void *arg);
CHAT_API int chat_refresh_blocked(struct chat_client *c, chat_done_cb done, void *arg);
/* Walks the copy of the block list, by name (see "Walks"): each gets a user
 * name. Returns 0, each's non-zero value, or CHAT_ERR_STORE. */
CHAT_API int chat_blocked_users(struct chat_client *c, int (*each)(void *arg, const char *user),
				void *arg);
/* 1 if user is on the copy of the block list, 0 if not (or not a valid
 * name), or CHAT_ERR_STORE. */
CHAT_API int chat_is_blocked(struct chat_client *c, const char *user);

/* History sync (PROTOCOL.md, "History sync"). When chat_approve_device
 * approves a new device, this device then sends it, end to end encrypted and
 * through the outbox (it resumes on the next connection if cut off), the
 * user's history of the last `days` days: chats, members, messages, their
 * files' keys. 0 sends nothing; the default is CHAT_HISTORY_DAYS_DEFAULT, at
 * most CHAT_HISTORY_DAYS_MAX. Progress comes to on_history_sync, on both
 * devices. set returns CHAT_OK or CHAT_ERR_INVALID. progress fills *h with
 * the sending sync of this home (1), or says there is none (0); or
 * CHAT_ERR_STORE. */
#define CHAT_HISTORY_DAYS_DEFAULT 30
#define CHAT_HISTORY_DAYS_MAX     3650
CHAT_API int chat_set_history_days(struct chat_client *c, int days);
CHAT_API int chat_history_days(const struct chat_client *c);
CHAT_API int chat_history_progress(struct chat_client *c, struct chat_history_sync *h);

#define CHAT_SAFETY_NUMBER_LEN 71 /* 12 groups of 5 digits, spaces between */

/* The safety number of this user and user, from the keys pinned for both (see
 * docs/PROTOCOL.md): the same on both sides when nobody is in the middle. out gets
 * CHAT_SAFETY_NUMBER_LEN + 1 bytes.
 * Returns CHAT_OK; CHAT_ERR_NOT_REGISTERED; CHAT_ERR_INVALID (a bad user name,
 * or no device of user is known); CHAT_ERR_STORE. */
CHAT_API int chat_safety_number(struct chat_client *c, const char *user, char *out);

#ifdef __cplusplus
}
#endif
#endif /* CHAT_H */
