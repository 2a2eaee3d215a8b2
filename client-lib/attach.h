/*
 * attach.h - attachments' file crypto and message body (docs/PROTOCOL.md,
 * "Attachments (media)"). Internal to libchat (not installed); no network here.
 *
 * A file is encrypted with crypto_secretstream_xchacha20poly1305 under a fresh
 * random key: the 24-byte stream header, then the plaintext in chunks of
 * ATTACH_CHUNK bytes (the last one shorter, or empty for an empty file), each
 * sealed with crypto_secretstream_xchacha20poly1305_ABYTES = 17 more bytes (a
 * 1-byte encrypted tag and a 16-byte MAC). Every chunk but the last is tagged
 * MESSAGE, the last FINAL. So the ciphertext of `size` bytes is exactly
 *
 *     enc_size = 24 + size + 17 * nchunks,  nchunks = max(1, ceil(size / 65536))
 *
 * (a file of exactly 64 KiB is one FINAL chunk, not a full chunk and an empty
 * one). attach_enc_size() computes it; decryption and attach_body_parse() refuse
 * any other size, so a file has exactly one valid layout.
 *
 * Precondition: sodium_init() has succeeded (as for e2e.h).
 *
 * Functions return ATTACH_OK (0) or a negative ATTACH_ERR_*; err (may be NULL)
 * gets a sentence saying what went wrong, naming the file.
 */
#ifndef CHAT_ATTACH_H
#define CHAT_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

#define ATTACH_KEY_BYTES    32
#define ATTACH_SHA256_BYTES 32
#define ATTACH_HEADER_BYTES 24    /* crypto_secretstream_xchacha20poly1305_HEADERBYTES */
#define ATTACH_ABYTES       17    /* crypto_secretstream_xchacha20poly1305_ABYTES */
#define ATTACH_CHUNK        65536 /* plaintext bytes per chunk */
#define ATTACH_NAME_MAX     255   /* bytes of a name, UTF-8 */
#define ATTACH_TYPE_MAX     127   /* bytes of a media type */
/* The largest plaintext this format accepts (1 TiB): far above any server's
 * limit, far below 2^53 (JSON numbers are doubles) and any uint64_t overflow. */
#define ATTACH_SIZE_LIMIT ((uint64_t)1 << 40)
/* The largest 0x03 body: it must fit one envelope with its padding. */
#define ATTACH_BODY_MAX PROTO_MAX_PLAINTEXT

enum {
	ATTACH_OK = 0,
	ATTACH_ERR_ARGS = -1,      /* a bad argument or attach_meta */
	ATTACH_ERR_INPUT = -2,     /* input missing, unreadable, not a regular file, changed */
	ATTACH_ERR_TOO_LARGE = -3, /* over the caller's limit or ATTACH_SIZE_LIMIT */
	ATTACH_ERR_OUTPUT = -4,    /* output cannot be created or written (dir missing, ...) */
	ATTACH_ERR_NOSPACE = -5,   /* ENOSPC (or EDQUOT) while writing */
	ATTACH_ERR_HASH = -6,      /* ciphertext's size or SHA-256 is not the expected one */
	ATTACH_ERR_AUTH = -7,      /* a chunk does not authenticate, or bad framing */
	ATTACH_ERR_NOMEM = -8,
	ATTACH_ERR_FORMAT = -9 /* attach_body_parse: not a valid 0x03 body */
};

/*
 * One attachment: what travels in the message. sha256 is kept raw (32 bytes),
 * not hex: fixed size, one form, compared with sodium_memcmp; the JSON carries
 * it as 64 lowercase hex digits. key is secret: wipe with attach_meta_wipe().
 */
struct attach_meta {
	char blob_id[PROTO_BLOB_ID_LEN + 1]; /* "" until the caller uploads it */
	char name[ATTACH_NAME_MAX + 1];      /* a safe base name: see attach_valid_name() */
	char type[ATTACH_TYPE_MAX + 1];      /* e.g. "image/jpeg" */
	uint64_t size;                       /* plaintext bytes */
	uint64_t enc_size;                   /* ciphertext bytes: attach_enc_size(size) */
	uint8_t key[ATTACH_KEY_BYTES];
	uint8_t sha256[ATTACH_SHA256_BYTES]; /* of the whole ciphertext file */
};

/* The ciphertext size for a plaintext of size bytes (formula above), or 0 if
 * size is over ATTACH_SIZE_LIMIT. */
uint64_t attach_enc_size(uint64_t size);

/*
 * Encrypts the regular file in_path into out_path, reading and writing
 * ATTACH_CHUNK bytes at a time (never the whole file in memory), with a fresh
 * random key. Fills *m except blob_id (set to ""): key, sha256 of out_path,
 * size, enc_size, name (the base name of in_path, made safe: invalid UTF-8 and
 * control bytes become '_', cut to ATTACH_NAME_MAX bytes at a character
 * boundary) and type (guessed from the name's extension, else
 * "application/octet-stream").
 *
 * out_path is created with O_CREAT|O_EXCL, mode 0600: it must not exist (so a
 * call never replaces or follows anything), and the file is wholly this call's,
 * so on any failure it is unlinked. It is fsync'd before success is returned.
 * It is complete only when the call returns ATTACH_OK.
 *
 * max_enc_size: the largest ciphertext accepted (the server's limits.maxBlob);
 * 0 means only ATTACH_SIZE_LIMIT. A larger file is ATTACH_ERR_TOO_LARGE and
 * nothing is written. A file that grows or shrinks while it is read is
 * ATTACH_ERR_INPUT.
 *
 * On failure *m is wiped and no file is left at out_path.
 */
