"""Fuzz the XLSX and CSV sheet loaders with mutants of small fixtures (fixed seeds, bounded count and time).

Every mutant must end in one of two ways: an `AtlasError` whose message is one line, or a
LoadResult with accepted + rejected == rows read. Anything else (another exception, a
crash of the reader, a hang, a runaway allocation) fails the test and names the mutant.

The mutants are read in one child process whose address space is capped
(``RLIMIT_AS``: what the worker holds after its imports plus 1 GB), so a reader that tries to build a huge grid dies there instead of in
pytest; each read also has an alarm, so a hang is reported as such. Set
``ATLAS_FUZZ_SHEETS_COUNT`` to run more mutants than the default (e.g. 300) and
``ATLAS_FUZZ_SHEETS_SEED`` to draw other ones.
"""
from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[1]
COUNT = int(os.environ.get("ATLAS_FUZZ_SHEETS_COUNT", "120"))
SEED = int(os.environ.get("ATLAS_FUZZ_SHEETS_SEED", "20240611"))
HEADROOM_BYTES = 1_000_000_000  # address space a read may add to what the worker holds
PEAK_RSS_LIMIT_MB = 1024
PER_MUTANT_ALARM_S = 20
SHEET = "xl/worksheets/sheet1.xml"

CSV_FIXTURE = (
    "Audit of creative hubs\n"
    "Name;Type;Status;Town;Latitude;Longitude;Website;Notes\n"
    "Old mill;co-working;Planned;Karlshamn;56,17;14,86;https://mill.example;\"notes, with; separators\"\n"
    "Makerspace;makerspace;Existing;Lund;55.70;13.19;;\n"
    "Film club;network;;Ronneby;;;;=1+1\n"
    "Nameless;;;;56.2;15.6;;\n"
)


def xlsx_fixture() -> bytes:
    book = Workbook()
    hubs = book.active
    hubs.title = "Hubs"
    hubs.append(["Creative resources audit"])
    hubs.append([])
    hubs.append(["ID", "Name", "Type", "Status", "Town", "Latitude", "Longitude", "Website"])
    hubs.append([1, "Old mill", "co-working", "Planned", "Karlshamn", 56.17, 14.86, "https://mill.example"])
    hubs.append([2, "Makerspace", "makerspace", "Existing", "Lund", 55.70, 13.19, None])
    hubs.append([3, " =cmd", None, None, None, "56,2", "15,6", None])
    networks = book.create_sheet("Sieci")
    networks.append(["Nazwa", "Lokalizacja", "Kategoria"])
    networks.append(["Sieć", "53.1, 18.0", "sieci"])
    buffer = io.BytesIO()
    book.save(buffer)
    # openpyxl stamps the workbook and every zip member with the current time: fix them, so the
    # fixture (and every mutant made from it) is the same bytes in every run, whatever the clock.
    return _repatch(buffer.getvalue(), "docProps/core.xml",
                    lambda xml: re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z", xml))


# -- mutations --------------------------------------------------------------------------------
def _flip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(1, len(data))]


