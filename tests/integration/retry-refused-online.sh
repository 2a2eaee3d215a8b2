# A retry that fails before anything is sent (a recipient's key changed)
# while the handle is online says so at once, as a send does, and the
# message stays failed. chatctl retry with two messages retries the second on
# the connection the first one made.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol mallory
expect_exit 0 ctl alice create bob
with_bob=$(cat "$T/out")
expect_exit 0 ctl alice create carol
with_carol=$(cat "$T/out")

# A failed message for bob: his key changed (mallory's keys swapped in).
server_sql "
  CREATE TEMP TABLE m AS SELECT identity_key, exchange_key, exchange_key_sig FROM devices WHERE \"user\"='mallory';
  DELETE FROM devices WHERE \"user\"='mallory';
  UPDATE devices SET identity_key=(SELECT identity_key FROM m), exchange_key=(SELECT exchange_key FROM m),
    exchange_key_sig=(SELECT exchange_key_sig FROM m) WHERE \"user\"='bob';" || fail "server_sql"
expect_exit 5 ctl alice create bob
expect_exit 5 ctl alice --json send "$with_bob" "for bob"
for_bob=$(jq -r .messageId "$T/out")
[ -n "$for_bob" ] && [ "$for_bob" != null ] || fail "no id for the failed send: $(cat "$T/out")"

# A pending one for carol: written while the server is down.
stop_server
expect_exit 3 ctl alice --json send "$with_carol" "for carol"
for_carol=$(jq -r .messageId "$T/out")
restart_server

# carol's goes out (and connects); bob's is refused on that connection.
expect_exit 5 ctl alice retry "$for_carol" "$for_bob"
expect_in "$T/out" "alice: for carol"
expect_in "$T/err" "changed"
expect_exit 0 ctl alice --json outbox
[ "$(jq -r '[.[] | .messageId + "=" + .state] | join(",")' "$T/out")" = "$for_bob=failed" ] ||
	fail "outbox: $(cat "$T/out")"
