# chat-tui and blocking: /block USER blocks on all of the user's devices (a
# chatctl home of the same user sees it), the direct chat's header says
# "blocked", a line written there is not sent, nothing of the blocked user's
# shows; /blocked lists; /unblock lets new messages through; a block made
# on another device shows in the header too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register alice
tui_start bob 100x30 --user bob
tui_wait bob "[online] bob"
link_device bob2 bob bob phone
expect_exit 0 ctl alice create bob
c=$(cat "$T/out")
expect_exit 0 ctl alice send "$c" "hello bob"
tui_wait bob "1 alice (1)"
tui_keys bob Tab
tui_wait bob "alice: hello bob"
tui_wait_gone bob "blocked"

tui_type bob "/block alice"
tui_keys bob Enter
tui_wait bob "block: done"
tui_wait bob "alice  blocked"
expect_exit 0 ctl bob2 --json blocked
[ "$(jq -c . "$T/out")" = '["alice"]' ] || fail "bob2: $(cat "$T/out")"
tui_type bob "/blocked"
tui_keys bob Enter
tui_wait bob "blocked (1): alice"

# Nothing of alice's shows; a line to her is not sent.
expect_exit 0 ctl alice send "$c" "are you there"
tui_type bob "hi alice"
tui_keys bob Enter
tui_wait bob "you blocked alice"
sleep 1
tui_screen bob >"$T/screen"
expect_not_in "$T/screen" "are you there"
expect_not_in "$T/screen" "bob: hi alice"

tui_type bob "/unblock alice"
tui_keys bob Enter
tui_wait bob "unblock: done"
tui_wait_gone bob "alice  blocked"
expect_exit 0 ctl alice send "$c" "back again"
tui_wait bob "alice: back again"
tui_screen bob >"$T/screen"
expect_not_in "$T/screen" "are you there"

# A block from another device of bob's: pushed, and the header follows.
expect_exit 0 ctl bob2 block alice
tui_wait bob "alice  blocked"
tui_type bob "/blocked"
tui_keys bob Enter
tui_wait bob "blocked (1): alice"
expect_exit 0 ctl bob2 unblock alice
tui_wait_gone bob "alice  blocked"
tui_type bob "/blocked"
tui_keys bob Enter
tui_wait bob "you have blocked nobody"
tui_check_asan bob
exit 0
