/*
 * editor.h - chat-tui's input line: a UTF-8 buffer with a cursor that moves
 * and deletes by grapheme cluster, emacs-style kills, a newline key for
 * multi-line messages, and a history of sent lines. No curses: the view asks
 * editor_layout() where the text and the cursor go. tests/unit/test_tui_text.c.
 */
#ifndef TUI_EDITOR_H
#define TUI_EDITOR_H

#include <stddef.h>

#include "chat.h"

#define EDITOR_MAX     CHAT_MAX_TEXT /* bytes: a message's limit */
#define EDITOR_HISTORY 100           /* sent lines kept */

struct editor {
	char *buf; /* UTF-8, NUL-terminated, may hold '\n' */
	size_t len, cap;
	size_t cursor; /* byte offset, always at a cluster boundary */
	/* History, oldest first; hist_pos == n_hist when not browsing. */
	char **hist;
	size_t n_hist, hist_pos;
	char *draft; /* what was being typed when browsing began */
};

void editor_init(struct editor *e);
void editor_free(struct editor *e);

/* Inserts n bytes at the cursor and moves the cursor after them. Invalid
 * UTF-8 is replaced by U+FFFD, '\r' by '\n', other C0 controls but '\n' and
 * '\t' are dropped (pasted text). Returns 0, or -1 if the result would pass
 * EDITOR_MAX bytes (nothing inserted) or memory ran out. */
int editor_insert(struct editor *e, const char *s, size_t n);

/* Cursor moves: by cluster, to the start or end of the current line (the
 * text between '\n's), and to the start or end of the previous or next word. */
void editor_left(struct editor *e);
void editor_right(struct editor *e);
void editor_home(struct editor *e);
void editor_end(struct editor *e);
void editor_word_left(struct editor *e);
void editor_word_right(struct editor *e);

/* Deleting: the cluster before the cursor (Backspace) or at it (Delete); the
 * word before the cursor with the spaces after it (Ctrl-W); from the start of
 * the line to the cursor (Ctrl-U); from the cursor to the end of the line
 * (Ctrl-K; at the end of a line, the '\n' after it). */
void editor_backspace(struct editor *e);
void editor_delete(struct editor *e);
void editor_kill_word(struct editor *e);
void editor_kill_start(struct editor *e);
void editor_kill_end(struct editor *e);

/* History: Up/Down replace the buffer by the previous/next sent line, the
 * draft coming back past the newest. */
void editor_history_prev(struct editor *e);
void editor_history_next(struct editor *e);

/* Sets the buffer to s (cursor at its end), as a command's completion does. */
int editor_set(struct editor *e, const char *s);

/* Takes what was typed for sending: a malloc'd NUL-terminated copy (caller
 * frees), with leading and trailing blank lines and trailing spaces removed;
 * NULL if nothing is left (or out of memory). Adds it to the history (unless
 * equal to the newest entry) and empties the buffer. */
char *editor_take(struct editor *e);

/* Where things go in a box cols wide: the number of rows the text takes
 * (hard-wrapped by text_wrap_hard at each '\n'-separated line; at least 1) and
 * the cursor's row and column in them. A cursor at the very end of a full row
 * goes to the start of the next one. */
void editor_layout(const struct editor *e, int cols, int *rows, int *cursor_row, int *cursor_col);

/* Calls row(arg, off, n) for each row editor_layout() counts. */
void editor_rows(const struct editor *e, int cols, void (*row)(void *arg, size_t off, size_t n),
		 void *arg);

#endif
