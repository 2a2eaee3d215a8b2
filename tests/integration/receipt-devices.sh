# Receipts do not give away their kind or size: a delivered receipt goes to
# exactly the devices a read receipt goes to (every trusted device of the
# message's sender, and the receiver's own other devices), and every envelope
# is padded, so a receipt of one id, a short text and a longer one look alike
# on the server.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
link_device tablet bob bob tablet

expect_exit 0 ctl alice create bob
c=$(cat "$T/out")
expect_exit 0 ctl alice send "$c" "hi"
expect_exit 0 ctl alice send "$c" "a longer text, but still well under two hundred and fifty-six bytes"

# The devices the server holds envelopes of a receipt for, as user/device lines.
receipt_devices() {
	server_sql "SELECT \"user\" || '/' || device_id FROM inbox WHERE message_id = '$1'
		ORDER BY \"user\", device_id"
}
receipts() {
	server_sql "SELECT message_id FROM messages WHERE kind = 'receipt'
		AND sender_user = 'bob' AND sender_device = 1 ORDER BY sent_at, message_id"
}

# bob's first device stores both messages: it owes alice delivered receipts
# (one batch as a rule; two if the messages came more than the batching delay
# apart, as on a loaded machine: the test holds for each).
expect_exit 0 ctl bob recv
receipts > "$T/delivered-ids"
[ -s "$T/delivered-ids" ] || fail "no delivered receipt"
# Then he reads them: a read receipt.
expect_exit 0 ctl bob read "$c"
expect_exit 0 ctl bob recv
receipts | grep -vxF -f "$T/delivered-ids" > "$T/read-ids"
[ "$(wc -l < "$T/read-ids")" = 1 ] || fail "one read receipt expected: $(cat "$T/read-ids")"
read=$(cat "$T/read-ids")

receipt_devices "$read" > "$T/read"
[ -s "$T/read" ] || fail "the read receipt went nowhere"
for delivered in $(cat "$T/delivered-ids"); do
	receipt_devices "$delivered" > "$T/delivered"
	cmp -s "$T/delivered" "$T/read" ||
		fail "delivered went to $(cat "$T/delivered" | tr '\n' ' '), read to $(cat "$T/read" | tr '\n' ' ')"
done
grep -qx "bob/2" "$T/delivered" || fail "bob's tablet got no delivered receipt: $(cat "$T/delivered")"

# One envelope length for the receipts and both texts (one bucket: 256 + the
# tag), once the session's headers are left out: a ratchet message (0x21)
# has 41 bytes of them, a prekey message (0x22) 82 (PROTOCOL.md). Which of
# the two an envelope is, the server may see: not what it holds.
lengths=$(server_sql "SELECT DISTINCT length(ciphertext) -
	CASE $(sql_hex 'substr(ciphertext, 1, 1)') WHEN '21' THEN 41 WHEN '22' THEN 82 ELSE 0 END
	FROM inbox WHERE ciphertext IS NOT NULL")
[ "$lengths" = 272 ] || fail "envelope lengths differ: $(echo $lengths)"

# The tablet takes the delivered receipt of its own user's device without fuss
# (it says nothing new), and the read one marks the messages read there too.
expect_exit 0 ctl tablet --json recv
[ "$(ctl tablet --json history "$c" | jq -r '[.[] | .state] | unique | join(",")')" = read ] ||
	fail "tablet's history: $(ctl tablet --json history "$c")"
stop_server
