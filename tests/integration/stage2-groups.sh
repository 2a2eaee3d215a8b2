# Groups under stage 2 (sender keys), against an attacker holding a member's
# whole home and every envelope of the chat from the server's database:
#   - a member added later reads nothing sent before it joined (a member
#     who was there reads the same envelope: the attack is real);
#   - a member removed reads nothing sent after, by any sender: each one
#     rotates its sender key when a device that had it has left;
#   - the members who stay read everything, and one sender-key message
#     serves every device (the envelopes differ only in the key they carry).
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol dave
expect_exit 0 ctl alice --json create --name "secrets" bob carol
g=$(jq -r .chatId "$T/out")
for u in bob carol; do expect_exit 0 ctl $u recv; done

# capture SENDER TO: "id hex" of SENDER's newest message waiting for TO.
capture() {
	server_sql "SELECT i.message_id || ' ' || $(sql_hex i.ciphertext) FROM inbox i
		JOIN messages m USING (message_id) WHERE i.\"user\" = '$2' AND m.kind = 'message'
		AND m.sender_user = '$1' ORDER BY i.id DESC LIMIT 1"
}
# opens HOME SENDER ID HEX: exit 0 if HOME reads SENDER's envelope.
opens() {
	"$PROBE" try-open "$T/$1" "$2" 1 "$g" "$3" "$4" >"$T/try.out" 2>"$T/try.err"
}

# The members hold alice's sender key once her first message is in.
expect_exit 0 ctl alice send "$g" "hello group"
for u in bob carol; do expect_exit 0 ctl $u recv; done
expect_exit 0 ctl alice send "$g" "before dave"
read -r id1 hex1 <<EOF2
$(capture alice bob)
EOF2
[ -n "$id1" ] || fail "nothing captured"
# Every device got the same sender-key message: the envelopes for bob and
# carol end the same (their first part, the key each gets, differs).
tail1=$(printf '%s' "$hex1" | tail -c 200)
read -r _ hexc <<EOF2
$(capture alice carol)
EOF2
[ "$(printf '%s' "$hexc" | tail -c 200)" = "$tail1" ] || fail "bob and carol got different messages"
# A copy of carol's home before she reads it (reading uses its key up): it
# reads alice's envelope to bob, with the key carol has.
cp -r "$T/carol" "$T/carol-before"
for u in bob carol; do
	expect_exit 0 ctl $u recv
	expect_in "$T/out" "before dave"
done

# dave joins; alice writes again; dave reads that, and not what came before.
expect_exit 0 ctl alice add "$g" dave
expect_exit 0 ctl alice send "$g" "welcome dave"
expect_exit 0 ctl dave recv
expect_in "$T/out" "welcome dave"
expect_not_in "$T/out" "before dave"
opens carol-before alice "$id1" "$hex1" || fail "carol's home cannot read alice's envelope to bob: $(cat "$T/try.out" "$T/try.err")"
expect_in "$T/try.out" "opened before dave"
opens dave alice "$id1" "$hex1" && fail "dave, added later, read what was sent before: $(cat "$T/try.out")"
expect_in "$T/try.out" "refused"

# carol is removed; alice and bob write on. carol's home, up to date with all
# she could receive, reads none of it; dave, who stays, reads it all.
for u in bob carol; do expect_exit 0 ctl $u recv; done
expect_exit 0 ctl bob send "$g" "bob, while carol is in"
for u in alice carol dave; do expect_exit 0 ctl $u recv; done
expect_exit 0 ctl alice remove "$g" carol
for u in bob carol dave; do expect_exit 0 ctl $u recv; done
for s in alice bob; do
	expect_exit 0 ctl $s send "$g" "$s, after carol"
	read -r id hex <<EOF2
$(capture $s dave)
EOF2
	[ -n "$id" ] || fail "nothing captured from $s"
	opens dave $s "$id" "$hex" || fail "dave cannot read $s's envelope: $(cat "$T/try.out" "$T/try.err")"
	expect_in "$T/try.out" "opened $s, after carol"
	opens carol $s "$id" "$hex" && fail "carol, removed, read $s's message: $(cat "$T/try.out")"
	expect_in "$T/try.out" "refused"
done
[ "$(server_sql "SELECT count(*) FROM inbox WHERE \"user\" = 'carol'")" -eq 0 ] ||
	fail "the server still addresses carol"
for u in alice bob dave; do
	expect_exit 0 ctl $u recv
done
expect_exit 0 ctl dave history "$g"
expect_in "$T/out" "alice, after carol"
expect_in "$T/out" "bob, after carol"
expect_not_in "$T/out" "could not be decrypted"

# A gap past the bound in alice's sender key (2001 of her messages lost):
# dave cannot read the next one and says so; alice gives him her key as it
# is now, and her next message reads.
"$PROBE" skip-group "$T/alice" "$g" 2001 || fail "skip-group"
expect_exit 0 ctl alice send "$g" "after the gap"
expect_exit 0 ctl dave recv
expect_in "$T/err" "more than 2000 messages after"
expect_not_in "$T/out" "after the gap"
expect_exit 0 ctl alice recv
expect_in "$T/out" "could not decrypt"
expect_exit 0 ctl alice send "$g" "dave has my key again"
expect_exit 0 ctl dave recv
expect_in "$T/out" "dave has my key again"
expect_not_in "$T/err" "could not be decrypted"
stop_server
exit 0
