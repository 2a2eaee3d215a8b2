/*
 * store_search.c - full-text search of the messages of the local store: the
 * FTS5 index messages_fts (store.c, migration 8 -> 9, keeps it in step with
 * messages by triggers) and the rule that turns what a user typed into a
 * query FTS5 accepts, whatever was typed.
 *
 * The rule (chat.h, chat_search, says the same to applications): the text is
 * split into words at ASCII white space; each word becomes an FTS5 string,
 * "word" with every '"' in it doubled, followed by '*', so it matches the
 * words of a message that begin with it; the words are joined by spaces,
 * which FTS5 reads as AND. Inside a string nothing is an operator: AND, OR,
 * NOT, NEAR(, ^, *, :, parentheses and quotes are all text, and a quote
 * never left open. FTS5's tokenizer then splits a word as it splits the
 * messages (at punctuation: "e-mail" finds "e-mail" and "e mail" alike), and
 * a word with no letter or digit in it ("*", "--") is no term at all: FTS5
 * drops it from the AND, and a query of such words only finds nothing.
 *
 * What the tokenizer (unicode61) does not do: split scripts written without
 * spaces (a run of Chinese or Japanese is one word, found by its beginning
 * only), and index symbols (an emoji is punctuation to it: not found).
 */
#include "store_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int
store_search_query(const char *words, char **out)
{
	size_t len = strlen(words), n = 0;
	const char *p = words;
	/* Each byte at most doubled, and four more per word ("", '*', ' '). */
	char *q = malloc(2 * len + 4 * (len / 2 + 1) + 1), *w = q;

	*out = NULL;
	if (q == NULL)
		return -1;
	for (;;) {
		while (is_space(*p))
			p++;
		if (*p == '\0')
			break;
		if (n++ > 0)
			*w++ = ' ';
		*w++ = '"';
		for (; *p != '\0' && !is_space(*p); p++) {
			if (*p == '"')
				*w++ = '"';
			*w++ = *p;
		}
		*w++ = '"';
		*w++ = '*';
	}
	*w = '\0';
	if (n == 0) {
		free(q);
		return 0;
	}
	*out = q;
	return (int)n;
}

int
store_message_search(struct store *s, const char *words, const char *chat_id, int limit,
		     chat_history_cb fn, void *arg, int *stop)
{
	sqlite3_stmt *st;
	char *q = NULL;
	int n, rc;

	if (stop != NULL)
		*stop = 0;
	if ((n = store_search_query(words, &q)) < 0) {
		snprintf(s->err, sizeof s->err, "search: out of memory");
		return -1;
	}
	if (n == 0)
		return 0;
	st = store_stmt(s, ST_MESSAGE_SEARCH);
	if (st == NULL || store_bind_text(s, st, 1, q) || store_bind_text(s, st, 2, chat_id) ||
	    store_bind_int(s, st, 3, limit > 0 ? limit : -1)) {
		rc = store_abandon(s, st, "search");
	} else {
		rc = store_walk_messages(s, st, "search", fn, arg, stop);
	}
	free(q);
	return rc;
}
