# A send retried with the same message id (its reply was lost) gets the same
# answer and is stored once; the same id elsewhere is refused.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
expect_exit 0 ctl alice create carol
chat2=$(cat "$T/out")
mid=0123456789abcdef0123456789abcdef
nonce=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
ct=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
frame() {
	printf '{"id":%s,"type":"sendMessage","chatId":"%s","messageId":"%s","envelopes":[{"user":"%s","deviceId":1,"nonce":"%s","ciphertext":"%s"}]}\n' \
		"$1" "$2" "$mid" "$3" "$nonce" "$ct"
}
{ frame 5 "$chat" bob; frame 6 "$chat" bob; frame 7 "$chat2" carol; } |
	"$PROBE" raw --home "$T/alice" "$URL" >"$T/raw.out" 2>&1 || fail "probe: $(cat "$T/raw.out")"
r5=$(grep '"id":5' "$T/raw.out") || fail "no reply to the first send: $(cat "$T/raw.out")"
r6=$(grep '"id":6' "$T/raw.out") || fail "no reply to the retry"
[ "$(echo "$r5" | jq -r .ok)" = true ] || fail "first send: $r5"
[ "$(echo "$r6" | jq -r .ok)" = true ] || fail "retry refused: $r6"
[ "$(echo "$r5" | jq -c '[.seq, .sentAt, .messageId]')" = "$(echo "$r6" | jq -c '[.seq, .sentAt, .messageId]')" ] ||
	fail "retry answered differently: $r5 / $r6"
grep '"id":7' "$T/raw.out" | grep -q duplicate_message_id || fail "same id in another chat: $(grep '"id":7' "$T/raw.out")"
[ "$(server_sql "SELECT count(*) FROM messages WHERE message_id='$mid'")" -eq 1 ] || fail "message stored twice"
[ "$(server_sql "SELECT count(*) FROM inbox WHERE message_id='$mid'")" -eq 1 ] || fail "inbox row stored twice"

# That envelope is garbage to bob: reported once and taken (poison-envelope.sh),
# still once although it was sent twice.
expect_exit 0 ctl bob recv
[ "$(grep -c "could not be decrypted" "$T/err")" = 1 ] || fail "reported: $(cat "$T/err")"
[ "$(server_sql "SELECT count(*) FROM inbox WHERE message_id='$mid'")" -eq 0 ] ||
	fail "undecryptable message was not acked"
