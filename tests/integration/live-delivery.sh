# Live delivery: bob is connected and listening; alice's message reaches him
# while he waits, end to end encrypted, and is acked.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob

expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
[ ${#chat} -eq 16 ] || fail "chat id '$chat'"

ctl bob --json recv --wait 8 >"$T/bob.out" 2>"$T/bob.err" &
bob=$!
# Wait until bob's session is up (the server logs his authentication).
i=0
while ! grep -q "bob" "$T/server.log"; do
	i=$((i + 1)); [ $i -gt 100 ] && fail "bob never connected"; sleep 0.05
done
sleep 0.3
expect_exit 0 ctl alice send "$chat" "hello bob, live"
msgid=$(cat "$T/out")
[ ${#msgid} -eq 32 ] || fail "message id '$msgid'"

# bob prints it as soon as it arrives: poll his output, don't wait for --wait to end.
i=0
while ! grep -q "hello bob, live" "$T/bob.out"; do
	i=$((i + 1)); [ $i -gt 100 ] && fail "bob did not get the message live: $(cat "$T/bob.err")"; sleep 0.05
done
wait $bob || fail "bob's recv failed: $(cat "$T/bob.err")"
line=$(grep "hello bob, live" "$T/bob.out")
[ "$(echo "$line" | jq -r .type)" = message ] || fail "type"
[ "$(echo "$line" | jq -r .chatId)" = "$chat" ] || fail "chatId"
[ "$(echo "$line" | jq -r .messageId)" = "$msgid" ] || fail "messageId"
[ "$(echo "$line" | jq -r .sender)" = alice ] || fail "sender"
[ "$(echo "$line" | jq -r .senderDevice)" = 1 ] || fail "senderDevice"
echo "$line" | jq -r .sentAt | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$' ||
	fail "sentAt is not RFC 3339 UTC: $line"

# And the other way, bob answers in the same chat, found as @alice.
expect_exit 0 ctl bob send @alice "hi alice"
expect_exit 0 ctl alice recv
expect_in "$T/out" "bob: hi alice"
