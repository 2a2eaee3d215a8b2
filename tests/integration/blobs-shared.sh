# Two instances sharing one store (an SQLite file in WAL mode: both write it,
# busy_timeout waits out the other's COMMIT; or the test's PostgreSQL database
# under CHAT_TEST_STORE=pg), one blob directory (--blobs)
# and one key (--blob-key): a path one instance signs works on the other
# (docs/CLUSTER.md, "Blobs"). Upload through A with A's path, download through
# B with A's path and with B's; a path A signed PUT through B; an instance
# with another key refuses them (403), so the key is what makes them
# portable. End to end: alice sends a file through A, bob downloads it
# through B, byte for byte. A restart of B does not cut off an upload A is
# receiving into the shared directory.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null 2>&1 || fail "curl is missing (scripts/install-deps.sh installs it)"
mkdir "$T/shared"
SERVER_OPTS="--instance-id A --blobs $T/shared/blobs --blob-key $T/shared/blob.key"
start_server
URL_A=$URL
HTTP_A=$(echo "$URL_A" | sed 's|^ws://|http://|; s|/$||')

# start_b [PORT] [KEY]: instance B on the same database, blobs and (or
# another) key, its log in $T/b.log; sets URL_B, HTTP_B, B_PID.
start_b() {
	: >"$T/b.log"
	"$SERVER" --listen "127.0.0.1:${1:-0}" --db "${STORE_URL:-$T/server.db}" --register-rate 0 --instance-id B \
		--blobs "$T/shared/blobs" --blob-key "${2:-$T/shared/blob.key}" 2>>"$T/b.log" &
	B_PID=$!
	wait_until 10 "instance B did not start: $(cat "$T/b.log")" grep -q "listening on" "$T/b.log"
	b_port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$T/b.log" | head -n 1)
	URL_B="ws://127.0.0.1:$b_port/"
	HTTP_B="http://127.0.0.1:$b_port"
}
stop_b() {
	kill "$B_PID" 2>/dev/null
	wait "$B_PID"
	b_rc=$?
	[ "$b_rc" = 0 ] || fail "instance B exited $b_rc on SIGTERM: $(tail -n 5 "$T/b.log")"
	grep -Eq "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$T/b.log" && fail "B: $(cat "$T/b.log")"
	return 0
}
start_b
[ "$(stat -c %a "$T/shared/blob.key")" = 600 ] || fail "shared key mode"
[ ! -e "$T/blob.key" ] && [ ! -e "$T/blobs" ] || fail "a key or blobs next to the database too"
register alice bob
NONCE=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
CT=AAAAAAAAAAAAAAAAAAAAAA==

