"""Benchmark the XLSX audit-sheet import: calamine loader vs an openpyxl baseline, and the whole import.

Run by hand from the repository root (not a test)::

    python bench/bench_import_xlsx.py                 # 10,000 and 100,000 rows
    python bench/bench_import_xlsx.py --rows 20000    # other sizes

The workbooks (3 sheets, realistic audit columns, latitude/longitude given) are written
once with openpyxl's write-only mode and cached under ``bench/out/``. Every measurement
runs in a fresh subprocess so that its peak memory (``ru_maxrss``) is its own; times are
the median of 3 runs and cover only the work, not the Python imports.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "out"
sys.path.insert(0, str(ROOT))

from bench.synthetic import KINDS, TOWNS  # noqa: E402

SHEETS = ("Hubs", "Utbildning & stöd", "Sieci")
HEADER = (
    "ID", "Name", "Type", "Status", "Sector", "Address", "Town", "Country",
    "Latitude", "Longitude", "Website", "Email", "Phone", "Notes",
)
SECTORS = ("design", "games", "film", "music", "crafts", "heritage", "design; games", "film; music")
METHODS = ("calamine", "openpyxl", "read_calamine", "read_openpyxl", "workspace")


def audit_workbook(rows: int) -> Path:
    """Return the cached audit workbook with `rows` data rows over three sheets."""
    OUT.mkdir(exist_ok=True)
    (OUT / ".gitignore").write_text("*\n")
    path = OUT / f"audit_{rows}.xlsx"
    if path.exists():
        return path
    from openpyxl import Workbook

    rng = random.Random(rows)
    workbook = Workbook(write_only=True)
    per_sheet = [rows // 3 + (1 if i < rows % 3 else 0) for i in range(3)]
    number = 0
    for sheet, count in zip(SHEETS, per_sheet):
        ws = workbook.create_sheet(sheet)
        ws.append([f"Creative resources audit: {sheet}"])
        ws.append([])
        ws.append(list(HEADER))
        for _ in range(count):
            number += 1
            town, country, lat, lon = rng.choice(TOWNS)
            ws.append([
                number, f"{rng.choice(KINDS).title()} {number}", rng.choice(KINDS),
                rng.choice(("Existing", "Existing", "Planned")), rng.choice(SECTORS),
                f"{rng.randint(1, 200)} Main Street", town, country,
                round(lat + rng.uniform(-0.2, 0.2), 6), round(lon + rng.uniform(-0.3, 0.3), 6),
                f"https://example.org/{number}", f"info{number}@example.org",
                f"+353 90 {rng.randint(100000, 999999)}",
                rng.choice(("", "", "open weekdays", "hot desks, fibre broadband, meeting rooms")),
            ])
    tmp = path.with_suffix(".tmp")
    workbook.save(tmp)
    tmp.replace(path)
    return path


# -- what a child process measures ------------------------------------------------------------

def _openpyxl_rows(ws):
    for row in ws.iter_rows(values_only=True):
        yield ["" if v is None else v for v in row]


def _run_child(method: str, path: Path) -> dict:
    from loaders.sheets import _Reader, features_from_xlsx

    data = path.read_bytes()
    rows = None
    cpu = time.process_time()
    if method == "calamine":
        start = time.perf_counter()
        result = features_from_xlsx(data, path.name)
        elapsed = time.perf_counter() - start
        rows = result.rows_read
    elif method == "openpyxl":
        # The baseline: the same reader and records, fed by openpyxl's read-only mode.
        from openpyxl import load_workbook

        start = time.perf_counter()
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        reader = _Reader(path.name, None)
        for ws in workbook.worksheets:
            reader.read_table(_openpyxl_rows(ws), sheet=ws.title)
        result = reader.finish()
        workbook.close()
        elapsed = time.perf_counter() - start
        rows = result.rows_read
    elif method == "read_calamine":
        from python_calamine import CalamineWorkbook

        start = time.perf_counter()
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = sum(len(workbook.get_sheet_by_name(n).to_python(skip_empty_area=False)) for n in workbook.sheet_names)
        elapsed = time.perf_counter() - start
    elif method == "read_openpyxl":
        from openpyxl import load_workbook

        start = time.perf_counter()
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = sum(sum(1 for _ in ws.iter_rows(values_only=True)) for ws in workbook.worksheets)
        workbook.close()
        elapsed = time.perf_counter() - start
    elif method == "workspace":
        from workspace import Workspace

        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            results = Workspace(Path(tmp) / "ws").import_files([path])
            elapsed = time.perf_counter() - start
        rows = results[0].rows_read
    else:
        raise SystemExit(f"unknown method {method}")
    cpu = time.process_time() - cpu  # includes the file read and, for workspace, temp-dir setup
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"seconds": elapsed, "cpu": cpu, "peak_mb": peak_mb, "rows": rows}


def _measure(method: str, path: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--child", method, str(path)],
            check=True, capture_output=True, text=True, cwd=ROOT,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "rows": runs[0]["rows"],
    }


def _workspace_available() -> bool:
    try:
        from workspace import Workspace
    except ImportError:
        return False
    return hasattr(Workspace, "import_files")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS),
                        help="what to time (default: all; the ratio needs calamine and openpyxl)")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_run_child(args.child[0], Path(args.child[1]))))
        return

    methods = [m for m in args.methods if m != "workspace" or _workspace_available()]
    print(f"python {sys.version.split()[0]}; median of {args.repeat} runs, each in its own process; "
          "peak = max ru_maxrss of the process (interpreter and libraries included)")
    print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs "
          "(wall times are unreliable on a busy machine; CPU times much less so)")
    for rows in args.rows:
        path = audit_workbook(rows)
        print(f"\n{path.name}: {rows:,} rows in {len(SHEETS)} sheets, {path.stat().st_size / 1e6:.1f} MB")
        figures = {m: _measure(m, path, args.repeat) for m in methods}
        for method, f in figures.items():
            print(f"  {method:14s} {f['seconds']:7.2f} s  {f['rows'] / f['seconds']:9,.0f} rows/s"
                  f"  (CPU {f['cpu']:6.2f} s, {f['rows'] / f['cpu']:7,.0f} rows/s)"
                  f"  peak {f['peak_mb']:5.0f} MB  ({f['rows']:,} rows)")
        if "calamine" in figures and "openpyxl" in figures:
            ours, base = figures["calamine"], figures["openpyxl"]
            print(f"  features_from_xlsx is {base['seconds'] / ours['seconds']:.1f}x faster than the openpyxl "
                  f"baseline (CPU {base['cpu'] / ours['cpu']:.1f}x)")
        if "read_calamine" in figures and "read_openpyxl" in figures:
            print(f"  raw read: calamine {figures['read_openpyxl']['seconds'] / figures['read_calamine']['seconds']:.1f}x "
                  "faster than openpyxl read-only")
        if "workspace" in figures:
            whole = figures["workspace"]
            verdict = "OK" if whole["seconds"] < 6 or rows < 100_000 else "over the 6 s target"
            print(f"  whole import into a workspace: {whole['seconds']:.2f} s, peak {whole['peak_mb']:.0f} MB ({verdict})")
        elif "workspace" in args.methods:
            print("  workspace.Workspace.import_files not available: whole import not timed")


if __name__ == "__main__":
    main()
