"""Errors a user can cause by handing us a file we cannot read."""


class ImportFileError(ValueError):
    """A file cannot be read at all; the message names the file, the problem and the fix."""


class UnsupportedFileError(ImportFileError):
    """The file type is not one we import."""


class UnsafeFileError(ImportFileError):
    """The file looks hostile (entity expansion, zip bomb, path traversal) and was refused."""


class NetworkLinkOnlyError(ImportFileError):
    """A KML/KMZ that only points at an online map (My Maps' "keep data up to date" export)."""
