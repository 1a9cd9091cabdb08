"""Concurrent sessions: N AppTest sessions on one workspace, with and without an editor importing meanwhile.

Run from the repository root: ``python bench/bench_sessions.py`` (``--sessions 10``, ``--rounds 3``).
Prints p50/p95/max of the page times, first without an importer (the baseline), then with
one process importing a GeoJSON into the same workspace over and over; and the load average.
Nothing is asserted here; tests/test_concurrent_sessions.py asserts the behaviour with the
same machinery.

How a session is simulated: one process per session, each driving the real pages with
``streamlit.testing.v1.AppTest`` (Home, then Map, then Gaps, `rounds` times). Processes,
not threads: ``AppTest.run`` swaps process-wide state for the length of a run
(``Runtime._instance``, ``PagesManager.uses_pages_directory``, a patch of
``config.get_option``) and resets it afterwards. Ten sessions in threads of one process
failed with ``StreamlitPageNotFoundError`` for ``pages/map.py`` and "AST constructor
recursion depth mismatch", and left ``config.get_option`` patched after the last run.
The price: each process has its own ``st.cache_data``, so every session pays the cold
first open a real server would pay once. Each import changes the workspace stamp, so
every page run after it recomputes from the GeoPackage.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
DEMO = ROOT / "geodata" / "demo_workspace"

PAGES = ("app.py", "pages/map.py", "pages/gaps.py")
# Imported once by the fork server, before any worker starts. Not ui: importing it before
# `_quiet_streamlit` would log a warning per cached function.
PRELOAD = ("streamlit.testing.v1", "geopandas", "pyogrio", "shapely", "pandas", "numpy")
RUN_TIMEOUT_S = 180          # one page run; a cold run on a crowded machine takes tens of seconds
START_TIMEOUT_S = 180        # every process imported Streamlit and the app and waits at the barrier
IMPORT_NAME = "concurrent_hubs.geojson"
# Three hubs in towns well inside the West of Ireland (the demo workspace's default region).
IMPORT_HUBS = (("Concurrent hub Tuam", -8.851, 53.515), ("Concurrent hub Castlebar", -9.298, 53.855),
               ("Concurrent hub Roscommon", -8.190, 53.632))


@dataclass
class Result:
    """What one run of `run_sessions` measured."""

    timings: list[tuple[int, int, str, float]] = field(default_factory=list)  # session, round, page, seconds
    errors: list[str] = field(default_factory=list)                            # exceptions shown by a page
    crashes: list[str] = field(default_factory=list)                           # a worker that died
    imports: int = 0                                                           # imports completed
    import_s: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def page_s(self, page: str | None = None) -> list[float]:
        """Page times in seconds, of every page or of one."""
        return [s for _, _, p, s in self.timings if page is None or p == page]


def percentile(values: list[float], q: float) -> float:
    """Return the `q`-th percentile (0-100) by the nearest-rank method (an observed value, no interpolation)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def write_import_file(folder: Path) -> Path:
    """Write the GeoJSON the editor imports (three existing hubs) into `folder` and return its path."""
    path = folder / IMPORT_NAME
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
         "properties": {"name": name, "layer": "hubs", "status": "existing"}}
        for name, lon, lat in IMPORT_HUBS]}), encoding="utf-8")
    return path


def demo_workspace(folder: Path) -> Path:
    """Copy the demo workspace into `folder` and return the copy."""
    target = folder / "demo_workspace"
    shutil.copytree(DEMO, target)
    return target


# -- workers (each in its own process) ------------------------------------------------------------
def _quiet_streamlit() -> None:
    # Outside a server, Streamlit warns "No runtime found" for every cached function and
    # "to view a Streamlit app on a browser..." once per process: noise here. Parse the
    # config now, so that a later parse (in the first run) does not set the level back.
    from streamlit import config, logger

    config.get_config_options()
    config.set_option("logger.level", "error")
    logger.set_log_level("ERROR")


