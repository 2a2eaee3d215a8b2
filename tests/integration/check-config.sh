# chat-server --check-config: every option parsed, the store opened and
# pinged, the blob directory and key, the certificate and key, --bus's form;
# a line per part and exit 0 when all is good, without making a file or
# listening (a port in use by the running server is fine: the check runs
# beside it). Each bad part is named, all of them in one run, exit 1 (the
# store, the blob directory, the address) or 2 (a key or certificate that
# cannot be used, bad arguments).
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null 2>&1 || fail "openssl is missing (scripts/install-deps.sh installs it)"

# check ARGS...: --check-config with ARGS; output in $T/out and $T/err, status in $rc.
check() {
	"$SERVER" --check-config "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
# expect_rc CODE WHAT: the last check exited CODE.
expect_rc() {
	[ "$rc" = "$1" ] || fail "$2: exit $rc, expected $1; out: $(cat "$T/out") err: $(cat "$T/err")"
}

# A fresh configuration: good, and nothing is made.
mkdir "$T/fresh"
check --listen 127.0.0.1:0 --db "$T/fresh/server.db"
expect_rc 0 "a fresh configuration"
expect_in "$T/out" "store: sqlite $T/fresh/server.db ok"
expect_in "$T/out" "blobs: $T/fresh/blobs ok"
expect_in "$T/out" "blob key: $T/fresh/blob.key ok"
expect_in "$T/out" "tls: none"
expect_in "$T/out" "bus: none"
expect_in "$T/out" "configuration ok"
[ -z "$(ls -A "$T/fresh")" ] || fail "--check-config made files: $(ls -A "$T/fresh")"

# Beside a running server, on its port, database, blobs and key: good.
start_server
if [ "${CHAT_TEST_STORE:-sqlite}" = pg ]; then
	set -- --db "$STORE_URL" --blobs "$T/blobs" --blob-key "$T/blob.key"
	store_ok="store: postgresql $STORE_URL ok"
else
	set -- --db "$T/server.db"
	store_ok="store: sqlite $T/server.db ok"
fi
check --listen "127.0.0.1:$port" "$@" --instance-id node-1 --bus redis://127.0.0.1:6379/0
expect_rc 0 "beside the running server"
expect_in "$T/out" "instance: node-1"
expect_in "$T/out" "listen: 127.0.0.1:$port ok"
expect_in "$T/out" "$store_ok"
expect_in "$T/out" "blob key: $T/blob.key ok"
expect_in "$T/out" "bus: redis://127.0.0.1:6379/0 ok"
expect_not_in "$T/out" "not there yet"
register alice
stop_server

# TLS: a good pair, then a key of another certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
	-days 2 -keyout "$T/a.key" -out "$T/a.pem" 2>/dev/null || fail "openssl a"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
	-days 2 -keyout "$T/b.key" -out "$T/b.pem" 2>/dev/null || fail "openssl b"
check --listen 127.0.0.1:0 --db "$T/server.db" --cert "$T/a.pem" --key "$T/a.key"
expect_rc 0 "a good certificate"
expect_in "$T/out" "tls: $T/a.pem $T/a.key ok"
check --listen 127.0.0.1:0 --db "$T/server.db" --cert "$T/a.pem" --key "$T/b.key"
expect_rc 2 "a key of another certificate"
expect_in "$T/out" "tls: --key $T/b.key is not the private key of --cert $T/a.pem"
expect_in "$T/out" "configuration has problems"
# The other parts are still looked at, and good.
expect_in "$T/out" "store: sqlite $T/server.db ok"

# Each bad part, named.
# The store: a directory where the file should be; a directory that is not there.
mkdir "$T/dir.db"
check --listen 127.0.0.1:0 --db "$T/dir.db" --blobs "$T/blobs" --blob-key "$T/blob.key"
expect_rc 1 "a directory for the database"
expect_in "$T/out" "store: sqlite $T/dir.db:"
check --listen 127.0.0.1:0 --db "$T/nowhere/server.db" --blobs "$T/blobs" --blob-key "$T/blob.key"
expect_rc 1 "a database in a missing directory"
expect_in "$T/out" "store: sqlite $T/nowhere/server.db: not there, and its directory $T/nowhere"
# The blob directory: a file.
: >"$T/blobfile"
check --listen 127.0.0.1:0 --db "$T/server.db" --blobs "$T/blobfile"
expect_rc 1 "a file for the blob directory"
expect_in "$T/out" "blobs: $T/blobfile: not a directory"
# The blob key: too short, readable by others, missing in a missing directory.
head -c 31 /dev/urandom >"$T/short.key"
chmod 600 "$T/short.key"
check --listen 127.0.0.1:0 --db "$T/server.db" --blob-key "$T/short.key"
expect_rc 2 "a short blob key"
expect_in "$T/out" "blob key: the blob key $T/short.key is not 32 bytes long"
cp "$T/blob.key" "$T/open.key"
chmod 644 "$T/open.key"
check --listen 127.0.0.1:0 --db "$T/server.db" --blob-key "$T/open.key"
expect_rc 2 "a blob key others may read"
expect_in "$T/out" "may be read by others (mode 644)"
check --listen 127.0.0.1:0 --db "$T/server.db" --blob-key "$T/nowhere/blob.key"
expect_rc 2 "a blob key in a missing directory"
expect_in "$T/out" "blob key: $T/nowhere/blob.key: not there"
# The server refuses the same key, with the same words.
"$SERVER" --listen 127.0.0.1:0 --db "$T/server.db" --blob-key "$T/open.key" 2>"$T/err" >/dev/null
[ $? = 2 ] || fail "the server started with a blob key others may read"
expect_in "$T/err" "may be read by others (mode 644)"
# An address that does not resolve.
check --listen no-such-host.invalid:8080 --db "$T/server.db"
expect_rc 1 "an address that does not resolve"
expect_in "$T/out" "listen: no-such-host.invalid:8080: cannot resolve no-such-host.invalid"
# Several at once: each named, the worse status.
check --listen 127.0.0.1:0 --db "$T/dir.db" --blobs "$T/blobfile" --blob-key "$T/short.key"
expect_rc 2 "three bad parts"
expect_in "$T/out" "store: sqlite $T/dir.db:"
expect_in "$T/out" "blobs: $T/blobfile: not a directory"
expect_in "$T/out" "blob key: the blob key $T/short.key"

# Arguments: as the server's, exit 2 and the option named.
check --listen 127.0.0.1:0 --db "$T/server.db" --bus redis://127.0.0.1
expect_rc 2 "a --bus without a port"
expect_in "$T/err" "--bus: 'redis://127.0.0.1' is not redis://HOST:PORT[/DB]"
check --listen 127.0.0.1:0 --db "$T/server.db" --instance-id "two words"
expect_rc 2 "an --instance-id with a space"
expect_in "$T/err" "--instance-id: 'two words'"
check --listen 127.0.0.1:0 --db "$T/server.db" --log-format xml
expect_rc 2 "--log-format xml"
expect_in "$T/err" "--log-format: 'xml' is not text or json"
# A database URL: --blobs and --blob-key are required (the server too).
check --listen 127.0.0.1:0 --db postgresql://chat@127.0.0.1:1/chat
expect_rc 2 "a database URL alone"
expect_in "$T/err" "a database URL needs --blobs DIR and --blob-key FILE (both missing)"
check --listen 127.0.0.1:0 --db postgres://chat@127.0.0.1:1/chat --blobs "$T/blobs"
expect_rc 2 "a database URL without --blob-key"
expect_in "$T/err" "--blob-key missing"
"$SERVER" --listen 127.0.0.1:0 --db postgresql://chat@127.0.0.1:1/chat --blob-key "$T/blob.key" \
	>/dev/null 2>"$T/err"
[ $? = 2 ] || fail "the server started on a database URL without --blobs"
expect_in "$T/err" "--blobs missing"
# With both, a store nobody answers for: exit 1, the store named, and the URL
# (which may hold a password) not repeated.
check --listen 127.0.0.1:0 --db postgresql://chat:secret@127.0.0.1:1/chat --blobs "$T/blobs" \
	--blob-key "$T/blob.key"
expect_rc 1 "a database URL nobody answers"
grep -q "^store: " "$T/out" || fail "no store line: $(cat "$T/out")"
expect_not_in "$T/out" "secret"
expect_in "$T/out" "blobs: $T/blobs ok"
exit 0
