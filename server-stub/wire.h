/*
 * wire.h - chat-server's request layer: one complete text frame in, one
 * reply frame out, per docs/PROTOCOL.md.  It validates every field, calls
 * the store, and tells the network layer (through hooks) about the events
 * that concern other connections: a device has authenticated (or been
 * linked, or removed), and a device has new inbox rows; and asks it for the
 * connection waiting on a link request.  It knows nothing about
 * libwebsockets, so the unit tests drive it directly.
 *
 * It is the only part of the server that makes JSON: the store (db.h) takes
 * and returns data, and the network layer sends the text made here.  Its
 * files are wire*.c, one per protocol area; wire_req.h maps them.
 */
#ifndef CHAT_SERVER_WIRE_H
#define CHAT_SERVER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "names.h"
#include "util.h"

/* A new device's request to join a user (linkDevice), kept by the
 * connection that made it and gone with it. */
struct wire_link {
	int pending;
	int64_t created_at; /* the newest of two requests for one key wins */
	int64_t expires_at;
	char user[PROTO_USER_MAX + 1];
	int has_name;
	char name[PROTO_DEVICE_NAME_MAX + 1];
	uint8_t identity_key[PROTO_KEY_BYTES];
	uint8_t exchange_key[PROTO_KEY_BYTES];
	uint8_t exchange_key_sig[PROTO_SIG_BYTES];
	/* The new device's MAC over its keys under the secret its code shows
	 * (PROTOCOL.md, "Devices"): passed on to the approving device, which
	 * alone can check it. */
	uint8_t link_mac[PROTO_LINK_MAC_BYTES];
};

/*
 * Rate limits (PROTOCOL.md, "Rate limits"): a token bucket, refilled on
 * each request from the monotonic clock.  Zeroed is "not started": the
 * first refill fills it to its burst.
 */
struct rate_bucket {
	double tokens;   /* may be below 0: a frame's bytes are taken whole */
	int64_t last_us; /* util_mono_us() of the last refill */
	int started;
};

/* Bursts: so many seconds of the rate. */
#define WIRE_RATE_BURST       4 /* requests */
#define WIRE_RATE_BYTES_BURST 8 /* bytes */
/* Defaults of --rate and --rate-bytes. */
#define WIRE_DEFAULT_RATE       50.0
#define WIRE_DEFAULT_RATE_BYTES (1024.0 * 1024.0)

struct wire_hooks;
struct session;

/* Refill b to now_us: tokens = min(burst, tokens + elapsed * rate). */
void rate_refill(struct rate_bucket *b, double rate, double burst, int64_t now_us);

/* 0 if b holds at least one token, else the ms (at least 1) until it does. */
int64_t rate_wait_ms(const struct rate_bucket *b, double rate);

/*
 * The check of one incoming frame of len bytes against both buckets of s
 * (a rate of 0 disables its bucket).  Returns 0 and takes one request and
 * len bytes, or returns the ms until both buckets hold a token again and
 * takes nothing.
 */
int64_t wire_rate_check(const struct wire_hooks *h, struct session *s, size_t len, int64_t now_us);
/* wire_rate_check, and the order of requests: after a refusal, requests with a
 * larger id (or none) are refused until the refused one is taken. */
int64_t wire_rate_gate(const struct wire_hooks *h, struct session *s, int has_id, int64_t id,
		       size_t len, int64_t now_us);

/* The two buckets of a connection, or of a device's connections together. */
struct rate_pair {
	struct rate_bucket requests, bytes;
};
struct wire_hooks;
/* Refills both buckets of p to now; 1 if both are full (a bucket never used
 * counts as full): forgetting them then loses nothing. */
void wire_rate_refill(const struct wire_hooks *h, struct rate_pair *p, int64_t now_us);
int wire_rate_full(const struct wire_hooks *h, const struct rate_pair *p);

/* What the request layer knows about one connection. */
struct session {
	uint64_t conn_id; /* for the log */
	uint8_t challenge[PROTO_CHALLENGE_BYTES];
	/* wss://: the connection's TLS exporter value (RFC 9266), which the
	 * device signs into register, auth and linkDevice; ws://: none (0). */
	uint8_t binding[PROTO_BINDING_BYTES];
	size_t binding_len;
	int authed;
	char user[PROTO_USER_MAX + 1]; /* valid when authed */
	uint32_t device_id;            /* valid when authed */
	struct wire_link link;         /* unauthenticated, waiting for approval */
	/* auth with "receive": false: the connection only sends; it gets no
	 * inbox pushes and does not replace the device's receiving one. */
	int send_only;
	/* Where the connection comes from, as the per-address limits count it
	 * ("192.0.2.1", "2001:db8::/64"), for the log; "" if unknown. */
	char peer[64];
	/* Rate limits: per connection (own) until auth, then per device: the
	 * network layer points rate at the buckets all connections of the
	 * device share. NULL means own. */
	struct rate_pair own;
	struct rate_pair *rate;
	int64_t rate_hold_id;       /* the refused request the others wait for; 0: none */
	int64_t rate_hold_since_us; /* when it was first refused */
	int64_t rate_hold_us;       /* when it may come again (for retryAfterMs) */
	int64_t rate_logged_us;     /* the last "rate limited" log line */
	uint64_t rate_refused;      /* requests refused since that line */
	/* typing: the chat of the connection's last typing request, and when
	 * (ms): another for that chat within PROTO_TYPING_INTERVAL_MS is
	 * refused. */
	char typing_chat[PROTO_CHAT_ID_LEN + 1];
	int64_t typing_ms;
};

