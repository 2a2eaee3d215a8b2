# Chaos: 1,000 messages between three devices while the server is SIGKILLed
# and restarted and the clients are SIGKILLed at random; afterwards every
# device holds exactly the messages it should, once each, in server order.
#
# Devices a, b and c (one user each) share a group. Each runs one
# "chatctl rpc", which sends and receives on one session (a second program
# on the same device would take the session over), fed its messages
# "a-1".."a-334" (b and c: 333 each) in bursts of 1 to 15, about 10 a second
# on average. A SIGKILLed rpc is started again by its driver, which feeds it
# only what the device's store does not hold yet: whatever the store holds
# is libchat's to send (its outbox), never resent by hand. A schedule drawn
# from a seed kills the server or a client at random moments until every
# message has been written. Then each device catches up with "chatctl recv",
# and the histories are checked against each other and the server: the same
# 1,000 messages everywhere, each once, none pending or failed, in one order
# of strictly increasing seq (the server's), each sender's in the order it
# wrote them.
#
# The seed is printed; CHAOS_SEED=N replays the same schedule (the timing of
# the processes around it cannot be replayed).
. "$(dirname "$0")/lib.sh"
# Below 2^31: mawk's srand() takes every larger seed for the same one.
SEED=${CHAOS_SEED:-$(($(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % 2147483647))}
echo "chaos seed $SEED (replay with CHAOS_SEED=$SEED)"
# Seconds per message of one device, on average.
PACE=0.1
started=$(date +%s)

# The server's default rate limits stay on: a send refused as rate_limited
# goes again, in its place, after the time the server names.
start_server
register a b c
expect_exit 0 ctl a create --name chaos b c
chat=$(cat "$T/out")
expect_exit 0 ctl b recv
expect_exit 0 ctl c recv

count_of() {
	case $1 in a) echo 334 ;; *) echo 333 ;; esac
}
dev_no() {
	case $1 in a) echo 1 ;; b) echo 2 ;; c) echo 3 ;; esac
}

# plan D LIFE: writes to $T/D.todo the send requests for D's messages that
# its store does not hold (pending or sent), in the order they are written,
# in bursts: after each, a line "#PAUSE" with the seconds until the next.
plan() {
	"$CHATCTL" --home "$T/$1" --json history "$chat" >"$T/$1.hist" 2>>"$T/$1.err" ||
		return 1
	jq -r '.[] | select(.type == "message" and .outgoing) | .text' "$T/$1.hist" >"$T/$1.have"
	awk -v d="$1" -v n="$(count_of "$1")" -v chat="$chat" -v pace=$PACE \
		-v seed=$(((SEED + 3 * $2 + $(dev_no "$1")) % 2147483647)) '
		{ have[$0] = 1 }
		END {
			srand(seed)
			burst = 0
			for (i = 1; i <= n; i++) {
				if ((d "-" i) in have)
					continue
				if (burst == 0)
					burst = 1 + int(15 * rand())
				printf "{\"jsonrpc\":\"2.0\",\"id\":\"%s-%d\",\"method\":\"send\"," \
				       "\"params\":{\"chat\":\"%s\",\"text\":\"%s-%d\"}}\n",
				       d, i, chat, d, i
				if (--burst == 0)
					printf "#%.2f\n", pace * (1 + int(15 * rand()))
			}
		}' "$T/$1.have" >"$T/$1.todo"
}

