#!/usr/bin/env bash
# The whole check, as CI runs it: lint, format, types, then the suite on SQLite and PostgreSQL.
#
# The two suite passes run side by side, each on its own database with its own output and exit
# code: much of a pass is spent waiting (on subprocesses, servers, browsers, PostgreSQL), so two
# passes on two cores finish well before one after the other (README, "Tests"). Each pass's
# output is printed whole once both are done, then which pass failed. FLEET_TEST_SERIAL=1 runs
# them one after the other instead, with the output as it comes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin

bash scripts/ensure-postgres.sh
bash scripts/ensure-chromium.sh
PG_URL=${FLEET_TEST_PG_URL:-postgresql+psycopg://postgres:postgres@127.0.0.1:5432/fleet_test}

echo "== ruff check";          $PY/ruff check fleet tests
echo "== ruff format --check"; $PY/ruff format --check fleet tests
echo "== mypy fleet";          $PY/mypy fleet

if [[ ${FLEET_TEST_SERIAL:-} == 1 ]]; then
  echo "== pytest on SQLite";    $PY/pytest -p no:cacheprovider "$@"
  echo "== pytest on PostgreSQL"
  FLEET_TEST_DATABASE_URL=$PG_URL $PY/pytest -p no:cacheprovider "$@"
  exit 0
fi

logs=$(mktemp -d "${TMPDIR:-/tmp}/fleet-test-logs.XXXXXX")
echo "== pytest on SQLite and on PostgreSQL, side by side"
echo "   (follow them with: tail -f $logs/sqlite.log $logs/postgresql.log)"
# FLEET_TEST_DATABASE_URL is the PostgreSQL pass's alone: the SQLite pass must not inherit one.
env -u FLEET_TEST_DATABASE_URL $PY/pytest -p no:cacheprovider "$@" >"$logs/sqlite.log" 2>&1 &
sqlite_pid=$!
FLEET_TEST_DATABASE_URL=$PG_URL $PY/pytest -p no:cacheprovider "$@" >"$logs/postgresql.log" 2>&1 &
pg_pid=$!
# Stopped (Ctrl-C, CI's timeout): stop both passes too.
trap 'kill "$sqlite_pid" "$pg_pid" 2>/dev/null || true' INT TERM
sqlite_rc=0; wait "$sqlite_pid" || sqlite_rc=$?
pg_rc=0;     wait "$pg_pid" || pg_rc=$?
trap - INT TERM

echo "== pytest on SQLite";     cat "$logs/sqlite.log"
echo "== pytest on PostgreSQL"; cat "$logs/postgresql.log"
verdict() { if [[ $1 == 0 ]]; then echo "passed"; else echo "FAILED (exit $1)"; fi; }
echo "== SQLite pass: $(verdict "$sqlite_rc"); PostgreSQL pass: $(verdict "$pg_rc")"
echo "   (output kept in $logs)"
[[ $sqlite_rc == 0 && $pg_rc == 0 ]]
