# The group scenario end to end: three users, alice on two devices, talk in a
# group live and after being offline, change its membership, and every device
# sees exactly what it should.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol

# alice's phone joins her account.
link_device phone alice alice phone

expect_exit 0 ctl alice create --name "trip" bob carol
g=$(cat "$T/out")

# Live: the phone and carol listen while bob writes.
ctl phone --json recv --wait 6 >"$T/phone.out" 2>"$T/phone.err" &
phone=$!
ctl carol --json recv --wait 6 >"$T/carol.out" 2>"$T/carol.err" &
carol=$!
i=0
while [ "$(grep -c "auth device=phone\|auth device=alice/2\|auth device=carol" "$T/server.log")" -lt 2 ]; do
	i=$((i + 1)); [ $i -gt 100 ] && fail "listeners never connected"; sleep 0.05
done
sleep 0.3
expect_exit 0 ctl bob send "$g" "live to the group"
i=0
while ! grep -q "live to the group" "$T/phone.out" || ! grep -q "live to the group" "$T/carol.out"; do
	i=$((i + 1)); [ $i -gt 100 ] && fail "not delivered live"; sleep 0.05
done
wait $phone || fail "phone recv: $(cat "$T/phone.err")"
wait $carol || fail "carol recv: $(cat "$T/carol.err")"

# Offline: the laptop was away the whole time; it gets the group and bob's message.
expect_exit 0 ctl alice --json recv
expect_in "$T/out" '"operation":"create"'
expect_in "$T/out" "live to the group"

# alice writes from the phone; her laptop shows it as hers, the others as alice's.
expect_exit 0 ctl phone send "$g" "from alice's phone"
expect_exit 0 ctl alice --json recv
[ "$(jq -r 'select(.text == "from alice'"'"'s phone") | "\(.outgoing) \(.senderDevice)"' "$T/out")" = "true 2" ] ||
	fail "laptop view: $(cat "$T/out")"
for u in bob carol; do
	expect_exit 0 ctl $u recv
	expect_in "$T/out" "alice: from alice's phone"
done

# carol is removed; after that, only alice's two devices and bob hear anything.
expect_exit 0 ctl alice remove "$g" carol
expect_exit 0 ctl bob send "$g" "carol is gone"
expect_exit 0 ctl carol --json recv
expect_in "$T/out" '"operation":"remove"'
expect_not_in "$T/out" "carol is gone"
for d in alice phone; do
	expect_exit 0 ctl $d --json recv
	expect_in "$T/out" "carol is gone"
done
# Each device's history is in the server's one order, the same on both of alice's.
expect_exit 0 ctl alice --json history "$g"
jq -r '.[].messageId' "$T/out" > "$T/laptop.ids"
expect_exit 0 ctl phone --json history "$g"
jq -r '.[].messageId' "$T/out" > "$T/phone.ids"
cmp -s "$T/laptop.ids" "$T/phone.ids" ||
	fail "alice's devices disagree: $(paste "$T/laptop.ids" "$T/phone.ids")"
[ "$(count_lines "$T/laptop.ids")" -eq 5 ] || fail "expected 5 events: $(cat "$T/laptop.ids")"
