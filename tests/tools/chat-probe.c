/*
 * chat-probe - a test client for what chatctl deliberately cannot do.
 *
 *   chat-probe raw [--home DIR] [--send-only] [--wait MS] URL
 *       Connects, optionally authenticates as the device of a chatctl home, then
 *       sends each line of stdin as one text frame and prints every frame it
 *       receives as one line. Lines of the form "@big N" send a frame of N bytes,
 *       "@binary" a binary frame, "@sleep MS" pauses. After stdin ends it waits
 *       MS (default 1000) for replies, or until the server closes; a close is
 *       printed as "#closed". Nothing is acked unless stdin says so.
 *
 *   chat-probe fd-send HOME CHAT TEXT
 *   chat-probe fd-recv HOME COUNT
 *       Send one message, or receive COUNT messages, driving libchat only from
 *       poll() on chat_client_fd(), as an application with its own loop does.
 *       Fails if the descriptor stays silent for 5 s while work is pending.
 *
 *   chat-probe recv-noack HOME
 *       Receives like "chatctl recv", printing "message ID TEXT" lines, but never
 *       acks, as a client that dies between storing and acking would.
 *
 *   chat-probe hold N HOST PORT MS [SRC]
 *       Opens N plain TCP connections to HOST:PORT (numeric IPv4), from the
 *       address SRC if given, sends nothing, and after MS ms prints "open K
 *       closed M": how many the server still holds and how many it closed.
 *       A connection refused at once is one the server closed.
 *
 *   chat-probe slow-put HOST PORT PATH SIZE RATE
 *       PUTs SIZE bytes to http://HOST:PORT/PATH (numeric IPv4) at RATE bytes a
 *       second, a tenth of it every 100 ms, and prints the answer's status
 *       code, or "closed after N" if the server closed the connection first.
 *
 *   chat-probe recv-die HOME
 *       Receives until the first message is stored, and dies (_exit) inside its
 *       on_message, before handing it over: a program killed while it handles
 *       a message.
 *
 *   chat-probe forge-device USER [APPROVER_HOME]
 *       What a hostile server needs to slip a device of its own into USER's
 *       list: fresh keys, validly signed, and an approval of them by the
 *       device of APPROVER_HOME (a key it got hold of), or by a fresh key of
 *       its own. Prints "IK XK XSIG APPROVER APPROVAL" in hex, for sqlite3's
 *       X'..' literals.
 *
 *   chat-probe prekeys HOME REQID SPKID FIRST N [forge]
 *       Prints an uploadPrekeys request (id REQID) for HOME's device: a signed
 *       prekey SPKID, signed by its identity key (with forge, by a fresh key
 *       of the probe's: what the server must refuse), and N one-time prekeys
 *       with ids FIRST, FIRST+1, ...; fresh random X25519 keys. No network.
 *
 *   chat-probe verify-spk IDENTITY SPKID KEY SIG
 *       Exit 0 if SIG is IDENTITY's signature of the signed prekey (SPKID,
 *       KEY), all base64 as on the wire (x3dh_verify_spk). No network.
 *
 *   chat-probe seal HOME CHAT ID HEXBODY
 *       Prints the "envelopes" array of a message ID whose plaintext is HEXBODY
 *       (the kind byte included), sealed and padded as libchat seals any, for
 *       every device of CHAT's members that HOME has pinned: what a client with
 *       a broken (or hostile) body encoder sends. No network.
 *
 *   chat-probe try-open HOME USER DEVICE CHAT ID CIPHERTEXT
 *       What an attacker holding a copy of HOME (its keys and every session
 *       state) gets from a captured stage-2 envelope (CIPHERTEXT in hex, as
 *       sqlite3's hex() reads it from the server's inbox) of message ID in CHAT from USER's
 *       DEVICE: it runs libchat's own decryption (pairwise; a group's
 *       envelope as it is, then its sender-key message alone with the
 *       sender keys the home holds, whoever the envelope was for) against
 *       the home's store, in a transaction it rolls back, and prints
 *       "opened TEXT" (exit 0) or "refused WHY" (exit 3). No network.
 *
 *   chat-probe skip HOME USER DEVICE N
 *       Uses up N message keys of HOME's session with USER's DEVICE, as N
 *       messages lost on the way would: the next one HOME sends comes N
 *       after the last the peer read. No network.
 *
 *   chat-probe skip-group HOME CHAT N
 *       The same for HOME's sender key in the group CHAT: N message keys
 *       of its chain used up. No network.
 *
 * Test-only: it links libchat's internals. Exit 0, or 1 with a message.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <libwebsockets.h>
#include <sodium.h>

#include "internal.h"
#include "senderkey.h"
#include "wire2.h"
#include "x3dh.h"

/* The id of the probe's own auth request; scripts use small ids. */
#define PROBE_AUTH_ID     999999
#define PROBE_AUTH_ID_STR "999999"

