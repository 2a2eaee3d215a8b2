# chat-tui while the network comes and goes: it opens on its store with the
# server down, what is written meanwhile waits as (sending), and goes out in
# order when the server is back; bob gets each once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
c=$(cat "$T/out")
expect_exit 0 ctl alice send "$c" "before"
stop_server

tui_start alice 100x30
tui_keys alice M-1
tui_wait alice "alice: before"
tui_wait alice "reconnecting"
tui_type alice "while away 1"
tui_keys alice Enter
tui_type alice "while away 2"
tui_keys alice Enter
tui_wait alice "alice: while away 2 (sending)"

start_server "$port"
tui_wait alice "[online] alice" 40
tui_wait alice "alice: while away 2 (sent)"
expect_exit 0 ctl bob --json recv
[ "$(jq -r 'select(.type == "message") | .text' "$T/out" | tr '\n' '|')" = "before|while away 1|while away 2|" ] ||
	fail "bob got: $(cat "$T/out")"
tui_keys alice C-c
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
