# Group administration end to end (issue 14): several admins (promote,
# demote, never none), rename and describe by admins only, each change an
# event in the chat's history on every member device, one of them offline
# while it happens and catching up across a server restart.
. "$(dirname "$0")/lib.sh"
start_server
port=${URL##*:}
port=${port%%/*}
register alice bob carol dave

# carol's phone joins her account.
link_device phone carol carol phone

expect_exit 0 ctl alice create --name "club" bob carol
g=$(cat "$T/out")
for d in alice bob carol phone; do
	expect_exit 0 ctl $d recv
done

# Only admins change admins, members, the name or the description.
expect_exit 4 ctl bob add "$g" dave
expect_in "$T/err" "not_admin"
expect_exit 4 ctl carol promote "$g" carol
expect_in "$T/err" "not_admin"
expect_exit 4 ctl carol rename "$g" "carol's club"
expect_in "$T/err" "not_admin"
expect_exit 4 ctl carol describe "$g" "mine now"
expect_in "$T/err" "not_admin"

# alice makes bob an admin; bob, an admin now, adds dave.
expect_exit 0 ctl alice promote "$g" bob
expect_in "$T/out" "bob (admin)"
expect_exit 4 ctl alice promote "$g" bob
expect_in "$T/err" "already_admin"
expect_exit 0 ctl bob add "$g" dave
expect_in "$T/out" "dave"
expect_exit 4 ctl bob promote "$g" erin
expect_in "$T/err" "unknown_user"

# bob takes alice's admin away; he is the last admin and cannot go.
expect_exit 0 ctl bob demote "$g" alice
expect_exit 0 ctl bob --json members "$g"
[ "$(jq -c '[.participants[] | select(.admin) | .user]' "$T/out")" = '["bob"]' ] ||
	fail "admins after demote: $(cat "$T/out")"
expect_exit 4 ctl bob demote "$g" bob
expect_in "$T/err" "last_admin"
expect_exit 4 ctl bob demote "$g" carol
expect_in "$T/err" "not_an_admin"
expect_exit 4 ctl alice demote "$g" bob
expect_in "$T/err" "not_admin"

# Rename and describe (the description has two lines); bad ones are refused
# before they leave.
expect_exit 0 ctl bob rename "$g" "book club"
desc=$(printf 'we read books\nthursdays at 8')
expect_exit 0 ctl bob describe "$g" "$desc"
expect_exit 2 ctl bob rename "$g" ""
long=$(printf '%065d' 0)
expect_exit 2 ctl bob rename "$g" "$long"
expect_exit 2 ctl bob describe "$g" "$(printf 'bell\007')"

# A direct chat has no admins, name or description.
expect_exit 0 ctl alice create bob
direct=$(cat "$T/out")
expect_exit 4 ctl alice promote "$direct" bob
expect_in "$T/err" "direct chat"
expect_exit 4 ctl alice rename "$direct" "us"
expect_in "$T/err" "direct chat"

# The server restarts; carol's phone, offline all along, catches up.
restart_server
expect_exit 0 ctl phone --json recv
jq -r 'select(.type == "chatUpdate") | .operation' "$T/out" | tr '\n' ' ' >"$T/ops"
[ "$(cat "$T/ops")" = "promote add demote rename describe " ] ||
	fail "phone's updates: $(cat "$T/ops")"
[ "$(jq -r 'select(.operation == "rename") | .name' "$T/out")" = "book club" ] ||
	fail "rename update: $(cat "$T/out")"
[ "$(jq -r 'select(.operation == "describe") | .description' "$T/out")" = "$desc" ] ||
	fail "describe update: $(cat "$T/out")"
[ "$(jq -c 'select(.operation == "demote") | [.actor, .users, .admins]' "$T/out")" = \
	'["bob",["alice"],["bob"]]' ] || fail "demote update: $(cat "$T/out")"

# Every member's devices show the events in order, and the group as it is.
for d in alice bob carol dave phone; do
	expect_exit 0 ctl $d recv
	expect_exit 0 ctl $d history "$g"
	grep -o 'alice made bob an admin\|bob added dave\|bob removed alice as admin\|bob renamed the group to "book club"\|bob changed the description' \
		"$T/out" | tr '\n' '|' >"$T/events"
	if [ $d = dave ]; then
		want='bob added dave|bob removed alice as admin|bob renamed the group to "book club"|bob changed the description|'
	else
		want='alice made bob an admin|bob added dave|bob removed alice as admin|bob renamed the group to "book club"|bob changed the description|'
	fi
	[ "$(cat "$T/events")" = "$want" ] || fail "$d's history: $(cat "$T/out")"
	expect_exit 0 ctl $d --json members "$g"
	[ "$(jq -r .name "$T/out")" = "book club" ] || fail "$d's name: $(cat "$T/out")"
	[ "$(jq -r .description "$T/out")" = "$desc" ] || fail "$d's description: $(cat "$T/out")"
done
# The history's JSON has the events as updates with their seqs in order.
expect_exit 0 ctl phone --json history "$g"
jq -e '[.[] | select(.type == "chatUpdate") | .seq] | . == sort and length == 6' "$T/out" >/dev/null ||
	fail "phone's history JSON: $(cat "$T/out")"
expect_exit 0 ctl carol members "$g"
expect_in "$T/out" "description: we read books"

# Removing the description is a change too.
expect_exit 0 ctl bob describe "$g" ""
expect_exit 0 ctl carol recv
expect_in "$T/out" "bob removed the description"
expect_exit 0 ctl carol --json members "$g"
[ "$(jq -r .description "$T/out")" = "" ] || fail "description not removed: $(cat "$T/out")"

# The same through rpc: bob (an admin) promotes carol and renames; dave (not
# one) is refused with the server's code; carol's phone hears both as events.
cat > "$T/in" <<IN
{"jsonrpc":"2.0","id":1,"method":"promote","params":{"chat":"$g","users":["carol"]}}
{"jsonrpc":"2.0","id":2,"method":"rename","params":{"chat":"$g","name":"readers"}}
{"jsonrpc":"2.0","id":3,"method":"describe","params":{"chat":"$g","description":"all welcome"}}
IN
(cat "$T/in"; sleep 1) | ctl bob rpc >"$T/out" 2>"$T/err" || fail "rpc: $(cat "$T/err")"
r() { grep "\"id\":$1[,}]" "$T/out" | head -n 1; }
for i in 1 2 3; do
	[ "$(r $i | jq -r .result.chatId)" = "$g" ] || fail "rpc $i: $(cat "$T/out")"
done
printf '{"jsonrpc":"2.0","id":1,"method":"demote","params":{"chat":"%s","users":["bob"]}}\n' "$g" |
	ctl dave rpc >"$T/out" 2>"$T/err"
[ "$(r 1 | jq -r .error.code)" = 4 ] || fail "dave's demote: $(cat "$T/out")"
expect_in "$T/out" "not_admin"
expect_exit 0 ctl phone --json recv
[ "$(jq -r 'select(.type == "chatUpdate") | .operation' "$T/out" | tr '\n' ' ')" = "describe promote rename describe " ] ||
	fail "phone after rpc: $(cat "$T/out")"
printf '{"jsonrpc":"2.0","id":1,"method":"chats"}\n' | ctl phone rpc >"$T/out" 2>"$T/err"
[ "$(r 1 | jq -r ".result[] | select(.chatId == \"$g\") | .name + \"/\" + .description")" = "readers/all welcome" ] ||
	fail "phone's chats: $(cat "$T/out")"

# Live: dave listens while bob renames; the event comes as it happens, in
# text, and a description that starts with a dash is text, not an option.
ctl dave listen >"$T/listen.out" 2>"$T/listen.err" &
listener=$!
wait_until 10 'dave never connected: $(cat "$T/listen.err")' \
	grep -q "auth device=dave/1 via=auth$" "$T/server.log"
sleep 0.3
expect_exit 0 ctl bob rename "$g" "climbers"
expect_exit 0 ctl bob describe "$g" "-- rules: none --"
wait_until 10 'listen showed: $(cat "$T/listen.out")' \
	grep -q 'bob changed the description to "-- rules: none --"' "$T/listen.out"
expect_in "$T/listen.out" 'bob renamed the group to "climbers"'
kill $listener
wait $listener 2>/dev/null || :
