/*
 * test_attach.c - attachments' file crypto and 0x03 body (client-lib/attach.c):
 * round trips at the chunk boundaries, every way a download can be wrong, the
 * promise that no partial or stray file is ever left, and the body's strict
 * parser.
 *
 * Each test works in its own mkdtemp directory, removed afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "attach.h"

#define PATH_CAP 512

struct fx {
	char dir[64];
};

static void
rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char sub[PATH_CAP];

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		rm_tree(sub);
	}
	closedir(d);
	rmdir(path);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_attach.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	rm_tree(f->dir);
	free(f);
	return 0;
}

static int
group_setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

/* dir/name into buf. */
static const char *
at(char buf[PATH_CAP], const struct fx *f, const char *name)
{
	snprintf(buf, PATH_CAP, "%s/%s", f->dir, name);
	return buf;
}

static void
write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	if (len > 0)
		assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* A file of len random bytes; returns them (malloc'd) for comparison. */
static uint8_t *
random_file(const char *path, size_t len)
{
	uint8_t *data = malloc(len ? len : 1);

	assert_non_null(data);
	randombytes_buf(data, len);
	write_file(path, data, len);
	return data;
}

/* The whole file, malloc'd; *len its size. */
static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *data;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return data;
}

static int
exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/* Entries in dir, "." and ".." aside. */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
sha256_file(const char *path, uint8_t out[32])
{
	size_t len;
	uint8_t *data = read_file(path, &len);

	crypto_hash_sha256(out, data, len);
	free(data);
}

/* Flips one bit of the byte at off. */
static void
flip_byte(const char *path, size_t off)
{
	size_t len;
	uint8_t *data = read_file(path, &len);

	assert_true(off < len);
	data[off] ^= 0x01;
	write_file(path, data, len);
	free(data);
}

/* Encrypts a random file of len bytes into dir/ct; keeps the plaintext. */
static uint8_t *
make_ct(const struct fx *f, size_t len, struct attach_meta *m)
{
	char in[PATH_CAP], ct[PATH_CAP], err[256];
	uint8_t *data = random_file(at(in, f, "plain.bin"), len);

	assert_int_equal(attach_encrypt(in, at(ct, f, "ct"), 0, m, err, sizeof err), ATTACH_OK);
	return data;
}

/* ================================================================== */
/* Round trips                                                         */
/* ================================================================== */

