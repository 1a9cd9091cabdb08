#!/usr/bin/env bash
# Install everything the tests need (Python packages, Debian's Chromium) and run them.
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
exec "$venv/bin/python" -m pytest "$@"
