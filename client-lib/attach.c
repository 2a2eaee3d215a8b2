/*
 * attach.c - attachments' files: their names and types, and their encryption
 * with crypto_secretstream (see attach.h for the format). The 0x03 message
 * body that carries their keys is attach_body.c's.
 *
 * Requires sodium_init() to have been called.
 */
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "proto.h"

_Static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == ATTACH_KEY_BYTES &&
		       crypto_secretstream_xchacha20poly1305_HEADERBYTES == ATTACH_HEADER_BYTES &&
		       crypto_secretstream_xchacha20poly1305_ABYTES == ATTACH_ABYTES &&
		       crypto_hash_sha256_BYTES == ATTACH_SHA256_BYTES,
	       "libsodium sizes match attach.h");

#define ATTACH_SEALED   (ATTACH_CHUNK + ATTACH_ABYTES) /* one full chunk, sealed */
#define ATTACH_TMP_NAME "/.chat-attach-XXXXXX"

void
attach_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

uint64_t
attach_enc_size(uint64_t size)
{
	uint64_t nchunks;

	if (size > ATTACH_SIZE_LIMIT)
		return 0;
	nchunks = size == 0 ? 1 : (size + ATTACH_CHUNK - 1) / ATTACH_CHUNK;
	return ATTACH_HEADER_BYTES + size + ATTACH_ABYTES * nchunks;
}

/* ------------------------------------------------------------------ */
/* Names and types                                                     */
/* ------------------------------------------------------------------ */

int
attach_valid_name(const char *name)
{
	size_t len;

	if (name == NULL)
		return 0;
	len = strnlen(name, ATTACH_NAME_MAX + 1);
	if (len == 0 || len > ATTACH_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch == '/' || ch < 0x20 || ch == 0x7f)
			return 0;
	}
	/* C1 controls (U+0080-U+009F) pass: harmless in a file name, and
	 * rejecting them buys nothing the receiver's display code must not do anyway. */
	return proto_valid_utf8(name, len);
}

/* RFC 6838 restricted-name-chars. */
static int
attach_type_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       strchr("!#$&-^_.+", ch) != NULL;
}

int
attach_valid_type(const char *type)
{
	size_t len, slash = 0, nslash = 0;

	if (type == NULL)
		return 0;
	len = strnlen(type, ATTACH_TYPE_MAX + 1);
	if (len == 0 || len > ATTACH_TYPE_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (type[i] == '/') {
			slash = i;
			nslash++;
		} else if (!attach_type_char(type[i]))
			return 0;
	}
	/* Both halves non-empty and start with a letter or digit (RFC 6838 4.2). */
	return nslash == 1 && slash > 0 && slash + 1 < len && type[0] != '-' &&
	       attach_type_char(type[slash + 1]) && strchr("!#$&-^_.+", type[0]) == NULL &&
	       strchr("!#$&-^_.+", type[slash + 1]) == NULL;
}

static const struct {
	const char *ext, *type;
} attach_types[] = {
	{"jpg", "image/jpeg"},
	{"jpeg", "image/jpeg"},
	{"png", "image/png"},
	{"gif", "image/gif"},
	{"webp", "image/webp"},
	{"heic", "image/heic"},
	{"mp4", "video/mp4"},
	{"mov", "video/quicktime"},
	{"webm", "video/webm"},
	{"mp3", "audio/mpeg"},
	{"m4a", "audio/mp4"},
	{"ogg", "audio/ogg"},
	/* .opus files are Ogg streams (RFC 7845 section 9); audio/opus names
	 * the RTP payload, so players expect audio/ogg for the file. */
	{"opus", "audio/ogg"},
	{"wav", "audio/wav"},
	{"pdf", "application/pdf"},
	{"txt", "text/plain"},
	{"md", "text/markdown"},
	{"zip", "application/zip"},
	{"json", "application/json"},
};

const char *
attach_guess_type(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;

	/* No extension, or a leading dot only (".profile"). */
	if (dot == NULL || dot == name || dot[1] == '\0')
		return "application/octet-stream";
	for (size_t i = 0; i < sizeof attach_types / sizeof attach_types[0]; i++)
		if (strcasecmp(dot + 1, attach_types[i].ext) == 0)
			return attach_types[i].type;
	return "application/octet-stream";
}

/* The base name of path made safe (attach_valid_name) into out: invalid UTF-8
 * and control bytes become '_', cut at ATTACH_NAME_MAX bytes on a character
 * boundary; "file" if nothing is left. */
