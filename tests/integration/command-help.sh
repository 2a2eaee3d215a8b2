# chatctl CMD --help and chatctl help CMD print that command's usage and
# exit 0, before anything else is checked (no home, no server needed).
. "$(dirname "$0")/lib.sh"
for cmd in send recv history search download outbox retry discard device rpc daemon; do
	expect_exit 0 "$CHATCTL" --home "$T/none" "$cmd" --help
	expect_in "$T/out" "usage: chatctl $cmd "
	cp "$T/out" "$T/help1"
	expect_exit 0 "$CHATCTL" --home "$T/none" help "$cmd"
	cmp -s "$T/out" "$T/help1" || fail "help $cmd differs from $cmd --help"
	[ -s "$T/err" ] && fail "$cmd --help wrote to stderr: $(cat "$T/err")"
done
expect_exit 0 "$CHATCTL" send @bob hi -h
expect_in "$T/out" "usage: chatctl send "
# After --, it is text.
expect_exit 4 "$CHATCTL" --home "$T/none" send @bob -- --help
expect_in "$T/err" "no chat matches"
expect_not_in "$T/out" "usage:"
expect_exit 2 "$CHATCTL" help nosuchcommand
expect_in "$T/err" "unknown command"
