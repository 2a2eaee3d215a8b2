# chat-tui's screen: scrolling loads older messages, a resize redraws (and a
# terminal too small is said so), wide and combining characters keep every
# column in place, and control characters from the network are shown, never
# obeyed. Also: a non-UTF-8 locale is refused with what to set.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"

# No UTF-8: refused before anything else, saying what to do.
LC_ALL=C "$TUI" --home "$T/none" >"$T/out" 2>"$T/err" </dev/null
[ $? -eq 2 ] || fail "non-UTF-8 locale: exit status"
expect_in "$T/err" "LANG=C.UTF-8"

start_server
register bob
tui_start alice 100x30 --user alice
tui_wait alice "[online] alice"
expect_exit 0 ctl bob create alice
c=$(cat "$T/out")

# 80 messages through one rpc session: the newest shows, the oldest does not.
i=1
while [ $i -le 80 ]; do
	printf '{"jsonrpc":"2.0","id":%d,"method":"send","params":{"chat":"%s","text":"line %d"}}\n' \
		"$i" "$c" "$i"
	i=$((i + 1))
done | ctl bob rpc >"$T/rpc.out" 2>&1 || fail "rpc: $(cat "$T/rpc.out")"
# Opened, it stands at the first unread message; Esc goes to the newest.
tui_wait alice "bob (80)"
tui_keys alice M-1
tui_wait alice "bob: line 1"
tui_keys alice Escape
tui_wait_pane alice "bob: line 80"
tui_pane alice | grep -q "bob: line 1$" && fail "line 1 should be off screen"
# PgUp until the first line shows; PgDn (or Esc) back to the newest.
n=0
until tui_screen alice | grep -q "bob: line 1$"; do
	n=$((n + 1)); [ $n -gt 10 ] && fail "PgUp never reached line 1"
	tui_keys alice PageUp
	sleep 0.2
done
tui_wait alice "scrolled up"
# A message arriving while scrolled up does not move the view; the status
# line says so, and Esc goes to it.
expect_exit 0 ctl bob send "$c" "new while you read"
tui_wait alice "new messages below"
tui_pane alice | grep -q "new while you read" && fail "the view moved while scrolled up"
tui_keys alice Escape
tui_wait alice "bob: new while you read"
tui_wait_gone alice "new messages below"

# Wide, combining and RTL text: a group named in CJK, a message with emoji,
# a ZWJ family, a flag, a combining accent and Hebrew.
expect_exit 0 ctl bob create --name "漢字の会" alice
g=$(cat "$T/out")
expect_exit 0 ctl bob send "$g" "x😀y 👨‍👩‍👧 🇫🇷 e$(printf '\314\201') שלום z"
tui_wait alice "漢字の会"
tui_keys alice M-1
# (tmux joins a ZWJ sequence its own way: chat-tui draws the family as its
# parts there, see tui-emoji.sh.)
tui_wait alice "bob: x😀y 👨👩👧 🇫🇷 e$(printf '\314\201') שלום z"
# The list's border is in the same column on every row, whatever the names hold.
tui_screen alice | sed -n 's/│.*//p' | while IFS= read -r left; do
	printf '%s\n' "$left" | LC_ALL=C.UTF-8 wc -L
done | sort -u >"$T/cols"
[ "$(wc -l <"$T/cols")" -eq 1 ] || fail "the list border moved: $(cat "$T/cols"); $(tui_screen alice)"

# Control characters from the network are shown as escapes; the screen survives.
expect_exit 0 ctl bob send "$g" "$(printf 'evil\033[2J\033]0;pwned\007end')"
tui_wait alice 'evil\x1b[2J\x1b]0;pwned\x07end'
tui_wait alice "漢字の会"

# Resize: everything is drawn again for the new size.
$TMUX_CMD resize-window -t alice -x 80 -y 24
sleep 0.3
[ "$(tui_screen alice | wc -l)" -eq 24 ] || fail "not 24 rows"
tui_wait alice "[online] alice"
tui_wait alice "end"
# Too small: said, not crashed; and back.
$TMUX_CMD resize-window -t alice -x 30 -y 6
tui_wait alice "terminal too small"
$TMUX_CMD resize-window -t alice -x 100 -y 30
tui_wait alice "[online] alice"

# What is typed is drawn safely too: a right-to-left override shows as its
# escape and reorders nothing; Ctrl-U takes the line back.
tui_type alice "$(printf 'a\342\200\256bc')"
tui_wait alice 'a\u202ebc'
tui_keys alice C-u
tui_wait_gone alice 'a\u202ebc'

# A multi-line message: Ctrl-J makes a new line in the input.
tui_type alice "first line"
tui_keys alice C-j
tui_type alice "second line"
tui_keys alice Enter
i=0
until ctl bob --json recv >"$T/bob.out" 2>/dev/null && grep -q "first line" "$T/bob.out"; do
	i=$((i + 1)); [ $i -gt 50 ] && fail "bob never got the two lines"; sleep 0.1
done
[ "$(jq -r 'select(.type == "message") | .text' "$T/bob.out")" = "$(printf 'first line\nsecond line')" ] ||
	fail "bob got: $(cat "$T/bob.out")"

tui_keys alice C-c
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
