# With --json a failing command also says why on standard output, as one
# JSON object {"error":{"code":EXIT,"message":...}} with the same exit code;
# the text stays on standard error.
. "$(dirname "$0")/lib.sh"
start_server
register alice
expect_exit 0 ctl alice --json chats

# err_is CODE TEXT: stdout's last line is the error object of CODE, saying TEXT.
err_is() {
	tail -n 1 "$T/out" > "$T/last"
	[ "$(jq -r .error.code "$T/last")" = "$1" ] || fail "no error object $1: $(cat "$T/out")"
	jq -r .error.message "$T/last" | grep -qF -- "$2" || fail "message: $(cat "$T/last")"
	expect_in "$T/err" "$2"
}

expect_exit 2 ctl alice --json frobnicate;          err_is 2 "unknown command 'frobnicate'"
expect_exit 2 ctl alice --bogus --json chats;       err_is 2 "unknown option '--bogus'"
expect_exit 2 ctl alice --json history;             err_is 2 "give a chat"
expect_exit 4 ctl alice --json create nobody;       err_is 4 "unknown_user"
[ "$(jq -r .error.serverCode "$T/last")" = unknown_user ] || fail "no server code: $(cat "$T/last")"
expect_exit 4 ctl alice --json history @nobody;     err_is 4 "no chat matches '@nobody'"
expect_exit 1 ctl dave --json whoami;               err_is 1 "is not registered"
stop_server
expect_exit 3 ctl alice --json lastseen alice;      err_is 3 "cannot connect"
# Without --json, standard output stays empty.
expect_exit 3 ctl alice lastseen alice
[ -s "$T/out" ] && fail "text error on stdout: $(cat "$T/out")"
exit 0