struct raw {
	struct lws *wsi;
	int closed, authed, want_auth, finishing, send_only;
	uint8_t sk[64];
	char server[PROTO_SERVER_NAME_MAX + 1]; /* what the auth signature names */
	char user[CHAT_USER_MAX + 1];
	unsigned device;
	char *out; /* the next frame to write */
	size_t out_len;
	int out_binary;
	char line[2 * 1024 * 1024];
	char *rx;
	size_t rx_len;
};

static struct raw R;

static int
queue_frame(const char *data, size_t len, int binary)
{
	free(R.out);
	R.out = malloc(LWS_PRE + len + 1);
	if (R.out == NULL)
		return -1;
	memcpy(R.out + LWS_PRE, data, len);
	R.out_len = len;
	R.out_binary = binary;
	lws_callback_on_writable(R.wsi);
	return 0;
}

static void
send_auth(const char *hello)
{
	cJSON *h = cJSON_Parse(hello), *req = cJSON_CreateObject();
	uint8_t chal[32], sig[64];
	char *s;

	if (proto_get_b64(h, "challenge", chal, 32, 0, NULL) != 0 ||
	    e2e_sign_session(sig, PROTO_LABEL_AUTH, chal, R.server, NULL, 0, R.sk) != 0) {
		fprintf(stderr, "chat-probe: bad hello\n");
		exit(1);
	}
	cJSON_AddStringToObject(req, "type", "auth");
	cJSON_AddNumberToObject(req, "id", PROBE_AUTH_ID);
	cJSON_AddStringToObject(req, "user", R.user);
	cJSON_AddNumberToObject(req, "deviceId", R.device);
	cJSON_AddStringToObject(req, "server", R.server);
	proto_add_b64(req, "signature", sig, 64);
	if (R.send_only)
		cJSON_AddFalseToObject(req, "receive");
	s = cJSON_PrintUnformatted(req);
	queue_frame(s, strlen(s), 0);
	free(s);
	cJSON_Delete(req);
	cJSON_Delete(h);
}

static int
raw_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)user;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_RECEIVE: {
		char *p = realloc(R.rx, R.rx_len + len + 1);

		if (p == NULL)
			return -1;
		R.rx = p;
		memcpy(R.rx + R.rx_len, in, len);
		R.rx_len += len;
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
			break;
		R.rx[R.rx_len] = '\0';
		printf("%s\n", R.rx);
		fflush(stdout);
		if (R.want_auth && !R.authed && strstr(R.rx, "\"hello\"") != NULL)
			send_auth(R.rx);
		else if (R.want_auth && !R.authed &&
			 strstr(R.rx, "\"id\":" PROBE_AUTH_ID_STR) != NULL)
			R.authed = 1;
		R.rx_len = 0;
		break;
	}
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (R.out != NULL) {
			int n = lws_write(wsi, (unsigned char *)R.out + LWS_PRE, R.out_len,
					  R.out_binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);

			free(R.out);
			R.out = NULL;
			if (n < 0)
				return -1;
		}
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		fprintf(stderr, "chat-probe: cannot connect: %s\n", in ? (char *)in : "?");
		R.closed = 1;
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2)
			printf("#closed %u\n", (unsigned)(((unsigned char *)in)[0] << 8 |
							  ((unsigned char *)in)[1]));
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!R.finishing) /* our own teardown is not news */
			printf("#closed\n");
		R.closed = 1;
		break;
	default: break;
	}
	return 0;
}

static const struct lws_protocols raw_protocols[] = {
	{PROTO_SUBPROTOCOL, raw_cb, 0, 65536, 0, NULL, 65536}, {NULL, NULL, 0, 0, 0, NULL, 0}};

