"""User text is shown as text: never Markdown or HTML in the app, and only http(s) websites become links.

The oracle (`shown`) reads a Markdown body as CommonMark and Streamlit's renderer would:
a backslash before ASCII punctuation shows that character; an unescaped Markdown
character, a block marker at a line start, or a bare URL, e-mail address or ``:shortcode:``
left in the shown text (the patterns are the ones Streamlit 1.67's bundle applies to it)
means the text would be formatted, linked or turned into an icon.
"""
from __future__ import annotations

import html
import json
import re
import string
from html.parser import HTMLParser

import pytest
from apptest_helpers import click_map, demo_copy, layer, run_page

import atlas.dashboard
import ui
from atlas import data_ops
from maps.deck import TOOLTIP_HTML
from maps.records import tooltip_fields
from maps.text import WORD_JOINER, code_span, markdown_text, web_link
from workspace import Workspace

HOSTILE = [
    "[Click me](https://example.org)",
    "**bold** <b>x</b> $x$",
    "# Heading",
    "- item",
    "1. first",
    "> quote",
    "`code` ~~gone~~ _it_ \\ & &amp; | a | b |",
    "![img](https://example.org/x.png) <https://example.org> www.example.org mail@example.org",
    ":red[alarm] :smile: :material/home: x\n# two\n===",
    "{kind} {website}",
]

_PUNCT = set(string.punctuation)
_SPECIAL = set("\\`*_~[]<>$&|")
_BLOCK = re.compile(r"^[ \t]*([#+\-=>]|\d+[.)])", re.MULTILINE)
# From Streamlit 1.67's StreamlitMarkdown bundle (GFM autolink literals run on the shown text).
_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)", re.IGNORECASE)
_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)")
_SHORTCODE = re.compile(r":[\w+-]+:|:material/")


def shown(body: str) -> str:
    """Return the text a Markdown body shows, failing if any of it would be formatted or linked."""
    out, i = [], 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body) and body[i + 1] in _PUNCT:
            out.append(body[i + 1])
            i += 2
            continue
        assert char not in _SPECIAL, f"unescaped {char!r} at {i} in {body!r}"
        out.append(char)
        i += 1
    assert not _BLOCK.search(body), f"a block marker starts a line in {body!r}"
    text = "".join(out)
    for pattern in (_URL, _EMAIL, _SHORTCODE):
        assert not pattern.search(text), f"{pattern.pattern} would act on {text!r}"
    return text.replace(WORD_JOINER, "")


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_text_shows_exactly_what_was_typed(text):
    assert shown(markdown_text(text)) == text


def test_markdown_text_leaves_ordinary_sentences_alone():
    plain = "Saved status, town of Borås Textile Hub (west-ireland): 12 feature(s) moved to networks."
    assert markdown_text(plain) == plain
    assert markdown_text(None) == "" and markdown_text(float("nan")) == ""


def test_code_span_survives_backticks():
    assert code_span("a ` b `` c") == "``` a ` b `` c ```"


@pytest.mark.parametrize(("value", "link"), [
    ("https://example.org/hub", "https://example.org/hub"),
    ("HTTP://example.org", "HTTP://example.org"),
    (" https://example.org ", "https://example.org"),
    ("javascript:alert(1)", None),
    ("JavaScript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("file:///etc/passwd", None),
    ("vbscript:x", None),
    ("//example.org", None),
    ("example.org", None),
    ("https://", None),
    ("https://exa mple.org", None),
    ("https://example.org/\"onmouseover=x", None),
    ("java\tscript:alert(1)", None),
    (None, None),
    ("", None),
])
def test_only_http_and_https_websites_are_links(value, link):
    assert web_link(value) == link


# -- map tooltips: what the browser would show -------------------------------------------------------
class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.tags = [""], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "br":
            self.parts.append("")

    def handle_data(self, data):
        self.parts[-1] += data


def _tooltip(record: dict) -> _Text:
    """Fill the tooltip as Streamlit 1.67 does: each {slot} in order, first occurrence, value HTML-escaped."""
    filled = TOOLTIP_HTML
    for slot in re.findall(r"{(.*?)}", TOOLTIP_HTML):
        if slot in record:
            filled = filled.replace("{" + slot + "}", html.escape(str(record[slot])), 1)
    parser = _Text()
    parser.feed(filled)
    return parser


@pytest.mark.parametrize("name", HOSTILE)
def test_tooltip_shows_names_and_websites_as_text(name):
    record = tooltip_fields(name, "{town}", "Tuam", "javascript:alert(1)")
    tip = _tooltip(record)
    assert set(tip.tags) <= {"b", "br"}  # no link, no markup from the data
    assert [p.replace(WORD_JOINER, "") for p in tip.parts] == [name, "{town}", "Tuam", "javascript:alert(1)"]


# -- pages ----------------------------------------------------------------------------------------
NAME = HOSTILE[0] + " " + HOSTILE[1]


def _rename(workspace, old: str, **values) -> str:
    ws = Workspace(workspace)
    fid = ws.features().set_index("name").loc[old, "feature_id"]
    data_ops.edit_feature(ws, fid, values)
    ws.close()
    return fid


def test_map_selected_record_and_tooltip_data_show_the_name_as_text(tmp_path):
    workspace = demo_copy(tmp_path)
    _rename(workspace, "PorterShed Galway", name=NAME, website="javascript:alert(1)")
    at = run_page("pages/map.py", workspace)
    hub = next(r for r in layer(at, "hubs-existing")["data"] if r["name"] == NAME)
    assert hub["website"] == "javascript:alert(1)"  # text in the tooltip (escaped by Streamlit)
    assert json.loads(at.get("deck_gl_json_chart")[0].proto.tooltip)["html"] == TOOLTIP_HTML  # no link in it
    click_map(at, "hubs-existing", hub)
    [subheader] = [s.value for s in at.subheader if s.value.startswith("Selected: ")]
    assert shown(subheader) == "Selected: " + NAME
    assert not at.get("link_button")  # javascript: is never a link


def test_map_links_an_https_website(tmp_path):
    workspace = demo_copy(tmp_path)
    at = run_page("pages/map.py", workspace)
    hub = next(r for r in layer(at, "hubs-existing")["data"] if r["name"] == "PorterShed Galway")
    click_map(at, "hubs-existing", hub)
    [button] = at.get("link_button")
    assert button.proto.url == "https://example.org/portershed"


def test_data_success_message_shows_the_name_as_text(tmp_path):
    workspace = demo_copy(tmp_path)
    fid = _rename(workspace, "Westport hub", name=NAME)
    at = run_page("pages/data.py", workspace)
    at.selectbox(key=ui.EDIT_ID).set_value(fid).run()
    at.text_input(key=ui.field_key(fid, "town")).input("Westport Quay")
    next(b for b in at.button if b.label == "Save changes").click()
    at.run()
    assert not at.exception
    [message] = [s.value for s in at.success]
    assert shown(message) == f"Saved town of {NAME}."


def test_gaps_saved_site_message_shows_the_name_as_text(tmp_path, monkeypatch):
    real = atlas.dashboard.suggested_site_feature

    def hostile(site, **kwargs):
        return real({**site, "name": NAME}, **kwargs)

    monkeypatch.setattr(atlas.dashboard, "suggested_site_feature", hostile)
    at = run_page("pages/gaps.py", demo_copy(tmp_path))
    at.button(key="gaps.add").click().run()
    assert not at.exception
    [message] = [s.value for s in at.success]
    assert shown(message) == f"Saved 'Suggested hub near {NAME}' as a planned facility."
