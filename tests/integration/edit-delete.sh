# Edits and deletes end to end (PROTOCOL.md, "Edits and deletes"): alice and
# bob in a direct chat, both ways; a group of three where carol has a second
# device that is offline while it all happens and catches up after a server
# restart; a forged edit of someone else's message, refused by receivers; an
# edit and a delete that come before their message; a deleted message's file
# gone from the receiver's store; delete for me, of a message and a chat.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol

# ---- direct -----------------------------------------------------------------
expect_exit 0 ctl alice --json create bob
d=$(jq -r .chatId "$T/out")
expect_exit 0 ctl alice send "$d" "see you at 8 at the harbour"
m1=$(cat "$T/out")
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob send "$d" "ok, the harbour it is"
b1=$(cat "$T/out")
expect_exit 0 ctl alice recv

# alice edits hers twice (by a prefix); bob sees the last, "(edited)", and
# both edits in --json; search finds the new words, not the old.
expect_exit 0 ctl alice edit "$d" "$(echo "$m1" | cut -c1-8)" "see you at 9 at the harbour"
e1=$(cat "$T/out")
expect_exit 0 ctl alice edit "$d" "$m1" "see you at 9 at the lighthouse"
expect_exit 0 ctl bob --json recv
[ "$(jq -r 'select(.type != "receipt") | .type + ":" + .status' "$T/out" | tr '\n' ' ')" = \
	"edit:applied edit:applied " ] || fail "bob's events: $(cat "$T/out")"
jq -e -s --arg m "$m1" --arg e "$e1" '[.[] | select(.type == "edit")][0] | .target == $m and .messageId == $e and .user == "alice"
	and .text == "see you at 9 at the harbour"' "$T/out" >/dev/null || fail "the edit event: $(cat "$T/out")"
for h in alice bob; do
	expect_exit 0 ctl $h --json history "$d"
	[ "$(jq length "$T/out")" = 2 ] || fail "$h: edits listed as messages: $(cat "$T/out")"
	jq -e --arg m "$m1" '.[] | select(.messageId==$m) | .text == "see you at 9 at the lighthouse"
		and .edited == true and .deleted == false and (.editedAt | length) > 0
		and ([.edits[].text] == ["see you at 9 at the harbour", "see you at 9 at the lighthouse"])' \
		"$T/out" >/dev/null || fail "$h's m1: $(cat "$T/out")"
	jq -e --arg b "$b1" '.[] | select(.messageId==$b) | .edited == false and .deleted == false' \
		"$T/out" >/dev/null || fail "$h's b1: $(cat "$T/out")"
	expect_exit 0 ctl $h history "$d"
	expect_in "$T/out" "alice: see you at 9 at the lighthouse (edited)"
	expect_exit 0 ctl $h --json search lighthouse
	[ "$(jq -r '.[0].messageId' "$T/out")" = "$m1" ] || fail "$h: search for the new text: $(cat "$T/out")"
	expect_exit 0 ctl $h --json search "8"
	[ "$(jq length "$T/out")" = 0 ] || fail "$h: the old text is still found: $(cat "$T/out")"
	expect_exit 0 ctl $h --json chats
	[ "$(jq -r --arg d "$d" '.[] | select(.chatId==$d) | .messages' "$T/out")" = 2 ] ||
		fail "$h: count: $(cat "$T/out")"
done

# Refused before anything is sent: someone else's message, an unknown one,
# an empty text.
expect_exit 2 ctl bob edit "$d" "$m1" "mine now"
expect_in "$T/err" "not yours"
expect_exit 2 ctl bob delete --for-everyone "$d" "$m1"
expect_in "$T/err" "not yours"
expect_exit 4 ctl bob edit "$d" 0123456789abcdef0123456789abcdef "to nothing"
expect_exit 2 ctl alice edit "$d" "$m1" ""

# bob deletes his for everyone: both see "message deleted", search and
# edits find nothing; it cannot be edited or deleted again.
expect_exit 0 ctl bob edit "$d" "$b1" "ok, the harbour it is (secret)"
expect_exit 0 ctl bob delete --for-everyone "$d" "$b1"
expect_exit 0 ctl alice --json recv
[ "$(jq -r 'select(.type != "receipt") | .type' "$T/out" | tr '\n' ' ')" = "edit delete " ] ||
	fail "alice's events: $(cat "$T/out")"