# feed D: the input of D's rpc: the planned requests, paced; then nothing
# until the chaos is over or the rpc is killed. End of input stops the rpc.
feed() {
	n=0
	while [ ! -s "$T/$1.pid" ]; do
		n=$((n + 1)); [ $n -gt 500 ] && return 0; sleep 0.01
	done
	pid=$(cat "$T/$1.pid")
	while IFS= read -r line; do
		kill -0 "$pid" 2>/dev/null || return 0
		case $line in
		'#'*) sleep "${line#\#}" ;;
		*) printf '%s\n' "$line" || return 0 ;;
		esac
	done <"$T/$1.todo"
	: >"$T/$1.fed"
	while [ ! -e "$T/stop" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

# driver D: runs D's rpc again and again (it is killed at random) until the
# chaos is over and D's store holds all of D's messages.
driver() {
	lives=0
	while plan "$1" $lives; do
		[ -e "$T/stop" ] && [ ! -s "$T/$1.todo" ] && break
		lives=$((lives + 1))
		if [ $lives -gt 200 ]; then
			echo "driver $1: the rpc keeps dying: $(tail -n 3 "$T/$1.err")" >"$T/$1.broken"
			break
		fi
		rm -f "$T/$1.pid"
		feed "$1" | sh -c 'echo $$ >"$1"; exec "$2" --home "$3" --server "$4" rpc' \
			rpc "$T/$1.pid" "$CHATCTL" "$T/$1" "$URL" >>"$T/$1.rpc" 2>>"$T/$1.err"
	done
	: >"$T/$1.done"
}

# On the way out (a failure included), no rpc may outlive the test: the
# drivers go first, so that none starts another.
chaos_cleanup() {
	st=$?
	for p in $drivers; do kill "$p" 2>/dev/null; done
	for d in a b c; do
		[ -s "$T/$d.pid" ] && kill -9 "$(cat "$T/$d.pid")" 2>/dev/null
	done
	(exit $st)
	cleanup
}
trap chaos_cleanup EXIT INT TERM
# The devices start with the server down: their first messages wait in the
# outbox, and b and c have not fetched the others' keys yet, so once it is
# up each pending message asks for them while new ones are being written.
kill_server
drivers=""
for d in a b c; do
	# The shell's "Killed" for each rpc the schedule kills goes to its log.
	driver $d 2>>"$T/$d.driver" &
	drivers="$drivers $!"
done

# The schedule: each line "KIND DELAY DOWN DEVICE": after DELAY seconds,
# SIGKILL the server (and start it again DOWN seconds later) or DEVICE's rpc.
awk -v seed="$SEED" 'BEGIN {
	srand(seed)
	for (k = 0; k < 1000; k++)
		printf "%s %.2f %.2f %s\n", rand() < 0.3 ? "server" : "client",
		       0.3 + 1.7 * rand(), 0.2 + 1.3 * rand(), substr("abc", 1 + int(3 * rand()), 1)
}' >"$T/schedule"

sleep 2
start_server "$port"
all_fed() { [ -e "$T/a.fed" ] && [ -e "$T/b.fed" ] && [ -e "$T/c.fed" ]; }
server_kills=1
client_kills=0
ev=0
while ! all_fed || [ $server_kills -lt 3 ]; do
	ev=$((ev + 1))
	[ $ev -le 1000 ] || fail "the schedule ran out before the messages were written"
	set -- $(sed -n "${ev}p" "$T/schedule")
	sleep "$2"
	for d in a b c; do
		[ -e "$T/$d.broken" ] && fail "$(cat "$T/$d.broken")"
	done
	if [ "$1" = server ]; then
		# A server that died by itself is a failure, not part of the plan.
		kill -0 "$SERVER_PID" 2>/dev/null || fail "chat-server died on its own"
		check_server_log || exit 1
		kill_server
		sleep "$3"
		start_server "$port"
		server_kills=$((server_kills + 1))
	elif [ -s "$T/$4.pid" ] && kill -9 "$(cat "$T/$4.pid")" 2>/dev/null; then
		client_kills=$((client_kills + 1))
	fi
done
: >"$T/stop"
echo "chaos: $server_kills server kills, $client_kills client kills, $(($(date +%s) - started)) s"

# Every driver has its rpc finish (end of input: the calls under way answer).
done_all() { [ -e "$T/a.done" ] && [ -e "$T/b.done" ] && [ -e "$T/c.done" ]; }
wait_until 60 "the drivers did not finish" done_all
for d in a b c; do
	[ -e "$T/$d.broken" ] && fail "$(cat "$T/$d.broken")"
done

