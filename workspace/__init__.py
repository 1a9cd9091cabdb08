"""The workspace: the store of features, rejected rows, the import log and every change."""
from workspace.store import EDITABLE, GPKG_NAME, Workspace, sha256

__all__ = ["EDITABLE", "GPKG_NAME", "Workspace", "sha256"]
