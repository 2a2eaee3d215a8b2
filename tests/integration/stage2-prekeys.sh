# Prekeys as stage 2 uses them, through the real programs:
#   - two senders racing for the last one-time prekey of a device: one gets
#     it, the other a bundle without (the signed prekey alone), and the
#     device reads both; the key it used is gone from its home for good;
#   - a device with no one-time prekeys left is still reachable (signed
#     prekey only), and the server's log says so;
#   - a signed prekey that does not verify (a forged bundle) is refused:
#     nothing is sent.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol dave
expect_exit 0 ctl alice create bob
ab=$(cat "$T/out")
expect_exit 0 ctl carol create bob
cb=$(cat "$T/out")

# has_opk of the newest envelope for USER from SENDER: byte 38 of a 0x22 form.
has_opk() {
	server_sql "SELECT $(sql_hex 'substr(i.ciphertext, 1, 1)') || ':' ||
		$(sql_hex 'substr(i.ciphertext, 38, 1)') FROM inbox i JOIN messages m USING (message_id)
		WHERE i.\"user\" = '$1' AND m.sender_user = '$2' AND m.kind = 'message'
		ORDER BY i.id DESC LIMIT 1"
}

# ---- the race: bob keeps one one-time prekey on the server.
stop_server
server_sql "DELETE FROM one_time_prekeys WHERE \"user\" = 'bob' AND prekey_id <>
	(SELECT min(prekey_id) FROM one_time_prekeys WHERE \"user\" = 'bob')"
last=$(server_sql "SELECT prekey_id FROM one_time_prekeys WHERE \"user\" = 'bob'")
restart_server
ctl alice send "$ab" "alice races" >"$T/a.out" 2>"$T/a.err" &
a=$!
ctl carol send "$cb" "carol races" >"$T/c.out" 2>"$T/c.err" &
c=$!
wait $a || fail "alice's send: $(cat "$T/a.err")"
wait $c || fail "carol's send: $(cat "$T/c.err")"
forms="$(has_opk bob alice) $(has_opk bob carol)"
case "$forms" in
"22:01 22:00" | "22:00 22:01") ;;
*) fail "not one prekey message with the one-time prekey and one without: $forms" ;;
esac
[ "$(server_sql "SELECT count(*) FROM one_time_prekeys WHERE \"user\" = 'bob'")" -eq 0 ] ||
	fail "the last one-time prekey is still on the server"
grep -q "prekeys: bob/1 exhausted" "$T/server.log" || fail "the server did not log bob's exhaustion"
[ "$(sqlite3 "$T/bob/store.db" "SELECT count(*) FROM one_time_prekeys WHERE id = $last")" -eq 1 ] ||
	fail "bob's home lacks the secret of one-time prekey $last"
expect_exit 0 ctl bob recv
expect_in "$T/out" "alice races"
expect_in "$T/out" "carol races"
# Used: its secret is gone from bob's home (a second message naming it cannot
# start another session from it).
[ "$(sqlite3 "$T/bob/store.db" "SELECT count(*) FROM one_time_prekeys WHERE id = $last")" -eq 0 ] ||
	fail "bob's home still holds one-time prekey $last"
expect_exit 0 ctl bob send "$ab" "bob to alice"
expect_exit 0 ctl alice recv
expect_in "$T/out" "bob to alice"

# ---- a forged signed prekey: dave's, as a hostile server would hand it out.
expect_exit 0 ctl alice create dave
ad=$(cat "$T/out")
stop_server
server_sql "UPDATE signed_prekeys SET prekey = (SELECT prekey FROM signed_prekeys
	WHERE \"user\" = 'carol') WHERE \"user\" = 'dave'"
restart_server
ctl alice send "$ad" "for dave" >"$T/out" 2>"$T/err" && fail "a send under a forged signed prekey succeeded"
expect_in "$T/err" "does not verify"
[ "$(server_sql "SELECT count(*) FROM inbox WHERE \"user\" = 'dave'")" -eq 0 ] ||
	fail "something was sent to dave"
stop_server
exit 0
