/*
 * test_tui_config.c - chat-tui's configuration file (tui/config.c), the
 * look of days and times (tui/look.c), and what notifications let through
 * (tui/notify.c): all pure, without a terminal. The program reading a real
 * file, and notifications shown, are tested in tmux
 * (tests/integration/tui-look.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "look.h"
#include "when.h"
#include "notify.h"

static int
line(struct config *c, const char *s)
{
	char err[400];

	return config_line(c, s, err, sizeof err);
}

static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.notify, NOTIFY_AUTO);
	assert_int_equal(c.color, 1);
	assert_int_equal(c.role[LOOK_SELF].fg, 2);
	assert_int_equal(c.role[LOOK_MENTION].attrs, LOOK_BOLD);
	assert_int_equal(c.keys[KEY_NEXT_UNREAD][0], 'N' & 0x1f);
	assert_int_equal(c.keys[KEY_FIRST_UNREAD][0], CONFIG_KEY_ALT | 'u');
	assert_true(c.n_palette > 1);
}

static void
test_lines(void **state)
{
	struct config c;
	char err[400];

	(void)state;
	config_defaults(&c);
	/* Blank lines and comments. */
	assert_int_equal(line(&c, ""), 0);
	assert_int_equal(line(&c, "   # a comment"), 0);
	/* Colours: attributes and one colour, any order, trailing comments. */
	assert_int_equal(line(&c, "color.self = bold green  # mine"), 0);
	assert_int_equal(c.role[LOOK_SELF].fg, 2);
	assert_int_equal(c.role[LOOK_SELF].attrs, LOOK_BOLD);
	assert_int_equal(line(&c, "\tcolor.mention=underline brightyellow"), 0);
	assert_int_equal(c.role[LOOK_MENTION].fg, 11);
	assert_int_equal(c.role[LOOK_MENTION].attrs, LOOK_UNDERLINE);
	assert_int_equal(line(&c, "color.divider = color196"), 0);
	assert_int_equal(c.role[LOOK_DIVIDER].fg, 196);
	assert_int_equal(line(&c, "color.time = none"), 0);
	assert_int_equal(c.role[LOOK_TIME].fg, -1);
	assert_int_equal(c.role[LOOK_TIME].attrs, 0);
	assert_int_equal(line(&c, "palette = red, green ,bold blue"), 0);
	assert_int_equal(c.n_palette, 3);
	assert_int_equal(c.palette[2].fg, 4);
	assert_int_equal(c.palette[2].attrs, LOOK_BOLD);
	/* Keys: one or a list; none unbinds. */
	assert_int_equal(line(&c, "key.next_unread = M-n, C-x"), 0);
	assert_int_equal(c.keys[KEY_NEXT_UNREAD][0], CONFIG_KEY_ALT | 'n');
	assert_int_equal(c.keys[KEY_NEXT_UNREAD][1], 'X' & 0x1f);
	assert_int_equal(c.keys[KEY_NEXT_UNREAD][2], 0);
	assert_int_equal(line(&c, "key.quit = none"), 0);
	assert_int_equal(c.keys[KEY_QUIT][0], 0);
	assert_int_equal(line(&c, "key.page_up = F7"), 0);
	assert_int_equal(c.keys[KEY_PAGE_UP][0], CONFIG_KEY_NAMED | (NAMED_F1 + 6));
	/* Notifications and switches. */
	assert_int_equal(line(&c, "notify = osc"), 0);
	assert_int_equal(c.notify, NOTIFY_OSC777);
	assert_int_equal(line(&c, "notify = off"), 0);
	assert_int_equal(c.notify, NOTIFY_OFF);
	assert_int_equal(line(&c, "notify.bell = yes"), 0);
	assert_int_equal(c.notify_bell, 1);
	assert_int_equal(line(&c, "color = no"), 0);
	assert_int_equal(c.color, 0);
	assert_int_equal(line(&c, "drafts.persist = off"), 0);
	assert_int_equal(c.mouse, 1);
	assert_int_equal(line(&c, "mouse = no"), 0);
	assert_int_equal(c.mouse, 0);
	assert_int_equal(c.persist_drafts, 0);

	/* Errors: said, and nothing changed. */
	config_defaults(&c);
	assert_int_equal(config_line(&c, "colour.self = red", err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown key 'colour.self'"));
	assert_int_equal(config_line(&c, "color.me = red", err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown colour role 'me'"));
	assert_int_equal(config_line(&c, "color.self = bold purple", err, sizeof err), -1);
	assert_non_null(strstr(err, "is not a colour"));
	assert_int_equal(c.role[LOOK_SELF].fg, 2);
	assert_int_equal(config_line(&c, "color.self = red green", err, sizeof err), -1);
	assert_int_equal(config_line(&c, "color.self = color256", err, sizeof err), -1);
	assert_int_equal(config_line(&c, "key.next_chat = Ctrl-n", err, sizeof err), -1);
	assert_non_null(strstr(err, "is not a key"));
	assert_int_equal(c.keys[KEY_NEXT_CHAT][0], '\t');
	assert_int_equal(config_line(&c, "key.next_chat = C-n,C-o,C-p,C-q,C-r", err, sizeof err),
			 -1);
	assert_int_equal(config_line(&c, "key.fly = C-n", err, sizeof err), -1);
	assert_int_equal(config_line(&c, "notify = loud", err, sizeof err), -1);
	assert_non_null(strstr(err, "notify is auto"));
	assert_int_equal(c.notify, NOTIFY_AUTO);
	assert_int_equal(config_line(&c, "notify.bell = maybe", err, sizeof err), -1);
	assert_int_equal(config_line(&c, "just words", err, sizeof err), -1);
	assert_non_null(strstr(err, "key = value"));
	assert_int_equal(config_line(&c, "notify =", err, sizeof err), -1);
	assert_int_equal(config_line(&c, "palette = red, purple", err, sizeof err), -1);
}

static void
test_keys(void **state)
{
	int k;

	(void)state;
	assert_int_equal(config_parse_key("C-a", &k), 0);
	assert_int_equal(k, 1);
	assert_int_equal(config_parse_key("c-z", &k), 0);
	assert_int_equal(k, 26);
	/* C-i is Tab, C-m Enter, C-[ Escape: not keys of their own. */
	assert_int_equal(config_parse_key("C-i", &k), -1);
	assert_int_equal(config_parse_key("C-m", &k), -1);
	assert_int_equal(config_parse_key("C-[", &k), -1);
	assert_int_equal(config_parse_key("M-1", &k), 0);
	assert_int_equal(k, CONFIG_KEY_ALT | '1');
	assert_int_equal(config_parse_key("S-Tab", &k), 0);
	assert_int_equal(k, CONFIG_KEY_NAMED | NAMED_BTAB);
	assert_int_equal(config_parse_key("pgdn", &k), 0);
	assert_int_equal(k, CONFIG_KEY_NAMED | NAMED_PGDN);
	assert_int_equal(config_parse_key("F12", &k), 0);
	assert_int_equal(config_parse_key("F13", &k), -1);
	assert_int_equal(config_parse_key("F0", &k), -1);
	assert_int_equal(config_parse_key("M-", &k), -1);
	assert_int_equal(config_parse_key("", &k), -1);
	assert_int_equal(config_parse_key("x", &k), -1);
}

static void
warned(void *arg, const char *msg)
{
	char *all = arg;

	strncat(all, msg, 4000 - strlen(all) - 2);
	strcat(all, "\n");
}

/* A file: each bad line said with its number, the good ones applied, a
 * huge line bounded; a file missing is no error when allowed. */
static void
test_file(void **state)
{
	char path[] = "/tmp/test_tui_config.XXXXXX", all[4096] = "";
	struct config c;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("# chat-tui\ncolor.self = red\nbogus = 1\n", f);
	for (int i = 0; i < CONFIG_LINE_MAX + 50; i++)
		fputc('x', f);
	fputs("\nnotify = bell\r\nkey.quit = C-q", f); /* CRLF, no newline at the end */
	fclose(f);
	config_defaults(&c);
	assert_int_equal(config_load(&c, path, 0, warned, all), 2);
	assert_non_null(strstr(all, ":3: unknown key 'bogus'"));
	assert_non_null(strstr(all, ":4: the line is longer than"));
	assert_null(strstr(all, ":5:"));
	assert_int_equal(c.role[LOOK_SELF].fg, 1);
	assert_int_equal(c.notify, NOTIFY_BELL);
	assert_int_equal(c.keys[KEY_QUIT][0], 'Q' & 0x1f);
	unlink(path);
	all[0] = '\0';
	assert_int_equal(config_load(&c, path, 1, warned, all), -1);
	assert_string_equal(all, "");
	assert_int_equal(config_load(&c, path, 0, warned, all), -1);
	assert_non_null(strstr(all, "No such file"));
}

static void
test_default_path(void **state)
{
	char p[256];

	(void)state;
	setenv("XDG_CONFIG_HOME", "/x/conf", 1);
	config_default_path(p, sizeof p);
	assert_string_equal(p, "/x/conf/chat-tui/config");
	setenv("XDG_CONFIG_HOME", "relative", 1); /* ignored, as XDG says */
	setenv("HOME", "/home/u", 1);
	config_default_path(p, sizeof p);
	assert_string_equal(p, "/home/u/.config/chat-tui/config");
}

/* 2026-12-01 (a Tuesday) 14:03:00 UTC, in ms. */
#define TUE 1796133780000LL
#define DAY 86400000LL

static void
test_look(void **state)
{
	char buf[64];

	(void)state;
	look_day_label(TUE, buf, sizeof buf);
	assert_string_equal(buf, "Tuesday, 2026-12-01");
	look_time(TUE, TUE + 3600000, buf, sizeof buf);
	assert_string_equal(buf, "14:03");
	look_time(TUE, TUE + 2 * DAY, buf, sizeof buf);
	assert_string_equal(buf, "Tue 14:03");
	look_time(TUE, TUE + 6 * DAY, buf, sizeof buf);
	assert_string_equal(buf, "Tue 14:03");
	look_time(TUE, TUE + 7 * DAY, buf, sizeof buf);
	assert_string_equal(buf, "2026-12-01 14:03");
	/* A clock behind: a date, not a weekday of the future. */
	look_time(TUE + DAY, TUE, buf, sizeof buf);
	assert_string_equal(buf, "2026-12-02 14:03");
	look_time(0, TUE, buf, sizeof buf);
	assert_string_equal(buf, "--:--");
	assert_int_equal(when_day(TUE + DAY) - when_day(TUE), 1);
	assert_int_equal(when_day(TUE + 9 * 3600000), when_day(TUE)); /* 23:03 */
	assert_int_equal(when_day(TUE + 10 * 3600000), when_day(TUE) + 1);
	assert_int_equal(when_day(-5), -1);
	look_last_seen(TUE, TUE + 60000, buf, sizeof buf);
	assert_string_equal(buf, "last seen today 14:03");
	look_last_seen(TUE, TUE + DAY, buf, sizeof buf);
	assert_string_equal(buf, "last seen yesterday 14:03");
	look_last_seen(TUE, TUE + 3 * DAY, buf, sizeof buf);
	assert_string_equal(buf, "last seen Tue 14:03");
	look_last_seen(TUE, TUE + 30 * DAY, buf, sizeof buf);
	assert_string_equal(buf, "last seen 2026-12-01");
	/* A sender's colour: stable, in range, not all the same. */
	assert_int_equal(look_sender_colour("alice", 8), look_sender_colour("alice", 8));
	assert_true(look_sender_colour("bob", 8) >= 0 && look_sender_colour("bob", 8) < 8);
	assert_int_equal(look_sender_colour("bob", 1), 0);
	{
		int seen = 0;
		const char *names[] = {"alice", "bob", "carol", "dave", "erin", "frank"};

		for (size_t i = 0; i < 6; i++)
			seen |= 1 << look_sender_colour(names[i], 8);
		assert_true(__builtin_popcount((unsigned)seen) >= 3);
	}
}

static void
test_notify_text(void **state)
{
	char out[64], seq[256];

	(void)state;
	/* Escapes of every kind lose their control characters. */
	notify_clean("a\033]0;pwned\007b\r\n", 15, 1, out, sizeof out);
	assert_string_equal(out, "a ]0;pwned b  ");
	notify_clean("x\xc2\x9b"
		     "2Jy",
		     6, 1, out, sizeof out); /* C1 CSI */
	assert_string_equal(out, "x 2Jy");
	notify_clean("a;b", 3, 0, out, sizeof out);
	assert_string_equal(out, "a,b");
	notify_clean("\xff\xc0\xafok", 5, 1, out, sizeof out);
	assert_string_equal(out, "???ok");
	/* Cut at a character's boundary, never inside one. */
	notify_clean("ab\xe2\x9c\x8e", 5, 1, out, 5);
	assert_string_equal(out, "ab");
	notify_clean("h\xc3\xa9llo", 6, 1, out, sizeof out);
	assert_string_equal(out, "h\xc3\xa9llo");
	assert_int_equal(notify_osc(NOTIFY_OSC777, "bob", "hi", seq, sizeof seq), 21);
	assert_string_equal(seq, "\033]777;notify;bob;hi\033\\");
	notify_osc(NOTIFY_OSC9, "bob", "hi", seq, sizeof seq);
	assert_string_equal(seq, "\033]9;bob: hi\033\\");
	assert_int_equal(notify_osc(NOTIFY_BELL, "bob", "hi", seq, sizeof seq), 0);
	/* Auto: no D-Bus session, a plain terminal: the bell. */
	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	unsetenv("VTE_VERSION");
	unsetenv("TERM_PROGRAM");
	unsetenv("WT_SESSION");
	setenv("TERM", "xterm", 1);
	assert_int_equal(notify_resolve(NOTIFY_AUTO), NOTIFY_BELL);
	assert_int_equal(notify_resolve(NOTIFY_DESKTOP), NOTIFY_BELL);
	setenv("VTE_VERSION", "7600", 1);
	assert_int_equal(notify_resolve(NOTIFY_AUTO), NOTIFY_OSC777);
	assert_int_equal(notify_resolve(NOTIFY_OFF), NOTIFY_OFF);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),     cmocka_unit_test(test_lines),
		cmocka_unit_test(test_keys),         cmocka_unit_test(test_file),
		cmocka_unit_test(test_default_path), cmocka_unit_test(test_look),
		cmocka_unit_test(test_notify_text),
	};

	/* Days and times in UTC, whatever the machine's zone. */
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
