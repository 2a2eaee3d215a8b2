# chat-tui and notes to self: /create with your own name (or @me) and /open
# @me open your notes to self, the chat whose only member is you, and never
# the chat with somebody else (as "/create bob" typed by bob used to open
# bob's chat with alice); /group with nobody but you is still refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register alice
tui_start bob 100x30 --user bob
tui_wait bob "[online] bob"
expect_exit 0 ctl alice create bob
c=$(cat "$T/out")
expect_exit 0 ctl alice send "$c" "hello bob"
tui_wait bob "alice (1)"

for cmd in "/group solo bob" "/group solo"; do
	tui_type bob "$cmd"
	tui_keys bob Enter
	case $cmd in
	"/group solo") tui_wait bob "usage: /group" ;;
	*) tui_wait bob "a group needs at least one member besides you" ;;
	esac
	sleep 0.3
	tui_screen bob | grep -q "solo" && fail "'$cmd' made a group"
	tui_keys bob C-l
done

# /open @me before there are notes: said so, nothing opened.
tui_type bob "/open @me"
tui_keys bob Enter
tui_wait bob "no notes to self here yet"
tui_keys bob C-l

# A line typed with no chat open is kept in the input, not thrown away.
tui_type bob "remember the keys"
tui_keys bob Enter
tui_wait bob "no chat open: /create USER opens one"
tui_screen bob | tail -n 1 | grep -q "^remember the keys" || { tui_screen bob >&2; fail "the line typed with no chat open was lost"; }
tui_keys bob C-u
tui_wait_gone bob "remember the keys"

# /create bob: the notes; a note typed there stays out of alice's chat. The
# chat is listed before it opens: wait for its header in the right pane.
tui_type bob "/create bob"
tui_keys bob Enter
tui_wait bob "│ notes to self"
tui_type bob "remember the keys"
tui_keys bob Enter
tui_wait bob "bob: remember the keys"
tui_pane bob | grep -q "alice: hello bob" && fail "/create bob opened the chat with alice"
expect_exit 0 ctl alice --json recv
expect_not_in "$T/out" "remember the keys"

# /open alice, then /open @me: back to the notes.
tui_type bob "/open alice"
tui_keys bob Enter
tui_wait bob "alice: hello bob"
tui_type bob "/open @me"
tui_keys bob Enter
tui_wait bob "bob: remember the keys"
tui_pane bob | grep -q "alice: hello bob" && fail "/open @me shows alice's chat"

tui_keys bob C-c
tui_wait bob "[exit 0]"
tui_check_asan
expect_exit 0 ctl bob --json chats
[ "$(jq -r '.[] | select(.kind=="self") | .participants | join(",")' "$T/out")" = bob ] ||
	fail "bob's chats: $(cat "$T/out")"
expect_not_in "$T/out" "solo"
stop_server
