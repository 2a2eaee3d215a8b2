# GET /healthz, a load balancer's health check (docs/CLUSTER.md): 200 and
# {"status":"ok","instance","store","connections"} while the store answers;
# 503 {"status":"unavailable"} once the database file is gone from under the
# server (moved away, then a directory in its place: SQLite's "SELECT 1"
# alone would still answer), and 200 again once it is back. On PostgreSQL
# (CHAT_TEST_STORE=pg): while the test's database refuses connections and the
# server's is cut, then 200 once it takes them again. HEAD gets the
# status without a body; no auth; the server keeps serving chats meanwhile.
# A cluster's logs: --instance-id in every text line (before "chat-server: "),
# and --log-format json, one object a line.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null 2>&1 || fail "curl is missing (scripts/install-deps.sh installs it)"
SERVER_OPTS="--instance-id node-a"
start_server
HTTP=$(echo "$URL" | sed 's|^ws://|http://|; s|/$||')
register alice bob

# health: the status code, the body in $T/h.json.
health() { curl -s -o "$T/h.json" -w '%{http_code}' "$HTTP/healthz"; }

STORE=sqlite
[ "${CHAT_TEST_STORE:-sqlite}" = pg ] && STORE=postgresql
[ "$(health)" = 200 ] || fail "healthz: $(cat "$T/h.json")"
jq -e --arg store "$STORE" '.status == "ok" and .instance == "node-a" and .store == $store and
	(.connections | type == "number" and . >= 1)' "$T/h.json" >/dev/null ||
	fail "healthz body: $(cat "$T/h.json")"
curl -s -D "$T/h.head" -o /dev/null "$HTTP/healthz"
grep -qi '^content-type: application/json' "$T/h.head" || fail "content type: $(cat "$T/h.head")"
# HEAD: the status, no body.
code=$(curl -s -I -o "$T/head.out" -w '%{http_code}' "$HTTP/healthz")
[ "$code" = 200 ] || fail "HEAD /healthz: $code"
grep -q '"status"' "$T/head.out" && fail "HEAD /healthz sent a body"
# Other paths are as before.
[ "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP/healthz/x")" = 404 ] || fail "/healthz/x: not 404"
# The instance's name is in every text log line, where scripts do not look for it.
expect_in "$T/server.log" " node-a chat-server: listening on 127.0.0.1:"
[ "$(grep -vc ' node-a chat-server: ' "$T/server.log")" = 0 ] ||
	fail "a log line without the instance: $(grep -v ' node-a chat-server: ' "$T/server.log")"

# Many checks in a row: each answered, none logged (a balancer asks every
# few seconds), the server still serves chats.
lines=$(count_lines "$T/server.log")
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(health)" = 200 ] || fail "healthz $i: $(cat "$T/h.json")"
done
[ "$(count_lines "$T/server.log")" = "$lines" ] || fail "healthz is logged: $(tail -n 3 "$T/server.log")"

if [ "$STORE" = sqlite ]; then
	# The database file moved away: the store no longer answers for it.
	mv "$T/server.db" "$T/server.db.away"
	[ "$(health)" = 503 ] || fail "healthz with the database moved away: $(cat "$T/h.json")"
	jq -e '.status == "unavailable" and .store == "sqlite" and .instance == "node-a"' "$T/h.json" \
		>/dev/null || fail "503 body: $(cat "$T/h.json")"
	expect_in "$T/server.log" "db: ping: the database file was deleted, moved or replaced"
	# A directory where the file was: still 503; HEAD too.
	mkdir "$T/server.db"
	[ "$(health)" = 503 ] || fail "healthz with a directory for the database: $(cat "$T/h.json")"
	[ "$(curl -s -I -o /dev/null -w '%{http_code}' "$HTTP/healthz")" = 503 ] || fail "HEAD: not 503"
	# The file back: 200 again, and nothing was lost.
	rmdir "$T/server.db"
	mv "$T/server.db.away" "$T/server.db"
	[ "$(health)" = 200 ] || fail "healthz with the database back: $(cat "$T/h.json")"
else
	# The test's database takes no connections, and the server's is cut.
	admin="${STORE_URL%/*}/postgres"
	store_psql -d "$admin" -c "ALTER DATABASE \"$STORE_DB\" ALLOW_CONNECTIONS false" \
		-c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$STORE_DB'" \
		>/dev/null || fail "cannot cut the test's database"
	healthy() { [ "$(health)" = "$1" ]; }
	wait_until 10 'healthz with the database away: $(cat "$T/h.json")' healthy 503
	jq -e '.status == "unavailable" and .store == "postgresql"' "$T/h.json" >/dev/null ||
		fail "503 body: $(cat "$T/h.json")"
	store_psql -d "$admin" -c "ALTER DATABASE \"$STORE_DB\" ALLOW_CONNECTIONS true" >/dev/null ||
		fail "cannot give the database back"
	wait_until 15 'healthz with the database back: $(cat "$T/h.json")' healthy 200
fi
expect_exit 0 ctl alice create bob
c=$(cat "$T/out")
expect_exit 0 ctl alice send "$c" "after the outage"
expect_exit 0 ctl bob --json recv
[ "$(jq -r 'select(.type == "message") | .text' "$T/out")" = "after the outage" ] ||
	fail "bob after the outage: $(cat "$T/out")"

# --log-format json: every line one object with ts, level, instance, msg;
# the default instance is the host name and the real port.
stop_server
SERVER_OPTS="--log-format json"
start_server "$port"
[ "$(health)" = 200 ] || fail "healthz after the restart"
stop_server
jq -se 'length > 3 and all(.[]; has("ts") and (.level | IN("info", "warn", "error")) and
	(.instance | type == "string") and (.msg | type == "string"))' "$T/server.log" >/dev/null ||
	fail "not one JSON object a line: $(cat "$T/server.log")"
inst=$(jq -r 'select(.msg | startswith("listening on")) | .instance' "$T/server.log")
case $inst in *:"$port") ;; *) fail "default instance '$inst', not HOST:$port" ;; esac
jq -r .instance "$T/h.json" | grep -qx "$inst" || fail "healthz names '$(jq -r .instance "$T/h.json")', the log '$inst'"
exit 0
