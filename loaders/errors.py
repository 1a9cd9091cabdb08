"""Errors a user can cause by handing us a file we cannot read (all `errors.ImportFileError`)."""
from errors import ImportFileError

__all__ = ["ImportFileError", "NetworkLinkOnlyError", "UnsafeFileError", "UnsupportedFileError"]


class UnsupportedFileError(ImportFileError):
    """The file type is not one we import."""


class UnsafeFileError(ImportFileError):
    """The file looks hostile (entity expansion, zip bomb, path traversal) and was refused."""


class NetworkLinkOnlyError(ImportFileError):
    """A KML/KMZ that only points at an online map (My Maps' "keep data up to date" export)."""
