# chat-tui: reaching a message from the screen. /ids shows each message's
# short id, /reply #ID replies to that one; the selection mode (Alt-s, Up,
# Down) writes /reply, /react, /delete for the selected message into the
# input line; a click (an xterm mouse report typed into the pane: tmux
# passes it on as a terminal would) opens a chat from the list and selects a
# message; --no-mouse leaves clicks alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register bob

# click NAME X Y: a press and a release of button 1 at column X, row Y (from
# 0), as an xterm reports them (ESC [ M, then 32 + button, 33 + X, 33 + Y).
click() {
	cx=$(printf "\\$(printf %o $((33 + $2)))")
	cy=$(printf "\\$(printf %o $((33 + $3)))")
	tui_keys "$1" -l "$(printf '\033[M %s%s\033[M#%s%s' "$cx" "$cy" "$cx" "$cy")"
}

# wheel_up NAME X Y: the wheel turned up once there (button 4: 32 + 64).
wheel_up() {
	cx=$(printf "\\$(printf %o $((33 + $2)))")
	cy=$(printf "\\$(printf %o $((33 + $3)))")
	tui_keys "$1" -l "$(printf '\033[M`%s%s' "$cx" "$cy")"
}

# row NAME TEXT: the screen row (from 0) showing TEXT.
row() {
	r=$(tui_screen "$1" | grep -nF -- "$2" | head -1 | cut -d: -f1)
	[ -n "$r" ] || fail "$1's screen has no '$2'"
	echo $((r - 1))
}

# input_has TEXT: alice's input line (the screen's last row) holds TEXT.
input_has() {
	tui_screen alice | tail -1 | grep -qF -- "$1"
}

# bob_got JQ: bob's chatctl receives a message matching JQ (with $m1...).
bob_got() {
	i=0
	until ctl bob --json recv >>"$T/bob.all" 2>/dev/null &&
		jq -e -s "$1" "$T/bob.all" >/dev/null; do
		i=$((i + 1)); [ $i -gt 50 ] && fail "bob never got $1: $(cat "$T/bob.all")"; sleep 0.1
	done
}

tui_start alice 100x30 --user alice
tui_wait alice "[online] alice"
expect_exit 0 ctl bob create alice
c=$(cat "$T/out")
expect_exit 0 ctl bob send "$c" "one"
m1=$(cat "$T/out")
expect_exit 0 ctl bob send "$c" "two"
m2=$(cat "$T/out")
expect_exit 0 ctl bob send "$c" "three"
m3=$(cat "$T/out")
tui_wait alice "bob (3)"

# A click on the chat in the list opens it.
click alice 3 "$(row alice "bob (3)")"
tui_wait alice "bob: three"

# /ids: the ids, off by default; /reply #ID.
tui_screen alice | grep -qF "#$(echo "$m1" | cut -c1-6)" && fail "ids shown by default"
tui_type alice "/ids"
tui_keys alice Enter
tui_wait alice "#$(echo "$m1" | cut -c1-6) "
tui_type alice "/reply #$(echo "$m1" | cut -c1-6) back to one"
tui_keys alice Enter
tui_wait alice "> bob: one"
bob_got ".[] | select(.type == \"message\" and .text == \"back to one\" and .replyTo.id == \"$m1\")"
tui_keys alice M-i
tui_wait_gone alice "#$(echo "$m1" | cut -c1-6) "
tui_type alice "/reply #zz nothing"
tui_keys alice Enter
tui_wait alice "no message #zz here"

# The selection mode: Alt-s takes the newest (alice's reply), Up goes to
# older ones; r writes the command, Enter runs it.
tui_keys alice M-s
tui_wait alice "selected #"
tui_keys alice Up
tui_wait alice "selected #$(echo "$m3" | cut -c1-6)"
# Drawn reversed (SGR 7, alone or with others: "ESC[7m", "ESC[1;7m"), the
# others not. The senders' colours put escapes inside a line: each row is
# found by its text without them.
$TMUX_CMD capture-pane -e -p -t alice >"$T/attrs"
# reversed TEXT: the row showing TEXT has reverse video somewhere.
reversed() {
	awk -v want="$1" '{ raw = $0; plain = $0; gsub(/\033\[[0-9;]*m/, "", plain) }
		index(plain, want) && raw ~ /\033\[([0-9;]*;)?7(;[0-9;]*)?m/ { found = 1 }
		END { exit !found }' "$T/attrs"
}
reversed "bob: three" || fail "the selection is not reversed: $(cat -v "$T/attrs")"
reversed "bob: two" && fail "another message is reversed: $(cat -v "$T/attrs")"
tui_keys alice Up
tui_wait alice "selected #$(echo "$m2" | cut -c1-6)"
tui_keys alice r
tui_wait alice "/reply #$(echo "$m2" | cut -c1-8)"
tui_type alice "yes two"
tui_keys alice Enter
tui_wait alice "> bob: two"
bob_got ".[] | select(.type == \"message\" and .text == \"yes two\" and .replyTo.id == \"$m2\")"

# e writes /edit with the text to change.
tui_keys alice M-s
tui_wait alice "selected #"
tui_keys alice e
wait_until 10 "e wrote no /edit" input_has "/edit #"
input_has " yes two" || fail "e wrote: $(tui_screen alice | tail -1)"
tui_keys alice BSpace BSpace BSpace BSpace BSpace BSpace BSpace
tui_type alice "yes 2"
tui_keys alice Enter
tui_wait alice "yes 2 (edited)"

# + reacts, d deletes (from this device): each after Enter.
tui_keys alice M-s Up Up
tui_wait alice "selected #$(echo "$m3" | cut -c1-6)"
tui_keys alice +
tui_wait alice "/react #$(echo "$m3" | cut -c1-8)"
tui_type alice "👍"
tui_keys alice Enter
tui_wait alice "bob: three  [👍 1]"

# A click on a message selects it; Esc leaves, and keys type again.
click alice 40 "$(row alice "bob: three")"
tui_wait alice "selected #$(echo "$m3" | cut -c1-6)"
tui_keys alice d
tui_wait alice "/delete #$(echo "$m3" | cut -c1-8)"
tui_keys alice Enter
tui_wait_gone alice "bob: three"
tui_keys alice M-s
tui_wait alice "selected #"
tui_keys alice Escape
tui_wait_gone alice "selected #"
tui_type alice "hello"
tui_wait alice "hello"
tui_keys alice C-u

# Tab on an @word in a message: a member of the open chat.
tui_type alice "thanks @b"
tui_keys alice Tab
tui_wait alice "thanks @bob"
tui_keys alice C-u

# The wheel scrolls (an xterm report of button 4: 32 + 64).
i=0
while [ $i -lt 30 ]; do
	i=$((i + 1))
	expect_exit 0 ctl bob send "$c" "line $i"
done
tui_wait alice "bob: line 30"
wheel_up alice 40 10
tui_wait alice "scrolled up"
tui_keys alice Escape
tui_wait_gone alice "scrolled up"
tui_keys alice C-c
tui_wait alice "[exit 0]"

# --no-mouse: a click selects nothing (the bytes are not a mouse report).
$TMUX_CMD kill-session -t alice
tui_start alice 100x30 --no-mouse
tui_wait alice "[online] alice"
tui_keys alice M-1
tui_wait alice "bob: line 30"
click alice 40 "$(row alice "bob: line 29")"
sleep 0.5
tui_screen alice | grep -qF "selected #" && fail "--no-mouse: a click selected a message"
tui_keys alice C-c
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
