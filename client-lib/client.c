/*
 * client.c - the libchat handle: device home, identity, errors, and the calls
 * that only read or write the local store.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#define IDENTITY_FILE "identity.key"
#define STORE_FILE    "store.db"

/* chat.h stands alone, so it repeats what an application needs of
 * protocol.h (and of e2e.h); the two must never drift apart. */
_Static_assert(CHAT_PROTOCOL_VERSION == PROTO_VERSION && CHAT_USER_MAX == PROTO_USER_MAX &&
		       CHAT_CHAT_ID_LEN == PROTO_CHAT_ID_LEN &&
		       CHAT_MESSAGE_ID_LEN == PROTO_MESSAGE_ID_LEN &&
		       CHAT_MAX_TEXT == PROTO_MAX_TEXT && CHAT_MAX_ATTACHMENTS == PROTO_MAX_BLOBS &&
		       CHAT_REPLY_PREVIEW_MAX == PROTO_REPLY_PREVIEW_MAX &&
		       CHAT_EMOJI_MAX == PROTO_EMOJI_MAX,
	       "chat.h's protocol constants are protocol.h's");
_Static_assert(CHAT_HEARTBEAT_DEFAULT == PROTO_HEARTBEAT_DEFAULT &&
		       CHAT_HEARTBEAT_MIN == PROTO_HEARTBEAT_MIN &&
		       CHAT_HEARTBEAT_MAX == PROTO_HEARTBEAT_MAX,
	       "chat.h's heartbeat bounds are protocol.h's");
_Static_assert(CHAT_RECEIPT_DELIVERED == PROTO_RECEIPT_DELIVERED &&
		       CHAT_RECEIPT_READ == PROTO_RECEIPT_READ,
	       "chat.h's receipt statuses are the bytes a receipt carries");
_Static_assert(CHAT_SAFETY_NUMBER_LEN == E2E_SAFETY_LEN, "chat.h's safety number is e2e.h's");

const char *
chat_version(void)
{
	return CHAT_VERSION;
}

const char *
chat_strerror(int err)
{
	switch (err) {
	case CHAT_OK: return "success";
	case CHAT_ERR_INVALID: return "invalid argument";
	case CHAT_ERR_NOMEM: return "out of memory";
	case CHAT_ERR_HOME: return "device home not usable";
	case CHAT_ERR_STORE: return "local store failed";
	case CHAT_ERR_NOT_REGISTERED: return "this device is not registered";
	case CHAT_ERR_REGISTERED: return "this device is already registered";
	case CHAT_ERR_CONNECT: return "cannot reach the server";
	case CHAT_ERR_CONNECTION_LOST: return "connection to the server lost";
	case CHAT_ERR_TIMEOUT: return "timed out";
	case CHAT_ERR_PROTOCOL: return "protocol error";
	case CHAT_ERR_REFUSED: return "refused by the server";
	case CHAT_ERR_KEY_CHANGED: return "a contact's key changed";
	case CHAT_ERR_BAD_KEY: return "invalid key";
	case CHAT_ERR_DECRYPT: return "message does not decrypt";
	case CHAT_ERR_TOO_LARGE: return "too large";
	case CHAT_ERR_NO_SUCH_CHAT: return "no such chat";
	case CHAT_ERR_NOT_CONNECTED: return "not connected";
	case CHAT_ERR_UNSUPPORTED: return "not supported";
	case CHAT_ERR_TLS: return "the server's certificate was refused";
	case CHAT_ERR_NO_SUCH_MESSAGE: return "no such message";
	case CHAT_ERR_EXPIRED: return "not sent within the server's retention";
	case CHAT_ERR_BLOCKED: return "the recipient is blocked";
	}
	return "unknown error";
}

int
client_fail(struct chat_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
	va_end(ap);
	if (err != CHAT_ERR_REFUSED)
		c->server_code[0] = '\0';
	c->err_user[0] = '\0';
	return err;
}

