# chat-tui on a newly linked device: the history the approving device sends
# arrives (PROTOCOL.md, "History sync"), the status line says so when it is
# all in, and the chat with bob shows the messages from before the link.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
c=$(cat "$T/out")
expect_exit 0 ctl alice send "$c" "before the link"
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob send "$c" "bob was here first"
expect_exit 0 ctl alice recv
HISTORY_DAYS=30 link_device alice2 alice alice

tui_start alice2 100x30
tui_wait alice2 "history: 2 messages received"
tui_wait alice2 "bob"
tui_type alice2 "/open bob"
tui_keys alice2 Enter
tui_wait alice2 "alice: before the link"
tui_wait alice2 "bob: bob was here first"
# and it writes to bob from there
tui_type alice2 "from the new device"
tui_keys alice2 Enter
tui_wait alice2 "alice: from the new device"
expect_exit 0 ctl bob recv
expect_in "$T/out" "from the new device"
tui_keys alice2 C-c
tui_check_asan
stop_server
