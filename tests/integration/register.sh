# Registering two users: each home gets its own identity, kept private, and the
# server remembers who is who.
. "$(dirname "$0")/lib.sh"
start_server

register alice bob
expect_exit 0 ctl alice --json whoami
[ "$(jq -r .user "$T/out")" = alice ] || fail "whoami user: $(cat "$T/out")"
[ "$(jq -r .deviceId "$T/out")" = 1 ] || fail "whoami device: $(cat "$T/out")"
[ "$(jq -r .server "$T/out")" = "$URL" ] || fail "server URL not remembered"

# Private key and store are the owner's only; the home is 0700.
[ "$(stat -c %a "$T/alice/identity.key")" = 600 ] || fail "identity.key mode $(stat -c %a "$T/alice/identity.key")"
[ "$(stat -c %a "$T/alice/store.db")" = 600 ] || fail "store.db mode"
[ "$(stat -c %a "$T/alice")" = 700 ] || fail "home mode"
cmp -s "$T/alice/identity.key" "$T/bob/identity.key" && fail "two homes share a key"

# The server URL is remembered: no --server needed after registration.
expect_exit 0 "$CHATCTL" --home "$T/alice" whoami
expect_in "$T/out" "alice"

# A home registers once; a taken name is refused by the server (exit 4).
expect_exit 1 ctl alice register alice2
expect_in "$T/err" "already registered"
expect_exit 4 ctl mallory register alice
expect_in "$T/err" "user_exists"
# The refused home can still register under a free name with the same key.
expect_exit 0 ctl mallory register mallory

# An invalid user name is a usage error, and the server is never asked.
expect_exit 2 ctl carol register "Bad Name"
# A world-readable private key is refused, as ssh does.
chmod 644 "$T/bob/identity.key"
expect_exit 1 ctl bob whoami
expect_in "$T/err" "chmod 600"
chmod 600 "$T/bob/identity.key"
expect_exit 0 ctl bob whoami
