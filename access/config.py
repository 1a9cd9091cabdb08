"""The shared-mode deployment config: workspaces, users with roles, and the signing secret."""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import argon2
from argon2 import PasswordHasher

from access.errors import ConfigError
from access.roles import ROLES

VERSION = 1
SESSION_HOURS = 12
MIN_PASSWORD_CHARS = 8
_SECRET_BYTES = 32
_HEX = re.compile(rf"(?:[0-9a-f]{{2}}){{{_SECRET_BYTES},}}")
_NAME = re.compile(r"[a-z0-9_-]{1,40}")
_NAME_RULE = "use 1-40 lowercase letters, digits, '-' or '_'"
_POSTGRES = "postgresql://"
_KEYS = ("version", "secret", "session_hours", "workspaces", "users")
_USER_KEYS = ("role", "password_hash")
_NEW_SECRET = "python -c 'import secrets; print(secrets.token_hex(32))'"


@dataclass(frozen=True)
class User:
    """A user of a shared deployment.

    Parameters
    ----------
    name
        Sign-in name: 1-40 lowercase letters, digits, '-' or '_'.
    role
        One of `access.roles.ROLES`.
    password_hash
        Argon2id hash of the password; hidden from ``repr``.
    """

    name: str
    role: str
    password_hash: str = field(repr=False)


@dataclass(frozen=True)
class Config:
    """A loaded, validated access config.

    Parameters
    ----------
    path
        The JSON file it was read from and is written back to.
    secret
        Key that signs session tokens (32 bytes or more); hidden from ``repr``.
    session_hours
        How long a session token stays valid.
    workspaces
        Workspace name -> absolute folder path or ``postgresql://`` URL.
    users
        User name -> `User`.
    """

    path: Path
    secret: bytes
    session_hours: float
    workspaces: dict[str, str]
    users: dict[str, User]

    def __repr__(self) -> str:
        # A postgresql:// URL may carry a database password; the secret never shows.
        places = {name: redact_url(location) for name, location in self.workspaces.items()}
        return (f"Config(path={str(self.path)!r}, session_hours={self.session_hours!r}, "
                f"workspaces={places!r}, users={list(self.users.values())!r})")


def init_config(path: str | os.PathLike[str]) -> Config:
    """Create a new access config with a fresh secret, no workspaces and no users.

    Parameters
    ----------
    path
        Where to write the JSON file (mode 0600); its folder must exist.

    Raises
    ------
    ConfigError
        If the file already exists (it is never overwritten) or its folder is missing.
    """
    path = Path(path)
    if path.exists():
        raise ConfigError(f"{path} already exists; refusing to overwrite it (it holds the signing "
                          "secret and password hashes). Use add_workspace/add_user to change it, "
                          "or move it away first to start over.")
    if not path.parent.is_dir():
        raise ConfigError(f"{path}: folder {path.parent} does not exist. Create it first, "
                          "or choose a path in an existing folder.")
    config = Config(path=path, secret=secrets.token_bytes(_SECRET_BYTES),
                    session_hours=SESSION_HOURS, workspaces={}, users={})
    _write(config)
    return config


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate an access config.

    Parameters
    ----------
    path
        The JSON file written by `init_config`.

    Raises
    ------
    ConfigError
        If the file is missing or not JSON, or with every problem found in it listed together.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no access config here. Check the path, or create one "
                          "with init_config.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file. Point to the JSON access config "
                          "written by init_config.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the access config ({exc.strerror}). "
                          "Check the file's owner and permissions.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON "
                          f"({exc.msg}). Fix the syntax, or restore the file from a backup.") from None
    return _parse(path, data)


def add_workspace(path: str | os.PathLike[str], name: str, location: str) -> Config:
    """Add a workspace to the config, or point an existing name at a new location.

    Parameters
    ----------
    path
        The access config file.
    name
        Workspace name: 1-40 lowercase letters, digits, '-' or '_'.
    location
        An absolute folder path, or a ``postgresql://`` URL (prefer a password in
        ``~/.pgpass`` over one in the URL).

    Raises
    ------
    ConfigError
        For an invalid name or location, or an invalid config file.
    """
    problem = _name_problem("workspace", name) or _location_problem(name, location)
    if problem:
        raise ConfigError(f"{path}: {problem}")
    config = load_config(path)
    new = replace(config, workspaces={**config.workspaces, name: location})
    _write(new)
    return new


