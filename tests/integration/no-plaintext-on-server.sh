# The server never sees plaintext: after a message is sent and while it waits
# in the inbox, neither the database (with its WAL; on PostgreSQL, a dump of
# the test's database) nor the log contains it.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
canary="canary-7f3a9 the eagle lands at midnight"
expect_exit 0 ctl alice send "$chat" "$canary"
expect_exit 0 ctl alice send "$chat" "second $canary"

# While it waits for bob, in every file the server wrote.
for f in "$T"/server.db*; do
	grep -aqF "eagle lands" "$f" && fail "plaintext in $f"
done
grep -aqF "eagle lands" "$T/server.log" && fail "plaintext in the server log"
server_dump >"$T/dump" || fail "cannot dump the store"
grep -q "inbox" "$T/dump" || fail "the dump lacks the inbox: $(head -c 500 "$T/dump")"
grep -aqF "eagle lands" "$T/dump" && fail "plaintext in the dump"
# There is something in the inbox, so the check above was not vacuous.
[ "$(server_sql "SELECT count(*) FROM inbox")" -eq 2 ] || fail "inbox rows"

# bob decrypts it, so it really was the message.
expect_exit 0 ctl bob recv
expect_in "$T/out" "$canary"
stop_server
for f in "$T"/server.db*; do
	grep -aqF "eagle lands" "$f" && fail "plaintext in $f after delivery"
done
server_dump | grep -aqF "eagle lands" && fail "plaintext in the dump after delivery"
exit 0