for h in alice bob; do
	expect_exit 0 ctl $h --json history "$d"
	jq -e --arg b "$b1" '.[] | select(.messageId==$b) | .deleted == true and .text == ""
		and .edited == false' "$T/out" >/dev/null || fail "$h's deleted b1: $(cat "$T/out")"
	expect_exit 0 ctl $h history "$d"
	expect_in "$T/out" "bob: message deleted"
	expect_not_in "$T/out" "harbour it is"
	expect_exit 0 ctl $h --json search secret
	[ "$(jq length "$T/out")" = 0 ] || fail "$h finds a deleted message: $(cat "$T/out")"
done
expect_exit 2 ctl bob edit "$d" "$b1" "back again"
expect_in "$T/err" "deleted already"
expect_exit 2 ctl bob delete --for-everyone "$d" "$b1"

# ---- bodies made by hand (chat-probe seal, as alice's client would seal them)
# alice forges an edit and a delete of bob's message m2: bob's device refuses
# them (status refused, acked, never shown). An edit and a delete that come
# before their message (the server numbered them first) wait for it; a
# malformed edit is undecryptable.
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
id() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
expect_exit 0 ctl bob send "$d" "bob's own words"
m2=$(cat "$T/out")
expect_exit 0 ctl alice recv
f1=$(id); f2=$(id); x=$(id); ex=$(id); y=$(id); dy=$(id); bad=$(id)
expect_exit 0 ctl bob --json chats
unread=$(jq -r --arg d "$d" '.[] | select(.chatId==$d) | .unread' "$T/out")
seal() { "$PROBE" seal "$T/alice" "$d" "$1" "$2" || fail "seal: $1 $2"; }
send() { echo "{\"id\":$1,\"type\":\"sendMessage\",\"chatId\":\"$d\",\"messageId\":\"$2\",\"envelopes\":$(seal "$2" "$3")}"; }
{
	send 1 "$f1" "08$(hex "{\"target\":\"$m2\",\"text\":\"bob says yes to everything\"}")"
	send 2 "$f2" "09$(hex "{\"target\":\"$m2\"}")"
	send 3 "$ex" "08$(hex "{\"target\":\"$x\",\"text\":\"early edit\"}")"
	send 4 "$x" "01$(hex "the first words")"
	send 5 "$dy" "09$(hex "{\"target\":\"$y\"}")"
	send 6 "$y" "01$(hex "soon gone")"
	send 7 "$bad" "08$(hex "{\"target\":\"$x\"}")"
} >"$T/in"
"$PROBE" raw --home "$T/alice" "$URL" <"$T/in" >"$T/raw.out" 2>&1 || fail "probe: $(cat "$T/raw.out")"
[ "$(grep -c '"ok":true' "$T/raw.out")" = 8 ] || fail "the server refused: $(cat "$T/raw.out")"
expect_exit 0 ctl bob --json recv
jq -e -s --arg f1 "$f1" --arg f2 "$f2" '[.[] | select(.messageId==$f1 or .messageId==$f2) | .status]
	== ["refused", "refused"]' "$T/out" >/dev/null || fail "the forged ones: $(cat "$T/out")"
jq -e -s --arg x "$x" '.[] | select(.messageId==$x) | .text == "early edit" and .edited == true' \
	"$T/out" >/dev/null || fail "the early edit: $(cat "$T/out")"
jq -e -s --arg y "$y" '.[] | select(.messageId==$y) | .deleted == true and .text == ""' \
	"$T/out" >/dev/null || fail "the early delete: $(cat "$T/out")"
[ "$(grep -c "$bad" "$T/err")" = 1 ] || fail "$bad not reported once: $(cat "$T/err")"
expect_in "$T/err" "its edit does not read"
expect_exit 0 ctl bob --json history "$d"
jq -e --arg m "$m2" '.[] | select(.messageId==$m) | .text == "bob'"'"'s own words" and .edited == false
	and .deleted == false' "$T/out" >/dev/null || fail "bob's m2 after the forgery: $(cat "$T/out")"
