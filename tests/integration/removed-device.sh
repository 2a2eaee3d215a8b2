# A removed device stays removed: when the server lists it again, bob's client
# does not take it back by itself (nothing is encrypted to it, the safety
# number stays as it was after the removal, bob is told and can accept it
# with chatctl trust), and its key approves no device made after it was
# removed. The server plays its part by way of its database, edited by hand.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
expect_exit 0 ctl bob create alice
link_device phone alice alice phone
inbox() {
	server_sql "SELECT count(*) FROM inbox WHERE \"user\"='alice' AND device_id=$1"
}

# bob knows both of alice's devices.
expect_exit 0 ctl bob send @alice "to both"
expect_in "$T/err" "new device"
expect_exit 0 ctl bob verify alice
with_phone=$(cat "$T/out")

# alice removes the phone; bob's next send finds it gone.
expect_exit 0 ctl alice device remove 2
expect_exit 0 ctl bob send @alice "after the removal"
expect_exit 0 ctl bob verify alice
without_phone=$(cat "$T/out")
[ "$with_phone" != "$without_phone" ] || fail "the safety number did not change with the removal"

# A device made after the removal, approved by the phone's key (which the
# server may have got hold of with the phone): refused.
forged=$("$PROBE" forge-device alice "$T/phone") || fail "forge-device"
set -- $forged
server_sql "INSERT INTO devices (\"user\", device_id, name, identity_key, exchange_key,
	exchange_key_sig, created_at, approver_key, approval)
	VALUES ('alice', 3, 'forged', $(sql_bytes $1), $(sql_bytes $2), $(sql_bytes $3), 0,
		$(sql_bytes $4), $(sql_bytes $5))" || fail "server_sql"
expect_exit 5 ctl bob send @alice "to the forged device"
expect_in "$T/err" "alice's device 3 is approved by alice's device 2, which was removed before it was made"
[ "$(inbox 3)" = 0 ] || fail "something was encrypted to the forged device"
server_sql "DELETE FROM devices WHERE \"user\"='alice' AND device_id=3" || fail "server_sql"

# The server brings the phone back, keys and approval as they were.
server_sql "INSERT INTO devices (\"user\", device_id, name, identity_key, exchange_key,
	exchange_key_sig, created_at, approver_key, approval)
	SELECT \"user\", device_id, 'phone', identity_key, exchange_key, exchange_key_sig, created_at,
	approver_key, approval FROM retired_devices WHERE \"user\"='alice' AND device_id=2;
	DELETE FROM retired_devices WHERE \"user\"='alice' AND device_id=2" || fail "server_sql"
before=$(inbox 2)
expect_exit 5 ctl bob send @alice "to the returned phone"
expect_in "$T/err" "alice's device 2 was removed, and the server lists it again"
expect_in "$T/err" "chatctl trust alice"
[ "$(inbox 2)" = "$before" ] || fail "something was encrypted to the removed phone"
expect_exit 5 ctl bob verify alice
expect_in "$T/err" "alice's device 2 was removed"
expect_not_in "$T/out" "$with_phone"

# bob's word brings it back.
expect_exit 0 ctl bob trust alice
expect_in "$T/out" "accepted"
expect_exit 0 ctl bob send @alice "to the phone, accepted"
[ "$(inbox 2)" -gt "$before" ] || fail "the phone accepted by bob got nothing"
expect_exit 0 ctl bob verify alice
[ "$(cat "$T/out")" = "$with_phone" ] || fail "the safety number is not the phone's again"