int
client_fail_key(struct chat_client *c, const char *user, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
	va_end(ap);
	c->server_code[0] = '\0';
	snprintf(c->err_user, sizeof c->err_user, "%s", user);
	return CHAT_ERR_KEY_CHANGED;
}

int
client_check_registered(struct chat_client *c)
{
	if (c->id == NULL || c->user[0] == '\0')
		return client_fail(c, CHAT_ERR_NOT_REGISTERED, "this device is not registered");
	return CHAT_OK;
}

/* Fills buf with the home directory to use, from opts or the environment:
 * 0, -1 none, -2 too long. */
static int
pick_home(const char *opt, char *buf, size_t cap)
{
	const char *env;
	int n;

	if (opt != NULL && *opt != '\0')
		n = snprintf(buf, cap, "%s", opt);
	else if ((env = getenv("CHATCTL_HOME")) != NULL && *env != '\0')
		n = snprintf(buf, cap, "%s", env);
	else if ((env = getenv("XDG_DATA_HOME")) != NULL && *env == '/')
		n = snprintf(buf, cap, "%s/chatctl", env);
	else if ((env = getenv("HOME")) != NULL && *env != '\0')
		n = snprintf(buf, cap, "%s/.local/share/chatctl", env);
	else
		return -1;
	return n > 0 && (size_t)n < cap ? 0 : -2;
}

/* The CA file for wss://, from opts or the environment; NULL: the system's CAs.
 * Checked when a wss:// connection needs it, not here: a command that never
 * connects must not fail for it. */
static int
pick_ca_file(struct chat_client *c, const char *opt)
{
	const char *f = opt;

	if (f == NULL || *f == '\0')
		f = getenv("CHAT_CA_FILE");
	if (f == NULL || *f == '\0')
		return CHAT_OK;
	if ((c->ca_file = strdup(f)) == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	return CHAT_OK;
}

/* mkdir -p, with 0700 for what it creates: a home holds private keys. */
static int
make_dirs(char *path)
{
	for (char *p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			if (mkdir(path, 0700) != 0 && errno != EEXIST) {
				*p = saved;
				return -1;
			}
			*p = saved;
			if (saved == '\0')
				return 0;
		}
	}
}

static int
open_home(struct chat_client *c, const char *opt)
{
	char path[PATH_MAX], *abs;
	struct stat st;

	switch (pick_home(opt, path, sizeof path)) {
	case 0: break;
	case -1:
		return client_fail(c, CHAT_ERR_HOME,
				   "no device home: none was given, and none of CHATCTL_HOME, "
				   "XDG_DATA_HOME and HOME is set");
	default: return client_fail(c, CHAT_ERR_HOME, "device home path too long");
	}
	if (stat(path, &st) != 0) {
		if (errno != ENOENT || make_dirs(path) != 0)
			return client_fail(c, CHAT_ERR_HOME, "cannot create device home %s: %s",
					   path, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		return client_fail(c, CHAT_ERR_HOME, "device home %s is not a directory", path);
	}
	if (access(path, R_OK | W_OK | X_OK) != 0)
		return client_fail(c, CHAT_ERR_HOME, "device home %s is not writable: %s", path,
				   strerror(errno));
	abs = realpath(path, NULL);
	if (abs == NULL)
		return client_fail(c, CHAT_ERR_HOME, "device home %s: %s", path, strerror(errno));
	c->home = abs;
	return CHAT_OK;
}

static int
home_path(const struct chat_client *c, const char *name, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/%s", c->home, name);

	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int
load_identity(struct chat_client *c)
{
	char path[PATH_MAX];
	uint8_t blob[E2E_IDENTITY_BLOB_BYTES + 1];
	struct stat st;
	ssize_t n;
	int fd, rc = CHAT_OK;

	if (home_path(c, IDENTITY_FILE, path, sizeof path) != 0)
		return client_fail(c, CHAT_ERR_HOME, "device home path too long");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return CHAT_OK;
		return client_fail(c, CHAT_ERR_HOME, "cannot read %s: %s", path, strerror(errno));
	}
	/* Like ssh, refuse a private key others can read: it may already be copied. */
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
		close(fd);
		return client_fail(c, CHAT_ERR_HOME,
				   "%s is readable by others (mode %03o); "
				   "run: chmod 600 %s",
				   path, (unsigned)(st.st_mode & 0777), path);
	}
	n = read(fd, blob, sizeof blob);
	close(fd);
	c->id = sodium_malloc(sizeof *c->id);
	if (c->id == NULL)
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	else if (n < 0 || e2e_identity_parse(c->id, blob, (size_t)n) != 0)
		rc = client_fail(c, CHAT_ERR_HOME, "%s is damaged (not a device identity)", path);
	sodium_memzero(blob, sizeof blob);
	if (rc != CHAT_OK && c->id != NULL) {
		sodium_free(c->id);
		c->id = NULL;
	}
	return rc;
}