expect_exit 0 ctl bob recv
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "came again: $(cat "$T/out" "$T/err")"
# Unread: x, not y (deleted), nor the edits, deletes or the malformed one.
expect_exit 0 ctl bob --json chats
[ "$(jq -r --arg d "$d" '.[] | select(.chatId==$d) | .unread' "$T/out")" = $((unread + 1)) ] ||
	fail "bob's unread, $unread before: $(cat "$T/out")"

# ---- a deleted message's file is removed from the receiver's store -----------
head -c 20000 /dev/urandom >"$T/photo.jpg"
expect_exit 0 ctl alice --json send "$d" "the photo" --attach "$T/photo.jpg"
pm=$(jq -r .messageId "$T/out")
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob --json download "$pm"
p=$(jq -r '.[0].path' "$T/out")
[ -f "$p" ] || fail "no download at $p"
expect_exit 0 ctl alice delete --for-everyone "$d" "$pm"
expect_exit 0 ctl bob recv
expect_in "$T/out" "deleted"
[ ! -e "$p" ] || fail "the deleted message's file is still in bob's home: $p"
expect_exit 0 ctl bob --json history "$d"
jq -e --arg m "$pm" '.[] | select(.messageId==$m) | .deleted == true and (.attachments | not)' \
	"$T/out" >/dev/null || fail "bob's deleted photo: $(cat "$T/out")"
ctl bob download "$pm" >/dev/null 2>&1 && fail "bob downloads a deleted message's file"

# ---- delete for me -----------------------------------------------------------
expect_exit 0 ctl bob delete "$d" "$m1"
expect_exit 0 ctl bob --json history "$d"
[ "$(jq --arg m "$m1" '[.[] | select(.messageId==$m)] | length' "$T/out")" = 0 ] ||
	fail "bob still has m1: $(cat "$T/out")"
expect_exit 0 ctl bob --json search lighthouse
[ "$(jq length "$T/out")" = 0 ] || fail "bob still finds m1: $(cat "$T/out")"
expect_exit 0 ctl alice --json history "$d"
[ "$(jq --arg m "$m1" '[.[] | select(.messageId==$m)] | length' "$T/out")" = 1 ] ||
	fail "alice lost m1 to bob's delete for me: $(cat "$T/out")"
expect_exit 4 ctl bob delete "$d" "$m1"

# ---- group, with carol's second device offline --------------------------------
link_device carol2 carol carol
expect_exit 0 ctl alice --json create --name trip bob carol
g=$(jq -r .chatId "$T/out")
expect_exit 0 ctl alice send "$g" "plan: leave at 9"
gm=$(cat "$T/out")
expect_exit 0 ctl carol send "$g" "I'll drive"
gc=$(cat "$T/out")
for h in alice bob carol carol2; do expect_exit 0 ctl $h recv; done
# From here carol2 receives nothing until the end.
expect_exit 0 ctl alice edit "$g" "$gm" "plan: leave at 10"
restart_server
expect_exit 0 ctl carol edit "$g" "$gc" "I'll drive the van"
expect_exit 0 ctl carol recv
expect_exit 0 ctl carol delete --for-everyone "$g" "$gc"
expect_exit 0 ctl carol send "$g" "bus then"
gb=$(cat "$T/out")
restart_server
for h in alice bob carol carol2; do
	expect_exit 0 ctl $h recv
	expect_exit 0 ctl $h --json history "$g"
	[ "$(jq '[.[] | select(.type=="message")] | length' "$T/out")" = 3 ] || fail "$h's history: $(cat "$T/out")"
	jq -e --arg m "$gm" '.[] | select(.messageId==$m) | .text == "plan: leave at 10" and .edited' \
		"$T/out" >/dev/null || fail "$h sees gm: $(cat "$T/out")"
	jq -e --arg m "$gc" '.[] | select(.messageId==$m) | .deleted and .text == ""' \
		"$T/out" >/dev/null || fail "$h sees gc: $(cat "$T/out")"
	jq -e --arg m "$gb" '.[] | select(.messageId==$m) | .text == "bus then" and (.edited | not)' \
		"$T/out" >/dev/null || fail "$h sees gb: $(cat "$T/out")"
