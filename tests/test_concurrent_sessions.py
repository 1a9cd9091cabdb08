"""Ten sessions open Home, Map and Gaps on one workspace while an editor imports into it over and over.

The sessions are AppTest runs in separate processes (AppTest swaps process-wide state for a
run, so threads would tear down each other's runtime; see bench/bench_sessions.py, which
holds the machinery and measures the same with and without the importer).
"""
from __future__ import annotations

from apptest_helpers import demo_copy, run_page
from bench.bench_sessions import IMPORT_HUBS, IMPORT_NAME, PAGES, percentile, run_sessions, summary, write_import_file
from loaders.layers import HUBS
from maps.style import LAYER_LABELS
from workspace import Workspace

SESSIONS = 10
ROUNDS = 1  # Home, then Map, then Gaps: each run after an import recomputes from the GeoPackage


def _hubs_on_home(workspace) -> int:
    """The number of existing hubs Home shows for the default region."""
    at = run_page("app.py", workspace)
    [metric] = [m for m in at.metric if m.label == LAYER_LABELS[HUBS]]
    return int(metric.value)


def test_ten_sessions_while_an_editor_imports_into_the_same_workspace(tmp_path):
    workspace = demo_copy(tmp_path)
    file = write_import_file(tmp_path)
    with Workspace(workspace) as ws:
        features_before = len(ws.features())
    hubs_before = _hubs_on_home(workspace)

    result = run_sessions(workspace, sessions=SESSIONS, rounds=ROUNDS, import_file=file)
    times = result.page_s()
    print(f"\n{SESSIONS} sessions x {ROUNDS} rounds of {', '.join(PAGES)} with a concurrent importer:")
    print(summary(result))
    print(f"p95 page time: {percentile(times, 95):.2f} s")

    assert not result.crashes, "\n".join(result.crashes)
    assert not result.errors, "\n".join(result.errors)
    assert len(times) == SESSIONS * ROUNDS * len(PAGES)
    assert result.imports >= 2, "the importer should have imported repeatedly while the sessions ran"

    # Every import landed, each replacing the previous one's features rather than adding to them.
    with Workspace(workspace) as ws:
        log, features = ws.imports(), ws.features()
    assert (log["file"] == IMPORT_NAME).sum() == result.imports
    assert sorted(features.loc[features["source_file"] == IMPORT_NAME, "name"]) == sorted(n for n, *_ in IMPORT_HUBS)
    assert len(features) == features_before + len(IMPORT_HUBS)
    # And a session opened afterwards sees them.
    assert _hubs_on_home(workspace) == hubs_before + len(IMPORT_HUBS)
