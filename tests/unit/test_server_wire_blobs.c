/*
 * test_server_wire_blobs.c - chat-server's attachments
 * (server-stub/wire_blobs.c, blob.c): signed paths with their known answers,
 * the key file, getAttachmentTarget and getAttachmentDownload, quotas, and
 * members added later.
 */
#include "server_fixture.h"
#include <errno.h>

/* Known answers (Python's hmac over the contract's texts), and the paths. */
static void
test_blob_signatures(void **state)
{
	static const char id[] = "5e1d0000000000000000000000000001";
	char sig[BLOB_SIG_LEN + 1], want[BLOB_SIG_LEN + 1], *p, bid[PROTO_BLOB_ID_LEN + 1];
	int64_t v;

	(void)state;
	blob_sign_put(test_blob_key, id, 1795000300, 1048616, sig);
	assert_string_equal(sig,
			    "494ae64e5fc940fddd4c1fc5df138a1bdff36d1c2e1dfb400fd671bdc16d2f3c");
	blob_sign_get(test_blob_key, id, 1795000300, sig);
	assert_string_equal(sig,
			    "3704f59880ec656c025c7f69fee0a38d561291d968c1e12108f9bd4402b8c306");
	p = blob_upload_path(test_blob_key, id, 1795000300, 1048616);
	assert_string_equal(
		p, "/blobs/5e1d0000000000000000000000000001?exp=1795000300&max=1048616"
		   "&sig=494ae64e5fc940fddd4c1fc5df138a1bdff36d1c2e1dfb400fd671bdc16d2f3c");
	free(p);
	p = blob_download_path(test_blob_key, id, 1795000300);
	assert_string_equal(
		p, "/blobs/5e1d0000000000000000000000000001?exp=1795000300"
		   "&sig=3704f59880ec656c025c7f69fee0a38d561291d968c1e12108f9bd4402b8c306");
	free(p);

	/* Comparison: equal only for the same lowercase digits. */
	memcpy(want, sig, sizeof want);
	assert_true(blob_sig_equal(sig, want));
	sig[10] ^= 1;
	assert_false(blob_sig_equal(sig, want));
	assert_false(blob_sig_equal(
		"3704F59880EC656C025C7F69FEE0A38D561291D968C1E12108F9BD4402B8C306", want));
	assert_false(blob_sig_equal("", want));
	assert_false(blob_sig_equal(want, ""));
	/* A longer text is not a prefix match. */
	char longer[BLOB_SIG_LEN + 2];
	snprintf(longer, sizeof longer, "%s0", want);
	assert_false(blob_sig_equal(longer, want));

	/* Paths and numbers. */
	assert_int_equal(blob_parse_path("/blobs/5e1d0000000000000000000000000001", bid), 0);
	assert_string_equal(bid, id);
	assert_int_equal(blob_parse_path("/blobs/5e1d000000000000000000000000000", bid), -1);
	assert_int_equal(blob_parse_path("/blobs/5e1d00000000000000000000000000011", bid), -1);
	assert_int_equal(blob_parse_path("/blobs/5E1D0000000000000000000000000001", bid), -1);
	assert_int_equal(blob_parse_path("/blob/5e1d0000000000000000000000000001", bid), -1);
	assert_int_equal(blob_parse_path("/blobs/../5e1d00000000000000000000000001", bid), -1);
	assert_int_equal(blob_parse_number("1795000300", &v), 0);
	assert_int_equal(v, 1795000300);
	assert_int_equal(blob_parse_number("0", &v), 0);
	assert_int_equal(blob_parse_number("01", &v), -1);
	assert_int_equal(blob_parse_number("", &v), -1);
	assert_int_equal(blob_parse_number("-1", &v), -1);
	assert_int_equal(blob_parse_number("12a", &v), -1);
	assert_int_equal(blob_parse_number("1234567890123456789", &v), -1);
}

