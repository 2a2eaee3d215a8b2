# The server's bad input: malformed frames, unknown requests, missing fields,
# oversized frames, requests before authentication, bad signatures, chats one
# is not in. Each gets an error reply with its code; the connection (except
# after an oversized frame) and every other connection keep working.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
zero64=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==
zero32=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=

# reply ID FILE: the reply line with that id.
reply() { grep "\"id\":$1[,}]" "$2" | head -n 1; }
# expect_code ID CODE FILE
expect_code() {
	r=$(reply "$1" "$3")
	[ "$(echo "$r" | jq -r .error.code 2>/dev/null)" = "$2" ] || fail "request $1: expected $2, got: $r"
	[ -n "$(echo "$r" | jq -r .error.message)" ] || fail "request $1: no message"
}

# Before authentication.
cat > "$T/in" <<IN
this is not json
[1,2,3]
{"id":1}
{"id":2,"type":"frobnicate"}
{"id":3,"type":"getKeys","users":["bob"]}
{"id":4,"type":"auth","user":"alice","deviceId":1,"signature":"AAAA"}
{"id":5,"type":"auth","user":"alice","deviceId":1,"server":"127.0.0.1:$port","signature":"$zero64"}
{"id":6,"type":"auth","user":"ghost","deviceId":1,"server":"127.0.0.1:$port","signature":"$zero64"}
{"id":7,"type":"register","user":"alice"}
@binary
{"id":9,"type":"register","user":"bob\u0000x","identityKey":"$zero32"}
{"id":10,"type":"auth","user":"\ud800","deviceId":1,"signature":"$zero64"}
{"id":8,"type":"createChat","participants":["bob"]}
IN
"$PROBE" raw "$URL" < "$T/in" > "$T/raw.out" 2>&1 || fail "probe: $(cat "$T/raw.out")"
expect_in "$T/raw.out" '"type":"hello"'
[ "$(grep -c '"id":null' "$T/raw.out")" -ge 2 ] || fail "unparseable frames not answered with id null: $(cat "$T/raw.out")"
expect_code 1 bad_request "$T/raw.out"
expect_code 2 unknown_type "$T/raw.out"
expect_code 3 unauthenticated "$T/raw.out"
expect_code 4 bad_request "$T/raw.out"
expect_code 5 bad_signature "$T/raw.out"
expect_code 6 unknown_device "$T/raw.out"
expect_code 7 bad_request "$T/raw.out"
# Strings are read whole: U+0000 and lone surrogates are refused, with the
# request's id (issue 10, item 2).
expect_code 9 bad_request "$T/raw.out"
reply 9 "$T/raw.out" | grep -q "U+0000" || fail "register with U+0000: $(reply 9 "$T/raw.out")"
expect_code 10 bad_request "$T/raw.out"
reply 10 "$T/raw.out" | grep -q "lone surrogate" || fail "lone surrogate: $(reply 10 "$T/raw.out")"
# Still open after all of that: the last request was answered.
expect_code 8 unauthenticated "$T/raw.out"
expect_not_in "$T/raw.out" "#closed"