struct wire_hooks {
	struct db *db;
	size_t max_frame;  /* announced in hello */
	double rate;       /* requests per second per connection; 0: no limit */
	double rate_bytes; /* bytes of frames per second per connection; 0: no limit */
	/* Attachments: the key that signs upload and download paths (NULL: the
	 * requests fail with internal), the largest blob (announced in hello
	 * as maxBlob) and how long a signed path is good for, in seconds. */
	const uint8_t *blob_key;
	int64_t max_blob;
	int blob_url_ttl;
	/* The names this server answers to: register, auth and linkDevice must
	 * name one of them (else wrong_server). */
	const struct server_names *names;
	/* Test only (chat-server --test-link-swap): play a hostile server that
	 * swaps every link request's keys for keys of its own. */
	int test_link_swap;
	/* The retention time in ms, announced in hello (0: not announced). */
	int64_t retention_ms;
	/* Quotas (issue 10, item 12; 0: no limit). Per device: blobs asked
	 * for and not uploaded yet, the bytes they may take, the bytes of
	 * blobs uploaded; per recipient device, the bytes its inbox holds. */
	int64_t max_pending_blobs;
	int64_t max_pending_blob_bytes;
	int64_t max_blob_bytes;
	int64_t max_inbox_bytes;
	/* Adding strangers to groups (db_add_limits). */
	struct db_add_limits add_limits;
	/* s has just become (s->user, s->device_id), by register or auth. */
	void (*authenticated)(void *udata, struct session *s);
	/* Inbox rows for this device were written by the request (committed
	 * by the time the network layer acts on it: after the batch). */
	void (*inbox_changed)(void *udata, const char *user, uint32_t device_id);
	/* The same for one row of a send, handed over whole so that its push
	 * can be made without reading it back; row is valid during the call.
	 * NULL: inbox_changed is called instead. */
	void (*inbox_row)(void *udata, const char *user, uint32_t device_id,
			  const struct db_inbox_row *row);
	/* The live sessions waiting on an unexpired link request to join user,
	 * the newest request for each identity key only, oldest first: up to
	 * cap of them into out; returns how many there are in all. */
	size_t (*list_links)(void *udata, const char *user, int64_t now, struct session **out,
			     size_t cap);
	/* s, which was waiting on a link request, has just become the new
	 * device (s->user, s->device_id): push wire_linked(s), then deliver
	 * as after authenticated.  s->link still holds the request (its
	 * keys) during the call, and is cleared after it. */
	void (*linked)(void *udata, struct session *s);
	/* The device was removed, by the session by (which may be the
	 * device's own): close its connection, after by's reply if it is. */
	void (*device_removed)(void *udata, const char *user, uint32_t device_id,
			       const struct session *by);
	/* A bundle took the device's one-time prekeys below PROTO_PREKEYS_LOW
	 * (committed by the time the network layer acts on it: after the
	 * batch): its receiving connection is to look (db_prekeys_low) and push
	 * prekeysLow.  NULL: nobody is told. */
	void (*prekeys_low)(void *udata, const char *user, uint32_t device_id);
	/* An ephemeral frame (typing) for the device's receiving connection,
	 * if it has one and can take it now; never stored. frame is copied.
	 * 1 if queued, 0 if not. NULL: nothing is relayed. */
	int (*ephemeral)(void *udata, const char *user, uint32_t device_id, const char *frame);
	/* A frame for the receiving connection of every device of user that
	 * has one (the blocked push), held as replies are until the batch's
	 * COMMIT; frame is copied. NULL: nobody is told. */
	void (*user_push)(void *udata, const char *user, const char *frame);
	/* 1 if an authenticated connection of user is live (NULL: never). */
	int (*online)(void *udata, const char *user);
	/* Registrations from s's address (--register-rate): 0 if one may be
	 * made now, else the ms until one may; with take, one is counted.
	 * NULL: no limit. */
	int64_t (*register_wait)(void *udata, struct session *s, int take);
	double register_rate; /* per hour, for the message; 0: no limit */
	void *udata;
};

/*
 * The hello push; draws s->challenge.  Returns malloc'd JSON text (free
 * with free()), or NULL when out of memory.
 */
char *wire_hello(const struct wire_hooks *h, struct session *s);

/*
 * Handle one complete text frame of len bytes; frame[len] must be '\0'.
 * Returns the reply as malloc'd JSON text, or NULL when out of memory.
 * Every frame gets exactly one reply, error replies included.
 */
char *wire_handle(const struct wire_hooks *h, struct session *s, const char *frame, size_t len);

/*
 * An error reply to a frame that could not be read at all (id null), e.g.
 * frame_too_large or a binary frame; logged like every error reply.
 */
char *wire_frame_error(const struct session *s, const char *code, const char *message);

/* The newMessage push for an inbox row of a message. */
char *wire_new_message(const struct db_inbox_row *row);

/* The typing push of row's chat, sender, sentAt and ciphertext (nothing
 * else of row is read); malloc'd JSON or NULL. */
char *wire_typing(const struct db_inbox_row *row);

/* The push for any inbox row: newMessage, receipt or chatUpdate. */
char *wire_inbox_push(const struct db_inbox_row *row);

/* The chatUpdate push of an update. */
char *wire_chat_update(const struct db_update *u);

/* The linked push to a session that has just become a new device. */
char *wire_linked(const struct session *s);

/* The missed push: count inbox rows deleted unread for their age, the
 * oldest sent at oldest (ms). */
char *wire_missed(int64_t count, int64_t oldest);

/* The drained push. */
char *wire_drained(void);
/* The blocked push: a user's whole block list (PROTOCOL.md, "Blocking"). */
char *wire_blocked(const char (*names)[PROTO_USER_MAX + 1], size_t n);

/* The prekeysLow push: the device has count one-time prekeys left. */
char *wire_prekeys_low(int64_t count);

#endif /* CHAT_SERVER_WIRE_H */
