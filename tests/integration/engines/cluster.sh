# engines/cluster.sh - several chat-server instances as one service, for the
# cluster-*.sh tests, sourced after lib.sh: one PostgreSQL (engines/pg.sh,
# database "chat"), one Redis (engines/redis.sh, $REDIS_URL), and instances named A, B,
# C..., each on its own port with its own log ($T/server-NAME.log, checked
# for sanitizer reports like server.log), --instance-id NAME, the shared
# blob directory and key, and --bus. A device signs the name of the address
# it was given (PROTOCOL.md, "The session signature"), and a device of a
# cluster may reach any instance, so every instance is told every address:
# the ports are chosen before any instance starts. start_haproxy puts HAProxy
# (mode tcp, as in docs/CLUSTER.md) in front of them all.
#
#   cluster_need [PROGRAM...]   skip the test unless PostgreSQL, Redis and
#                               each PROGRAM are installed
#   cluster_start NAME...       the engines, then the instances
#   start_instance NAME         (again: same port, same everything)
#   stop_instance NAME          SIGTERM; a clean exit (0) is required
#   kill_instance NAME          SIGKILL, as a crash
#   instance_url NAME           ws://127.0.0.1:PORT/
#   on NAME CMD...              CMD (ctl, expect_exit ctl...) with $URL the instance's
#   start_haproxy               HAProxy in front of every instance; sets LB_URL
#
# CLUSTER_OPTS adds options to every instance (word-split).
: "${ENGINES:=$(dirname "$0")/engines}"
. "$ENGINES/pg.sh"
. "$ENGINES/redis.sh"
INSTANCES=""
CLUSTER_DB=""
LB_PORT=""
LB_URL=""

cluster_need() {
	cn_missing=""
	pg_have || cn_missing="$cn_missing PostgreSQL($PG_BIN)"
	command -v redis-server >/dev/null 2>&1 || cn_missing="$cn_missing redis-server"
	for cn_p in "$@"; do
		command -v "$cn_p" >/dev/null 2>&1 || cn_missing="$cn_missing $cn_p"
	done
	if [ -n "$cn_missing" ]; then
		echo "skip: not installed:$cn_missing (make deps installs them)"
		exit 0
	fi
}

cluster_start() {
	start_pg
	pg_createdb chat
	CLUSTER_DB=$(pg_url chat)
	start_redis
	LB_PORT=$(free_port)
	for cs_n in "$@"; do
		eval "PORT_$cs_n=\$(free_port)"
		INSTANCES="$INSTANCES $cs_n"
	done
	cleanup_hook cluster_stop
	for cs_n in "$@"; do
		start_instance "$cs_n"
	done
}

instance_url() {
	eval "echo \"ws://127.0.0.1:\$PORT_$1/\""
}

instance_pid() {
	cat "$T/server-$1.pid" 2>/dev/null
}

start_instance() {
	si_n=$1
	eval "si_port=\$PORT_$si_n"
	si_names="--name 127.0.0.1:$LB_PORT"
	for si_o in $INSTANCES; do
		eval "si_names=\"\$si_names --name 127.0.0.1:\$PORT_$si_o\""
	done
	si_log=$T/server-$si_n.log
	: >"$si_log"
	rm -f "$T/server-$si_n.pid" "$T/server-$si_n.exit"
	# As start_server: a wrapper keeps the exit status in a file.
	(
		# shellcheck disable=SC2086
		"$SERVER" --listen "127.0.0.1:$si_port" --db "$CLUSTER_DB" --blobs "$T/blobs" \
			--blob-key "$T/blob.key" --bus "$REDIS_URL" --instance-id "$si_n" \
			--register-rate 0 $si_names ${CLUSTER_OPTS:-} 2>>"$si_log" &
		echo $! >"$T/server-$si_n.pid"
		wait $!
		echo $? >"$T/server-$si_n.exit"
	) &
	si_i=0
	while [ ! -s "$T/server-$si_n.pid" ]; do
		si_i=$((si_i + 1)); [ $si_i -gt 100 ] && fail "instance $si_n did not start"; sleep 0.02
	done
	si_i=0
	while ! grep -q "listening on" "$si_log"; do
		si_i=$((si_i + 1))
		[ $si_i -gt 200 ] && fail "instance $si_n did not start: $(tail -n 5 "$si_log")"
		kill -0 "$(instance_pid "$si_n")" 2>/dev/null ||
			fail "instance $si_n exited at start: $(tail -n 5 "$si_log")"
		sleep 0.05
	done
}

# instance_exit NAME: waits (at most 10 s) for NAME to be gone; prints its status.
instance_exit() {
	ie_i=0
	while [ ! -s "$T/server-$1.exit" ]; do
		ie_i=$((ie_i + 1)); [ $ie_i -gt 500 ] && { echo timeout; return; }; sleep 0.02
	done
	cat "$T/server-$1.exit"
}

