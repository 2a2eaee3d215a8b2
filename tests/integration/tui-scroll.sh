# chat-tui's scrolling stops at the first message: PgUp past it leaves the
# view where it is (never an empty pane), so the next PgDn moves at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register bob
tui_start alice 100x30 --user alice
tui_wait alice "[online] alice"
expect_exit 0 ctl bob create alice
c=$(cat "$T/out")
i=1
while [ $i -le 80 ]; do
	printf '{"jsonrpc":"2.0","id":%d,"method":"send","params":{"chat":"%s","text":"line %d"}}\n' \
		"$i" "$c" "$i"
	i=$((i + 1))
done | ctl bob rpc >"$T/rpc.out" 2>&1 || fail "rpc: $(cat "$T/rpc.out")"
tui_wait alice "bob (80)"
tui_keys alice M-1
tui_keys alice Escape
tui_wait_pane alice "bob: line 80"

# Up to the first message, then five PgUps more.
n=0
until tui_screen alice | grep -q "bob: line 1$"; do
	n=$((n + 1)); [ $n -gt 10 ] && fail "PgUp never reached line 1"
	tui_keys alice PageUp
	sleep 0.2
done
tui_keys alice PageUp PageUp PageUp PageUp PageUp
sleep 0.5
tui_screen alice | grep -q "bob: line 1$" || { tui_screen alice >&2; fail "PgUp went past the first message"; }
# The pane is full: its last row holds a message.
tui_screen alice | sed -n 28p | grep -q "bob: line" || { tui_screen alice >&2; fail "the pane is not full"; }
# One PgDn moves the view.
tui_keys alice PageDown
tui_wait_gone alice "bob: line 1"
tui_keys alice Escape
tui_wait_pane alice "bob: line 80"

tui_keys alice C-c
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