static void
load_home(const char *home)
{
	struct chat_opts o = CHAT_OPTS_INIT(.home = home);
	int err;
	char msg[256];
	struct chat_client *c = chat_client_new(&o, NULL, &err, msg, sizeof msg);

	if (c == NULL || c->id == NULL || c->user[0] == '\0') {
		fprintf(stderr, "chat-probe: %s: not a registered home %s\n", home, c ? "" : msg);
		exit(1);
	}
	memcpy(R.sk, c->id->sign_sk, 64);
	snprintf(R.user, sizeof R.user, "%s", c->user);
	R.device = c->device_id;
	chat_client_destroy(c);
}

static void
tick(lws_sorted_usec_list_t *sul)
{
	(void)sul; /* only ends lws_service()'s wait */
}

static void
service(struct lws_context *ctx, int ms)
{
	int64_t until = proto_mono_ms() + ms;
	static lws_sorted_usec_list_t sul;

	while (!R.closed && proto_mono_ms() < until) {
		lws_sul_schedule(ctx, 0, &sul, tick, 50 * LWS_US_PER_MS);
		lws_service(ctx, 0);
		lws_sul_cancel(&sul);
	}
}

static int
run_raw(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info ci;
	struct lws_context *ctx;
	const char *url = NULL, *home = NULL;
	char host[256] = "127.0.0.1";
	int port = 0, wait_ms = 1000;
	struct proto_url u;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--home") == 0 && i + 1 < argc)
			home = argv[++i];
		else if (strcmp(argv[i], "--send-only") == 0)
			R.send_only = 1;
		else if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc)
			wait_ms = atoi(argv[++i]);
		else
			url = argv[i];
	}
	if (url == NULL || sscanf(url, "ws://%255[^:]:%d", host, &port) != 2 ||
	    proto_parse_url(url, &u) != PROTO_URL_OK ||
	    proto_server_name(u.host, u.port, R.server, sizeof R.server) != 0) {
		fprintf(stderr, "usage: chat-probe raw [--home DIR] [--send-only] [--wait MS] "
				"ws://HOST:PORT/\n");
		return 1;
	}
	if (home != NULL) {
		load_home(home);
		R.want_auth = 1;
	}
	lws_set_log_level(0, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = raw_protocols;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	ctx = lws_create_context(&info);
	memset(&ci, 0, sizeof ci);
	ci.context = ctx;
	ci.address = host;
	ci.port = port;
	ci.path = "/";
	ci.host = host;
	ci.origin = host;
	ci.protocol = PROTO_SUBPROTOCOL;
	ci.pwsi = &R.wsi;
	if (ctx == NULL || lws_client_connect_via_info(&ci) == NULL) {
		fprintf(stderr, "chat-probe: cannot connect to %s\n", url);
		return 1;
	}
	/* Wait for hello (and auth) before sending anything from stdin. */
	service(ctx, 300);
	for (int i = 0; i < 50 && R.want_auth && !R.authed && !R.closed; i++)
		service(ctx, 100);
	while (!R.closed && fgets(R.line, sizeof R.line, stdin) != NULL) {
		size_t n = strcspn(R.line, "\n");
		long v;

		R.line[n] = '\0';
		if (sscanf(R.line, "@sleep %ld", &v) == 1) {
			service(ctx, (int)v);
			continue;
		}
		if (sscanf(R.line, "@big %ld", &v) == 1) {
			char *big = v > 0 ? malloc((size_t)v) : NULL;

			if (big == NULL) {
				fprintf(stderr, "chat-probe: @big %ld: no memory\n", v);
				exit(1);
			}
			memset(big, 'x', (size_t)v);
			big[0] = '{';
			queue_frame(big, (size_t)v, 0);
			free(big);
		} else if (strcmp(R.line, "@binary") == 0) {
			queue_frame("\x01\x02\x03", 3, 1);
		} else {
			queue_frame(R.line, n, 0);
		}
		/* Let this frame and its reply through before the next line. */
		while (R.out != NULL && !R.closed)
			service(ctx, 20);
		service(ctx, 100);
	}
	service(ctx, wait_ms);
	R.finishing = 1;
	lws_context_destroy(ctx);
	free(R.rx);
	free(R.out);
	sodium_memzero(R.sk, sizeof R.sk);
	return 0;
}

static void
print_hex(const uint8_t *b, size_t n, const char *end)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	fputs(end, stdout);
}

