# Attachments, the server's side (PROTOCOL.md, "Attachments"): an upload
# target, a PUT of a few megabytes stored byte for byte, a message that refers
# to the blob, a download by the other member; and the refusals: bad and
# expired signatures, a reused URL, more bytes than declared, an upload cut
# off, someone outside the chat or removed from it, and blobs a sender may not
# use. The server cannot tell fake envelopes from real ones, so raw frames
# stand in for a client that encrypts.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol
BLOBS="$T/blobs"
HTTP=$(echo "$URL" | sed 's|^ws://|http://|; s|/$||')
NONCE=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
CT=AAAAAAAAAAAAAAAAAAAAAA==

[ -d "$BLOBS" ] || fail "no blobs directory next to the database"
[ "$(stat -c %a "$BLOBS")" = 700 ] || fail "blobs directory mode $(stat -c %a "$BLOBS")"
[ "$(stat -c %a "$T/blob.key")" = 600 ] || fail "blob.key mode"
[ "$(stat -c %s "$T/blob.key")" = 32 ] || fail "blob.key size"

# rawreq USER OUTFILE: stdin's frames from USER's device; replies in OUTFILE.
rawreq() {
	"$PROBE" raw --home "$T/$1" --wait 500 "$URL" > "$2" 2>&1 || fail "probe: $(cat "$2")"
}
reply() { grep "\"id\":$1[,}]" "$2" | head -n 1; }
expect_code() {
	r=$(reply "$1" "$3")
	[ "$(echo "$r" | jq -r .error.code 2>/dev/null)" = "$2" ] || fail "request $1: expected $2, got: $r"
}
# target USER SIZE: getAttachmentTarget; sets BLOB and UP (the upload path).
target() {
	echo "{\"id\":1,\"type\":\"getAttachmentTarget\",\"size\":$2}" | rawreq "$1" "$T/t.out"
	BLOB=$(reply 1 "$T/t.out" | jq -r .blobId)
	UP=$(reply 1 "$T/t.out" | jq -r .uploadPath)
	[ "$(reply 1 "$T/t.out" | jq -r .maxSize)" = "$2" ] || fail "target: $(cat "$T/t.out")"
}
# put FILE PATH: the HTTP status of a PUT.
put() { curl -s -o /dev/null -w '%{http_code}' -T "$1" "$HTTP$2"; }
# download USER BLOB: getAttachmentDownload; sets DOWN (or the error code).
download() {
	echo "{\"id\":1,\"type\":\"getAttachmentDownload\",\"blobId\":\"$2\"}" | rawreq "$1" "$T/d.out"
	DOWN=$(reply 1 "$T/d.out" | jq -r '.downloadPath // .error.code')
}
# send USER CHAT MID ENVELOPE_USERS BLOBS_JSON: sendMessage with fake envelopes.
send() {
	envs=""
	for u in $4; do
		envs="$envs${envs:+,}{\"user\":\"$u\",\"deviceId\":1,\"nonce\":\"$NONCE\",\"ciphertext\":\"$CT\"}"
	done
	echo "{\"id\":1,\"type\":\"sendMessage\",\"chatId\":\"$2\",\"messageId\":\"$3\",\"envelopes\":[$envs],\"blobs\":$5}" |
		rawreq "$1" "$T/s.out"
	SENT=$(reply 1 "$T/s.out" | jq -r 'if .ok then "ok" else .error.code end')
}

# hello announces the limit (the probe prints every frame it gets).
echo '{"id":1,"type":"getKeys","users":["bob"]}' | rawreq alice "$T/h.out"
expect_in "$T/h.out" '"maxBlob":104857600'

expect_exit 0 ctl alice --json create bob
direct=$(jq -r .chatId "$T/out")

# Upload 3 MiB: 201, and the file on disk is what was sent.
head -c 3145728 /dev/urandom > "$T/file"
target alice 3145728
big=$BLOB
[ "$(put "$T/file" "$UP")" = 201 ] || fail "PUT: not 201"
cmp -s "$T/file" "$BLOBS/$big" || fail "the stored blob differs from the upload"
[ ! -e "$BLOBS/$big.part" ] || fail "a .part left after the upload"
# One upload per URL.
[ "$(put "$T/file" "$UP")" = 409 ] || fail "reused upload URL: not 409"
cmp -s "$T/file" "$BLOBS/$big" || fail "a refused upload changed the blob"

# Nobody can download a blob no message refers to, not even its uploader.
download alice "$big"
[ "$DOWN" = no_such_blob ] || fail "download before any message: $DOWN"

# The message refers to it; bob downloads the same bytes; carol cannot.
send alice "$direct" 00000000000000000000000000000b01 bob "[\"$big\"]"
[ "$SENT" = ok ] || fail "sendMessage with the blob: $(cat "$T/s.out")"
send alice "$direct" 00000000000000000000000000000b01 bob "[\"$big\"]"
[ "$SENT" = ok ] || fail "retried sendMessage with the blob: $(cat "$T/s.out")"
download bob "$big"
case $DOWN in /blobs/"$big"\?exp=*\&sig=*) ;; *) fail "downloadPath: $DOWN" ;; esac
code=$(curl -s -o "$T/got" -w '%{http_code}' "$HTTP$DOWN")
[ "$code" = 200 ] || fail "GET: $code"
cmp -s "$T/file" "$T/got" || fail "the download differs from the upload"
download carol "$big"
[ "$DOWN" = no_such_blob ] || fail "carol, outside the chat: $DOWN"

