# Sourced by start.sh, test.sh and atlas (not run on its own): the project's virtual
# environment, installed into only when a requirements file changed since the last install.
#
#   ATLAS_VENV   the environment (default .venv; a relative path is taken from the repository root)
#
# The SHA-256 of the requirements file, and of every file it includes with -r, is kept in
# the environment as .atlas-<file>.sha256 after pip succeeds; the next start compares it
# and skips pip (about 6 s) when nothing changed. A new or deleted environment installs.

atlas_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

atlas_venv() {
  local venv="${ATLAS_VENV:-.venv}"
  case "$venv" in /*) ;; *) venv="$atlas_root/$venv" ;; esac
  printf '%s\n' "$venv"
}

# The requirements file and the files it includes (-r / --requirement), each once.
atlas_requirement_files() {
  local file="$1" dir line include
  [ -f "$file" ] || return 0
  printf '%s\n' "$file"
  dir="$(dirname "$file")"
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      -r\ *|--requirement\ *|--requirement=*)
        include="${line#*[ =]}"; include="${include#"${include%%[! ]*}"}"
        atlas_requirement_files "$dir/$include" ;;
    esac
  done < "$file"
}

atlas_requirements_hash() {
  local file
  atlas_requirement_files "$1" | sort -u | while IFS= read -r file; do
    printf '%s  %s\n' "$(sha256sum < "$file" | cut -d' ' -f1)" "$(basename "$file")"
  done | sha256sum | cut -d' ' -f1
}

# atlas_ensure_venv REQUIREMENTS: create the environment if missing; pip install only when
# REQUIREMENTS (a path from the repository root) changed since the last successful install.
atlas_ensure_venv() {
  local requirements="$atlas_root/$1" venv stamp want
  venv="$(atlas_venv)"
  if [ ! -x "$venv/bin/python" ]; then
    echo "Creating the virtual environment $venv" >&2
    python3 -m venv "$venv"
  fi
  stamp="$venv/.atlas-$(basename "$1").sha256"
  want="$(atlas_requirements_hash "$requirements")"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  echo "Installing $1 into $venv (new environment or changed requirements)" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
  printf '%s\n' "$want" > "$stamp"
}
