"""Tests of shared mode's access package: config file, passwords, session tokens and roles."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import stat
from dataclasses import replace

import argon2
import pytest
from argon2 import PasswordHasher

from access import (
    AUDIT,
    EDIT,
    IMPORT,
    REVERT,
    ROLES,
    SAVE_SITE,
    VIEW,
    AccessDenied,
    ConfigError,
    add_user,
    add_workspace,
    can,
    init_config,
    issue_token,
    load_config,
    read_token,
    remove_user,
    require,
    verify_password,
    workspace_location,
)

# The library's minimum cost: the tests check behaviour, not hashing strength.
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
T0 = 1_700_000_000.0  # a fixed "now" for the token tests
HOUR = 3600


@pytest.fixture
def path(tmp_path):
    """A config with two workspaces, an editor and a viewer."""
    path = tmp_path / "access.json"
    init_config(path)
    add_workspace(path, "west", "/srv/atlas/west")
    add_workspace(path, "east-2", "postgresql://atlas@db.example/atlas_east")
    add_user(path, "anna", role="editor", password="correct horse", hasher=FAST)
    add_user(path, "bo", role="viewer", password="battery staple", hasher=FAST)
    return path


def _write_json(path, data):
    path.write_text(json.dumps(data), encoding="utf-8")


# --- config file -------------------------------------------------------------------------

def test_init_then_load_round_trips(tmp_path):
    path = tmp_path / "access.json"
    created = init_config(path)
    loaded = load_config(path)
    assert loaded == created
    assert len(loaded.secret) == 32
    assert (loaded.session_hours, loaded.workspaces, loaded.users) == (12, {}, {})
    data = json.loads(path.read_text())
    assert data == {"version": 1, "secret": created.secret.hex(), "session_hours": 12,
                    "workspaces": {}, "users": {}}


def test_two_configs_get_different_secrets(tmp_path):
    assert init_config(tmp_path / "a.json").secret != init_config(tmp_path / "b.json").secret


def test_config_file_is_private_and_no_temp_files_remain(path):
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["access.json"]


def test_init_refuses_to_overwrite(path):
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=r"access\.json already exists; refusing to overwrite"):
        init_config(path)
    assert path.read_bytes() == before


def test_init_needs_an_existing_folder(tmp_path):
    with pytest.raises(ConfigError, match=r"folder .*nowhere does not exist\. Create it first"):
        init_config(tmp_path / "nowhere" / "access.json")


def test_full_round_trip(path):
    config = load_config(path)
    assert config.workspaces == {"west": "/srv/atlas/west",
                                 "east-2": "postgresql://atlas@db.example/atlas_east"}
    assert {u.name: u.role for u in config.users.values()} == {"anna": "editor", "bo": "viewer"}


def test_add_user_stores_only_an_argon2id_hash(path):
    raw = path.read_bytes()
    assert b"correct horse" not in raw
    assert b"battery staple" not in raw
    stored = json.loads(raw)["users"]["anna"]["password_hash"]
    assert stored.startswith("$argon2id$")
    assert argon2.extract_parameters(stored).type is argon2.Type.ID


def test_add_user_uses_the_library_default_parameters(tmp_path):
    path = tmp_path / "access.json"
    init_config(path)
    user = add_user(path, "anna", role="admin", password="correct horse").users["anna"]
    params = argon2.extract_parameters(user.password_hash)
    default = PasswordHasher()
    assert (params.time_cost, params.memory_cost, params.parallelism) == (
        default.time_cost, default.memory_cost, default.parallelism)


def test_re_adding_a_user_replaces_role_and_password(path):
    config = add_user(path, "anna", role="viewer", password="new password", hasher=FAST)
    assert config.users["anna"].role == "viewer"
    assert load_config(path) == config
    assert verify_password(config, "anna", "correct horse", hasher=FAST) is None
    assert verify_password(config, "anna", "new password", hasher=FAST) == config.users["anna"]


def test_short_password_is_refused_without_echoing_it(path):
    with pytest.raises(ConfigError, match="password for user 'anna' is shorter than 8") as caught:
        add_user(path, "anna", role="editor", password="hunter2", hasher=FAST)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(("name", "role", "match"), [
    ("Anna", "editor", r"'Anna' is not a valid user name; use 1-40 lowercase"),
    ("a/b", "editor", r"'a/b' is not a valid user name"),
    ("", "editor", r"'' is not a valid user name"),
    ("x" * 41, "editor", r"is not a valid user name"),
    ("anna", "owner", r"role 'owner' for user 'anna' is not a role; use one of viewer, editor, admin"),
])
def test_add_user_refuses_bad_names_and_roles(path, name, role, match):
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=match):
        add_user(path, name, role=role, password="long enough", hasher=FAST)
    assert path.read_bytes() == before


def test_remove_user(path):
    config = remove_user(path, "bo")
    assert list(config.users) == ["anna"]
    assert load_config(path) == config
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ConfigError, match=r"no user 'bo' to remove; users are: anna\."):
        remove_user(path, "bo")


def test_re_adding_a_workspace_replaces_its_location(path):
    config = add_workspace(path, "west", "/data/west")
    assert config.workspaces["west"] == "/data/west"
    assert load_config(path).workspaces["west"] == "/data/west"


@pytest.mark.parametrize(("name", "location", "match"), [
    ("West", "/srv/w", r"'West' is not a valid workspace name; use 1-40 lowercase letters"),
    ("../x", "/srv/w", r"'\.\./x' is not a valid workspace name"),
    ("a b", "/srv/w", r"'a b' is not a valid workspace name"),
    ("north", "srv/north", r"'north': location 'srv/north' is neither an absolute folder path"),
    ("north", "postgres://db/x", r"is neither an absolute folder path nor a postgresql:// URL"),
    ("north", "postgresql://", r"is neither an absolute folder path"),
    ("north", "", r"location '' is neither"),
    ("north", "/srv/a\nb", r"is neither an absolute folder path"),
])
def test_add_workspace_refuses_bad_names_and_locations(path, name, location, match):
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=match):
        add_workspace(path, name, location)
    assert path.read_bytes() == before


def test_database_passwords_stay_out_of_messages_and_repr(path):
    with pytest.raises(ConfigError) as caught:
        add_workspace(path, "north", "postgres://atlas:s3cret@db/x")
    assert "s3cret" not in str(caught.value)
    assert "atlas:***@db" in str(caught.value)
    config = add_workspace(path, "north", "postgresql://atlas:s3cret@db/x")
    assert "s3cret" not in repr(config)


def test_repr_hides_hashes_and_secret(path):
    config = load_config(path)
    text = repr(config)
    assert "argon2" not in text
    assert config.secret.hex() not in text
    assert "anna" in text and "west" in text
    assert "argon2" not in repr(config.users["anna"])


# --- load_config validation --------------------------------------------------------------

def test_load_reports_every_problem_at_once(tmp_path):
    path = tmp_path / "access.json"
    _write_json(path, {
        "version": 1,
        "session_hour": 12,
        "session_hours": 0,
        "workspaces": {"West": "/srv/w", "east": "relative/path"},
        "users": {"anna": {"role": "owner", "password_hash": "plain text"},
                  "bo": {"role": "viewer"}},
    })
    with pytest.raises(ConfigError, match=r"access\.json has 8 problems:\n") as caught:
        load_config(path)
    message = str(caught.value)
    for expected in [
        r"'session_hour' is not a known setting; remove it or fix its spelling",
        r"secret: missing\. Set it to the output of python -c",
        r"session_hours: expected a positive number of hours, found 0",
        r"workspaces: 'West' is not a valid workspace name",
        r"workspaces: 'east': location 'relative/path' is neither",
        r"users: 'anna': role 'owner' is not a role; use one of viewer, editor, admin",
        r"users: 'anna': password_hash is missing or not an Argon2id hash\. Set the password again",
        r"users: 'bo': password_hash is missing",
        r"Fix them in the file",
    ]:
        assert re.search(expected, message), expected
    assert "plain text" not in message


def test_load_refuses_a_short_or_non_hex_secret_without_echoing_it(tmp_path):
    path = tmp_path / "access.json"
    for secret in ["ab" * 31, "zz" * 32, 12345]:
        _write_json(path, {"version": 1, "secret": secret, "workspaces": {}, "users": {}})
        with pytest.raises(ConfigError, match=r"1 problem:\n  - secret: not a hex string of 32 bytes") as caught:
            load_config(path)
        assert str(secret) not in str(caught.value)


def test_load_refuses_a_newer_version(tmp_path):
    path = tmp_path / "access.json"
    _write_json(path, {"version": 2, "secret": "ab" * 32})
    with pytest.raises(ConfigError, match=r"version: expected 1, found 2\."):
        load_config(path)


def test_load_names_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.json: no access config here\. Check the path"):
        load_config(tmp_path / "nope.json")


def test_load_names_the_line_of_broken_json(tmp_path):
    path = tmp_path / "access.json"
    path.write_text('{\n  "version": 1,\n  "secret": \n}')
    with pytest.raises(ConfigError, match=r"access\.json, line 4, column 1: not valid JSON"):
        load_config(path)


def test_load_refuses_a_json_list(tmp_path):
    path = tmp_path / "access.json"
    path.write_text("[]")
    with pytest.raises(ConfigError, match=r"expected a JSON object with version, secret"):
        load_config(path)


def test_changes_to_an_invalid_file_are_refused(tmp_path):
    path = tmp_path / "access.json"
    _write_json(path, {"version": 1})
    with pytest.raises(ConfigError, match="secret: missing"):
        add_workspace(path, "west", "/srv/west")
    assert json.loads(path.read_text()) == {"version": 1}


# --- workspace_location: the only way from a name to a workspace -------------------------

def test_workspace_location_accepts_configured_names(path):
    config = load_config(path)
    assert workspace_location(config, "west") == "/srv/atlas/west"
    assert workspace_location(config, "east-2") == "postgresql://atlas@db.example/atlas_east"


@pytest.mark.parametrize("name", [
    "../x", "west/..", "west/", "/etc", "/srv/atlas/west", "postgresql://evil",
    "postgresql://atlas@db.example/atlas_east", "West", " west", "west\n", "", "..", ".",
    "north", None, 0,
])
def test_workspace_location_refuses_anything_not_configured(path, name):
    config = load_config(path)
    with pytest.raises(ConfigError,
                       match=r"is not a configured workspace; configured: east-2, west\. Pick one"):
        workspace_location(config, name)


def test_workspace_location_with_no_workspaces(tmp_path):
    config = init_config(tmp_path / "access.json")
    with pytest.raises(ConfigError, match=r"no workspaces are configured, so 'west' cannot be opened"):
        workspace_location(config, "west")


# --- passwords ---------------------------------------------------------------------------

class CountingHasher(PasswordHasher):
    """A cheap hasher that counts verifications."""

    def __init__(self):
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash, password):
        self.verified += 1
        return super().verify(hash, password)


def test_verify_password(path):
    config = load_config(path)
    assert verify_password(config, "anna", "correct horse", hasher=FAST) == config.users["anna"]
    assert verify_password(config, "anna", "battery staple", hasher=FAST) is None
    assert verify_password(config, "anna", "", hasher=FAST) is None
    assert verify_password(config, "nobody", "correct horse", hasher=FAST) is None


def test_unknown_user_still_costs_a_hash_verification(path):
    config = load_config(path)
    hasher = CountingHasher()
    assert verify_password(config, "nobody", "correct horse", hasher=hasher) is None
    assert verify_password(config, "anna", "wrong password", hasher=hasher) is None
    assert hasher.verified == 2


def test_a_corrupt_stored_hash_fails_closed(path):
    config = load_config(path)
    broken = replace(config.users["anna"], password_hash="$argon2id$garbage")
    config = replace(config, users={**config.users, "anna": broken})
    assert verify_password(config, "anna", "correct horse", hasher=FAST) is None


# --- session tokens ----------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(config, payload: bytes) -> str:
    """A token built by hand from the documented format, as an independent oracle."""
    return f"{_b64(payload)}.{_b64(hmac.new(config.secret, payload, hashlib.sha256).digest())}"


def test_token_round_trip(path):
    config = load_config(path)
    token = issue_token(config, "anna", now=T0)
    assert read_token(config, token, now=T0) == config.users["anna"]
    assert read_token(config, token, now=T0 + 12 * HOUR - 1) == config.users["anna"]
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert payload == {"u": "anna", "exp": int(T0) + 12 * HOUR, "r": "editor"}


def test_token_follows_the_documented_format(path):
    config = load_config(path)
    payload = json.dumps({"u": "anna", "exp": int(T0) + HOUR, "r": "editor"}).encode()
    assert read_token(config, _signed(config, payload), now=T0) == config.users["anna"]


def test_token_expires(path):
    config = load_config(path)
    token = issue_token(config, "anna", now=T0)
    assert read_token(config, token, now=T0 + 12 * HOUR) is None
    assert read_token(config, token, now=T0 + 100 * HOUR) is None


def test_shortening_sessions_applies_to_issued_tokens(path):
    config = load_config(path)
    token = issue_token(config, "anna", now=T0)
    assert read_token(replace(config, session_hours=1), token, now=T0) is None


def test_tampered_payload_is_refused(path):
    config = load_config(path)
    _, signature = issue_token(config, "bo", now=T0).split(".")
    forged = json.dumps({"u": "bo", "exp": int(T0) + 12 * HOUR, "r": "admin"},
                        separators=(",", ":"), sort_keys=True).encode()
    assert read_token(config, f"{_b64(forged)}.{signature}", now=T0) is None


def test_tampered_signature_is_refused(path):
    config = load_config(path)
    payload, signature = issue_token(config, "anna", now=T0).split(".")
    flipped = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    assert read_token(config, f"{payload}.{flipped}", now=T0) is None
    assert read_token(config, f"{payload}.", now=T0) is None


def test_token_signed_with_another_secret_is_refused(path, tmp_path):
    config = load_config(path)
    other = replace(config, secret=bytes(32))
    assert read_token(config, issue_token(other, "anna", now=T0), now=T0) is None


@pytest.mark.parametrize("token", [
    "", ".", "abc", "a.b.c", "!!!.???", "a b.c d", None, 42, "x" * 5000,
])
def test_malformed_tokens_are_refused(path, token):
    assert read_token(load_config(path), token, now=T0) is None


def test_validly_signed_but_odd_payloads_are_refused(path):
    config = load_config(path)
    for payload in [b"not json", b"[1]", b'{"u":"anna","r":"editor"}',
                    b'{"u":"anna","exp":"soon","r":"editor"}', b'{"u":["anna"],"exp":1,"r":"editor"}']:
        assert read_token(config, _signed(config, payload), now=T0) is None


def test_role_change_after_issue_ends_the_session(path):
    token = issue_token(load_config(path), "anna", now=T0)
    demoted = add_user(path, "anna", role="viewer", password="correct horse", hasher=FAST)
    assert read_token(demoted, token, now=T0) is None
    assert read_token(demoted, issue_token(demoted, "anna", now=T0), now=T0).role == "viewer"


def test_removed_user_loses_the_session(path):
    token = issue_token(load_config(path), "bo", now=T0)
    assert read_token(remove_user(path, "bo"), token, now=T0) is None


def test_issue_token_for_unknown_user(path):
    with pytest.raises(ConfigError, match=r"no user 'nobody' to sign in; add them with add_user"):
        issue_token(load_config(path), "nobody", now=T0)


# --- roles -------------------------------------------------------------------------------

# Written out by hand: the test is the specification of who may do what.
MATRIX = {
    "viewer": {VIEW},
    "editor": {VIEW, IMPORT, EDIT, REVERT, SAVE_SITE},
    "admin": {VIEW, IMPORT, EDIT, REVERT, SAVE_SITE, AUDIT},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", [VIEW, IMPORT, EDIT, REVERT, SAVE_SITE, AUDIT])
def test_can_matrix(role, action):
    assert can(role, action) is (action in MATRIX[role])


def test_can_refuses_unknown_roles_and_actions():
    with pytest.raises(ValueError, match="unknown action 'imprt'"):
        can("admin", "imprt")
    with pytest.raises(ValueError, match="unknown role 'owner'"):
        can("owner", VIEW)


def test_require_names_the_user_and_the_role_needed(path):
    config = load_config(path)
    require(config.users["anna"], IMPORT)
    with pytest.raises(AccessDenied, match=r"^bo is a viewer: importing needs the editor or admin "
                                           r"role\. Ask an admin to give you the editor role\.$"):
        require(config.users["bo"], IMPORT)
    with pytest.raises(AccessDenied, match=r"^anna is an editor: reading the audit log needs the "
                                           r"admin role\. Ask an admin"):
        require(config.users["anna"], AUDIT)
    with pytest.raises(AccessDenied, match=r"^The viewer role is not enough: editing features needs"):
        require("viewer", EDIT)
