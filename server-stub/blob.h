/*
 * blob.h - the blob store's secrets and URLs (PROTOCOL.md, "Attachments"):
 * the HMAC key kept next to the database, the signatures of pre-signed
 * upload and download paths, and the parsing of those paths when they come
 * back over HTTP.  No I/O but the key file; no libwebsockets, so the unit
 * tests drive it directly.
 *
 * The seam for another blob store (S3 or the like; issue 16).  What a blob
 * is and who may read it is the database's (db_blobs.c: rows, owners,
 * quotas, which message refers to which blob), and the signed paths are
 * this file's: neither knows where the bytes are.  The bytes are a
 * directory's (--blobs, shared by the instances of a cluster), touched in
 * four places only, each by the blob id:
 *
 *   put      server_http.c http_put/http_body/http_body_done: <id>.part
 *            made exclusively, written as the body arrives, fsync'd, then
 *            renamed to <id> (visible whole or not at all), then the row
 *            marked complete;
 *   get      server_http.c http_get: <id> served as a file;
 *   delete   server_limits.c unlink_blob: after the purge's rows are
 *            committed;
 *   sweep    server_limits.c remove_stale_parts: .part files untouched
 *            for an hour (another instance's upload may be in progress).
 *
 * An object store would take those four as calls (begin/append/commit or
 * abort an upload, open a download, delete, sweep incomplete uploads), or
 * answer the signed paths itself: the signatures are HMAC-SHA256 over
 * "put\n<id>\n<exp>\n<max>" and "get\n<id>\n<exp>" (PROTOCOL.md), which
 * a front that holds the key can check without the server.  Nothing else
 * in the server opens a blob file.
 */
#ifndef CHAT_SERVER_BLOB_H
#define CHAT_SERVER_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

#define BLOB_KEY_BYTES 32
#define BLOB_SIG_LEN   64 /* lowercase hex of HMAC-SHA256 */

/* --max-blob: the default (100 MiB) and the largest accepted (1 TiB). */
#define BLOB_DEFAULT_MAX (100LL * 1024 * 1024)
#define BLOB_MAX_MAX     (1024LL * 1024 * 1024 * 1024)
/* How long a pre-signed path is good for, in seconds (the contract's 5
 * minutes; the hidden --blob-url-ttl changes it for tests). */
#define BLOB_URL_TTL 300
/* A blob no message refers to is deleted this long after it was made. */
#define BLOB_ORPHAN_MS (60LL * 60 * 1000)

/*
 * Read the key at path, or create it (32 random bytes, mode 0600) if there is
 * no file; created exclusively, so that of instances sharing one key file
 * (--blob-key) starting at once, the first one's is every one's.  Returns 0,
 * or -1 with a reason naming path in err: a file that cannot be read, does
 * not hold exactly 32 bytes, or may be read by others than its owner (any
 * mode bit for group or others) is an error, never replaced (every signed
 * path out there would stop working).
 */
int blob_key_load(const char *path, uint8_t key[BLOB_KEY_BYTES], char *err, size_t errlen);

/* blob_key_load without the making: a missing file is an error too (errno
 * ENOENT then).  For --check-config, which changes nothing. */
int blob_key_read(const char *path, uint8_t key[BLOB_KEY_BYTES], char *err, size_t errlen);

/* The signature of an upload path: lowercase hex HMAC-SHA256 under key of
 * "put\n<blob_id>\n<exp>\n<max>"; out gets BLOB_SIG_LEN digits and a NUL. */
void blob_sign_put(const uint8_t key[BLOB_KEY_BYTES], const char *blob_id, int64_t exp, int64_t max,
		   char out[BLOB_SIG_LEN + 1]);
/* The signature of a download path: over "get\n<blob_id>\n<exp>". */
void blob_sign_get(const uint8_t key[BLOB_KEY_BYTES], const char *blob_id, int64_t exp,
		   char out[BLOB_SIG_LEN + 1]);

/* 1 if sig (BLOB_SIG_LEN lowercase hex digits) equals want, compared in
 * constant time; 0 otherwise. */
int blob_sig_equal(const char *sig, const char *want);

/* The path given to a client (malloc'd, NULL when out of memory). */
char *blob_upload_path(const uint8_t key[BLOB_KEY_BYTES], const char *blob_id, int64_t exp,
		       int64_t max);
char *blob_download_path(const uint8_t key[BLOB_KEY_BYTES], const char *blob_id, int64_t exp);

/*
 * The blob id of an HTTP path "/blobs/<32 hex>" (the query string already
 * split off): 0 with id filled, -1 if path is not of that form.
 */
int blob_parse_path(const char *path, char id[PROTO_BLOB_ID_LEN + 1]);

/* A query value that is a decimal number of at most 18 digits, without a sign or
 * leading zeros: 0, or -1. */
int blob_parse_number(const char *s, int64_t *out);

#endif /* CHAT_SERVER_BLOB_H */
