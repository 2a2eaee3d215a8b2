# A changed key is refused until the user accepts it. The server here is made
# to hand out another device's keys as bob's (what a compromised server or a
# reinstalled phone looks like); alice must notice in both directions.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob mallory
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
expect_exit 0 ctl alice send "$chat" "before"
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob send "$chat" "bob's reply"
expect_exit 0 ctl alice recv

# bob writes (with his real key) before anything changes; it waits for alice.
expect_exit 0 ctl bob send "$chat" "held back"

# Swap in mallory's (validly self-signed) keys for bob's device 1, and the
# prekeys mallory's device published (signed by its identity key).
server_sql "
  CREATE TEMP TABLE m AS SELECT identity_key, exchange_key, exchange_key_sig FROM devices WHERE \"user\"='mallory';
  DELETE FROM signed_prekeys WHERE \"user\"='bob';
  DELETE FROM one_time_prekeys WHERE \"user\"='bob';
  UPDATE signed_prekeys SET \"user\"='bob' WHERE \"user\"='mallory';
  UPDATE one_time_prekeys SET \"user\"='bob' WHERE \"user\"='mallory';
  DELETE FROM devices WHERE \"user\"='mallory';
  UPDATE devices SET identity_key=(SELECT identity_key FROM m), exchange_key=(SELECT exchange_key FROM m),
    exchange_key_sig=(SELECT exchange_key_sig FROM m) WHERE \"user\"='bob';" || fail "server_sql"

# Outgoing: the directory now disagrees with alice's pin.
expect_exit 5 ctl alice create bob
expect_in "$T/err" "changed"
expect_in "$T/err" "chatctl trust bob"
expect_exit 5 ctl alice send "$chat" "secret for bob"
expect_in "$T/err" "nothing was sent"
[ "$(server_sql "SELECT count(*) FROM inbox JOIN messages USING (message_id)
  WHERE \"user\"='bob' AND kind='message'")" -eq 0 ] || fail "something was sent"

# Incoming: the server now says bob's message carries mallory's key.
expect_exit 5 ctl alice recv
expect_in "$T/err" "held back"
expect_not_in "$T/out" "held back"
# Still waiting on the server for alice, not lost.
[ "$(server_sql "SELECT count(*) FROM inbox WHERE \"user\"='alice'")" -eq 1 ] || fail "held message was dropped"

# Accepting the change lets everything through (encrypting to the new key).
expect_exit 0 ctl alice trust bob
expect_in "$T/out" "accepted"
expect_exit 0 ctl alice --json trust bob
[ "$(jq -r .accepted "$T/out")" = 0 ] || fail "second trust"
expect_exit 0 ctl alice send "$chat" "after trust"
# A key that is not signed by its identity key is never accepted.
server_sql "UPDATE devices SET exchange_key_sig=$(sql_zeros 64) WHERE \"user\"='bob'"
expect_exit 5 ctl alice create bob
expect_in "$T/err" "not signed"
