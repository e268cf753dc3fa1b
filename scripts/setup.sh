#!/usr/bin/env bash
# Creates .venv and installs fleet with its development tools (again only when pyproject changes).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
stamp=.venv/.installed
if [ ! -x .venv/bin/python ]; then "$python" -m venv .venv; fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  touch "$stamp"
fi
# Leaflet and its plugins for the maps, Swagger UI and ReDoc for the API docs, from npm into
# maps/assets/node_modules (git-ignored); fleet serves them itself at /static/vendor.
assets=maps/assets
if [ ! -f "$assets/node_modules/.package-lock.json" ] \
  || [ "$assets/package-lock.json" -nt "$assets/node_modules/.package-lock.json" ]; then
  command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq npm >/dev/null; }
  npm ci --prefix "$assets" --no-audit --no-fund --loglevel=error
fi
