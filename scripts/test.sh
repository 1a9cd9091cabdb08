#!/usr/bin/env bash
# Install everything the tests need (Python packages, Debian's Chromium, PostgreSQL + PostGIS) and run them.
# ATLAS_VENV picks the virtual environment (default .venv); .ci/run points it at a fresh one.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${ATLAS_VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver >/dev/null; fi
fi
# PostgreSQL + PostGIS server binaries for tests/pg_cluster.py, which starts its own throwaway
# cluster on a free port (a system cluster that the package may start on 5432 is not used).
have_postgis() {
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    if [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && [ -x "$bin/postgres" ] \
      && [ -f "/usr/share/postgresql/$(basename "$(dirname "$bin")")/extension/postgis.control" ]; then
      return 0
    fi
  done
  return 1
}
if ! have_postgis; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgis >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgis >/dev/null; fi
fi
# The PostGIS tests fail rather than skip when the server is missing (tests/pg_fixtures.py).
export ATLAS_REQUIRE_POSTGIS=1
exec "$venv/bin/python" -m pytest "$@"
