/*
 * search-cost - libchat's full-text search (client-lib/store_search.c) on a
 * home's store of many messages: what storing costs with the index kept, and
 * what one search costs, linked from libchat.a.
 *
 *   search-cost [-n MESSAGES] [-r REPEATS] [-d DIR]
 *
 * Stores MESSAGES (default 100,000) received messages of 8 to 24 words over
 * 50 chats through the store's own calls (store_message_insert), committed
 * 1,000 to a transaction as a drain of the inbox would; the words come from a
 * vocabulary of 4,000 made-up words, with "the" in about every second
 * message, "lunch" in about 1 in 100 and "zyzzyva" in 1 in 10,000. Then each
 * search runs REPEATS times (default 50) and its median is the figure, for
 * the 50 newest hits (what chatctl search shows by default):
 *
 *   insert_per_s     messages stored per second, index triggers included
 *   insert_bare_per_s the same into a store whose index trigger is dropped:
 *                    what the index costs a drain of the inbox
 *   rare_ms          "zyzzyva": a word in 1 message of 10,000
 *   common_ms        "the": a word in every second message
 *   prefix_ms        "lu": a prefix of many words
 *   two_words_ms     "lunch the": two words, both needed
 *   chat_ms          "the" in one chat of the 50 (1 hit in 50 is that chat's)
 *   chat_none_ms     "the" in a chat that has none of its hits: the worst
 *                    case, every hit of the word in the other chats is walked
 *                    (but gets no snippet)
 *   all_common_ms    "the", every hit (no limit; REPEATS / 10 runs);
 *                    all_common_hits: how many
 *
 * Figures go to stdout as "search.NAME value" lines (bench.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "bench.h"

#define CHATS 50
#define VOCAB 4000
#define BATCH 1000

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 11);
}

/* Made-up words of two to four syllables: word i is always the same. */
static void
make_word(unsigned i, char *out, size_t cap)
{
	static const char *const syl[] = {"ka", "mo",  "ri", "ten", "sul", "vo", "pe", "dra",
					  "ni", "gol", "fa", "zu",  "bre", "lo", "mi", "tas"};
	size_t used = 0;
	unsigned n = 2 + i % 3;

	out[0] = '\0';
	for (unsigned k = 0; k < n && used < cap; k++, i /= 16)
		used += (size_t)snprintf(out + used, cap - used, "%s", syl[i % 16]);
}

static void
make_text(long i, char *buf, size_t cap)
{
	unsigned words = 8 + next_rand() % 17;
	size_t used = 0;
	char w[32];

	buf[0] = '\0';
	for (unsigned k = 0; k < words && used < cap; k++) {
		unsigned r = next_rand() % 1000;

		if (k == 0 && i % 2 == 1)
			snprintf(w, sizeof w, "the");
		else if (k == 1 && i % 100 == 7)
			snprintf(w, sizeof w, "lunch");
		else if (k == 2 && i % 10000 == 4321)
			snprintf(w, sizeof w, "zyzzyva");
		else
			make_word(r * (VOCAB / 1000) + next_rand() % (VOCAB / 1000), w, sizeof w);
		used += (size_t)snprintf(buf + used, cap - used, "%s%s", k ? " " : "", w);
	}
}

static int
fill(struct store *s, long n, double *per_s)
{
	char id[CHAT_MESSAGE_ID_LEN + 1], chat[CHAT_CHAT_ID_LEN + 1], text[512];
	double t0 = bench_now_us();

	for (long i = 0; i < n; i++) {
		struct chat_message m = {0};

		if (i % BATCH == 0 && store_batch_begin(s) != 0)
			return -1;
		snprintf(id, sizeof id, "%032lx", (unsigned long)i + 1);
		snprintf(chat, sizeof chat, "%016lx", (unsigned long)(i % CHATS) + 1);
		make_text(i, text, sizeof text);
		m.message_id = id;
		m.chat_id = chat;
		m.seq = i / CHATS + 1;
		m.sender = "bob";
		m.sender_device = 1;
		m.sent_at = 1700000000000 + i;
		m.text = text;
		m.text_len = strlen(text);
		m.state = "received";
		if (store_message_insert(s, &m) != 1)
			return -1;
		if ((i % BATCH == BATCH - 1 || i == n - 1) && store_batch_end(s) != 0)
			return -1;
	}
	*per_s = (double)n / ((bench_now_us() - t0) / 1e6);
	return 0;
}