def _insert(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + data[at:]


def _member(name: str) -> zipfile.ZipInfo:
    """A zip member with a fixed date (not the clock's), compressed as Excel does."""
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _repatch(data: bytes, member: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == member:
                content = change(content)
            if content is not None:
                archive.writestr(_member(info.filename), content)
    return out.getvalue()


def _sheet_text(rng: random.Random, xml: bytes) -> bytes:
    """One XML-level mutation of a worksheet: references, dimension, types, sizes."""
    text = xml.decode("utf-8")
    refs = re.findall(r' r="([A-Z]+[0-9]+)"', text)
    kind = rng.choice(["far", "forged_row", "zero_row", "lower", "huge_digits", "letters_only", "no_refs",
                       "row_jump", "dimension", "wide_row", "huge_text", "bad_type", "bad_xml", "prefix",
                       "single_quotes", "duplicate_cells", "reverse_cells", "formula", "utf16", "long_tag"])
    ref = rng.choice(refs) if refs else "A1"
    if kind == "far":
        far = rng.choice(["XFD1048576", "XFD1", "A1048576", "ZZ70000", "AAA5000"])
        text = text.replace("</sheetData>", f'<row r="{far.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}"><c r="{far}" '
                                            't="inlineStr"><is><t>x</t></is></c></row></sheetData>')
    elif kind == "forged_row":
        text = text.replace(f'r="{ref}"', f'r="{re.sub("[0-9]+", "", ref)}{rng.choice([99999999, 4294967295, 2**31])}"', 1)
    elif kind == "zero_row":
        text = text.replace(f'r="{ref}"', f'r="{re.sub("[0-9]+", "0", ref)}"', 1)
    elif kind == "lower":
        text = text.replace(f'r="{ref}"', f'r="{ref.lower()}"', 1)
    elif kind == "huge_digits":
        text = text.replace(f'r="{ref}"', f'r="{re.sub("[0-9]+", "9" * rng.randint(11, 40), ref)}"', 1)
    elif kind == "letters_only":
        text = text.replace(f'r="{ref}"', f'r="{"Q" * rng.randint(1, 9)}"', 1)
    elif kind == "no_refs":
        text = re.sub(r' r="[A-Z]+[0-9]+"', "", text)
    elif kind == "row_jump":
        text = re.sub(r'<row r="[0-9]+"', f'<row r="{rng.choice([0, 1048576, 99999999])}"', text, count=1)
    elif kind == "dimension":
        text = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{rng.choice(["A1:XFD1048576", "A1", "B2:A1", "junk", ""])}"', text)
    elif kind == "wide_row":
        cells = "".join(f'<c t="inlineStr"><is><t>v{i}</t></is></c>' for i in range(rng.choice([300, 3000])))
        text = text.replace("</sheetData>", f"<row>{cells}</row></sheetData>")
    elif kind == "huge_text":
        text = text.replace("<t>Old mill</t>", f"<t>{'x' * rng.choice([200_000, 2_000_000])}</t>", 1)
    elif kind == "bad_type":
        text = text.replace('t="n"', f't="{rng.choice(["zz", "e", "d", "b", "s", "str"])}"', 1)
    elif kind == "bad_xml":
        cut = rng.randrange(len(text))
        text = text[:cut] + rng.choice(["<", "&", "]]>", "<!DOCTYPE x [<!ENTITY a 'b'>]>", "\x00"]) + text[cut:]
    elif kind == "prefix":
        text = text.replace("<c ", "<x:c ").replace("</c>", "</x:c>")
    elif kind == "single_quotes":
        text = re.sub(r' r="([A-Z]+[0-9]+)"', r" r='\1'", text)
    elif kind == "duplicate_cells":
        text = re.sub(r"(<c [^>]*>.*?</c>)", r"\1\1", text, count=5)
    elif kind == "reverse_cells":
        text = text.replace(f'r="{ref}"', f'r="{rng.choice(["A99", "Z1", "B2"])}"', 1)
    elif kind == "formula":
        text = text.replace("<t>Makerspace</t>", "<t>=HYPERLINK(\"http://x\",\"y\")</t>", 1)
    elif kind == "utf16":
        return text.encode("utf-16")
    elif kind == "long_tag":
        text = text.replace("<c ", "<c " + " " * rng.choice([100_000, 1_200_000]), 1)
    return text.encode("utf-8")


def _xlsx_mutant(rng: random.Random, base: bytes) -> tuple[str, bytes]:
    kind = rng.choice(["sheet", "sheet", "sheet", "sheet2", "flip", "truncate", "insert", "drop_member",
                       "shared_strings", "workbook_xml", "rels", "empty_member"])
    if kind == "sheet":
        return kind, _repatch(base, SHEET, lambda xml: _sheet_text(rng, xml))
    if kind == "sheet2":
        return kind, _repatch(base, "xl/worksheets/sheet2.xml", lambda xml: _sheet_text(rng, xml))
    if kind == "flip":
        return kind, _flip(rng, base)
    if kind == "truncate":
        return kind, _truncate(rng, base)
    if kind == "insert":
        return kind, _insert(rng, base)
    if kind == "drop_member":
        member = rng.choice([SHEET, "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                             "xl/styles.xml"])
        return kind, _repatch(base, member, lambda _: None)
    if kind == "shared_strings":
        count = rng.choice([1, 2, 10**9, 2**32 + 5, -1])
        out = io.BytesIO(base)
        with zipfile.ZipFile(out, "a") as archive:
            archive.writestr(_member("xl/sharedStrings.xml"), f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                                                     f'2006/main" uniqueCount="{count}"><si><t>a</t></si></sst>')
        data = _repatch(out.getvalue(), SHEET, lambda xml: xml.replace(b'<c r="B4" t="inlineStr"><is><t>Old mill</t>'
                                                                         b'</is></c>', b'<c r="B4" t="s"><v>0</v></c>'))
        return kind, data
    if kind == "workbook_xml":
        return kind, _repatch(base, "xl/workbook.xml", lambda xml: _flip(rng, xml) if rng.random() < 0.5
                              else xml.replace(b'name="Hubs"', b'name="' + rng.choice([b"", b"&amp;", b"x" * 300]) + b'"'))
    if kind == "rels":
        return kind, _repatch(base, "xl/_rels/workbook.xml.rels", lambda xml: xml.replace(
            b"worksheets/sheet1.xml", rng.choice([b"../../etc/passwd", b"/xl/worksheets/sheet1.xml", b"nope.xml",
                                                  b"worksheets/sheet2.xml"])))
    return kind, _repatch(base, rng.choice([SHEET, "xl/workbook.xml", "xl/styles.xml"]), lambda _: b"")


def _csv_mutant(rng: random.Random, base: str) -> tuple[str, bytes]:
    kind = rng.choice(["flip", "truncate", "insert", "huge_cell", "unclosed_quote", "utf16", "cp1252", "latin_junk",
                       "formula", "many_columns", "nul", "sep_line", "bom", "delimiters", "blank_lines",
                       "many_rows", "huge_header", "crlf", "only_header"])
    data = base.encode("utf-8")
    if kind == "flip":
        return kind, _flip(rng, data)
    if kind == "truncate":
        return kind, _truncate(rng, data)
    if kind == "insert":
        return kind, _insert(rng, data)
    if kind == "huge_cell":
        return kind, base.replace("Makerspace", "m" * rng.choice([131_072, 131_073, 400_000])).encode()
    if kind == "unclosed_quote":
        return kind, (base.replace("Old mill", '"Old mill') + "tail " * rng.choice([10, 40_000])).encode()
    if kind == "utf16":
        return kind, base.encode(rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32"]))
    if kind == "cp1252":
        return kind, base.replace("Old mill", "Åsa kvarn – “café”").encode("cp1252")
    if kind == "latin_junk":
        return kind, data + bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]) * rng.randint(1, 4)
    if kind == "formula":
        text = rng.choice(["=1+1", "\t=1", " =1", "\r=1", "＝1", "\ufeff=1", "\u200b=1", "@SUM(A1)", "+1", "-1"])
        return kind, base.replace("Makerspace", f'"{text}"').encode()
    if kind == "many_columns":
        width = rng.choice([1000, 5000])
        header = "Name;Town;" + ";".join(f"c{i}" for i in range(width))
        row = "A;Lund;" + ";".join("x" for _ in range(width))
        return kind, f"{header}\n{row}\n".encode()
    if kind == "nul":
        return kind, data.replace(b"Lund", b"Lu\x00nd")
    if kind == "sep_line":
        separator = rng.choice([";", ",", "|", "x", " ", '"', "\t", "€"])
        return kind, f"sep={separator}\n{base}".encode()
    if kind == "bom":
        return kind, b"\xef\xbb\xbf" + data
    if kind == "delimiters":
        return kind, base.replace(";", rng.choice([",", "\t", "|", ";;", " "])).encode()
    if kind == "blank_lines":
        return kind, base.replace("\n", "\n" * rng.randint(2, 30)).encode()
    if kind == "many_rows":
        rows = "".join(f"Hub {i};;;Lund;{55 + i % 10}.5;13.{i % 90};;\n" for i in range(rng.choice([500, 3000])))
        return kind, (base + rows).encode()
    if kind == "huge_header":
        return kind, ("Name;" + "H" * 200_000 + "\n" + base).encode()
    if kind == "crlf":
        return kind, base.replace("\n", rng.choice(["\r\n", "\r", "\n\r"])).encode()
    return kind, base.splitlines()[1].encode()


def mutants(count: int) -> list[tuple[str, str, bytes]]:
    """Return ``count`` (name, extension, bytes) mutants, half XLSX and half CSV, from fixed seeds."""
    rng = random.Random(SEED)
    base_xlsx = xlsx_fixture()
    out = []
    for index in range(count):
        if index % 2 == 0:
            kind, data = _xlsx_mutant(rng, base_xlsx)
            out.append((f"{index:04d}-xlsx-{kind}", ".xlsx", data))
        else:
            kind, data = _csv_mutant(rng, CSV_FIXTURE)
            out.append((f"{index:04d}-csv-{kind}", ".csv", data))
    return out


WORKER = textwrap.dedent(f"""
    import json, resource, signal, sys, time, traceback
    from pathlib import Path
    from errors import AtlasError
    from loaders.gazetteer import geocode
    from loaders.sheets import features_from_csv, features_from_xlsx

    geocode("Lund", country="SE")  # build the offline gazetteer first: the cap is for reading sheets
    # Cap the address space at what the imports and the gazetteer hold now plus a fixed headroom.
    in_use = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
    try:  # reset the peak resident size, so the peak reported is that of the reads
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass
    resource.setrlimit(resource.RLIMIT_AS, (in_use + {HEADROOM_BYTES}, in_use + {HEADROOM_BYTES}))

    class Hang(BaseException):
        pass

    def alarm(signum, frame):
        raise Hang()

    signal.signal(signal.SIGALRM, alarm)
    for path in sorted(Path(sys.argv[1]).iterdir()):
        print(json.dumps({{"start": path.name}}), flush=True)
        data = path.read_bytes()
        read = features_from_xlsx if path.suffix == ".xlsx" else features_from_csv
        started = time.perf_counter()
        signal.alarm({PER_MUTANT_ALARM_S})
        try:
            result = read(data, path.name)
            out = {{"ok": True, "rows_read": result.rows_read, "accepted": result.accepted,
                    "rejected": len(result.rejected)}}
        except AtlasError as exc:
            out = {{"error": type(exc).__name__, "message": str(exc)}}
        except Hang:
            out = {{"hang": True}}
        except BaseException as exc:
            out = {{"bug": type(exc).__name__, "message": str(exc)[:300], "trace": traceback.format_exc()[-1500:]}}
        finally:
            signal.alarm(0)
        out["name"] = path.name
        out["seconds"] = round(time.perf_counter() - started, 3)
        print(json.dumps(out), flush=True)
    peak_kb = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
    print(json.dumps({{"done": True, "peak_rss_mb": peak_kb / 1024}}), flush=True)
""")


def run_fuzz(folder: Path, count: int) -> tuple[list[dict], dict, subprocess.CompletedProcess]:
    folder.mkdir()
    for name, suffix, data in mutants(count):
        (folder / f"{name}{suffix}").write_bytes(data)
    done = subprocess.run([sys.executable, "-c", WORKER, str(folder)], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=600)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    results = [line for line in lines if "name" in line]
    summary = next((line for line in lines if line.get("done")), {})
    return results, summary, done


def test_sheet_mutants_end_in_a_clean_error_or_a_balanced_result(tmp_path):
    started = time.perf_counter()
    results, summary, done = run_fuzz(tmp_path / "mutants", COUNT)
    if not summary:
        last = [line["start"] for line in map(json.loads, done.stdout.splitlines()) if "start" in line]
        pytest.fail(f"the reader process died (exit {done.returncode}) on mutant {last[-1] if last else '?'}: "
                    f"{done.stderr[-1500:]}")
    assert len(results) == COUNT
    problems = []
    for result in results:
        if "bug" in result:
            problems.append(f"{result['name']}: {result['bug']}: {result['message']}\n{result['trace']}")
        elif result.get("hang"):
            problems.append(f"{result['name']}: no answer within {PER_MUTANT_ALARM_S} s")
        elif "error" in result:
            if "\n" in result["message"] or not result["message"].strip():
                problems.append(f"{result['name']}: {result['error']} message is not one line: {result['message']!r}")
        elif result["accepted"] + result["rejected"] != result["rows_read"]:
            problems.append(f"{result['name']}: {result['accepted']} accepted + {result['rejected']} rejected "
                            f"!= {result['rows_read']} rows read")
    assert not problems, "\n".join(problems)
    assert summary["peak_rss_mb"] < PEAK_RSS_LIMIT_MB
    outcomes = {"ok": sum("ok" in r for r in results), "error": sum("error" in r for r in results)}
    # The fixtures are valid, so a fair share of mutants still reads; the rest are refused cleanly.
    assert outcomes["ok"] >= COUNT // 10 and outcomes["error"] >= COUNT // 10, outcomes
    print(f"\n{COUNT} sheet mutants: {outcomes['ok']} read, {outcomes['error']} refused with one line, 0 tracebacks, "
          f"0 hangs; peak memory {summary['peak_rss_mb']:.0f} MB; {time.perf_counter() - started:.1f} s")


def test_the_mutants_are_the_same_every_run():
    first, second = mutants(12), mutants(12)
    assert [(n, d) for n, _, d in first] == [(n, d) for n, _, d in second]
