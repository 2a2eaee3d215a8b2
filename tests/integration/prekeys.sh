# The prekey directory (PROTOCOL.md, "uploadPrekeys", "getPrekeyBundle",
# "prekeysLow"), in raw frames against the real chat-server: two senders
# fetching bob's bundle at once get different one-time prekeys; the bundle
# that takes him below 20 makes the server push prekeysLow to his connection
# (and again at his next auth while he stays low); once none is left a bundle
# carries the signed prekey alone and the server logs it; a forged signed
# prekey is refused.
. "$(dirname "$0")/lib.sh"
start_server
# These homes take their prekeys from the frames below alone: each is told
# beforehand that the server is a stage 1 one (the mark libchat leaves when a
# server answers uploadPrekeys with unknown_type), so that chatctl publishes
# none of its own (prekeys-client.sh tests that it does).
for u in alice bob carol; do
	mkdir -m 700 "$T/$u"
	sqlite3 "$T/$u/store.db" "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
		INSERT INTO meta VALUES('prekeys_unsupported', '1');" || fail "sqlite3"
	chmod 600 "$T/$u/store.db"
done
register alice bob carol

raw() { # raw HOME OUT [WAIT]: stdin's frames as HOME's device
	"$PROBE" raw --home "$1" --wait "${3:-300}" "$URL" > "$2" 2>&1 || fail "probe: $(cat "$2")"
}
bundle_req() { # bundle_req ID: a request for bob's bundle
	printf '{"id":%s,"type":"getPrekeyBundle","user":"bob"}\n' "$1"
}
# The one-time prekey id of the reply with id ID in FILE ("none" without one).
opk_of() {
	jq -r "select(.id == $2) | .devices[0].oneTimePrekey.id // \"none\"" "$1"
}

# bob publishes his signed prekey (id 7) and 21 one-time prekeys (100..120).
"$PROBE" prekeys "$T/bob" 1 7 100 21 > "$T/in" || fail "probe prekeys"
raw "$T/bob" "$T/up.out" < "$T/in"
expect_in "$T/up.out" '"id":1,"ok":true,"oneTimePrekeys":21'
expect_not_in "$T/up.out" prekeysLow

# A forged signed prekey (signed by a key that is not the device's) is
# refused, and the one stored stays.
"$PROBE" prekeys "$T/bob" 2 8 500 1 forge > "$T/in" || fail "probe prekeys forge"
raw "$T/bob" "$T/forge.out" < "$T/in"
expect_in "$T/forge.out" '"id":2,"ok":false,"error":{"code":"bad_signature"'

# bob's receiving connection stays up while the others fetch.
printf '@sleep 8000\n' | "$PROBE" raw --home "$T/bob" --wait 100 "$URL" > "$T/bob.out" 2>&1 &
wait_until 10 'bob did not connect: $(cat "$T/bob.out")' grep -q '"type":"drained"' "$T/bob.out"

# alice and carol at once: one key each, never the same.
bundle_req 1 | raw "$T/alice" "$T/a.out" &
a=$!
bundle_req 1 | raw "$T/carol" "$T/c.out" &
c=$!
wait "$a" || fail "alice's probe"
wait "$c" || fail "carol's probe"
ka=$(opk_of "$T/a.out" 1)
kc=$(opk_of "$T/c.out" 1)
[ "$ka" != none ] && [ "$kc" != none ] || fail "a bundle without a one-time prekey: $ka $kc"
[ "$ka" != "$kc" ] || fail "one-time prekey $ka handed out twice"
[ "$(jq -r 'select(.id == 1) | .devices[0].signedPrekey.id' "$T/a.out")" = 7 ] ||
	fail "the forged signed prekey replaced the stored one: $(cat "$T/a.out")"

# 21 - 2 = 19: below 20, bob is told, once.
wait_until 10 'no prekeysLow: $(cat "$T/bob.out")' \
	grep -q '{"type":"prekeysLow","count":19}' "$T/bob.out"
grep -q "prekeys: bob/1 19 left" "$T/server.log" || fail "no log line for the crossing"

# The other 19, then none: the signed prekey alone, logged.
i=2
: > "$T/in"
while [ $i -le 21 ]; do bundle_req $i >> "$T/in"; i=$((i + 1)); done
raw "$T/alice" "$T/a.out" < "$T/in"
[ "$(opk_of "$T/a.out" 20)" != none ] || fail "the last one-time prekey was not handed out"
[ "$(opk_of "$T/a.out" 21)" = none ] || fail "a key after the last: $(opk_of "$T/a.out" 21)"
[ "$(jq -r 'select(.id == 21) | .devices[0].signedPrekey.id' "$T/a.out")" = 7 ] ||
	fail "no signed prekey once exhausted: $(cat "$T/a.out")"
ids=$(cat "$T/a.out" "$T/c.out" | jq -r 'select(.id != null) | .devices[0].oneTimePrekey.id // empty' |
	sort -n | uniq | wc -l)
[ "$ids" -eq 20 ] || fail "alice and carol got $ids distinct keys of 20 (one each, 21 in all)"
wait_until 5 'no exhausted log line' grep -q "prekeys: bob/1 exhausted" "$T/server.log"

# Still low at bob's next auth: told again, with what is left.
[ "$(grep -c prekeysLow "$T/bob.out")" -eq 1 ] || fail "prekeysLow more than once: $(cat "$T/bob.out")"
: | raw "$T/bob" "$T/bob2.out"
expect_in "$T/bob2.out" '{"type":"prekeysLow","count":0}'

# A stage 1 client (today's chatctl) is told too, and ignores the push.
expect_exit 0 ctl bob recv
