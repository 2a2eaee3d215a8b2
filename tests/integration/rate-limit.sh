# Rate limits: one device that floods the server with requests gets
# rate_limited replies (with retryAfterMs) once its burst is spent, the server
# logs that at most once a second, and other users are not slowed down.
# The raw probe paces its lines (about 10 a second), so the limit here is
# 2 requests a second (burst 8) for the flood to exceed it.
. "$(dirname "$0")/lib.sh"
SERVER_OPTS="--rate 2"
start_server
register alice bob carol
expect_exit 0 ctl carol create bob
chat=$(cat "$T/out")

n=40
i=1
while [ $i -le $n ]; do
	echo "{\"id\":$i,\"type\":\"getKeys\",\"users\":[\"bob\"]}"
	i=$((i + 1))
done > "$T/in"
"$PROBE" raw --home "$T/alice" --wait 300 "$URL" < "$T/in" > "$T/raw.out" 2>&1 &
probe=$!

# While alice floods, carol and bob work normally.
sleep 1
expect_exit 0 ctl carol send "$chat" "while alice floods"
expect_exit 0 ctl bob recv
expect_in "$T/out" "while alice floods"
kill -0 $probe 2>/dev/null || fail "the flood ended before the other users were checked"
wait $probe || fail "probe: $(cat "$T/raw.out")"

# reply ID: alice's reply to request ID.
reply() { jq -c "select(.id == $1)" "$T/raw.out" 2>/dev/null; }

[ "$(grep -c '"id":' "$T/raw.out")" -ge $n ] || fail "replies missing: $(cat "$T/raw.out")"
for id in 1 2 3 4 5 6; do
	[ "$(reply $id | jq -r .ok)" = true ] || fail "request $id (within the burst): $(reply $id)"
done
limited=$(grep -c '"code":"rate_limited"' "$T/raw.out")
ok=$(grep -c '"users":\[' "$T/raw.out")
[ "$limited" -ge 10 ] || fail "only $limited of $n requests rate_limited"
[ "$ok" -gt 8 ] || fail "no request got through after the burst ($ok ok)"
[ $((ok + limited)) -eq $n ] || fail "$ok ok + $limited limited != $n"
first=$(grep '"code":"rate_limited"' "$T/raw.out" | head -n 1)
echo "$first" | jq -e '.ok == false and .error.retryAfterMs >= 1 and .error.retryAfterMs <= 500' \
	>/dev/null || fail "rate_limited reply: $first"
echo "$first" | grep -q 'too many requests; retry in [0-9]* ms' || fail "message: $first"

# The log: a few lines, not one per refused request.
lines=$(grep -c "rate limited device=alice/1" "$T/server.log")
[ "$lines" -ge 1 ] && [ "$lines" -lt 10 ] || fail "$lines rate-limit log lines"
expect_not_in "$T/server.log" "code=rate_limited"

# Acks are limited too, never dropped silently: each gets a reply.
{
	i=1
	while [ $i -le 20 ]; do
		echo "{\"id\":$i,\"type\":\"ack\",\"messageIds\":[]}"
		i=$((i + 1))
	done
} | "$PROBE" raw --home "$T/alice" --wait 300 "$URL" > "$T/ack.out" 2>&1 || fail "probe acks"
[ "$(grep -c '"id":[0-9]' "$T/ack.out")" -ge 20 ] || fail "ack replies missing: $(cat "$T/ack.out")"
grep -q '"code":"rate_limited"' "$T/ack.out" || fail "no ack was rate_limited: $(cat "$T/ack.out")"

# A send the server only asked to slow down is not lost, nor reordered:
# libchat sends it again after retryAfterMs, with everything behind it held
# back (the server refuses all until then), so a burst of sends lands whole,
# once each, in the order written.
i=1
while [ $i -le 15 ]; do
	echo "{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"send\",\"params\":{\"chat\":\"$chat\",\"text\":\"burst $i\"}}"
	i=$((i + 1))
done | ctl carol rpc > "$T/rpc.out" 2>&1 || fail "rpc: $(cat "$T/rpc.out")"
[ "$(grep -c '"result"' "$T/rpc.out")" -eq 15 ] || fail "not every send succeeded: $(cat "$T/rpc.out")"
grep -q "rate limited device=carol/1" "$T/server.log" || fail "carol's burst was never limited"
expect_exit 0 "$CHATCTL" --home "$T/carol" --json history "$chat"
[ "$(jq '[.[] | select(.state == "pending" or .state == "failed")] | length' "$T/out")" -eq 0 ] ||
	fail "unsent: $(cat "$T/out")"
expect_exit 0 ctl bob --json recv
[ "$(jq -r 'select(.text | startswith("burst")) | .text' "$T/out" | tr '\n' ,)" = \
  "$(i=1; while [ $i -le 15 ]; do printf 'burst %d,' $i; i=$((i + 1)); done)" ] ||
	fail "bob got, in order: $(jq -r 'select(.text | startswith("burst")) | .text' "$T/out" | tr '\n' ,)"
