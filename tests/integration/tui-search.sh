# chat-tui's /search lists the hits of the device's store (chat, time,
# sender, the words found in [brackets]), and /goto N opens hit N's chat at
# that message, scrolled up to it rather than at the newest, even when it is
# older than what chat-tui loads of a chat at first (200 messages).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register alice
tui_start bob 100x16 --user bob
tui_wait bob "[online] bob"
expect_exit 0 ctl alice create bob
c=$(cat "$T/out")
expect_exit 0 ctl alice send "$c" "the needle is in
the haystack"
i=1
while [ $i -le 205 ]; do
	expect_exit 0 ctl alice send "$c" "hay $i"
	i=$((i + 1))
done
tui_wait bob "alice (206)"

tui_type bob "/goto 1"
tui_keys bob Enter
tui_wait bob "no search hits: /search WORDS first"
tui_type bob '/search NEEDLE "NEAR("'
tui_keys bob Enter
tui_wait bob "no message here has all these words"
tui_type bob "/search NEEDLE hay"
tui_keys bob Enter
tui_wait bob "1. alice, "
tui_wait bob "alice: the [needle] is in the [haystack]"
tui_type bob "/goto 2"
tui_keys bob Enter
tui_wait bob "/goto takes a hit's number, 1 to 1"
tui_type bob "/goto 1"
tui_keys bob Enter
tui_wait bob "alice: the needle is in"
tui_wait_pane bob "hay 3"
tui_pane bob | grep -q "hay 205" && fail "not at the hit: $(tui_screen bob)"

tui_keys bob C-c
tui_wait bob "[exit 0]"
tui_check_asan
stop_server
