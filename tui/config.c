/*
 * config.c - reading chat-tui's configuration file (config.h). Every line is
 * bounded (CONFIG_LINE_MAX) and so is the file (CONFIG_LINES_MAX lines): a
 * file of any size or content costs at most that much, and any line it does
 * not understand is said and skipped, never a reason not to start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

static const char *const role_names[LOOK_ROLES] = {
	[LOOK_SELF] = "self",       [LOOK_MENTION] = "mention", [LOOK_EVENT] = "event",
	[LOOK_NOTICE] = "notice",   [LOOK_TIME] = "time",       [LOOK_DATE] = "date",
	[LOOK_DIVIDER] = "divider", [LOOK_HEADER] = "header",   [LOOK_PRESENCE] = "presence",
	[LOOK_SENDING] = "sending", [LOOK_SENT] = "sent",       [LOOK_DELIVERED] = "delivered",
	[LOOK_READ] = "read",       [LOOK_FAILED] = "failed",
};

static const char *const action_names[KEY_ACTIONS] = {
	[KEY_NEXT_CHAT] = "next_chat",
	[KEY_PREV_CHAT] = "prev_chat",
	[KEY_NEXT_UNREAD] = "next_unread",
	[KEY_FIRST_UNREAD] = "first_unread",
	[KEY_PAGE_UP] = "page_up",
	[KEY_PAGE_DOWN] = "page_down",
	[KEY_QUIT] = "quit",
};

static const char *const colour_names[] = {"black", "red",     "green", "yellow",
					   "blue",  "magenta", "cyan",  "white"};

void
config_defaults(struct config *c)
{
	static const short palette[] = {4, 5, 6, 1, 3, 12, 13, 9};

	memset(c, 0, sizeof *c);
	for (int i = 0; i < LOOK_ROLES; i++)
		c->role[i] = (struct look){-1, 0};
	/* What chat-tui drew before there was a file: own messages green,
	 * events cyan, notices yellow, failures red, a mention bold yellow. */
	c->role[LOOK_SELF].fg = 2;
	c->role[LOOK_MENTION] = (struct look){3, LOOK_BOLD};
	c->role[LOOK_EVENT].fg = 6;
	c->role[LOOK_NOTICE].fg = 3;
	c->role[LOOK_TIME].attrs = LOOK_DIM;
	c->role[LOOK_DATE] = (struct look){6, LOOK_BOLD};
	c->role[LOOK_DIVIDER] = (struct look){1, LOOK_BOLD};
	c->role[LOOK_HEADER].attrs = LOOK_BOLD;
	c->role[LOOK_PRESENCE].attrs = LOOK_DIM;
	c->role[LOOK_SENDING].attrs = LOOK_DIM;
	c->role[LOOK_READ].fg = 4;
	c->role[LOOK_FAILED] = (struct look){1, LOOK_BOLD};
	for (size_t i = 0; i < sizeof palette / sizeof *palette; i++)
		c->palette[i] = (struct look){palette[i], 0};
	c->n_palette = (int)(sizeof palette / sizeof *palette);
	c->keys[KEY_NEXT_CHAT][0] = '\t';
	c->keys[KEY_PREV_CHAT][0] = CONFIG_KEY_NAMED | NAMED_BTAB;
	c->keys[KEY_NEXT_UNREAD][0] = 'N' & 0x1f;
	c->keys[KEY_NEXT_UNREAD][1] = CONFIG_KEY_ALT | 'a';
	c->keys[KEY_FIRST_UNREAD][0] = CONFIG_KEY_ALT | 'u';
	c->keys[KEY_PAGE_UP][0] = CONFIG_KEY_NAMED | NAMED_PGUP;
	c->keys[KEY_PAGE_DOWN][0] = CONFIG_KEY_NAMED | NAMED_PGDN;
	c->keys[KEY_QUIT][0] = 'C' & 0x1f;
	c->notify = NOTIFY_AUTO;
	c->notify_bell = 0;
	c->notify_body = 1;
	c->color = 1;
	c->persist_drafts = 1;
	c->mouse = 1;
}

