# Attachments end to end through chatctl: alice sends a file of several
# megabytes, bob's recv lists it, his download is byte-identical, the server
# holds only ciphertext, and a progress bar shows on a terminal. Bad input: a
# missing file, a file over the server's limit, a tampered blob, a member
# removed from the group: each is refused, no message points at a blob that
# did not arrive, and no partial file is left under the destination name.
. "$(dirname "$0")/lib.sh"
SERVER_OPTS="--max-blob 8000000"
start_server
register alice bob carol
expect_exit 0 ctl alice create bob
c=$(cat "$T/out")

head -c 5000000 /dev/urandom >"$T/photo.jpg"
echo "a plaintext marker the server must never see" >>"$T/photo.jpg"
expect_exit 0 ctl alice --json send "$c" "the photos" --attach "$T/photo.jpg"
m=$(jq -r .messageId "$T/out")
expect_exit 0 ctl bob --json recv
[ "$(jq -r 'select(.type == "message") | .attachments[0] | "\(.name) \(.type) \(.size) \(.downloaded)"' "$T/out")" = \
	"photo.jpg image/jpeg $(wc -c <"$T/photo.jpg") false" ] || fail "recv: $(cat "$T/out")"
[ "$(jq -r 'select(.type == "message") | .text' "$T/out")" = "the photos" ] || fail "text"
# The server's blob store holds ciphertext only.
server_dump >"$T/dump" || fail "cannot dump the store"
grep -rq "plaintext marker" "$T"/blobs "$T/server.db" "$T/dump" 2>/dev/null && fail "plaintext on the server"
[ "$(ls "$T"/blobs | wc -l)" -eq 1 ] || fail "blobs: $(ls -la "$T"/blobs)"

expect_exit 0 ctl bob --json download "$m"
p=$(jq -r '.[0].path' "$T/out")
cmp -s "$p" "$T/photo.jpg" || fail "the download differs"
[ "$(stat -c %a "$p")" = 600 ] || fail "mode of the download"
expect_exit 0 ctl bob --json history "$c"
[ "$(jq -r '.[0].attachments[0].downloaded' "$T/out")" = true ] || fail "not marked downloaded"
# Again, with a name of our own; and the default name never replaces a file.
expect_exit 0 ctl bob download "$m" --out "$T/copy.jpg"
cmp -s "$T/copy.jpg" "$T/photo.jpg" || fail "--out differs"
expect_exit 0 ctl bob download "$m"
expect_in "$T/out" "photo (2).jpg"

# On a terminal, a progress bar (not in a pipe: nothing went to stderr above).
tmux -S "$T/tmux.sock" new-session -d -s up -x 120 -y 10 \
	"$CHATCTL --home $T/alice --server $URL send $c 'on a tty' --attach $T/photo.jpg; sleep 10"
i=0
until tmux -S "$T/tmux.sock" capture-pane -p -t up | grep -q "100%"; do
	i=$((i + 1)); [ $i -gt 200 ] && fail "no progress bar: $(tmux -S "$T/tmux.sock" capture-pane -p -t up)"
	sleep 0.05
done
tmux -S "$T/tmux.sock" capture-pane -p -t up | grep -q "\[##########" || fail "bar"

# A missing file: refused before anything is sent.
expect_exit 2 ctl alice send "$c" "nothing" --attach "$T/nope.bin"
expect_in "$T/err" "nope.bin"
# Over the server's limit: refused, and no message either.
head -c 9000000 /dev/zero >"$T/huge.bin"
expect_exit 4 ctl alice send "$c" "too big" --attach "$T/huge.bin"
expect_in "$T/err" "too_large"
expect_exit 0 ctl bob --json recv
[ "$(jq -r 'select(.type == "message") | .text' "$T/out")" = "on a tty" ] ||
	fail "a refused send reached bob: $(cat "$T/out")"
[ -z "$(ls "$T/alice/tmp")" ] || fail "alice left temporary files: $(ls "$T/alice/tmp")"

# A blob altered on the server: the download fails its hash, nothing is left.
m2=$(jq -r 'select(.type == "message") | .messageId' "$T/out")
# (byte 100 of each blob changed to another value: writing a fixed 'X' left
# a blob whose byte was an 'X' already as it was, once in 256 runs)
for b in "$T"/blobs/*; do
	o=$(od -An -tu1 -j 100 -N 1 "$b" | tr -d ' ')
	# shellcheck disable=SC2059
	printf "\\$(printf '%03o' $(((o + 1) % 256)))" | dd of="$b" bs=1 seek=100 conv=notrunc 2>/dev/null
	[ "$(od -An -tu1 -j 100 -N 1 "$b" | tr -d ' ')" != "$o" ] || fail "$b was not altered"
done
expect_exit 1 ctl bob download "$m2" --out "$T/tampered.jpg"
[ ! -e "$T/tampered.jpg" ] || fail "a tampered download was written"
[ -z "$(ls "$T/bob/tmp")" ] || fail "bob left temporary files"

# A disk that fills up (a file size limit here, on the downloading side; the
# same on the sending side): a clear error, and nothing left under the name.
( ulimit -f 2000; exec "$CHATCTL" --home "$T/bob" --server "$URL" download "$m" \
	--out "$T/full.jpg" ) >"$T/out" 2>"$T/err"
[ $? -eq 1 ] || fail "download onto a full disk: exit status; $(cat "$T/err")"
expect_in "$T/err" "File too large"
[ ! -e "$T/full.jpg" ] || fail "a partial download was left"
[ -z "$(ls "$T/bob/tmp")" ] || fail "bob left temporary files after a full disk"
( ulimit -f 2000; exec "$CHATCTL" --home "$T/alice" --server "$URL" send "$c" "full" \
	--attach "$T/photo.jpg" ) >"$T/out" 2>"$T/err"
[ $? -eq 1 ] || fail "send from a full disk: exit status; $(cat "$T/err")"
[ -z "$(ls "$T/alice/tmp")" ] || fail "alice left temporary files after a full disk"

# A member removed from a group before the message cannot fetch its file.
expect_exit 0 ctl alice create --name team bob carol
g=$(cat "$T/out")
expect_exit 0 ctl bob recv
expect_exit 0 ctl carol recv
expect_exit 0 ctl alice remove "$g" carol
head -c 300000 /dev/urandom >"$T/plan.pdf"
expect_exit 0 ctl alice --json send "$g" --attach "$T/plan.pdf"
m3=$(jq -r .messageId "$T/out")
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob download "$m3" --out "$T/plan-bob.pdf"
cmp -s "$T/plan-bob.pdf" "$T/plan.pdf" || fail "bob's plan differs"
# carol was removed before it: she never gets the message, nor could she fetch it.
expect_exit 0 ctl carol --json recv
grep -q "$m3" "$T/out" && fail "carol got the message"
stop_server
