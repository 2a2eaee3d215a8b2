# The issue's "done when", through scripts/run.sh (what `make run` runs): two
# terminals, two people. The first starts the server, the second joins it;
# they chat, make a group, a third person registered with chatctl is added
# to it, and everybody sees everything. Then make stop stops the server.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
# run.sh starts its server detached (not this shell's child): stop it
# whatever happens (by its pid file: run.sh stop would look further, for
# servers of other RUN_DIRs on the address), then lib.sh's cleanup, with the
# test's status.
trap 'st=$?; [ -s "$T/run/chat-server.pid" ] && kill "$(cat "$T/run/chat-server.pid")" 2>/dev/null; (exit $st); cleanup' EXIT
RUN="env BIN=$BIN RUN_DIR=$T/run RUN_ADDR=127.0.0.1:0"

$TMUX_CMD new-session -d -s alice -x 100 -y 30 \
	"$RUN RUN_USER=alice sh $(dirname "$0")/../../scripts/run.sh; sleep 30" ||
	fail "tmux"
tui_wait alice "[online] alice" 20
$TMUX_CMD new-session -d -s bob -x 100 -y 30 \
	"$RUN RUN_USER=bob sh $(dirname "$0")/../../scripts/run.sh; sleep 30"
tui_wait bob "[online] bob" 20
[ "$(grep -c "listening on" "$T/run/chat-server.log")" -eq 1 ] || fail "a second server was started"
URL="ws://$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$T/run/chat-server.log")/"

tui_type alice "/create bob"
tui_keys alice Enter
tui_wait alice "[online] alice | opening a chat with bob"
tui_wait alice "│ bob" # open: what is typed now goes to it
tui_type alice "hi bob, it is alice"
tui_keys alice Enter
tui_wait bob "alice (1)"
tui_keys bob Tab
tui_wait bob "alice: hi bob, it is alice"
tui_type bob "hello alice"
tui_keys bob Enter
tui_wait alice "bob: hello alice"

# bob makes a group; carol, who uses chatctl, is added to it.
expect_exit 0 ctl carol register carol
tui_type bob "/group climbing alice"
tui_keys bob Enter
tui_wait bob "bob created the group \"climbing\""
tui_wait alice "1 climbing"
tui_type bob "/add carol"
tui_keys bob Enter
tui_wait bob "bob added carol"
tui_type bob "saturday at 10?"
tui_keys bob Enter
tui_wait alice "climbing (1)"
expect_exit 0 ctl carol recv
expect_in "$T/out" "bob added carol"
expect_in "$T/out" "bob: saturday at 10?"
g=$(jq -rn --arg o "$(ctl carol --json chats)" '$o | fromjson | .[] | select(.name == "climbing") | .chatId')
expect_exit 0 ctl carol send "$g" "count me in"
tui_wait bob "carol: count me in"
tui_keys alice M-a
tui_wait alice "carol: count me in"

tui_keys alice C-c
tui_keys bob C-c
env BIN="$BIN" RUN_DIR="$T/run" RUN_ADDR=127.0.0.1:0 sh "$(dirname "$0")/../../scripts/run.sh" stop >"$T/out"
expect_in "$T/out" "chat-server stopped"
tui_check_asan
