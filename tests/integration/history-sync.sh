# History on a newly linked device (PROTOCOL.md, "History sync"): alice has a
# direct chat with bob and a group with bob and carol (texts, a reply, a
# reaction, a file, an edited and a deleted message, one older than the
# window); alice2 is linked and approved while bob keeps writing; afterwards
# alice2's history of each chat is alice's (same ids, order, texts; nothing
# twice, nothing missing, nothing older than the window), alice2 fetches the
# file and writes in the group; alice's pins, mutes and archives are
# alice2's too. --history-days 0 sends nothing, and a history
# body forged by bob is ignored.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol

expect_exit 0 ctl alice --json create bob
d=$(jq -r .chatId "$T/out")
expect_exit 0 ctl bob send "$d" "too old for the window"
old=$(cat "$T/out")
expect_exit 0 ctl alice recv
sleep 1.1
since=$(date +%s%3N)
sleep 0.1

expect_exit 0 ctl alice send "$d" "hello bob"
m1=$(cat "$T/out")
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob reply "$d" "$m1" "hi alice"
expect_exit 0 ctl bob react "$d" "$m1" "👍"
expect_exit 0 ctl alice send "$d" "see you at 8"
e1=$(cat "$T/out")
expect_exit 0 ctl alice edit "$d" "$e1" "see you at 9"
expect_exit 0 ctl alice send "$d" "a secret I regret"
x1=$(cat "$T/out")
expect_exit 0 ctl alice delete --for-everyone "$d" "$x1"
head -c 3000 /dev/urandom > "$T/photo.jpg"
expect_exit 0 ctl alice send "$d" "the photo" --attach "$T/photo.jpg"
a1=$(cat "$T/out")

expect_exit 0 ctl alice --json create --name trip bob carol
g=$(jq -r .chatId "$T/out")
expect_exit 0 ctl alice disappear "$g" 1h
expect_exit 0 ctl alice send "$g" "group hello, gone in an hour"
gh=$(cat "$T/out")
expect_exit 0 ctl carol recv
expect_exit 0 ctl carol send "$g" "carol here"
expect_exit 0 ctl bob recv
expect_exit 0 ctl alice recv
expect_exit 0 ctl alice read "$d"

# Her settings of the chats: the group pinned; the direct chat muted and
# archived (muted, bob's live messages leave it archived).
expect_exit 0 ctl alice pin "$g"
expect_exit 0 ctl alice mute "$d"
expect_exit 0 ctl alice archive "$d"

# alice2 asks to join; alice approves while bob writes to her.
: >"$T/link.out"
ctl alice2 --json device link alice >"$T/link.out" 2>"$T/link.err" &
link=$!
wait_until 10 'no link code: $(cat "$T/link.err")' grep -q '"code"' "$T/link.out"
code=$(head -n 1 "$T/link.out" | jq -r .code)
CHAT_TEST_HISTORY_SINCE_MS=$since ctl alice device approve "$code" >"$T/approve.out" 2>"$T/approve.err" &
approve=$!
wait $link || fail "link: $(cat "$T/link.err")"
for i in 1 2 3; do
	ctl bob send "$d" "live $i" >>"$T/live.out" 2>>"$T/live.err" || fail "bob's live $i: $(cat "$T/live.err")"
done
wait $approve || fail "approve: $(cat "$T/approve.err")"
grep -q "sending history: [0-9]*/[0-9]* messages" "$T/approve.err" || fail "no progress: $(cat "$T/approve.err")"
expect_in "$T/approve.out" "approved: alice's device 2"

# alice2 takes it all in: the batches and bob's live messages, in any order.
expect_exit 0 ctl alice2 --json recv --wait 1
cp "$T/out" "$T/alice2.recv"
jq -e -s 'map(select(.type == "historySync")) | length >= 1 and (last | .done == true
	and .received == .total and .total > 0 and .direction == "receiving")' "$T/alice2.recv" >/dev/null ||
	fail "alice2's history progress: $(grep historySync "$T/alice2.recv")"
expect_exit 0 ctl alice recv

# The two histories, chat by chat: id, sender, text, seq, deleted, edited.
view() {
	ctl "$1" --json history "$2" > "$T/h.json" || fail "history of $1"
	jq -c --arg old "$old" '[.[] | select(.messageId != $old) |
		[.messageId, .sender, .text, .seq, .deleted, (.editedAt != null and .editedAt != 0),
		 ([.reactions[]? | .emoji] | join(","))]]' "$T/h.json"
}
for chat in "$d" "$g"; do
	a=$(view alice "$chat")
	b=$(view alice2 "$chat")
	[ "$a" = "$b" ] || fail "chat $chat differs:
alice:  $a
alice2: $b"
done
ctl alice2 --json history "$d" > "$T/h2.json"
jq -e --arg old "$old" 'map(select(.messageId == $old)) | length == 0' "$T/h2.json" >/dev/null ||
	fail "alice2 has the message older than the window"
[ "$(jq '[.[].messageId] | length' "$T/h2.json")" = "$(jq '[.[].messageId] | unique | length' "$T/h2.json")" ] ||
	fail "alice2 has a message twice: $(cat "$T/h2.json")"
