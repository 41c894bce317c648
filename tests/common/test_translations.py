"""The Simplified Chinese catalogue is complete, sound and in step with the code.

When a test here fails after you changed a translatable string: run `make messages`,
translate the new or changed entries in locale/zh_Hans/LC_MESSAGES/django.po (no fuzzy
entries, no empty msgstr), then `make translations`.
"""

import ast
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

CATALOGUE = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# The same as `make messages`: what makemessages must not look at.
IGNORED = [".venv/*", "var/*", "bench/*", "tests/*"]
# Only what makemessages reads for the django domain is copied for the fresh extraction.
SOURCE_SUFFIXES = (".py", ".html", ".txt")
NOT_SOURCE = {".venv", "var", "bench", "tests", "locale", "__pycache__"}


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)


KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header included; obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int | None] | None = None

    def finish():
        nonlocal entry, target
        if entry is not None:
            entries.append(entry)
        entry, target = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if entry is not None and target is not None:
                finish()  # a comment after a message starts the next entry
            entry = entry or Entry(line=number)
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            if entry is not None and target is not None:
                finish()
            entry = entry or Entry(line=number)
            continue
        match = KEYWORD.match(line)
        if match:
            keyword, index, text = match.groups()
            if keyword in ("msgctxt", "msgid") and target is not None and target[0] == "msgstr":
                finish()
            entry = entry or Entry(line=number)
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index) if index is not None else 0)
                entry.msgstr[target[1]] = ""
            else:
                target = (keyword, None)
                setattr(entry, keyword, "")
        elif line.startswith('"') and entry is not None and target is not None:
            text = line
        else:
            raise ValueError(f"{path}:{number}: cannot read {raw!r}")
        value = ast.literal_eval(text)
        if target[0] == "msgstr":
            entry.msgstr[target[1]] += value
        else:
            setattr(entry, target[0], getattr(entry, target[0]) + value)
    finish()
    return entries


def messages(path: Path) -> list[Entry]:
    return [entry for entry in read_po(path) if entry.msgid or entry.msgctxt]


def where(entry: Entry) -> str:
    return f"line {entry.line}: {entry.msgid!r}"


def test_the_reader_handles_multiline_plural_and_fuzzy_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        '#: a.py:1\n#, python-format\nmsgid ""\n"Two "\n"lines %(n)s"\nmsgstr "两行 %(n)s"\n\n'
        '#, fuzzy\nmsgctxt "menu"\nmsgid "%(counter)s lot"\nmsgid_plural "%(counter)s lots"\n'
        'msgstr[0] ""\n"%(counter)s 个\\"批次\\""\n\n'
        '#~ msgid "Gone"\n#~ msgstr "没了"\n',
        encoding="utf-8",
    )

    header, first, second = read_po(po)

    assert header.msgid == ""
    assert "nplurals=1" in header.msgstr[0]
    assert (first.msgid, first.msgstr, first.flags) == (
        "Two lines %(n)s",
        {0: "两行 %(n)s"},
        {"python-format"},
    )
    assert second.key == ("menu", "%(counter)s lot", "%(counter)s lots")
    assert second.msgstr == {0: '%(counter)s 个"批次"'}
    assert "fuzzy" in second.flags


def test_catalogue_header_is_simplified_chinese_utf8_with_one_plural_form():
    header = read_po(CATALOGUE)[0]

    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert "Language: zh_Hans\n" in header.msgstr[0]
    assert "Content-Type: text/plain; charset=UTF-8\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header.msgstr[0]


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = messages(CATALOGUE)

    assert entries, "the catalogue has no messages"
    fuzzy = [where(entry) for entry in entries if "fuzzy" in entry.flags]
    untranslated = [
        where(entry) for entry in entries if not entry.msgstr or not all(entry.msgstr.values())
    ]
    one_form = [
        where(entry) for entry in entries if entry.msgid_plural and set(entry.msgstr) != {0}
    ]
    assert not fuzzy, f"fuzzy entries in {CATALOGUE.name}: {fuzzy}"
    assert not untranslated, f"untranslated entries in {CATALOGUE.name}: {untranslated}"
    assert not one_form, f"zh_Hans has exactly one plural form (msgstr[0]): {one_form}"


PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def test_translations_keep_every_placeholder_and_html_tag():
    broken = []
    for entry in messages(CATALOGUE):
        for translation in entry.msgstr.values():
            for pattern in (PLACEHOLDER, TAG):
                # A plural's source forms may use different placeholders; either is fine.
                wanted = [sorted(pattern.findall(entry.msgid))]
                if entry.msgid_plural is not None:
                    wanted.append(sorted(pattern.findall(entry.msgid_plural)))
                if sorted(pattern.findall(translation)) not in wanted:
                    broken.append(f"{where(entry)} → {translation!r}")
    assert not broken, f"placeholders or tags differ: {broken}"


def _copy_sources(destination: Path) -> None:
    def ignore(directory, names):
        return [
            name
            for name in names
            if name in NOT_SOURCE
            or (Path(directory, name).is_file() and not name.endswith(SOURCE_SUFFIXES))
        ]

    for item in settings.BASE_DIR.iterdir():
        if item.name in NOT_SOURCE or item.name.startswith("."):
            continue
        if item.is_dir():
            shutil.copytree(item, destination / item.name, ignore=ignore, symlinks=True)
        elif item.name.endswith(SOURCE_SUFFIXES):
            shutil.copy2(item, destination / item.name)


def test_catalogue_has_exactly_the_strings_marked_in_the_code(tmp_path, monkeypatch):
    """Extract afresh, as `make messages` does, from a copy of the code; compare msgids.

    The copy keeps the real locale/ out of reach: makemessages writes to the locale
    directory it finds beside the code, and here that is an empty one in tmp_path.
    """
    sources, fresh_locale = tmp_path / "src", tmp_path / "src" / "locale"
    sources.mkdir()
    _copy_sources(sources)
    monkeypatch.chdir(sources)

    with override_settings(LOCALE_PATHS=[fresh_locale]):
        call_command(
            "makemessages",
            locale=["zh_Hans"],
            ignore_patterns=IGNORED,
            no_obsolete=True,
            verbosity=0,
        )

    in_code = {
        entry.key for entry in messages(fresh_locale / "zh_Hans" / "LC_MESSAGES" / "django.po")
    }
    in_catalogue = {entry.key for entry in messages(CATALOGUE)}
    assert in_code, "the fresh extraction found no strings"
    missing = sorted(in_code - in_catalogue, key=str)
    stale = sorted(in_catalogue - in_code, key=str)
    assert not missing, f"marked in the code, missing from {CATALOGUE.name}: {missing}"
    assert not stale, f"in {CATALOGUE.name}, no longer in the code: {stale}"


def test_no_javascript_catalogue_is_needed():
    """farm_map.js shows no text of its own; a page passes it translated text if it must."""
    calls = [
        script.name
        for script in sorted((settings.BASE_DIR / "static" / "js").glob("*.js"))
        if re.search(r"\b(n|p|np)?gettext\s*\(|\binterpolate\s*\(", script.read_text("utf-8"))
    ]
    assert not calls, (
        f"{calls} call gettext: add `makemessages -d djangojs` to `make messages`, serve "
        "a JavaScriptCatalog and translate locale/zh_Hans/LC_MESSAGES/djangojs.po"
    )
