"""Extract every translatable string and bring the catalogues up to date: ``python -m i18n.update``.

Reads the marked strings (``_``, ``gettext``, ``ngettext``, ``N_``, ``Message``) from the app and
every package, writes ``locales/atlas.pot`` and merges it into each
``locales/<lang>/LC_MESSAGES/atlas.po``: new strings arrive empty, strings no longer in the
code become obsolete (``#~``) entries. Then translate the empty entries; tests/test_i18n_catalogues.py
fails until Swedish and Polish have them all. Nothing to compile: the app compiles the .po
files in memory when it loads them.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from i18n import DEFAULT, DOMAIN, LANGUAGES, LOCALES

ROOT = LOCALES.parent
# Where user-facing strings live: the app and every package (the second pass wraps loaders,
# geography, maps … in place, with nothing to add here).
SOURCES: tuple[str, ...] = ("app.py", "ui.py", "errors.py", "pages", "atlas", "exporters", "maps", "loaders",
                            "geography", "analysis", "workspace", "access", "i18n")
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "Message": None, "Text": None,
}
POT = LOCALES / f"{DOMAIN}.pot"


def source_files(root: Path = ROOT) -> list[Path]:
    """The Python files whose strings are extracted, in a stable order."""
    files: list[Path] = []
    for name in SOURCES:
        path = root / name
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def extract(root: Path = ROOT) -> Catalog:
    """Return the template catalogue: every marked string of the sources, with where it is used."""
    template = Catalog(project="Creative Atlas", domain=DOMAIN, fuzzy=False)
    for path in source_files(root):
        rel = path.relative_to(root).as_posix()
        for lineno, message, comments, context in extract_from_file(
                "python", str(path), keywords=KEYWORDS, comment_tags=("Translators:",),
                options={"encoding": "utf-8"}):
            template.add(message, None, [(rel, lineno)], auto_comments=comments, context=context)
    return template


def update(root: Path = ROOT) -> dict[str, int]:
    """Write the .pot and merge it into every language's .po; return how many entries each lacks."""
    template = extract(root)
    with POT.open("wb") as handle:
        write_po(handle, template, width=100, include_lineno=False, sort_by_file=False)
    missing = {}
    for lang in LANGUAGES:
        if lang == DEFAULT:
            continue
        po = LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.exists():
            with po.open("rb") as handle:
                catalogue = read_po(handle, locale=lang, domain=DOMAIN)
        else:
            po.parent.mkdir(parents=True, exist_ok=True)
            catalogue = Catalog(locale=lang, domain=DOMAIN, project="Creative Atlas", fuzzy=False)
        catalogue.update(template, no_fuzzy_matching=True)
        with po.open("wb") as handle:
            write_po(handle, catalogue, width=100, include_lineno=False, ignore_obsolete=False)
        missing[lang] = sum(1 for m in catalogue if m.id and not (all(m.string) if isinstance(m.string, tuple)
                                                                  else m.string))
    return missing


def main() -> int:
    """Run `update` and say what is left to translate."""
    missing = update()
    print(f"{POT.relative_to(ROOT)}: {len(extract())} strings")
    for lang, count in missing.items():
        print(f"locales/{lang}/LC_MESSAGES/{DOMAIN}.po: {count} to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
