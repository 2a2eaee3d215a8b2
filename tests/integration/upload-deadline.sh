# A slow upload is cut off (issue 10, item 13): after --upload-grace seconds an
# upload must have averaged --upload-min-rate bytes a second, or its
# connection closes and its temporary file goes; a trickle of bytes cannot
# hold a socket and a file for days. Uploads at a fair rate are not touched.
. "$(dirname "$0")/lib.sh"
SERVER_OPTS="--upload-min-rate 2000 --upload-grace 1"
start_server
register alice
target() {
	echo "{\"id\":1,\"type\":\"getAttachmentTarget\",\"size\":$1}" |
		"$PROBE" raw --home "$T/alice" --wait 500 "$URL" >"$T/t.out" 2>&1 || fail "probe"
	BLOB=$(grep '"id":1,' "$T/t.out" | jq -r .blobId)
	UP=$(grep '"id":1,' "$T/t.out" | jq -r .uploadPath)
}

# 1000 bytes a second: behind the minimum soon after the grace.
target 20000
start=$(date +%s)
"$PROBE" slow-put 127.0.0.1 "$port" "$UP" 20000 1000 >"$T/put" 2>&1 || fail "probe: $(cat "$T/put")"
[ $(($(date +%s) - start)) -le 6 ] || fail "a slow upload was let run for $(($(date +%s) - start)) s"
expect_in "$T/put" "closed after"
expect_in "$T/server.log" "blob $BLOB upload refused: too slow (under 2000 bytes a second after 1 s)"
[ ! -e "$T/blobs/$BLOB.part" ] || fail "the temporary file was left"
[ ! -e "$T/blobs/$BLOB" ] || fail "a blob was stored"

# 5000 bytes a second: stored.
target 20000
"$PROBE" slow-put 127.0.0.1 "$port" "$UP" 20000 5000 >"$T/put" 2>&1 || fail "probe: $(cat "$T/put")"
[ "$(cat "$T/put")" = 201 ] || fail "a fair upload got $(cat "$T/put")"
[ "$(stat -c %s "$T/blobs/$BLOB")" = 20000 ] || fail "stored blob"
