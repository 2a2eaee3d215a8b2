# chatctl rpc through an outage: sends written while the server is down wait
# for the reconnection the backoff schedules (they do not each knock on the
# server), go out in the order written once it is back, and a send still
# unanswered when input ends is answered with an error and stays pending.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
stop_server

# Once rpc waits to reconnect, 20 sends over a second; then, when told, one
# more and the end of input. Through a FIFO, not a pipe, so that each side
# is a job of its own, which lib.sh stops if the test fails.
mkfifo "$T/in"
"$CHATCTL" --home "$T/alice" --server "$URL" rpc <"$T/in" >"$T/rpc.out" 2>"$T/rpc.err" &
rpc=$!
(
	while [ ! -e "$T/waiting" ]; do sleep 0.05; done
	n=1
	while [ $n -le 20 ]; do
		printf '{"jsonrpc":"2.0","id":%d,"method":"send","params":{"chat":"%s","text":"m%d"}}\n' \
			$n "$chat" $n
		n=$((n + 1))
		sleep 0.05
	done
	while [ ! -e "$T/more" ]; do sleep 0.05; done
	printf '{"jsonrpc":"2.0","id":21,"method":"send","params":{"chat":"%s","text":"late"}}\n' \
		"$chat"
) >"$T/in" &
attempts() { grep -c '"state":"reconnecting"' "$T/rpc.out"; }
attempted() { [ "$(attempts)" -ge "$1" ]; }
wait_until 10 "rpc did not start waiting to reconnect" attempted 1
: >"$T/waiting"
# The backoff: attempts after about 0.5, 1.5 and 3.5 s, whatever is written.
sleep 2.5
[ "$(attempts)" -le 4 ] || fail "$(attempts) connection attempts in 2.5 s: the sends bypass the backoff"
[ "$(grep -c '"result"' "$T/rpc.out")" -eq 0 ] || fail "answered with the server down?"

start_server "$port"
answered() { [ "$(grep -c '"result"' "$T/rpc.out")" -eq 20 ]; }
# At most one backoff step (4 s, +25%) after the server is back, plus slack.
wait_until 10 'the sends were not answered after the server came back: $(tail -n 3 "$T/rpc.out")' \
	answered
expect_exit 0 "$CHATCTL" --home "$T/alice" --json history "$chat"
[ "$(jq -r '[.[].text] | join(",")' "$T/out")" = "$(seq 1 20 | sed 's/^/m/' | paste -sd,)" ] ||
	fail "not in the order written: $(jq -c '[.[].text]' "$T/out")"
[ "$(jq -r '[.[].seq] | join(",")' "$T/out")" = "$(seq 1 20 | paste -sd,)" ] ||
	fail "seqs: $(jq -c '[.[].seq]' "$T/out")"

# Down again; the last send cannot be answered before input ends and the
# grace (10 s) is over: it is answered with an error (3, unreachable), and
# stays pending in the store for the next connection (the error carries it).
before=$(attempts)
stop_server
wait_until 10 "rpc did not notice the server stopping" attempted $((before + 1))
: >"$T/more"
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_until 20 "rpc did not end after its input did" gone $rpc
wait $rpc || fail "rpc exited $?: $(cat "$T/rpc.err")"
[ "$(grep '"id":21' "$T/rpc.out" | jq .error.code)" = 3 ] ||
	fail "the unanswered send: $(grep '"id":21' "$T/rpc.out")"
expect_not_in "$T/rpc.err" "Sanitizer"
expect_exit 0 "$CHATCTL" --home "$T/alice" --json history "$chat"
[ "$(jq -r '.[-1] | "\(.text) \(.state)"' "$T/out")" = "late pending" ] ||
	fail "the late send: $(jq -c '.[-1]' "$T/out")"
# Its error says so, with the message, so that the program does not send it twice.
[ "$(grep '"id":21' "$T/rpc.out" | jq -r '"\(.error.data.messageId) \(.error.data.state)"')" = \
	"$(jq -r '.[-1].messageId' "$T/out") pending" ] ||
	fail "the error does not tell the kept message: $(grep '"id":21' "$T/rpc.out")"
exit 0
