# Several devices per user: a new device joins only with a code approved on an
# existing one; every device gets every message, including what the user sent
# from another device; removing a device stops delivery to it at once.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
expect_exit 0 ctl bob send "$chat" "before the phone"

# The phone asks to join alice and shows a code; alice approves it on her laptop.
ctl phone --json device link --name phone alice >"$T/link.out" 2>"$T/link.err" &
link=$!
i=0
while ! grep -q '"code"' "$T/link.out"; do
	i=$((i + 1)); [ $i -gt 100 ] && fail "no link code: $(cat "$T/link.err")"; sleep 0.05
done
code=$(head -n 1 "$T/link.out" | jq -r .code)
# 80 random bits the server never sees, in four groups of four.
echo "$code" | grep -Eq '^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$' || fail "code '$code'"
expect_not_in "$T/server.log" "$code"
# Wrong codes, and codes approved by someone else, are refused.
expect_exit 4 ctl alice device approve AAAA-AAAA-AAAA-AAAA; expect_in "$T/err" "invalid_code"
expect_exit 2 ctl alice device approve not-a-code-1
expect_exit 2 ctl alice device approve AAAA-AAAA
expect_exit 4 ctl bob device approve "$code";     expect_in "$T/err" "invalid_code"
# As a person types it: lower case, in its four groups, without dashes.
expect_exit 0 ctl alice device approve $(echo "$code" | tr 'A-Z-' 'a-z ')
wait $link || fail "link: $(cat "$T/link.err")"
[ "$(tail -n 1 "$T/link.out" | jq -r .deviceId)" = 2 ] || fail "phone id: $(cat "$T/link.out")"
expect_exit 0 ctl phone --json whoami
[ "$(jq -r .user "$T/out")" = alice ] || fail "phone is not alice's"
[ "$(stat -c %a "$T/phone/identity.key")" = 600 ] || fail "phone key mode"

expect_exit 0 ctl alice --json device list
[ "$(jq -r '[.devices[].deviceId] | join(",")' "$T/out")" = "1,2" ] || fail "devices: $(cat "$T/out")"
[ "$(jq -r '.devices[] | select(.thisDevice) | .deviceId' "$T/out")" = 1 ] || fail "this device"
expect_exit 0 ctl phone device list
expect_in "$T/out" "phone"

# A message to alice reaches both devices; the phone has nothing from before.
expect_exit 0 ctl bob send "$chat" "to both of you"
# bob's send found a device he had not seen, accepted because alice's laptop
# (which he knows) approved it, and he was told.
expect_in "$T/err" "new device"
expect_exit 0 ctl alice recv
expect_in "$T/out" "to both of you"
expect_exit 0 ctl phone --json recv
expect_in "$T/out" "to both of you"
expect_not_in "$T/out" "before the phone"

# What alice sends on the laptop shows on the phone as sent by her.
expect_exit 0 ctl alice send "$chat" "from the laptop"
expect_exit 0 ctl phone --json recv
line=$(grep "from the laptop" "$T/out") || fail "phone did not get alice's own message"
[ "$(echo "$line" | jq -r .sender)" = alice ] || fail "sender"
[ "$(echo "$line" | jq -r .outgoing)" = true ] || fail "not shown as her own"
[ "$(echo "$line" | jq -r .senderDevice)" = 1 ] || fail "sending device"
expect_exit 0 ctl bob --json recv
expect_in "$T/out" "from the laptop"

# Safety numbers: both sides see the same, and it covers all of alice's devices.
expect_exit 0 ctl alice verify bob; n1=$(cat "$T/out")
expect_exit 0 ctl bob verify alice; n2=$(cat "$T/out")
[ "$n1" = "$n2" ] || fail "safety numbers differ: $n1 / $n2"
echo "$n1" | grep -Eq '^([0-9]{5} ){11}[0-9]{5}$' || fail "safety number form: $n1"

# A third device is fine; a fourth is refused with a way out.
link_device tablet alice phone
expect_exit 4 ctl desk device link alice; expect_in "$T/err" "too_many_devices"
expect_in "$T/err" "device remove"

# The safety number changed with alice's devices.
expect_exit 0 ctl bob verify alice
[ "$(cat "$T/out")" != "$n2" ] || fail "safety number did not change with a new device"

# Removing the phone (from the laptop) stops delivery to it at once.
expect_exit 0 ctl alice device remove 2
expect_exit 0 ctl bob send "$chat" "after the phone"
expect_exit 4 ctl phone recv
expect_exit 0 ctl tablet recv
expect_in "$T/out" "after the phone"
[ "$(server_sql "SELECT count(*) FROM inbox WHERE \"user\"='alice' AND device_id=2")" -eq 0 ] ||
	fail "the removed device still has an inbox"
expect_exit 4 ctl alice device remove 2

# A user's last device is not removed without --force: nothing could approve
# a new one. (carol has one device.)
expect_exit 2 ctl carol device remove 1
expect_in "$T/err" "last device"
expect_exit 0 ctl carol whoami

# A device the directory shows without a valid approval is refused by others.
server_sql "UPDATE devices SET approval = $(sql_zeros 64) WHERE \"user\"='alice' AND device_id=3" ||
	fail "server_sql"
expect_exit 5 ctl carol create alice; expect_in "$T/err" "does not verify"
# bob pinned that device while its approval was good: he is not affected.
expect_exit 0 ctl bob send "$chat" "still fine for bob"

# With --force the last device goes, and with it the account's access.
expect_exit 0 ctl carol device remove 1 --force
expect_exit 1 ctl carol recv
expect_in "$T/err" "not registered"
