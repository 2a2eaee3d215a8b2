# A long outbox goes out in the order written, and messages written while it
# goes out come after it. bob knows the group from its chat update but has
# pinned no key yet, so each of his 200 pending messages first asks the
# server for keys; the first answer pins them, and new messages, which then
# need no question, must still wait for the older ones instead of overtaking
# them (chaos.sh found they did not).
. "$(dirname "$0")/lib.sh"
# 300 sends and as many key requests at once, past the default rate limit:
# the refused ones go again in their place (rate-limit.sh).
start_server
register alice bob
expect_exit 0 ctl alice create --name order bob
chat=$(cat "$T/out")
expect_exit 0 ctl bob recv
stop_server

N=200
send() {
	printf '{"jsonrpc":"2.0","id":%d,"method":"send","params":{"chat":"%s","text":"m%d"}}\n' \
		"$1" "$chat" "$1"
}
# rpc and its input through a FIFO: two jobs, which lib.sh stops on a failure.
mkfifo "$T/in"
"$CHATCTL" --home "$T/bob" --server "$URL" rpc <"$T/in" >"$T/rpc.out" 2>"$T/rpc.err" &
(
	n=1
	while [ $n -le $N ]; do send $n; n=$((n + 1)); done
	while [ ! -e "$T/up" ]; do sleep 0.01; done
	while [ $n -le $((N + 100)) ]; do send $n; n=$((n + 1)); sleep 0.01; done
) >"$T/in" &
# The first N wait in the outbox while the server is down.
pending() {
	"$CHATCTL" --home "$T/bob" --json history "$chat" >"$T/hist" 2>/dev/null &&
		[ "$(jq '[.[] | select(.state == "pending")] | length' "$T/hist")" -eq $N ]
}
wait_until 20 'the sends did not reach the outbox: $(cat "$T/rpc.err")' pending
start_server "$port"
: >"$T/up"
answered() { [ "$(grep -c '"result"' "$T/rpc.out")" -eq $((N + 100)) ]; }
wait_until 60 'not all answered: $(grep -c "\"result\"" "$T/rpc.out") of $((N + 100))' answered
expect_exit 0 "$CHATCTL" --home "$T/bob" --json history "$chat"
jq -r '.[] | select(.type == "message") | .text' "$T/out" >"$T/order"
seq 1 $((N + 100)) | sed 's/^/m/' >"$T/written"
cmp -s "$T/order" "$T/written" ||
	fail "numbered out of the order written: $(paste -s "$T/order" | cut -c1-400)"
exit 0
