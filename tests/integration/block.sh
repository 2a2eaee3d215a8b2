# Blocking (issue 14): bob blocks alice from one device; his other device
# learns it (pushed while online, fetched after being offline); nothing of
# alice's (messages, receipts, typing, group adds, last seen) reaches either
# of bob's devices, though her sends succeed; bob cannot write to her; the
# list survives a server restart; unblocking lets new messages through,
# in a group too (whose sender key moved on meanwhile).
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol
link_device bob2 bob bob phone
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
expect_exit 0 ctl alice send "$chat" "hello 1"
expect_exit 0 ctl bob recv
expect_in "$T/out" "hello 1"
expect_exit 0 ctl bob2 recv
expect_exit 0 ctl bob send "$chat" "hi back"
expect_exit 0 ctl alice recv
expect_exit 0 ctl bob recv # alice's delivered receipt: bob's message is delivered
expect_exit 0 ctl carol --json create --name club alice bob
g=$(jq -r .chatId "$T/out")
expect_exit 0 ctl alice send "$g" "group 1"
for h in bob bob2 carol; do
	expect_exit 0 ctl $h recv
	expect_in "$T/out" "group 1"
done

# bob2 is online (rpc): it is told of the change as it happens.
mkfifo "$T/in"
"$CHATCTL" --home "$T/bob2" --server "$URL" rpc <"$T/in" >"$T/rpc.out" 2>"$T/rpc.err" &
rpc=$!
exec 3>"$T/in"
wait_until 10 'rpc never came online: $(cat "$T/rpc.err")' grep -q '"online"' "$T/rpc.out"

# Bad input: clear errors, nothing changed.
expect_exit 2 ctl bob block bob;     expect_in "$T/err" "yourself"
expect_exit 2 ctl bob block 'Bad!';  expect_in "$T/err" "not a valid user name"
expect_exit 4 ctl bob block nobody;  expect_in "$T/err" "unknown_user"
expect_exit 0 ctl bob --json blocked
[ "$(cat "$T/out")" = "[]" ] || fail "blocked before: $(cat "$T/out")"

# Waiting in bob/1's inbox when he blocks her: his client drops it.
expect_exit 0 ctl alice send "$chat" "sent before the block"
before=$(cat "$T/out")
# bob2 has it (and may have sent its delivered receipt) before the block.
wait_until 10 'bob2 never got it: $(cat "$T/rpc.out")' grep -q 'sent before the block' "$T/rpc.out"
expect_exit 0 ctl bob block alice
expect_in "$T/out" "blocked alice"
expect_exit 0 ctl bob block alice # again: no error, no change
expect_exit 0 ctl bob --json blocked
[ "$(jq -c . "$T/out")" = '["alice"]' ] || fail "blocked: $(cat "$T/out")"
expect_exit 0 ctl bob blocked
[ "$(cat "$T/out")" = "alice" ] || fail "blocked text: $(cat "$T/out")"
wait_until 10 'bob2 was not told: $(cat "$T/rpc.out")' grep -q '"method":"blocked".*"alice"' "$T/rpc.out"

# alice's sends still succeed; nothing reaches bob's devices, and the server
# keeps nothing for them.
expect_exit 0 ctl alice send "$chat" "while blocked"
expect_exit 0 ctl alice send "$g" "group while blocked"
expect_exit 0 ctl alice typing "$chat"
expect_exit 0 ctl alice read "$chat" # a read receipt for "hi back"
[ "$(server_sql "SELECT count(*) FROM inbox i JOIN messages m USING (message_id)
	WHERE i.\"user\" = 'bob' AND m.sender_user = 'alice' AND m.message_id != '$before'")" -eq 0 ] ||
	fail "the server kept rows from alice for bob"
expect_exit 0 ctl bob --json recv
expect_not_in "$T/out" "while blocked"
expect_not_in "$T/out" "sent before the block"
[ "$(server_sql "SELECT count(*) FROM inbox WHERE \"user\" = 'bob' AND device_id = 1")" -eq 0 ] ||
	fail "bob/1 did not ack what he dropped"
