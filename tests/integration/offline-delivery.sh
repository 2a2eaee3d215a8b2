# Offline delivery: bob is away while alice writes; everything waits in his
# inbox and arrives, in order, when he comes back. History needs no server.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")

for n in 1 2 3 4 5; do
	expect_exit 0 ctl alice send "$chat" "offline $n"
done
echo "from stdin" | ctl alice send "$chat" - >/dev/null || fail "send from stdin"

expect_exit 0 ctl bob --json recv
[ "$(count_lines "$T/out")" -eq 6 ] || fail "bob got $(count_lines "$T/out") messages: $(cat "$T/out")"
# In server order: seq 1..6, texts in the order sent.
[ "$(jq -r .seq "$T/out" | tr '\n' ' ')" = "1 2 3 4 5 6 " ] || fail "order: $(jq -r .seq "$T/out")"
[ "$(jq -r .text "$T/out" | head -n 1)" = "offline 1" ] || fail "first text"
[ "$(jq -r .text "$T/out" | tail -n 1)" = "from stdin" ] || fail "stdin text (newline stripped)"

# The server going away loses nothing already received: history and chats are local.
stop_server
expect_exit 0 "$CHATCTL" --home "$T/bob" history "$chat"
[ "$(count_lines "$T/out")" -eq 6 ] || fail "bob's history: $(cat "$T/out")"
expect_in "$T/out" "alice: offline 3"
expect_exit 0 "$CHATCTL" --home "$T/bob" --json history "$chat" --limit 2
[ "$(jq length "$T/out")" -eq 2 ] || fail "--limit 2"
[ "$(jq -r '.[1].text' "$T/out")" = "from stdin" ] || fail "--limit keeps the newest"
expect_exit 0 "$CHATCTL" --home "$T/alice" --json history "$chat"
[ "$(jq length "$T/out")" -eq 6 ] || fail "alice's own history"
[ "$(jq -r '.[0].state' "$T/out")" = sent ] || fail "alice's message state"
expect_exit 0 "$CHATCTL" --home "$T/bob" --json chats
[ "$(jq -r '.[0].chatId' "$T/out")" = "$chat" ] || fail "chats"
[ "$(jq -r '.[0].participants | join(",")' "$T/out")" = "alice,bob" ] || fail "participants"
[ "$(jq -r '.[0].messages' "$T/out")" = 6 ] || fail "message count"
