/*
 * protocol.h - every constant of docs/PROTOCOL.md, once: the subprotocol and
 * its close codes, the forms of identifiers, the sizes of keys and
 * signatures, the labels that signatures, MACs and keys are made under, the
 * kinds of plaintext, and the limits. Internal (not installed): libchat and
 * chat-server both build on it (common/ is linked into both), and neither
 * writes one of these numbers or strings again.
 *
 * chat.h, the public header, must stand alone, so it repeats the few an
 * application needs (CHAT_USER_MAX, CHAT_MAX_TEXT, ...); client-lib/client.c
 * checks at compile time that each equals its PROTO_ twin here.
 *
 * The limits a server may be configured to change (rates, quotas, the
 * blob size) are chat-server's options, not here: see chat-server(8).
 */
#ifndef CHAT_PROTOCOL_H
#define CHAT_PROTOCOL_H

/* ---- Transport ---------------------------------------------------------- */

#define PROTO_SUBPROTOCOL "chat.v1" /* Sec-WebSocket-Protocol */
#define PROTO_VERSION     1         /* the hello's "protocol" */
#define PROTO_MAX_FRAME   1048576   /* bytes: the frame limit unless the hello says otherwise */
/* The frame limits a hello may announce (chat-server --max-frame): below
 * 1 KiB not even a getKeys reply fits; above 64 MiB one connection's
 * reassembly buffer is more than a server should hold. */
#define PROTO_FRAME_LIMIT_MIN 1024
#define PROTO_FRAME_LIMIT_MAX (64L * 1024 * 1024)
/* 2^53: the largest request id, and of any integer a frame carries (JSON
 * numbers are doubles, exact up to 2^53). */
#define PROTO_ID_MAX 9007199254740992.0

/* Close codes: RFC 6455's, and the server's own (4000-4999). */
#define PROTO_CLOSE_INTERNAL     1011 /* the server could not read its database */
#define PROTO_CLOSE_REPLACED     4001 /* another connection took this device's session */
#define PROTO_CLOSE_REMOVED      4002 /* the device was removed */
#define PROTO_CLOSE_AUTH_TIMEOUT 4003 /* not authenticated in time */

/* Heartbeats: the hangup time in seconds, its default and bounds on both
 * sides; the ping goes out after 40 % of it (proto_heartbeat_ping). */
#define PROTO_HEARTBEAT_DEFAULT 25
#define PROTO_HEARTBEAT_MIN     2
#define PROTO_HEARTBEAT_MAX     3600

/* ---- Identifiers -------------------------------------------------------- */

#define PROTO_USER_MAX 32 /* bytes in a user name (proto_valid_user) */
/* The form of a user name, in words, for error messages. */
#define PROTO_USER_FORM      "1 to 32 of a-z 0-9 . _ -, starting with a letter or digit"
#define PROTO_DEVICE_ID_MAX  2147483647L /* device ids are 1 to 2^31-1 */
#define PROTO_CHAT_ID_LEN    16          /* lowercase hex digits */
#define PROTO_MESSAGE_ID_LEN 32          /* lowercase hex digits (128 random bits) */
#define PROTO_BLOB_ID_LEN    32          /* lowercase hex digits */

/* ---- Keys, signatures, envelopes ---------------------------------------- */

#define PROTO_KEY_BYTES         32  /* an identity key (Ed25519) or exchange key (X25519) */
#define PROTO_SIG_BYTES         64  /* an Ed25519 signature */
#define PROTO_NONCE_BYTES       24  /* an envelope's XChaCha20-Poly1305 nonce */
#define PROTO_TAG_BYTES         16  /* its Poly1305 tag */
#define PROTO_CHALLENGE_BYTES   32  /* the hello's challenge */
#define PROTO_BINDING_BYTES     32  /* the TLS exporter a session signature covers on wss:// */
#define PROTO_SERVER_NAME_MAX   300 /* bytes of a server's name, "host:port" */
#define PROTO_LINK_SECRET_BYTES 10  /* a link code's secret (80 bits) */
#define PROTO_LINK_MAC_BYTES    32  /* linkMac: HMAC-SHA256 */

/* Labels, as ASCII bytes without their NUL. None is a prefix of another
 * used in the same place, so no length needs to go with them. */