def add_user(path: str | os.PathLike[str], name: str, *, role: str, password: str,
             hasher: PasswordHasher | None = None) -> Config:
    """Add a user, or replace an existing user's role and password.

    Parameters
    ----------
    path
        The access config file.
    name
        User name: 1-40 lowercase letters, digits, '-' or '_'.
    role
        One of `access.roles.ROLES`.
    password
        At least 8 characters; only its Argon2id hash is stored.
    hasher
        Argon2 hasher; the default uses argon2-cffi's default parameters. Tests pass a
        cheaper one.

    Raises
    ------
    ConfigError
        For an invalid name, role or password (the message never repeats the password),
        or an invalid config file.
    """
    problem = _name_problem("user", name)
    if not problem and role not in ROLES:
        problem = f"role {role!r} for user '{name}' is not a role; use one of {', '.join(ROLES)}."
    if not problem and (not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS):
        problem = (f"the password for user '{name}' is shorter than {MIN_PASSWORD_CHARS} "
                   "characters; choose a longer one.")
    if problem:
        raise ConfigError(f"{path}: {problem}")
    config = load_config(path)
    user = User(name=name, role=role, password_hash=(hasher or PasswordHasher()).hash(password))
    new = replace(config, users={**config.users, name: user})
    _write(new)
    return new


def remove_user(path: str | os.PathLike[str], name: str) -> Config:
    """Remove a user; their session tokens stop working at once.

    Parameters
    ----------
    path
        The access config file.
    name
        The user to remove.

    Raises
    ------
    ConfigError
        If there is no such user, or the config file is invalid.
    """
    config = load_config(path)
    if name not in config.users:
        raise ConfigError(f"{config.path}: there is no user {name!r} to remove; "
                          f"users are: {_listing(config.users)}.")
    new = replace(config, users={k: v for k, v in config.users.items() if k != name})
    _write(new)
    return new


def workspace_location(config: Config, name: str) -> str:
    """Return the location of a workspace the config lists, and nothing else.

    This is the only way from a name to a workspace: a path, a URL, ``..`` or any
    name not configured is refused, so nothing outside the config can be opened.

    Parameters
    ----------
    config
        The loaded access config.
    name
        A configured workspace name, exactly as written in the config.

    Raises
    ------
    ConfigError
        For any name that is not configured; the message lists the configured names.
    """
    # Exact lookup only: configured names are validated, so no path or URL can match.
    if isinstance(name, str) and name in config.workspaces:
        return config.workspaces[name]
    shown = redact_url(name)[:60] if isinstance(name, str) else type(name).__name__
    if not config.workspaces:
        raise ConfigError(f"{config.path}: no workspaces are configured, so {shown!r} cannot be "
                          "opened. Ask an admin to add one with add_workspace.")
    raise ConfigError(f"{config.path}: {shown!r} is not a configured workspace; configured: "
                      f"{_listing(config.workspaces)}. Pick one of those, or ask an admin to "
                      "add it with add_workspace.")


