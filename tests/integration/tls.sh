# TLS: chat-server serves wss:// (and https://) with a certificate and key, and
# libchat checks it. With the development CA that signed it (--ca-file, or
# CHAT_CA_FILE) messages go end to end through TLS; without that CA, or with a
# certificate for another name, the connection is refused with a clear error
# and exit status 3, nothing reaches the server, and listen stops retrying.
# Devices bind their session to the TLS connection: a TLS-terminating relay
# cannot act as them, while a TCP proxy (with --name) can carry them. A
# chat-server with a certificate or key it cannot use does not start (exit 2).
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null 2>&1 ||
	fail "the openssl command is missing (scripts/install-deps.sh installs it)"
unset CHAT_CA_FILE

# A throwaway CA and two certificates it signs: one for localhost (and
# 127.0.0.1), one for another name. Our own config, so that the system's
# openssl.cnf does not matter.
cat > "$T/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
x509_extensions = ca
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
openssl req -x509 -config "$T/ca.cnf" -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	-nodes -subj "/CN=chat test CA" -days 2 -keyout "$T/ca.key" -out "$T/ca.pem" \
	2>"$T/openssl.err" || fail "cannot make the test CA: $(cat "$T/openssl.err")"

# leaf NAME SUBJECT_ALT_NAME: $T/NAME.pem and $T/NAME.key, signed by the CA.
leaf() {
	printf '%s\n' "basicConstraints = CA:FALSE" "keyUsage = critical, digitalSignature" \
		"extendedKeyUsage = serverAuth" "subjectAltName = $2" > "$T/$1.ext"
	openssl req -new -config "$T/ca.cnf" -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -subj "/CN=$1" -keyout "$T/$1.key" -out "$T/$1.csr" 2>"$T/openssl.err" &&
		openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
			-CAcreateserial -days 2 -extfile "$T/$1.ext" -out "$T/$1.pem" \
			2>"$T/openssl.err" ||
		fail "cannot make the certificate for $1: $(cat "$T/openssl.err")"
}
leaf localhost "DNS:localhost, IP:127.0.0.1"
leaf wrong.example "DNS:wrong.example"

# --- a certificate or key the server cannot use: exit 2 before anything else
bad_start() {
	expect_exit 2 "$SERVER" --listen 127.0.0.1:0 --db "$T/never.db" "$@"
	expect_not_in "$T/err" "listening on"
	[ ! -e "$T/never.db" ] || fail "chat-server opened its database with $*"
}
bad_start --cert "$T/missing.pem" --key "$T/localhost.key"
expect_in "$T/err" "cannot read --cert $T/missing.pem: No such file or directory"
bad_start --cert "$T/localhost.pem" --key "$T/wrong.example.key"
expect_in "$T/err" "--key $T/wrong.example.key is not the private key of --cert $T/localhost.pem"
bad_start --cert "$T/localhost.pem" --key "$T/localhost.pem"
expect_in "$T/err" "is not a PEM private key"
bad_start --cert "$T/localhost.key" --key "$T/localhost.key"
expect_in "$T/err" "is not a PEM certificate"
bad_start --cert "$T/localhost.pem"
expect_in "$T/err" "--cert FILE and --key FILE go together"

# --- the good certificate: end to end through TLS
SERVER_OPTS="--cert $T/localhost.pem --key $T/localhost.key"
start_server
case $URL in wss://localhost:*) ;; *) fail "the test URL '$URL' is not wss://localhost" ;; esac
expect_in "$T/server.log" "listening on wss://127.0.0.1:$port/"
expect_exit 0 ctl alice --ca-file "$T/ca.pem" register alice
expect_exit 0 ctl bob --ca-file "$T/ca.pem" register bob
expect_exit 0 ctl alice --ca-file "$T/ca.pem" create bob
expect_exit 0 ctl alice --ca-file "$T/ca.pem" send @bob "hello over wss"
# The CA from the environment instead, and the address the certificate names too.
expect_exit 0 env CHAT_CA_FILE="$T/ca.pem" "$CHATCTL" --home "$T/bob" \
	--server "wss://127.0.0.1:$port/" recv
expect_in "$T/out" "alice: hello over wss"

# Files go over https:// on the same listener, verified against the same CA.
head -c 300000 /dev/urandom >"$T/file.bin"
expect_exit 0 ctl alice --ca-file "$T/ca.pem" --json send @bob "a file over https" --attach "$T/file.bin"
fm=$(jq -r .messageId "$T/out")
expect_exit 0 ctl bob --ca-file "$T/ca.pem" recv
expect_exit 0 ctl bob --ca-file "$T/ca.pem" download "$fm" --out "$T/file.got"
cmp -s "$T/file.bin" "$T/file.got" || fail "the file over https differs"

