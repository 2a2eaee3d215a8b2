/*
 * term.c - measuring the terminal (see term.h).
 *
 * Why measure: curses moves its cursor by the sum of wcwidth() of what it
 * draws; a terminal that draws a cluster narrower or wider moves its own
 * cursor elsewhere, and from there on every character of the line lands in
 * the wrong cell (tmux: "👨‍👩‍👧" takes 2 columns, curses counts 6; what
 * follows is drawn 4 columns off, a state word "(sending)" overwritten by
 * "(read)" becomes "(sendread)"). No table can say what a terminal does;
 * the terminal can.
 *
 * Each kind has probes; one that does not come out as counted makes the
 * kind a quirk. A probe is printed from column 1 ("\r"), followed by DSR;
 * the answers come in order, after everything before them was drawn. The
 * line is wiped afterwards, before curses switches to its own screen.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "term.h"
#include "text.h"

static const struct probe {
	const char *sample;
	unsigned quirk;
} probes[] = {
	/* man ZWJ woman ZWJ girl: 6 counted, 2 where ZWJ sequences join */
	{"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7",
	 TEXT_QUIRK_ZWJ},
	/* a ZWJ grinning face: 3 counted; some join any emoji after a ZWJ */
	{"a\xe2\x80\x8d\xf0\x9f\x98\x80", TEXT_QUIRK_ZWJ},
	/* heavy black heart VS16: 1 counted, 2 where VS16 means emoji-wide */
	{"\xe2\x9d\xa4\xef\xb8\x8f", TEXT_QUIRK_VS},
	/* grinning face VS15: 2 counted, 1 where VS15 means text-narrow */
	{"\xf0\x9f\x98\x80\xef\xb8\x8e", TEXT_QUIRK_VS},
	/* thumbs up, medium skin tone: 4 counted, 2 where tones join */
	{"\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", TEXT_QUIRK_MODIFIER},
	/* the flag of France (F, R): 2 counted */
	{"\xf0\x9f\x87\xab\xf0\x9f\x87\xb7", TEXT_QUIRK_FLAG},
};

#define N_PROBES (sizeof probes / sizeof probes[0])

size_t
term_probes(void)
{
	return N_PROBES;
}

/* How far curses moves its cursor for s: wcwidth() of each code point. */
static int
counted(const char *s)
{
	size_t off = 0, n, len = strlen(s);
	uint32_t cp;
	int w = 0;

	while (off < len && (n = text_decode(s + off, len - off, &cp)) > 0) {
		if (wcwidth((wchar_t)cp) > 0)
			w += wcwidth((wchar_t)cp);
		off += n;
	}
	return w;
}

unsigned
term_quirks(const int *cols, size_t n)
{
	unsigned q = 0;

	for (size_t i = 0; i < N_PROBES; i++)
		if (i >= n || cols[i] - 1 != counted(probes[i].sample))
			q |= probes[i].quirk;
	return q;
}

/* The length of the cursor position report ("ESC [ row ; col R") at buf[i],
 * its column in *col; 0 if there is none (or only the start of one). */
static size_t
report_at(const char *buf, size_t len, size_t i, int *col)
{
	size_t j = i + 2;
	long row = 0, c = 0;
	int digits = 0;

	if (i + 1 >= len || buf[i] != '\033' || buf[i + 1] != '[')
		return 0;
	while (j < len && buf[j] >= '0' && buf[j] <= '9' && row < 100000)
		row = row * 10 + (buf[j++] - '0'), digits++;
	if (j >= len || buf[j] != ';' || digits == 0)
		return 0;
	j++;
	digits = 0;
	while (j < len && buf[j] >= '0' && buf[j] <= '9' && c < 100000)
		c = c * 10 + (buf[j++] - '0'), digits++;
	if (j >= len || buf[j] != 'R' || digits == 0)
		return 0;
	*col = (int)c;
	return j + 1 - i;
}

size_t
term_parse_reports(const char *buf, size_t len, int *cols, size_t max)
{
	size_t i = 0, n = 0, k;

	while (i < len && n < max) {
		k = report_at(buf, len, i, &cols[n]);
		n += k > 0;
		i += k > 0 ? k : 1;
	}
	return n;
}

size_t
term_take_reports(char *buf, size_t len, size_t *rest)
{
	size_t i = 0, n = 0, out = 0, k;
	int col;

	while (i < len) {
		if ((k = report_at(buf, len, i, &col)) > 0) {
			n++;
			i += k;
		} else {
			buf[out++] = buf[i++];
		}
	}
	*rest = out;
	return n;
}

static long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads the answers until all came or the time is up; returns how many.
 * What else was read (keys typed meanwhile) is left in buf, *len bytes. */
static size_t
read_reports(int in, int *cols, long deadline, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;

	*len = 0;
	while (n < N_PROBES && *len < cap) {
		struct pollfd p = {.fd = in, .events = POLLIN};
		long left = deadline - mono_ms();
		ssize_t k;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		if ((k = read(in, buf + *len, cap - *len)) < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break; /* the terminal is gone: app_run finds out */
		*len += (size_t)k;
		n = term_parse_reports(buf, *len, cols, N_PROBES);
	}
	term_take_reports(buf, *len, len);
	return n;
}

unsigned
term_probe(int in, int out, int timeout_ms, char *typed, size_t cap, size_t *n_typed)
{
	struct termios saved, raw;
	char msg[512];
	size_t len = 0, n = 0;
	int cols[N_PROBES];

	*n_typed = 0;
	if (tcgetattr(in, &saved) != 0)
		return TEXT_QUIRK_ALL;
	/* No echo of the answers, and no waiting for a line. */
	raw = saved;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(in, TCSANOW, &raw) != 0)
		return TEXT_QUIRK_ALL;
	for (size_t i = 0; i < N_PROBES; i++) {
		int k = snprintf(msg + len, sizeof msg - len, "\r%s\033[6n", probes[i].sample);

		len += k > 0 ? (size_t)k : 0;
	}
	len += (size_t)snprintf(msg + len, sizeof msg - len, "\r\033[K");
	if (write_all(out, msg, len) == 0)
		n = read_reports(in, cols, mono_ms() + timeout_ms, typed, cap, n_typed);
	tcsetattr(in, TCSANOW, &saved);
	return term_quirks(cols, n);
}
