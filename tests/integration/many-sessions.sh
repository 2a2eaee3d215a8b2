# Many live sessions at once (issue 12): each device's push reaches its own
# receiving connection, exactly once, found through the server's device index
# rather than a walk of every connection; a second connection of a device
# replaces the first; with a short heartbeat, pings and pongs go on across
# all of them and none is dropped. Once on each event loop (--event-loop).
. "$(dirname "$0")/lib.sh"
N=24
users=""
i=1
while [ $i -le $N ]; do users="$users u$i"; i=$((i + 1)); done
others=$(echo $users | cut -d' ' -f2-)
SERVER_OPTS="--heartbeat 2"
start_server
echo $users | tr ' ' '\n' | xargs -P 2 -I{} sh -c \
	'"$0" --home "$1/{}" --server "$2" register {} >/dev/null' "$CHATCTL" "$T" "$URL" ||
	fail "registration"
expect_exit 0 ctl u1 create --name "everyone" $others
g=$(cat "$T/out")

# listen NAME OUT: a session of NAME's device that prints every frame to OUT
# for a minute, answering pings (pushes are not acked).
listen() {
	"$PROBE" raw --home "$T/$1" --wait 60000 "$URL" </dev/null >"$2" 2>&1 &
}
pushes() { grep -c '"type":"newMessage"' "$1"; }
all_have() {
	for u in $others; do grep -q "$2" "$T/$1.$u" || return 1; done
}
# all_pushed ROUND N: every session of the round has N pushes.
all_pushed() {
	for u in $others; do [ "$(pushes "$T/$1.$u")" -ge "$2" ] || return 1; done
}

# round NAME N: nothing is acked, so the Nth round's sessions get N pushes,
# those of the rounds before too.
round() {
	for u in $others; do listen "$u" "$T/$1.$u"; done
	wait_until 30 "not every session drained" all_have "$1" '"type":"drained"'
	expect_exit 0 ctl u1 send "$g" "round $1"
	wait_until 20 "not every session got its pushes" all_pushed "$1" "$2"
	# Several heartbeats: pushes do not come twice, and healthy sessions stay.
	sleep 3
	for u in $others; do
		[ "$(pushes "$T/$1.$u")" -eq "$2" ] || fail "$u: $(pushes "$T/$1.$u") pushes on $1"
		expect_not_in "$T/$1.$u" "#closed"
	done
	expect_not_in "$T/server.log" "why=heartbeat"
	# A second connection of u2's device replaces the first, and gets what
	# was pushed but not acked.
	listen u2 "$T/$1.again"
	wait_until 10 "the first session of u2 was not replaced" grep -q "#closed" "$T/$1.u2"
	expect_in "$T/server.log" "replaced by conn"
	wait_until 10 "the new session of u2 did not get the push" grep -q '"type":"newMessage"' "$T/$1.again"
}

expect_in "$T/server.log" "event loop: libev"
round libev 1
SERVER_OPTS="--heartbeat 2 --event-loop poll"
restart_server
expect_in "$T/server.log" "event loop: poll"
round poll 2
expect_exit 2 "$SERVER" --listen 127.0.0.1:0 --db "$T/bad.db" --event-loop select
expect_in "$T/err" "--event-loop"
exit 0