# Plain HTTP requests are served on the same listener, over TLS (https://).
printf 'GET /nothing HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
	timeout 10 openssl s_client -quiet -connect "127.0.0.1:$port" -servername localhost \
		-CAfile "$T/ca.pem" -verify_return_error -verify_hostname localhost \
		>"$T/https.out" 2>"$T/https.err"
expect_in "$T/https.out" "HTTP/1.1 404"

# --- relays. Through a TCP proxy (TLS end to end) a device gets in when the
# server knows the proxy's name (--name). Through a relay that ends TLS and
# opens its own to the server (a server in the middle, with a certificate
# the client trusts), the name passes too, but the device signed its own TLS
# connection's binding, which is not the relay's: refused, nothing sent.
"$BIN/tests/blackhole-proxy" "$port" >"$T/proxy.port" 2>"$T/proxy.log" &
"$BIN/tests/tls-relay" --cert "$T/localhost.pem" --key "$T/localhost.key" "$port" \
	>"$T/relay.port" 2>"$T/relay.log" &
wait_until 5 "blackhole-proxy did not start" test -s "$T/proxy.port"
wait_until 5 'tls-relay did not start: $(cat "$T/relay.log")' test -s "$T/relay.port"
proxied="wss://localhost:$(cat "$T/proxy.port")/"
relayed="wss://localhost:$(cat "$T/relay.port")/"
SERVER_OPTS="--cert $T/localhost.pem --key $T/localhost.key --name localhost:$(cat "$T/proxy.port")"
SERVER_OPTS="$SERVER_OPTS --name localhost:$(cat "$T/relay.port")"
restart_server
expect_exit 0 "$CHATCTL" --home "$T/alice" --server "$proxied" --ca-file "$T/ca.pem" \
	send @bob "through a TCP proxy"
expect_exit 4 "$CHATCTL" --home "$T/alice" --server "$relayed" --ca-file "$T/ca.pem" \
	send @bob "through a TLS relay"
expect_in "$T/err" "bad_signature"
expect_in "$T/server.log" "code=bad_signature device=-: signature does not verify with the identity key of alice/1 over this connection's challenge, server name and TLS binding"
expect_exit 0 ctl bob --ca-file "$T/ca.pem" recv
expect_in "$T/out" "alice: through a TCP proxy"
expect_not_in "$T/out" "through a TLS relay"

# --- no CA file: the system's CAs do not know the test CA
opens=$(grep -c " open peer=" "$T/server.log")
expect_exit 3 ctl carol register carol
expect_in "$T/err" "the server's certificate was refused: unable to get local issuer certificate"
expect_in "$T/err" "'localhost' issued by 'chat test CA'"
expect_in "$T/err" "give --ca-file FILE"
expect_exit 3 ctl alice send @bob "not over an unverified connection"
expect_in "$T/err" "the server's certificate was refused"
[ "$(grep -c " open peer=" "$T/server.log")" = "$opens" ] ||
	fail "a connection reached the server without a verified certificate"
[ "$(server_sql "SELECT count(*) FROM users WHERE \"user\" = 'carol'")" = 0 ] ||
	fail "carol was registered"
expect_exit 0 ctl bob --ca-file "$T/ca.pem" recv
expect_not_in "$T/out" "not over an unverified connection"

# --- a certificate for another name, while listen reconnects: it stops, says why
(
	"$CHATCTL" --home "$T/bob" --server "$URL" --ca-file "$T/ca.pem" listen \
		>"$T/listen.out" 2>"$T/listen.err"
	echo $? > "$T/listen.rc"
) &
i=0
while ! grep -q "connected to" "$T/listen.err" 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 200 ] && fail "listen never connected: $(cat "$T/listen.err")"; sleep 0.05
done
stop_server
SERVER_OPTS="--cert $T/wrong.example.pem --key $T/wrong.example.key"
start_server "$port"
i=0
while [ ! -s "$T/listen.rc" ]; do
	i=$((i + 1))
	[ $i -gt 600 ] && fail "listen still retries a refused certificate: $(cat "$T/listen.err")"
	sleep 0.05
done
[ "$(cat "$T/listen.rc")" = 3 ] || fail "listen exited $(cat "$T/listen.rc"): $(cat "$T/listen.err")"
expect_in "$T/listen.err" "the server's certificate was refused: hostname mismatch"
expect_in "$T/listen.err" "a certificate for 'wrong.example'"

expect_exit 3 ctl alice --ca-file "$T/ca.pem" recv
expect_in "$T/err" "the server's certificate was refused: hostname mismatch"
expect_in "$T/err" "wss://localhost:$port/ presented a certificate for 'wrong.example'"
expect_not_in "$T/server.log" " open peer="
