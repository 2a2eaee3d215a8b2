/*
 * test_tui_open.c - the pure parts of chat-tui's files (tui/open.c): ~ in a
 * path, and what a message with files shows. Opening, downloading and Tab
 * run against real programs in tests/integration/tui-files.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "app.h"

static void
expect_expand(const char *path, const char *want)
{
	char *got = open_expand(path);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_expand(void **state)
{
	(void)state;
	setenv("HOME", "/home/al ice", 1);
	expect_expand("~", "/home/al ice");
	expect_expand("~/", "/home/al ice/");
	expect_expand("~/docs/a b.txt", "/home/al ice/docs/a b.txt");
	/* Not the home: another user's (not looked up), or ~ inside a name. */
	expect_expand("~bob/x", "~bob/x");
	expect_expand("a~/x", "a~/x");
	expect_expand("/tmp/~", "/tmp/~");
	expect_expand("", "");
	/* No HOME: as typed (libchat then says the file is not there). */
	setenv("HOME", "", 1);
	expect_expand("~/x", "~/x");
	unsetenv("HOME");
	expect_expand("~/x", "~/x");
}

static void
test_files_text(void **state)
{
	struct chat_attachment f[3] = {
		{.name = "photo.jpg",
		 .type = "image/jpeg",
		 .size = 1258291,
		 .path = "/d/photo.jpg"},
		{.name = "notes.txt", .type = "text/plain", .size = 900, .path = NULL},
		{.name = "big.iso",
		 .type = "application/x-iso9660-image",
		 .size = INT64_MAX,
		 .path = NULL},
	};
	struct chat_message m;
	int files = 0, fetched = 0;
	char *s;

	(void)state;
	memset(&m, 0, sizeof m);
	m.attachments = f;
	m.n_attachments = 2;
	/* The caption on the row under the files. */
	s = open_files_text(&m, "look", &files, &fetched);
	assert_non_null(s);
	assert_string_equal(s, "[file: photo.jpg, 1.2 MB, downloaded] [file: notes.txt, 900 bytes]"
			       "\nlook");
	assert_int_equal(files, 2);
	assert_int_equal(fetched, 1);
	free(s);
	/* No caption: the files alone; a size of any width fits. */
	m.attachments = f + 2;
	m.n_attachments = 1;
	files = fetched = 0;
	s = open_files_text(&m, "", &files, &fetched);
	assert_non_null(s);
	assert_non_null(strstr(s, "[file: big.iso, "));
	assert_non_null(strstr(s, " MB]"));
	assert_null(strchr(s, '\n'));
	assert_int_equal(files, 1);
	assert_int_equal(fetched, 0);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_files_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
