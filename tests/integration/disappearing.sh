# timeout: 180
# Disappearing messages end to end (PROTOCOL.md, "Disappearing messages"):
# alice sets a 30 s timer in her direct chat with bob (bob has a second
# device, offline the whole time); messages sent before it stay, those after
# it vanish from every store 30 s after they were sent, with bob's
# downloaded file, and the server never gives them to the offline device
# (its inbox rows went with the ttl), which still learns the timer. bob
# turns it off. In a group, a member who is no admin is refused by chatctl,
# and a change forged by hand is ignored by the others' devices.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol
link_device bob2 bob bob
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
id() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
inbox() { server_sql "SELECT count(*) FROM inbox WHERE message_id = '$1'"; }

expect_exit 0 ctl alice --json create bob
d=$(jq -r .chatId "$T/out")
expect_exit 0 ctl alice send "$d" "before the timer"
m0=$(cat "$T/out")
expect_exit 0 ctl bob recv

# Durations chatctl does not take: usage, exit 2, nothing sent.
expect_exit 2 ctl alice disappear "$d" 10s
expect_in "$T/err" "30 seconds to 90 days"
expect_exit 2 ctl alice disappear "$d" 91d
expect_exit 2 ctl alice disappear "$d" 1x
expect_in "$T/err" "no duration"
expect_exit 2 ctl alice disappear "$d" ""

# alice sets 30 s; every message after it carries it.
expect_exit 0 ctl alice --json disappear "$d" 30s
t1=$(jq -r .messageId "$T/out")
expect_exit 0 ctl alice --json history "$d"
jq -e --arg t "$t1" '.[] | select(.messageId==$t) | .type == "timer" and .seconds == 30
	and .sender == "alice"' "$T/out" >/dev/null || fail "alice's change: $(cat "$T/out")"
expect_exit 0 ctl alice send "$d" "gone in 30 s"
m1=$(cat "$T/out")
head -c 5000 /dev/urandom >"$T/photo.jpg"
expect_exit 0 ctl alice --json send "$d" "a photo, gone too" --attach "$T/photo.jpg"
m2=$(jq -r .messageId "$T/out")
sent=$(date +%s)
[ "$(server_sql "SELECT count(*) FROM messages WHERE message_id = '$m1' AND expires_at IS NOT NULL")" = 1 ] ||
	fail "the server has no expiry for m1"
[ "$(server_sql "SELECT count(*) FROM messages WHERE message_id = '$t1' AND expires_at IS NULL")" = 1 ] ||
	fail "the change itself was sent with a ttl"
expect_exit 0 ctl alice --json chats
[ "$(jq -r --arg d "$d" '.[] | select(.chatId==$d) | .disappearingSeconds' "$T/out")" = 30 ] ||
	fail "alice's chats: $(cat "$T/out")"
expect_exit 0 ctl alice chats
expect_in "$T/out" "disappearing 30s"

# bob: the change (applied), then the two messages, with their expiry.
expect_exit 0 ctl bob --json recv
jq -e -s --arg t "$t1" '[.[] | select(.type == "timer")] | length == 1 and .[0].messageId == $t
	and .[0].seconds == 30 and .[0].status == "applied" and .[0].user == "alice"' "$T/out" >/dev/null ||
	fail "bob's timer event: $(cat "$T/out")"
expect_exit 0 ctl bob --json download "$m2"
p=$(jq -r '.[0].path' "$T/out")
[ -f "$p" ] || fail "no download at $p"
expect_exit 0 ctl bob --json history "$d"
jq -e --arg m "$m0" '.[] | select(.messageId==$m) | .expiresAt == null' "$T/out" >/dev/null ||
	fail "m0, sent before the timer, expires: $(cat "$T/out")"
jq -e --arg m "$m1" '.[] | select(.messageId==$m) | (.expiresAt | length) > 0' "$T/out" >/dev/null ||
	fail "m1 has no expiry: $(cat "$T/out")"
expect_exit 0 ctl bob history "$d"
expect_in "$T/out" "* alice set disappearing messages to 30 seconds"
expect_exit 0 ctl bob members "$d"
expect_in "$T/out" "disappearing messages: 30 seconds"
[ "$(inbox "$m1")" = 1 ] || fail "bob2's inbox row of m1 is not there before the expiry"

# ---- meanwhile, a group: carol is no admin ---------------------------------
expect_exit 0 ctl alice --json create --name trio bob carol
g=$(jq -r .chatId "$T/out")
expect_exit 0 ctl carol recv
expect_exit 0 ctl bob recv
expect_exit 2 ctl carol disappear "$g" 1h
expect_in "$T/err" "admins"
expect_exit 0 ctl carol --json chats
[ "$(jq -r --arg g "$g" '.[] | select(.chatId==$g) | .disappearingSeconds' "$T/out")" = 0 ] ||
	fail "carol's refused change applied: $(cat "$T/out")"