def _parse(path: Path, data: object) -> Config:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object with {', '.join(_KEYS)}. "
                          "Point to the access config written by init_config.")
    problems = [f"'{key}' is not a known setting; remove it or fix its spelling "
                f"(known: {', '.join(_KEYS)})." for key in data if key not in _KEYS]

    version = data.get("version")
    if version != VERSION or isinstance(version, bool):
        problems.append(f"version: expected {VERSION}, found {version!r}. "
                        f"Set \"version\": {VERSION}, or use the Atlas release that wrote the file.")

    secret = data.get("secret")
    key = _secret_bytes(secret)
    if key is None:
        what = "missing" if secret is None else "not a hex string of 32 bytes or more"
        problems.append(f"secret: {what}. Set it to the output of {_NEW_SECRET} "
                        "(this signs everyone out).")

    hours = data.get("session_hours", SESSION_HOURS)
    if (isinstance(hours, bool) or not isinstance(hours, int | float)
            or not math.isfinite(hours) or hours <= 0):
        problems.append(f"session_hours: expected a positive number of hours, found {hours!r}. "
                        f"Use e.g. {SESSION_HOURS}.")

    workspaces = data.get("workspaces", {})
    if not isinstance(workspaces, dict):
        problems.append("workspaces: expected an object of name -> folder or postgresql:// URL, "
                        f"found {type(workspaces).__name__}. Use {{}} and add_workspace.")
        workspaces = {}
    for name, location in workspaces.items():
        problem = _name_problem("workspace", name) or _location_problem(name, location)
        if problem:
            problems.append(f"workspaces: {problem}")

    users_data = data.get("users", {})
    if not isinstance(users_data, dict):
        problems.append("users: expected an object of name -> {role, password_hash}, found "
                        f"{type(users_data).__name__}. Use {{}} and add_user.")
        users_data = {}
    users = {}
    for name, entry in users_data.items():
        user_problems = _user_problems(name, entry)
        problems.extend(f"users: {p}" for p in user_problems)
        if not user_problems:
            users[name] = User(name=name, role=entry["role"], password_hash=entry["password_hash"])

    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        raise ConfigError(f"{path} has {count}:\n{listed}\nFix them in the file "
                          "(or with add_workspace/add_user), then try again.")
    return Config(path=path, secret=key, session_hours=hours, workspaces=dict(workspaces),
                  users=users)


def _user_problems(name: str, entry: object) -> list[str]:
    problem = _name_problem("user", name)
    if problem:
        return [problem]
    if not isinstance(entry, dict):
        return [f"'{name}': expected an object with role and password_hash. Re-add the user "
                "with add_user."]
    problems = [f"'{name}': '{key}' is not a known user setting; remove it "
                f"(known: {', '.join(_USER_KEYS)})." for key in entry if key not in _USER_KEYS]
    role = entry.get("role")
    if role not in ROLES:
        problems.append(f"'{name}': role {role!r} is not a role; use one of {', '.join(ROLES)}.")
    if not _is_argon2id(entry.get("password_hash")):
        # Never echo the stored value: it may be a hash, or a password pasted by mistake.
        problems.append(f"'{name}': password_hash is missing or not an Argon2id hash. "
                        "Set the password again with add_user.")
    return problems


def _name_problem(kind: str, name: object) -> str | None:
    if isinstance(name, str) and _NAME.fullmatch(name):
        return None
    shown = redact_url(name)[:60] if isinstance(name, str) else name
    example = "west" if kind == "workspace" else "anna"
    return f"{shown!r} is not a valid {kind} name; {_NAME_RULE} (e.g. '{example}')."


def _location_problem(name: str, location: object) -> str | None:
    if isinstance(location, str) and not any(ch < " " for ch in location):
        if location.startswith(_POSTGRES) and len(location) > len(_POSTGRES):
            return None
        if not location.startswith(_POSTGRES) and os.path.isabs(location):
            return None
    shown = redact_url(location) if isinstance(location, str) else location
    return (f"'{name}': location {shown!r} is neither an absolute folder path nor a "
            "postgresql:// URL; use e.g. /srv/atlas/west or postgresql://host/atlas_west.")


def _secret_bytes(secret: object) -> bytes | None:
    if not isinstance(secret, str) or not _HEX.fullmatch(secret):
        return None
    return bytes.fromhex(secret)


def _is_argon2id(value: object) -> bool:
    if not isinstance(value, str) or not value.startswith("$argon2id$"):
        return False
    try:
        argon2.extract_parameters(value)
    except argon2.exceptions.InvalidHashError:
        return False
    return True


def redact_url(text: str) -> str:
    """Return `text` with the password of any ``scheme://user:password@host`` URL in it replaced by ***."""
    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", text)


def _listing(names: dict[str, object]) -> str:
    return ", ".join(sorted(names)) or "(none)"


def _write(config: Config) -> None:
    data = {
        "version": VERSION,
        "secret": config.secret.hex(),
        "session_hours": config.session_hours,
        "workspaces": dict(sorted(config.workspaces.items())),
        "users": {name: {"role": user.role, "password_hash": user.password_hash}
                  for name, user in sorted(config.users.items())},
    }
    text = json.dumps(data, indent=2) + "\n"
    path = config.path
    # mkstemp creates the file 0600 in the same folder, so os.replace is atomic and the
    # secret is never readable by others, not even for a moment.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), 0o600)
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
