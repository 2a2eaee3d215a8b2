/*
 * blob.c - the blob store's key and signed paths (see blob.h).
 */
#include "blob.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "proto.h"
#include "util.h"

/* Write all of buf to fd: 0, or -1 with errno. */
static int
write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A new key file: created exclusively, so that two servers starting at once
 * cannot each write their own; -1 with errno (EEXIST: someone was first). */
static int
key_create(const char *path, uint8_t key[BLOB_KEY_BYTES])
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), e;

	if (fd < 0)
		return -1;
	randombytes_buf(key, BLOB_KEY_BYTES);
	if (write_all(fd, key, BLOB_KEY_BYTES) != 0 || fsync(fd) != 0) {
		e = errno;
		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* Read the key from fd (path for messages): 0, or -1 with a reason in err.
 * The file must be a regular one that only its owner can read: the key
 * signs every upload and download path, and in a cluster it sits in a
 * shared place. */
static int
key_read_fd(int fd, const char *path, uint8_t key[BLOB_KEY_BYTES], char *err, size_t errlen)
{
	uint8_t buf[BLOB_KEY_BYTES + 1];
	struct stat sb;
	size_t got = 0;
	ssize_t n;

	if (fstat(fd, &sb) != 0) {
		snprintf(err, errlen, "cannot read the blob key %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "the blob key %s is not a file", path);
		return -1;
	}
	if ((sb.st_mode & 077) != 0) {
		snprintf(err, errlen,
			 "the blob key %s may be read by others (mode %03o): make it mode 600 "
			 "(chmod 600 %s)",
			 path, (unsigned)(sb.st_mode & 0777), path);
		return -1;
	}
	/* One byte more than a key: a longer file is as wrong as a shorter. */
	while (got < sizeof buf) {
		n = read(fd, buf + got, sizeof buf - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read the blob key %s: %s", path,
				 strerror(errno));
			sodium_memzero(buf, sizeof buf);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != BLOB_KEY_BYTES) {
		snprintf(err, errlen,
			 "the blob key %s is not %d bytes long: restore it, or delete it to make "
			 "a new one (paths already given out then stop working)",
			 path, BLOB_KEY_BYTES);
		sodium_memzero(buf, sizeof buf);
		return -1;
	}
	memcpy(key, buf, BLOB_KEY_BYTES);
	sodium_memzero(buf, sizeof buf);
	return 0;
}

int
blob_key_read(const char *path, uint8_t key[BLOB_KEY_BYTES], char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc, e;

	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot read the blob key %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	rc = key_read_fd(fd, path, key, err, errlen);
	close(fd);
	return rc;
}

int
blob_key_load(const char *path, uint8_t key[BLOB_KEY_BYTES], char *err, size_t errlen)
{
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		if (key_create(path, key) == 0)
			return 0;
		if (errno != EEXIST) {
			snprintf(err, errlen, "cannot create the blob key %s: %s", path,
				 strerror(errno));
			return -1;
		}
		/* Another instance made it first: theirs it is. */
	}
	return blob_key_read(path, key, err, errlen);
}

/* "Cannot fail" for a 32-byte key; if it ever did, out is empty, which
 * blob_sig_equal() never accepts and the path makers refuse. */
static void
sign_text(const uint8_t key[BLOB_KEY_BYTES], const char *text, char out[BLOB_SIG_LEN + 1])
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];

	if (crypto_auth_hmacsha256(mac, (const unsigned char *)text, strlen(text), key) != 0) {
		srv_log("blob: HMAC-SHA256 failed");
		out[0] = '\0';
		return;
	}
	sodium_bin2hex(out, BLOB_SIG_LEN + 1, mac, sizeof mac);
}

void
blob_sign_put(const uint8_t key[BLOB_KEY_BYTES], const char *blob_id, int64_t exp, int64_t max,
	      char out[BLOB_SIG_LEN + 1])
{
	char text[PROTO_BLOB_ID_LEN + 64];

	snprintf(text, sizeof text, "put\n%s\n%" PRId64 "\n%" PRId64, blob_id, exp, max);
	sign_text(key, text, out);
}

void
blob_sign_get(const uint8_t key[BLOB_KEY_BYTES], const char *blob_id, int64_t exp,
	      char out[BLOB_SIG_LEN + 1])
{
	char text[PROTO_BLOB_ID_LEN + 64];

	snprintf(text, sizeof text, "get\n%s\n%" PRId64, blob_id, exp);
	sign_text(key, text, out);
}

int
blob_sig_equal(const char *sig, const char *want)
{
	if (!proto_valid_hex(sig, BLOB_SIG_LEN) || !proto_valid_hex(want, BLOB_SIG_LEN))
		return 0;
	return sodium_memcmp(sig, want, BLOB_SIG_LEN) == 0;
}

char *
blob_upload_path(const uint8_t key[BLOB_KEY_BYTES], const char *blob_id, int64_t exp, int64_t max)
{
	char sig[BLOB_SIG_LEN + 1], *p = NULL;
	size_t cap = 200;

	blob_sign_put(key, blob_id, exp, max, sig);
	if (sig[0] != '\0' && (p = malloc(cap)) != NULL)
		snprintf(p, cap, "/blobs/%s?exp=%" PRId64 "&max=%" PRId64 "&sig=%s", blob_id, exp,
			 max, sig);
	return p;
}

char *
blob_download_path(const uint8_t key[BLOB_KEY_BYTES], const char *blob_id, int64_t exp)
{
	char sig[BLOB_SIG_LEN + 1], *p = NULL;
	size_t cap = 200;

	blob_sign_get(key, blob_id, exp, sig);
	if (sig[0] != '\0' && (p = malloc(cap)) != NULL)
		snprintf(p, cap, "/blobs/%s?exp=%" PRId64 "&sig=%s", blob_id, exp, sig);
	return p;
}

int
blob_parse_path(const char *path, char id[PROTO_BLOB_ID_LEN + 1])
{
	static const char prefix[] = "/blobs/";

	if (strncmp(path, prefix, sizeof prefix - 1) != 0)
		return -1;
	path += sizeof prefix - 1;
	if (!proto_valid_hex(path, PROTO_BLOB_ID_LEN))
		return -1;
	memcpy(id, path, PROTO_BLOB_ID_LEN + 1);
	return 0;
}

int
blob_parse_number(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 18)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}
