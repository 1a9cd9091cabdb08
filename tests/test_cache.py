"""The gazetteer's Parquet cache: where it lives, what it is keyed on, and that tests never use the user's.

Mutation caught: a change to the code that builds the gazetteer went unnoticed because
the tests read a cache in ``~/.cache/creative-atlas`` keyed only on the GeoNames file.
Now the key holds a hash of the building code too, and the test session has a cache
folder of its own (``tests/conftest.py``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loaders import gazetteer

ROOT = Path(__file__).resolve().parents[1]
USER_CACHE = Path.home() / ".cache" / "creative-atlas"


def _clear_memory() -> None:
    for cached in (gazetteer._tables, gazetteer._name_arrays, gazetteer.places):
        cached.cache_clear()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder for one test; the gazetteer's in-memory tables are dropped before and after."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("ATLAS_CACHE_DIR", str(folder))
    _clear_memory()
    yield folder
    _clear_memory()


@pytest.fixture
def builds(monkeypatch):
    """Replace the 3-4 s build from GeoNames by a tiny table; count the builds."""
    calls = []

    def build():
        calls.append(1)
        table = pd.DataFrame({"geonameid": np.array([1], dtype=np.int64), "name": ["Testtown"], "country": ["IE"],
                              "admin1": [""], "population": np.array([900], dtype=np.int64),
                              "lat": [53.0], "lon": [-8.0]})
        names = pd.DataFrame({"key": ["testtown"], "row": np.array([0], dtype=np.int32), "primary": [True]})
        return table, names

    monkeypatch.setattr(gazetteer, "_build_tables", build)
    return calls


def _parquet(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.parquet"))


# -- the test session's own folder --------------------------------------------------------------
def test_the_test_session_has_a_cache_folder_of_its_own():
    folder = Path(os.environ["ATLAS_CACHE_DIR"])
    assert folder.name.startswith("atlas-test-cache-") and folder.parent == Path(tempfile.gettempdir())
    assert USER_CACHE not in (folder, *folder.parents)
    assert gazetteer.cache_files()[0].parent == folder


def test_processes_started_by_the_tests_use_that_folder_too():
    code = "from loaders.gazetteer import cache_files; print(cache_files()[0].parent)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == os.environ["ATLAS_CACHE_DIR"]


def test_the_folder_of_a_killed_session_is_removed_by_the_next(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    orphan, live = tmp_path / f"atlas-test-cache-{dead}-abc", tmp_path / f"atlas-test-cache-{os.getpid()}-abc"
    for folder in (orphan, live):
        folder.mkdir()
        (folder / "geonames500-x-places.parquet").write_bytes(b"x")
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    code = "import os, conftest; print(os.environ['ATLAS_CACHE_DIR'])"
    made = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert not orphan.exists() and live.exists()
    assert Path(made).parent == tmp_path and Path(made).name.startswith("atlas-test-cache-")


# -- the folder -------------------------------------------------------------------------------
def test_the_folder_comes_from_atlas_cache_dir(cache, builds):
    assert gazetteer.geocode("Testtown", country="IE").place.name == "Testtown"
    places, names = gazetteer.cache_files()
    assert places.parent == names.parent == cache
    assert _parquet(cache) == sorted([places.name, names.name])


def test_without_atlas_cache_dir_the_folder_is_in_the_home_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("ATLAS_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert gazetteer.cache_files()[0].parent == tmp_path / "home" / ".cache" / "creative-atlas"


# -- the key: the data and the code ----------------------------------------------------------------
def test_a_cache_is_read_back_instead_of_building_again(cache, builds):
    gazetteer.place_table()
    _clear_memory()  # a new process
    assert gazetteer.place_table()["name"].tolist() == ["Testtown"]
    assert len(builds) == 1


def test_a_change_to_the_building_code_builds_a_new_cache_and_removes_the_old(cache, builds, tmp_path, monkeypatch):
    gazetteer.place_table()
    before = _parquet(cache)
    # The same code with one line added, as a developer would change it.
    changed = []
    for path in gazetteer._code_files():
        copy = tmp_path / "code" / path.name
        copy.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, copy)
        changed.append(copy)
    source = changed[0].read_text(encoding="utf-8")
    changed[0].write_text(source + "\n_INDEX_ALTERNATE_NAMES = False\n", encoding="utf-8")
    monkeypatch.setattr(gazetteer, "_code_files", lambda: tuple(changed))
    _clear_memory()
    gazetteer.place_table()
    assert len(builds) == 2, "the cache of the old code was read for the new code"
    after = _parquet(cache)
    assert len(after) == 2 and not set(after) & set(before)  # the old code's files are gone


def test_a_change_to_the_geonames_file_builds_a_new_cache(cache, builds, tmp_path, monkeypatch):
    gazetteer.place_table()
    other = tmp_path / "cities500.json"
    other.write_text("{}", encoding="utf-8")
    monkeypatch.setattr(gazetteer, "_source", lambda: other)
    _clear_memory()
    gazetteer.place_table()
    assert len(builds) == 2


def test_the_code_key_covers_the_gazetteer_and_the_name_folding():
    files = {p.name for p in gazetteer._code_files()}
    assert files == {"gazetteer.py", "layers.py"}  # fold() lives in loaders/layers.py


def test_the_code_key_changes_with_any_change_to_the_code(tmp_path):
    original = gazetteer._code_files()
    key = gazetteer._code_digest(original)
    assert key == gazetteer._code_digest(original)  # stable
    copies = []
    for path in original:
        copies.append(tmp_path / path.name)
        shutil.copyfile(path, copies[-1])
    assert gazetteer._code_digest(tuple(copies)) == key  # the text, not the path
    for i in range(len(copies)):
        edited = list(copies)
        edited[i] = tmp_path / f"edited_{copies[i].name}"
        edited[i].write_bytes(copies[i].read_bytes().replace(b"casefold()", b"lower()", 1) + b"\n")
        assert gazetteer._code_digest(tuple(edited)) != key, copies[i].name
    assert key in gazetteer.cache_files()[0].name


def test_a_damaged_cache_is_rebuilt(cache, builds):
    places, names = gazetteer.cache_files()
    cache.mkdir()
    places.write_bytes(b"not parquet")
    names.write_bytes(b"not parquet")
    assert gazetteer.place_table()["name"].tolist() == ["Testtown"]
    assert len(builds) == 1
    assert pd.read_parquet(places)["name"].tolist() == ["Testtown"]


def test_a_folder_that_cannot_be_written_still_gives_the_tables(tmp_path, monkeypatch, builds):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setenv("ATLAS_CACHE_DIR", str(blocker / "cache"))  # a folder below a file cannot be made
    _clear_memory()
    try:
        assert gazetteer.place_table()["name"].tolist() == ["Testtown"]
    finally:
        _clear_memory()
