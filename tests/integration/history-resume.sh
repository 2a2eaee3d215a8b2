# A history sync the approver is interrupted in (PROTOCOL.md, "History
# sync"): its batches are messages of the outbox, so what did not go out
# goes with the approver's next connection, and the new device ends with
# the whole history, each message once.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
c=$(cat "$T/out")
# 24 messages of 30,000 bytes: one batch each.
for i in $(seq 1 24); do
	{ printf 'long %02d ' "$i"; head -c 30000 /dev/zero | tr '\0' 'x'; } > "$T/long"
	ctl alice send "$c" - < "$T/long" > /dev/null 2>"$T/err" || fail "send $i: $(cat "$T/err")"
done

: >"$T/link.out"
ctl alice2 --json device link alice >"$T/link.out" 2>"$T/link.err" &
link=$!
wait_until 10 'no link code: $(cat "$T/link.err")' grep -q '"code"' "$T/link.out"
: >"$T/approve.err"
ctl alice device approve "$(head -n 1 "$T/link.out" | jq -r .code)" >"$T/approve.out" 2>"$T/approve.err" &
approve=$!
# The server stops answering as soon as the batches are written (they are
# pending in alice's store, maybe on the wire), and the approver dies hard.
wait_until 30 'no progress: $(cat "$T/approve.err")' grep -q "sending history: 0/" "$T/approve.err"
kill -STOP "$SERVER_PID"
pending=$(sqlite3 "$T/alice/store.db" "SELECT count(*) FROM messages WHERE kind = 'history' AND state = 'pending'")
kill -KILL $approve
wait $approve 2>/dev/null
kill -CONT "$SERVER_PID"
wait $link || fail "link: $(cat "$T/link.err")"
[ "$pending" -gt 0 ] || echo "history-resume: every batch was confirmed before the server stopped" >&2

# Any connection of alice's home sends the rest.
expect_exit 0 ctl alice recv --wait 3
[ "$(sqlite3 "$T/alice/store.db" "SELECT count(*) FROM messages WHERE kind = 'history' AND state = 'pending'")" = 0 ] ||
	fail "batches still pending after alice's next connection"
expect_exit 0 ctl alice2 --json recv --wait 1
jq -e -s 'map(select(.type == "historySync")) | last | .done == true and .total == 24 and .received == 24' \
	"$T/out" >/dev/null || fail "alice2's progress ($pending were pending): $(grep historySync "$T/out")"
expect_exit 0 ctl alice2 --json history "$c"
[ "$(jq '[.[] | select(.text | startswith("long "))] | length' "$T/out")" = 24 ] ||
	fail "alice2 has $(jq length "$T/out") messages"
[ "$(jq '[.[].messageId] | unique | length' "$T/out")" = 24 ] || fail "a message twice on alice2"
stop_server
