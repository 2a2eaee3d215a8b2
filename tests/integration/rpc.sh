# chatctl rpc: JSON-RPC 2.0 on stdin/stdout. Commands are methods with results
# or coded errors; what arrives comes out as notifications, acked once written.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
expect_exit 0 ctl bob send "$chat" "waiting for alice"

cat > "$T/in" <<'IN'
{"jsonrpc":"2.0","id":1,"method":"whoami"}
not json
{"jsonrpc":"2.0","id":2,"method":"nope"}
{"jsonrpc":"2.0","id":3,"method":"send","params":{"chat":"@bob","text":"via rpc"}}
{"jsonrpc":"2.0","id":4,"method":"send","params":{"chat":"@bob"}}
{"jsonrpc":"2.0","id":5,"method":"send","params":{"chat":"ffffffffffffffff","text":"nowhere"}}
{"jsonrpc":"2.0","id":6,"method":"create","params":{"users":["nobody"]}}
{"jsonrpc":"2.0","id":7,"method":"history","params":{"chat":"@bob","limit":1}}
IN
# Input stays open a moment so the session can deliver what waits for alice.
(cat "$T/in"; sleep 2) | ctl alice rpc > "$T/out" 2>"$T/err" || fail "rpc exited $?: $(cat "$T/err")"
r() { grep "\"id\":$1[,}]" "$T/out" | head -n 1; }
[ "$(r 1 | jq -r .result.user)" = alice ] || fail "whoami: $(r 1)"
grep -q '"code":-32700' "$T/out" || fail "no parse error: $(cat "$T/out")"
[ "$(r 2 | jq -r .error.code)" = -32601 ] || fail "unknown method: $(r 2)"
[ "$(r 3 | jq -r .result.text)" = "via rpc" ] || fail "send: $(r 3)"
[ "$(r 3 | jq -r .result.state)" = sent ] || fail "send state: $(r 3)"
[ "$(r 4 | jq -r .error.code)" = -32602 ] || fail "missing text: $(r 4)"
[ "$(r 5 | jq -r .error.code)" = 4 ] || fail "no such chat: $(r 5)"
[ "$(r 6 | jq -r .error.code)" = 4 ] || fail "unknown user: $(r 6)"
[ "$(r 7 | jq -r '.result | length')" = 1 ] || fail "history: $(r 7)"
# The message waiting for alice came as a notification, and was acked.
grep '"method":"message"' "$T/out" | jq -e 'select(.params.text == "waiting for alice")' >/dev/null ||
	fail "no message notification: $(cat "$T/out")"
expect_exit 0 ctl alice recv
[ -s "$T/out" ] && fail "notified message was not acked: $(cat "$T/out")"
expect_exit 0 ctl bob recv
expect_in "$T/out" "alice: via rpc"