kill_instance() {
	kill -9 "$(instance_pid "$1")" 2>/dev/null
	instance_exit "$1" >/dev/null
}

stop_instance() {
	kill "$(instance_pid "$1")" 2>/dev/null
	rc=$(instance_exit "$1")
	[ "$rc" = 0 ] || fail "instance $1 exited '$rc' on SIGTERM"
}

# on NAME CMD...: CMD with $URL (what ctl uses) the instance NAME's.
on() {
	on_saved=$URL
	URL=$(instance_url "$1")
	shift
	"$@"
	on_rc=$?
	URL=$on_saved
	return $on_rc
}

# start_haproxy: HAProxy on 127.0.0.1:$LB_PORT, mode tcp, connections spread
# round robin over the instances; an instance that refuses connections is
# passed over (redispatch), and taken out after two failed checks.
start_haproxy() {
	command -v haproxy >/dev/null 2>&1 || fail "HAProxy is not installed"
	{
		printf 'global\n\tmaxconn 2000\n'
		printf 'defaults\n\tmode tcp\n\ttimeout connect 1s\n\ttimeout client 1h\n'
		printf '\ttimeout server 1h\n\tretries 3\n\toption redispatch\n'
		printf 'frontend chat\n\tbind 127.0.0.1:%s\n\tdefault_backend instances\n' "$LB_PORT"
		printf 'backend instances\n\tbalance roundrobin\n'
		for sh_n in $INSTANCES; do
			eval "sh_p=\$PORT_$sh_n"
			printf '\tserver %s 127.0.0.1:%s check inter 300ms fall 2 rise 2\n' "$sh_n" "$sh_p"
		done
	} >"$T/haproxy.cfg"
	haproxy -c -q -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 ||
		fail "haproxy.cfg: $(cat "$T/haproxy.log")"
	haproxy -q -D -p "$T/haproxy.pid" -f "$T/haproxy.cfg" >>"$T/haproxy.log" 2>&1 ||
		fail "HAProxy did not start: $(cat "$T/haproxy.log")"
	LB_URL="ws://127.0.0.1:$LB_PORT/"
}

cluster_stop() {
	for cs_n in $INSTANCES; do
		[ -s "$T/server-$cs_n.exit" ] && continue
		kill "$(instance_pid "$cs_n")" 2>/dev/null
		instance_exit "$cs_n" >/dev/null
	done
	[ -s "$T/haproxy.pid" ] && kill "$(cat "$T/haproxy.pid")" 2>/dev/null
	return 0
}

# ---- devices that send and receive on one session: chatctl rpc, fed by
# appending requests to $T/HOME.req (a second chatctl on the same home would
# take the session over). Its output, replies and notifications, goes to
# $T/HOME.rpc.

# rpc_start HOME URL: starts HOME's rpc on URL and waits until it is online.
rpc_start() {
	: >"$T/$1.req"
	: >"$T/$1.rpc"
	# tail is the pipeline's first process, the one cleanup kills: its end
	# is the end of the rpc's input, and the rpc stops.
	tail -n +1 -f "$T/$1.req" 2>/dev/null |
		"$CHATCTL" --home "$T/$1" --server "$2" rpc >>"$T/$1.rpc" 2>>"$T/$1.rpcerr" &
	eval "RPC_$1=$!"
	wait_until 20 "$1's rpc did not come online on $2: \$(tail -n 5 \"\$T/$1.rpcerr\")" \
		grep -q '"state":"online"' "$T/$1.rpc"
}

# rpc_stop HOME: SIGTERM to HOME's rpc; waits until it is gone.
rpc_stop() {
	eval "rs_pid=\$RPC_$1"
	kill "$rs_pid" 2>/dev/null
	wait_until 10 "$1's rpc did not stop" dead "$rs_pid"
}

# open_on NAME HOME: HOME has a session open on instance NAME now (its log
# shows more authentications of it than closed connections).
open_on() {
	[ "$(grep -c "auth device=$2/" "$T/server-$1.log")" -gt \
		"$(grep -c "close .*device=$2/" "$T/server-$1.log")" ]
}

# rpc_send HOME CHAT TEXT [ID]: a send request (TEXT plain: no quote or backslash).
rpc_send() {
	printf '{"jsonrpc":"2.0","id":"%s","method":"send","params":{"chat":"%s","text":"%s"}}\n' \
		"${4:-$3}" "$2" "$3" >>"$T/$1.req"
}

# rpc_texts HOME: the texts of the messages HOME's rpc was notified of, in order.
rpc_texts() {
	grep '"method":"message"' "$T/$1.rpc" | jq -r .params.text
}

# rpc_has HOME TEXT: HOME was notified of the message TEXT.
rpc_has() {
	grep '"method":"message"' "$T/$1.rpc" | grep -qF "\"text\":\"$2\""
}

# now_ms: the clock in milliseconds.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}
