# The defaults of chat-server's limits really apply (issue 10, items 11-13):
# the other tests lift the limit on new users per address, this one starts the
# server with no limit options at all.
. "$(dirname "$0")/lib.sh"
SERVER_DEFAULT_LIMITS=1
start_server
expect_in "$T/server.log" "limits: "
expect_in "$T/server.log" " connections, 32 per address, "
expect_in "$T/server.log" " blob transfers at once, 10 s to authenticate, 10 new users per address an hour, uploads of 4096 bytes a second after 30 s"
expect_in "$T/server.log" "quotas: 32 pending blobs, 1073741824 pending blob bytes, 10737418240 blob bytes per device, 134217728 inbox bytes per device, 20 adds by strangers a day per user, 100 adds of strangers an hour per user"

# Ten new users from 127.0.0.1 in an hour, not eleven.
register u1 u2 u3 u4 u5 u6 u7 u8 u9 u10
expect_exit 4 ctl u11 register u11
expect_in "$T/err" "too_many_registrations"

# 32 connections from one address.
"$PROBE" hold 40 127.0.0.1 "$port" 1000 127.0.0.2 >"$T/hold" 2>&1 || fail "probe: $(cat "$T/hold")"
[ "$(cat "$T/hold")" = "open 32 closed 8" ] || fail "per-address cap: $(cat "$T/hold")"

# 32 upload targets asked for and not used, not 33.
i=1
while [ $i -le 33 ]; do echo "{\"id\":$i,\"type\":\"getAttachmentTarget\",\"size\":10}"; i=$((i + 1)); done |
	"$PROBE" raw --home "$T/u1" --wait 500 "$URL" >"$T/raw" 2>&1 || fail "probe"
[ "$(grep -c '"blobId"' "$T/raw")" -eq 32 ] || fail "targets: $(grep -c '"blobId"' "$T/raw")"
grep '"id":33,' "$T/raw" | grep -q quota_exceeded || fail "33rd target: $(grep '"id":33,' "$T/raw")"

# A user put into groups by a stranger: 20 a day, not 21.
i=1
while [ $i -le 21 ]; do
	echo "{\"id\":$i,\"type\":\"createChat\",\"name\":\"g$i\",\"participants\":[\"u2\"]}"
	i=$((i + 1))
done | "$PROBE" raw --home "$T/u1" --wait 500 "$URL" >"$T/raw" 2>&1 || fail "probe"
[ "$(grep -c '"created":true' "$T/raw")" -eq 20 ] || fail "groups: $(grep -c '"created":true' "$T/raw")"
grep '"id":21,' "$T/raw" | grep -q too_many_group_adds || fail "21st: $(grep '"id":21,' "$T/raw")"

# 10 seconds to authenticate.
start=$(date +%s)
printf '@sleep 12000\n' | "$PROBE" raw "$URL" >"$T/raw" 2>&1 || fail "probe"
expect_in "$T/raw" "#closed"
[ $(($(date +%s) - start)) -ge 9 ] || fail "closed after $(($(date +%s) - start)) s"
expect_in "$T/server.log" "not authenticated within 10 s"
