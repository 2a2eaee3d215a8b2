# rpc's methods for the commands it lacked before (members, lastseen,
# privacy, verify, deviceList, deviceApprove, deviceRemove, download, recv):
# each answers with exactly the object chatctl --json prints for the same
# command, and refuses what chatctl refuses.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
printf 'some bytes\n' >"$T/file.txt"
expect_exit 0 ctl bob --json send "$chat" "a file" --attach "$T/file.txt"
m=$(jq -r .messageId "$T/out")
expect_exit 0 ctl alice recv

# rpc REQUESTS...: alice's rpc answers, one line each, into $T/rpc.out.
rpc() {
	printf '%s\n' "$@" | ctl alice rpc >"$T/rpc.out" 2>"$T/rpc.err" ||
		fail "rpc exited $?: $(cat "$T/rpc.err")"
}
r() { grep "\"id\":$1[,}]" "$T/rpc.out" | head -n 1; }
# same ID FILE: the result of request ID is FILE's JSON, key for key.
same() {
	[ "$(r "$1" | jq -S .result)" = "$(jq -S . "$2")" ] ||
		fail "request $1: $(r "$1") is not chatctl's $(cat "$2")"
}

expect_exit 0 ctl alice --json members "$chat";  cp "$T/out" "$T/members.json"
expect_exit 0 ctl alice --json lastseen bob;     cp "$T/out" "$T/seen.json"
expect_exit 0 ctl alice --json verify bob;       cp "$T/out" "$T/verify.json"
expect_exit 0 ctl alice --json device list;      cp "$T/out" "$T/devices.json"
rpc '{"jsonrpc":"2.0","id":1,"method":"members","params":{"chat":"'"$chat"'"}}' \
	'{"jsonrpc":"2.0","id":2,"method":"lastseen","params":{"user":"bob"}}' \
	'{"jsonrpc":"2.0","id":3,"method":"verify","params":{"user":"bob"}}' \
	'{"jsonrpc":"2.0","id":4,"method":"deviceList"}' \
	'{"jsonrpc":"2.0","id":5,"method":"download","params":{"message":"'"$m"'","out":"'"$T/got.txt"'"}}' \
	'{"jsonrpc":"2.0","id":6,"method":"privacy","params":{"hideTyping":true}}' \
	'{"jsonrpc":"2.0","id":7,"method":"privacy","params":{"hideLastSeen":"on"}}' \
	'{"jsonrpc":"2.0","id":8,"method":"privacy"}' \
	'{"jsonrpc":"2.0","id":9,"method":"deviceRemove","params":{"deviceId":1}}' \
	'{"jsonrpc":"2.0","id":10,"method":"download","params":{"message":"'"$m"'","index":2}}' \
	'{"jsonrpc":"2.0","id":11,"method":"recv"}' \
	'{"jsonrpc":"2.0","id":12,"method":"membres","params":{"chat":"@bob"}}'
same 1 "$T/members.json"
same 2 "$T/seen.json"
same 3 "$T/verify.json"
same 4 "$T/devices.json"
[ "$(r 5 | jq -c .result)" = "[{\"index\":1,\"path\":\"$T/got.txt\"}]" ] || fail "download: $(r 5)"
cmp -s "$T/got.txt" "$T/file.txt" || fail "the download differs"
expect_exit 0 ctl alice --json privacy --hide-typing on
same 6 "$T/out"
[ "$(r 7 | jq -r .error.code)" = -32602 ] || fail "a string for a boolean: $(r 7)"
r 7 | grep -q "params.hideLastSeen must be true or false" || fail "$(r 7)"
[ "$(r 8 | jq -r .error.code)" = -32602 ] || fail "privacy with nothing: $(r 8)"
# The last device is not removed unless forced, as with chatctl.
[ "$(r 9 | jq -r .error.code)" = 2 ] || fail "removing the last device: $(r 9)"
r 9 | grep -q "last device" || fail "$(r 9)"
[ "$(r 10 | jq -r .error.code)" = 4 ] || fail "a file that is not there: $(r 10)"
[ "$(r 11 | jq -c .result)" = '{"drained":true}' ] || fail "recv: $(r 11)"
r 12 | grep -q "did you mean 'members'" || fail "no hint: $(r 12)"

# whoami and trust, as the commands print them.
expect_exit 0 ctl alice --json whoami;     cp "$T/out" "$T/whoami.json"
expect_exit 0 ctl alice --json trust bob;  cp "$T/out" "$T/trust.json"
rpc '{"jsonrpc":"2.0","id":1,"method":"whoami"}' \
	'{"jsonrpc":"2.0","id":2,"method":"trust","params":{"user":"bob"}}'
