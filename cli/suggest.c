/*
 * suggest.c - "did you mean": the closest of a list of names to a misspelt
 * one, for chatctl's commands (main.c) and rpc's methods and events.
 */
#include "chatctl.h"

#include <string.h>

/* Longer names are no command's or method's: not worth a suggestion. */
#define SUGGEST_MAX 64

/* Damerau-Levenshtein distance (optimal string alignment): insertions,
 * deletions, substitutions and swaps of two neighbours cost 1 each, so
 * "sned" is 1 from "send". */
static size_t
distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];

	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < best)
				best = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *
cli_suggest(const char *word, const char *const *candidates, size_t n)
{
	size_t lw = strlen(word), limit, best_d = (size_t)-1;
	const char *best = NULL;

	if (lw == 0 || lw > SUGGEST_MAX)
		return NULL;
	/* Small relative to the length: a 2-letter word 2 edits away is any word. */
	limit = lw <= 4 ? 1 : lw <= 8 ? 2 : 3;
	for (size_t i = 0; i < n; i++) {
		size_t lc = candidates[i] ? strlen(candidates[i]) : 0, d;

		if (lc == 0 || lc > SUGGEST_MAX)
			continue;
		d = distance(word, lw, candidates[i], lc);
		if (d <= limit && d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best;
}
