# What stage 2 protects, shown with an attacker who has what it would have:
# envelopes captured from the server's database, and a copy of a device's
# whole home (identity key, prekeys, session states). chat-probe try-open
# runs libchat's own decryption on a captured envelope with a copied home.
#   - forward secrecy: a home copied after the messages were received does
#     not open them; a copy made before does (the attack is real);
#   - healing: a home copied now opens the peer's next message, but once
#     the device has answered with a ratchet key made after the copy (a
#     round trip each way), it opens nothing new;
#   - replay: an envelope sent again under another id is refused, and its
#     message is shown once.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")

# capture USER: "id hex-ciphertext" of every message (not receipt) waiting for USER.
capture() {
	server_sql "SELECT i.message_id || ' ' || $(sql_hex i.ciphertext) FROM inbox i
		JOIN messages m USING (message_id) WHERE i.\"user\" = '$1' AND m.kind = 'message'
		ORDER BY i.id"
}
# try HOME ID HEX: what the copy HOME makes of alice's envelope.
try() {
	"$PROBE" try-open "$T/$1" alice 1 "$chat" "$2" "$3" >"$T/try.out" 2>"$T/try.err"
}
copy_home() {
	rm -rf "$T/$2"
	cp -r "$T/$1" "$T/$2"
}

# A session in both directions first.
expect_exit 0 ctl alice send "$chat" "hello bob"
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob send "$chat" "hello alice"
expect_exit 0 ctl alice recv

# ---- forward secrecy
expect_exit 0 ctl alice send "$chat" "secret one"
expect_exit 0 ctl alice send "$chat" "secret two"
capture bob >"$T/captured"
[ "$(count_lines "$T/captured")" -eq 2 ] || fail "captured $(count_lines "$T/captured") envelopes"
copy_home bob before
expect_exit 0 ctl bob recv
expect_in "$T/out" "secret two"
copy_home bob after
while read -r id hex; do
	try before "$id" "$hex" || fail "the copy made before delivery cannot open $id: $(cat "$T/try.out" "$T/try.err")"
	expect_in "$T/try.out" "opened secret"
	try after "$id" "$hex" && fail "a copy of bob's home made after delivery opened $id: $(cat "$T/try.out")"
	expect_in "$T/try.out" "refused"
done <"$T/captured"

# ---- healing: the attacker copies bob's home now.
copy_home bob stolen
expect_exit 0 ctl alice send "$chat" "still readable"
capture bob >"$T/captured"
read -r id hex <"$T/captured"
try stolen "$id" "$hex" || fail "the stolen home cannot open alice's next message: $(cat "$T/try.out")"
expect_in "$T/try.out" "opened still readable"
# Two more exchanges: alice's answer to bob's message is still under a key
# pair bob made before the copy, so the copy follows it; bob's reading it
# makes his next ratchet key, which the copy never had.
for round in 1 2; do
	expect_exit 0 ctl bob recv
	expect_exit 0 ctl bob send "$chat" "bob, round $round"
	expect_exit 0 ctl alice recv
	expect_in "$T/out" "bob, round $round"
	expect_exit 0 ctl alice send "$chat" "alice, round $round"
done
capture bob >"$T/captured"
read -r id hex <"$T/captured"
try stolen "$id" "$hex" && fail "the stolen home still opens alice's messages after bob's new ratchet key"
expect_in "$T/try.out" "refused"
expect_exit 0 ctl bob recv
expect_in "$T/out" "alice, round 2"

# ---- replay: alice's envelope again, under a new id, through the real server.
expect_exit 0 ctl alice send "$chat" "say it once"
capture bob >"$T/captured"
read -r id hex <"$T/captured"
expect_exit 0 ctl bob recv
expect_in "$T/out" "say it once"
newid=0123456789abcdef0123456789abcdef
b64=$(printf '%s' "$hex" | sed 's/../\\x&/g' | xargs -0 printf '%b' | base64 -w0)
printf '{"id":2,"type":"sendMessage","chatId":"%s","messageId":"%s","envelopes":[{"user":"bob","deviceId":1,"ciphertext":"%s"}]}\n' \
	"$chat" "$newid" "$b64" | "$PROBE" raw --home "$T/alice" --send-only "$URL" >"$T/raw.out" 2>&1
grep -q '"id":2,"ok":true' "$T/raw.out" || fail "the server did not take the replay: $(cat "$T/raw.out")"
expect_exit 0 ctl bob recv
expect_not_in "$T/out" "say it once"
expect_exit 0 ctl bob history "$chat"
[ "$(grep -c "say it once" "$T/out")" -eq 1 ] || fail "the message is shown $(grep -c "say it once" "$T/out") times"
# ...and the session goes on.
expect_exit 0 ctl alice send "$chat" "after the replay"
expect_exit 0 ctl bob recv
expect_in "$T/out" "after the replay"
stop_server
exit 0
