"""Roles of shared mode and the actions each role may take."""
from __future__ import annotations

from typing import TYPE_CHECKING

from access.errors import AccessDenied

if TYPE_CHECKING:
    from access.config import User

ROLES = ("viewer", "editor", "admin")

VIEW = "view"
IMPORT = "import"
EDIT = "edit"
REVERT = "revert"
SAVE_SITE = "save_site"
AUDIT = "audit"

# action -> (roles allowed, how the action reads in a message)
_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    VIEW: (("viewer", "editor", "admin"), "viewing a workspace"),
    IMPORT: (("editor", "admin"), "importing"),
    EDIT: (("editor", "admin"), "editing features"),
    REVERT: (("editor", "admin"), "reverting changes"),
    SAVE_SITE: (("editor", "admin"), "saving a site"),
    AUDIT: (("admin",), "reading the audit log"),
}
ACTIONS = tuple(_RULES)


def can(role: str, action: str) -> bool:
    """Return whether ``role`` may take ``action``.

    Parameters
    ----------
    role
        One of `ROLES`.
    action
        One of the action constants (`VIEW`, `IMPORT`, `EDIT`, `REVERT`, `SAVE_SITE`, `AUDIT`).

    Raises
    ------
    ValueError
        For an unknown role or action: a typo must fail loudly, not quietly deny.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}.")
    if action not in _RULES:
        raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}.")
    return role in _RULES[action][0]


def require(user_or_role: User | str, action: str) -> None:
    """Raise `AccessDenied` unless the user (or role) may take ``action``.

    Parameters
    ----------
    user_or_role
        A signed-in `User`, or a bare role name.
    action
        One of the action constants.

    Raises
    ------
    AccessDenied
        With a one-line message naming who, the role needed and what to do.
    """
    if isinstance(user_or_role, str):
        role, who = user_or_role, f"The {user_or_role} role is not enough"
    else:
        role = user_or_role.role
        who = f"{user_or_role.name} is {_article(role)} {role}"
    if can(role, action):
        return
    allowed, doing = _RULES[action]
    needed = " or ".join(allowed)
    raise AccessDenied(f"{who}: {doing} needs the {needed} role. "
                       f"Ask an admin to give you the {allowed[0]} role.")


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
