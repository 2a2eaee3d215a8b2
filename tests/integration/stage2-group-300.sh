# A group of 100 members with 3 devices each (300 devices) under stage 2:
# one message from a member's phone reaches the other 299 devices, its own
# user's other two included, each reading it; the sender encrypted it once
# (one sender-key message, the same bytes in every envelope). Then a second
# message goes without any key attached (every device holds the key now).
# 300 devices registered and linked: 45 s under ASan on a quiet machine.
# timeout: 360
. "$(dirname "$0")/lib.sh"
start_server
users=""
i=1
while [ $i -le 100 ]; do users="$users u$i"; i=$((i + 1)); done
echo $users | tr ' ' '\n' | xargs -P 2 -I{} sh -c \
	'"$0" --home "$1/{}" --server "$2" register {} >/dev/null' "$CHATCTL" "$T" "$URL" ||
	fail "registration"
# Two more devices per user, linked (and approved from the first) two at a time.
cat >"$T/link.sh" <<'EOF2'
# link.sh CHATCTL T URL NEW USER: NEW joins USER's account, approved by USER's home.
c=$1 t=$2 url=$3 new=$4 user=$5
"$c" --home "$t/$new" --server "$url" --json device link "$user" >"$t/$new.link" 2>"$t/$new.lerr" &
pid=$!
i=0
while ! grep -q '"code"' "$t/$new.link"; do
	i=$((i + 1)); [ $i -gt 400 ] && { echo "no code for $new: $(cat "$t/$new.lerr")"; exit 1; }
	sleep 0.05
done
"$c" --home "$t/$user" --server "$url" device approve --history-days 0 "$(head -n 1 "$t/$new.link" | jq -r .code)" \
	>/dev/null 2>"$t/$new.aerr" || { echo "approve $new: $(cat "$t/$new.aerr")"; exit 1; }
wait $pid || { echo "link $new: $(cat "$t/$new.lerr")"; exit 1; }
EOF2
for u in $users; do echo "${u}b $u"; echo "${u}c $u"; done |
	xargs -P 2 -L 1 sh "$T/link.sh" "$CHATCTL" "$T" "$URL" >"$T/links" 2>&1 ||
	fail "linking: $(head -n 5 "$T/links")"
[ "$(server_sql "SELECT count(*) FROM devices")" -eq 300 ] ||
	fail "$(server_sql "SELECT count(*) FROM devices") devices, not 300"

others=$(echo $users | cut -d' ' -f2-)
expect_exit 0 ctl u1 create --name "three hundred" $others
g=$(cat "$T/out")
expect_exit 0 ctl u1 send "$g" "to 299 devices"
# One sender-key message for all: every envelope ends in the same 300 bytes
# (the message's tail and its signature), whatever key it carries before.
[ "$(server_sql "SELECT count(DISTINCT substr(ciphertext, length(ciphertext) - 299)), count(*)
	FROM inbox i JOIN messages m USING (message_id) WHERE m.kind = 'message'")" = "1|299" ] ||
	fail "not one sender-key message in 299 envelopes"
homes=""
for u in $users; do homes="$homes ${u}b ${u}c"; [ $u = u1 ] || homes="$homes $u"; done
recv_all() {
	echo $homes | tr ' ' '\n' | xargs -P 2 -I{} sh -c \
		'out=$("$0" --home "$1/{}" --server "$2" --json recv) && echo "$out" | grep -q "$3" && echo ok' \
		"$CHATCTL" "$T" "$URL" "$1" >"$T/oks"
	[ "$(count_lines "$T/oks")" -eq 299 ] || fail "only $(count_lines "$T/oks") of 299 devices read '$1'"
}
recv_all "to 299 devices"
expect_exit 0 ctl u1 send "$g" "second, no key attached"
# Each envelope is the message alone now: 3 bytes of form, no key.
[ "$(server_sql "SELECT count(*) FROM inbox i JOIN messages m USING (message_id)
	WHERE m.kind = 'message' AND $(sql_hex 'substr(ciphertext, 1, 3)') = '230000'")" -eq 299 ] ||
	fail "the second message carries keys again"
recv_all "second, no key attached"
stop_server
exit 0
