/*
 * mention.c - "@name" mentions in a message's text: the rule of mention.h.
 */
#include "mention.h"

#include <string.h>

static int
word_byte(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

static int
lower(unsigned char ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

/* 1 if word (wlen bytes) is name, ASCII case ignored. */
static int
same_name(const char *word, size_t wlen, const char *name)
{
	size_t n = strlen(name);

	if (n != wlen || n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)word[i]) != lower((unsigned char)name[i]))
			return 0;
	return 1;
}

/* The member word names, or -1. */
static long
member_of(const char *word, size_t wlen, const char *const *members, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (members[i] != NULL && same_name(word, wlen, members[i]))
			return (long)i;
	return -1;
}

size_t
mention_scan(const char *text, size_t len, const char *const *members, size_t n, const char *me,
	     int *mentions_me, const char **out, size_t cap)
{
	size_t found = 0;

	if (mentions_me != NULL)
		*mentions_me = 0;
	if (text == NULL)
		return 0;
	for (size_t i = 0; i < len; i++) {
		size_t start, end, cut;
		long who;
		int seen = 0;

		if (text[i] != '@')
			continue;
		if (i > 0) {
			unsigned char prev = (unsigned char)text[i - 1];

			if (word_byte(prev) || prev == '@' || prev >= 0x80)
				continue;
		}
		start = i + 1;
		end = start;
		while (end < len && word_byte((unsigned char)text[end]))
			end++;
		/* A letter of another script right after: a longer word, no name. */
		if (end < len && (unsigned char)text[end] >= 0x80)
			continue;
		who = member_of(text + start, end - start, members, n);
		cut = end;
		while (who < 0 && cut > start &&
		       (text[cut - 1] == '.' || text[cut - 1] == '-' || text[cut - 1] == '_')) {
			cut--;
			who = member_of(text + start, cut - start, members, n);
		}
		i = end - 1;
		if (who < 0)
			continue;
		if (me != NULL && strcmp(members[who], me) == 0 && mentions_me != NULL)
			*mentions_me = 1;
		if (out == NULL || found >= cap)
			continue;
		for (size_t k = 0; k < found; k++)
			if (out[k] == members[who])
				seen = 1;
		if (!seen)
			out[found++] = members[who];
	}
	return found;
}
