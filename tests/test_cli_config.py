"""``python -m atlas config``: init, add-workspace, add-user (password from stdin or asked twice), list."""
from __future__ import annotations

import contextlib
import io
import json
import stat
import subprocess
import sys
from types import SimpleNamespace

import pytest

from access import load_config, verify_password
from tests.conftest import ROOT

PASSWORD = "correct horse battery staple"


def run(*args: str, stdin: str = "") -> SimpleNamespace:
    """Run the command line in this process with `stdin` as a pipe (not a terminal)."""
    from atlas.cli import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def one_line_error(done: SimpleNamespace) -> str:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "access.json"
    done = run("config", "init", path)
    assert done.returncode == 0, done.stderr
    return path


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_writes_a_private_file_and_never_overwrites_it(config):
    assert mode(config) == 0o600
    data = json.loads(config.read_text())
    assert data["workspaces"] == {} and data["users"] == {}
    before = config.read_bytes()
    line = one_line_error(run("config", "init", config))
    assert "already exists; refusing to overwrite it" in line
    assert config.read_bytes() == before
    assert data["secret"] not in line


def test_init_in_a_missing_folder(tmp_path):
    line = one_line_error(run("config", "init", tmp_path / "nowhere" / "access.json"))
    assert "does not exist" in line


def test_add_workspaces_and_list_them(config, tmp_path):
    assert run("config", "add-workspace", "west", str(tmp_path / "west"), "--config", config).returncode == 0
    done = run("config", "add-workspace", "shared", "postgresql://atlas:db-secret@db.example/atlas",
               "--config", config)
    assert done.returncode == 0, done.stderr
    assert "db-secret" not in done.stdout
    listed = run("config", "list", "--config", config)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        str(config), "workspaces:", "  shared: postgresql://atlas:***@db.example/atlas",
        f"  west: {tmp_path / 'west'}", "users:", "  (none)"]
    assert load_config(config).workspaces["shared"] == "postgresql://atlas:db-secret@db.example/atlas"
    assert mode(config) == 0o600


def test_a_relative_workspace_location_is_refused(config):
    line = one_line_error(run("config", "add-workspace", "west", "west", "--config", config))
    assert "neither an absolute folder path nor a postgresql:// URL" in line
    assert load_config(config).workspaces == {}


def test_password_from_stdin_is_stored_only_as_an_argon2_hash(config):
    done = run("config", "add-user", "anna", "--role", "editor", "--config", config, stdin=f"{PASSWORD}\nignored\n")
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    text = config.read_text()
    assert PASSWORD not in text and "ignored" not in text
    user = load_config(config).users["anna"]
    assert user.role == "editor" and user.password_hash.startswith("$argon2id$")
    assert verify_password(load_config(config), "anna", PASSWORD) == user
    assert mode(config) == 0o600
    listed = run("config", "list", "--config", config)
    assert "  anna: editor" in listed.stdout.splitlines()
    assert "argon2" not in listed.stdout and user.password_hash not in listed.stdout


def test_add_user_as_a_real_process_with_a_piped_password(config):
    proc = subprocess.run([sys.executable, "-m", "atlas", "config", "add-user", "bo", "--role", "admin",
                           "--config", str(config)], cwd=ROOT, input=f"{PASSWORD}\r\n", capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr
    assert PASSWORD not in config.read_text()
    assert verify_password(load_config(config), "bo", PASSWORD).role == "admin"


def test_a_wrong_role_is_refused_before_the_password_is_read(config):
    stdin = io.StringIO(f"{PASSWORD}\n")
    from atlas.cli import main

    err = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(err):
        patch.setattr(sys, "stdin", stdin)
        code = main(["config", "add-user", "anna", "--role", "boss", "--config", str(config)])
    assert code == 2
    assert err.getvalue() == "error: --role 'boss' is not a role; use one of viewer, editor, admin.\n"
    assert stdin.tell() == 0  # the password was not read
    assert load_config(config).users == {}


@pytest.mark.parametrize("stdin, expected", [
    ("", "no password for user 'anna' on stdin"),
    ("\n", "no password for user 'anna' on stdin"),
    ("x7Qz!\n", "shorter than 8 characters"),
])
def test_missing_or_short_password(config, stdin, expected):
    line = one_line_error(run("config", "add-user", "anna", "--role", "viewer", "--config", config, stdin=stdin))
    assert expected in line
    assert "x7Qz!" not in line
    assert load_config(config).users == {}


def test_bad_user_name_and_missing_config(config, tmp_path):
    line = one_line_error(run("config", "add-user", "Anna B", "--role", "viewer", "--config", config,
                              stdin=f"{PASSWORD}\n"))
    assert "is not a valid user name" in line and PASSWORD not in line
    line = one_line_error(run("config", "add-user", "anna", "--role", "viewer", "--config", tmp_path / "no.json",
                              stdin=f"{PASSWORD}\n"))
    assert "no access config here" in line
    assert "no access config here" in one_line_error(run("config", "list", "--config", tmp_path / "no.json"))


def test_a_broken_config_lists_every_problem_on_one_line(config):
    data = json.loads(config.read_text())
    data["workspaces"] = {"west": "relative"}
    data["colour"] = "red"
    config.write_text(json.dumps(data))
    line = one_line_error(run("config", "list", "--config", config))
    assert "has 2 problems" in line and "'colour' is not a known setting" in line and "'west'" in line


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("typed, saved", [([PASSWORD, PASSWORD], True), ([PASSWORD, PASSWORD + "x"], False)])
def test_at_a_terminal_the_password_is_asked_twice_without_echo(config, typed, saved):
    from atlas.cli import main

    prompts = []

    def getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return typed[len(prompts) - 1]

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.setattr(sys, "stdin", _Terminal())
        patch.setattr("getpass.getpass", getpass)
        code = main(["config", "add-user", "anna", "--role", "viewer", "--config", str(config)])
    assert prompts == ["password for anna: ", "password for anna (again): "]
    assert PASSWORD not in out.getvalue() + err.getvalue()
    if saved:
        assert code == 0, err.getvalue()
        assert verify_password(load_config(config), "anna", PASSWORD).role == "viewer"
    else:
        assert code == 2 and "the two passwords for user 'anna' differ" in err.getvalue()
        assert load_config(config).users == {}