static int
run_forge_device(const char *user, const char *approver_home)
{
	struct e2e_identity dev, approver;
	uint8_t approval[64];

	if (!proto_valid_user(user) || e2e_identity_generate(&dev) != 0 ||
	    e2e_identity_generate(&approver) != 0) {
		fprintf(stderr, "usage: chat-probe forge-device USER [APPROVER_HOME]\n");
		return 1;
	}
	if (approver_home != NULL) {
		load_home(approver_home);
		memcpy(approver.sign_sk, R.sk, 64);
		crypto_sign_ed25519_sk_to_pk(approver.sign_pk, R.sk);
		sodium_memzero(R.sk, sizeof R.sk);
	}
	if (e2e_sign_device(approval, user, dev.sign_pk, dev.x_pk, approver.sign_sk) != 0) {
		fprintf(stderr, "chat-probe: cannot sign\n");
		return 1;
	}
	print_hex(dev.sign_pk, 32, " ");
	print_hex(dev.x_pk, 32, " ");
	print_hex(dev.x_sig, 64, " ");
	print_hex(approver.sign_pk, 32, " ");
	print_hex(approval, 64, "\n");
	e2e_identity_wipe(&dev);
	e2e_identity_wipe(&approver);
	return 0;
}

static void
print_b64(const uint8_t *b, size_t n)
{
	char out[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];

	fputs(sodium_bin2base64(out, sizeof out, b, n, sodium_base64_VARIANT_ORIGINAL), stdout);
}

/* 0 if sig (base64) is identity's (base64) signature of the signed prekey
 * (id, key): libchat's x3dh_verify_spk, for scripts that check a bundle. */
static int
run_verify_spk(const char *identity, const char *id, const char *key, const char *sig)
{
	uint8_t ik[64], k[64], s[64];
	size_t ik_len, k_len, s_len;
	char *end;
	unsigned long v = strtoul(id, &end, 10);

	if (*end != '\0' || v > UINT32_MAX || proto_b64_decode(identity, ik, sizeof ik, &ik_len) ||
	    proto_b64_decode(key, k, sizeof k, &k_len) ||
	    proto_b64_decode(sig, s, sizeof s, &s_len) || ik_len != 32 || k_len != 32 ||
	    s_len != 64) {
		fprintf(stderr, "verify-spk: malformed arguments\n");
		return 2;
	}
	if (x3dh_verify_spk(s, ik, (uint32_t)v, k) != X3DH_OK) {
		fprintf(stderr, "verify-spk: the signature does not verify\n");
		return 1;
	}
	return 0;
}

static int
run_prekeys(const char *home, long req, unsigned long spk_id, unsigned long first, long n,
	    int forge)
{
	uint8_t key[32], sk[32], sig[64], fake_pk[32], fake_sk[64];
	uint8_t m[sizeof PROTO_LABEL_SPK - 1 + 4 + 32];
	size_t len = sizeof PROTO_LABEL_SPK - 1;

	load_home(home);
	if (forge && crypto_sign_keypair(fake_pk, fake_sk) != 0)
		return 1;
	if (crypto_box_keypair(key, sk) != 0)
		return 1;
	memcpy(m, PROTO_LABEL_SPK, len);
	m[len++] = (uint8_t)(spk_id >> 24);
	m[len++] = (uint8_t)(spk_id >> 16);
	m[len++] = (uint8_t)(spk_id >> 8);
	m[len++] = (uint8_t)spk_id;
	memcpy(m + len, key, 32);
	if (crypto_sign_detached(sig, NULL, m, sizeof m, forge ? fake_sk : R.sk) != 0)
		return 1;
	sodium_memzero(R.sk, sizeof R.sk);
	sodium_memzero(fake_sk, sizeof fake_sk);
	printf("{\"id\":%ld,\"type\":\"uploadPrekeys\",\"signedPrekey\":{\"id\":%lu,\"key\":\"",
	       req, spk_id);
	print_b64(key, 32);
	fputs("\",\"sig\":\"", stdout);
	print_b64(sig, 64);
	fputs("\"},\"oneTimePrekeys\":[", stdout);
	for (long i = 0; i < n; i++) {
		if (crypto_box_keypair(key, sk) != 0)
			return 1;
		printf("%s{\"id\":%lu,\"key\":\"", i ? "," : "", first + (unsigned long)i);
		print_b64(key, 32);
		fputs("\"}", stdout);
	}
	puts("]}");
	sodium_memzero(sk, sizeof sk);
	return 0;
}

