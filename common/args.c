/*
 * args.c - the command-line parser chatctl and chat-tui share (args.h).
 */
#include "args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keeps the first error only: the one the user meets first on the line. */
static void __attribute__((format(printf, 2, 3))) fail(struct args *a, const char *fmt, ...)
{
	va_list ap;

	if (a->error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(a->error, sizeof a->error, fmt, ap);
	va_end(ap);
	if (a->error[0] == '\0') /* an empty text must still read as an error */
		snprintf(a->error, sizeof a->error, "bad arguments");
}

/* The option as a user spells it in an error: "--limit", or "-h". */
static const char *
spelling(const struct args_option *o, char *buf, size_t size)
{
	if (o->name != NULL)
		snprintf(buf, size, "--%s", o->name);
	else
		snprintf(buf, size, "-%c", o->letter);
	return buf;
}

/* The option arg names (the part of a long option before any '='), or NULL. */
static const struct args_option *
find_option(const struct args_spec *spec, const char *arg, const char **inline_value)
{
	const struct args_option *o;
	const char *name = arg + 2, *eq;
	size_t len;

	*inline_value = NULL;
	if (spec->options == NULL)
		return NULL;
	if (arg[1] != '-') {
		/* -x: exactly one letter (no clusters, no -xVALUE). */
		if (arg[2] != '\0')
			return NULL;
		for (o = spec->options; o->name != NULL || o->letter != 0; o++)
			if (o->letter != 0 && o->letter == arg[1])
				return o;
		return NULL;
	}
	eq = strchr(name, '=');
	len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	for (o = spec->options; o->name != NULL || o->letter != 0; o++) {
		if (o->name != NULL && strlen(o->name) == len && strncmp(o->name, name, len) == 0) {
			*inline_value = eq != NULL ? eq + 1 : NULL;
			return o;
		}
	}
	return NULL;
}

/* Checks a value against what the option takes; 0 if it will do. */
static int
check_value(struct args *a, const struct args_option *o, const char *v, long *number)
{
	const char *needs = o->needs != NULL ? o->needs : "a value";
	char name[64];

	if (o->flags & ARGS_NUMBER) {
		char *end;
		long n;

		errno = 0;
		n = v != NULL && *v != '\0' ? strtol(v, &end, 10) : 0;
		if (v == NULL || *v == '\0' || *end != '\0' || errno != 0 || n < o->min ||
		    n > o->max) {
			fail(a, "%s needs %s (%ld-%ld)", spelling(o, name, sizeof name), needs,
			     o->min, o->max);
			return -1;
		}
		*number = n;
		return 0;
	}
	if (v == NULL || ((o->flags & ARGS_NONEMPTY) && *v == '\0')) {
		fail(a, "%s needs %s", spelling(o, name, sizeof name), needs);
		return -1;
	}
	return 0;
}

/* The option o at argv[*i] (its value, if any, inline or in the next word);
 * records it, or the error. */
static void
take_option(struct args *a, const struct args_option *o, const char *inline_value, int argc,
	    char **argv, int *i)
{
	struct args_hit *h = &a->hits[a->n_hits];
	const char *v = inline_value;

	if (!(o->flags & (ARGS_VALUE | ARGS_NUMBER))) {
		if (inline_value != NULL) {
			char name[64];

			fail(a, "%s takes no value", spelling(o, name, sizeof name));
			return;
		}
		h->option = o;
		a->n_hits++;
		return;
	}
	/* The next word is the value whatever it begins with: --limit -5 is a
	 * bad number, not a missing one and an unknown option. */
	if (v == NULL && *i + 1 < argc)
		v = argv[++*i];
	if (check_value(a, o, v, &h->number) != 0)
		return;
	h->option = o;
	h->value = v;
	a->n_hits++;
}

/* Whether arg reads as an option: "-" alone (standard input) does not. */
static int
looks_like_option(const char *arg)
{
	return arg[0] == '-' && arg[1] != '\0';
}

static void
check_arity(struct args *a)
{
	const struct args_spec *spec = a->spec;

	if (a->argc < spec->min_args)
		fail(a, "%s", spec->too_few != NULL ? spec->too_few : "missing argument");
	else if (spec->max_args >= 0 && a->argc > spec->max_args) {
		if (spec->too_many != NULL)
			fail(a, "%s", spec->too_many);
		else
			fail(a, "unexpected argument '%s'", a->argv[spec->max_args]);
	}
}

int
args_parse(struct args *a, const struct args_spec *spec, int argc, char **argv, const char *what)
{
	int dashdash = 0;

	memset(a, 0, sizeof *a);
	a->spec = spec;
	/* At most one hit and one positional per word: no reallocation. */
	a->hits = calloc((size_t)argc + 1, sizeof *a->hits);
	a->argv = calloc((size_t)argc + 1, sizeof *a->argv);
	if (a->hits == NULL || a->argv == NULL) {
		fail(a, "out of memory");
		return -1;
	}
	for (int i = 0; i < argc; i++) {
		const struct args_option *o = NULL;
		const char *inline_value = NULL;

		if (!dashdash && strcmp(argv[i], "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (dashdash || !looks_like_option(argv[i]) ||
		    ((o = find_option(spec, argv[i], &inline_value)) == NULL &&
		     spec->text_from > 0 && a->argc + 1 >= spec->text_from)) {
			if (spec->flags & ARGS_IN_ORDER) {
				/* The rest is the command's, to parse with its own spec. */
				memcpy(a->argv, argv + i, (size_t)(argc - i) * sizeof *argv);
				a->argc = argc - i;
				break;
			}
			a->argv[a->argc++] = argv[i];
			continue;
		}
		if (o == NULL) {
			fail(a, "unknown option '%s'%s%s", argv[i], what != NULL ? " for " : "",
			     what != NULL ? what : "");
			continue;
		}
		take_option(a, o, inline_value, argc, argv, &i);
	}
	a->argv[a->argc] = NULL;
	check_arity(a);
	return a->error[0] != '\0' ? -1 : 0;
}

void
args_free(struct args *a)
{
	free(a->hits);
	free(a->argv);
	a->hits = NULL;
	a->argv = NULL;
	a->n_hits = a->argc = 0;
}

static int
is(const struct args_hit *h, const char *name)
{
	return h->option->name != NULL && strcmp(h->option->name, name) == 0;
}

int
args_count(const struct args *a, const char *name)
{
	int n = 0;

	for (int i = 0; i < a->n_hits; i++)
		n += is(&a->hits[i], name);
	return n;
}

static const struct args_hit *
last_hit(const struct args *a, const char *name)
{
	for (int i = a->n_hits - 1; i >= 0; i--)
		if (is(&a->hits[i], name))
			return &a->hits[i];
	return NULL;
}

const char *
args_get(const struct args *a, const char *name)
{
	const struct args_hit *h = last_hit(a, name);

	return h != NULL ? h->value : NULL;
}

const char *
args_value(const struct args *a, const char *name, int k)
{
	for (int i = 0; i < a->n_hits; i++)
		if (is(&a->hits[i], name) && k-- == 0)
			return a->hits[i].value;
	return NULL;
}

long
args_number(const struct args *a, const char *name, long dflt)
{
	const struct args_hit *h = last_hit(a, name);

	return h != NULL && (h->option->flags & ARGS_NUMBER) ? h->number : dflt;
}

int
args_wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

void
args_usage(const struct args_spec *spec, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (const struct args_option *o = spec->options;
	     o != NULL && (o->name != NULL || o->letter != 0); o++) {
		char name[64];
		int n;

		if (o->flags & ARGS_HIDDEN)
			continue;
		n = snprintf(buf + len, size - len, "%s[%s%s%s]", len > 0 ? " " : "",
			     spelling(o, name, sizeof name), o->meta != NULL ? " " : "",
			     o->meta != NULL ? o->meta : "");
		if (n < 0 || (size_t)n >= size - len)
			return; /* cut; snprintf has terminated it */
		len += (size_t)n;
	}
}
