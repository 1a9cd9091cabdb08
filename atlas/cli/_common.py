"""What the sub-commands share: JSON output, whole-number options, opening a workspace by folder or URL."""
from __future__ import annotations

import json
import sys

from errors import UsageError

LOCATION_HELP = "workspace folder, or a postgresql:// URL"


def print_json(obj: object) -> None:
    """Write `obj` to stdout as indented JSON (UTF-8 text kept readable)."""
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def whole(text: str | None, option: str, meaning: str) -> int | None:
    """Return `text` as a positive whole number, or None when the option was not given.

    Checked here rather than by argparse so that a mistake gives the one-line
    ``error: ...`` (exit 2) of every other user error, not a usage dump.
    """
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{option} '{text}' is not a whole number; give {meaning}.") from None
    if value < 1:
        raise UsageError(f"{option} {value}: give {meaning} (1 or more).")
    return value


def shown(location: str) -> str:
    """Return a workspace location fit for printing: a ``postgresql://`` URL loses its password."""
    # `access` loads the password hashing of shared mode: imported only to print a location.
    from access import redact_url

    return redact_url(str(location))


def open_workspace(location: str, *, user: str | None = None):
    """Open an existing workspace (folder or ``postgresql://`` URL) for a command that reads or changes it.

    Raises
    ------
    UsageError
        When there is no workspace there yet, so that a mistyped location is reported
        instead of an empty workspace being created.
    """
    from workspace import Workspace

    workspace = Workspace(location, user=user)
    if not workspace.exists():
        raise UsageError(f"{shown(location)}: there is no workspace here yet. Check the location, or create "
                         f"the workspace with: python -m atlas import FILE --workspace {shown(location)}")
    return workspace
