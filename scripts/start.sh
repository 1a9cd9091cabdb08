#!/usr/bin/env bash
# Install the app's packages and start it on the demo workspace (http://localhost:8501).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${ATLAS_VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec "$venv/bin/python" -m streamlit run app.py --server.headless true "$@"
