# Typing indicators: end-to-end encrypted, relayed by the server to the
# devices connected at the time and stored nowhere; shown by listen (text and
# JSON) and rpc; rate-limited; turned off both ways by a privacy setting.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
# A session both ways first: typing never starts one.
expect_exit 0 ctl alice send "$chat" "hi"
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob send "$chat" "hi back"
expect_exit 0 ctl alice recv

"$CHATCTL" --home "$T/bob" --server "$URL" --json listen >"$T/listen.out" 2>"$T/listen.err" &
listener=$!
wait_until 10 'listen never came online: $(cat "$T/listen.err")' grep -q '"state":"online"' "$T/listen.out"
expect_exit 0 ctl alice typing "$chat"
wait_until 10 'no typing event: $(cat "$T/listen.out")' grep -q '"type":"typing"' "$T/listen.out"
[ "$(grep '"type":"typing"' "$T/listen.out" | jq -r '"\(.user) \(.deviceId) \(.typing) \(.chatId)"')" = \
	"alice 1 true $chat" ] || fail "typing event: $(cat "$T/listen.out")"
expect_exit 0 ctl alice typing --stop "$chat"
wait_until 10 'no stop event' grep -q '"typing":false' "$T/listen.out"
# Never stored: nothing for bob in the server's inbox or database but messages.
[ "$(server_sql "SELECT count(*) FROM inbox WHERE \"user\" = 'bob'")" -eq 0 ] ||
	fail "typing left something in bob's inbox"
# Nobody connected: the server relays it to nobody, and keeps nothing.
kill "$listener"
wait "$listener" 2>/dev/null
expect_exit 0 ctl alice --json typing "$chat"
expect_exit 0 ctl bob --json recv
expect_not_in "$T/out" '"type":"typing"'

# The same through rpc, and rpc gets bob's events.
mkfifo "$T/in"
"$CHATCTL" --home "$T/alice" --server "$URL" rpc <"$T/in" >"$T/rpc.out" 2>"$T/rpc.err" &
exec 3>"$T/in"
"$CHATCTL" --home "$T/bob" --server "$URL" --json listen >"$T/listen2.out" 2>&1 &
wait_until 10 'listen never came online' grep -q '"state":"online"' "$T/listen2.out"
wait_until 10 'rpc never came online' grep -q '"online"' "$T/rpc.out"
printf '{"jsonrpc":"2.0","id":1,"method":"typing","params":{"chat":"%s"}}\n' "$chat" >&3
wait_until 10 'rpc typing: $(cat "$T/rpc.out")' grep -q '"id":1' "$T/rpc.out"
grep '"id":1' "$T/rpc.out" | grep -q '"typing":true' || fail "rpc typing reply: $(cat "$T/rpc.out")"
wait_until 10 'bob did not see rpc typing' grep -q '"type":"typing"' "$T/listen2.out"

# Privacy: bob hides typing: he sees none (and sends none).
expect_exit 0 ctl bob privacy --hide-typing on
expect_in "$T/out" "typing hidden"
sleep 1.1 # past the server's one-a-second limit for this connection
printf '{"jsonrpc":"2.0","id":2,"method":"typing","params":{"chat":"%s","typing":0}}\n' "$chat" >&3
wait_until 10 'rpc typing 2' grep -q '"id":2' "$T/rpc.out"
sleep 0.5
[ "$(grep -c '"type":"typing"' "$T/listen2.out")" -eq 1 ] || fail "bob hides typing but saw: $(cat "$T/listen2.out")"
exec 3>&-
stop_server
exit 0
