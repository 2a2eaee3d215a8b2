# chat-tui's group administration: /promote, /demote, /rename, /describe on
# the open group, seen by the others through chatctl; the header follows a
# rename made elsewhere; a refusal (not an admin) is said, not hidden.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register bob carol
tui_start alice 100x30 --user alice
tui_wait alice "[online] alice"

expect_exit 0 ctl carol create --name climbing alice bob
g=$(cat "$T/out")
expect_exit 0 ctl carol promote "$g" alice
tui_wait alice "1 climbing"
tui_type alice "/open climbing"
tui_keys alice Enter
tui_wait alice "carol made alice an admin"

tui_type alice "/promote bob"
tui_keys alice Enter
tui_wait alice "alice made bob an admin"
tui_type alice "/demote bob"
tui_keys alice Enter
tui_wait alice "alice removed bob as admin"
tui_type alice "/rename rock club"
tui_keys alice Enter
tui_wait alice 'alice renamed the group to "rock club"'
tui_type alice "/describe bring a rope"
tui_keys alice Enter
tui_wait alice 'alice changed the description to "bring a rope"'
tui_type alice "/members"
tui_keys alice Enter
tui_wait alice "description: bring a rope"
tui_wait alice "  alice (admin)"

expect_exit 0 ctl bob recv
expect_in "$T/out" "alice made bob an admin"
expect_in "$T/out" 'alice renamed the group to "rock club"'
expect_exit 0 ctl bob --json members "$g"
[ "$(jq -r '.name + "/" + .description' "$T/out")" = "rock club/bring a rope" ] ||
	fail "bob's view: $(cat "$T/out")"

# carol renames it and takes alice's role: the header follows, and alice's
# next /rename is refused with the server's reason.
expect_exit 0 ctl carol rename "$g" "boulders"
tui_wait alice 'carol renamed the group to "boulders"'
tui_wait alice "1 boulders"
expect_exit 0 ctl carol demote "$g" alice
tui_wait alice "carol removed alice as admin"
tui_type alice "/rename mine"
tui_keys alice Enter
tui_wait alice "not_admin"

tui_type alice "/quit"
tui_keys alice Enter
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
