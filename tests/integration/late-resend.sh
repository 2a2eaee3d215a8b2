# A late resend after the retention purge is recognised, not stored twice
# (issue 10, item 3): the purge keeps a tombstone of each message id for a
# second retention period, and libchat gives up on an outbox message older
# than the retention the server announces, so no outbox outlives a tombstone.
# (The server purges when it starts, then every half retention: the restarts
# below are purges at known times.)
. "$(dirname "$0")/lib.sh"
SERVER_OPTS="--retention 4s"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
mid=0123456789abcdef0123456789abcdef
frame() {
	printf '{"id":%s,"type":"sendMessage","chatId":"%s","messageId":"%s","envelopes":[{"user":"bob","deviceId":1,"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}\n' \
		"$1" "$chat" "$mid"
}
frame 5 | "$PROBE" raw --home "$T/alice" "$URL" >"$T/raw1" 2>&1 || fail "probe: $(cat "$T/raw1")"
sent=$(date +%s)
first=$(grep '"id":5' "$T/raw1") || fail "no reply: $(cat "$T/raw1")"
[ "$(echo "$first" | jq -r .ok)" = true ] || fail "first send: $first"
# The hello announces the retention, in ms.
[ "$(grep '"type":"hello"' "$T/raw1" | jq -r .limits.retention)" = 4000 ] ||
	fail "hello: $(grep hello "$T/raw1")"

# Purged unread: the message and its row are gone.
sleep 4.5
restart_server
[ "$(server_sql "SELECT count(*) FROM messages WHERE message_id='$mid'")" -eq 0 ] ||
	fail "not purged"
# Sent again within twice the retention: the first reply, nothing new for bob.
frame 6 | "$PROBE" raw --home "$T/alice" "$URL" >"$T/raw2" 2>&1 || fail "probe: $(cat "$T/raw2")"
again=$(grep '"id":6' "$T/raw2") || fail "no reply: $(cat "$T/raw2")"
[ $(($(date +%s) - sent)) -lt 8 ] || fail "too slow to test the tombstone"
[ "$(echo "$first" | jq -c '[.ok, .seq, .sentAt]')" = "$(echo "$again" | jq -c '[.ok, .seq, .sentAt]')" ] ||
	fail "late resend answered as new: $first / $again"
[ "$(server_sql "SELECT count(*) FROM inbox")" -eq 0 ] || fail "stored again"

# libchat: a message written while the server was away, older than the
# retention when the connection comes, is marked failed and reported, not sent.
stop_server
expect_exit 3 ctl alice send "$chat" "too late"
sleep 4.5
start_server "$port"
expect_exit 0 ctl alice recv
expect_in "$T/err" "expired: not sent within the server's retention of 4 seconds"
expect_exit 0 ctl alice --json history "$chat"
cp "$T/out" "$T/hist"
[ "$(jq -r '.[] | select(.text == "too late") | .state' "$T/out")" = failed ] ||
	fail "not marked failed: $(cat "$T/out")"
expect_exit 0 ctl bob --json recv
expect_not_in "$T/out" "too late"
# Nor can it be sent again by hand.
late=$(jq -r '.[] | select(.text == "too late") | .messageId' "$T/hist")
"$CHATCTL" --home "$T/alice" --server "$URL" retry "$late" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 4 ] || fail "retry of an expired message exited $rc (want 4): $(cat "$T/out" "$T/err")"
expect_in "$T/err" "expired"
# ... not even by a program already online (chatctl rpc).
(sleep 1; printf '{"jsonrpc":"2.0","id":1,"method":"retry","params":{"message":"%s"}}\n' "$late"
	sleep 1) | ctl alice rpc >"$T/out" 2>"$T/err"
grep '"id":1' "$T/out" | grep -q expired || fail "rpc retry: $(cat "$T/out")"
expect_exit 0 ctl bob --json recv
expect_not_in "$T/out" "too late"
# A message still within the retention goes out as before.
stop_server
expect_exit 3 ctl alice send "$chat" "in time"
start_server "$port"
expect_exit 0 ctl alice recv
expect_not_in "$T/err" "expired"
expect_exit 0 ctl bob --json recv
expect_in "$T/out" "in time"

# The tombstone goes a second retention period later (its purge: a restart).
restart_server
[ "$(server_sql "SELECT count(*) FROM message_tombstones WHERE message_id='$mid'")" -eq 0 ] ||
	fail "tombstone kept past twice the retention"
