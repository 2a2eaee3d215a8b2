# An application with its own poll loop (chat-tui, a bot) drives libchat only
# from chat_client_fd(): connecting, authenticating, sending and receiving
# must all wake that descriptor.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")

"$PROBE" fd-recv "$T/bob" 2 >"$T/bob.out" 2>"$T/bob.err" &
bob=$!
expect_exit 0 "$PROBE" fd-send "$T/alice" "$chat" "polled one"
expect_exit 0 "$PROBE" fd-send "$T/alice" "$chat" "polled two"
wait $bob || fail "fd-recv: $(cat "$T/bob.err")"
expect_in "$T/bob.out" "message polled one"
expect_in "$T/bob.out" "message polled two"
# Received through the poll loop means stored and acked like any other.
expect_exit 0 ctl bob recv
[ -s "$T/out" ] && fail "messages came again: $(cat "$T/out")"
expect_exit 0 ctl bob history "$chat"
[ "$(count_lines "$T/out")" -eq 2 ] || fail "history: $(cat "$T/out")"
