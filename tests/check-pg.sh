#!/bin/sh
# make check-pg: the whole integration suite with chat-server on PostgreSQL.
# One PostgreSQL (tests/integration/engines/pg.sh) is started for the run, on
# loopback, in a temporary directory; each test makes its own database on it
# (lib.sh, CHAT_TEST_STORE=pg) and drops it; the server is stopped and its
# directory removed at the end, whatever happened. The tests that are about
# SQLite itself say so ("# store: sqlite (why)") and are listed as skipped.
# As root, PostgreSQL runs as the postgres system user. Script names given
# (tests/check-pg.sh outbox receipts) run those only.
set -u
: "${BIN:?BIN must point at the build directory}"
dir=$(dirname "$0")/integration
ENGINES=$dir/engines
T=$(mktemp -d "${TMPDIR:-/tmp}/chat-pg.XXXXXX")
trap 'stop_pg; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
. "$dir/engines/pg.sh"
if ! pg_have; then
	echo "check-pg: PostgreSQL is not installed (make deps installs it): $PG_BIN/initdb, psql" >&2
	exit 1
fi
start_pg
echo "check-pg: $("$PG_BIN/postgres" --version | sed 's/^postgres (PostgreSQL)/PostgreSQL/') on 127.0.0.1:$PG_PORT"
CHAT_TEST_STORE=pg CHAT_TEST_PG_URL=$(pg_url "") BIN=$BIN sh "$dir/run.sh" "$@"