static void
print_noack(struct chat_client *c, void *udata, const struct chat_message *m)
{
	(void)c;
	(void)udata;
	printf("message %s %s\n", m->message_id, m->text);
	fflush(stdout);
}

static void
die_in_callback(struct chat_client *c, void *udata, const struct chat_message *m)
{
	(void)c;
	(void)udata;
	printf("dying on %s\n", m->message_id);
	fflush(stdout);
	_exit(0);
}

static int
run_recv_noack(const char *home, int die)
{
	struct chat_opts o = CHAT_OPTS_INIT(.home = home, .timeout_ms = 5000);
	struct chat_callbacks cbs =
		CHAT_CALLBACKS_INIT(.on_message = die ? die_in_callback : print_noack);
	char msg[512];
	int err;
	struct chat_client *c = chat_client_new(&o, NULL, &err, msg, sizeof msg);
	int64_t until;

	if (c == NULL) {
		fprintf(stderr, "chat-probe: %s\n", msg);
		return 1;
	}
	if (chat_client_set_callbacks(c, &cbs) != CHAT_OK || chat_client_connect(c) != CHAT_OK) {
		fprintf(stderr, "chat-probe: %s\n", chat_client_errmsg(c));
		chat_client_destroy(c);
		return 1;
	}
	until = proto_mono_ms() + 5000;
	while (!chat_client_drained(c) && proto_mono_ms() < until &&
	       chat_client_loop(c, 100) == CHAT_OK) {
		/* Throw away the acks before they can be written: this client "dies"
		 * between storing and acking. */
		receive_forget_acks(c);
	}
	/* Close without the acks: destroy, not disconnect (which would flush them). */
	receive_forget_acks(c);
	chat_client_destroy(c);
	return 0;
}

/* One step of an application's loop: wait up to a second for the fd, then let
 * libchat work, as chat.h asks (when readable, and at least once a second).
 * chat_client_loop(c, 0) must never block: an alarm kills the probe if it does. */
static int
fd_step(struct chat_client *c)
{
	static int idle;
	struct pollfd p = {chat_client_fd(c), POLLIN, 0};
	int n = poll(&p, 1, 1000), rc;

	if (n < 0)
		return -1;
	if (n == 0 && ++idle > 5) {
		fprintf(stderr, "chat-probe: chat_client_fd() stayed silent for 5 s\n");
		return -1;
	}
	if (n > 0)
		idle = 0;
	alarm(5);
	rc = chat_client_loop(c, 0);
	alarm(0);
	if (rc != CHAT_OK) {
		fprintf(stderr, "chat-probe: %s\n", chat_client_errmsg(c));
		return -1;
	}
	return 0;
}

static struct chat_client *
open_home(const char *home, void *udata)
{
	struct chat_opts o = CHAT_OPTS_INIT(.home = home, .timeout_ms = 5000);
	char msg[512];
	int err;
	struct chat_client *c = chat_client_new(&o, udata, &err, msg, sizeof msg);

	if (c == NULL)
		fprintf(stderr, "chat-probe: %s\n", msg);
	return c;
}

static void
fd_done(struct chat_client *c, void *arg, int err, const char *id)
{
	(void)c;
	(void)id;
	*(int *)arg = err == CHAT_OK ? 1 : -1;
}

static int
run_fd_send(const char *home, const char *chat, const char *text)
{
	struct chat_client *c = open_home(home, NULL);
	int done = 0, rc = 1;

	if (c == NULL)
		return 1;
	if (chat_send_text(c, chat, text, strlen(text), NULL, fd_done, &done) != CHAT_OK)
		fprintf(stderr, "chat-probe: %s\n", chat_client_errmsg(c));
	else {
		while (done == 0 && fd_step(c) == 0)
			;
		if (done == 1) {
			printf("sent\n");
			rc = 0;
		} else if (done == -1) {
			fprintf(stderr, "chat-probe: send failed: %s\n", chat_client_errmsg(c));
		}
	}
	chat_client_destroy(c);
	return rc;
}

static void
count_message(struct chat_client *c, void *udata, const struct chat_message *m)
{
	(void)c;
	printf("message %s\n", m->text);
	fflush(stdout);
	(*(long *)udata)--;
}