/* The key file: made once (0600), read again, refused when damaged. */
static void
test_blob_key_file(void **state)
{
	char dir[] = "/tmp/test_blob_key.XXXXXX", path[64], err[256];
	uint8_t k1[BLOB_KEY_BYTES], k2[BLOB_KEY_BYTES];
	struct stat st;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/blob.key", dir);
	assert_int_equal(blob_key_load(path, k1, err, sizeof err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, BLOB_KEY_BYTES);
	assert_int_equal(blob_key_load(path, k2, err, sizeof err), 0);
	assert_memory_equal(k1, k2, sizeof k1);
	/* Short, then long: errors naming the file, and the file is kept. */
	assert_int_equal(truncate(path, 31), 0);
	assert_int_equal(blob_key_load(path, k2, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(fp = fopen(path, "a"));
	fputs("xx", fp);
	fclose(fp);
	assert_int_equal(blob_key_load(path, k2, err, sizeof err), -1);
	assert_non_null(strstr(err, "not 32 bytes"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 33);
	/* A good key others may read: refused (it signs every path, and in a
	 * cluster it sits in a shared place), never rewritten. */
	assert_int_equal(truncate(path, 32), 0);
	assert_int_equal(blob_key_load(path, k2, err, sizeof err), 0);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(blob_key_load(path, k2, err, sizeof err), -1);
	assert_non_null(strstr(err, "mode 640"));
	assert_int_equal(blob_key_read(path, k2, err, sizeof err), -1);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(blob_key_read(path, k2, err, sizeof err), 0);
	/* blob_key_read makes nothing: a missing key is ENOENT. */
	unlink(path);
	assert_int_equal(blob_key_read(path, k2, err, sizeof err), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(access(path, F_OK), -1);
	rmdir(dir);
}

/* getAttachmentTarget, sendMessage with blobs, getAttachmentDownload. */
static void
test_attachments(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ic;
	struct session a, b, c;
	char chat[17], blob[PROTO_BLOB_ID_LEN + 1], path[256], sig[BLOB_SIG_LEN + 1],
		other[PROTO_BLOB_ID_LEN + 1];
	const char *mid = "00112233445566778899aabbccddeeff";
	const char *env = "{\"user\":\"bob\",\"deviceId\":1,"
			  "\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
			  "\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}";
	double exp;
	cJSON *r;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	registered(f, &c, 3, "carol", &ic);
	r = call(f, &a, "{\"id\":2,\"type\":\"createChat\",\"participants\":[\"bob\"]}");
	expect_ok(r, 2);
	snprintf(chat, sizeof chat, "%s", str(r, "chatId"));
	cJSON_Delete(r);

	/* Sizes: 1 to max_blob. */
	expect_error(call(f, &a, "{\"id\":3,\"type\":\"getAttachmentTarget\",\"size\":0}"),
		     "bad_request", 3);
	expect_error(call(f, &a, "{\"id\":3,\"type\":\"getAttachmentTarget\",\"size\":1.5}"),
		     "bad_request", 3);
	expect_error(call(f, &a, "{\"id\":3,\"type\":\"getAttachmentTarget\"}"), "bad_request", 3);
	expect_error(call(f, &a, "{\"id\":3,\"type\":\"getAttachmentTarget\",\"size\":1000001}"),
		     "too_large", 3);
	r = call(f, &a, "{\"id\":4,\"type\":\"getAttachmentTarget\",\"size\":1000000}");
	expect_ok(r, 4);
	snprintf(blob, sizeof blob, "%s", str(r, "blobId"));
	assert_true(proto_valid_hex(blob, PROTO_BLOB_ID_LEN));
	assert_true(num(r, "maxSize") == 1000000);
	exp = num(r, "expiresAt");
	assert_true(exp / 1000 >= (double)(proto_now_ms() / 1000 + BLOB_URL_TTL - 2));
	assert_true(exp / 1000 <= (double)(proto_now_ms() / 1000 + BLOB_URL_TTL));
	blob_sign_put(test_blob_key, blob, (int64_t)(exp / 1000), 1000000, sig);
	snprintf(path, sizeof path, "/blobs/%s?exp=%lld&max=1000000&sig=%s", blob,
		 (long long)(exp / 1000), sig);
	assert_string_equal(str(r, "uploadPath"), path);
	cJSON_Delete(r);
	/* Not before auth. */
	struct session anon;
	open_session(f, &anon, 9);
	expect_error(call(f, &anon, "{\"id\":5,\"type\":\"getAttachmentTarget\",\"size\":1}"),
		     "unauthenticated", 5);

	/* Pending: neither sendable nor downloadable. */
	expect_error(call(f, &a,
			  "{\"id\":6,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"%s\",\"envelopes\":[%s],\"blobs\":[\"%s\"]}",
			  chat, mid, env, blob),
		     "no_such_blob", 6);
	expect_error(call(f, &a, "{\"id\":7,\"type\":\"getAttachmentDownload\",\"blobId\":\"%s\"}",
			  blob),
		     "no_such_blob", 7);
	/* Malformed lists. */
	expect_error(call(f, &a,
			  "{\"id\":8,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"%s\",\"envelopes\":[%s],\"blobs\":[\"xyz\"]}",
			  chat, mid, env),
		     "bad_request", 8);
	expect_error(call(f, &a,
			  "{\"id\":8,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"%s\",\"envelopes\":[%s],\"blobs\":\"%s\"}",
			  chat, mid, env, blob),
		     "bad_request", 8);
	expect_error(call(f, &a,
			  "{\"id\":8,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"%s\",\"envelopes\":[%s],\"blobs\":[\"%s\",\"%s\","
			  "\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"]}",
			  chat, mid, env, blob, blob, blob, blob, blob, blob, blob, blob, blob,
			  blob, blob),
		     "too_large", 8);

	/* Uploaded (as the HTTP side would mark it): bob's own blob is not
	 * alice's to send. */
	assert_int_equal(db_blob_complete(f->db, blob, 1000, proto_now_ms()), DB_OK);
	r = call(f, &b, "{\"id\":9,\"type\":\"getAttachmentTarget\",\"size\":10}");
	expect_ok(r, 9);
	snprintf(other, sizeof other, "%s", str(r, "blobId"));
	cJSON_Delete(r);
	assert_int_equal(db_blob_complete(f->db, other, 10, proto_now_ms()), DB_OK);
	expect_error(call(f, &a,
			  "{\"id\":10,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"%s\",\"envelopes\":[%s],\"blobs\":[\"%s\",\"%s\"]}",
			  chat, mid, env, blob, other),
		     "no_such_blob", 10);
	r = call(f, &a,
		 "{\"id\":11,\"type\":\"sendMessage\",\"chatId\":\"%s\","
		 "\"messageId\":\"%s\",\"envelopes\":[%s],\"blobs\":[\"%s\"]}",
		 chat, mid, env, blob);
	expect_ok(r, 11);
	cJSON_Delete(r);

	/* bob downloads; carol, outside the chat, cannot. */
	r = call(f, &b, "{\"id\":12,\"type\":\"getAttachmentDownload\",\"blobId\":\"%s\"}", blob);
	expect_ok(r, 12);
	assert_true(num(r, "size") == 1000);
	exp = num(r, "expiresAt");
	blob_sign_get(test_blob_key, blob, (int64_t)(exp / 1000), sig);
	snprintf(path, sizeof path, "/blobs/%s?exp=%lld&sig=%s", blob, (long long)(exp / 1000),
		 sig);
	assert_string_equal(str(r, "downloadPath"), path);
	cJSON_Delete(r);
	expect_error(call(f, &c, "{\"id\":13,\"type\":\"getAttachmentDownload\",\"blobId\":\"%s\"}",
			  blob),
		     "no_such_blob", 13);
	expect_error(call(f, &c, "{\"id\":14,\"type\":\"getAttachmentDownload\",\"blobId\":\"X\"}"),
		     "bad_request", 14);
}

/*
 * A device's quotas in the blob store (issue 10, item 12): blobs asked for
 * and not uploaded, the bytes they may take, and the bytes uploaded.
 */
static void
test_blob_quotas(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia;
	struct session a;
	char blob[PROTO_BLOB_ID_LEN + 1];
	const cJSON *e;
	cJSON *r;

	f->hooks.max_pending_blobs = 2;
	f->hooks.max_pending_blob_bytes = 1500;
	f->hooks.max_blob_bytes = 2000;
	registered(f, &a, 1, "alice", &ia);
	r = call(f, &a, "{\"id\":1,\"type\":\"getAttachmentTarget\",\"size\":1000}");
	expect_ok(r, 1);
	snprintf(blob, sizeof blob, "%s", str(r, "blobId"));
	cJSON_Delete(r);
	/* 1000 + 600 bytes would be pending: over 1500. */
	r = call(f, &a, "{\"id\":2,\"type\":\"getAttachmentTarget\",\"size\":600}");
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	assert_non_null(strstr(str(e, "message"), "not uploaded yet"));
	expect_error(r, "quota_exceeded", 2);
	r = call(f, &a, "{\"id\":3,\"type\":\"getAttachmentTarget\",\"size\":400}");
	expect_ok(r, 3);
	cJSON_Delete(r);
	/* Two pending: a third is refused whatever its size. */
	r = call(f, &a, "{\"id\":4,\"type\":\"getAttachmentTarget\",\"size\":1}");
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	assert_non_null(strstr(str(e, "message"), "2 attachments asked for"));
	expect_error(r, "quota_exceeded", 4);
	/* The first uploaded (1000 stored): another 1001 would be over 2000. */
	assert_int_equal(db_blob_complete(f->db, blob, 1000, proto_now_ms()), DB_OK);
	r = call(f, &a, "{\"id\":5,\"type\":\"getAttachmentTarget\",\"size\":1001}");
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	assert_non_null(strstr(str(e, "message"), "on the server"));
	expect_error(r, "quota_exceeded", 5);
	r = call(f, &a, "{\"id\":6,\"type\":\"getAttachmentTarget\",\"size\":1000}");
	expect_ok(r, 6);
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
}

/*
 * Blobs and members added later (issue 10, item 26): a member may download
 * the files of messages sent after they joined, not of those before (whose
 * keys they never got either).
 */
static void
test_blob_after_join(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ic;
	struct session a, b, c;
	char g[PROTO_CHAT_ID_LEN + 1], early[PROTO_BLOB_ID_LEN + 1], late[PROTO_BLOB_ID_LEN + 1];
	char envs[1024];
	cJSON *r;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	registered(f, &c, 3, "carol", &ic);
	r = call(f, &a,
		 "{\"id\":1,\"type\":\"createChat\",\"name\":\"g\",\"participants\":[\"bob\"]}");
	expect_ok(r, 1);
	snprintf(g, sizeof g, "%s", str(r, "chatId"));
	cJSON_Delete(r);
	for (int i = 0; i < 2; i++) {
		char *id = i == 0 ? &early[0] : &late[0];

		r = call(f, &a, "{\"id\":2,\"type\":\"getAttachmentTarget\",\"size\":10}");
		expect_ok(r, 2);
		snprintf(id, PROTO_BLOB_ID_LEN + 1, "%s", str(r, "blobId"));
		cJSON_Delete(r);
		assert_int_equal(db_blob_complete(f->db, id, 10, proto_now_ms()), DB_OK);
		if (i == 1) {
			r = call(f, &a,
				 "{\"id\":3,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
				 "\"operation\":\"ADD\",\"users\":[\"carol\"]}",
				 g);
			expect_ok(r, 3);
			cJSON_Delete(r);
		}
		snprintf(envs, sizeof envs, "%s%s%s", envelope("bob", 16), i ? "," : "",
			 i ? envelope("carol", 16) : "");
		r = call(f, &a,
			 "{\"id\":4,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			 "\"messageId\":\"%032x\",\"envelopes\":[%s],\"blobs\":[\"%s\"]}",
			 g, 10 + i, envs, id);
		expect_ok(r, 4);
		cJSON_Delete(r);
	}
	expect_error(call(f, &c, "{\"id\":5,\"type\":\"getAttachmentDownload\",\"blobId\":\"%s\"}",
			  early),
		     "no_such_blob", 5);
	r = call(f, &c, "{\"id\":6,\"type\":\"getAttachmentDownload\",\"blobId\":\"%s\"}", late);
	expect_ok(r, 6);
	cJSON_Delete(r);
	/* bob, there from the start, gets both. */
	r = call(f, &b, "{\"id\":7,\"type\":\"getAttachmentDownload\",\"blobId\":\"%s\"}", early);
	expect_ok(r, 7);
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	e2e_identity_wipe(&ic);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blob_signatures),
		cmocka_unit_test(test_blob_key_file),
		cmocka_unit_test_setup_teardown(test_attachments, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_blob_quotas, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_blob_after_join, setup_wire, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