for i in 1 2 3; do
	jq -e --arg t "live $i" 'map(select(.text == $t)) | length == 1' "$T/h2.json" >/dev/null ||
		fail "live $i is not once on alice2: $(jq -c '[.[].text]' "$T/h2.json")"
done
jq -e --arg x "$x1" 'map(select(.messageId == $x)) | .[0].deleted == true and .[0].text == ""' \
	"$T/h2.json" >/dev/null || fail "the deleted message on alice2: $(cat "$T/h2.json")"
expect_not_in "$T/h2.json" "a secret I regret"
jq -e --arg e "$e1" 'map(select(.messageId == $e)) | .[0].text == "see you at 9"' "$T/h2.json" >/dev/null ||
	fail "the edit on alice2"

# A disappearing message keeps its time; the group its timer.
ctl alice --json history "$g" > "$T/ga.json" || fail "alice's group"
ctl alice2 --json history "$g" > "$T/gb.json" || fail "alice2's group"
ea=$(jq --arg m "$gh" '.[] | select(.messageId == $m) | .expiresAt' "$T/ga.json")
eb=$(jq --arg m "$gh" '.[] | select(.messageId == $m) | .expiresAt' "$T/gb.json")
[ -n "$ea" ] && [ "$ea" != null ] && [ "$ea" = "$eb" ] || fail "expiresAt: alice $ea, alice2 $eb"

# The settings came with the chats (alice2 was not there when alice made
# them: the history carries them).
expect_exit 0 ctl alice2 --json chats --all
jq -e --arg g "$g" --arg d "$d" '(.[0].chatId == $g and .[0].pinned and .[0].muted == false
	and .[0].archived == false) and (.[] | select(.chatId == $d) | .archived and .mutedUntil == "forever"
	and .pinned == false)' "$T/out" >/dev/null || fail "the settings on alice2: $(cat "$T/out")"

# The group's name and members came with it; the file downloads; alice2 writes.
expect_exit 0 ctl alice2 --json chats
jq -e --arg g "$g" '.[] | select(.chatId == $g) | .name == "trip" and .disappearingSeconds == 3600
	and (.participants | sort) == ["alice","bob","carol"]' \
	"$T/out" >/dev/null || fail "the group on alice2: $(cat "$T/out")"
expect_exit 0 ctl alice2 --json download "$a1" --out "$T/photo2.jpg"
cmp -s "$T/photo.jpg" "$T/photo2.jpg" || fail "alice2's download differs"
expect_exit 0 ctl alice2 send "$g" "hello from alice2"
expect_exit 0 ctl bob recv
expect_in "$T/out" "hello from alice2"
expect_exit 0 ctl carol recv
expect_in "$T/out" "hello from alice2"

# A body of kind 0x0c from bob, well formed and addressed to alice2: dropped.
fid=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
forged=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
json='{"v":1,"sync":"0123456789abcdef","to":2,"part":1,"parts":1,"total":1,"chats":[{"id":"'$d'","kind":"direct","members":["alice","bob"],"admins":[],"timer":0}],"messages":[{"id":"'$forged'","chat":"'$d'","seq":1,"sender":"alice","device":1,"sentAt":1,"kind":"text","state":"sent","text":"FORGED by bob"}]}'
hex=0c$(printf '%s' "$json" | od -An -tx1 | tr -d ' \n')
env=$("$PROBE" seal "$T/bob" "$d" "$fid" "$hex") || fail "seal: $env"
echo '{"id":1,"type":"sendMessage","chatId":"'$d'","messageId":"'$fid'","envelopes":'"$env"'}' > "$T/in"
"$PROBE" raw --home "$T/bob" "$URL" < "$T/in" > "$T/raw.out" 2>&1 || fail "probe: $(cat "$T/raw.out")"
expect_in "$T/raw.out" '"ok":true'
expect_exit 0 ctl alice2 --json recv
expect_not_in "$T/out" "historySync"
expect_exit 0 ctl alice2 --json history "$d"
expect_not_in "$T/out" "FORGED"
expect_not_in "$T/out" "$forged"

# --history-days 0: the third device gets nothing of the past.
expect_exit 2 ctl alice device approve --history-days 3651 AAAA-AAAA-AAAA-AAAA
expect_in "$T/err" "history-days"
expect_exit 2 ctl alice device approve --history-days -1 AAAA-AAAA-AAAA-AAAA
: >"$T/link.out"
ctl alice3 --json device link alice >"$T/link.out" 2>"$T/link.err" &
link=$!
wait_until 10 'no link code: $(cat "$T/link.err")' grep -q '"code"' "$T/link.out"
expect_exit 0 ctl alice --json device approve --history-days 0 "$(head -n 1 "$T/link.out" | jq -r .code)"
expect_not_in "$T/err" "sending history"
jq -e '.deviceId == 3 and (has("history") | not)' "$T/out" >/dev/null || fail "approve --json: $(cat "$T/out")"
wait $link || fail "link of alice3: $(cat "$T/link.err")"
expect_exit 0 ctl alice3 --json recv --wait 1
expect_not_in "$T/out" "historySync"
expect_exit 0 ctl alice3 --json chats
[ "$(jq '[.[].messages] | add // 0' "$T/out")" = 0 ] || fail "alice3 got history: $(cat "$T/out")"
expect_not_in "$T/out" "$g"
stop_server