static void
attach_sanitize_name(const char *path, char out[ATTACH_NAME_MAX + 1])
{
	const char *base = strrchr(path, '/');
	const unsigned char *s;
	size_t len, o = 0;

	base = base ? base + 1 : path;
	s = (const unsigned char *)base;
	len = strlen(base);
	for (size_t i = 0; i < len;) {
		size_t n = proto_utf8_seq(s + i, len - i);

		if (n == 0 || (n == 1 && (s[i] < 0x20 || s[i] == 0x7f))) {
			if (o + 1 > ATTACH_NAME_MAX)
				break;
			out[o++] = '_';
			i++;
			continue;
		}
		if (o + n > ATTACH_NAME_MAX)
			break;
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	if (!attach_valid_name(out)) /* "", ".", "..": cannot be a regular file's name */
		snprintf(out, ATTACH_NAME_MAX + 1, "file");
}

/* ------------------------------------------------------------------ */
/* File I/O                                                            */
/* ------------------------------------------------------------------ */

/* Reads up to n bytes, fewer only at end of file. Returns the count or -1. */
static ssize_t
attach_read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int
attach_write_full(int fd, const uint8_t *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The error for a failed write, fsync or close on path (errno set). */
static int
attach_write_err(const char *what, const char *path, char *err, size_t errlen)
{
	int e = errno;

	if (e == ENOSPC || e == EDQUOT) {
		attach_err(err, errlen, "%s %s: disk full (%s)", what, path, strerror(e));
		return ATTACH_ERR_NOSPACE;
	}
	attach_err(err, errlen, "%s %s: %s", what, path, strerror(e));
	return ATTACH_ERR_OUTPUT;
}

/* Opens in_path for reading without blocking on a FIFO or device and checks it
 * is a regular file. Returns the fd, or a negative ATTACH_ERR_*. */
static int
attach_open_input(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int flags;

	if (fd < 0) {
		attach_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return ATTACH_ERR_INPUT;
	}
	if (fstat(fd, st) != 0) {
		attach_err(err, errlen, "cannot stat %s: %s", path, strerror(errno));
		close(fd);
		return ATTACH_ERR_INPUT;
	}
	if (!S_ISREG(st->st_mode)) {
		attach_err(err, errlen, "%s is not a regular file", path);
		close(fd);
		return ATTACH_ERR_INPUT;
	}
	if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		attach_err(err, errlen, "cannot read %s: %s", path, strerror(errno));
		close(fd);
		return ATTACH_ERR_INPUT;
	}
	return fd;
}

/* ------------------------------------------------------------------ */
/* Encrypt                                                             */
/* ------------------------------------------------------------------ */

int
attach_encrypt(const char *in_path, const char *out_path, uint64_t max_enc_size,
	       struct attach_meta *m, char *err, size_t errlen)
{
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_hash_sha256_state hs;
	uint8_t header[ATTACH_HEADER_BYTES];
	uint8_t *pt = NULL, *ct = NULL;
	struct stat sb;
	uint64_t size, done = 0, enc;
	int in = -1, out = -1, created = 0, rc;

	if (err && errlen)
		err[0] = '\0';
	if (in_path == NULL || out_path == NULL || m == NULL) {
		attach_err(err, errlen, "attach_encrypt: missing argument");
		return ATTACH_ERR_ARGS;
	}
	memset(m, 0, sizeof *m);
	if ((in = attach_open_input(in_path, &sb, err, errlen)) < 0)
		return in;
	size = (uint64_t)sb.st_size;
	if (size > ATTACH_SIZE_LIMIT) {
		attach_err(err, errlen, "%s is too large: %llu bytes, over the limit of %llu",
			   in_path, (unsigned long long)size,
			   (unsigned long long)ATTACH_SIZE_LIMIT);
		close(in);
		return ATTACH_ERR_TOO_LARGE;
	}
	if (max_enc_size && attach_enc_size(size) > max_enc_size) {
		attach_err(err, errlen,
			   "%s is too large: %llu bytes, which encrypt to %llu, over the limit "
			   "of %llu",
			   in_path, (unsigned long long)size,
			   (unsigned long long)attach_enc_size(size),
			   (unsigned long long)max_enc_size);
		close(in);
		return ATTACH_ERR_TOO_LARGE;
	}
	enc = attach_enc_size(size);
	pt = malloc(ATTACH_CHUNK);
	ct = malloc(ATTACH_SEALED);
	if (pt == NULL || ct == NULL) {
		attach_err(err, errlen, "out of memory");
		rc = ATTACH_ERR_NOMEM;
		goto fail;
	}
	out = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (out < 0) {
		attach_err(err, errlen, "cannot create %s: %s", out_path, strerror(errno));
		rc = ATTACH_ERR_OUTPUT;
		goto fail;
	}
	created = 1;

	crypto_secretstream_xchacha20poly1305_keygen(m->key);
	if (crypto_secretstream_xchacha20poly1305_init_push(&st, header, m->key) != 0 ||
	    crypto_hash_sha256_init(&hs) != 0 ||
	    crypto_hash_sha256_update(&hs, header, sizeof header) != 0) {
		attach_err(err, errlen, "cannot start encrypting %s", in_path);
		rc = ATTACH_ERR_ARGS;
		goto fail;
	}
	if (attach_write_full(out, header, sizeof header) != 0) {
		rc = attach_write_err("cannot write", out_path, err, errlen);
		goto fail;
	}
	/* Exactly size bytes, as fstat said: the number of chunks and the FINAL
	 * tag depend on it, so a file that changes under us is refused rather
	 * than sent with a layout that does not match its encSize. */
	do {
		size_t want = size - done < ATTACH_CHUNK ? (size_t)(size - done) : ATTACH_CHUNK;
		int last = done + want == size;
		unsigned long long clen = 0;
		ssize_t got = attach_read_full(in, pt, want);

		if (got < 0) {
			attach_err(err, errlen, "cannot read %s: %s", in_path, strerror(errno));
			rc = ATTACH_ERR_INPUT;
			goto fail;
		}
		if ((size_t)got != want) {
			attach_err(err, errlen, "%s shrank while it was being read", in_path);
			rc = ATTACH_ERR_INPUT;
			goto fail;
		}
		if (crypto_secretstream_xchacha20poly1305_push(
			    &st, ct, &clen, pt, want, NULL, 0,
			    last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
				 : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) != 0 ||
		    clen != want + ATTACH_ABYTES) {
			attach_err(err, errlen, "cannot encrypt %s", in_path);
			rc = ATTACH_ERR_ARGS;
			goto fail;
		}
		if (crypto_hash_sha256_update(&hs, ct, clen) != 0) {
			attach_err(err, errlen, "cannot hash %s", out_path);
			rc = ATTACH_ERR_ARGS;
			goto fail;
		}
		if (attach_write_full(out, ct, clen) != 0) {
			rc = attach_write_err("cannot write", out_path, err, errlen);
			goto fail;
		}
		done += want;
	} while (done < size);
	{
		uint8_t probe;
		ssize_t r;

		while ((r = read(in, &probe, 1)) < 0 && errno == EINTR)
			;
		if (r != 0) {
			attach_err(err, errlen, "%s %s", in_path,
				   r > 0 ? "grew while it was being read" : strerror(errno));
			rc = ATTACH_ERR_INPUT;
			goto fail;
		}
	}
	/* ENOSPC and EIO may only show at fsync or close (delayed allocation, NFS). */
	if (fsync(out) != 0) {
		rc = attach_write_err("cannot sync", out_path, err, errlen);
		goto fail;
	}
	rc = close(out);
	out = -1;
	if (rc != 0) {
		rc = attach_write_err("cannot close", out_path, err, errlen);
		goto fail;
	}
	if (crypto_hash_sha256_final(&hs, m->sha256) != 0) {
		attach_err(err, errlen, "cannot hash %s", out_path);
		rc = ATTACH_ERR_ARGS;
		goto fail;
	}
	close(in);
	m->size = size;
	m->enc_size = enc;
	attach_sanitize_name(in_path, m->name);
	/* From the name as it was: cutting a long one may have lost its extension. */
	snprintf(m->type, sizeof m->type, "%s",
		 attach_guess_type(strrchr(in_path, '/') ? strrchr(in_path, '/') + 1 : in_path));
	sodium_memzero(&st, sizeof st);
	sodium_memzero(pt, ATTACH_CHUNK);
	free(pt);
	free(ct);
	return ATTACH_OK;

fail:
	if (out >= 0)
		close(out);
	/* O_EXCL made it ours: removing it can take nothing of anyone else's. */
	if (created)
		unlink(out_path);
	if (in >= 0)
		close(in);
	sodium_memzero(&st, sizeof st);
	if (pt != NULL)
		sodium_memzero(pt, ATTACH_CHUNK);
	free(pt);
	free(ct);
	attach_meta_wipe(m);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Decrypt                                                             */
/* ------------------------------------------------------------------ */

/* The temporary file's template in path's directory, and that directory, both
 * malloc'd. NULL on no memory. */
static char *
attach_tmp_template(const char *path, char **dir)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 1;
	const char *d = slash ? path : ".";
	char *t = malloc(dlen + sizeof ATTACH_TMP_NAME);

	*dir = malloc(dlen + 2);
	if (t == NULL || *dir == NULL) {
		free(t);
		free(*dir);
		*dir = NULL;
		return NULL;
	}
	memcpy(t, d, dlen);
	memcpy(t + dlen, ATTACH_TMP_NAME, sizeof ATTACH_TMP_NAME);
	if (dlen == 0) /* "/name": the root */
		snprintf(*dir, 2, "/");
	else {
		memcpy(*dir, d, dlen);
		(*dir)[dlen] = '\0';
	}
	return t;
}

/* A rename is durable once its directory is synced. Best effort: the file is
 * complete and in place whatever happens here. */
static void
attach_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* SHA-256 of the whole of fd (from its start) into digest; *total gets the
 * number of bytes. Returns 0, or -1 with errno set. */
static int
attach_hash_fd(int fd, uint8_t *buf, size_t cap, uint8_t digest[ATTACH_SHA256_BYTES],
	       uint64_t *total)
{
	crypto_hash_sha256_state hs;
	ssize_t got;

	*total = 0;
	if (crypto_hash_sha256_init(&hs) != 0)
		return -1;
	while ((got = attach_read_full(fd, buf, cap)) > 0) {
		if (crypto_hash_sha256_update(&hs, buf, (size_t)got) != 0)
			return -1;
		*total += (uint64_t)got;
	}
	if (got < 0 || crypto_hash_sha256_final(&hs, digest) != 0)
		return -1;
	return 0;
}

int
attach_decrypt(const char *in_path, const struct attach_meta *m, const char *out_path, char *err,
	       size_t errlen)
{
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_hash_sha256_state hs;
	uint8_t header[ATTACH_HEADER_BYTES], digest[ATTACH_SHA256_BYTES];
	uint8_t *pt = NULL, *ct = NULL;
	char *tmp = NULL, *dir = NULL;
	struct stat sb;
	uint64_t left, total, chunk = 0;
	int in = -1, out = -1, made = 0, rc;

	if (err && errlen)
		err[0] = '\0';
	if (in_path == NULL || m == NULL || out_path == NULL) {
		attach_err(err, errlen, "attach_decrypt: missing argument");
		return ATTACH_ERR_ARGS;
	}
	if (m->size > ATTACH_SIZE_LIMIT || m->enc_size != attach_enc_size(m->size)) {
		attach_err(err, errlen,
			   "attachment sizes do not match: %llu bytes cannot encrypt "
			   "to %llu",
			   (unsigned long long)m->size, (unsigned long long)m->enc_size);
		return ATTACH_ERR_ARGS;
	}
	if (out_path[0] == '\0' || out_path[strlen(out_path) - 1] == '/') {
		attach_err(err, errlen, "%s is not a file name", out_path);
		return ATTACH_ERR_ARGS;
	}
	if ((in = attach_open_input(in_path, &sb, err, errlen)) < 0)
		return in;
	if ((uint64_t)sb.st_size != m->enc_size) {
		uint64_t have = (uint64_t)sb.st_size;

		if (have < m->enc_size)
			attach_err(err, errlen, "%s is truncated: %llu bytes, expected %llu",
				   in_path, (unsigned long long)have,
				   (unsigned long long)m->enc_size);
		else
			attach_err(err, errlen,
				   "%s has %llu bytes of trailing data (expected %llu)", in_path,
				   (unsigned long long)(have - m->enc_size),
				   (unsigned long long)m->enc_size);
		close(in);
		return ATTACH_ERR_HASH;
	}
	pt = malloc(ATTACH_CHUNK);
	ct = malloc(ATTACH_SEALED);
	if (pt == NULL || ct == NULL || (tmp = attach_tmp_template(out_path, &dir)) == NULL) {
		attach_err(err, errlen, "out of memory");
		rc = ATTACH_ERR_NOMEM;
		goto fail;
	}

	/* Pass 1: nothing is decrypted, nor any file made, before the download
	 * is known to be the one the sender hashed. */
	if (attach_hash_fd(in, ct, ATTACH_SEALED, digest, &total) != 0) {
		attach_err(err, errlen, "cannot read %s: %s", in_path, strerror(errno));
		rc = ATTACH_ERR_INPUT;
		goto fail;
	}
	if (total != m->enc_size || sodium_memcmp(digest, m->sha256, sizeof digest) != 0) {
		attach_err(err, errlen,
			   "%s: SHA-256 does not match: the download is corrupt or was "
			   "tampered with",
			   in_path);
		rc = ATTACH_ERR_HASH;
		goto fail;
	}
	if (lseek(in, 0, SEEK_SET) != 0) {
		attach_err(err, errlen, "cannot rewind %s: %s", in_path, strerror(errno));
		rc = ATTACH_ERR_INPUT;
		goto fail;
	}

	/* mkstemp: O_EXCL, mode 0600, a name nobody else holds. */
	if ((out = mkstemp(tmp)) < 0) {
		int e = errno;

		attach_err(err, errlen, "cannot create a file in %s: %s", dir, strerror(e));
		rc = e == ENOSPC || e == EDQUOT ? ATTACH_ERR_NOSPACE : ATTACH_ERR_OUTPUT;
		goto fail;
	}
	made = 1;
	(void)fcntl(out, F_SETFD, FD_CLOEXEC); /* mkostemp is not POSIX */

	/* Pass 2: decrypt, hashing again what is read, so that a file changed
	 * between the passes cannot slip through. */
	if (crypto_hash_sha256_init(&hs) != 0 ||
	    attach_read_full(in, header, sizeof header) != (ssize_t)sizeof header ||
	    crypto_hash_sha256_update(&hs, header, sizeof header) != 0) {
		attach_err(err, errlen, "%s changed while it was being read", in_path);
		rc = ATTACH_ERR_HASH;
		goto fail;
	}
	if (crypto_secretstream_xchacha20poly1305_init_pull(&st, header, m->key) != 0) {
		attach_err(err, errlen, "%s: bad stream header", in_path);
		rc = ATTACH_ERR_AUTH;
		goto fail;
	}
	/* enc_size fixes the layout: full chunks, then one of ABYTES or more. */
	for (left = m->enc_size - ATTACH_HEADER_BYTES; left > 0; chunk++) {
		size_t want = left < ATTACH_SEALED ? (size_t)left : ATTACH_SEALED;
		unsigned long long plen = 0;
		unsigned char tag = 0;

		if (attach_read_full(in, ct, want) != (ssize_t)want ||
		    crypto_hash_sha256_update(&hs, ct, want) != 0) {
			attach_err(err, errlen, "%s changed while it was being read", in_path);
			rc = ATTACH_ERR_HASH;
			goto fail;
		}
		if (crypto_secretstream_xchacha20poly1305_pull(&st, pt, &plen, &tag, ct, want, NULL,
							       0) != 0) {
			attach_err(err, errlen,
				   "%s: chunk %llu does not authenticate: wrong key, or "
				   "the file was tampered with",
				   in_path, (unsigned long long)chunk);
			rc = ATTACH_ERR_AUTH;
			goto fail;
		}
		left -= want;
		if (left == 0 && tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
			attach_err(err, errlen, "%s: the last chunk is not marked final: truncated",
				   in_path);
			rc = ATTACH_ERR_AUTH;
			goto fail;
		}
		if (left > 0 && tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
			attach_err(err, errlen, "%s: chunk %llu is %s", in_path,
				   (unsigned long long)chunk,
				   tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL
					   ? "marked final but data follows it"
					   : "of an unexpected kind");
			rc = ATTACH_ERR_AUTH;
			goto fail;
		}
		if (attach_write_full(out, pt, (size_t)plen) != 0) {
			rc = attach_write_err("cannot write", tmp, err, errlen);
			goto fail;
		}
	}
	{
		uint8_t probe;

		if (attach_read_full(in, &probe, 1) != 0 ||
		    crypto_hash_sha256_final(&hs, digest) != 0 ||
		    sodium_memcmp(digest, m->sha256, sizeof digest) != 0) {
			attach_err(err, errlen, "%s changed while it was being read", in_path);
			rc = ATTACH_ERR_HASH;
			goto fail;
		}
	}
	if (fsync(out) != 0) {
		rc = attach_write_err("cannot sync", tmp, err, errlen);
		goto fail;
	}
	rc = close(out);
	out = -1;
	if (rc != 0) {
		rc = attach_write_err("cannot close", tmp, err, errlen);
		goto fail;
	}
	if (rename(tmp, out_path) != 0) {
		attach_err(err, errlen, "cannot rename %s to %s: %s", tmp, out_path,
			   strerror(errno));
		rc = ATTACH_ERR_OUTPUT;
		goto fail;
	}
	attach_sync_dir(dir);
	rc = ATTACH_OK;
	goto done;

fail:
	if (out >= 0)
		close(out);
	if (made)
		unlink(tmp); /* mkstemp made it: the name is ours */
done:
	if (in >= 0)
		close(in);
	sodium_memzero(&st, sizeof st);
	if (pt != NULL)
		sodium_memzero(pt, ATTACH_CHUNK);
	free(pt);
	free(ct);
	free(tmp);
	free(dir);
	return rc;
}