same 1 "$T/whoami.json"
same 2 "$T/trust.json"

# history: as chatctl history --json, an edited message with its edits.
expect_exit 0 ctl alice --json send "$chat" "teh typo"
typo=$(jq -r .messageId "$T/out")
expect_exit 0 ctl alice edit "$chat" "$typo" "the typo"
expect_exit 0 ctl alice --json history "$chat"
cp "$T/out" "$T/history.json"
jq -e '.[] | select(.edits | length == 1)' "$T/history.json" >/dev/null ||
	fail "no edits in history: $(cat "$T/history.json")"
rpc '{"jsonrpc":"2.0","id":1,"method":"history","params":{"chat":"'"$chat"'"}}'
same 1 "$T/history.json"

# Group calls answer as chatctl --json does: create the chat object, add,
# rename (and remove, promote, demote, describe) the members object, leave
# {chatId, left}.
register carol
rpc '{"jsonrpc":"2.0","id":1,"method":"create","params":{"users":["bob"],"name":"g"}}'
g=$(r 1 | jq -r .result.chatId)
[ "$(r 1 | jq -r .result.kind)" = group ] || fail "create: $(r 1)"
expect_exit 0 ctl alice --json chats
jq -c "select(.chatId == \"$g\")" "$T/out" >"$T/chat.json" 2>/dev/null ||
	jq -c ".[] | select(.chatId == \"$g\")" "$T/out" >"$T/chat.json"
[ "$(r 1 | jq -S -c '.result | del(.lastActivity, .unread)')" = \
	"$(jq -S -c 'del(.lastActivity, .unread)' "$T/chat.json")" ] ||
	fail "create: $(r 1) is not chats' $(cat "$T/chat.json")"
rpc '{"jsonrpc":"2.0","id":2,"method":"add","params":{"chat":"'"$g"'","users":["carol"]}}' \
	'{"jsonrpc":"2.0","id":3,"method":"rename","params":{"chat":"'"$g"'","name":"h"}}'
expect_exit 0 ctl alice --json members "$g"
same 3 "$T/out"
[ "$(r 2 | jq -r '.result.participants | length')" = 3 ] || fail "add: $(r 2)"
expect_exit 0 ctl bob recv
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"leave","params":{"chat":"'"$g"'"}}' |
	ctl bob rpc >"$T/rpc.out" 2>"$T/rpc.err" || fail "bob's rpc: $(cat "$T/rpc.err")"
[ "$(r 1 | jq -c .result)" = "{\"chatId\":\"$g\",\"left\":true}" ] || fail "leave: $(r 1)"

# A new device approved through rpc, listed, then removed through rpc.
ctl alice2 --json device link alice >"$T/link.out" 2>"$T/link.err" &
link=$!
wait_until 20 'no link code: $(cat "$T/link.err")' grep -q '"code"' "$T/link.out"
code=$(head -n 1 "$T/link.out" | jq -r .code)
rpc '{"jsonrpc":"2.0","id":1,"method":"deviceApprove","params":{"code":"'"$code"'","historyDays":"30"}}' \
	'{"jsonrpc":"2.0","id":2,"method":"deviceApprove","params":{"code":"'"$code"'","historyDays":0}}'
[ "$(r 1 | jq .error.code)" = -32602 ] || fail "historyDays as a string: $(r 1)"
[ "$(r 2 | jq -c .result)" = '{"user":"alice","deviceId":2}' ] || fail "approve: $(r 2)"
wait $link || fail "link: $(cat "$T/link.err")"
# historyDays 0: alice's chats stay hers (with the default, 30 days of them
# would follow: history-sync.sh; alice's recv sends what her outbox holds).
expect_exit 0 ctl alice recv
expect_exit 0 ctl alice2 --json recv
expect_not_in "$T/out" "historySync"
expect_exit 0 ctl alice2 --json chats
[ "$(jq length "$T/out")" = 0 ] || fail "alice2 got chats with historyDays 0: $(cat "$T/out")"
expect_exit 0 ctl alice --json device list
cp "$T/out" "$T/devices.json"
rpc '{"jsonrpc":"2.0","id":1,"method":"deviceList"}' \
	'{"jsonrpc":"2.0","id":2,"method":"deviceRemove","params":{"deviceId":2}}'
same 1 "$T/devices.json"
[ "$(jq '.devices | length' "$T/devices.json")" = 2 ] || fail "devices: $(cat "$T/devices.json")"
[ "$(r 2 | jq -c .result)" = '{"deviceId":2,"removed":true}' ] || fail "remove: $(r 2)"
exit 0