int attach_encrypt(const char *in_path, const char *out_path, uint64_t max_enc_size,
		   struct attach_meta *m, char *err, size_t errlen);

/*
 * Decrypts in_path (a downloaded ciphertext) into out_path with m's key. First
 * checks that in_path is a regular file of exactly m->enc_size bytes whose
 * SHA-256 is m->sha256 (ATTACH_ERR_HASH otherwise: truncated, trailing data,
 * tampered download), then decrypts chunk by chunk into a temporary file
 * ".chat-attach-XXXXXX" (mkstemp: O_EXCL, mode 0600) in out_path's directory,
 * checking that every chunk authenticates, that only the last is FINAL and
 * that nothing follows it (ATTACH_ERR_AUTH: wrong key, tampered chunk), and
 * hashing the bytes again as they are read (a file changed between the two
 * passes is ATTACH_ERR_HASH). Then fsyncs the file and renames it onto
 * out_path, replacing any file there, and fsyncs the directory.
 *
 * Nothing is ever written under out_path but the complete, verified file; the
 * temporary file is removed on any failure. Plaintext buffers and the stream
 * state are wiped.
 */
int attach_decrypt(const char *in_path, const struct attach_meta *m, const char *out_path,
		   char *err, size_t errlen);

/* 1 if name is a safe attachment name: 1 to ATTACH_NAME_MAX bytes of well-formed
 * UTF-8, no '/', no control characters (C0, DEL), not "." or "..". */
int attach_valid_name(const char *name);
/* 1 if type is a media type "type/subtype" of RFC 6838 restricted-name
 * characters, at most ATTACH_TYPE_MAX bytes, no parameters. */
int attach_valid_type(const char *type);
/* The media type guessed from name's extension (case-insensitive), else
 * "application/octet-stream". A static string. */
const char *attach_guess_type(const char *name);

/*
 * The body of kind 0x03 (PROTO_BODY_ATTACH): the byte 0x03, then
 * {"text": text, "attachments": [{"blobId", "name", "type", "size", "encSize",
 * "key" (base64), "sha256" (hex)}, ...]}. text may be NULL (""); it must be
 * well-formed UTF-8 of at most CHAT_MAX_TEXT bytes. n is 1 to PROTO_MAX_BLOBS
 * and every atts[i] must pass the checks attach_body_parse() makes (blob_id
 * set). Returns a malloc'd buffer and its length in *len, or NULL (err says
 * why: bad input, over ATTACH_BODY_MAX, no memory). The buffer holds the keys:
 * sodium_memzero() it before free().
 */
uint8_t *attach_body_build(const char *text, const struct attach_meta *atts, size_t n, size_t *len,
			   char *err, size_t errlen);

/*
 * Parses a 0x03 body strictly: at most ATTACH_BODY_MAX bytes, one JSON object
 * and nothing after it, no duplicate members, no "\u0000"; "text" a string as
 * above; "attachments" 1 to PROTO_MAX_BLOBS objects, each with blobId (32
 * lowercase hex), name (attach_valid_name), type (attach_valid_type), size (an
 * integer, 0 to ATTACH_SIZE_LIMIT), encSize (exactly attach_enc_size(size)),
 * key (base64 of exactly 32 bytes), sha256 (exactly 64 lowercase hex). Unknown
 * members are ignored (later versions may add some).
 *
 * On success returns ATTACH_OK with *text malloc'd (free()) and *atts a
 * malloc'd array of *n (free with attach_meta_free()). Otherwise
 * ATTACH_ERR_FORMAT (or ATTACH_ERR_NOMEM, ATTACH_ERR_ARGS) and the outputs
 * are NULL / 0.
 */
int attach_body_parse(const uint8_t *body, size_t len, char **text, struct attach_meta **atts,
		      size_t *n, char *err, size_t errlen);

/* One attachment as a member of a JSON object o (the form of the 0x03
 * body's "attachments", also used by history batches): 0, or -1 out of
 * memory. parse_one reads one (the i-th, for err) as attach_body_parse
 * does: 0, or -1 with err. */
#include <cjson/cJSON.h>
int attach_meta_json(cJSON *o, const struct attach_meta *m);
int attach_parse_one(const cJSON *o, size_t i, struct attach_meta *m, char *err, size_t errlen);

/* Wipes (keys included) and frees an array from attach_body_parse(); NULL is fine. */
void attach_meta_free(struct attach_meta *atts, size_t n);
/* Wipes one attach_meta (e.g. one filled by attach_encrypt on the stack). */
void attach_meta_wipe(struct attach_meta *m);

/* attach.c and attach_body.c: err (if not NULL) gets the sentence. */
void attach_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* CHAT_ATTACH_H */
