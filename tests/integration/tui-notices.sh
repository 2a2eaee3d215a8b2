# chat-tui's own words: a status-line notice goes after a few seconds (the
# connection state stays); every command a hint names exists (/chats lists
# the chats with their ids); "terminal too small" says the size it needs in
# full, however small the terminal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register bob
tui_start alice 100x30 --user alice
tui_wait alice "[online] alice"
expect_exit 0 ctl bob create alice
c=$(cat "$T/out")
expect_exit 0 ctl bob send "$c" "hi"
tui_wait alice "bob (1)"
expect_exit 0 ctl bob create --name climbing alice
g=$(cat "$T/out")
tui_wait alice "climbing"

# A notice in the status line, then gone after a few seconds, or at the
# next key; the state stays.
tui_type alice "/zzz"
tui_keys alice Tab
tui_wait alice "| no completion"
i=0
while tui_screen alice | grep -q "no completion"; do
	i=$((i + 1)); [ $i -gt 200 ] && fail "the status notice never went"; sleep 0.05
done
tui_wait alice "[online] alice"
tui_keys alice Tab
tui_wait alice "| no completion"
tui_keys alice C-u
tui_wait_gone alice "no completion"

# /open of an unknown chat points to /chats, which lists them with their ids.
tui_type alice "/open nobody"
tui_keys alice Enter
tui_wait alice "no chat 'nobody' here"
hint=$(tui_screen alice | grep -o "/[a-z]* lists them" | head -n 1)
[ -n "$hint" ] || fail "no hint"
tui_type alice "${hint% lists them}"
tui_keys alice Enter
tui_wait alice "climbing (group, $g)"
tui_wait alice "bob (direct, $c), 1 unread"
tui_screen alice | grep -q "unknown command" && fail "the hint names a command that does not exist"

# Too small: what it needs, in full, at several sizes.
for size in 30x6 20x3 12x2 8x1; do
	$TMUX_CMD resize-window -t alice -x "${size%x*}" -y "${size#*x}"
	sleep 0.3
	tui_screen alice | tr -d '\n' | grep -q "40x8" ||
		{ tui_screen alice >&2; fail "at $size the screen does not say 40x8"; }
done
$TMUX_CMD resize-window -t alice -x 100 -y 30
tui_wait alice "[online] alice"

tui_keys alice C-c
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