static int
run_fd_recv(const char *home, long count)
{
	struct chat_callbacks cbs = CHAT_CALLBACKS_INIT(.on_message = count_message);
	struct chat_client *c = open_home(home, &count);
	int rc = 1;

	if (c == NULL)
		return 1;
	if (chat_client_set_callbacks(c, &cbs) != CHAT_OK || chat_client_connect(c) != CHAT_OK) {
		fprintf(stderr, "chat-probe: %s\n", chat_client_errmsg(c));
	} else {
		while ((count > 0 || !chat_client_idle(c)) && fd_step(c) == 0)
			;
		rc = count > 0;
	}
	chat_client_disconnect(c);
	chat_client_destroy(c);
	return rc;
}

/* 1 if the server has closed fd (EOF or reset), 0 if it is still open. */
static int
peer_closed(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);

	if (n == 0)
		return 1;
	return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
run_hold(int n, const char *host, int port, int ms, const char *src)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct sockaddr_in from = {.sin_family = AF_INET};
	int *fds = calloc((size_t)n, sizeof *fds), open_n = 0, closed = 0;

	if (fds == NULL || inet_pton(AF_INET, host, &to.sin_addr) != 1 ||
	    (src != NULL && inet_pton(AF_INET, src, &from.sin_addr) != 1)) {
		fprintf(stderr, "chat-probe: bad address\n");
		free(fds);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 ||
		    (src != NULL && bind(fds[i], (struct sockaddr *)&from, sizeof from) != 0)) {
			fprintf(stderr, "chat-probe: socket %d: %s\n", i, strerror(errno));
			free(fds); /* and the sockets, with the process */
			return 1;
		}
		/* A refusal after the accept is a close: counted below. */
		if (connect(fds[i], (struct sockaddr *)&to, sizeof to) != 0 &&
		    errno != ECONNRESET) {
			fprintf(stderr, "chat-probe: connect %d: %s\n", i, strerror(errno));
			free(fds);
			return 1;
		}
	}
	sleep_ms(ms);
	for (int i = 0; i < n; i++) {
		if (peer_closed(fds[i]))
			closed++;
		else
			open_n++;
		close(fds[i]);
	}
	printf("open %d closed %d\n", open_n, closed);
	free(fds);
	return 0;
}

static int
run_slow_put(const char *host, int port, const char *path, long size, long rate)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char head[1024], chunk[4096], resp[256];
	long sent = 0, step = rate / 10 > 0 ? rate / 10 : 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0), n;
	ssize_t got;

	signal(SIGPIPE, SIG_IGN);
	if (step > (long)sizeof chunk)
		step = sizeof chunk;
	memset(chunk, 'x', sizeof chunk);
	if (fd < 0 || inet_pton(AF_INET, host, &to.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
		fprintf(stderr, "chat-probe: cannot connect: %s\n", strerror(errno));
		return 1;
	}
	n = snprintf(head, sizeof head,
		     "PUT %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %ld\r\n\r\n", path, host,
		     port, size);
	if (write(fd, head, (size_t)n) != n)
		goto closed;
	while (sent < size) {
		long k = size - sent < step ? size - sent : step;

		if (peer_closed(fd) || write(fd, chunk, (size_t)k) != k)
			goto closed;
		sent += k;
		sleep_ms(100);
	}
	got = read(fd, resp, sizeof resp - 1);
	if (got <= 0)
		goto closed;
	resp[got] = '\0';
	printf("%.3s\n", strchr(resp, ' ') ? strchr(resp, ' ') + 1 : "?");
	close(fd);
	return 0;
closed:
	printf("closed after %ld\n", sent);
	close(fd);
	return 0;
}

