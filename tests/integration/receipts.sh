# Receipts: when bob's device stores alice's message, alice's devices learn it
# was delivered; when bob reads the chat, they learn it was read, and so do
# bob's other devices. Receipts are end-to-end encrypted like messages, owed
# receipts survive a server that is down, and a group message is delivered
# (read) only once every other member has it (has read it).
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol

# bob's second device (tablet), to see read state follow him across devices.
link_device tablet bob bob tablet

expect_exit 0 ctl alice create bob
c=$(cat "$T/out")
expect_exit 0 ctl alice send "$c" "secret receipt test"
m=$(cat "$T/out")
state() { ctl "$1" --json history "$c" | jq -r --arg m "$m" '.[] | select(.messageId == $m) | .state'; }
[ "$(state alice)" = sent ] || fail "before delivery: $(state alice)"

# bob receives: his device owes alice a delivered receipt and sends it before recv ends.
expect_exit 0 ctl bob --json recv
expect_in "$T/out" "secret receipt test"
expect_exit 0 ctl alice --json recv
[ "$(jq -r 'select(.type == "receipt") | .status' "$T/out")" = delivered ] ||
	fail "alice got no delivered receipt: $(cat "$T/out")"
[ "$(jq -r 'select(.type == "receipt") | "\(.user) \(.messageId) \(.state)"' "$T/out")" = "bob $m delivered" ] ||
	fail "receipt fields: $(cat "$T/out")"
[ "$(state alice)" = delivered ] || fail "after delivery: $(state alice)"

# The server never sees what a receipt says: its rows hold ciphertext only.
server_sql "SELECT kind, CASE WHEN seq IS NULL THEN 1 ELSE 0 END FROM messages WHERE kind = 'receipt'" | grep -q "^receipt|1$" ||
	fail "no receipt row without seq on the server"

# Unread counts, then bob reads the chat.
expect_exit 0 ctl bob --json chats
[ "$(jq -r --arg c "$c" '.[] | select(.chatId == $c) | .unread' "$T/out")" = 1 ] || fail "unread: $(cat "$T/out")"
expect_exit 0 ctl bob --json read "$c"
[ "$(jq -r .marked "$T/out")" = 1 ] || fail "read marked: $(cat "$T/out")"
expect_exit 0 ctl bob --json chats
[ "$(jq -r --arg c "$c" '.[] | select(.chatId == $c) | .unread' "$T/out")" = 0 ] || fail "still unread: $(cat "$T/out")"
expect_exit 0 ctl bob read "$c"
expect_in "$T/out" "0 messages marked read"

# alice learns it was read; bob's tablet gets the message and then learns bob read it.
expect_exit 0 ctl alice --json recv
[ "$(jq -r 'select(.type == "receipt") | "\(.status) \(.state)"' "$T/out")" = "read read" ] ||
	fail "alice got no read receipt: $(cat "$T/out")"
[ "$(state alice)" = read ] || fail "after read: $(state alice)"
expect_exit 0 ctl tablet --json recv
expect_in "$T/out" "secret receipt test"
[ "$(jq -r 'select(.type == "receipt") | "\(.user) \(.status)"' "$T/out")" = "bob read" ] ||
	fail "tablet not told of the read: $(cat "$T/out")"
[ "$(state tablet)" = read ] || fail "tablet state: $(state tablet)"
# Each device of bob's reports for itself: the tablet's delivered receipt, once.
expect_exit 0 ctl alice --json recv
[ "$(jq -r '"\(.user)/\(.deviceId) \(.status) \(.state)"' "$T/out")" = "bob/2 delivered read" ] ||
	fail "tablet's receipt: $(cat "$T/out")"
expect_exit 0 ctl alice --json recv
[ ! -s "$T/out" ] || fail "receipt shown again: $(cat "$T/out")"

# Receipts owed while the server is down are kept, and go out with the next session.
expect_exit 0 ctl alice send "$c" "while you were out"
m=$(cat "$T/out")
expect_exit 0 ctl bob --json recv
stop_server
expect_exit 3 ctl bob read "$c"
expect_in "$T/out" "1 message marked read"
expect_in "$T/err" "kept"
restart_server
# The next session of bob's home sends them.
expect_exit 0 ctl bob recv
expect_exit 0 ctl alice --json recv
[ "$(jq -r --arg m "$m" 'select(.type == "receipt" and .messageId == $m) | .status' "$T/out" | tail -n 1)" = read ] ||
	fail "the kept read receipt never came: $(cat "$T/out")"

# A group: delivered only when every other member has it, read when all read.
expect_exit 0 ctl alice create --name trio bob carol
g=$(cat "$T/out")
expect_exit 0 ctl alice send "$g" "to both"
m=$(cat "$T/out")
c=$g
expect_exit 0 ctl bob recv
expect_exit 0 ctl alice recv
[ "$(state alice)" = sent ] || fail "delivered to one of two is not delivered: $(state alice)"
expect_exit 0 ctl carol recv
expect_exit 0 ctl alice recv
[ "$(state alice)" = delivered ] || fail "group delivered: $(state alice)"
expect_exit 0 ctl carol read "$g"
expect_exit 0 ctl alice recv
[ "$(state alice)" = delivered ] || fail "read by one of two is not read: $(state alice)"
expect_exit 0 ctl bob read "$g"
expect_exit 0 ctl alice recv
[ "$(state alice)" = read ] || fail "group read: $(state alice)"

stop_server
