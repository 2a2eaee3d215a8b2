# Retention: inbox rows older than --retention are deleted, read or not, and
# the device that lost them is told once, on its next connection, before
# anything of its inbox, with the missed push.
. "$(dirname "$0")/lib.sh"
SERVER_OPTS="--retention 2s"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
expect_exit 0 ctl alice send "$chat" "old 1"
expect_exit 0 ctl alice send "$chat" "old 2"
[ "$(server_sql "SELECT count(*) FROM inbox")" -eq 2 ] || fail "inbox before"

# Past the retention and the next purge (every second for 2 s).
sleep 3.5
expect_in "$T/server.log" "retention: deleted 2 inbox rows (2 messages) older than 2s"
[ "$(server_sql "SELECT count(*) FROM inbox")" -eq 0 ] || fail "inbox rows left"
[ "$(server_sql "SELECT count(*) FROM messages")" -eq 0 ] || fail "messages left"

# The missed push, first after the auth reply, once.
: | "$PROBE" raw --home "$T/bob" "$URL" >"$T/raw1" 2>"$T/err" || fail "probe: $(cat "$T/err")"
grep '"type":"missed"' "$T/raw1" >"$T/missed" || fail "no missed push: $(cat "$T/raw1")"
[ "$(count_lines "$T/missed")" -eq 1 ] || fail "missed pushed twice: $(cat "$T/raw1")"
[ "$(jq -r .count "$T/missed")" = 2 ] || fail "missed count: $(cat "$T/missed")"
oldest=$(jq -r .oldest "$T/missed")
now=$(($(date +%s) * 1000))
[ "$oldest" -gt $((now - 60000)) ] && [ "$oldest" -lt "$now" ] || fail "missed oldest $oldest"
# Before the inbox: drained (the end of it) comes after.
[ "$(grep -n '"type":"missed"' "$T/raw1" | cut -d: -f1)" -lt \
	"$(grep -n '"type":"drained"' "$T/raw1" | cut -d: -f1)" ] || fail "order: $(cat "$T/raw1")"
[ "$(server_sql "SELECT missed_count FROM devices WHERE \"user\" = 'bob'")" -eq 0 ] ||
	fail "counter not reset"

: | "$PROBE" raw --home "$T/bob" "$URL" >"$T/raw2" 2>"$T/err" || fail "probe: $(cat "$T/err")"
expect_in "$T/raw2" '"type":"drained"'
expect_not_in "$T/raw2" '"type":"missed"'

# Nothing for bob, and a new message still goes through.
expect_exit 0 ctl bob --json recv
[ "$(count_lines "$T/out")" -eq 0 ] || fail "bob got: $(cat "$T/out")"
expect_exit 0 ctl alice send "$chat" "new"
expect_exit 0 ctl bob --json recv
[ "$(jq -r .text "$T/out")" = new ] || fail "new message: $(cat "$T/out")"

# Bad values are refused with exit 2.
for bad in 0s 10 5w -1d 1.5h ""; do
	expect_exit 2 "$SERVER" --listen 127.0.0.1:0 --db "$T/bad.db" --retention "$bad"
	expect_in "$T/err" "--retention"
done