static int
run_seal(const char *home, const char *chat, const char *id, const char *hex)
{
	struct chat_opts o = CHAT_OPTS_INIT(.home = home);
	uint8_t body[4096];
	size_t len = 0, n = 0;
	char **users = NULL, *s;
	struct chat_client *c = chat_client_new(&o, NULL, NULL, NULL, 0);
	cJSON *arr = cJSON_CreateArray();
	int rc = 1;

	if (c == NULL || c->id == NULL || arr == NULL ||
	    sodium_hex2bin(body, sizeof body, hex, strlen(hex), NULL, &len, NULL) != 0 ||
	    store_chat_members(&c->store, chat, &users, &n) != 0 || n == 0) {
		fprintf(stderr, "chat-probe: seal: bad home, chat or hex body\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (send_envelopes(c, arr, chat, id, users[i], body, len, 0) != CHAT_OK) {
			fprintf(stderr, "chat-probe: seal: %s\n", chat_client_errmsg(c));
			goto out;
		}
	if ((s = cJSON_PrintUnformatted(arr)) != NULL) {
		printf("%s\n", s);
		free(s);
		rc = 0;
	}
out:
	store_free_list(users, n);
	cJSON_Delete(arr);
	chat_client_destroy(c);
	return rc;
}

static int
run_try_open(const char *home, const char *user, const char *device, const char *chat,
	     const char *id, const char *hex)
{
	struct chat_opts o = CHAT_OPTS_INIT(.home = home);
	struct chat_client *c = chat_client_new(&o, NULL, NULL, NULL, 0);
	struct store_peer p;
	struct wire2 w;
	uint8_t *ct = malloc(PROTO_MAX_ENVELOPE), *pt = NULL;
	size_t ct_len = 0, pt_len = 0;
	char why[512] = "";
	uint32_t dev = (uint32_t)strtoul(device, NULL, 10);
	int rc = 1, r;

	if (c == NULL || c->id == NULL || ct == NULL ||
	    sodium_hex2bin(ct, PROTO_MAX_ENVELOPE, hex, strlen(hex), NULL, &ct_len, NULL) != 0 ||
	    store_peer_get(&c->store, user, dev, &p) != 1 || store_begin(&c->store) != 0) {
		fprintf(stderr, "chat-probe: try-open: bad home, sender or ciphertext\n");
		goto out;
	}
	if (wire2_parse(ct, ct_len, &w) != 0) {
		snprintf(why, sizeof why, "not a stage-2 envelope");
		r = 1;
	} else if (w.form == WIRE2_GROUP) {
		/* As it is (the sender key it carries, if the home can read it),
		 * then the message alone, with the sender keys the home holds. */
		r = group_open(c, chat, id, user, dev, p.exchange_key, &w, &pt, &pt_len, why,
			       sizeof why);
		if (r != CHAT_OK && w.dist != NULL) {
			w.dist = NULL;
			w.dist_len = 0;
			r = group_open(c, chat, id, user, dev, p.exchange_key, &w, &pt, &pt_len,
				       why, sizeof why);
		}
	} else {
		r = pairwise_decrypt(c, chat, id, user, dev, p.exchange_key, &w, &pt, &pt_len, why,
				     sizeof why);
	}
	store_rollback(&c->store);
	if (r == CHAT_OK && pt_len > 0) {
		printf("opened %.*s\n", (int)(pt_len - 1), (const char *)pt + 1);
		rc = 0;
	} else {
		printf("refused %s\n", r < 0 ? chat_client_errmsg(c) : why);
		rc = 3;
	}
out:
	if (pt != NULL) {
		sodium_memzero(pt, pt_len);
		free(pt);
	}
	free(ct);
	chat_client_destroy(c);
	return rc;
}

static int
run_skip(const char *home, const char *user, const char *device, long n)
{
	struct chat_opts o = CHAT_OPTS_INIT(.home = home);
	struct chat_client *c = chat_client_new(&o, NULL, NULL, NULL, 0);
	struct store_peer p;
	uint32_t dev = (uint32_t)strtoul(device, NULL, 10);
	uint8_t body[] = {PROTO_BODY_TEXT, 'x'};
	int rc = 1;

	if (c == NULL || c->id == NULL || store_peer_get(&c->store, user, dev, &p) != 1 ||
	    store_begin(&c->store) != 0) {
		fprintf(stderr, "chat-probe: skip: bad home or peer\n");
		goto out;
	}
	for (long i = 0; i < n; i++) {
		uint8_t *ct = NULL;
		size_t len = 0;

		if (pairwise_encrypt(c, "0000000000000000", "00000000000000000000000000000000", user,
				     dev, p.exchange_key, body, sizeof body, &ct,
				     &len) != CHAT_OK) {
			fprintf(stderr, "chat-probe: skip: %s\n", chat_client_errmsg(c));
			store_rollback(&c->store);
			goto out;
		}
		free(ct);
	}
	rc = store_commit(&c->store) == 0 ? 0 : 1;
out:
	chat_client_destroy(c);
	return rc;
}

static int
run_skip_group(const char *home, const char *chat, long n)
{
	struct chat_opts o = CHAT_OPTS_INIT(.home = home);
	struct chat_client *c = chat_client_new(&o, NULL, NULL, NULL, 0);
	struct sk_own own = {0};
	struct sk_ad ad = {(const uint8_t *)chat, strlen(chat), (const uint8_t *)"x", 1,
			   (const uint8_t *)"x", 1, 1};
	uint8_t *blob = NULL, pt[16] = {0}, out[16 + SK_OVERHEAD], keep[SK_OWN_BLOB_BYTES];
	size_t len = 0, out_len = 0;
	int rc = 1;

	if (c == NULL || store_sk_own_get(&c->store, chat, &blob, &len) != 1 ||
	    sk_own_deserialize(&own, blob, len) != SK_OK) {
		fprintf(stderr, "chat-probe: skip-group: no sender key for %s\n", chat);
		goto out;
	}
	for (long i = 0; i < n; i++)
		if (sk_encrypt(&own, &ad, pt, sizeof pt, out, sizeof out, &out_len) != SK_OK)
			goto out;
	if (sk_own_serialize(&own, keep, sizeof keep, &len) == SK_OK &&
	    store_sk_own_put(&c->store, chat, keep, len, 0, 0) == 0)
		rc = 0;
out:
	free(blob);
	sk_own_wipe(&own);
	chat_client_destroy(c);
	return rc;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc >= 2 && strcmp(argv[1], "raw") == 0)
		return run_raw(argc, argv);
	if (argc == 3 && strcmp(argv[1], "recv-noack") == 0)
		return run_recv_noack(argv[2], 0);
	if (argc == 3 && strcmp(argv[1], "recv-die") == 0)
		return run_recv_noack(argv[2], 1);
	if (argc == 5 && strcmp(argv[1], "fd-send") == 0)
		return run_fd_send(argv[2], argv[3], argv[4]);
	if (argc == 4 && strcmp(argv[1], "fd-recv") == 0)
		return run_fd_recv(argv[2], atol(argv[3]));
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "forge-device") == 0)
		return run_forge_device(argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 7 && strcmp(argv[1], "slow-put") == 0)
		return run_slow_put(argv[2], atoi(argv[3]), argv[4], atol(argv[5]), atol(argv[6]));
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "hold") == 0)
		return run_hold(atoi(argv[2]), argv[3], atoi(argv[4]), atoi(argv[5]),
				argc == 7 ? argv[6] : NULL);
	if ((argc == 7 || argc == 8) && strcmp(argv[1], "prekeys") == 0)
		return run_prekeys(argv[2], atol(argv[3]), strtoul(argv[4], NULL, 10),
				   strtoul(argv[5], NULL, 10), atol(argv[6]),
				   argc == 8 && strcmp(argv[7], "forge") == 0);
	if (argc == 6 && strcmp(argv[1], "verify-spk") == 0)
		return run_verify_spk(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 5 && strcmp(argv[1], "skip-group") == 0)
		return run_skip_group(argv[2], argv[3], strtol(argv[4], NULL, 10));
	if (argc == 6 && strcmp(argv[1], "skip") == 0)
		return run_skip(argv[2], argv[3], argv[4], strtol(argv[5], NULL, 10));
	if (argc == 8 && strcmp(argv[1], "try-open") == 0)
		return run_try_open(argv[2], argv[3], argv[4], argv[5], argv[6], argv[7]);
	if (argc == 6 && strcmp(argv[1], "seal") == 0)
		return run_seal(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: chat-probe raw [--home DIR] [--send-only] [--wait MS] URL\n"
			"       chat-probe recv-noack HOME\n"
			"       chat-probe recv-die HOME\n"
			"       chat-probe fd-send HOME CHAT TEXT\n"
			"       chat-probe fd-recv HOME COUNT\n"
			"       chat-probe forge-device USER [APPROVER_HOME]\n"
			"       chat-probe hold N HOST PORT MS [SRC]\n"
			"       chat-probe slow-put HOST PORT PATH SIZE RATE\n"
			"       chat-probe prekeys HOME REQID SPKID FIRST N [forge]\n"
			"       chat-probe verify-spk IDENTITY SPKID KEY SIG\n"
			"       chat-probe seal HOME CHAT ID HEXBODY\n");
	return 1;
}
