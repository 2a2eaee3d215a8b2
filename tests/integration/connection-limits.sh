# Connections a hostile client can hold (issue 10, item 11): a cap per address
# and in total, both refused at once and without locking others out; a
# deadline to authenticate (but not for a device link waiting for approval);
# and at the limit on open files the server neither spins on accept nor
# floods its log.
. "$(dirname "$0")/lib.sh"
SERVER_OPTS="--max-connections-per-address 4 --auth-timeout 2"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")

# Ten from 127.0.0.2: four held, six closed at once; 127.0.0.1 still gets in.
"$PROBE" hold 10 127.0.0.1 "$port" 2500 127.0.0.2 >"$T/hold" 2>&1 &
hold=$!
sleep 0.8
expect_exit 0 ctl alice send "$chat" "while 127.0.0.2 is at its cap"
wait $hold || fail "probe: $(cat "$T/hold")"
[ "$(cat "$T/hold")" = "open 4 closed 6" ] || fail "per-address cap: $(cat "$T/hold")"
expect_in "$T/server.log" "refused a connection from 127.0.0.2: 4 connections open from it"

# Not authenticated within 2 s: closed, and told why.
printf '@sleep 3500\n{"id":1,"type":"getKeys","users":["bob"]}\n' |
	"$PROBE" raw "$URL" >"$T/raw.out" 2>&1 || fail "probe: $(cat "$T/raw.out")"
expect_in "$T/raw.out" "#closed"
expect_not_in "$T/raw.out" '"id":1'
expect_in "$T/server.log" "not authenticated within 2 s"
# A device link waits for a person as long as its request lives.
LINK_DELAY=3 link_device bob2 bob bob
expect_exit 0 ctl bob2 send "$chat" "from the linked device"

# The limit on open files: 64. A session holds one descriptor, so 32 are
# left after the reserve: 4 for blob files (an eighth) and 28 for
# connections, not the 16 of a cap that gave every session two. Seventy
# connections, more than the server could ever accept, in two probes of 35.
stop_server
ulimit -n 64
SERVER_OPTS="--max-connections-per-address 100"
start_server "$port"
expect_in "$T/server.log" "limits: 28 connections, 100 per address, 4 blob transfers at once"
cpu() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
before=$(cpu)
"$PROBE" hold 35 127.0.0.1 "$port" 2000 >"$T/hold1" 2>&1 &
p1=$!
"$PROBE" hold 35 127.0.0.1 "$port" 2000 >"$T/hold2" 2>&1 &
p2=$!
wait $p1 || fail "probe: $(cat "$T/hold1")"
wait $p2 || fail "probe: $(cat "$T/hold2")"
held=$(($(cut -d' ' -f2 "$T/hold1") + $(cut -d' ' -f2 "$T/hold2")))
[ "$held" -eq 28 ] || fail "total cap: $(cat "$T/hold1") / $(cat "$T/hold2")"
# No accept loop: little CPU (ticks of 10 ms) and a short log.
spent=$(($(cpu) - before))
[ "$spent" -lt 100 ] || fail "the server spent $spent ticks over 2 s at its cap"
expect_not_in "$T/server.log" "errno 24"
[ "$(count_lines "$T/server.log")" -lt 40 ] || fail "log flooded: $(count_lines "$T/server.log") lines"
# And it still serves.
expect_exit 0 ctl alice send "$chat" "after the flood"
expect_exit 0 ctl bob --json recv
expect_in "$T/out" "after the flood"

# Each transfer gives its file slot back: six uploads and six downloads,
# one after the other, through 4 slots.
head -c 20000 /dev/urandom >"$T/file.bin"
for i in 1 2 3 4 5 6; do
	expect_exit 0 ctl alice --json send "$chat" "file $i" --attach "$T/file.bin"
	echo "$(jq -r .messageId "$T/out")" >>"$T/ids"
done
expect_exit 0 ctl bob recv
while read -r m; do
	expect_exit 0 ctl bob download "$m" --out "$T/got.$m"
	cmp -s "$T/got.$m" "$T/file.bin" || fail "download $m differs"
done <"$T/ids"
