# chat-tui and mentions: a group message that names bob ("@Bob") is drawn
# bold in bob's chat-tui and one that does not is not; "/bell off" says
# that mentions still ring.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register alice carol
tui_start bob 100x30 --user bob
tui_wait bob "[online] bob"
expect_exit 0 ctl alice --json create --name trip bob carol
g=$(jq -r .chatId "$T/out")
expect_exit 0 ctl alice send "$g" "plain words for all"
expect_exit 0 ctl alice send "$g" "@Bob can you drive"
tui_wait bob "trip (2)"
tui_type bob "/open trip"
tui_keys bob Enter
tui_wait bob "alice: @Bob can you drive"
# With attributes: the mention's line is bold (SGR 1), the other is not.
$TMUX_CMD capture-pane -e -p -t bob > "$T/screen"
grep "can you drive" "$T/screen" | grep -q "$(printf '\033')\[[0-9;]*1[;m]" ||
	fail "the mention is not bold: $(grep 'can you drive' "$T/screen" | od -c | head)"
grep "plain words for all" "$T/screen" | grep -q "$(printf '\033')\[1m" &&
	fail "a message without a mention is bold"
tui_type bob "/bell off"
tui_keys bob Enter
tui_wait bob "(a message that mentions you rings"
tui_keys bob C-c
tui_wait bob "[exit 0]"
tui_check_asan
stop_server
