# recv and history show each message's id (its first 8 hex digits in text,
# all of it in JSON), and download takes such a prefix; an ambiguous or
# unknown one gets an error that says so.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
echo "the report" > "$T/report.txt"
expect_exit 0 ctl alice send "$chat" "see attached" --attach "$T/report.txt"
id=$(cat "$T/out")

expect_exit 0 ctl bob recv
short=$(printf '%.8s' "$id")
expect_in "$T/out" " $short alice: see attached"
expect_exit 0 ctl bob history "$chat"
expect_in "$T/out" " $short alice: see attached"
expect_exit 0 ctl bob --json history "$chat"
[ "$(jq -r '.[0].messageId' "$T/out")" = "$id" ] || fail "JSON id: $(cat "$T/out")"

# The prefix as shown is enough.
expect_exit 0 ctl bob download "$short"
cmp "$(cat "$T/out")" "$T/report.txt" || fail "downloaded file differs"

# Unknown and malformed prefixes.
expect_exit 4 ctl bob download ffff0000ffff
expect_in "$T/err" "no message ffff0000ffff... in this device's store"
expect_not_in "$T/err" "recv it first"
expect_exit 2 ctl bob download xyz
expect_in "$T/err" "not a message id"

# Two messages that share a prefix: the prefix is ambiguous, more digits are not.
expect_exit 0 ctl alice send "$chat" "second"
id2=$(cat "$T/out")
expect_exit 0 ctl bob recv
sqlite3 "$T/bob/store.db" "UPDATE messages SET message_id = 'abcd' || substr(message_id, 5)
	WHERE message_id IN ('$id', '$id2');
	UPDATE attachments SET message_id = 'abcd' || substr(message_id, 5)
	WHERE message_id = '$id';" || fail "cannot edit bob's store"
expect_exit 2 ctl bob download abcd
expect_in "$T/err" "'abcd' matches more than one message; give more digits"
expect_exit 0 ctl bob download --out "$T/again.txt" "abcd$(printf '%s' "$id" | cut -c5-12)"
cmp "$T/again.txt" "$T/report.txt" || fail "downloaded file differs"
