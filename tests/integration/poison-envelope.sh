# Poison envelopes: a hostile user (mallory, whose keys are valid) puts
# envelopes into bob's inbox that do not decrypt, or decrypt to a malformed
# body, and a receipt that does not decrypt. bob's recv reports each once,
# exits 0 and acks them all, so they do not come back on every connection;
# the next recv is clean, what came after them arrives, and history shows the
# messages as undecryptable.
. "$(dirname "$0")/lib.sh"
start_server
register mallory bob

expect_exit 0 ctl mallory create bob
c=$(cat "$T/out")
# A session first (stage 2): chat-probe seal encrypts with the one mallory's
# home has, as libchat would. bob reads it, so only what follows is unread.
expect_exit 0 ctl mallory send "$c" "first contact"
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob read "$c"

id() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
b64() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
junk='[{"user":"bob","deviceId":1,"nonce":"'$(b64 24)'","ciphertext":"'$(b64 64)'"}]'
m1=$(id) # random bytes: does not decrypt
m2=$(id) # 0x01 and bytes that are not UTF-8
m3=$(id) # a receipt body (0x02) in a message
r1=$(id) # a receipt that does not decrypt
env2=$("$PROBE" seal "$T/mallory" "$c" "$m2" 01fffe41) || fail "seal: $env2"
env3=$("$PROBE" seal "$T/mallory" "$c" "$m3" 0201) || fail "seal: $env3"
cat > "$T/in" <<EOF2
{"id":1,"type":"sendMessage","chatId":"$c","messageId":"$m1","envelopes":$junk}
{"id":2,"type":"sendMessage","chatId":"$c","messageId":"$m2","envelopes":$env2}
{"id":3,"type":"sendMessage","chatId":"$c","messageId":"$m3","envelopes":$env3}
{"id":4,"type":"sendReceipt","chatId":"$c","receiptId":"$r1","envelopes":$junk}
EOF2
"$PROBE" raw --home "$T/mallory" "$URL" < "$T/in" > "$T/raw.out" 2>&1 || fail "probe: $(cat "$T/raw.out")"
[ "$(grep -c '"ok":true' "$T/raw.out")" = 5 ] || fail "the server refused the junk: $(cat "$T/raw.out")"
# And a real message behind them.
expect_exit 0 ctl mallory send "$c" "after the junk"

expect_exit 0 ctl bob recv
expect_in "$T/out" "after the junk"
for m in "$m1" "$m2" "$m3" "$r1"; do
	[ "$(grep -c "$m" "$T/err")" = 1 ] || fail "$m not reported once: $(cat "$T/err")"
done
[ "$(grep -c "could not be decrypted" "$T/err")" = 4 ] || fail "warnings: $(cat "$T/err")"
expect_in "$T/err" "not UTF-8"
# All taken: nothing is left in bob's inbox on the server.
[ "$(server_sql "SELECT count(*) FROM inbox WHERE \"user\" = 'bob'")" = 0 ] ||
	fail "left in bob's inbox: $(server_sql "SELECT message_id FROM inbox WHERE \"user\" = 'bob'")"

# The next recv is clean.
expect_exit 0 ctl bob recv
[ ! -s "$T/out" ] || fail "shown again: $(cat "$T/out")"
[ ! -s "$T/err" ] || fail "reported again: $(cat "$T/err")"

# history keeps the messages (not the receipt) as undecryptable, in their place.
expect_exit 0 ctl bob history "$c"
[ "$(grep -c "\[this message could not be decrypted\]" "$T/out")" = 3 ] || fail "history: $(cat "$T/out")"
tail -n 1 "$T/out" | grep -q "after the junk" || fail "history order: $(cat "$T/out")"
expect_exit 0 ctl bob --json history "$c"
[ "$(jq -r '[.[] | select(.undecryptable == true) | .messageId] | sort | join(" ")' "$T/out")" = \
  "$(printf '%s\n' "$m1" "$m2" "$m3" | sort | tr '\n' ' ' | sed 's/ $//')" ] ||
	fail "history --json: $(cat "$T/out")"
[ "$(jq -r '[.[] | select(.undecryptable == true) | .sender] | unique | join(" ")' "$T/out")" = mallory ] ||
	fail "history --json sender: $(cat "$T/out")"
# Not unread, and no delivered receipt owed for them (only for the real one).
expect_exit 0 ctl bob --json chats
[ "$(jq -r '.[0].unread' "$T/out")" = 1 ] || fail "unread: $(cat "$T/out")"

# With --json, recv tells scripts too.
m4=$(id)
echo '{"id":1,"type":"sendMessage","chatId":"'"$c"'","messageId":"'"$m4"'","envelopes":'"$junk"'}' |
	"$PROBE" raw --home "$T/mallory" "$URL" > "$T/raw.out" 2>&1 || fail "probe: $(cat "$T/raw.out")"
expect_exit 0 ctl bob --json recv
[ "$(jq -r 'select(.undecryptable == true) | "\(.type) \(.messageId) \(.sender)"' "$T/out")" = "message $m4 mallory" ] ||
	fail "recv --json: $(cat "$T/out")"
stop_server
