/*
 * store-commit - chat-server's own store, without the network: what one 1:1
 * message costs its database layer (server-stub/db.h, linked in), on the
 * server's schema and settings (db_open: WAL, synchronous=FULL).
 *
 *   store-commit [-n MESSAGES] [-d DIR | -u postgresql://...]
 *
 * With -u, the same on the PostgreSQL store (an empty database: the users
 * and chat are made in it), its figures named store_pg.*; the database is
 * left as the run made it.
 * Two users with one device each and their direct chat; then, per message,
 * db_send with one envelope of 272 bytes (a short text's ciphertext) and
 * db_ack of it by the recipient, each its own transaction as the server
 * makes them per request today. Figures: store.send_per_s (sends alone),
 * store.msgs_per_s (send and ack), store.send_p50_us, store.ack_p50_us.
 * Figures go to stdout as "name value" lines (see bench.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "db.h"
#include "bench.h"

#define CT_BYTES 272

static int
add_user(struct db *st, const char *user)
{
	uint8_t ik[PROTO_KEY_BYTES], xk[PROTO_KEY_BYTES], sig[PROTO_SIG_BYTES];
	uint32_t dev = 0;
	int created = 0;

	/* the store keeps keys; it does not check them (the request layer does) */
	randombytes_buf(ik, sizeof ik);
	randombytes_buf(xk, sizeof xk);
	randombytes_buf(sig, sizeof sig);
	return db_register(st, user, NULL, ik, xk, sig, 1, &dev, &created) == DB_OK && dev == 1
		       ? 0
		       : -1;
}

static int
one_message(struct db *st, const char *chat, const uint8_t *ct, long i, double *t_send,
	    double *t_ack)
{
	char mid[1][PROTO_MESSAGE_ID_LEN + 1];
	uint8_t raw[16];
	struct db_envelope env = {.to = {.user = "bob", .device_id = 1},
				  .ciphertext = ct,
				  .ciphertext_len = CT_BYTES};
	struct db_send req = {.chat_id = chat,
			      .message_id = mid[0],
			      .sender_user = "alice",
			      .sender_device = 1,
			      .envelopes = &env,
			      .n_envelopes = 1,
			      .now = 1000 + i};
	struct db_send_result res;
	int64_t acked = 0;
	enum db_status s;
	double t0;

	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(mid[0], sizeof mid[0], raw, sizeof raw);
	randombytes_buf(env.nonce, sizeof env.nonce);
	memset(&res, 0, sizeof res);
	t0 = bench_now_us();
	s = db_send(st, &req, &res);
	*t_send = bench_now_us() - t0;
	db_send_result_free(&res);
	if (s != DB_OK)
		return -1;
	t0 = bench_now_us();
	s = db_ack(st, "bob", 1, (const char(*)[PROTO_MESSAGE_ID_LEN + 1]) mid, 1, &acked);
	*t_ack = bench_now_us() - t0;
	return s == DB_OK && acked == 1 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	char tmpl[4096], path[4200] = "", err[512], chat[PROTO_CHAT_ID_LEN + 1],
			 missing[PROTO_USER_MAX + 1];
	const char *dir = NULL, *url = NULL, *prefix = "store";
	char name[64];
	uint8_t ct[CT_BYTES];
	double *send_us, *ack_us, sum_send = 0, sum_ack = 0;
	struct db *st = NULL;
	long n = 2000;
	int opt, created = 0, rc = 1;

	while ((opt = getopt(argc, argv, "n:d:u:")) != -1) {
		switch (opt) {
		case 'n': n = bench_count("store-commit", optarg, 10000000); break;
		case 'd': dir = optarg; break;
		case 'u': url = optarg; break;
		default:
			fprintf(stderr, "usage: store-commit [-n MESSAGES] [-d DIR | -u URL]\n");
			return 2;
		}
	}
	if (url != NULL) {
		prefix = "store_pg";
	} else if (dir == NULL) {
		const char *tmp = getenv("TMPDIR");

		snprintf(tmpl, sizeof tmpl, "%s/store-commit.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (mkdtemp(tmpl) == NULL) {
			fprintf(stderr, "store-commit: mkdtemp %s: %s\n", tmpl, strerror(errno));
			return 1;
		}
		dir = tmpl;
	}
	if (url == NULL)
		snprintf(path, sizeof path, "%s/store.db", dir);
	send_us = malloc((size_t)n * sizeof *send_us);
	ack_us = malloc((size_t)n * sizeof *ack_us);
	if (sodium_init() < 0 || send_us == NULL || ack_us == NULL) {
		fprintf(stderr, "store-commit: cannot set up\n");
		goto out;
	}
	randombytes_buf(ct, sizeof ct);
	st = db_open(url != NULL ? url : path, err, sizeof err);
	if (st == NULL) {
		fprintf(stderr, "store-commit: %s\n", err);
		goto out;
	}
	if (add_user(st, "alice") != 0 || add_user(st, "bob") != 0 ||
	    db_direct_chat(st, "alice", "bob", 1, chat, &created, missing) != DB_OK) {
		fprintf(stderr, "store-commit: cannot make the two users and their chat\n");
		goto out;
	}
	for (long i = 0; i < n; i++)
		if (one_message(st, chat, ct, i, &send_us[i], &ack_us[i]) != 0) {
			fprintf(stderr, "store-commit: a send or ack failed\n");
			goto out;
		}
	for (long i = 0; i < n; i++) {
		sum_send += send_us[i];
		sum_ack += ack_us[i];
	}
	bench_sort(send_us, (size_t)n);
	bench_sort(ack_us, (size_t)n);
#define PUT(what, v) (snprintf(name, sizeof name, "%s." what, prefix), bench_put(name, (v)))
	PUT("send_per_s", (double)n / (sum_send / 1e6));
	PUT("msgs_per_s", (double)n / ((sum_send + sum_ack) / 1e6));
	PUT("send_p50_us", bench_pct(send_us, (size_t)n, 50));
	PUT("ack_p50_us", bench_pct(ack_us, (size_t)n, 50));
#undef PUT
	rc = 0;
out:
	db_close(st);
	free(send_us);
	free(ack_us);
	if (path[0] != '\0') {
		static const char *const suffix[] = {"", "-wal", "-shm"};
		char aux[4300];

		for (size_t i = 0; i < 3; i++) {
			snprintf(aux, sizeof aux, "%s%s", path, suffix[i]);
			unlink(aux);
		}
	}
	if (dir == tmpl)
		rmdir(tmpl);
	return rc;
}
