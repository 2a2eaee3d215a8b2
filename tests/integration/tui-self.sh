# A chat with yourself does not exist (no notes to self yet): /create with
# your own name, /group with nobody but you and /open of your own name are
# refused with a clear message, and none of them opens the chat with
# somebody else (as "/create bob" typed by bob used to open bob's chat with
# alice).
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

for cmd in "/create bob" "/create @bob" "/open bob" "/open @bob" "/group solo bob" "/group solo"; do
	tui_type bob "$cmd"
	tui_keys bob Enter
	case $cmd in
	"/group solo") tui_wait bob "usage: /group" ;;
	/group*) tui_wait bob "a group needs at least one member besides you" ;;
	*) tui_wait bob "bob is you: there is no chat with yourself" ;;
	esac
	sleep 0.3
	tui_screen bob | grep -q "alice: hello bob" && fail "'$cmd' opened the chat with alice"
	tui_screen bob | grep -q "solo" && fail "'$cmd' made a group"
	tui_wait bob "no chat open"
	tui_keys bob C-l
done
expect_exit 0 ctl bob --json chats
expect_not_in "$T/out" "solo"

tui_keys bob C-c
tui_wait bob "[exit 0]"
tui_check_asan
stop_server