# Authenticated as carol, who is not in alice and bob's chat.
cat > "$T/in" <<IN
{"id":1,"type":"getChat","chatId":"$chat"}
{"id":2,"type":"sendMessage","chatId":"$chat","messageId":"00000000000000000000000000000001","envelopes":[{"user":"alice","deviceId":1,"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}]}
{"id":3,"type":"getKeys","users":["bob","nobody"]}
{"id":4,"type":"createChat","participants":[]}
{"id":5,"type":"createChat","participants":["carol"]}
{"id":6,"type":"auth","user":"carol","deviceId":1,"signature":"$zero64"}
{"id":7,"type":"getChat","chatId":"not-hex"}
{"id":8,"type":"getKeys","users":["bob"]}
{"id":9,"type":"getAttachmentTarget","size":18446744073709551616}
{"id":10,"type":"getKeys","users":["bob\u0000x"]}
IN
"$PROBE" raw --home "$T/carol" "$URL" < "$T/in" > "$T/raw.out" 2>&1 || fail "probe: $(cat "$T/raw.out")"
expect_code 1 no_such_chat "$T/raw.out"
expect_code 2 no_such_chat "$T/raw.out"
expect_code 3 unknown_user "$T/raw.out"
reply 3 "$T/raw.out" | grep -q nobody || fail "unknown_user does not name the user"
expect_code 4 bad_participants "$T/raw.out"
# carol alone: her notes to self (PROTOCOL.md, "Notes to self").
[ "$(reply 5 "$T/raw.out" | jq -c '[.kind, .participants]')" = '["direct",["carol"]]' ] ||
	fail "createChat of carol alone: $(reply 5 "$T/raw.out")"
expect_code 6 already_authenticated "$T/raw.out"
expect_code 7 bad_request "$T/raw.out"
[ "$(reply 8 "$T/raw.out" | jq -r '.users[0].devices[0].deviceId')" = 1 ] || fail "getKeys after errors"
# A size over the limit is too_large however far over; a user name with a
# NUL in it names nobody.
expect_code 9 too_large "$T/raw.out"
expect_code 10 bad_request "$T/raw.out"

# Envelopes that do not match the chat's devices are refused, with the difference.
expect_exit 0 ctl carol create alice
chat2=$(cat "$T/out")
cat > "$T/in" <<IN
{"id":1,"type":"sendMessage","chatId":"$chat2","messageId":"00000000000000000000000000000002","envelopes":[{"user":"alice","deviceId":9,"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}]}
{"id":2,"type":"sendMessage","chatId":"$chat2","messageId":"00000000000000000000000000000003","envelopes":[{"user":"alice","deviceId":1,"nonce":"AAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}]}
{"id":3,"type":"ack","messageIds":["0123456789abcdef0123456789abcdef"]}
IN
"$PROBE" raw --home "$T/carol" "$URL" < "$T/in" > "$T/raw.out" 2>&1 || fail "probe: $(cat "$T/raw.out")"
expect_code 1 device_mismatch "$T/raw.out"
[ "$(reply 1 "$T/raw.out" | jq -c '.error.missing')" = '[{"user":"alice","deviceId":1}]' ] || fail "missing: $(reply 1 "$T/raw.out")"
[ "$(reply 1 "$T/raw.out" | jq -c '.error.extra')" = '[{"user":"alice","deviceId":9}]' ] || fail "extra"
expect_code 2 bad_request "$T/raw.out"
[ "$(reply 3 "$T/raw.out" | jq -r .acked)" = 0 ] || fail "ack of a message not in the inbox"

# Stage 2 envelopes (issue 13) have no nonce: a ciphertext of 67,073 bytes is
# too_large; one of 67,072 is stored, and pushed to alice without a nonce.
zeros() { head -c "$1" /dev/zero | base64 | tr -d '\n'; }
m4=00000000000000000000000000000004
cat > "$T/in" <<IN
{"id":1,"type":"sendMessage","chatId":"$chat2","messageId":"$m4","envelopes":[{"user":"alice","deviceId":1,"ciphertext":"$(zeros 67073)"}]}
{"id":2,"type":"sendMessage","chatId":"$chat2","messageId":"$m4","envelopes":[{"user":"alice","deviceId":1,"ciphertext":"$(zeros 67072)"}]}
IN
"$PROBE" raw --home "$T/carol" "$URL" < "$T/in" > "$T/raw.out" 2>&1 || fail "probe: $(cut -c1-300 "$T/raw.out")"
expect_code 1 too_large "$T/raw.out"
[ "$(reply 2 "$T/raw.out" | jq -r .ok)" = true ] || fail "stage 2 envelope: $(reply 2 "$T/raw.out")"
printf '@sleep 300\n{"id":1,"type":"ack","messageIds":["%s"]}\n' "$m4" |
	"$PROBE" raw --home "$T/alice" "$URL" > "$T/raw.out" 2>&1 || fail "probe as alice"
push=$(grep "\"messageId\":\"$m4\"" "$T/raw.out" | head -n 1)
[ "$(echo "$push" | jq -r '.type, has("nonce"), (.ciphertext | length)' | tr '\n' ' ')" = \
	"newMessage false 89432 " ] || fail "stage 2 push: $(echo "$push" | cut -c1-300)"
[ "$(reply 1 "$T/raw.out" | jq -r .acked)" = 1 ] || fail "stage 2 ack: $(reply 1 "$T/raw.out")"

# An ack only ever touches the acker's own inbox.
expect_exit 0 ctl alice send "$chat" "for bob only"
mid=$(cat "$T/out")
echo "{\"id\":1,\"type\":\"ack\",\"messageIds\":[\"$mid\"]}" |
	"$PROBE" raw --home "$T/carol" "$URL" > "$T/raw.out" 2>&1
[ "$(reply 1 "$T/raw.out" | jq -r .acked)" = 0 ] || fail "carol acked bob's message: $(cat "$T/raw.out")"

# A frame over the limit: refused and skipped; that connection goes on.
printf '@big 1100000\n{"id":3,"type":"frobnicate"}\n' | "$PROBE" raw "$URL" > "$T/raw.out" 2>&1
expect_in "$T/raw.out" frame_too_large
expect_code 3 unknown_type "$T/raw.out"
expect_not_in "$T/raw.out" "#closed"
kill -0 "$SERVER_PID" || fail "server died"
expect_exit 0 ctl bob recv
expect_in "$T/out" "for bob only"