# Tampered signatures: 403 for PUT and GET; a malformed query: 400.
download bob "$big"
# Flip the signature's first digit (0 <-> 1, anything else -> 0).
bad=$(echo "$DOWN" | sed 's/sig=0/sig=X/; s/sig=[1-9a-f]/sig=0/; s/sig=X/sig=1/')
[ "$bad" != "$DOWN" ] || fail "the tampered path is the path"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP$bad")" = 403 ] || fail "tampered GET signature: not 403"
target alice 10
printf 'ten bytes!' > "$T/ten"
tampered=$(echo "$UP" | sed 's/max=10/max=11/')
[ "$(put "$T/ten" "$tampered")" = 403 ] || fail "PUT with a raised max: not 403"
[ "$(put "$T/ten" "/blobs/$BLOB?exp=1&max=10")" = 400 ] || fail "PUT without sig: not 400"
[ "$(put "$T/ten" "/blobs/nothex?exp=1&max=10&sig=00")" = 400 ] || fail "PUT of a bad path: not 400"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP/elsewhere")" = 404 ] || fail "other paths: not 404"
[ "$(put "$T/ten" "$UP")" = 201 ] || fail "the untampered upload after the refusals"

# More than declared: 413, and nothing is stored or usable.
target alice 100
head -c 200 /dev/urandom > "$T/200"
[ "$(put "$T/200" "$UP")" = 413 ] || fail "200 bytes on a 100-byte target: not 413"
[ ! -e "$BLOBS/$BLOB" ] && [ ! -e "$BLOBS/$BLOB.part" ] || fail "a refused upload left a file"
send alice "$direct" 00000000000000000000000000000b02 bob "[\"$BLOB\"]"
[ "$SENT" = no_such_blob ] || fail "sendMessage with an incomplete blob: $SENT"

# An upload cut off halfway leaves nothing: no blob, no .part.
head -c 8388608 /dev/urandom > "$T/slow"
target alice 8388608
curl -s -o /dev/null --limit-rate 500k -T "$T/slow" "$HTTP$UP" &
cpid=$!
wait_until 10 "the slow upload never started" test -e "$BLOBS/$BLOB.part"
kill "$cpid"
wait "$cpid" 2>/dev/null
wait_until 10 "the .part of a cut-off upload stays" test ! -e "$BLOBS/$BLOB.part"
[ ! -e "$BLOBS/$BLOB" ] || fail "a cut-off upload became a blob"
send alice "$direct" 00000000000000000000000000000b03 bob "[\"$BLOB\"]"
[ "$SENT" = no_such_blob ] || fail "sendMessage with a cut-off blob: $SENT"
expect_in "$T/server.log" "upload refused: connection closed"

# Someone else's blob: bob's upload is not alice's to send.
target bob 10
[ "$(put "$T/ten" "$UP")" = 201 ] || fail "bob's upload"
send alice "$direct" 00000000000000000000000000000b04 bob "[\"$BLOB\"]"
[ "$SENT" = no_such_blob ] || fail "sendMessage with bob's blob: $SENT"
grep -q '"messageId"' "$T/s.out" && fail "a refused send was stored"

# A group: carol downloads while a member, not after she is removed.
expect_exit 0 ctl alice --json create --name pics bob carol
g=$(jq -r .chatId "$T/out")
target alice 10
[ "$(put "$T/ten" "$UP")" = 201 ] || fail "group upload"
send alice "$g" 00000000000000000000000000000b05 "bob carol" "[\"$BLOB\"]"
[ "$SENT" = ok ] || fail "group send: $(cat "$T/s.out")"
download carol "$BLOB"
case $DOWN in /blobs/*) ;; *) fail "carol in the group: $DOWN" ;; esac
expect_exit 0 ctl alice remove "$g" carol
download carol "$BLOB"
[ "$DOWN" = no_such_blob ] || fail "carol after her removal: $DOWN"
download bob "$BLOB"
case $DOWN in /blobs/*) ;; *) fail "bob still in the group: $DOWN" ;; esac

# Expiry: with paths good for 1 s, a late PUT and a late GET are 403.
stop_server
SERVER_OPTS="--blob-url-ttl 1"
start_server "$port"
target alice 10
download bob "$big"
sleep 2.2
[ "$(put "$T/ten" "$UP")" = 403 ] || fail "expired upload URL: not 403"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP$DOWN")" = 403 ] || fail "expired download URL: not 403"
expect_in "$T/server.log" "refused: expired"
# Files survive a restart.
cmp -s "$T/file" "$BLOBS/$big" || fail "the blob changed across a restart"
exit 0
