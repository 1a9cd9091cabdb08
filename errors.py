"""The project's one error hierarchy: every error a user can cause is an `AtlasError`.

Pages and the command line catch `AtlasError` only and show its message, which names
what went wrong, where (file, sheet/row, field) and what to do. Anything else that
escapes is a bug. Subclasses that also derive from a built-in type (``ValueError``)
do so because callers have long treated them as such.
"""
from __future__ import annotations


class AtlasError(Exception):
    """Base of every error a user can cause; its message is shown to them as is."""


class ImportFileError(AtlasError, ValueError):
    """A file cannot be read at all; the message names the file, the problem and the fix."""


class BoundaryUnavailable(AtlasError):
    """No boundary could be obtained from a source (offline, no such code, nothing imported).

    ``network`` is True when the cause was the connection (so later downloads would fail too).
    """

    def __init__(self, message: str, *, network: bool = False):
        super().__init__(message)
        self.network = network


class ExportError(AtlasError, ValueError):
    """An export cannot be made as asked (unknown format, no features, a file too large)."""


class UsageError(AtlasError, ValueError):
    """An option or value given by the user is not acceptable (a radius, a layer, a field)."""


class WorkspaceError(AtlasError):
    """A workspace cannot be opened, read or written (missing, damaged, locked, not allowed)."""


class ConflictError(WorkspaceError):
    """A change was based on a stale version: someone else changed the feature since it was read."""