# carol's client, forged: a 0x0a sealed by hand. bob's devices refuse it.
# (A message of hers first: her home pins the others' devices.)
expect_exit 0 ctl carol send "$g" "hello all"
f=$(id)
env=$("$PROBE" seal "$T/carol" "$g" "$f" "0a$(hex '{"seconds":60}')") || fail "seal"
echo "{\"id\":1,\"type\":\"sendMessage\",\"chatId\":\"$g\",\"messageId\":\"$f\",\"envelopes\":$env}" >"$T/in"
"$PROBE" raw --home "$T/carol" "$URL" <"$T/in" >"$T/raw.out" 2>&1 || fail "probe: $(cat "$T/raw.out")"
[ "$(grep -c '"ok":true' "$T/raw.out")" = 2 ] || fail "the server refused: $(cat "$T/raw.out")"
expect_exit 0 ctl bob --json recv
jq -e -s --arg f "$f" '.[] | select(.messageId==$f) | .type == "timer" and .status == "refused"' \
	"$T/out" >/dev/null || fail "bob's forged change: $(cat "$T/out")"
expect_exit 0 ctl bob --json chats
[ "$(jq -r --arg g "$g" '.[] | select(.chatId==$g) | .disappearingSeconds' "$T/out")" = 0 ] ||
	fail "the forged change applied: $(cat "$T/out")"
expect_exit 0 ctl bob history "$g"
expect_not_in "$T/out" "disappearing"
# The admin may.
expect_exit 0 ctl alice disappear "$g" 1h
expect_exit 0 ctl carol --json recv
jq -e -s '.[] | select(.type == "timer") | .seconds == 3600 and .status == "applied"' \
	"$T/out" >/dev/null || fail "carol's timer event: $(cat "$T/out")"
expect_exit 0 ctl carol chats
expect_in "$T/out" "disappearing 1h"

# ---- 30 s after m1 was sent: gone everywhere -------------------------------
left=$((sent + 31 - $(date +%s)))
[ $left -gt 0 ] && sleep $left
# The server's sweep (every 2 s) took bob2's inbox rows of m1 and m2.
# (m1's row on the server, and the time, if not: sent_at, expires_at, inbox rows)
m1_row() { server_sql "SELECT sent_at, expires_at, (SELECT count(*) FROM inbox i
	WHERE i.message_id = m.message_id) FROM messages m WHERE message_id = '$m1'"; }
# (a function, so that each try counts again: "$(inbox ...)" as an argument
# would be counted once, when wait_until is called)
m1_gone() { [ "$(inbox "$m1")" = 0 ]; }
wait_until 10 "bob2's inbox rows of m1 are still there: \$(m1_row) at \$(date +%s)" m1_gone
for h in alice bob; do
	expect_exit 0 ctl $h --json history "$d"
	jq -e --arg m0 "$m0" --arg t "$t1" '[.[].messageId] == [$m0, $t]' "$T/out" >/dev/null ||
		fail "$h's history after the expiry: $(cat "$T/out")"
	expect_exit 0 ctl $h --json search gone
	[ "$(jq length "$T/out")" = 0 ] || fail "$h still finds them: $(cat "$T/out")"
done
[ ! -e "$p" ] || fail "bob's downloaded file of m2 is still there: $p"
# bob2, offline all along: the change, not the messages it ruled.
expect_exit 0 ctl bob2 --json recv
jq -e -s --arg t "$t1" '[.[] | select(.type == "timer")][0].messageId == $t' "$T/out" >/dev/null ||
	fail "bob2 did not get the change: $(cat "$T/out")"
expect_not_in "$T/out" "$m1"
expect_not_in "$T/out" "$m2"
expect_exit 0 ctl bob2 --json chats
[ "$(jq -r --arg d "$d" '.[] | select(.chatId==$d) | .disappearingSeconds' "$T/out")" = 30 ] ||
	fail "bob2's chats: $(cat "$T/out")"

# ---- bob turns it off: later messages stay -----------------------------------
expect_exit 0 ctl bob disappear "$d" off
expect_exit 0 ctl bob send "$d" "here to stay"
m3=$(cat "$T/out")
expect_exit 0 ctl alice --json recv
jq -e -s --arg d "$d" '[.[] | select(.type == "timer" and .chatId == $d)][0] | .seconds == 0
	and .user == "bob" and .status == "applied"' "$T/out" >/dev/null ||
	fail "alice's off event: $(cat "$T/out")"
expect_exit 0 ctl alice history "$d"
expect_in "$T/out" "* bob turned off disappearing messages"
expect_exit 0 ctl alice --json history "$d"
jq -e --arg m "$m3" '.[] | select(.messageId==$m) | .expiresAt == null' "$T/out" >/dev/null ||
	fail "m3 expires: $(cat "$T/out")"
[ "$(server_sql "SELECT count(*) FROM messages WHERE message_id = '$m3' AND expires_at IS NULL")" = 1 ] ||
	fail "m3 was sent with a ttl"
# A change stays in the history: delete for me refuses it.
expect_exit 2 ctl alice delete "$d" "$t1"
expect_in "$T/err" "stays in the history"
echo "ok"
