# chat-tui and files: a file from chatctl shows in the message with its name
# and size, /download fetches and checks it (identical bytes), and /attach
# sends one that chatctl receives and downloads intact.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register bob
tui_start alice 120x30 --user alice
tui_wait alice "[online] alice"
expect_exit 0 ctl bob create alice
c=$(cat "$T/out")

head -c 2200000 /dev/urandom >"$T/report.pdf"
expect_exit 0 ctl bob send "$c" "the report" --attach "$T/report.pdf"
tui_wait alice "bob (1)"
tui_keys alice M-1
tui_wait alice "bob: [file: report.pdf, 2.1 MB]"
tui_wait alice "the report"
tui_type alice "/download"
tui_keys alice Enter
tui_wait alice "saved $T/alice/downloads/report.pdf" 20
cmp -s "$T/alice/downloads/report.pdf" "$T/report.pdf" || fail "alice's copy differs"
tui_wait alice "2.1 MB, downloaded]"

printf 'notes from alice\n' >"$T/notes.txt"
tui_type alice "/attach $T/notes.txt"
tui_keys alice Enter
tui_wait alice "files sent" 20
expect_exit 0 ctl bob --json recv
m=$(jq -r 'select(.type == "message" and .attachments[0].name == "notes.txt") | .messageId' "$T/out")
[ -n "$m" ] || fail "bob got no notes.txt: $(cat "$T/out")"
expect_exit 0 ctl bob download "$m" --out "$T/notes-bob.txt"
cmp -s "$T/notes-bob.txt" "$T/notes.txt" || fail "bob's notes differ"

tui_keys alice C-c
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
