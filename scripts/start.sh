#!/usr/bin/env bash
# Start the app on the demo workspace (http://localhost:8501), installing the app's packages
# into .venv first when requirements.txt changed since the last start (scripts/venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
atlas_ensure_venv requirements.txt
exec "$(atlas_venv)/bin/python" -m streamlit run app.py --server.headless true "$@"
