# Two chat-tuis on one home: the server keeps one receiving session per
# device, so the second takes the connection over. The second says it took
# over from the first; the first says it is offline because another program
# connected as this device, and how to get the connection back (/reconnect),
# which then works (and the second says so in turn).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register alice bob

# on_home SESSION: chat-tui in the tmux session SESSION on alice's home.
on_home() {
	$TMUX_CMD new-session -d -s "$1" -x 120 -y 30 \
		"env LANG=C.UTF-8 ASAN_OPTIONS=log_path=$T/asan.$1 $TUI --home $T/alice --server $URL; echo \"[exit \$?]\"; sleep 30"
}

on_home first
tui_wait first "[online] alice"
tui=$($TMUX_CMD list-panes -t first -F '#{pane_pid}')
pid=$(ps -o pid=,comm= --ppid "$tui" | awk '$2 == "chat-tui" { print $1 }')
on_home second
tui_wait second "[online] alice"
tui_wait second "another chat-tui (pid $pid) was using this home"
tui_wait first "another program connected as this device"
tui_wait first "/reconnect"
tui_wait first "[offline"

# A message now reaches the second; the first gets its connection back.
expect_exit 0 ctl bob create alice
c=$(cat "$T/out")
expect_exit 0 ctl bob send "$c" "to whoever is online"
tui_wait second "bob (1)"
tui_type first "/reconnect"
tui_keys first Enter
tui_wait first "[online] alice"
tui_wait second "another program connected as this device"
expect_exit 0 ctl bob send "$c" "second message"
tui_wait first "bob (2)"

tui_keys first C-c
tui_wait first "[exit 0]"
tui_keys second C-c
tui_wait second "[exit 0]"
tui_check_asan
stop_server
