# chatctl's bad input: each gets a clear message and the documented exit code,
# and the next good command still works.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")

expect_exit 2 ctl alice frobnicate;            expect_in "$T/err" "unknown command"
expect_exit 2 ctl alice --bogus chats;         expect_in "$T/err" "unknown option"
expect_exit 2 ctl alice send "$chat";          expect_in "$T/err" "usage: chatctl send"
expect_exit 2 ctl alice history;               expect_in "$T/err" "usage: chatctl history"
expect_exit 2 ctl alice recv --wait x;         expect_in "$T/err" "--wait"
expect_exit 2 ctl alice send "$chat" "";       expect_in "$T/err" "empty"
expect_exit 2 ctl alice send nonsense hi;      expect_in "$T/err" "not a chat id"
head -c 65537 /dev/zero | tr '\0' a > "$T/big"
expect_exit 2 sh -c "\"$CHATCTL\" --home \"$T/alice\" send $chat - < \"$T/big\""
expect_in "$T/err" "over the limit"
head -c 65536 /dev/zero | tr '\0' a > "$T/max"
expect_exit 0 sh -c "\"$CHATCTL\" --home \"$T/alice\" send $chat - < \"$T/max\""
printf 'bad \377 utf8' > "$T/bin"
expect_exit 2 sh -c "\"$CHATCTL\" --home \"$T/alice\" send $chat - < \"$T/bin\""
expect_in "$T/err" "UTF-8"

expect_exit 4 ctl alice create nobody;         expect_in "$T/err" "unknown_user"
# (create alice, as alice, is her notes to self: tests/integration/notes-to-self.sh)
expect_exit 4 ctl carol send "$chat" "let me in"; expect_in "$T/err" "not in it"
expect_exit 4 ctl alice send ffffffffffffffff "into the void"
expect_exit 4 ctl alice history ffffffffffffffff
expect_exit 1 ctl dave send "$chat" hi;        expect_in "$T/err" "not registered"
expect_exit 1 ctl dave recv;                   expect_in "$T/err" "not registered"

# Homes that cannot be used.
: > "$T/afile"
expect_exit 1 "$CHATCTL" --home "$T/afile" chats;     expect_in "$T/err" "not a directory"
expect_exit 1 "$CHATCTL" --home "$T/afile/sub" chats; expect_in "$T/err" "cannot create"
# A home that does not exist yet is created.
expect_exit 0 "$CHATCTL" --home "$T/new/deeper/home" chats

# A server that is not running: exit 3, and the message says what to check.
stop_server
expect_exit 3 ctl alice send "$chat" "anyone?";  expect_in "$T/err" "chat-server running"
expect_exit 3 ctl bob recv
expect_exit 3 ctl eve register eve
# The failed send is kept, marked pending, not lost.
expect_exit 0 "$CHATCTL" --home "$T/alice" history "$chat"
expect_in "$T/out" "anyone?"