/* s without leading and trailing blanks, in place. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
parse_colour(const char *w, short *fg)
{
	char *end;
	long n;

	if (strcasecmp(w, "default") == 0) {
		*fg = -1;
		return 0;
	}
	for (int i = 0; i < 8; i++) {
		if (strcasecmp(w, colour_names[i]) == 0) {
			*fg = (short)i;
			return 0;
		}
		/* "brightred": the bright eight. */
		if (strncasecmp(w, "bright", 6) == 0 && strcasecmp(w + 6, colour_names[i]) == 0) {
			*fg = (short)(i + 8);
			return 0;
		}
	}
	if (strncasecmp(w, "color", 5) == 0 && w[5] >= '0' && w[5] <= '9') {
		errno = 0;
		n = strtol(w + 5, &end, 10);
		if (*end == '\0' && errno == 0 && n >= 0 && n <= 255) {
			*fg = (short)n;
			return 0;
		}
	}
	return -1;
}

int
config_parse_look(const char *s, struct look *out)
{
	char buf[128], *w, *save = NULL;
	struct look l = {-1, 0};
	int colours = 0;

	if (strlen(s) >= sizeof buf)
		return -1;
	strcpy(buf, s);
	for (w = strtok_r(buf, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
		if (strcasecmp(w, "bold") == 0)
			l.attrs |= LOOK_BOLD;
		else if (strcasecmp(w, "dim") == 0)
			l.attrs |= LOOK_DIM;
		else if (strcasecmp(w, "underline") == 0)
			l.attrs |= LOOK_UNDERLINE;
		else if (strcasecmp(w, "reverse") == 0)
			l.attrs |= LOOK_REVERSE;
		else if (strcasecmp(w, "italic") == 0)
			l.attrs |= LOOK_ITALIC;
		else if (strcasecmp(w, "none") == 0 || strcasecmp(w, "plain") == 0)
			l = (struct look){-1, 0};
		else if (colours++ == 0 && parse_colour(w, &l.fg) == 0)
			;
		else
			return -1;
	}
	*out = l;
	return 0;
}

int
config_parse_key(const char *s, int *out)
{
	static const struct {
		const char *name;
		int key;
	} named[] = {
		{"Tab", '\t'},
		{"S-Tab", CONFIG_KEY_NAMED | NAMED_BTAB},
		{"BTab", CONFIG_KEY_NAMED | NAMED_BTAB},
		{"PgUp", CONFIG_KEY_NAMED | NAMED_PGUP},
		{"PageUp", CONFIG_KEY_NAMED | NAMED_PGUP},
		{"PgDn", CONFIG_KEY_NAMED | NAMED_PGDN},
		{"PageDown", CONFIG_KEY_NAMED | NAMED_PGDN},
		{"Up", CONFIG_KEY_NAMED | NAMED_UP},
		{"Down", CONFIG_KEY_NAMED | NAMED_DOWN},
		{"Home", CONFIG_KEY_NAMED | NAMED_HOME},
		{"End", CONFIG_KEY_NAMED | NAMED_END},
	};
	size_t n = strlen(s);

	for (size_t i = 0; i < sizeof named / sizeof *named; i++)
		if (strcasecmp(s, named[i].name) == 0) {
			*out = named[i].key;
			return 0;
		}
	/* F1..F12 */
	if ((s[0] == 'F' || s[0] == 'f') && n >= 2 && n <= 3 && s[1] >= '1' && s[1] <= '9') {
		int f = atoi(s + 1);

		if (f >= 1 && f <= 12 && (n == 2 || (s[2] >= '0' && s[2] <= '9'))) {
			*out = CONFIG_KEY_NAMED | (NAMED_F1 + f - 1);
			return 0;
		}
		return -1;
	}
	/* C-x: a letter (or one of @[\]^_), M-x: a printable ASCII character. */
	if (n == 3 && (s[0] == 'C' || s[0] == 'c') && s[1] == '-') {
		int ch = s[2] >= 'a' && s[2] <= 'z' ? s[2] - 'a' + 'A' : s[2];

		if (ch >= '@' && ch <= '_' && ch != 'I' && ch != 'M' && ch != '[') {
			*out = ch & 0x1f;
			return 0;
		}
		return -1;
	}
	if (n == 3 && (s[0] == 'M' || s[0] == 'm') && s[1] == '-' && s[2] > ' ' && s[2] < 127) {
		*out = CONFIG_KEY_ALT | s[2];
		return 0;
	}
	return -1;
}

static int
parse_bool(const char *v, int *out)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0)
		*out = 1;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0 ||
		 strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* A comma-separated list of up to max items, each given to one(). */