static void
round_trip(void **state, size_t len, uint64_t want_enc)
{
	struct fx *f = *state;
	struct attach_meta m;
	char in[PATH_CAP], ct[PATH_CAP], out[PATH_CAP], err[256];
	uint8_t *data, *got, sha[32];
	size_t got_len;
	struct stat sb;

	data = make_ct(f, len, &m);
	at(in, f, "plain.bin");
	at(ct, f, "ct");
	assert_int_equal(m.size, len);
	assert_int_equal(m.enc_size, want_enc);
	assert_int_equal(attach_enc_size(len), want_enc);
	assert_int_equal(stat(ct, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, want_enc);
	assert_int_equal(sb.st_mode & 0777, 0600);
	sha256_file(ct, sha);
	assert_memory_equal(sha, m.sha256, 32);
	assert_string_equal(m.name, "plain.bin");
	assert_string_equal(m.type, "application/octet-stream");
	assert_string_equal(m.blob_id, "");

	err[0] = 'x';
	assert_int_equal(attach_decrypt(ct, &m, at(out, f, "out.bin"), err, sizeof err), ATTACH_OK);
	assert_string_equal(err, "");
	got = read_file(out, &got_len);
	assert_int_equal(got_len, len);
	if (len > 0)
		assert_memory_equal(got, data, len);
	assert_int_equal(stat(out, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* plain.bin, ct, out.bin: no temporary file left behind. */
	assert_int_equal(count_entries(f->dir), 3);

	/* Decrypting again replaces the file. */
	assert_int_equal(attach_decrypt(ct, &m, out, err, sizeof err), ATTACH_OK);
	assert_int_equal(count_entries(f->dir), 3);

	free(got);
	free(data);
	attach_meta_wipe(&m);
}

/* enc = 24 + size + 17 * max(1, ceil(size / 65536)) */
static void
test_round_trip_empty(void **state)
{
	round_trip(state, 0, 24 + 17);
}

static void
test_round_trip_one_byte(void **state)
{
	round_trip(state, 1, 24 + 1 + 17);
}

static void
test_round_trip_one_chunk(void **state)
{
	round_trip(state, 65536, 24 + 65536 + 17);
}

static void
test_round_trip_chunk_plus_one(void **state)
{
	round_trip(state, 65537, 24 + 65537 + 2 * 17);
}

static void
test_round_trip_3mib(void **state)
{
	size_t len = 3 * 1024 * 1024 + 1234; /* 49 chunks */

	round_trip(state, len, 24 + len + 49 * 17);
}

static void
test_fresh_key_each_time(void **state)
{
	struct fx *f = *state;
	struct attach_meta a, b;
	char in[PATH_CAP], c1[PATH_CAP], c2[PATH_CAP], err[256];

	free(random_file(at(in, f, "x.txt"), 100));
	assert_int_equal(attach_encrypt(in, at(c1, f, "c1"), 0, &a, err, sizeof err), ATTACH_OK);
	assert_int_equal(attach_encrypt(in, at(c2, f, "c2"), 0, &b, err, sizeof err), ATTACH_OK);
	assert_memory_not_equal(a.key, b.key, 32);
	assert_memory_not_equal(a.sha256, b.sha256, 32);
	assert_string_equal(a.type, "text/plain");
	attach_meta_wipe(&a);
	attach_meta_wipe(&b);
}

/* ================================================================== */
/* A wrong download                                                    */
/* ================================================================== */

/* Decrypting must fail with want, leaving only the files that were there. */
static void
decrypt_fails(const struct fx *f, const struct attach_meta *m, int want, const char *why)
{
	char ct[PATH_CAP], out[PATH_CAP], err[256];
	int before = count_entries(f->dir);

	assert_int_equal(attach_decrypt(at(ct, f, "ct"), m, at(out, f, "out.bin"), err, sizeof err),
			 want);
	assert_non_null(strstr(err, why));
	assert_false(exists(out));
	assert_int_equal(count_entries(f->dir), before);
}

static void
test_tampered_byte(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;
	char ct[PATH_CAP];

	free(make_ct(f, 200000, &m));
	flip_byte(at(ct, f, "ct"), 70000); /* inside the second chunk */
	decrypt_fails(f, &m, ATTACH_ERR_HASH, "SHA-256 does not match");

	/* A sender who hashes the tampered file still cannot pass the MAC. */
	sha256_file(ct, m.sha256);
	decrypt_fails(f, &m, ATTACH_ERR_AUTH, "chunk 1 does not authenticate");
	attach_meta_wipe(&m);
}

static void
test_tampered_header(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;
	char ct[PATH_CAP];

	free(make_ct(f, 10, &m));
	flip_byte(at(ct, f, "ct"), 3);
	sha256_file(ct, m.sha256);
	decrypt_fails(f, &m, ATTACH_ERR_AUTH, "chunk 0 does not authenticate");
	attach_meta_wipe(&m);
}

static void
test_truncated(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;
	char ct[PATH_CAP];

	free(make_ct(f, 100000, &m));
	assert_int_equal(truncate(at(ct, f, "ct"), (off_t)m.enc_size - 1), 0);
	decrypt_fails(f, &m, ATTACH_ERR_HASH, "truncated");

	/* Cut after the first (full) chunk, with size, encSize and hash made to
	 * agree: the chunk left is not FINAL. */
	m.size = 65536;
	m.enc_size = attach_enc_size(m.size);
	assert_int_equal(truncate(ct, (off_t)m.enc_size), 0);
	sha256_file(ct, m.sha256);
	decrypt_fails(f, &m, ATTACH_ERR_AUTH, "not marked final");
	attach_meta_wipe(&m);
}

static void
test_trailing_byte(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;
	char ct[PATH_CAP];
	FILE *fp;

	free(make_ct(f, 1000, &m));
	fp = fopen(at(ct, f, "ct"), "ab");
	assert_non_null(fp);
	fputc('x', fp);
	fclose(fp);
	decrypt_fails(f, &m, ATTACH_ERR_HASH, "trailing");
	attach_meta_wipe(&m);
}

/* A sender's own file, every chunk authentic, but the first already FINAL and
 * a second after it: the stream ended, so what follows must not be written. */
static void
test_data_after_final(void **state)
{
	struct fx *f = *state;
	crypto_secretstream_xchacha20poly1305_state st;
	struct attach_meta m;
	static uint8_t pt[ATTACH_CHUNK],
		file[ATTACH_HEADER_BYTES + 2 * ATTACH_ABYTES + ATTACH_CHUNK + 10];
	uint8_t *p = file + ATTACH_HEADER_BYTES;
	char ct[PATH_CAP];

	memset(&m, 0, sizeof m);
	crypto_secretstream_xchacha20poly1305_keygen(m.key);
	assert_int_equal(crypto_secretstream_xchacha20poly1305_init_push(&st, file, m.key), 0);
	assert_int_equal(crypto_secretstream_xchacha20poly1305_push(
				 &st, p, NULL, pt, ATTACH_CHUNK, NULL, 0,
				 crypto_secretstream_xchacha20poly1305_TAG_FINAL),
			 0);
	p += ATTACH_CHUNK + ATTACH_ABYTES;
	assert_int_equal(crypto_secretstream_xchacha20poly1305_push(
				 &st, p, NULL, pt, 10, NULL, 0,
				 crypto_secretstream_xchacha20poly1305_TAG_FINAL),
			 0);
	write_file(at(ct, f, "ct"), file, sizeof file);
	m.size = ATTACH_CHUNK + 10;
	m.enc_size = attach_enc_size(m.size);
	assert_int_equal(m.enc_size, sizeof file);
	sha256_file(ct, m.sha256);
	decrypt_fails(f, &m, ATTACH_ERR_AUTH, "marked final but data follows it");
	attach_meta_wipe(&m);
}

static void
test_wrong_key(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;

	free(make_ct(f, 1000, &m));
	m.key[0] ^= 0x80;
	decrypt_fails(f, &m, ATTACH_ERR_AUTH, "wrong key");
	attach_meta_wipe(&m);
}

static void
test_inconsistent_meta(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;

	free(make_ct(f, 1000, &m));
	m.enc_size++;
	decrypt_fails(f, &m, ATTACH_ERR_ARGS, "do not match");
	attach_meta_wipe(&m);
}

static void
test_decrypt_into_missing_dir(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;
	char ct[PATH_CAP], out[PATH_CAP], nodir[PATH_CAP], err[256];

	free(make_ct(f, 1000, &m));
	assert_int_equal(
		attach_decrypt(at(ct, f, "ct"), &m, at(out, f, "nodir/out.bin"), err, sizeof err),
		ATTACH_ERR_OUTPUT);
	assert_non_null(strstr(err, "cannot create a file in"));
	assert_false(exists(at(nodir, f, "nodir")));
	assert_int_equal(count_entries(f->dir), 2); /* plain.bin, ct */
	attach_meta_wipe(&m);
}

static void
test_decrypt_into_readonly_dir(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;
	char ct[PATH_CAP], ro[PATH_CAP], out[PATH_CAP], err[256];

	if (geteuid() == 0)
		skip(); /* root writes anywhere */
	free(make_ct(f, 1000, &m));
	assert_int_equal(mkdir(at(ro, f, "ro"), 0500), 0);
	assert_int_equal(
		attach_decrypt(at(ct, f, "ct"), &m, at(out, f, "ro/out.bin"), err, sizeof err),
		ATTACH_ERR_OUTPUT);
	assert_int_equal(count_entries(ro), 0);
	assert_int_equal(chmod(ro, 0700), 0);
	attach_meta_wipe(&m);
}

/* A write that fails halfway (here EFBIG from RLIMIT_FSIZE, the nearest thing
 * to ENOSPC a test can arrange) leaves no file. */
static void
test_write_failure_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct attach_meta m, m2;
	char in[PATH_CAP], ct[PATH_CAP], out[PATH_CAP], err[256];
	struct rlimit old, small;
	void (*prev)(int);

	free(make_ct(f, 300000, &m));
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 100000;
	prev = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);

	assert_int_equal(
		attach_encrypt(at(in, f, "plain.bin"), at(ct, f, "ct2"), 0, &m2, err, sizeof err),
		ATTACH_ERR_OUTPUT);
	assert_false(exists(ct));
	assert_int_equal(
		attach_decrypt(at(ct, f, "ct"), &m, at(out, f, "out.bin"), err, sizeof err),
		ATTACH_ERR_OUTPUT);
	assert_non_null(strstr(err, "cannot write"));

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	assert_false(exists(out));
	assert_int_equal(count_entries(f->dir), 2); /* plain.bin, ct */
	attach_meta_wipe(&m);
}

/* ================================================================== */
/* Bad input to encrypt                                                */
/* ================================================================== */

static void
test_encrypt_missing_file(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;
	char in[PATH_CAP], ct[PATH_CAP], err[256];

	memset(&m, 0xaa, sizeof m);
	assert_int_equal(attach_encrypt(at(in, f, "nope"), at(ct, f, "ct"), 0, &m, err, sizeof err),
			 ATTACH_ERR_INPUT);
	assert_non_null(strstr(err, "No such file"));
	assert_false(exists(ct));
	assert_int_equal(m.key[0], 0); /* wiped */
}

static void
test_encrypt_directory(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;
	char in[PATH_CAP], ct[PATH_CAP], err[256];

	assert_int_equal(mkdir(at(in, f, "adir"), 0700), 0);
	assert_int_equal(attach_encrypt(in, at(ct, f, "ct"), 0, &m, err, sizeof err),
			 ATTACH_ERR_INPUT);
	assert_non_null(strstr(err, "not a regular file"));
	assert_false(exists(ct));
}

static void
test_encrypt_unreadable(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;
	char in[PATH_CAP], ct[PATH_CAP], err[256];

	if (geteuid() == 0)
		skip();
	free(random_file(at(in, f, "secret"), 10));
	assert_int_equal(chmod(in, 0), 0);
	assert_int_equal(attach_encrypt(in, at(ct, f, "ct"), 0, &m, err, sizeof err),
			 ATTACH_ERR_INPUT);
	assert_non_null(strstr(err, "Permission denied"));
	assert_false(exists(ct));
}

static void
test_encrypt_never_replaces(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;
	char in[PATH_CAP], ct[PATH_CAP], err[256];
	uint8_t *old, *now;
	size_t len;

	free(random_file(at(in, f, "a.png"), 10));
	old = random_file(at(ct, f, "ct"), 5);
	assert_int_equal(attach_encrypt(in, ct, 0, &m, err, sizeof err), ATTACH_ERR_OUTPUT);
	assert_non_null(strstr(err, "File exists"));
	now = read_file(ct, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(now, old, 5);
	free(old);
	free(now);
}

static void
test_encrypt_max_size(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;
	char in[PATH_CAP], ct[PATH_CAP], err[256];

	free(random_file(at(in, f, "big.mp4"), 1000));
	/* 1000 bytes encrypt to 1041: the limit is on the ciphertext. */
	assert_int_equal(attach_encrypt(in, at(ct, f, "ct"), 1040, &m, err, sizeof err),
			 ATTACH_ERR_TOO_LARGE);
	assert_non_null(strstr(err, "too large"));
	assert_false(exists(ct));
	assert_int_equal(attach_encrypt(in, ct, 1041, &m, err, sizeof err), ATTACH_OK);
	assert_string_equal(m.type, "video/mp4");
	attach_meta_wipe(&m);
}

static void
test_names_and_types(void **state)
{
	struct fx *f = *state;
	struct attach_meta m;
	char in[PATH_CAP], ct[PATH_CAP], err[256], name[300];

	free(random_file(at(in, f, "ph\xffoto\x01.JPG"), 3));
	assert_int_equal(attach_encrypt(in, at(ct, f, "ct"), 0, &m, err, sizeof err), ATTACH_OK);
	assert_string_equal(m.name, "ph_oto_.JPG");
	assert_string_equal(m.type, "image/jpeg");
	attach_meta_wipe(&m);

	assert_string_equal(attach_guess_type(".profile"), "application/octet-stream");
	assert_string_equal(attach_guess_type("a.tar.zip"), "application/zip");
	assert_string_equal(attach_guess_type("voice.opus"), "audio/ogg");
	assert_string_equal(attach_guess_type("notes.md"), "text/markdown");
	assert_string_equal(attach_guess_type("x."), "application/octet-stream");
	assert_string_equal(attach_guess_type("README"), "application/octet-stream");

	assert_true(attach_valid_name("日本語.txt"));
	assert_false(attach_valid_name(""));
	assert_false(attach_valid_name(".."));
	assert_false(attach_valid_name("a/b"));
	assert_false(attach_valid_name("a\nb"));
	assert_false(attach_valid_name("a\xc3"));
	memset(name, 'a', sizeof name);
	name[255] = '\0';
	assert_true(attach_valid_name(name));
	name[255] = 'a';
	name[256] = '\0';
	assert_false(attach_valid_name(name));

	assert_true(attach_valid_type("image/jpeg"));
	assert_true(attach_valid_type("application/vnd.ms-excel"));
	assert_false(attach_valid_type("image"));
	assert_false(attach_valid_type("image/"));
	assert_false(attach_valid_type("text/plain; charset=utf-8"));
	assert_false(attach_valid_type("a/b/c"));
}

/* ================================================================== */
/* The 0x03 body                                                       */
/* ================================================================== */

static void
fill_meta(struct attach_meta *m, int i)
{
	memset(m, 0, sizeof *m);
	snprintf(m->blob_id, sizeof m->blob_id, "%032x", i + 1);
	snprintf(m->name, sizeof m->name, "photo \"%d\" é.jpg", i);
	snprintf(m->type, sizeof m->type, "image/jpeg");
	m->size = 1048576 + (uint64_t)i;
	m->enc_size = attach_enc_size(m->size);
	randombytes_buf(m->key, sizeof m->key);
	randombytes_buf(m->sha256, sizeof m->sha256);
}

static void
test_body_round_trip(void **state)
{
	struct attach_meta in[PROTO_MAX_BLOBS], *out = NULL;
	char *text = NULL, err[256];
	uint8_t *body;
	size_t len, n = 0;

	(void)state;
	for (int i = 0; i < PROTO_MAX_BLOBS; i++)
		fill_meta(&in[i], i);
	body = attach_body_build("héllo \"world\"\n", in, PROTO_MAX_BLOBS, &len, err, sizeof err);
	assert_non_null(body);
	assert_int_equal(body[0], 0x03);
	assert_int_equal(attach_body_parse(body, len, &text, &out, &n, err, sizeof err), ATTACH_OK);
	assert_string_equal(text, "héllo \"world\"\n");
	assert_int_equal(n, PROTO_MAX_BLOBS);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(out[i].blob_id, in[i].blob_id);
		assert_string_equal(out[i].name, in[i].name);
		assert_string_equal(out[i].type, in[i].type);
		assert_int_equal(out[i].size, in[i].size);
		assert_int_equal(out[i].enc_size, in[i].enc_size);
		assert_memory_equal(out[i].key, in[i].key, 32);
		assert_memory_equal(out[i].sha256, in[i].sha256, 32);
	}
	attach_meta_free(out, n);
	free(text);
	sodium_memzero(body, len);
	free(body);

	/* NULL text is "". */
	body = attach_body_build(NULL, in, 1, &len, err, sizeof err);
	assert_non_null(body);
	assert_int_equal(attach_body_parse(body, len, &text, &out, &n, err, sizeof err), ATTACH_OK);
	assert_string_equal(text, "");
	assert_int_equal(n, 1);
	attach_meta_free(out, n);
	free(text);
	free(body);
	for (int i = 0; i < PROTO_MAX_BLOBS; i++)
		attach_meta_wipe(&in[i]);
}

static void
test_body_build_refuses(void **state)
{
	struct attach_meta in[PROTO_MAX_BLOBS + 1];
	char err[256];
	size_t len = 99;

	(void)state;
	for (int i = 0; i <= PROTO_MAX_BLOBS; i++)
		fill_meta(&in[i], i);
	assert_null(attach_body_build("", in, PROTO_MAX_BLOBS + 1, &len, err, sizeof err));
	assert_int_equal(len, 0);
	assert_null(attach_body_build("", in, 0, &len, err, sizeof err));
	assert_null(attach_body_build("\xff", in, 1, &len, err, sizeof err));
	in[0].enc_size++;
	assert_null(attach_body_build("", in, 1, &len, err, sizeof err));
	assert_non_null(strstr(err, "encSize"));
	fill_meta(&in[0], 0);
	in[0].blob_id[0] = '\0'; /* not uploaded yet */
	assert_null(attach_body_build("", in, 1, &len, err, sizeof err));
	fill_meta(&in[0], 0);
	snprintf(in[0].name, sizeof in[0].name, "../etc/passwd");
	assert_null(attach_body_build("", in, 1, &len, err, sizeof err));
	for (int i = 0; i <= PROTO_MAX_BLOBS; i++)
		attach_meta_wipe(&in[i]);
}

static char key32[64], key31[64];
static char last_err[256]; /* the last parse_json's err */

#define BLOB "\"blobId\":\"0123456789abcdef0123456789abcdef\""
#define SHA                                                                                        \
	"\"sha256\":\""                                                                            \
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\""
#define GOOD                                                                                       \
	"{" BLOB ",\"name\":\"a.jpg\",\"type\":\"image/"                                           \
	"jpeg\",\"size\":1,\"encSize\":42,\"key\":\"%s\"," SHA "}"

/* Parses 0x03 followed by json (a printf format over key32/key31); returns the
 * result, and checks that a failure leaves the outputs empty. */
static int parse_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
parse_json(const char *fmt, ...)
{
	char json[8192], err[256], *text = (char *)1;
	struct attach_meta *atts = (struct attach_meta *)1;
	uint8_t body[8193];
	size_t n = 99;
	va_list ap;
	int len, rc;

	va_start(ap, fmt);
	len = vsnprintf(json, sizeof json, fmt, ap);
	va_end(ap);
	assert_true(len > 0 && (size_t)len < sizeof json);
	body[0] = 0x03;
	memcpy(body + 1, json, (size_t)len);
	rc = attach_body_parse(body, (size_t)len + 1, &text, &atts, &n, err, sizeof err);
	memcpy(last_err, err, sizeof last_err);
	if (rc == ATTACH_OK) {
		free(text);
		attach_meta_free(atts, n);
	} else {
		assert_null(text);
		assert_null(atts);
		assert_int_equal(n, 0);
		assert_true(err[0] != '\0');
	}
	return rc;
}

static void
test_body_parse_rejects(void **state)
{
	uint8_t zero[32] = {0};
	char eleven[4096];
	size_t o;

	(void)state;
	sodium_bin2base64(key32, sizeof key32, zero, 32, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(key31, sizeof key31, zero, 31, sodium_base64_VARIANT_ORIGINAL);

	/* The good one, and with unknown members (ignored). */
	assert_int_equal(parse_json("{\"text\":\"hi\",\"attachments\":[" GOOD "]}", key32),
			 ATTACH_OK);
	assert_int_equal(parse_json("{\"v\":2,\"text\":\"\",\"attachments\":[" GOOD "]} \n", key32),
			 ATTACH_OK);

	/* Malformed JSON, or not the shape. */
	assert_int_equal(parse_json("{\"text\":\"hi\",\"attachments\":[" GOOD "]", key32),
			 ATTACH_ERR_FORMAT);
	assert_int_equal(parse_json("{\"text\":\"hi\",\"attachments\":[" GOOD "]}x", key32),
			 ATTACH_ERR_FORMAT);
	assert_int_equal(parse_json("[]"), ATTACH_ERR_FORMAT);
	assert_int_equal(parse_json("{\"attachments\":[" GOOD "]}", key32), ATTACH_ERR_FORMAT);
	assert_int_equal(parse_json("{\"text\":1,\"attachments\":[" GOOD "]}", key32),
			 ATTACH_ERR_FORMAT);
	assert_int_equal(parse_json("{\"text\":\"\",\"attachments\":[]}"), ATTACH_ERR_FORMAT);
	assert_int_equal(parse_json("{\"text\":\"\",\"attachments\":{}}"), ATTACH_ERR_FORMAT);
	assert_int_equal(
		parse_json("{\"text\":\"a\",\"text\":\"b\",\"attachments\":[" GOOD "]}", key32),
		ATTACH_ERR_FORMAT);
	assert_int_equal(parse_json("{\"text\":\"a\\u0000b\",\"attachments\":[" GOOD "]}", key32),
			 ATTACH_ERR_FORMAT);
	assert_non_null(strstr(last_err, "U+0000"));
	assert_int_equal(parse_json("{\"text\":\"a\\ud800\",\"attachments\":[" GOOD "]}", key32),
			 ATTACH_ERR_FORMAT);
	assert_non_null(strstr(last_err, "lone surrogate"));
	/* An escaped backslash, then the text u0000: fine. */
	assert_int_equal(parse_json("{\"text\":\"a\\\\u0000b\",\"attachments\":[" GOOD "]}", key32),
			 ATTACH_OK);

	/* Eleven attachments. */
	o = (size_t)snprintf(eleven, sizeof eleven, "{\"text\":\"\",\"attachments\":[");
	for (int i = 0; i < 11; i++)
		o += (size_t)snprintf(eleven + o, sizeof eleven - o, "%s" GOOD, i ? "," : "",
				      key32);
	snprintf(eleven + o, sizeof eleven - o, "]}");
	assert_int_equal(parse_json("%s", eleven), ATTACH_ERR_FORMAT);
	assert_non_null(strstr(last_err, "1 to 10"));

	/* Fields of one attachment. */
#define ONE(a) "{\"text\":\"\",\"attachments\":[" a "]}"
	assert_int_equal(parse_json(ONE(GOOD), key31), ATTACH_ERR_FORMAT); /* 31-byte key */
	assert_non_null(strstr(last_err, "key is not base64 of exactly 32 bytes"));
	assert_int_equal(parse_json(ONE(GOOD), "AAAA"), ATTACH_ERR_FORMAT);
	assert_int_equal(parse_json(ONE(GOOD), "not base64!"), ATTACH_ERR_FORMAT);
	assert_int_equal(parse_json(ONE("{" BLOB ",\"name\":\"a.jpg\",\"type\":\"image/jpeg\","
					"\"size\":1,\"encSize\":41,\"key\":\"%s\"," SHA "}"),
				    key32),
			 ATTACH_ERR_FORMAT); /* encSize inconsistent */
	assert_non_null(strstr(last_err, "encSize is not 42"));
	assert_int_equal(parse_json(ONE("{" BLOB ",\"name\":\"a.jpg\",\"type\":\"image/jpeg\","
					"\"size\":65536,\"encSize\":65594,\"key\":\"%s\"," SHA "}"),
				    key32),
			 ATTACH_ERR_FORMAT); /* two chunks' worth for one */
	assert_int_equal(parse_json(ONE("{" BLOB ",\"name\":\"a.jpg\",\"type\":\"image/jpeg\","
					"\"size\":65536,\"encSize\":65577,\"key\":\"%s\"," SHA "}"),
				    key32),
			 ATTACH_OK);
	assert_int_equal(parse_json(ONE("{" BLOB ",\"name\":\"a.jpg\",\"type\":\"image/jpeg\","
					"\"size\":-1,\"encSize\":40,\"key\":\"%s\"," SHA "}"),
				    key32),
			 ATTACH_ERR_FORMAT);
	assert_int_equal(parse_json(ONE("{" BLOB ",\"name\":\"a.jpg\",\"type\":\"image/jpeg\","
					"\"size\":1.5,\"encSize\":42,\"key\":\"%s\"," SHA "}"),
				    key32),
			 ATTACH_ERR_FORMAT);
	assert_int_equal(parse_json(ONE("{" BLOB ",\"name\":\"a\xff.jpg\",\"type\":\"image/jpeg\","
					"\"size\":1,\"encSize\":42,\"key\":\"%s\"," SHA "}"),
				    key32),
			 ATTACH_ERR_FORMAT); /* name not UTF-8 */
	assert_non_null(strstr(last_err, "bad name"));
	assert_int_equal(parse_json(ONE("{" BLOB ",\"name\":\"../a.jpg\",\"type\":\"image/jpeg\","
					"\"size\":1,\"encSize\":42,\"key\":\"%s\"," SHA "}"),
				    key32),
			 ATTACH_ERR_FORMAT);
	assert_int_equal(parse_json(ONE("{" BLOB ",\"name\":\"a.jpg\",\"type\":\"image jpeg\","
					"\"size\":1,\"encSize\":42,\"key\":\"%s\"," SHA "}"),
				    key32),
			 ATTACH_ERR_FORMAT);
	assert_int_equal(
		parse_json(ONE("{\"blobId\":\"0123\",\"name\":\"a.jpg\",\"type\":"
			       "\"image/jpeg\",\"size\":1,\"encSize\":42,\"key\":\"%s\"," SHA "}"),
			   key32),
		ATTACH_ERR_FORMAT);
	assert_int_equal(
		parse_json(ONE("{" BLOB ",\"name\":\"a.jpg\",\"type\":\"image/jpeg\","
			       "\"size\":1,\"encSize\":42,\"key\":\"%s\",\"sha256\":"
			       "\"00112233445566778899AABBCCDDEEFF00112233445566778899aabbcc"
			       "ddeeff\"}"),
			   key32),
		ATTACH_ERR_FORMAT); /* uppercase hex */
	assert_int_equal(parse_json(ONE("{" BLOB ",\"name\":\"a.jpg\",\"type\":\"image/jpeg\","
					"\"size\":1,\"encSize\":42,\"key\":\"%s\",\"sha256\":"
					"\"0011\"}"),
				    key32),
			 ATTACH_ERR_FORMAT);
	assert_int_equal(
		parse_json(ONE("{" BLOB ",\"name\":\"a.jpg\",\"name\":\"b.jpg\",\"type\":"
			       "\"image/jpeg\",\"size\":1,\"encSize\":42,\"key\":\"%s\"," SHA "}"),
			   key32),
		ATTACH_ERR_FORMAT); /* duplicate member */
#undef ONE
}

static void
test_body_parse_bounds(void **state)
{
	char *text = NULL, err[256];
	struct attach_meta *atts = NULL;
	size_t n = 0;
	uint8_t *big;
	const uint8_t text_body[] = {0x01, 'h', 'i'};

	(void)state;
	assert_int_equal(
		attach_body_parse(text_body, sizeof text_body, &text, &atts, &n, err, sizeof err),
		ATTACH_ERR_FORMAT);
	assert_int_equal(attach_body_parse(text_body, 1, &text, &atts, &n, err, sizeof err),
			 ATTACH_ERR_FORMAT);
	big = calloc(1, ATTACH_BODY_MAX + 1);
	assert_non_null(big);
	big[0] = 0x03;
	memset(big + 1, ' ', ATTACH_BODY_MAX);
	assert_int_equal(
		attach_body_parse(big, ATTACH_BODY_MAX + 1, &text, &atts, &n, err, sizeof err),
		ATTACH_ERR_FORMAT);
	free(big);
	assert_int_equal(attach_body_parse(text_body, 3, NULL, &atts, &n, err, sizeof err),
			 ATTACH_ERR_ARGS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_one_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_one_chunk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_chunk_plus_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_3mib, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_key_each_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trailing_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_after_final, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inconsistent_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decrypt_into_missing_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decrypt_into_readonly_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encrypt_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encrypt_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encrypt_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encrypt_never_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encrypt_max_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_and_types, setup, teardown),
		cmocka_unit_test(test_body_round_trip),
		cmocka_unit_test(test_body_build_refuses),
		cmocka_unit_test(test_body_parse_rejects),
		cmocka_unit_test(test_body_parse_bounds),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
