# chatctl daemon's bounds: the 65th client at once is refused with a clear
# error and the 64 are served on; a client that sends but never reads is
# dropped once 16 MiB of answers wait for it, with a line on the daemon's
# standard error, while the others are answered as usual.
. "$(dirname "$0")/lib.sh"
RC="$BIN/tests/rpc-client"
start_server
register alice bob
expect_exit 0 ctl alice create bob
SOCK=$T/d.sock
"$CHATCTL" --home "$T/alice" --server "$URL" daemon --socket "$SOCK" 2>"$T/daemon.err" &
daemon=$!
wait_until 30 'no daemon: $(cat "$T/daemon.err")' grep -q "listening on" "$T/daemon.err"

: >"$T/held"
: >"$T/slow"
# 64 clients held open by one process (perl's sockets: no socat here).
perl -e 'use Socket; $| = 1; my @s;
	for (1 .. 64) { socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
		connect($s, pack_sockaddr_un($ARGV[0])) or die "connect: $!"; push @s, $s; }
	print "held\n"; sleep 120' "$SOCK" >"$T/held" 2>"$T/held.err" &
held=$!
wait_until 20 'the 64 did not connect: $(cat "$T/held.err")' grep -q held "$T/held"
sleep 0.5
# (The refusal is the one line it gets: rpc-client counts it as the answer.)
echo '{"jsonrpc":"2.0","id":1,"method":"whoami"}' | "$RC" -t 10 "$SOCK" >"$T/65.out" 2>"$T/65.err"
grep -q '"user"' "$T/65.out" && fail "the 65th client was served: $(cat "$T/65.out")"
[ "$(jq -r .error.code "$T/65.out")" = -32000 ] || fail "65th: $(cat "$T/65.out" "$T/65.err")"
expect_in "$T/65.out" "too many clients"
expect_in "$T/daemon.err" "refused: 64 clients already"
kill "$held"
wait "$held" 2>/dev/null
# Once they are gone, there is room again.
wait_until 20 'no room after the 64 left: $(cat "$T/again.out" "$T/again.err")' sh -c \
	"echo '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"whoami\"}' | \"$RC\" -t 5 \"$SOCK\" >\"$T/again.out\" 2>\"$T/again.err\""
grep -q '"user":"alice"' "$T/again.out" || fail "whoami: $(cat "$T/again.out")"

# 40 messages, sent through the daemon, make each history answer ~20 KB.
i=0
while [ $i -lt 40 ]; do
	echo '{"jsonrpc":"2.0","id":'$i',"method":"send","params":{"chat":"@bob","text":"a message long enough to make the history answer grow a little faster than otherwise, number '$i'"}}'
	i=$((i + 1))
done | "$RC" -t 60 "$SOCK" >"$T/sends.out" || fail "sends: $(tail -n 3 "$T/sends.out")"
# A client that asks for 2000 histories (~40 MiB of answers) and never reads.
perl -e 'use Socket; $| = 1;
	socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die; connect($s, pack_sockaddr_un($ARGV[0])) or die;
	for (1 .. 2000) { print $s "{\"jsonrpc\":\"2.0\",\"id\":$_,\"method\":\"history\",\"params\":{\"chat\":\"\@bob\",\"limit\":100}}\n" or last; }
	print "sent\n"; sleep 120' "$SOCK" >"$T/slow" 2>"$T/slow.err" &
slow=$!
wait_until 60 'the slow client was not dropped: $(cat "$T/daemon.err")' \
	grep -q "dropped: it does not read" "$T/daemon.err"
# The others never waited for it.
echo '{"jsonrpc":"2.0","id":1,"method":"whoami"}' | "$RC" -t 10 "$SOCK" >"$T/after.out" ||
	fail "a client after the slow one: $(cat "$T/after.out")"
grep -q '"user":"alice"' "$T/after.out" || fail "$(cat "$T/after.out")"
kill "$slow" 2>/dev/null
kill -TERM "$daemon"
wait "$daemon" || fail "the daemon exited $?: $(cat "$T/daemon.err")"
exit 0