static int
parse_list(char *v, int max, int (*one)(const char *, void *, int), void *arg, int *count)
{
	char *item, *save = NULL;
	int n = 0;

	for (item = strtok_r(v, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		item = trim(item);
		if (*item == '\0' || n == max || one(item, arg, n) != 0)
			return -1;
		n++;
	}
	*count = n;
	return n > 0 ? 0 : -1;
}

static int
one_key(const char *s, void *arg, int i)
{
	return config_parse_key(s, &((int *)arg)[i]);
}

static int
one_look(const char *s, void *arg, int i)
{
	return config_parse_look(s, &((struct look *)arg)[i]);
}

static int
find_name(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return i;
	return -1;
}

int
config_line(struct config *c, const char *line, char *err, size_t errlen)
{
	char buf[CONFIG_LINE_MAX + 1], *key, *val, *eq;
	size_t len = strlen(line);
	int i, n, b;

	if (len > CONFIG_LINE_MAX) {
		snprintf(err, errlen, "the line is longer than %d bytes", CONFIG_LINE_MAX);
		return -1;
	}
	memcpy(buf, line, len + 1);
	key = trim(buf);
	if (*key == '\0' || *key == '#')
		return 0;
	if ((eq = strchr(key, '=')) == NULL) {
		snprintf(err, errlen, "not a 'key = value' line");
		return -1;
	}
	*eq = '\0';
	key = trim(key);
	val = trim(eq + 1);
	/* "value  # a comment": the comment goes (no value holds a '#'). */
	if ((eq = strchr(val, '#')) != NULL) {
		*eq = '\0';
		val = trim(val);
	}
	if (*val == '\0') {
		snprintf(err, errlen, "%.60s has no value", key);
		return -1;
	}
	if (strncmp(key, "color.", 6) == 0) {
		struct look l;

		if ((i = find_name(role_names, LOOK_ROLES, key + 6)) < 0) {
			snprintf(err, errlen,
				 "unknown colour role '%.40s' (self, mention, event, "
				 "notice, time, date, divider, header, presence, sending, sent, "
				 "delivered, read, failed)",
				 key + 6);
			return -1;
		}
		if (config_parse_look(val, &l) != 0)
			goto bad_colour;
		c->role[i] = l;
		return 0;
	}
	if (strcmp(key, "palette") == 0) {
		struct look p[CONFIG_PALETTE];

		if (parse_list(val, CONFIG_PALETTE, one_look, p, &n) != 0)
			goto bad_colour;
		memcpy(c->palette, p, sizeof p);
		c->n_palette = n;
		return 0;
	}
	if (strncmp(key, "key.", 4) == 0) {
		int keys[CONFIG_KEYS] = {0};

		if ((i = find_name(action_names, KEY_ACTIONS, key + 4)) < 0) {
			snprintf(err, errlen,
				 "unknown key action '%.40s' (next_chat, prev_chat, "
				 "next_unread, first_unread, page_up, page_down, quit)",
				 key + 4);
			return -1;
		}
		if (strcasecmp(val, "none") != 0 &&
		    parse_list(val, CONFIG_KEYS, one_key, keys, &n) != 0) {
			snprintf(err, errlen,
				 "'%.60s' is not a key, or a list of up to %d keys "
				 "(C-x, M-x, Tab, S-Tab, PgUp, PgDn, Up, Down, Home, End, F1..F12)",
				 val, CONFIG_KEYS);
			return -1;
		}
		memcpy(c->keys[i], keys, sizeof keys);
		return 0;
	}
	if (strcmp(key, "notify") == 0) {
		static const char *const modes[] = {"auto", "desktop", "osc777",
						    "osc9", "bell",    "off"};

		if (strcmp(val, "osc") == 0)
			i = NOTIFY_OSC777;
		else if ((i = find_name(modes, 6, val)) < 0) {
			snprintf(err, errlen,
				 "notify is auto, desktop, osc (osc777), osc9, bell or "
				 "off, not '%.40s'",
				 val);
			return -1;
		}
		c->notify = (enum notify_mode)i;
		return 0;
	}
	if (strcmp(key, "notify.bell") == 0 || strcmp(key, "notify.body") == 0 ||
	    strcmp(key, "color") == 0 || strcmp(key, "drafts.persist") == 0 ||
	    strcmp(key, "mouse") == 0) {
		if (parse_bool(val, &b) != 0) {
			snprintf(err, errlen, "%s is yes or no, not '%.40s'", key, val);
			return -1;
		}
		*(strcmp(key, "notify.bell") == 0   ? &c->notify_bell
		  : strcmp(key, "notify.body") == 0 ? &c->notify_body
		  : strcmp(key, "color") == 0       ? &c->color
		  : strcmp(key, "mouse") == 0       ? &c->mouse
						    : &c->persist_drafts) = b;
		return 0;
	}
	snprintf(err, errlen, "unknown key '%.60s'", key);
	return -1;
bad_colour:
	snprintf(err, errlen,
		 "'%.60s' is not a colour: [bold|dim|underline|reverse|italic] "
		 "[black|red|green|yellow|blue|magenta|cyan|white|bright<colour>|colorN|default]",
		 val);
	return -1;
}

int
config_load(struct config *c, const char *path, int missing_ok,
	    void (*warn)(void *arg, const char *msg), void *arg)
{
	char line[CONFIG_LINE_MAX + 2], err[400], msg[1400];
	FILE *f = fopen(path, "r");
	int errors = 0, lineno = 0;

	if (f == NULL) {
		if (!(missing_ok && errno == ENOENT)) {
			snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno));
			warn(arg, msg);
		}
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		size_t len = strlen(line);
		int too_long = len > 0 && line[len - 1] != '\n' && !feof(f);

		if (++lineno > CONFIG_LINES_MAX) {
			snprintf(msg, sizeof msg,
				 "%s:%d: the file is longer than %d lines; the rest "
				 "is not read",
				 path, lineno, CONFIG_LINES_MAX);
			warn(arg, msg);
			errors++;
			break;
		}
		if (too_long) {
			int ch;

			/* The rest of the line goes unread, and is an error. */
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			snprintf(msg, sizeof msg, "%s:%d: the line is longer than %d bytes", path,
				 lineno, CONFIG_LINE_MAX);
			warn(arg, msg);
			errors++;
			continue;
		}
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (config_line(c, line, err, sizeof err) != 0) {
			snprintf(msg, sizeof msg, "%s:%d: %s", path, lineno, err);
			warn(arg, msg);
			errors++;
		}
	}
	fclose(f);
	return errors;
}

void
config_default_path(char *out, size_t len)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");

	/* XDG: a relative $XDG_CONFIG_HOME is to be ignored. */
	if (x != NULL && x[0] == '/')
		snprintf(out, len, "%s/chat-tui/config", x);
	else if (h != NULL && h[0] != '\0')
		snprintf(out, len, "%s/.config/chat-tui/config", h);
	else if (len > 0)
		out[0] = '\0';
}
