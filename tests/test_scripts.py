"""The set-up scripts: install only when requirements change, find Chromium without root, clean up in CI.

The scripts run for real, with a fake interpreter in a throwaway virtual environment: it
logs what it is asked to do, pretends to run pip and Streamlit, and hands anything else to
the interpreter running these tests.
"""
from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.browser import (
    CHROMEDRIVER_ENV,
    CHROMIUM_ENV,
    BrowserMissing,
    chromium_paths,
    find_program,
)
from tests.conftest import ROOT
from tests.test_export_fixtures import mymaps_kmz
from workspace import Workspace


def _executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def fake_venv(folder: Path, *, pip_rc: int = 0) -> tuple[Path, Path]:
    """Return (venv, log): a venv whose python logs its arguments, fakes pip and streamlit, runs the rest."""
    log = folder / "python.log"
    _executable(folder / "venv" / "bin" / "python", f"""#!/bin/sh
echo "$*" >> "{log}"
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then exit {pip_rc}; fi
if [ "$1" = "-m" ] && [ "$2" = "streamlit" ]; then exit 0; fi
exec "{sys.executable}" "$@"
""")
    return folder / "venv", log


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def run(args, *, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


# -- start.sh: pip only when requirements.txt changed ----------------------------------------------
@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the scripts with a requirements.txt (and a dev file including it) of its own."""
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    for name in ("start.sh", "venv.sh", "test.sh", "atlas"):
        shutil.copy2(ROOT / "scripts" / name, root / "scripts" / name)
    (root / "requirements.txt").write_text("streamlit==1.67.0\n")
    (root / "requirements-dev.txt").write_text("-r requirements.txt\npytest==9.0.3\n")
    return root


def test_start_installs_only_when_the_requirements_change(tree, tmp_path):
    venv, log = fake_venv(tmp_path)
    env = {"ATLAS_VENV": str(venv)}

    first = run([tree / "scripts" / "start.sh", "--server.port", "8599"], cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert [c.split(" -r ")[0] for c in calls(log)] == [
        "-m pip install --quiet --disable-pip-version-check",
        "-m streamlit run app.py --server.headless true --server.port 8599",
    ]
    assert (venv / ".atlas-requirements.txt.sha256").is_file()  # the stamp lives in the environment

    log.unlink()
    again = run([tree / "scripts" / "start.sh"], cwd=tree, env=env)
    assert again.returncode == 0 and [c for c in calls(log) if "pip" in c] == []
    assert "Installing" not in again.stderr

    log.unlink()
    (tree / "requirements.txt").write_text("streamlit==1.67.0\nh3==4.3.1\n")
    changed = run([tree / "scripts" / "start.sh"], cwd=tree, env=env)
    assert changed.returncode == 0 and len([c for c in calls(log) if "-m pip install" in c]) == 1
    assert "Installing requirements.txt" in changed.stderr


def test_a_failed_install_is_tried_again(tree, tmp_path):
    venv, log = fake_venv(tmp_path, pip_rc=1)
    env = {"ATLAS_VENV": str(venv)}
    for _ in range(2):
        done = run([tree / "scripts" / "start.sh"], cwd=tree, env=env)
        assert done.returncode == 1
    assert len([c for c in calls(log) if "-m pip install" in c]) == 2
    assert not any("streamlit" in c for c in calls(log))
    assert not (venv / ".atlas-requirements.txt.sha256").exists()


def test_an_included_requirements_file_counts_as_a_change(tree, tmp_path):
    venv, log = fake_venv(tmp_path)
    ensure = ["bash", "-c", "source scripts/venv.sh && atlas_ensure_venv requirements-dev.txt"]
    env = {"ATLAS_VENV": str(venv)}
    assert run(ensure, cwd=tree, env=env).returncode == 0
    assert run(ensure, cwd=tree, env=env).returncode == 0
    (tree / "requirements.txt").write_text("streamlit==1.67.1\n")  # included with -r
    assert run(ensure, cwd=tree, env=env).returncode == 0
    assert len([c for c in calls(log) if "-m pip install" in c]) == 2


# -- Chromium and chromedriver: one lookup for tests/browser.py and scripts/test.sh ----------------------
def test_lookup_prefers_the_environment_then_path_then_debian_places(tmp_path):
    bin_dir = tmp_path / "bin"
    on_path = _executable(bin_dir / "chromium", "#!/bin/sh\n")
    named = _executable(tmp_path / "mine" / "chrome", "#!/bin/sh\n")
    place = _executable(tmp_path / "usr-lib" / "chromium", "#!/bin/sh\n")
    names, places = ("chromium",), (str(place),)
    assert find_program(CHROMIUM_ENV, names, places, environ={CHROMIUM_ENV: str(named), "PATH": str(bin_dir)}) \
        == str(named)
    assert find_program(CHROMIUM_ENV, names, places, environ={"PATH": str(bin_dir)}) == str(on_path)
    assert find_program(CHROMIUM_ENV, names, places, environ={"PATH": str(tmp_path / "empty")}) == str(place)
    with pytest.raises(BrowserMissing, match="found neither on PATH nor in"):
        find_program(CHROMIUM_ENV, names, (str(tmp_path / "nowhere"),), environ={"PATH": ""})
    with pytest.raises(BrowserMissing, match=f"{CHROMIUM_ENV}=.*not an executable file"):
        find_program(CHROMIUM_ENV, names, places, environ={CHROMIUM_ENV: str(tmp_path / "missing")})


def test_lookup_names_what_to_install(tmp_path):
    with pytest.raises(BrowserMissing, match="sudo apt-get install chromium chromium-driver"):
        chromium_paths({CHROMIUM_ENV: str(tmp_path / "no-chromium"), CHROMEDRIVER_ENV: str(tmp_path / "no-driver")})


def _non_root_path(tmp_path: Path) -> str:
    # `id -u` answers 1000: the script must not try apt-get, nor sudo.
    _executable(tmp_path / "fakebin" / "id", "#!/bin/sh\necho 1000\n")
    return f"{tmp_path / 'fakebin'}{os.pathsep}{os.environ.get('PATH', os.defpath)}"


def test_test_sh_without_root_says_what_to_install(tmp_path):
    venv, log = fake_venv(tmp_path)
    done = run([ROOT / "scripts" / "test.sh", "--version"], cwd=tmp_path, env={
        "ATLAS_VENV": str(venv), "PATH": _non_root_path(tmp_path), CHROMIUM_ENV: str(tmp_path / "no-chromium")})
    assert done.returncode == 1
    assert "sudo apt-get install chromium chromium-driver" in done.stderr
    assert f"{CHROMIUM_ENV}={tmp_path / 'no-chromium'} is not an executable file" in done.stderr
    assert "command not found" not in done.stderr
    assert not any("pytest" in c for c in calls(log))


def test_test_sh_without_root_runs_when_everything_is_there(tmp_path):
    try:
        chromium, chromedriver = chromium_paths()
    except BrowserMissing as exc:
        pytest.skip(str(exc))
    venv, log = fake_venv(tmp_path)
    done = run([ROOT / "scripts" / "test.sh", "--version"], cwd=tmp_path, env={
        "ATLAS_VENV": str(venv), "PATH": _non_root_path(tmp_path),
        CHROMIUM_ENV: chromium, CHROMEDRIVER_ENV: chromedriver})
    assert done.returncode == 0, done.stderr
    assert calls(log)[-1] == "-m pytest --version"


# -- .ci/run removes its virtual environment, pass or fail ----------------------------------------------
def _ci_tree(tmp_path: Path, body: str) -> tuple[Path, Path]:
    root = tmp_path / "ci"
    (root / ".ci").mkdir(parents=True)
    shutil.copy2(ROOT / ".ci" / "run", root / ".ci" / "run")
    # The fake test.sh leaves files where the real one would: the venv and the temporary folder.
    _executable(root / "scripts" / "test.sh", f"""#!/usr/bin/env bash
mkdir -p "$ATLAS_VENV/bin" && touch "$ATLAS_VENV/bin/python"
mktemp -d > /dev/null && mktemp > /dev/null
echo "venv=$ATLAS_VENV tmp=$TMPDIR args=$*"
{body}
""")
    temp = tmp_path / "tmp"
    temp.mkdir()
    return root, temp


@pytest.mark.parametrize(("body", "code"), [("exit 0", 0), ("exit 1", 1)])
def test_ci_run_leaves_nothing_behind(tmp_path, body, code):
    root, temp = _ci_tree(tmp_path, body)
    done = run([root / ".ci" / "run"], cwd=tmp_path, env={"TMPDIR": str(temp)})
    assert done.returncode == code, done.stderr
    assert f"venv={temp}/atlas-ci." in done.stdout and "args=-q -p no:cacheprovider" in done.stdout
    assert list(temp.iterdir()) == []


def test_ci_run_cleans_up_when_interrupted(tmp_path):
    root, temp = _ci_tree(tmp_path, "sleep 60")
    proc = subprocess.Popen([str(root / ".ci" / "run")], cwd=tmp_path, env={**os.environ, "TMPDIR": str(temp)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 30
    while not list(temp.glob("atlas-ci.*/venv")) and time.time() < deadline:
        time.sleep(0.05)
    assert list(temp.glob("atlas-ci.*/venv"))
    os.killpg(proc.pid, signal.SIGTERM)  # as a CI runner cancelling the job
    proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert list(temp.iterdir()) == []


# -- ./scripts/atlas: the README's commands from any folder ---------------------------------------------
def test_atlas_wrapper_runs_from_another_folder_with_relative_paths(tmp_path):
    venv, log = fake_venv(tmp_path)
    (venv / ".atlas-requirements.txt.sha256").write_text(
        run(["bash", "-c", "source scripts/venv.sh && atlas_requirements_hash requirements.txt"], cwd=ROOT).stdout)
    Workspace(tmp_path / "ws").import_files([mymaps_kmz(tmp_path)])
    done = run([ROOT / "scripts" / "atlas", "export", "--workspace", "ws", "--format", "csv", "--out", "all.csv"],
               cwd=tmp_path, env={"ATLAS_VENV": str(venv)})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "all.csv").stat().st_size > 0
    assert not any("pip" in c for c in calls(log))  # installed already: nothing to do


@pytest.mark.parametrize(("sites", "message"), [
    ("1000", "error: --sites 1000: give between 1 and 10 new sites."),
    ("0", "error: --sites 0: give between 1 and 10 new sites."),
    ("many", "error: --sites 'many' is not a whole number; give how many new sites to suggest (1-10)."),
])
def test_export_sites_is_limited_like_analyze(tmp_path, sites, message):
    Workspace(tmp_path / "ws").import_files([mymaps_kmz(tmp_path)])
    done = run([sys.executable, "-m", "atlas", "export", "--workspace", tmp_path / "ws", "--region", "west-ireland",
                "--format", "geojson", "--out", tmp_path / "x.geojson", "--include", "analysis", "--sites", sites],
               cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [message]
    assert not (tmp_path / "x.geojson").exists()


# -- the demo build leaves unchanged inputs byte for byte ------------------------------------------------
def _build_demo_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_demo_under_test", ROOT / "geodata" / "demo" / "build_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_build_leaves_unchanged_inputs_byte_identical(tmp_path, capsys):
    demo = tmp_path / "demo"
    shutil.copytree(ROOT / "geodata" / "demo", demo, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in demo.iterdir()}
    build = _build_demo_module()
    build.HERE, build.WORKSPACE = demo, tmp_path / "workspace"
    build.main()
    assert "72 features" in capsys.readouterr().out
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in demo.iterdir()}
    assert after == before  # not even rewritten with the same bytes


def test_demo_build_writes_the_same_bytes_for_the_same_content(tmp_path):
    build = _build_demo_module()
    from openpyxl import Workbook

    def book() -> bytes:
        wb = Workbook()
        wb.active.append(["Name", "Łódź"])
        return build.workbook_bytes(wb)

    first = book()
    time.sleep(1.1)  # openpyxl's own "modified" time would differ by now
    assert book() == first
    assert build.zip_bytes([("doc.kml", b"<kml/>")]) == build.zip_bytes([("doc.kml", b"<kml/>")])
    path = tmp_path / "x.kmz"
    assert build.write_if_changed(path, build.zip_bytes([("doc.kml", b"<kml/>")]))
    assert not build.write_if_changed(path, build.zip_bytes([("doc.kml", b"<kml/>")]))
    assert build.write_if_changed(path, build.zip_bytes([("doc.kml", b"<kml><Document/></kml>")]))
