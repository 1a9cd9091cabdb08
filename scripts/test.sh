#!/usr/bin/env bash
# Run the tests: install the Python packages into .venv when requirements-dev.txt changed,
# check for Chromium + chromedriver (the browser tests) and PostgreSQL + PostGIS server
# binaries (the PostGIS tests), then pytest with any arguments given.
#
# Chromium and chromedriver are looked up as tests/browser.py does (ATLAS_CHROMIUM and
# ATLAS_CHROMEDRIVER, else PATH, else Debian's places); PostgreSQL as tests/pg_cluster.py
# does. Nothing needs root when they are present. When something is missing, root gets it
# installed with apt-get; anyone else is told the one command to run.
# ATLAS_VENV picks the virtual environment (default .venv); .ci/run points it at a fresh one.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
atlas_ensure_venv requirements-dev.txt
python="$(atlas_venv)/bin/python"

# Prints the Debian packages still needed on its first line (maybe empty), then why.
missing_packages() {
  "$python" - <<'PY'
from tests.browser import BrowserMissing, chromium_paths
from tests.pg_cluster import MISSING_MESSAGE, find_binaries

packages, reasons = [], []
try:
    chromium_paths()
except BrowserMissing as exc:
    packages += ["chromium", "chromium-driver"]
    reasons.append(f"  - {exc}")
if find_binaries() is None:
    packages += ["postgresql", "postgis"]
    reasons.append(f"  - {MISSING_MESSAGE}")
print(" ".join(packages))
print("\n".join(reasons))
PY
}

found="$(missing_packages)"
missing="${found%%$'\n'*}"
why="${found#*$'\n'}"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing $missing with apt-get (running as root)" >&2
    apt-get update -qq
    # shellcheck disable=SC2086  # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    found="$(missing_packages)"
    missing="${found%%$'\n'*}"
    why="${found#*$'\n'}"
  fi
  if [ -n "$missing" ]; then
    {
      echo "scripts/test.sh: the browser and PostGIS tests need programs that are not installed:"
      printf '%s\n' "$why"
      echo "Install them with:"
      echo "    sudo apt-get install $missing"
      echo "then run scripts/test.sh again."
    } >&2
    exit 1
  fi
fi
# The PostGIS tests fail rather than skip when the server is missing (tests/pg_fixtures.py).
export ATLAS_REQUIRE_POSTGIS=1
exec "$python" -m pytest "$@"
