#!/usr/bin/env bash
# The whole check, as CI runs it: lint, format, types, then the suite on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin

bash scripts/ensure-postgres.sh
bash scripts/ensure-chromium.sh
PG_URL=${FLEET_TEST_PG_URL:-postgresql+psycopg://postgres:postgres@127.0.0.1:5432/fleet_test}

echo "== ruff check";          $PY/ruff check fleet tests
echo "== ruff format --check"; $PY/ruff format --check fleet tests
echo "== mypy fleet";          $PY/mypy fleet
echo "== pytest on SQLite";    $PY/pytest -p no:cacheprovider "$@"
echo "== pytest on PostgreSQL"
FLEET_TEST_DATABASE_URL=$PG_URL $PY/pytest -p no:cacheprovider "$@"