done
# carol's own deleted message is hers on both her devices.
expect_exit 0 ctl carol2 --json history "$g"
[ "$(jq -r --arg m "$gc" '.[] | select(.messageId==$m) | .outgoing' "$T/out")" = true ] ||
	fail "carol2: gc is not hers: $(cat "$T/out")"
# carol2 edits carol's message from her other device: it is hers too.
expect_exit 0 ctl carol2 edit "$g" "$gb" "bus then, 10:15"
for h in alice bob carol; do
	expect_exit 0 ctl $h recv
	expect_exit 0 ctl $h --json history "$g"
	jq -e --arg m "$gb" '.[] | select(.messageId==$m) | .text == "bus then, 10:15" and .edited' \
		"$T/out" >/dev/null || fail "$h sees carol2's edit: $(cat "$T/out")"
done

# Written while the server is down: an edit waits in the outbox (shown here
# at once) and goes out with the next connection.
stop_server
expect_exit 3 ctl alice edit "$g" "$gm" "plan: leave at 11"
expect_exit 0 ctl alice --json outbox
[ "$(jq -r '.[].type' "$T/out")" = "edit" ] || fail "alice's outbox: $(cat "$T/out")"
expect_exit 0 ctl alice --json history "$g"
jq -e --arg m "$gm" '.[] | select(.messageId==$m) | .text == "plan: leave at 11"' "$T/out" >/dev/null ||
	fail "alice's pending edit: $(cat "$T/out")"
start_server "$port"
expect_exit 0 ctl alice recv
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob --json history "$g"
jq -e --arg m "$gm" '.[] | select(.messageId==$m) | .text == "plan: leave at 11"' "$T/out" >/dev/null ||
	fail "bob after alice's outbox: $(cat "$T/out")"

# rpc: edit, delete for everyone, delete for me, deleteChat.
expect_exit 0 ctl alice send "$g" "rpc words"
rm1=$(cat "$T/out")
printf '%s\n' \
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"edit\",\"params\":{\"chat\":\"$g\",\"message\":\"$rm1\",\"text\":\"rpc words, edited\"}}" \
	"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"delete\",\"params\":{\"chat\":\"$g\",\"message\":\"$rm1\",\"forEveryone\":1}}" \
	"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"delete\",\"params\":{\"chat\":\"$g\",\"message\":\"$gb\"}}" \
	>"$T/rpc.in"
expect_exit 0 ctl alice rpc <"$T/rpc.in"
jq -e -s '.[] | select(.id==1) | .result.type == "edit" and (.result.messageId | length == 32)' "$T/out" >/dev/null ||
	fail "rpc edit: $(cat "$T/out")"
jq -e -s '.[] | select(.id==2) | .result.type == "delete"' "$T/out" >/dev/null || fail "rpc delete: $(cat "$T/out")"
jq -e -s '.[] | select(.id==3) | .result.deleted == true' "$T/out" >/dev/null || fail "rpc delete for me: $(cat "$T/out")"
expect_exit 0 ctl bob --json recv
[ "$(jq -r 'select(.type=="edit" or .type=="delete") | .type' "$T/out" | tr '\n' ' ')" = "edit delete " ] ||
	fail "bob's rpc-made events: $(cat "$T/out")"

# delete-chat: bob's history of the group goes, here only; new messages land.
expect_exit 0 ctl bob delete-chat "$g"
expect_exit 0 ctl bob --json history "$g"
[ "$(jq length "$T/out")" = 0 ] || fail "bob's group after delete-chat: $(cat "$T/out")"
expect_exit 0 ctl bob --json search bus
[ "$(jq length "$T/out")" = 0 ] || fail "bob still finds the group: $(cat "$T/out")"
expect_exit 0 ctl alice send "$g" "still there?"
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob --json history "$g"
[ "$(jq -r '.[].text' "$T/out")" = "still there?" ] || fail "bob's group after a new message: $(cat "$T/out")"
expect_exit 0 ctl carol recv
expect_exit 0 ctl carol --json history "$g"
[ "$(jq -r '[.[] | select(.type=="message") | .text] | join("|")' "$T/out")" = \
	"plan: leave at 11||bus then, 10:15||still there?" ] || fail "carol's group: $(cat "$T/out")"

stop_server