# Catch up: each recv sends the device's outbox and takes what waits for it;
# a second round takes what the others' outboxes sent in the first.
histories() {
	for d in a b c; do
		"$CHATCTL" --home "$T/$d" --json history "$chat" |
			jq -c '[.[] | select(.type == "message")]' >"$T/$d.final" || return 1
	done
}
complete() {
	for d in a b c; do
		[ "$(jq '[.[] | select(.state == "sent" or .state == "delivered" or .state == "read" or .state == "received")] | length' \
			"$T/$d.final")" -eq 1000 ] || return 1
	done
}
round=0
until histories && complete; do
	round=$((round + 1))
	[ $round -le 4 ] || break
	for d in a b c; do
		expect_exit 0 ctl $d recv
	done
done

# The messages every device must hold: all of them, its own included.
for d in a b c; do
	seq 1 "$(count_of $d)" | sed "s/^/$d-/"
done | sort >"$T/expected"
ids() { jq -r '.[] | "\(.seq) \(.messageId) \(.sender) \(.text)"' "$T/$1.final"; }
for d in a b c; do
	f="$T/$d.final"
	n=$(jq length "$f")
	jq -r '.[].text' "$f" | sort >"$T/$d.texts"
	cmp -s "$T/$d.texts" "$T/expected" ||
		fail "$d holds $n messages; missing: $(comm -13 "$T/$d.texts" "$T/expected" | head -n 20 | paste -s)" \
			"; extra or twice: $(sort "$T/$d.texts" | uniq -d | head -n 20 | paste -s)"
	[ "$(jq '[.[].messageId] | unique | length' "$f")" -eq 1000 ] || fail "$d: a message id twice"
	bad=$(jq -c '[.[] | select(.state != "sent" and .state != "delivered" and .state != "read" and .state != "received") | [.text, .state]]' "$f")
	[ "$bad" = "[]" ] || fail "$d: not sent (or delivered, read) or received: $bad"
	jq -e --arg d "$d" 'all(.[]; .outgoing == (.sender == $d))' "$f" >/dev/null ||
		fail "$d: outgoing flags wrong"
	jq -e '[.[].seq] as $s | all(range(1; $s | length); $s[.] > $s[. - 1])' "$f" >/dev/null ||
		fail "$d: seqs not strictly increasing: $(jq -c '[.[].seq]' "$f")"
	# Each sender's messages in the order it wrote them.
	for s in a b c; do
		jq -r --arg s "$s" '.[] | select(.sender == $s) | .text' "$f" >"$T/$d.from.$s"
		seq 1 "$(count_of $s)" | sed "s/^/$s-/" | cmp -s - "$T/$d.from.$s" ||
			fail "$d: $s's messages out of the order written: $(paste -s "$T/$d.from.$s" | head -c 600)"
	done
	ids "$d" >"$T/$d.order"
done
# One order, the server's, on every device.
cmp -s "$T/a.order" "$T/b.order" || fail "a and b differ: $(diff "$T/a.order" "$T/b.order" | head)"
cmp -s "$T/a.order" "$T/c.order" || fail "a and c differ: $(diff "$T/a.order" "$T/c.order" | head)"
server_sql "SELECT seq, message_id FROM messages WHERE chat_id = '$chat'
	AND kind = 'message' ORDER BY seq" | tr '|' ' ' >"$T/server.order"
cut -d' ' -f1,2 "$T/a.order" | cmp -s - "$T/server.order" ||
	fail "the server's messages differ: $(cut -d' ' -f1,2 "$T/a.order" | diff - "$T/server.order" | head)"
# No message waits in any inbox (receipts sent by the last round may).
[ "$(server_sql "SELECT count(*) FROM inbox JOIN messages USING (message_id)
	WHERE kind <> 'receipt'")" -eq 0 ] || fail "left in an inbox"
# No client reported a sanitizer error (the server's log is checked on exit).
for d in a b c; do
	grep -Eq "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$T/$d.err" &&
		fail "sanitizer report from $d's chatctl: $(grep -E -A5 'Sanitizer|runtime error' "$T/$d.err" | head -n 20)"
done
echo "chaos: all 1000 messages on every device, once each, in server order, in $(($(date +%s) - started)) s"
exit 0
