"""Many OS processes writing one workspace at once, on both backends (GeoPackage folder, PostGIS URL).

Four processes import four different files while four others each make 25 edits to
features of their own; all eight are released at the same moment (each blocks on its
stdin until the parent writes to all of them). Afterwards nothing may be missing or
counted twice: every feature, every import-log entry, every edit, one history entry per
change, and the versions the edits imply. Four processes making the workspace at once
(the first import into a new location) must also all succeed.
"""
import hashlib
import json
import select
import subprocess
import sys
import textwrap
import time
from collections import Counter

from tests.conftest import ROOT
from workspace import Workspace

IMPORTERS, EDITORS = 4, 4
PLACEMARKS = 200  # per imported file
EDITS = 25  # per editor process
FEATURES_PER_EDITOR = 5  # each edited EDITS / FEATURES_PER_EDITOR = 5 times
SEED = 40
START_TIMEOUT_S = 60


def _geojson(path, prefix: str, count: int, lon: float):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon + i / 1000, 53.0 + i / 1000]},
         "properties": {"name": f"{prefix} {i}", "layer": "hubs", "town": "Galway"}} for i in range(count)]}),
        encoding="utf-8")
    return path


def _kml(path, prefix: str, count: int, lon: float):
    placemarks = "".join(
        f"<Placemark><name>{prefix} {i}</name><ExtendedData><Data name=\"Typ\"><value>studio</value></Data>"
        f"</ExtendedData><Point><coordinates>{lon + i / 1000:.4f},{56.0 + i / 1000:.4f},0</coordinates></Point>"
        "</Placemark>\n" for i in range(count))
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
                    f"<Folder><name>Creative Industries Training</name>\n{placemarks}</Folder></Document></kml>\n",
                    encoding="utf-8")
    return path


# One worker process. Everything slow (interpreter start, imports, opening the database)
# happens before it says "ready"; then it blocks on stdin until the parent releases all.
_WORKER = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {root!r})
    from workspace import Workspace

    kind, location, user, arg = sys.argv[1:5]
    ws = Workspace(location, user=user)
    ws.stamp()  # open the connection now, not after the start
    print("ready", flush=True)
    sys.stdin.read(1)
    started = time.time()
    if kind == "import":
        [result] = ws.import_files([arg])
        done = {{"accepted": result.accepted}}
    else:
        fids = json.loads(arg)
        for i in range({edits}):
            fid = fids[i % len(fids)]
            version = ws.versions([fid])[fid]
            change = ws.edit_features({{fid: {{"town": f"{{user}} edit {{i}}"}}}}, versions={{fid: version}})
            assert change is not None
            after = ws.versions([fid])[fid]
            assert after == version + 1, (fid, version, after)  # our own write is visible at once
        done = {{"edits": {edits}}}
    ws.close()
    print(json.dumps({{"started": started, "ended": time.time(), **done}}), flush=True)
