# timeout: 90
# store: sqlite (it holds SQLite's write lock from a second process; on PostgreSQL, cluster-pg-restart.sh stops the database)
# A store out of reach for now is "unavailable", not "internal": the server
# says nothing was changed and when to try again, chatctl keeps the message
# in its outbox (pending, not failed), and it goes out once the store is
# back, to be received once. Here another process holds SQLite's write lock
# for longer than the server waits for it (5 s); on a cluster it is
# PostgreSQL restarting (cluster-pg-restart.sh).
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
expect_exit 0 ctl alice send "$chat" "before"

# The lock, held 14 s from a second process: the server waits 5 s to open its batch, then 5 s for the request alone.
printf 'BEGIN IMMEDIATE;\nINSERT INTO group_adds (target, adder, at) VALUES (%s, %s, 0);\n.shell sleep 14\nCOMMIT;\n' \
	"'x'" "'y'" | sqlite3 "$T/server.db" &
locker=$!
sleep 0.5
expect_exit 3 ctl alice --timeout 30 --json send "$chat" "while the store is locked"
id=$(jq -r .messageId "$T/out")
[ -n "$id" ] && [ "$id" != null ] || fail "no id for the kept message: $(cat "$T/out")"
expect_in "$T/err" "(unavailable)"
expect_in "$T/err" "is kept"
grep -q "code=unavailable" "$T/server.log" || fail "the server did not answer unavailable"
grep -q "code=internal" "$T/server.log" && fail "the server answered internal"
expect_exit 0 ctl alice --json outbox
[ "$(jq -r '[.[] | .messageId + "=" + .state] | join(",")' "$T/out")" = "$id=pending" ] ||
	fail "outbox: $(cat "$T/out")"
wait "$locker"

# The store is back: the outbox sends it; bob gets both, once.
expect_exit 0 ctl alice retry
expect_exit 0 ctl bob recv
[ "$(grep -c 'alice: while the store is locked' "$T/out")" = 1 ] || fail "bob: $(cat "$T/out")"
expect_in "$T/out" "alice: before"
expect_exit 0 ctl bob recv
expect_not_in "$T/out" "while the store is locked"
stop_server
