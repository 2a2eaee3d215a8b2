# chatctl's text output never hands a terminal what others wrote as it is:
# controls, C1 and bidi overrides/isolates in texts, file names, chat names
# and kinds, device names and the server's messages come out as visible
# escapes (\x1b, \u202e), the same rules chat-tui applies.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
rlo=$(printf '\342\200\256')  # U+202E right-to-left override
fsi=$(printf '\342\201\250')  # U+2068 first strong isolate
esc=$(printf '\033')
csi8=$(printf '\302\233')     # U+009B, 8-bit CSI

# raw FILE: FILE holds no escape, C1 control or bidi control as it is.
raw() {
	! grep -q "$esc\|$rlo\|$fsi\|$csi8" "$1" || fail "raw control in $1: $(od -c "$1" | head)"
}

expect_exit 0 ctl alice send "$chat" "evil${rlo}txt.exe ${fsi}x ${esc}[2Jred ${csi8}31m"
printf 'x' > "$T/cod${rlo}gnp.exe"
expect_exit 0 ctl alice send "$chat" --attach "$T/cod${rlo}gnp.exe"
expect_exit 0 ctl bob recv
raw "$T/out"
expect_in "$T/out" 'evil\u202etxt.exe \u2068x \x1b[2Jred \x9b31m'
expect_in "$T/out" '[file: cod\u202egnp.exe'
expect_exit 0 ctl bob history "$chat"
raw "$T/out"
expect_in "$T/out" 'evil\u202etxt.exe'
# JSON carries the text as it is: escaping is for terminals.
expect_exit 0 ctl bob --json history "$chat"
[ "$(jq -r '.[0].text' "$T/out")" = "evil${rlo}txt.exe ${fsi}x ${esc}[2Jred ${csi8}31m" ] ||
	fail "JSON text changed: $(cat "$T/out")"

# A group's name.
expect_exit 0 ctl alice create --name "club${rlo}bulc" bob
expect_exit 0 ctl bob recv
raw "$T/out"
expect_exit 0 ctl bob chats
raw "$T/out"
expect_in "$T/out" 'club\u202ebulc'

# What only the server says: a device's name (its database edited by hand
# stands for a hostile server), and a chat's kind, which this server checks
# in its own database: the local copy edited by hand stands for that.
server_sql "UPDATE devices SET name = 'ph${rlo}one${esc}[1m' WHERE \"user\" = 'bob';" ||
	fail "cannot edit the server's database"
expect_exit 0 ctl bob device list
raw "$T/out"
expect_in "$T/out" 'ph\u202eone\x1b[1m'
sqlite3 "$T/bob/store.db" "UPDATE chats SET kind = 'direct${esc}]0;pwned${esc}\\' WHERE chat_id = '$chat';" ||
	fail "cannot edit bob's store"
expect_exit 0 ctl bob chats
raw "$T/out"
expect_in "$T/out" 'direct\x1b]0;pwned\x1b\'