/* The session signature of each request (PROTOCOL.md, "The session signature"). */
#define PROTO_LABEL_REGISTER "chat-register-v2"
#define PROTO_LABEL_AUTH     "chat-auth-v2"
#define PROTO_LABEL_LINK     "chat-link-v2"
/* Keys and devices (PROTOCOL.md, "Devices"). */
#define PROTO_LABEL_XKEY      "chat-xkey-v1"      /* an identity key vouches for an exchange key */
#define PROTO_LABEL_DEVICE    "chat-device-v1"    /* a device approves another */
#define PROTO_LABEL_LINK_CODE "chat-link-code-v2" /* the link MAC, and its key's info */
/* Envelopes and safety numbers (PROTOCOL.md, "End-to-end encryption"). */
#define PROTO_LABEL_KDF    "chat-e2e-v1 key" /* an envelope key's HKDF info */
#define PROTO_LABEL_AD_V1  "chat-e2e-v1"     /* an envelope's AD: unpadded (open only) */
#define PROTO_LABEL_AD_V2  "chat-e2e-v2"     /* an envelope's AD: padded */
#define PROTO_LABEL_SAFETY "chat-safety-v1"  /* a safety number */
/* Prekeys (PROTOCOL.md, "uploadPrekeys"): an identity key signs a signed
 * prekey, over the label, its id (4 bytes big-endian) and the key. */
#define PROTO_LABEL_SPK "chat-spk-v1"

/* ---- Limits ------------------------------------------------------------- */

#define PROTO_MAX_TEXT       65536 /* bytes of text in one message */
#define PROTO_MAX_CIPHERTEXT 66560 /* bytes of one envelope's ciphertext, decoded */
/* What the server accepts as one envelope's ciphertext, decoded: a stage 1
 * one (PROTO_MAX_CIPHERTEXT) or a stage 2 one, whose largest is as much again
 * and 512 bytes of stage 2 headers (form, X3DH prekey fields, ratchet header,
 * a group message's sender-key fields). PROTOCOL.md, "sendMessage". */
#define PROTO_MAX_ENVELOPE (PROTO_MAX_CIPHERTEXT + 512)
/* Padding (PROTOCOL.md, "Padding"): plaintexts pad to a power of two from
 * PROTO_PAD_MIN, at most to what one envelope holds less its tag. */
#define PROTO_PAD_MIN          256
#define PROTO_MAX_PADDED       (PROTO_MAX_CIPHERTEXT - PROTO_TAG_BYTES)
#define PROTO_MAX_PLAINTEXT    (PROTO_MAX_PADDED - 1)  /* at least one byte of padding */
#define PROTO_MAX_DEVICES      3                       /* per user */
#define PROTO_MAX_MEMBERS      100                     /* per group, the creator included */
#define PROTO_MAX_MODIFY       (PROTO_MAX_MEMBERS - 1) /* users per modifyChatParticipants */
#define PROTO_GROUP_NAME_MAX   64                      /* bytes of UTF-8 */
#define PROTO_GROUP_DESC_MAX   512                     /* bytes of UTF-8 (updateChat) */
#define PROTO_DEVICE_NAME_MAX  64                      /* bytes */
#define PROTO_LINK_LIFETIME_MS (10 * 60 * 1000)
#define PROTO_MAX_LINKS        5    /* link requests waiting per user */
#define PROTO_MAX_GETKEYS      100  /* users per getKeys */
#define PROTO_MAX_LAST_SEEN    100  /* users per getLastSeen */
#define PROTO_MAX_ACK          1000 /* ids per ack */
#define PROTO_MAX_BLOBS        10   /* blobs per sendMessage: attachments in one message */
/* Envelopes per sendMessage: one per device of every member. */
#define PROTO_MAX_ENVELOPES (PROTO_MAX_MEMBERS * PROTO_MAX_DEVICES)
/* Prekeys (PROTOCOL.md, "Prekeys"). */
#define PROTO_MAX_PREKEYS_UPLOAD 100 /* one-time prekeys per uploadPrekeys */
#define PROTO_MAX_PREKEYS_STORED 200 /* one-time prekeys the server keeps per device */
#define PROTO_PREKEYS_LOW        20  /* below this many the device is told (prekeysLow) */

