# End-to-end encryption stage 2 through the real programs: a first message
# starts a session from the recipient's prekey bundle (a prekey message,
# 0x22, which uses up one one-time prekey on the server), the answer and
# everything after are Double Ratchet messages (0x21), and no envelope of
# stage 2 carries a nonce. Then the directory's side: a device that stops
# publishing prekeys (a stage-1 client) is refused with a clear error.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
# bob published his prekeys when he registered (his first session).
opks() {
	server_sql "SELECT count(*) FROM one_time_prekeys WHERE \"user\" = '$1'"
}
before=$(opks bob)
[ "$before" -ge 20 ] || fail "bob has $before one-time prekeys on the server"

# The form byte of the newest envelope waiting for USER.
form() {
	server_sql "SELECT $(sql_hex 'substr(ciphertext, 1, 1)') || ':' ||
		coalesce(CAST(length(nonce) AS TEXT), 'none') FROM inbox WHERE \"user\" = '$1'
		ORDER BY id DESC LIMIT 1"
}
expect_exit 0 ctl alice send "$chat" "first, from alice"
[ "$(form bob)" = "22:none" ] || fail "alice's first envelope is $(form bob), not a prekey message"
[ "$(opks bob)" -eq $((before - 1)) ] || fail "one-time prekeys: $(opks bob), want $((before - 1))"
expect_exit 0 ctl alice send "$chat" "second, before bob answers"
[ "$(form bob)" = "22:none" ] || fail "alice's second envelope is $(form bob): it must start the session too"
[ "$(opks bob)" -eq $((before - 1)) ] || fail "the second message took another one-time prekey"

expect_exit 0 ctl bob recv
expect_in "$T/out" "first, from alice"
expect_in "$T/out" "second, before bob answers"
expect_exit 0 ctl bob send "$chat" "bob answers"
[ "$(form alice)" = "21:none" ] || fail "bob's answer is $(form alice), not a ratchet message"
expect_exit 0 ctl alice recv
expect_in "$T/out" "bob answers"
expect_exit 0 ctl alice send "$chat" "alice again"
[ "$(form bob)" = "21:none" ] || fail "after the answer alice still sends $(form bob)"
expect_exit 0 ctl bob recv
expect_in "$T/out" "alice again"

# The sessions live in each home's store, one per peer device.
n=$(sqlite3 "$T/alice/store.db" "SELECT count(*) FROM dr_sessions WHERE user = 'bob'")
[ "$n" -eq 1 ] || fail "alice holds $n sessions with bob"

# A peer device with no signed prekey (a stage-1 client) cannot be written to:
# the send is refused, says why, and the message stays in the store as failed.
register carol
stop_server
server_sql "DELETE FROM one_time_prekeys WHERE \"user\" = 'carol';
	DELETE FROM signed_prekeys WHERE \"user\" = 'carol'"
restart_server
expect_exit 0 ctl alice create carol
chat2=$(cat "$T/out")
ctl alice send "$chat2" "to an old client" >"$T/out" 2>"$T/err" && fail "a send to a stage-1 device succeeded"
expect_in "$T/err" "end-to-end encryption stage 1"
expect_in "$T/err" "carol needs to update it"
stop_server
exit 0
