# At first contact with a user, the server cannot slip in a device of its own
# beside the user's real ones: the listing must lead back, approval by
# approval, to the user's one first device (or, once that is removed, to
# the one key it had). A message from a user's second device to someone who
# never saw that user is checked against the whole listing. The server plays
# its part by way of its database, edited by hand.
. "$(dirname "$0")/lib.sh"
start_server
register alice carol dave erin
link_device phone alice alice phone
pins() { sqlite3 "$T/$1/store.db" "SELECT count(*) FROM peers WHERE user='alice'"; }
inbox() {
	server_sql "SELECT count(*) FROM inbox WHERE \"user\"='alice' AND device_id=$1"
}
# forge ID: a device of the server's own for alice, approved by a key of its own.
forge() {
	forged=$("$PROBE" forge-device alice) || fail "forge-device"
	set -- $forged
	server_sql "INSERT INTO devices (\"user\", device_id, name, identity_key,
		exchange_key, exchange_key_sig, created_at, approver_key, approval)
		VALUES ('alice', $ID, 'forged', $(sql_bytes $1), $(sql_bytes $2), $(sql_bytes $3), 0,
			$(sql_bytes $4), $(sql_bytes $5))" ||
		fail "server_sql"
}

ID=3 forge
expect_exit 5 ctl carol create alice
expect_in "$T/err" "alice's device 3 is approved by a key that does not lead back to alice's first device"
[ "$(pins carol)" = 0 ] || fail "carol pinned some of a listing she refused"
[ "$(inbox 3)" = 0 ] || fail "something was encrypted to the server's device"

# Without it, the listing is taken, and both real devices get carol's message.
server_sql "DELETE FROM devices WHERE \"user\"='alice' AND device_id=3" || fail "server_sql"
expect_exit 0 ctl carol create alice
expect_exit 0 ctl carol send @alice "hello both"
[ "$(inbox 1)" = 1 ] && [ "$(inbox 2)" = 1 ] || fail "alice's devices got $(inbox 1) and $(inbox 2)"

# A message from alice's phone to erin, who never saw alice: erin's device
# asks for alice's whole listing before it takes the phone's keys.
expect_exit 0 ctl phone create erin
expect_exit 0 ctl phone send @erin "from the phone"
expect_exit 0 ctl erin recv
expect_in "$T/out" "alice: from the phone"
[ "$(pins erin)" = 2 ] || fail "erin pinned $(pins erin) of alice's devices"

# alice's first device goes. A new contact still gets to her: every chain
# ends at the one key of the device removed.
expect_exit 0 ctl phone device remove 1 --force
expect_exit 0 ctl dave create alice
expect_exit 0 ctl dave send @alice "to the phone"
expect_exit 0 ctl phone recv
expect_in "$T/out" "dave: to the phone"
# But not beside a device approved by another key.
ID=4 forge
register frank
expect_exit 5 ctl frank create alice
expect_in "$T/err" "does not lead back to alice's first device"
[ "$(pins frank)" = 0 ] || fail "frank pinned some of a listing he refused"
