"""Password checks and signed, expiring session tokens for shared mode."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from access.config import Config, User
from access.errors import ConfigError

_B64 = re.compile(r"[A-Za-z0-9_-]+")
_MAX_TOKEN_CHARS = 2048
_dummy_hashes: dict[tuple[object, ...], str] = {}


def verify_password(config: Config, name: str, password: str, *,
                    hasher: PasswordHasher | None = None) -> User | None:
    """Return the user if ``password`` is theirs, else None.

    An unknown name costs the same hash verification as a known one, so the time
    taken does not reveal which user names exist.

    Parameters
    ----------
    config
        The loaded access config.
    name
        The user name typed at sign-in.
    password
        The password typed at sign-in.
    hasher
        Argon2 hasher whose parameters the dummy hash uses; the default matches
        `access.config.add_user`'s default.
    """
    hasher = hasher or PasswordHasher()
    user = config.users.get(name) if isinstance(name, str) else None
    stored = user.password_hash if user else _dummy_hash(hasher)
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):  # VerifyMismatchError is a VerificationError
        return None
    return user


def issue_token(config: Config, user_name: str, *, now: float | None = None) -> str:
    """Return a session token for a user, valid for ``config.session_hours``.

    The token is ``base64url(payload).base64url(hmac_sha256(secret, payload))`` with
    payload JSON ``{"u": name, "exp": unix time, "r": role}``.

    Parameters
    ----------
    config
        The loaded access config.
    user_name
        A user in the config (normally the one `verify_password` returned).
    now
        Unix time of issue; defaults to the current time.

    Raises
    ------
    ConfigError
        If the user is not in the config.
    """
    user = config.users.get(user_name)
    if user is None:
        raise ConfigError(f"{config.path}: there is no user {user_name!r} to sign in; "
                          "add them with add_user first.")
    issued = time.time() if now is None else now
    expires = int(issued + config.session_hours * 3600)
    payload = json.dumps({"u": user.name, "exp": expires, "r": user.role},
                         separators=(",", ":"), sort_keys=True).encode()
    return f"{_encode(payload)}.{_encode(_sign(config, payload))}"


def read_token(config: Config, token: str, *, now: float | None = None) -> User | None:
    """Return the user a valid token was issued to, else None.

    None when the token is malformed, its signature is wrong, it has expired, its
    user has been removed, or the user's role changed since it was issued (so a
    demotion takes effect at once).

    Parameters
    ----------
    config
        The loaded access config.
    token
        A token from `issue_token`.
    now
        Unix time to check expiry against; defaults to the current time.
    """
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS or token.count(".") != 1:
        return None
    payload_text, signature_text = token.split(".")
    payload, signature = _decode(payload_text), _decode(signature_text)
    if payload is None or signature is None:
        return None
    if not hmac.compare_digest(signature, _sign(config, payload)):
        return None
    try:
        claims = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(claims, dict):
        return None
    name, expires, role = claims.get("u"), claims.get("exp"), claims.get("r")
    if not isinstance(expires, int) or isinstance(expires, bool):
        return None
    checked = time.time() if now is None else now
    # Also refuse a lifetime longer than the config now allows, so shortening
    # session_hours applies to tokens already issued.
    if not checked < expires <= checked + config.session_hours * 3600:
        return None
    user = config.users.get(name) if isinstance(name, str) else None
    if user is None or user.role != role:
        return None
    return user


def _sign(config: Config, payload: bytes) -> bytes:
    return hmac.new(config.secret, payload, hashlib.sha256).digest()


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes | None:
    if not _B64.fullmatch(text):
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    # Only the canonical spelling is accepted, so one token has exactly one form.
    return data if _encode(data) == text else None


def _dummy_hash(hasher: PasswordHasher) -> str:
    """Return a hash of a random password made with ``hasher``'s parameters, made once."""
    key = (hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism,
           hasher.hash_len, hasher.salt_len)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(secrets.token_hex(16))
    return _dummy_hashes[key]
