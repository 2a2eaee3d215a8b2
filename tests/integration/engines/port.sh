# engines/port.sh - free_port, for the engines: a TCP port nobody on this
# machine listens on or uses now, below the kernel's range for outgoing
# connections (32768 and up on Linux), so that no client's socket takes it
# between the choice and the bind. The caller still tries again with another
# if its bind fails: another test may have chosen the same one.
free_port() {
	while :; do
		fp_port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))
		fp_hex=$(printf ':%04X ' "$fp_port")
		grep -qF "$fp_hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null || break
	done
	echo "$fp_port"
}
