/*
 * args.h - the command-line parser chatctl and chat-tui share.
 *
 * A program (or each of its commands) declares its options and how many
 * positional arguments it takes in a struct args_spec, as tmux's cmd_entry
 * does; args_parse() checks a command line against it and says what is wrong
 * in words a user can act on ("--limit needs a number (1-1000000)"). The
 * parser does no I/O and keeps no state between calls: the front ends print
 * its errors with their own usage lines.
 *
 * The rules, the same for every command:
 * - "--name VALUE" and "--name=VALUE" for an option with a value (the word
 *   after --name is its value whatever it begins with); "--name" alone for a
 *   flag; "-x" and "-x VALUE" for a short name. No clustering ("-ab").
 * - Options may come before, between or after the positional arguments.
 * - "--" ends the options: everything after it is positional. A lone "-" is a
 *   positional argument (by convention, standard input).
 * - An option given twice keeps every value: args_get() returns the last (so
 *   a later --home overrides an earlier one), args_value() each in turn (so
 *   --attach may be given several times).
 */
#ifndef ARGS_H
#define ARGS_H

#include <stddef.h>

/* Flags of one option. */
#define ARGS_VALUE    0x01 /* takes a value */
#define ARGS_NUMBER   0x02 /* takes a decimal value within [min, max] (implies ARGS_VALUE) */
#define ARGS_NONEMPTY 0x04 /* the value may not be "" */
#define ARGS_HIDDEN   0x08 /* left out of args_usage() (--help, --version) */

struct args_option {
	const char *name; /* the long name without its dashes: "limit" for --limit */
	char letter;      /* the short name ('h' for -h), or 0 */
	int flags;
	const char *meta;  /* what args_usage() shows for the value: "N" */
	const char *needs; /* what the error says a missing or bad value should be:
	                      "a number" gives "--limit needs a number (1-1000000)";
	                      NULL: "a value" */
	long min, max;     /* the range of an ARGS_NUMBER */
};

/* Flags of a spec. */
/* The first positional argument ends the options: it and everything after it
 * are left unparsed in args->argv, for a command (after the global options)
 * or a subcommand to parse with its own spec. */
#define ARGS_IN_ORDER 0x01

struct args_spec {
	const struct args_option *options; /* ends with a zeroed entry; NULL: none */
	int min_args, max_args;            /* positional arity; max_args < 0: no limit */
	int flags;
	/* Positional arguments from this one on (counting from 1) are taken as
	 * they are, even when they begin with '-', unless they are one of the
	 * options or "--": send's text ("-5 degrees"). 0: never. */
	int text_from;
	/* The error when there are fewer than min_args, or more than max_args,
	 * positional arguments. NULL: "missing argument", and "unexpected argument
	 * 'WORD'". */
	const char *too_few, *too_many;
};

/* One option as given on the command line. */
struct args_hit {
	const struct args_option *option;
	const char *value; /* NULL for a flag */
	long number;       /* the value of an ARGS_NUMBER */
};

struct args {
	const struct args_spec *spec;
	int argc;    /* the positional arguments (ARGS_IN_ORDER: the first one and */
	char **argv; /* everything after it), pointers into the caller's argv */
	struct args_hit *hits;
	int n_hits;
	char error[256]; /* the first thing wrong, when args_parse() fails */
};

/* Parses argv[0..argc-1] (without the program or command name) against spec.
 * `what` names the command in errors ("unknown option '--foo' for send"), or
 * is NULL for a program's own options. Returns 0, or -1 with a->error saying
 * the first thing wrong; the parse goes on to the end either way, so the
 * options before and after a mistake are still known (chatctl's --json).
 * Either way a holds memory: free it with args_free(). */
int args_parse(struct args *a, const struct args_spec *spec, int argc, char **argv,
	       const char *what);
void args_free(struct args *a);

/* How many times the option `name` (its long name) was given. */
int args_count(const struct args *a, const char *name);
/* The value of its last occurrence, or NULL. */
const char *args_get(const struct args *a, const char *name);
/* The value of its k-th occurrence (from 0), or NULL. */
const char *args_value(const struct args *a, const char *name, int k);
/* The number of its last occurrence (an ARGS_NUMBER), or dflt. */
long args_number(const struct args *a, const char *name, long dflt);

/* Whether "--help" or "-h" is among argv[0..argc-1] before any "--": a
 * command's usage wins over everything else on its line. */
int args_wants_help(int argc, char **argv);

/* The options of spec for a usage line, "[--home DIR] [--json] ...", into
 * buf (cut to size, always terminated). */
void args_usage(const struct args_spec *spec, char *buf, size_t size);

/* The options chatctl and chat-tui share, one spelling and meaning for both:
 * the device home, the server's URL and the CAs to trust for wss://. */
/* clang-format off */
#define ARGS_OPTIONS_DEVICE                                                       \
	{.name = "home", .flags = ARGS_VALUE | ARGS_NONEMPTY, .meta = "DIR",      \
	 .needs = "a directory"},                                                 \
	{.name = "server", .flags = ARGS_VALUE | ARGS_NONEMPTY, .meta = "URL",    \
	 .needs = "a URL such as ws://127.0.0.1:8700/"},                          \
	{.name = "ca-file", .flags = ARGS_VALUE | ARGS_NONEMPTY, .meta = "FILE",  \
	 .needs = "a file of PEM CA certificates"}
/* clang-format on */

#endif