/* Writes the identity with mode 0600 through a temporary file and rename, so a
 * crash leaves either no identity or a whole one. */
static int
client_save_identity(struct chat_client *c)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	uint8_t blob[E2E_IDENTITY_BLOB_BYTES];
	int fd, ok;

	if (home_path(c, IDENTITY_FILE, path, sizeof path) != 0 ||
	    home_path(c, IDENTITY_FILE ".tmp", tmp, sizeof tmp) != 0)
		return client_fail(c, CHAT_ERR_HOME, "device home path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return client_fail(c, CHAT_ERR_HOME, "cannot write %s: %s", tmp, strerror(errno));
	e2e_identity_serialize(c->id, blob);
	ok = write(fd, blob, sizeof blob) == (ssize_t)sizeof blob && fsync(fd) == 0;
	sodium_memzero(blob, sizeof blob);
	if (close(fd) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		return client_fail(c, CHAT_ERR_HOME, "cannot write %s: %s", path, strerror(e));
	}
	return CHAT_OK;
}

/* Creates the device's identity if the home has none, and writes it (0600)
 * before any server hears of it, so a retry after a lost reply presents the same
 * key (and the server answers as the first time). */
int
client_ensure_identity(struct chat_client *c)
{
	int rc;

	if (c->id != NULL)
		return CHAT_OK;
	c->id = sodium_malloc(sizeof *c->id);
	if (c->id == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	if (e2e_identity_generate(c->id) != 0) {
		sodium_free(c->id);
		c->id = NULL;
		return client_fail(c, CHAT_ERR_NOMEM, "cannot create the device's keys");
	}
	rc = client_save_identity(c);
	if (rc != CHAT_OK) {
		e2e_identity_wipe(c->id);
		sodium_free(c->id);
		c->id = NULL;
	}
	return rc;
}

static int
open_store(struct chat_client *c)
{
	char path[PATH_MAX], buf[64];
	int fd;

	if (home_path(c, STORE_FILE, path, sizeof path) != 0)
		return client_fail(c, CHAT_ERR_HOME, "device home path too long");
	/* Create it 0600 ourselves: it holds decrypted messages. SQLite gives its
	 * -wal and -shm files the same mode. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return client_fail(c, CHAT_ERR_HOME, "cannot open %s: %s", path, strerror(errno));
	close(fd);
	if (store_open(&c->store, path) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (store_meta_get(&c->store, "user", c->user, sizeof c->user) < 0 ||
	    store_meta_get(&c->store, "device_id", buf, sizeof buf) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (c->user[0] != '\0')
		c->device_id = (uint32_t)strtoul(buf, NULL, 10);
	if (c->server_url == NULL) {
		char url[1024];
		int found = store_meta_get(&c->store, "server_url", url, sizeof url);

		if (found < 0)
			return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		if (found && (c->server_url = strdup(url)) == NULL)
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	return CHAT_OK;
}

/* The heartbeat to use: the option, else $CHAT_HEARTBEAT, else the default. */
static int
pick_heartbeat(struct chat_client *c, int opt)
{
	const char *env = getenv("CHAT_HEARTBEAT");
	char *end;
	long v;

	if (opt != 0) {
		if (opt < CHAT_HEARTBEAT_MIN || opt > CHAT_HEARTBEAT_MAX)
			return client_fail(c, CHAT_ERR_INVALID,
					   "heartbeat of %d s: give 0 (the default) or %d to %d "
					   "seconds",
					   opt, CHAT_HEARTBEAT_MIN, CHAT_HEARTBEAT_MAX);
		c->heartbeat_s = opt;
		return CHAT_OK;
	}
	if (env == NULL || *env == '\0') {
		c->heartbeat_s = CHAT_HEARTBEAT_DEFAULT;
		return CHAT_OK;
	}
	/* Set but wrong is said, not ignored: the user meant something by it. */
	v = strtol(env, &end, 10);
	if (*end != '\0' || end == env || v < CHAT_HEARTBEAT_MIN || v > CHAT_HEARTBEAT_MAX)
		return client_fail(
			c, CHAT_ERR_INVALID,
			"CHAT_HEARTBEAT='%.32s' is not a number of seconds from %d to %d", env,
			CHAT_HEARTBEAT_MIN, CHAT_HEARTBEAT_MAX);
	c->heartbeat_s = (int)v;
	return CHAT_OK;
}

/*
 * The sized structs (chat.h, "Growing structs"). Every program built against
 * libchat.so.1 knows at least the members up to these: a size below their end
 * is not such a struct (an uninitialised size, or a program built against
 * libchat.so.0).
 */
#define OPTS_MIN_SIZE (offsetof(struct chat_opts, heartbeat_s) + sizeof(int))
#define CALLBACKS_MIN_SIZE                                                                         \
	(offsetof(struct chat_callbacks, on_undecryptable) + sizeof(chat_undecryptable_cb))

/* Copies a sized struct the program made (its first member is its size as
 * the program was compiled) into dst, own bytes: what the program's size does
 * not cover stays 0, and what this library does not know must be 0 (else the
 * program asks for something it would not get). 0, or -1 with why in err. */
static int
take_sized(void *dst, size_t own, const void *src, size_t min, const char *name, const char *init,
	   char *err, size_t errlen)
{
	size_t given;

	memcpy(&given, src, sizeof given);
	/* Far larger than any struct of ours will grow: no size at all, but
	 * what a program built against libchat.so.0 has there (a pointer). */
	if (given < min || given > own + 4096) {
		snprintf(err, errlen,
			 "struct %s has no valid size (%zu): initialise it with %s(...), and "
			 "build against this chat.h",
			 name, given, init);
		return -1;
	}
	for (size_t i = own; i < given; i++)
		if (((const unsigned char *)src)[i] != 0) {
			snprintf(err, errlen,
				 "struct %s sets members this libchat (%s) does not know: it is "
				 "older than the chat.h the program was built with",
				 name, CHAT_VERSION);
			return -1;
		}
	memset(dst, 0, own);
	memcpy(dst, src, given < own ? given : own);
	return 0;
}

struct chat_client *
chat_client_new(const struct chat_opts *given, void *udata, int *err, char *errbuf, size_t errlen)
{
	struct chat_opts o = CHAT_OPTS_INIT(), *opts = &o;
	struct chat_client *c;
	char why[256];
	int rc;

	if (given != NULL && take_sized(&o, sizeof o, given, OPTS_MIN_SIZE, "chat_opts",
					"CHAT_OPTS_INIT", why, sizeof why) != 0) {
		if (err)
			*err = CHAT_ERR_INVALID;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", why);
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		if (err)
			*err = CHAT_ERR_NOMEM;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "libsodium failed to initialise");
		errno = ENOMEM;
		return NULL;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		if (err)
			*err = CHAT_ERR_NOMEM;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	c->udata = udata;
	c->history_days = CHAT_HISTORY_DAYS_DEFAULT;
	c->transport = &ws_transport;
	c->hooks = &client_hooks;
	c->next_req_id = 1;
	c->max_frame = PROTO_MAX_FRAME;
	c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 10000;
	c->send_only = opts->send_only;
	c->reconnect = opts->reconnect;
	rc = pick_heartbeat(c, opts->heartbeat_s);
	if (rc == CHAT_OK && opts->server_url != NULL &&
	    (c->server_url = strdup(opts->server_url)) == NULL)
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	if (rc == CHAT_OK)
		rc = pick_ca_file(c, opts->ca_file);
	if (rc == CHAT_OK)
		rc = open_home(c, opts->home);
	if (rc == CHAT_OK)
		rc = load_identity(c);
	if (rc == CHAT_OK)
		rc = open_store(c);
	/* What expired while no program ran goes before anything reads it (a
	 * store busy now is swept by the next read or the loop). */
	if (rc == CHAT_OK)
		(void)disappear_sweep(c, 0);
	if (rc != CHAT_OK) {
		if (err)
			*err = rc;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", c->errmsg);
		chat_client_destroy(c);
		errno = rc == CHAT_ERR_NOMEM ? ENOMEM : EIO;
		return NULL;
	}
	return c;
}

void
chat_client_destroy(struct chat_client *c)
{
	if (c == NULL)
		return;
	session_stop(c);
	ops_fail_all(c, CHAT_ERR_CONNECTION_LOST);
	events_forget_connection(c);
	store_close(&c->store);
	if (c->id != NULL) {
		e2e_identity_wipe(c->id);
		sodium_free(c->id);
	}
	typing_free(c);
	free(c->home);
	free(c->server_url);
	free(c->ca_file);
	free(c);
}

int
chat_client_connect(struct chat_client *c)
{
	if (c->id == NULL || c->user[0] == '\0') {
		if (!account_pending(c))
			return client_fail(c, CHAT_ERR_NOT_REGISTERED,
					   "this device is not registered");
	}
	return session_start(c);
}

int
chat_client_idle(const struct chat_client *c)
{
	return c->reqs == NULL && c->n_acks == 0 && !c->receipts_due;
}

int
chat_client_set_callbacks(struct chat_client *c, const struct chat_callbacks *cbs)
{
	struct chat_callbacks copy;
	char why[256];

	if (cbs == NULL) {
		memset(&c->cbs, 0, sizeof c->cbs);
		return CHAT_OK;
	}
	if (take_sized(&copy, sizeof copy, cbs, CALLBACKS_MIN_SIZE, "chat_callbacks",
		       "CHAT_CALLBACKS_INIT", why, sizeof why) != 0)
		return client_fail(c, CHAT_ERR_INVALID, "%s", why);
	c->cbs = copy;
	return CHAT_OK;
}

const char *
chat_client_errmsg(const struct chat_client *c)
{
	return c->errmsg;
}
const char *
chat_client_server_code(const struct chat_client *c)
{
	return c->server_code;
}
const char *
chat_client_error_user(const struct chat_client *c)
{
	return c->err_user;
}
const char *
chat_client_user(const struct chat_client *c)
{
	return c->user[0] ? c->user : NULL;
}
uint32_t
chat_client_device_id(const struct chat_client *c)
{
	return c->device_id;
}
const char *
chat_client_server_url(const struct chat_client *c)
{
	return c->server_url;
}
const char *
chat_client_home(const struct chat_client *c)
{
	return c->home;
}

void *
chat_client_udata(const struct chat_client *c)
{
	return c->udata;
}

int
chat_list_chats(struct chat_client *c, chat_chat_cb each, void *arg)
{
	int stop;

	(void)disappear_sweep(c, 0); /* nothing past its time is counted */
	if (store_chat_each(&c->store, each, arg, &stop) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return stop;
}

int
chat_history(struct chat_client *c, const char *chat_id, int limit, chat_history_cb each, void *arg)
{
	int stop, rc = chats_check_local(c, chat_id);

	if (rc != CHAT_OK)
		return rc;
	(void)disappear_sweep(c, 0); /* nothing past its time is shown */
	if (store_message_each(&c->store, chat_id, limit, each, arg, &stop) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return stop;
}

int
chat_search(struct chat_client *c, const char *query, const char *chat_id, int limit,
	    chat_history_cb each, void *arg)
{
	size_t len = query ? strlen(query) : 0;
	int stop, rc;

	if (query == NULL || strspn(query, " \t\n\r\f\v") == len)
		return client_fail(c, CHAT_ERR_INVALID, "no words to search for");
	if (len > CHAT_SEARCH_MAX)
		return client_fail(c, CHAT_ERR_INVALID, "the words to search for are over %d bytes",
				   CHAT_SEARCH_MAX);
	if (!proto_valid_utf8(query, len))
		return client_fail(c, CHAT_ERR_INVALID, "the words to search for are not UTF-8");
	if (chat_id != NULL && (rc = chats_check_local(c, chat_id)) != CHAT_OK)
		return rc;
	(void)disappear_sweep(c, 0);
	if (store_message_search(&c->store, query, chat_id, limit, each, arg, &stop) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return stop;
}

int
chat_message_get(struct chat_client *c, const char *message_id, chat_history_cb each, void *arg)
{
	int rc;

	if (!proto_valid_hex(message_id, CHAT_MESSAGE_ID_LEN))
		return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a message id",
				   message_id ? message_id : "");
	rc = store_message_get(&c->store, message_id, each, arg);
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 0)
		return client_fail(c, CHAT_ERR_INVALID, "no message %s in this device's store",
				   message_id);
	return CHAT_OK;
}

int
chat_trust(struct chat_client *c, const char *user)
{
	int n;

	if (!proto_valid_user(user))
		return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a valid user name",
				   user ? user : "");
	n = store_peer_trust(&c->store, user);
	if (n < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return n;
}

int
chat_resolve_chat(struct chat_client *c, const char *spec, char *out)
{
	char self[CHAT_USER_MAX + 2];
	size_t n;
	int rc;

	if (spec == NULL)
		spec = ""; /* refused below, as any spec too short */
	n = strlen(spec);
	if (spec[0] == '@') {
		if (!proto_valid_user(spec + 1))
			return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a valid user name",
					   spec + 1);
		/* "@me", or the user's own name: their notes to self
		 * (store_chat_resolve). */
		if (strcmp(spec, CHAT_SELF_SPEC) == 0) {
			snprintf(self, sizeof self, "@%s", c->user);
			spec = self;
			n = strlen(spec);
		}
	} else if (n < 4 || n > CHAT_CHAT_ID_LEN || !proto_valid_hex(spec, n)) {
		return client_fail(c, CHAT_ERR_INVALID,
				   "'%s' is not a chat id (16 hex digits, a prefix "
				   "of at least 4, or @user)",
				   spec);
	}
	rc = store_chat_resolve(&c->store, c->user, spec, out);
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 2)
		return client_fail(c, CHAT_ERR_INVALID,
				   "'%s' matches more than one chat; give more digits", spec);
	if (rc == 0) {
		if (n == CHAT_CHAT_ID_LEN) {
			/* A full id we have not seen may still be a chat on the server. */
			memcpy(out, spec, CHAT_CHAT_ID_LEN + 1);
			return CHAT_OK;
		}
		if (strcmp(spec + 1, c->user) == 0)
			return client_fail(c, CHAT_ERR_NO_SUCH_CHAT,
					   "no notes to self on this device yet (%s is you): "
					   "create the chat with yourself first",
					   spec + 1);
		return client_fail(c, CHAT_ERR_NO_SUCH_CHAT,
				   "no chat matches '%s' in this device's store", spec);
	}
	return CHAT_OK;
}