def _session(index: int, workspace: str, rounds: int, barrier, results) -> None:
    """Open Home, Map and Gaps `rounds` times as one user; put (index, timings, errors, crash) on `results`."""
    timings, errors = [], []
    try:
        _quiet_streamlit()
        from streamlit.testing.v1 import AppTest

        import ui

        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=RUN_TIMEOUT_S)
        at.session_state[ui.WORKSPACE] = workspace
        barrier.wait(START_TIMEOUT_S)
        for round_ in range(rounds):
            for page in PAGES:
                start = time.perf_counter()
                if round_ or page != "app.py":
                    at.switch_page(page)
                at.run()
                timings.append((index, round_, page, time.perf_counter() - start))
                errors += [f"session {index}, round {round_}, {page}: {e.value}" for e in at.exception]
        results.put(("session", index, timings, errors, None))
    except BaseException:  # noqa: BLE001  (reported to the parent, which fails the run)
        barrier.abort()  # don't keep the others waiting for a session that will never come
        results.put(("session", index, timings, errors, traceback.format_exc()))


def _importer(workspace: str, file: str, barrier, stop, results, pause_s: float) -> None:
    """Import `file` into the workspace again and again until `stop` is set (at least once)."""
    durations = []
    try:
        from workspace import Workspace

        barrier.wait(START_TIMEOUT_S)
        while True:
            start = time.perf_counter()
            with Workspace(workspace, user="concurrent-editor") as ws:
                ws.import_files([file])
            durations.append(time.perf_counter() - start)
            if stop.wait(pause_s):
                break
        results.put(("importer", -1, durations, [], None))
    except BaseException:  # noqa: BLE001  (reported to the parent, which fails the run)
        barrier.abort()
        results.put(("importer", -1, durations, [], traceback.format_exc()))


# -- orchestration ---------------------------------------------------------------------------------
def run_sessions(workspace: Path, *, sessions: int = 10, rounds: int = 1, import_file: Path | None = None,
                 import_pause_s: float = 0.2) -> Result:
    """Run `sessions` AppTest sessions in parallel processes on `workspace`; with `import_file`, an importer too.

    Page times are measured from the moment every process is ready (Streamlit and the app
    imported), so process start-up is not counted. The workers are started by a fresh
    Python process running this file: AppTest leaves the app script in
    ``sys.modules["__main__"]`` of a process that ran it, and multiprocessing runs the
    parent's ``__main__`` again in every child, so workers started from, say, a pytest
    process that ran a page would each run Home once, outside Streamlit, before starting.
    """
    command = [sys.executable, str(Path(__file__).resolve()), "--orchestrate", str(workspace),
               "--sessions", str(sessions), "--rounds", str(rounds), "--pause", str(import_pause_s)]
    if import_file is not None:
        command += ["--import-file", str(import_file)]
    limit_s = 2 * START_TIMEOUT_S + rounds * len(PAGES) * RUN_TIMEOUT_S
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, timeout=limit_s, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with code {done.returncode} (its errors are above)")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    data["timings"] = [tuple(t) for t in data["timings"]]
    for key in ("load_before", "load_after"):
        data[key] = tuple(data[key])
    return Result(**data)


def _orchestrate(workspace: Path, *, sessions: int, rounds: int, import_file: Path | None,
                 import_pause_s: float) -> Result:
    """`run_sessions` in this process: start the workers, let them go together, collect what they measured."""
    # Fork each worker from a clean server process that has imported the heavy libraries once:
    # ten interpreters importing Streamlit and GeoPandas side by side cost 2 cores 10-20 s.
    # (A plain fork would copy this process's state, threads and open connections included.)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    parties = sessions + (1 if import_file else 0) + 1
    barrier, stop, results = ctx.Barrier(parties), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_session, args=(i, str(workspace), rounds, barrier, results), daemon=True)
             for i in range(sessions)]
    if import_file:
        procs.append(ctx.Process(target=_importer, args=(str(workspace), str(import_file), barrier, stop, results,
                                                          import_pause_s), daemon=True))
    result = Result()
    for proc in procs:
        proc.start()
    try:
        try:
            barrier.wait(START_TIMEOUT_S)
        except threading.BrokenBarrierError:
            raise RuntimeError("a worker failed to start:\n" + _drain(results)) from None
        result.load_before = os.getloadavg()
        start = time.perf_counter()
        pending = set(range(sessions)) | ({"importer"} if import_file else set())
        deadline = start + rounds * len(PAGES) * RUN_TIMEOUT_S
        while pending:
            if pending == {"importer"}:  # every session is done: end the imports
                result.wall_s, result.load_after = time.perf_counter() - start, os.getloadavg()
                stop.set()
            try:
                kind, index, data, errors, crash = results.get(timeout=max(1.0, deadline - time.perf_counter()))
            except queue.Empty:
                result.crashes.append(f"{sorted(map(str, pending))} gave no result in time")
                break
            if kind == "importer":
                pending.discard("importer")
                result.import_s, result.imports = data, len(data)
            else:
                pending.discard(index)
                result.timings += data
                result.errors += errors
            if crash:
                result.crashes.append(f"{kind} {index if kind == 'session' else ''}:\n{crash}")
        if not result.wall_s:
            result.wall_s, result.load_after = time.perf_counter() - start, os.getloadavg()
    finally:
        stop.set()
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
                proc.join()
    return result


