# examples/daemon-bot on chatctl daemon: alice's "!ping" gets "pong" and
# "!time" the time, each as a reply quoting her message; other texts and
# the bot's own messages get nothing; a message that came while the bot
# was not connected is in the daemon's history; SIGTERM stops the bot
# with 0, and the bot exits 1 when the daemon goes.
. "$(dirname "$0")/lib.sh"
BOT=$BIN/examples/daemon-bot
[ -x "$BOT" ] || fail "$BOT is not built (make builds examples/)"
expect_exit 2 "$BOT"
expect_in "$T/err" "usage: daemon-bot SOCKET"
expect_exit 1 "$BOT" "$T/nothing.sock"

start_server
register alice bot
expect_exit 0 ctl alice create bot
chat=$(cat "$T/out")
SOCK=$T/bot.sock
"$CHATCTL" --home "$T/bot" --server "$URL" daemon --socket "$SOCK" 2>"$T/daemon.err" &
daemon=$!
wait_until 30 'no daemon: $(cat "$T/daemon.err")' grep -q "listening on" "$T/daemon.err"

# Before the bot connects: stored by the daemon all the same.
expect_exit 0 ctl alice --json send "$chat" "before any bot"
early=$(jq -r .messageId "$T/out")
"$BOT" "$SOCK" >"$T/bot.out" 2>"$T/bot.err" &
bot=$!
wait_until 20 'the bot never subscribed: $(cat "$T/bot.err")' grep -q subscribed "$T/bot.err"

expect_exit 0 ctl alice --json send "$chat" "!ping"
ping=$(jq -r .messageId "$T/out")
expect_exit 0 ctl alice --json send "$chat" "just talk"
expect_exit 0 ctl alice --json send "$chat" "!time"
timeq=$(jq -r .messageId "$T/out")
: >"$T/got"
# answers N: alice has N of the bot's messages.
answers() {
	ctl alice --json recv >>"$T/got" 2>>"$T/recv.err" || return 1
	[ "$(jq -r 'select(.type == "message" and .sender == "bot") | .text' "$T/got" | wc -l)" -ge "$1" ]
}
wait_until 30 'no answers: $(cat "$T/bot.err" "$T/got")' answers 2
sleep 1
answers 2 || true
[ "$(jq -r 'select(.sender == "bot") | .text' "$T/got" | wc -l)" = 2 ] ||
	fail "answered other texts too: $(cat "$T/got")"
[ "$(jq -r "select(.sender == \"bot\" and .replyTo.id == \"$ping\") | .text" "$T/got")" = pong ] ||
	fail "no pong quoting !ping: $(cat "$T/got")"
jq -r "select(.sender == \"bot\" and .replyTo.id == \"$timeq\") | .text" "$T/got" |
	grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC$' ||
	fail "no time quoting !time: $(cat "$T/got")"
# The bot's own messages (outgoing notifications) are not answered.
grep -q "call failed" "$T/bot.err" && fail "$(cat "$T/bot.err")"

# What came before the bot: in the history, through the same daemon.
echo '{"jsonrpc":"2.0","id":1,"method":"history","params":{"chat":"@alice","limit":50}}' |
	"$BIN/tests/rpc-client" "$SOCK" >"$T/h.out" || fail "history"
jq -r '.result[].messageId' "$T/h.out" | grep -qx "$early" || fail "lost: $(cat "$T/h.out")"

# Through a restart of the server: the daemon reconnects as listen does, and
# the bot, connected to the daemon all along, answers again.
restart_server
expect_exit 0 ctl alice --json send "$chat" "!ping"
ping2=$(jq -r .messageId "$T/out")
pong2() {
	ctl alice --json recv >>"$T/got" 2>>"$T/recv.err" || return 1
	[ "$(jq -r "select(.sender == \"bot\" and .replyTo.id == \"$ping2\") | .text" "$T/got")" = pong ]
}
wait_until 60 'no pong after the restart: $(cat "$T/bot.err" "$T/daemon.err")' pong2

kill -TERM "$bot"
wait "$bot" || fail "the bot exited $? on SIGTERM: $(cat "$T/bot.err")"
"$BOT" "$SOCK" >/dev/null 2>"$T/bot2.err" &
bot=$!
wait_until 20 'the bot never subscribed again' grep -q subscribed "$T/bot2.err"
kill -TERM "$daemon"
wait "$daemon" || fail "the daemon exited $?: $(cat "$T/daemon.err")"
wait "$bot"
[ $? = 1 ] || fail "the bot did not exit 1 without its daemon"
expect_in "$T/bot2.err" "the daemon went away"
exit 0