# rawreq WSURL USER OUTFILE: stdin's frames from USER's device on that instance.
rawreq() {
	"$PROBE" raw --home "$T/$2" --wait 500 "$1" >"$3" 2>&1 || fail "probe: $(cat "$3")"
}
reply() { grep "\"id\":$1[,}]" "$2" | head -n 1; }
# target WSURL USER SIZE: getAttachmentTarget; sets BLOB and UP.
target() {
	echo "{\"id\":1,\"type\":\"getAttachmentTarget\",\"size\":$3}" | rawreq "$1" "$2" "$T/t.out"
	BLOB=$(reply 1 "$T/t.out" | jq -r .blobId)
	UP=$(reply 1 "$T/t.out" | jq -r .uploadPath)
	case $UP in /blobs/*) ;; *) fail "target: $(cat "$T/t.out")" ;; esac
}
# download WSURL USER BLOB: getAttachmentDownload; sets DOWN.
download() {
	echo "{\"id\":1,\"type\":\"getAttachmentDownload\",\"blobId\":\"$3\"}" | rawreq "$1" "$2" "$T/d.out"
	DOWN=$(reply 1 "$T/d.out" | jq -r '.downloadPath // .error.code')
}
put() { curl -s -o /dev/null -w '%{http_code}' -T "$1" "$2"; }
get() { curl -s -o "$2" -w '%{http_code}' "$1"; }

expect_exit 0 ctl alice --json create bob
chat=$(jq -r .chatId "$T/out")

# A signs the upload path; the PUT goes through B.
head -c 1048576 /dev/urandom >"$T/file"
target "$URL_A" alice 1048576
[ "$(put "$T/file" "$HTTP_B$UP")" = 201 ] || fail "PUT through B of a path A signed"
cmp -s "$T/file" "$T/shared/blobs/$BLOB" || fail "the shared directory does not hold the upload"
# Once stored, the path is spent on A too: one store, one blob.
[ "$(put "$T/file" "$HTTP_A$UP")" = 409 ] || fail "the same upload again through A: not 409"
echo "{\"id\":1,\"type\":\"sendMessage\",\"chatId\":\"$chat\",\"messageId\":\"00000000000000000000000000000c01\",\"envelopes\":[{\"user\":\"bob\",\"deviceId\":1,\"nonce\":\"$NONCE\",\"ciphertext\":\"$CT\"}],\"blobs\":[\"$BLOB\"]}" |
	rawreq "$URL_A" alice "$T/s.out"
[ "$(reply 1 "$T/s.out" | jq -r .ok)" = true ] || fail "sendMessage through A: $(cat "$T/s.out")"

# Bob asks A for the download path and fetches it from B, then the other way.
download "$URL_A" bob "$BLOB"
case $DOWN in /blobs/"$BLOB"\?exp=*\&sig=*) ;; *) fail "download path from A: $DOWN" ;; esac
[ "$(get "$HTTP_B$DOWN" "$T/got-b")" = 200 ] || fail "GET through B of a path A signed"
cmp -s "$T/file" "$T/got-b" || fail "B served other bytes"
download "$URL_B" bob "$BLOB"
case $DOWN in /blobs/"$BLOB"\?exp=*\&sig=*) ;; *) fail "download path from B: $DOWN" ;; esac
[ "$(get "$HTTP_A$DOWN" "$T/got-a")" = 200 ] || fail "GET through A of a path B signed"
cmp -s "$T/file" "$T/got-a" || fail "A served other bytes"

# End to end: alice sends through A, bob receives and downloads through B.
head -c 3000000 /dev/urandom >"$T/photo.jpg"
expect_exit 0 ctl alice --json send "$chat" "through A" --attach "$T/photo.jpg"
m=$(jq -r .messageId "$T/out")
expect_exit 0 "$CHATCTL" --home "$T/bob" --server "$URL_B" --json recv
# (The raw message above, with its fake envelope, shows as undecryptable.)
[ "$(jq -r 'select(.type == "message" and .text != null) | .text' "$T/out")" = "through A" ] ||
	fail "bob through B: $(cat "$T/out")"
expect_exit 0 "$CHATCTL" --home "$T/bob" --server "$URL_B" --json download "$m"
cmp -s "$(jq -r '.[0].path' "$T/out")" "$T/photo.jpg" || fail "bob's download through B differs"
expect_in "$T/b.log" "conn "

# B restarted with another key: A's paths are refused there (403), so the
# shared key is what made them work.
download "$URL_A" bob "$BLOB"
stop_b
mkdir "$T/other"
start_b "$b_port" "$T/other/blob.key"
[ "$(get "$HTTP_B$DOWN" "$T/got-x")" = 403 ] || fail "a path A signed, on an instance with another key: not 403"
stop_b

# An upload in progress on A survives B starting on the same directory
# (B's sweep of .part files left by a crash leaves recent ones alone).
head -c 2097152 /dev/urandom >"$T/slow"
target "$URL_A" alice 2097152
curl -s -o "$T/slow.out" -w '%{http_code}' --limit-rate 400k -T "$T/slow" "$HTTP_A$UP" >"$T/slow.code" &
wait_until 10 "the slow upload never started" test -e "$T/shared/blobs/$BLOB.part"
start_b "$b_port"
wait_until 30 "the slow upload did not end" test -s "$T/slow.code"
[ "$(cat "$T/slow.code")" = 201 ] || fail "the upload A was receiving while B started: $(cat "$T/slow.code")"
cmp -s "$T/slow" "$T/shared/blobs/$BLOB" || fail "the upload A received differs"
stop_b
exit 0