def _drain(results) -> str:
    """The crash reports waiting in `results`, as text."""
    reports = []
    try:
        while True:
            kind, index, _, _, crash = results.get(timeout=2.0)
            reports.append(f"{kind} {index}: {crash}")
    except queue.Empty:
        pass
    return "\n".join(reports) or "(no report: a worker died without one)"


def summary(result: Result) -> str:
    """Return p50/p95/max of every page and of each page, the imports and the load average, as text."""
    lines = []
    for page in (None, *PAGES):
        values = result.page_s(page)
        lines.append(f"  {page or 'all pages':<14} n={len(values):3d}   p50 {percentile(values, 50):6.2f} s   "
                     f"p95 {percentile(values, 95):6.2f} s   max {max(values, default=math.nan):6.2f} s")
    later = [s for _, round_, _, s in result.timings if round_ > 0]
    if later:
        lines.append(f"  {'rounds 2+':<14} n={len(later):3d}   p50 {percentile(later, 50):6.2f} s   "
                     f"p95 {percentile(later, 95):6.2f} s   max {max(later):6.2f} s   (after the session's first open)")
    if result.import_s:
        lines.append(f"  imports: {result.imports} completed, p50 {percentile(result.import_s, 50):.2f} s, "
                     f"max {max(result.import_s):.2f} s each")
    lines.append(f"  wall {result.wall_s:.1f} s; load average before {_load(result.load_before)}, "
                 f"after {_load(result.load_after)} ({os.cpu_count()} CPUs)")
    if result.errors or result.crashes:
        lines.append(f"  {len(result.errors)} page exception(s), {len(result.crashes)} crash(es):")
        lines += [f"    {e}" for e in result.errors + result.crashes]
    return "\n".join(lines)


def _load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10, help="concurrent sessions (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="times each session opens Home, Map, Gaps (default 3)")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between two imports (default 0.2)")
    parser.add_argument("--orchestrate", metavar="WORKSPACE", type=Path,
                        help="(used by run_sessions) run once on WORKSPACE and print the result as JSON")
    parser.add_argument("--import-file", type=Path, help="(with --orchestrate) the file the importer imports")
    args = parser.parse_args()
    if args.orchestrate:
        result = _orchestrate(args.orchestrate, sessions=args.sessions, rounds=args.rounds,
                              import_file=args.import_file, import_pause_s=args.pause)
        print(json.dumps(asdict(result)))
        return
    print(f"{args.sessions} sessions x {args.rounds} rounds of {', '.join(PAGES)} on a copy of the demo workspace")
    with tempfile.TemporaryDirectory(prefix="bench_sessions_") as tmp:
        for label, importing in (("baseline: no importer", False), ("with a concurrent importer", True)):
            folder = Path(tmp) / ("import" if importing else "baseline")
            folder.mkdir()
            workspace = demo_workspace(folder)
            file = write_import_file(folder) if importing else None
            result = run_sessions(workspace, sessions=args.sessions, rounds=args.rounds, import_file=file,
                                  import_pause_s=args.pause)
            print(f"\n{label}")
            print(summary(result))


if __name__ == "__main__":
    main()
