# chat-tui and files, beyond tui-media.sh: /download of a chosen message (an
# older one, by N; another by #ID with --out ~/PATH), /openfile handing the
# file to $OPENER (a script recording its argv) and downloading it first when
# needed, /attach with ~ paths, a quoted name with spaces and a caption (drawn
# under the files), and
# Tab completing file names (a unique one whole, quoted; several listed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register bob

# chat-tui's environment: the tmux server started by tui_start passes on
# this shell's, so HOME and OPENER reach chat-tui.
HOME=$T/home
OPENER=$T/opener
export HOME OPENER
mkdir -p "$HOME/docs"
printf 'my notes\n' >"$HOME/docs/my notes.txt"
printf 'the plan\n' >"$HOME/docs/plan.txt"
cat >"$OPENER" <<EOS
#!/bin/sh
echo "\$@" >>"$T/opened"
echo "this must not reach the screen"
EOS
chmod +x "$OPENER"
# opened PATH: the opener was run with PATH as its argument.
opened() {
	grep -qxF -- "$1" "$T/opened" 2>/dev/null
}

tui_start alice 120x30 --user alice
tui_wait alice "[online] alice"
expect_exit 0 ctl bob create alice
c=$(cat "$T/out")
head -c 3000 /dev/urandom >"$T/a.bin"
head -c 4000 /dev/urandom >"$T/b.bin"
expect_exit 0 ctl bob send "$c" "first" --attach "$T/a.bin"
m1=$(cat "$T/out")
expect_exit 0 ctl bob send "$c" "second" --attach "$T/b.bin"
m2=$(cat "$T/out")
tui_wait alice "bob (2)"
tui_keys alice M-1
tui_wait alice "bob: [file: b.bin"

# /download 2: the older message's file, not the newest's.
tui_type alice "/download 2"
tui_keys alice Enter
tui_wait alice "saved $T/alice/downloads/a.bin" 20
cmp -s "$T/alice/downloads/a.bin" "$T/a.bin" || fail "a.bin differs"
[ ! -e "$T/alice/downloads/b.bin" ] || fail "/download 2 fetched the newest message's file too"

# By id, one file, to a path under ~.
tui_type alice "/download #$(echo "$m2" | cut -c1-8) 1 --out ~/b-copy.bin"
tui_keys alice Enter
tui_wait alice "saved $HOME/b-copy.bin" 20
cmp -s "$HOME/b-copy.bin" "$T/b.bin" || fail "b-copy.bin differs"

# /openfile: the newest message's file, where it was saved; /openfile 2 the
# older one. The opener's output went to /dev/null, not the screen.
tui_type alice "/openfile"
tui_keys alice Enter
wait_until 10 "the opener was not run on b-copy.bin: $(cat $T/opened 2>&1)" opened "$HOME/b-copy.bin"
tui_type alice "/openfile 2 1"
tui_keys alice Enter
wait_until 10 "the opener was not run on a.bin: $(cat $T/opened 2>&1)" opened "$T/alice/downloads/a.bin"
tui_screen alice | grep -qF "must not reach" && fail "the opener's output is on the screen"

# Not downloaded yet: fetched, then opened.
head -c 5000 /dev/urandom >"$T/c.bin"
expect_exit 0 ctl bob send "$c" "third" --attach "$T/c.bin"
tui_wait alice "bob: [file: c.bin"
tui_type alice "/openfile"
tui_keys alice Enter
tui_wait alice "saved $T/alice/downloads/c.bin" 20
wait_until 10 "the opener was not run on c.bin after its download: $(cat $T/opened 2>&1)" opened "$T/alice/downloads/c.bin"
cmp -s "$T/alice/downloads/c.bin" "$T/c.bin" || fail "c.bin differs"
tui_type alice "/openfile 1 3"
tui_keys alice Enter
tui_wait alice "that message has 1 file"

# Tab: ~/d completes to ~/docs/; there two names start so: listed; "my"
# completes whole, quoted for its space.
tui_type alice "/attach ~/d"
tui_keys alice Tab
tui_wait alice "/attach ~/docs/"
tui_keys alice Tab
tui_wait alice "my notes.txt plan.txt"
tui_type alice "m"
tui_keys alice Tab
tui_wait alice '/attach "~/docs/my notes.txt"'
tui_type alice "~/docs/pl"
tui_keys alice Tab
tui_wait alice '/attach "~/docs/my notes.txt" ~/docs/plan.txt'
# (tui_type would give tmux an argument starting with -, an option to it)
tui_keys alice -l -- "-- two files for you"
tui_keys alice Enter
tui_wait alice "alice: [file: my notes.txt, 9 bytes] [file: plan.txt, 9 bytes]" 20
# The caption on the row under the files.
tui_screen alice | grep -A1 -F "alice: [file: my notes.txt" | tail -1 |
	grep -qF "two files for you" || fail "the caption is not under the files: $(tui_screen alice)"
i=0
until ctl bob --json recv >"$T/bob.out" 2>/dev/null && cat "$T/bob.out" >>"$T/bob.all" &&
	grep -q '"plan.txt"' "$T/bob.all"; do
	i=$((i + 1)); [ $i -gt 50 ] && fail "bob never got the files: $(cat "$T/bob.all")"; sleep 0.1
done
m=$(jq -r 'select(.type == "message" and .text == "two files for you") | .messageId' "$T/bob.all")
[ -n "$m" ] || fail "bob got no caption: $(cat "$T/bob.all")"
expect_exit 0 ctl bob download "$m" --index 1 --out "$T/notes-bob.txt"
cmp -s "$T/notes-bob.txt" "$HOME/docs/my notes.txt" || fail "bob's notes differ"

# Tab after --out in /download, and on a command's name.
tui_type alice "/download 1 1 --out ~/do"
tui_keys alice Tab
tui_wait alice "/download 1 1 --out ~/docs/"
tui_keys alice C-u
tui_type alice "/openf"
tui_keys alice Tab
tui_wait alice "/openfile"
tui_keys alice C-u

# A path that is not there: said, nothing sent.
tui_type alice "/attach ~/nothing.txt"
tui_keys alice Enter
tui_wait alice "attach:"

tui_keys alice C-c
tui_wait alice "[exit 0]"

# No opener ($OPENER unset, no xdg-open on PATH): said, with the path. The
# tmux server's environment, which a new window gets, changed for it (a
# session kept meanwhile, or the server would end with alice's).
mkdir -p "$T/bin"
ln -s "$(command -v env)" "$T/bin/env"
ln -s "$(command -v sleep)" "$T/bin/sleep"
$TMUX_CMD new-session -d -s keep "sleep 120"
$TMUX_CMD kill-session -t alice
$TMUX_CMD set-environment -g -u OPENER
$TMUX_CMD set-environment -g PATH "$T/bin"
tui_start alice 120x30
tui_wait alice "[online] alice"
tui_keys alice M-1
tui_wait alice "bob: [file: c.bin"
tui_type alice "/openfile 3"
tui_keys alice Enter
tui_wait alice "no opener (\$OPENER is not set, no xdg-open): the file is"
tui_wait alice "$HOME/b-copy.bin"
tui_keys alice C-c
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
