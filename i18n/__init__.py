"""Translation of what users read: gettext catalogues (Babel) and the language of the current run.

One mechanism for every user-facing string. The catalogues are
``locales/<lang>/LC_MESSAGES/atlas.po``, compiled in memory the first time a language is
used (no build step). The current language is a `ContextVar`: Streamlit runs each
session's script in its own thread, so ``ui.start`` sets it at the start of every run,
and lower packages (maps, exporters, atlas) call `gettext` without passing a language
around. The command line sets it with `use` for ``export --lang``.

Mark strings with ``_()`` / `gettext`, plurals with `ngettext`, module-level constants with
`N_` (an identity marker: translate them where they are shown), and messages with named
parameters, such as an error naming a file and a row, with `Message`: the template is
translated when the message is shown, so it reads in the language of whoever sees it::

    raise ImportFileError(Message("{file}, sheet '{sheet}', row {row}: latitude '{value}' is outside -90…90.",
                                  file=name, sheet=sheet, row=row, value=text))

``python -m i18n.update`` extracts the strings and updates the catalogues (see README).
"""
from __future__ import annotations

import gettext as _gettext
import io
import re
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Iterator

from errors import UsageError

LANGUAGES: dict[str, str] = {"en": "English", "sv": "Svenska", "pl": "Polski", "de": "Deutsch"}
DEFAULT = "en"
DOMAIN = "atlas"
LOCALES = Path(__file__).resolve().parent.parent / "locales"

_current: ContextVar[str] = ContextVar("atlas_language", default=DEFAULT)
_catalogues: dict[str, _gettext.NullTranslations] = {}
_lock = threading.Lock()


def check_language(lang: str | None) -> str:
    """Return `lang` as a known language code ("sv", "SV", "sv-SE" → "sv"); raise UsageError otherwise."""
    code = str(lang or "").strip().replace("_", "-").split("-")[0].lower()
    if code not in LANGUAGES:
        raise UsageError(f"unknown language '{lang}': use one of {', '.join(LANGUAGES)} "
                         f"({', '.join(f'{k} {v}' for k, v in LANGUAGES.items())}).")
    return code


def current() -> str:
    """The language of the current run (thread or task): a key of `LANGUAGES`."""
    return _current.get()


def set_language(lang: str) -> None:
    """Make `lang` the language of the current run (this thread or task only)."""
    _current.set(check_language(lang))


@contextmanager
def use(lang: str) -> Iterator[str]:
    """Speak `lang` inside the block (``with i18n.use("sv"): ...``), then the previous language again."""
    token = _current.set(check_language(lang))
    try:
        yield token.var.get()
    finally:
        _current.reset(token)


def catalogue(lang: str) -> _gettext.NullTranslations:
    """The compiled translations of `lang` (read from its .po once, compiled in memory; English: none)."""
    found = _catalogues.get(lang)
    if found is not None:
        return found
    with _lock:
        if lang not in _catalogues:
            _catalogues[lang] = _compile(LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po", lang)
    return _catalogues[lang]


def _compile(po: Path, lang: str) -> _gettext.NullTranslations:
    if lang == DEFAULT or not po.exists():
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        messages = read_po(handle, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, messages, use_fuzzy=False)  # fuzzy entries are guesses: English is shown instead
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def gettext(message: str) -> str:
    """Return `message` in the current language (itself when it has no translation)."""
    lang = _current.get()
    if lang == DEFAULT or not message:
        return message
    return catalogue(lang).gettext(message)


_ = gettext


def ngettext(singular: str, plural: str, n: int) -> str:
    """Return the singular or plural form for `n` in the current language (Polish has three)."""
    lang = _current.get()
    if lang == DEFAULT:
        return singular if n == 1 else plural
    return catalogue(lang).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a module-level constant for translation; it stays English here. Translate it where shown."""
    return message


class Message:
    """A translatable template with named parameters, rendered in the language current when shown.

    ``str(Message("{file}: no sheet named '{sheet}'.", file="a.xlsx", sheet="Nav"))`` translates the
    template, then fills in the parameters (which are data: never translated). An exception
    given a Message shows it in the reader's language: ``str(exc)`` renders it then.
    """

    __slots__ = ("template", "params")

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return gettext(self.template).format(**{k: tr(v) for k, v in self.params.items()})

    def __repr__(self) -> str:
        return f"Message({self.template!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.template, self.params) == (other.template, other.params)

    def __hash__(self) -> int:
        return hash(self.template)


class Text(str):
    """English text that keeps its template and parameters, so it can be shown in another language later.

    It *is* the English string (comparisons, JSON, storage and caches see English, as before);
    `tr` shows it in the reader's language. For notes and labels that are computed once (a
    cached boundary, an analysis report) and read by people of different languages.
    Parameters are data (a file, a place) or other `Text`/`Message` values, translated in turn.
    """

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> "Text":
        token = _current.set(DEFAULT)  # the English value, whoever builds it
        try:
            value = template.format(**params)
        finally:
            _current.reset(token)
        self = super().__new__(cls, value)
        self.template, self.params = template, params
        return self

    def __reduce__(self):  # pickled by st.cache_data: keep the template, not only the English
        return (_text, (self.template, self.params))

    def translated(self) -> str:
        """This text in the current language (its parameters translated too when they are texts)."""
        return gettext(self.template).format(**{k: tr(v) for k, v in self.params.items()})


def _text(template: str, params: dict[str, Any]) -> Text:
    return Text(template, **params)


def tr(value: Any) -> Any:
    """Show `value` in the current language: a `Text` or `Message` translated, anything else as it is.

    Plain strings are returned unchanged (they may be user data, never translated).
    """
    if isinstance(value, Text):
        return value.translated()
    if isinstance(value, Message):
        return str(value)
    return value


_ACCEPT = re.compile(r"^\s*([A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def negotiate(accept: str | None) -> str:
    """Pick the best of `LANGUAGES` for a browser's preference, else English.

    `accept` is an Accept-Language header (``"sv-SE,sv;q=0.9,en;q=0.8"``) or a single tag
    such as ``navigator.language`` (``"pl-PL"``). Tags are tried by quality, then in order;
    a regional tag matches its language (``de-AT`` → ``de``).
    """
    ranked = []
    for position, part in enumerate((accept or "").split(",")):
        match = _ACCEPT.match(part)
        if not match:
            continue
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if quality > 0:
            ranked.append((-quality, position, match.group(1).replace("_", "-").split("-")[0].lower()))
    for _q, _p, code in sorted(ranked):
        if code in LANGUAGES:
            return code
    return DEFAULT


__all__ = ["DEFAULT", "LANGUAGES", "Message", "N_", "Text", "_", "catalogue", "check_language", "current", "gettext",
           "negotiate", "ngettext", "set_language", "tr", "use"]
