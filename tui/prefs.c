/*
 * prefs.c - /mute, /unmute, /pin, /unpin, /archive, /unarchive on the open
 * chat, and /archived, which turns the chat list to the archived chats and
 * back (libchat(3), "Chat preferences"). The list redraws from the store.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "proto.h"

void
app_run_prefs(struct app *a, int argc, char **argv)
{
	const char *what = argv[0];
	int rc;

	if (strcmp(what, "mute") == 0) {
		int64_t until = CHAT_MUTE_FOREVER;
		long long seconds;

		if (argc > 1 && strcmp(argv[1], "forever") != 0) {
			if (chat_duration_parse(argv[1], &seconds) != 0 || seconds <= 0) {
				app_notice(a,
					   "/mute takes a duration (30s, 5m, 8h, 1d, 1w, up to a "
					   "year) or forever, not '%s'",
					   argv[1]);
				return;
			}
			until = proto_now_ms() + seconds * 1000;
		}
		rc = chat_set_muted(a->c, a->open, until);
	} else if (strcmp(what, "unmute") == 0) {
		rc = chat_set_muted(a->c, a->open, 0);
	} else if (strstr(what, "pin") != NULL) {
		rc = chat_set_pinned(a->c, a->open, what[0] == 'p');
	} else {
		rc = chat_set_archived(a->c, a->open, what[0] == 'a');
	}
	if (rc != CHAT_OK) {
		app_notice(a, "%s failed: %s", what, app_error(a->c));
		return;
	}
	a->dirty_chats = 1;
	if (strcmp(what, "mute") == 0 && argc > 1 && strcmp(argv[1], "forever") != 0) {
		time_t t = (time_t)(chat_muted_until(a->c, a->open) / 1000);
		struct tm tm;
		char when[32] = "";

		if (localtime_r(&t, &tm) != NULL)
			strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
		app_status(a, "muted until %s: only mentions of you ring", when);
	} else if (strcmp(what, "mute") == 0) {
		app_status(a, "muted: only mentions of you ring");
	} else if (strcmp(what, "archive") == 0) {
		app_status(a, "archived: /archived shows the archived chats; a new message "
			      "brings it back unless it is muted");
	} else {
		app_status(a, "%s%s", what, strstr(what, "pin") ? "ned" : "d");
	}
}

void
app_run_archived(struct app *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	a->show_archived = !a->show_archived;
	a->dirty_chats = 1;
	app_status(a, a->show_archived ? "the list shows the archived chats: /archived again "
					 "for the others"
				       : "the list shows the chats not archived");
}