/* ---- Plaintexts (the first byte says the kind) ---------------------------- */

#define PROTO_BODY_TEXT         0x01 /* UTF-8 text */
#define PROTO_BODY_RECEIPT      0x02 /* status, time (8 bytes), message ids (16 bytes each) */
#define PROTO_BODY_ATTACH       0x03 /* text and attachments, JSON (client-lib/attach.h) */
#define PROTO_RECEIPT_HEAD      10   /* a receipt's kind, status and time */
#define PROTO_RECEIPT_ID_BYTES  (PROTO_MESSAGE_ID_LEN / 2) /* a message id in a receipt, raw */
#define PROTO_MAX_RECEIPT_IDS   1000                       /* message ids in one receipt */
#define PROTO_RECEIPT_DELIVERED 1 /* a receipt's status: a device of the user stored it */
#define PROTO_RECEIPT_READ      2 /* the user has seen it */
#define PROTO_RECEIPT_UNDECRYPTABLE 3 /* the device could not decrypt it; new session (stage 2) */
#define PROTO_BODY_SENDER_KEY   0x04 /* stage 2: a sender key of a group chat (inside a 0x23 form) */
#define PROTO_BODY_REPLY        0x05 /* text quoting an earlier message, JSON (client-lib/reply.h) */
#define PROTO_BODY_REACTION     0x06 /* one emoji on a message, or none, JSON (client-lib/reply.h) */
#define PROTO_REPLY_PREVIEW_MAX 100 /* bytes of the quoted text a reply carries */
#define PROTO_EMOJI_MAX         32  /* bytes of a reaction's emoji */
#define PROTO_BODY_TYPING       0x07 /* typing: one byte more, 1 typing, 0 stopped (PROTOCOL.md) */
/* Edits and deletes (PROTOCOL.md): an earlier message of the sender's, its new
 * text (0x08) or deleted for everyone (0x09), JSON (client-lib/reply.h); a
 * delete counts up to PROTO_DELETE_WINDOW_MS after its target's sentAt. */
#define PROTO_BODY_EDIT        0x08
#define PROTO_BODY_DELETE      0x09
#define PROTO_DELETE_WINDOW_MS (48LL * 3600 * 1000)
/* Disappearing messages (PROTOCOL.md, "Disappearing messages"): a chat's
 * timer, JSON {"seconds": N} (client-lib/reply.h); 0 turns it off, else
 * PROTO_TIMER_MIN_S .. PROTO_TIMER_MAX_S (30 seconds .. 90 days). */
#define PROTO_BODY_TIMER  0x0a
#define PROTO_TIMER_MIN_S 30LL
#define PROTO_TIMER_MAX_S (90LL * 24 * 3600)
/* Chat settings (PROTOCOL.md, "Chat settings"): one chat's mute, pin and
 * archive as a device of the user set them, sent in the user's notes to
 * self to their other devices; JSON (client-lib/reply.h), at most
 * PROTO_MAX_PREFS_BODY bytes with the kind byte. */
#define PROTO_BODY_PREFS     0x0b
#define PROTO_MAX_PREFS_BODY 512
#define PROTO_PREFS_MAX_MS   9007199254740991LL /* 2^53 - 1: exact in JSON */
/* History sync (PROTOCOL.md, "History sync"): a batch of a user's recent
 * history, sent by the device that approved a new one to it alone, JSON
 * (client-lib/history.h). Bounds every receiver checks. */
#define PROTO_BODY_HISTORY        0x0c
#define PROTO_HISTORY_MAX_JSON    60000  /* bytes of one batch's JSON */
#define PROTO_HISTORY_MAX_CHATS   64     /* chats described in one batch */
#define PROTO_HISTORY_MAX_ITEMS   1000   /* messages in one batch */
#define PROTO_HISTORY_MAX_PARTS   100000 /* batches in one sync */
#define PROTO_HISTORY_MAX_DAYS    3650   /* the window a sender may be asked for */
/* Typing (PROTOCOL.md, "typing"): a typing envelope's ciphertext is at most
 * this many bytes decoded, and a device sends one a chat at most this often. */
#define PROTO_MAX_TYPING_CIPHERTEXT 1024
#define PROTO_TYPING_INTERVAL_MS    1000

#endif /* CHAT_PROTOCOL_H */