""")


def _start_all(jobs: list[tuple[str, str, str, str]]) -> list[subprocess.Popen]:
    """Start one process per job, wait until each is ready, then release them all together."""
    script = _WORKER.format(root=str(ROOT), edits=EDITS)
    procs = [subprocess.Popen([sys.executable, "-c", script, *job], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
             for job in jobs]
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        for proc in procs:
            readable, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            assert readable, f"a worker was not ready within {START_TIMEOUT_S} s"
            line = proc.stdout.readline()
            assert line.strip() == "ready", proc.communicate(timeout=10)[1]  # it died: show why
        for proc in procs:
            proc.stdin.write("g")
            proc.stdin.flush()
    except BaseException:
        for proc in procs:
            proc.kill()
        raise
    return procs


def _most_at_once(outcomes: list[dict]) -> int:
    """The largest number of [started, ended] intervals that hold one same moment."""
    events = sorted([(o["started"], 1) for o in outcomes] + [(o["ended"], -1) for o in outcomes],
                    key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def test_most_at_once_counts_overlaps():
    assert _most_at_once([{"started": 0, "ended": 1}, {"started": 1, "ended": 2}]) == 1
    assert _most_at_once([{"started": 0, "ended": 3}, {"started": 1, "ended": 2}, {"started": 2.5, "ended": 4}]) == 2


def test_concurrent_imports_and_edits_lose_nothing(location, tmp_path):
    seed_file = _geojson(tmp_path / "seed.geojson", "seed", SEED, lon=-9.0)
    ws = Workspace(location, user="seeder")
    ws.import_files([seed_file])
    seed = ws.features().set_index("name")["feature_id"]
    ws.close()
    files = [(_kml if k % 2 else _geojson)(tmp_path / f"file{k}.{'kml' if k % 2 else 'geojson'}", f"file{k}",
                                           PLACEMARKS, lon=-8.0 + k) for k in range(IMPORTERS)]
    owned = {f"editor{e}": [seed[f"seed {e * FEATURES_PER_EDITOR + j}"] for j in range(FEATURES_PER_EDITOR)]
             for e in range(EDITORS)}
    jobs = [("import", location, f"importer{k}", str(path)) for k, path in enumerate(files)]
    jobs += [("edit", location, user, json.dumps(fids)) for user, fids in owned.items()]

    procs = _start_all(jobs)
    outcomes = []
    for job, proc in zip(jobs, procs):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{job[2]} exited {proc.returncode}:\n{err[-3000:]}"
        outcomes.append(json.loads(out.strip().splitlines()[-1]))
    assert [o.get("accepted") for o in outcomes[:IMPORTERS]] == [PLACEMARKS] * IMPORTERS
    # The writes really ran side by side: at some moment at least half of the writers were
    # inside their work at once (on 2 cores a quick writer may end before the last one wakes).
    assert _most_at_once(outcomes) >= len(jobs) // 2

    ws = Workspace(location)
    features = ws.features()
    assert features["feature_id"].is_unique
    names = Counter(features["name"])
    expected = {f"seed {i}" for i in range(SEED)} | {f"file{k} {i}" for k in range(IMPORTERS)
                                                       for i in range(PLACEMARKS)}
    assert set(names) == expected and max(names.values()) == 1

    log = ws.imports()
    assert sorted(log["file"]) == sorted(["seed.geojson", *(p.name for p in files)])
    assert log["import_id"].is_unique
    by_file = log.set_index("file")
    for path in files:
        entry = by_file.loc[path.name]
        assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert (entry.rows_read, entry.accepted, entry.rejected) == (PLACEMARKS, PLACEMARKS, 0)
        assert entry.user == f"importer{files.index(path)}"
        assert (features["source_file"] == path.name).sum() == PLACEMARKS

    history = ws.history()
    assert history["change_id"].is_unique
    assert len(history) == 1 + IMPORTERS + EDITORS * EDITS  # the seed import, each import, each edit
    assert Counter(history["action"]) == {"import": 1 + IMPORTERS, "edit": EDITORS * EDITS}
    assert sorted(history.loc[history["action"] == "import", "import_id"]) == sorted(log["import_id"])
    assert Counter(history.loc[history["action"] == "edit", "user"]) == {user: EDITS for user in owned}
    assert history["reverted_by"].isna().all()

    versions = ws.versions()
    current = features.set_index("feature_id")["town"]
    assert len(ws.edits()) == EDITORS * EDITS
    # What each edit did, field by field, in the order of the history.
    steps: dict[str, list[tuple]] = {}
    for change in sorted(history.loc[history["action"] == "edit", "change_id"]):
        [row] = ws.change_rows(change).itertuples(index=False)  # one feature, one field per edit
        steps.setdefault(row.feature_id, []).append((row.field, row.old, row.new))
    for user, fids in owned.items():
        for j, fid in enumerate(fids):
            mine = [f"{user} edit {i}" for i in range(EDITS) if i % FEATURES_PER_EDITOR == j]
            assert versions[fid] == 1 + len(mine)
            assert current[fid] == mine[-1]
            # An unbroken chain: each edit starts from the value the previous one left.
            assert steps[fid] == [("town", old, new) for old, new in zip(["Galway", *mine[:-1]], mine)]
    assert set(steps) == {fid for fids in owned.values() for fid in fids}
    untouched = set(versions) - set(steps)
    assert len(untouched) == SEED - EDITORS * FEATURES_PER_EDITOR + IMPORTERS * PLACEMARKS
    assert {versions[fid] for fid in untouched} == {1}
    ws.close()


def test_concurrent_first_imports_create_the_workspace_once(location, tmp_path):
    """Four processes import into a workspace that does not exist yet: one creates it, all four land."""
    files = [_geojson(tmp_path / f"first{k}.geojson", f"first{k}", 50, lon=k) for k in range(IMPORTERS)]
    procs = _start_all([("import", location, f"importer{k}", str(path)) for k, path in enumerate(files)])
    for k, proc in enumerate(procs):
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"importer{k} exited {proc.returncode}:\n{err[-3000:]}"
    ws = Workspace(location)
    assert Counter(ws.features()["source_file"]) == {path.name: 50 for path in files}
    assert sorted(ws.imports()["file"]) == sorted(path.name for path in files)
    assert Counter(ws.history()["action"]) == {"import": IMPORTERS}
    ws.close()
