# What one user can make another hold (issue 10, items 12, 14, 26): a message
# needs someone to go to, a recipient's inbox has a quota (the refused send is
# marked failed, naming the recipient), a device's pending and stored blobs
# have quotas, being put into groups by strangers is limited, strangers see
# neither device names nor last seen, and a send-only session is not online.
. "$(dirname "$0")/lib.sh"
SERVER_OPTS="--max-inbox-bytes 2000 --max-pending-blobs 2 --stranger-adds-per-day 3"
start_server
register alice bob mallory

# A group with nobody else in it: nothing is sent, and the user is told.
expect_exit 0 ctl alice create --name solo bob
solo=$(cat "$T/out")
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob leave "$solo"
expect_exit 0 ctl alice recv
expect_exit 2 ctl alice send "$solo" "anyone?"
expect_in "$T/err" "nobody else in this chat"
expect_exit 0 ctl alice --json history "$solo"
[ "$(jq -r '.[] | select(.text == "anyone?") | .state' "$T/out")" = failed ] ||
	fail "not marked failed: $(cat "$T/out")"

# bob's inbox holds 2000 bytes: one message of 1000 fits, a second does not.
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
text=$(head -c 1000 /dev/zero | tr '\0' x)
expect_exit 0 ctl alice send "$chat" "$text"
expect_exit 4 ctl alice send "$chat" "y$text"
expect_in "$T/err" "inbox_full"
expect_in "$T/err" "bob's device 1"
expect_exit 0 ctl alice --json history "$chat"
[ "$(jq -r '.[] | select(.text == "y'"$text"'") | .state' "$T/out")" = failed ] ||
	fail "refused send not marked failed"
# Collected: room again.
expect_exit 0 ctl bob recv
expect_exit 0 ctl alice send "$chat" "z$text"

# Two pending upload targets per device, not three.
for i in 1 2 3; do echo "{\"id\":$i,\"type\":\"getAttachmentTarget\",\"size\":10}"; done |
	"$PROBE" raw --home "$T/alice" --wait 500 "$URL" >"$T/raw" 2>&1 || fail "probe"
[ "$(grep -c '"blobId"' "$T/raw")" -eq 2 ] || fail "targets: $(cat "$T/raw")"
grep '"id":3' "$T/raw" | grep -q quota_exceeded || fail "third target: $(grep '"id":3' "$T/raw")"

# mallory, a stranger to bob, puts him in two groups (alice, a stranger then, put
# him in one); not a third.
expect_exit 0 ctl mallory create --name g1 bob
expect_exit 0 ctl mallory create --name g2 bob
expect_exit 4 ctl mallory create --name g3 bob
expect_in "$T/err" "too_many_group_adds"
expect_in "$T/err" "'bob' was added to 3 groups today"

# Strangers see no last seen and no device names: bob never wrote to mallory.
expect_exit 0 ctl mallory --json lastseen bob
[ "$(jq -c '[.online, .lastSeen]' "$T/out")" = "[null,null]" ] || fail "shown: $(cat "$T/out")"
echo '{"id":1,"type":"getKeys","users":["bob"]}' |
	"$PROBE" raw --home "$T/mallory" --wait 300 "$URL" >"$T/raw" 2>&1 || fail "probe"
[ "$(grep '"id":1,' "$T/raw" | jq -r '.users[0].devices[0].name')" = null ] ||
	fail "device name shown: $(grep '"id":1,' "$T/raw")"
# alice wrote to bob: bob sees hers.
expect_exit 0 ctl bob --json lastseen alice
[ "$(jq -r .lastSeen "$T/out")" != null ] || fail "hidden from a contact: $(cat "$T/out")"

# A send-only session does not make alice online; a receiving one does.
printf '@sleep 1500\n' | "$PROBE" raw --home "$T/alice" --send-only "$URL" >/dev/null 2>&1 &
probe=$!
sleep 0.8
expect_exit 0 ctl bob --json lastseen alice
[ "$(jq -r .online "$T/out")" = false ] || fail "send-only is online: $(cat "$T/out")"
wait $probe
printf '@sleep 1500\n' | "$PROBE" raw --home "$T/alice" "$URL" >/dev/null 2>&1 &
probe=$!
sleep 0.8
expect_exit 0 ctl bob --json lastseen alice
[ "$(jq -r .online "$T/out")" = true ] || fail "receiving is not online: $(cat "$T/out")"
wait $probe
