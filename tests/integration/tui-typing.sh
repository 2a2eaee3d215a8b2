# chat-tui and typing: another user's typing shows in the open chat's header
# ("typing…"; in a group, who: "bob and carol typing…") and goes when they
# stop; typing in chat-tui tells the other side (seen by chatctl listen), and a /command typed does not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register bob
tui_start alice 100x30 --user alice
tui_wait alice "[online] alice"
expect_exit 0 ctl bob create alice
c=$(cat "$T/out")
expect_exit 0 ctl bob send "$c" "hello alice"
tui_wait alice "1 bob (1)"
tui_keys alice Tab
tui_wait alice "bob: hello alice"
# A session both ways: typing never starts one.
tui_type alice "hi"
tui_keys alice Enter
tui_wait alice "alice: hi (sent)"
expect_exit 0 ctl bob recv

expect_exit 0 ctl bob typing "$c"
tui_wait alice "typing…"
expect_exit 0 ctl bob typing --stop "$c"
tui_wait_gone alice "typing…"

"$CHATCTL" --home "$T/bob" --server "$URL" --json listen >"$T/listen.out" 2>"$T/listen.err" &
listener=$!
wait_until 10 'listen never came online' grep -q '"state":"online"' "$T/listen.out"
tui_type alice "/help"
sleep 0.5
grep -q '"type":"typing"' "$T/listen.out" && fail "a /command was told as typing"
tui_keys alice C-u
# One typing a chat a second is relayed: past the second since the last.
sleep 1.1
tui_type alice "writing"
wait_until 10 'bob did not see alice typing: $(cat "$T/listen.out")' grep -q '"user":"alice"' "$T/listen.out"
kill "$listener"
wait "$listener" 2>/dev/null

# A group's header says who is typing, two at once too.
register carol
expect_exit 0 ctl bob --json create --name trip alice carol
g=$(jq -r .chatId "$T/out")
expect_exit 0 ctl bob send "$g" "plans?"
tui_keys alice C-u
tui_type alice "/open trip"
tui_keys alice Enter
tui_wait alice "bob: plans?"
# carol writes first: typing goes only where a session is.
expect_exit 0 ctl carol recv
expect_exit 0 ctl carol send "$g" "count me in"
tui_wait alice "carol: count me in"
expect_exit 0 ctl bob typing "$g"
tui_wait alice "bob typing…"
expect_exit 0 ctl carol typing "$g"
tui_wait alice "bob and carol typing…"
expect_exit 0 ctl bob typing --stop "$g"
tui_wait alice "carol typing…"
tui_wait_gone alice "bob and carol"
tui_check_asan alice
exit 0
