# Every line chat-server logs starts with the time, UTC, ISO 8601 with
# milliseconds (issue 10, item 25), from the first line to the last.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
printf '%s\n' 'not json' '{"id":1,"type":"nope"}' |
	"$PROBE" raw "$URL" >"$T/raw.out" 2>&1 || fail "probe: $(cat "$T/raw.out")"
stop_server
[ "$(count_lines "$T/server.log")" -ge 8 ] || fail "too few lines: $(cat "$T/server.log")"
if grep -Ev '^[0-9]{4}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{3}Z chat-server: ' \
	"$T/server.log" >"$T/bad"; then
	fail "lines without a time: $(cat "$T/bad")"
fi
# The time is now, not some other zone's.
first=$(head -n 1 "$T/server.log" | cut -c1-16)
now=$(date -u +%Y-%m-%dT%H:%M)
then=$(date -u -d '-2 minutes' +%Y-%m-%dT%H:%M)
[ "$first" = "$now" ] || [ "$first" \> "$then" ] || fail "time $first is not now ($now, UTC)"
