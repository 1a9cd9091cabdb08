"""Fuzz the geo loaders (KML, KMZ, GeoJSON, GeoPackage) with fixed-seed mutants of our fixtures.

Each mutant (byte flips, truncation, deep nesting, wrong member types, bogus encodings,
huge attributes, zip tricks, damaged SQLite pages …; see `bench/fuzz.py`, which runs the
same engine by hand over the real exports and every format) is read through
`loaders.read_bytes` in a worker process limited to 1 GiB of address space beyond its
imports. Every outcome must be a LoadResult with accepted + rejected == rows_read or an
`errors.AtlasError`: never another exception, a dead worker, or a read over the time cap.
"""
from __future__ import annotations

import importlib.util
import sys
import time

import pytest

from tests.conftest import ROOT

MUTANTS = 160
SEED = 20240611
PER_MUTANT_SECONDS = 10.0
TOTAL_SECONDS = 60.0  # about 10 s on an idle 2-CPU machine; the cap only catches runaway runs


def _fuzz():
    spec = importlib.util.spec_from_file_location("atlas_bench_fuzz", ROOT / "bench" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fuzz():
    return _fuzz()


def test_mutants_cover_every_geo_format_and_the_hostile_shapes(fuzz):
    made = fuzz.mutants(MUTANTS, SEED, fuzz.GEO_FORMATS, None)
    kinds = {fuzz.kind_of(name) for name, _, _ in made}
    assert kinds == set(fuzz.GEO_FORMATS)
    how = " ".join(h for _, h, _ in made)
    for shape in ("deep", "encoding", "geojson:member", "geojson:geometry", "huge", "kmz:", "gpkg:", "bytes:"):
        assert shape in how, f"no '{shape}' mutant among the {MUTANTS}: the fuzz test would not cover it"


def test_no_traceback_hang_or_unbounded_memory_on_geo_mutants(fuzz, tmp_path):
    made = fuzz.mutants(MUTANTS, SEED, fuzz.GEO_FORMATS, None)
    start = time.perf_counter()
    report = fuzz.run(made, timeout=PER_MUTANT_SECONDS, save=tmp_path)
    seconds = time.perf_counter() - start
    findings = "\n".join(
        f"#{f['number']} {f['file']} [{f['mutation']}] {f['status']}: {f['detail']}\n{f['traceback']}"
        for f in report.findings
    )
    assert report.failures == 0, f"mutants saved in {tmp_path}:\n{findings}"
    assert report.counts["ok"] + report.counts["clean error"] == MUTANTS
    assert report.counts["ok"] >= MUTANTS // 5, "almost every mutant was refused: the mutators no longer bite"
    assert report.peak_mb < 1024, f"a worker reached {report.peak_mb:.0f} MB"
    assert seconds < TOTAL_SECONDS, f"{MUTANTS} mutants took {seconds:.0f} s"


def test_the_harness_reports_a_traceback_and_a_hang(fuzz, tmp_path, monkeypatch):
    # The harness itself must bite: a loader that raises or never returns is reported.
    made = [("x.kml", "probe:raise", b"raise"), ("y.kml", "probe:hang", b"hang")]
    monkeypatch.setenv("ATLAS_FUZZ_PROBE", "1")
    report = fuzz.run(made, timeout=3.0, save=tmp_path)
    assert report.counts["traceback"] == 1 and report.counts["hang"] == 1, report.findings
    assert "ZeroDivisionError" in report.findings[0]["detail"]
    assert (tmp_path / "0001-traceback-probe_raise.kml").read_bytes() == b"raise"
