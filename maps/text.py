"""Show user text as text: Markdown neutralised for Streamlit, websites linked only when http(s).

Names, descriptions, file names and messages quoting them come from files nobody here
wrote. Streamlit renders most of its text elements (markdown, caption, success, error,
subheader, expander and button labels, radio options) as GitHub-flavoured Markdown with
its own extras (``$…$`` maths, ``:red[…]`` colours, ``:emoji:`` and ``:material/…:``
icons), so a facility named ``[Click me](https://evil.example)`` would become a live link
and ``**x**`` bold. `markdown_text` returns text that the Markdown renderer shows exactly
as typed.
"""
from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit

# An invisible character that breaks patterns Markdown would otherwise act on after its
# backslash escapes are resolved (bare URLs, e-mail addresses and :shortcodes: are found
# in the rendered text, where an escape no longer shows).
WORD_JOINER = "\u2060"

# Escaped everywhere: emphasis and strikethrough, code, links and images, HTML and
# entities, maths, tables, and the backslash itself.
_ALWAYS = re.compile(r"([\\`*_~\[\]<>$&|])")
# Block markers, only special at the start of a line: headings, list items, quotes,
# setext underlines, ordered list items ("1." or "1)").
_LINE_START = re.compile(r"^([ \t]*)([#+\-=>])", re.MULTILINE)
_ORDERED = re.compile(r"^([ \t]*\d+)([.)])", re.MULTILINE)
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|www)(?=:|\.)")
_EMAIL = re.compile(r"(?<=[\w.+-])@(?=[\w-])")
_SHORTCODE = re.compile(r":(?=[\w+/-]+:)")
_LINK_SCHEMES = frozenset({"http", "https"})
_UNSAFE_IN_URL = re.compile(r"[\s\x00-\x1f\x7f<>\"'`\\]")


def plain(value: Any) -> str:
    """Return `value` as display text ("" for None and NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def markdown_text(value: Any) -> str:
    """Return `value` so that Streamlit's Markdown shows it literally, never as formatting.

    Markdown's special characters get a backslash (``\\*`` shows ``*``); list, heading and
    quote markers are escaped at the start of each line; bare URLs, e-mail addresses and
    ``:shortcode:`` patterns get an invisible word joiner (U+2060), which stops them from
    being linked or turned into icons without changing what the reader sees.

    Parameters
    ----------
    value
        Any value; None and NaN give "".
    """
    text = plain(value)
    if not text:
        return ""
    text = _AUTOLINK.sub(lambda m: m.group(1) + WORD_JOINER, text)
    text = _EMAIL.sub("@" + WORD_JOINER, text)
    text = _SHORTCODE.sub(":" + WORD_JOINER, text)
    text = _ALWAYS.sub(r"\\\1", text)
    text = _LINE_START.sub(r"\1\\\2", text)
    return _ORDERED.sub(r"\1\\\2", text)


def code_span(value: Any) -> str:
    """Return `value` as a Markdown code span that shows it verbatim, backticks and all.

    The fence is one backtick longer than the longest run inside, as CommonMark requires;
    nothing inside a code span is formatted, linked or turned into an icon.
    """
    text = plain(value).replace("\n", " ")
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}"


def web_link(value: Any) -> str | None:
    """Return `value` when it is an http(s) address fit to be a link, else None.

    ``javascript:``, ``data:``, ``file:`` and anything else, addresses without a host, and
    text with spaces, quotes or control characters are not links: show them as text.
    """
    text = plain(value).strip()
    if not text or _UNSAFE_IN_URL.search(text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in _LINK_SCHEMES or not parts.hostname:
        return None
    return text


__all__ = ["WORD_JOINER", "code_span", "markdown_text", "plain", "web_link"]