/* The same messages again into a new store without the index's insert
 * trigger. */
static int
bare(struct store *s, const char *path, long n)
{
	double per_s = 0;

	store_close(s);
	unlink(path);
	if (store_open(s, path) != 0 ||
	    sqlite3_exec(s->db, "DROP TRIGGER messages_fts_insert", NULL, NULL, NULL) !=
		    SQLITE_OK ||
	    fill(s, n, &per_s) != 0) {
		fprintf(stderr, "search-cost: %s\n", s->err);
		return -1;
	}
	bench_put("search.insert_bare_per_s", per_s);
	return 0;
}

static int
count_hit(void *arg, const struct chat_message *m)
{
	(void)m;
	(*(long *)arg)++;
	return 0;
}

/* The median of `repeats` searches, in ms; -1 if one failed. */
static double
timed(struct store *s, const char *words, const char *chat, int limit, long repeats, long *hits)
{
	double *t = calloc((size_t)repeats, sizeof *t), med;

	if (t == NULL)
		return -1;
	for (long r = 0; r < repeats; r++) {
		double t0 = bench_now_us();

		*hits = 0;
		if (store_message_search(s, words, chat, limit, count_hit, hits, NULL) != 0) {
			fprintf(stderr, "search-cost: %s\n", s->err);
			free(t);
			return -1;
		}
		t[r] = (bench_now_us() - t0) / 1000;
	}
	bench_sort(t, (size_t)repeats);
	med = bench_pct(t, (size_t)repeats, 50);
	free(t);
	return med;
}

int
main(int argc, char **argv)
{
	/* "the" is in the odd messages, which go to the even chats. */
	static const struct {
		const char *name, *words, *chat;
		int limit;
	} q[] = {
		{"rare", "zyzzyva", NULL, 50},
		{"common", "the", NULL, 50},
		{"prefix", "lu", NULL, 50},
		{"two_words", "lunch the", NULL, 50},
		{"chat", "the", "0000000000000004", 50},
		{"chat_none", "the", "0000000000000003", 50},
		{"all_common", "the", NULL, 0},
	};
	long n = 100000, repeats = 50, hits = 0;
	const char *dir = NULL;
	char tmpl[] = "/tmp/search-cost.XXXXXX", path[4200], p[4300];
	struct store s;
	double per_s = 0;
	int opt, rc = 1;

	while ((opt = getopt(argc, argv, "n:r:d:")) != -1) {
		if (opt == 'n')
			n = bench_count(argv[0], optarg, 10000000);
		else if (opt == 'r')
			repeats = bench_count(argv[0], optarg, 100000);
		else if (opt == 'd')
			dir = optarg;
		else {
			fprintf(stderr, "usage: search-cost [-n MESSAGES] [-r REPEATS] [-d DIR]\n");
			return 2;
		}
	}
	if (dir == NULL && (dir = mkdtemp(tmpl)) == NULL) {
		perror("search-cost: mkdtemp");
		return 1;
	}
	snprintf(path, sizeof path, "%s/search-cost.db", dir);
	unlink(path);
	if (store_open(&s, path) != 0) {
		fprintf(stderr, "search-cost: %s\n", s.err);
		return 1;
	}
	fprintf(stderr, "search-cost: storing %ld messages ...\n", n);
	if (fill(&s, n, &per_s) != 0) {
		fprintf(stderr, "search-cost: %s\n", s.err);
		goto out;
	}
	bench_put("search.messages", (double)n);
	bench_put("search.insert_per_s", per_s);
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		char key[64];
		double ms = timed(&s, q[i].words, q[i].chat, q[i].limit,
				  q[i].limit ? repeats : (repeats + 9) / 10, &hits);

		if (ms < 0)
			goto out;
		snprintf(key, sizeof key, "search.%s_ms", q[i].name);
		bench_put(key, ms);
		snprintf(key, sizeof key, "search.%s_hits", q[i].name);
		bench_put(key, (double)hits);
	}
	if (bare(&s, path, n) != 0)
		goto out;
	rc = 0;
out:
	store_close(&s);
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	if (dir == tmpl)
		rmdir(tmpl);
	return rc;
}
