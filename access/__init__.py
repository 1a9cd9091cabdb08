"""Shared mode: who may sign in, to which workspaces, and what each role may do."""
from access.auth import issue_token, read_token, verify_password
from access.config import (
    Config,
    User,
    add_user,
    add_workspace,
    init_config,
    load_config,
    redact_url,
    remove_user,
    workspace_location,
)
from access.errors import AccessDenied, ConfigError
from access.roles import (
    ACTIONS,
    AUDIT,
    EDIT,
    IMPORT,
    REVERT,
    ROLES,
    SAVE_SITE,
    VIEW,
    can,
    require,
)

__all__ = [
    "ACTIONS",
    "AUDIT",
    "EDIT",
    "IMPORT",
    "REVERT",
    "ROLES",
    "SAVE_SITE",
    "VIEW",
    "AccessDenied",
    "Config",
    "ConfigError",
    "User",
    "redact_url",
    "add_user",
    "add_workspace",
    "can",
    "init_config",
    "issue_token",
    "load_config",
    "read_token",
    "remove_user",
    "require",
    "verify_password",
    "workspace_location",
]
