# Clusters whose width the C library cannot speak for: chat-tui asks the
# terminal at start how it draws them (the cursor position after a probe,
# CSI 6n) and draws each kind so that the terminal and the layout agree.
# tmux draws a ZWJ sequence such as 👨‍👩‍👧 joined in 2 columns where
# wcwidth() counts 6 (and curses moves 6): chat-tui draws it as its parts,
# and typed or received, the line around it, the state word after it and
# the status line stay intact. The kinds tmux draws as counted (VS16, skin
# tones, flags) are drawn as they are. A terminal that does not answer
# (CHAT_TUI_PROBE=0 acts as one) gets the conservative forms of all kinds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register bob

ZWJ=$(printf '\342\200\215')
VS16=$(printf '\357\270\217')
FAMILY="👨${ZWJ}👩${ZWJ}👧"
KINDS="h ❤${VS16} t 👍🏽 f 🇫🇷 z"

# screen NAME: the screen without ZWJs, rows' trailing blanks cut.
screen() {
	tui_screen "$1" | sed -e "s/$ZWJ//g" -e 's/ *$//'
}

# input_is NAME TEXT: until the input line (row 30) is TEXT; fails after 10 s.
# (A keystroke may take a moment: the first one of a message tells the chat
# that its user is typing, which commits a session's state.)
input_is() {
	i=0
	until [ "$(screen "$1" | sed -n 30p)" = "$2" ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && return 1
		sleep 0.05
	done
}

# wait_row NAME TEXT: until a row of the screen (as screen() has it) ends
# with TEXT: nothing drawn after it, no stale characters.
wait_row() {
	i=0
	until screen "$1" | grep -qF -- "$2" && screen "$1" | grep -F -- "$2" | grep -q -- "$(echo "$2" | tail -c 6)\$"; do
		i=$((i + 1))
		[ $i -gt 200 ] && { tui_screen "$1" >&2; fail "$1: no row ends with '$2'"; }
		sleep 0.05
	done
}

tui_start alice 100x30 --user alice
tui_wait alice "[online] alice"
expect_exit 0 ctl bob create alice
c=$(cat "$T/out")

# Received: the family as its parts, the text after it where it belongs.
expect_exit 0 ctl bob send "$c" "a $FAMILY b"
tui_wait alice "bob (1)"
tui_keys alice M-1
wait_row alice "bob: a 👨👩👧 b"

# Typed: the input line holds it with no gap, the cursor right after it.
tui_type alice "x $FAMILY y"
tui_type alice " z"
input_is alice "x 👨👩👧 y z" || { tui_screen alice >&2; fail "the input line is garbled"; }
[ "$($TMUX_CMD display -p -t alice '#{cursor_x}')" = 12 ] ||
	fail "the cursor is at $($TMUX_CMD display -p -t alice '#{cursor_x}'), not 12"
tui_keys alice Enter
wait_row alice "alice: x 👨👩👧 y z (sent)"
expect_exit 0 ctl bob recv
wait_row alice "alice: x 👨👩👧 y z (delivered)"
screen alice | sed -n 29p | grep -q '^\[online\] alice' || fail "the status line is garbled"
# Nothing joined reached the terminal (tmux keeps in its cells what it got).
tui_screen alice | grep -q "$ZWJ" && fail "a ZWJ was drawn"

# The kinds tmux draws as counted are drawn as they are.
expect_exit 0 ctl bob send "$c" "$KINDS"
wait_row alice "bob: $KINDS"

# No answer from the terminal: every kind in its conservative form.
register dave
$TMUX_CMD new-session -d -s dave -x 100 -y 30 \
	"env LANG=C.UTF-8 CHAT_TUI_PROBE=0 ASAN_OPTIONS=log_path=$T/asan.dave $TUI --home $T/dave --server $URL; echo \"[exit \$?]\"; sleep 30"
tui_wait dave "[online] dave"
expect_exit 0 ctl bob create dave
d=$(cat "$T/out")
expect_exit 0 ctl bob send "$d" "$KINDS $FAMILY end"
tui_wait dave "bob (1)"
tui_keys dave M-1
wait_row dave "bob: h ❤ t 👍 f FR z 👨👩👧 end"
tui_screen dave | grep -q "$VS16" && fail "a VS16 was drawn"
tui_type dave "$KINDS"
input_is dave "h ❤ t 👍 f FR z" || { tui_screen dave >&2; fail "dave's input line is garbled"; }

# Keys typed while the terminal is measured are not lost.
$TMUX_CMD new-session -d -s early -x 100 -y 30 \
	"env LANG=C.UTF-8 ASAN_OPTIONS=log_path=$T/asan.early $TUI --home $T/early --server $URL --user early; echo \"[exit \$?]\"; sleep 30"
tui_type early "typed early"
tui_wait early "[online] early"
[ "$(screen early | sed -n 30p)" = "typed early" ] ||
	{ tui_screen early >&2; fail "keys typed at start were lost"; }
tui_keys early C-c
tui_wait early "[exit 0]"

tui_keys alice C-c
tui_wait alice "[exit 0]"
tui_keys dave C-c
tui_wait dave "[exit 0]"
tui_check_asan
stop_server