expect_exit 0 ctl bob --json history "$chat"
expect_not_in "$T/out" "while blocked"
[ "$(jq -r '.[] | select(.text == "hi back") | .state' "$T/out")" = delivered ] ||
	fail "alice's read receipt reached bob: $(cat "$T/out")"
expect_exit 0 ctl carol recv
expect_in "$T/out" "group while blocked"
sleep 0.5
expect_not_in "$T/rpc.out" "while blocked"
expect_not_in "$T/rpc.out" '"method":"typing"'

# alice cannot add bob to a group; carol, whom bob did not block, can.
expect_exit 4 ctl alice create --name party bob carol
expect_in "$T/err" "blocked"
expect_in "$T/err" "bob"
expect_exit 0 ctl carol --json create --name party2 alice
g2=$(jq -r .chatId "$T/out")
expect_exit 4 ctl alice add "$g2" bob # alice is not its admin... make her one first
expect_exit 0 ctl carol promote "$g2" alice
expect_exit 4 ctl alice add "$g2" bob
expect_in "$T/err" "blocked"
expect_exit 0 ctl carol add "$g2" bob

# bob reads the chat on bob2, which has "sent before the block": no read
# receipt goes to alice (whether bob2's delivered receipt beat the block is
# a race this test does not care about).
expect_exit 0 ctl bob2 read "$chat"
expect_exit 0 ctl alice recv
expect_exit 0 ctl alice --json history "$chat"
case "$(jq -r '.[] | select(.text == "sent before the block") | .state' "$T/out")" in
sent | delivered) ;;
*) fail "a read receipt reached alice: $(cat "$T/out")" ;;
esac

# Neither sees the other's last seen.
expect_exit 0 ctl alice lastseen bob
expect_in "$T/out" "bob: hidden"
expect_exit 0 ctl bob lastseen alice
expect_in "$T/out" "alice: hidden"

# bob cannot write to alice (in the group he can).
expect_exit 4 ctl bob send "$chat" "to alice"
expect_in "$T/err" "you blocked alice"
expect_in "$T/err" "chatctl unblock alice"
expect_exit 0 ctl bob --json history "$chat"
expect_not_in "$T/out" "to alice"
expect_exit 0 ctl bob send "$g" "bob to the club"

# The list outlives a restart of the server.
exec 3>&-
wait "$rpc"
restart_server
expect_exit 0 ctl bob --json blocked
[ "$(jq -c . "$T/out")" = '["alice"]' ] || fail "blocked after restart: $(cat "$T/out")"

# An offline device catches up when it connects: bob blocks carol while
# bob2 is away; bob2 learns it on its next connection.
expect_exit 0 ctl bob2 create carol
cc=$(cat "$T/out")
expect_exit 0 ctl bob block carol
expect_exit 0 ctl bob2 send "$cc" "not known there yet"
expect_exit 0 ctl bob2 recv
expect_exit 4 ctl bob2 send "$cc" "no"
expect_in "$T/err" "you blocked carol"
expect_exit 0 ctl bob2 unblock carol
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob --json blocked
[ "$(jq -c . "$T/out")" = '["alice"]' ] || fail "after bob2's unblock: $(cat "$T/out")"

# Unblocked: what alice sends from now on arrives, direct and in the group;
# what she sent meanwhile stays lost.
expect_exit 0 ctl bob unblock alice
expect_in "$T/out" "unblocked alice"
expect_exit 0 ctl alice send "$chat" "after unblock"
expect_exit 0 ctl alice send "$g" "group after unblock"
for h in bob bob2; do
	expect_exit 0 ctl $h --json recv
	expect_in "$T/out" "after unblock"
	expect_not_in "$T/out" "while blocked"
done
# The group's message may need its sender key again (a status 3 receipt,
# then alice's next message carries it), as after any loss.
if ! grep -q "group after unblock" "$T/out"; then
	expect_exit 0 ctl alice recv
	expect_exit 0 ctl alice send "$g" "group again"
	expect_exit 0 ctl bob2 --json recv
	expect_in "$T/out" "group again"
fi
expect_exit 0 ctl bob send "$chat" "talking again"
expect_exit 0 ctl alice recv
expect_in "$T/out" "talking again"
stop_server
exit 0
