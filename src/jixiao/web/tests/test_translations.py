"""The English catalogue is complete, keeps every placeholder, is compiled, and is served.

The .po file is parsed here in plain Python (no polib): entries are blank-line separated, strings
may continue over several quoted lines, obsolete ``#~`` entries are ignored.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"

# A python-format directive; "%%" is matched (and then ignored) so that "%%(n)s" is not a placeholder.
_DIRECTIVE = re.compile(r"%(?:%|\((?P<name>[^)]+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa])")
_KEYWORD = re.compile(r"^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+(\".*\")$")


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def msgid(self) -> str:
        return self.fields.get("msgid", "")

    @property
    def msgstrs(self) -> dict[str, str]:
        return {k: v for k, v in self.fields.items() if k.startswith("msgstr")}

    def __str__(self) -> str:
        return f"django.po:{self.line} {self.msgid!r}"


def _unquote(token: str) -> str:
    value = ast.literal_eval(token)
    assert isinstance(value, str)
    return value


def parse_po(text: str) -> list[Entry]:
    """Return the live entries of a .po file, header included."""
    entries: list[Entry] = []
    current: Entry | None = None
    last: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            current, last = None, None
            continue
        if line.startswith("#~"):
            continue
        if current is None:
            current = Entry(line=number)
            entries.append(current)
        if line.startswith("#,"):
            current.flags.update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert last is not None, f"django.po:{number}: string continues nothing"
            current.fields[last] += _unquote(line)
        else:
            match = _KEYWORD.match(line)
            assert match, f"django.po:{number}: cannot parse {line!r}"
            last = match[1]
            current.fields[last] = _unquote(match[2])
    return [e for e in entries if "msgid" in e.fields]


def placeholders(text: str) -> set[str]:
    return {m["name"] for m in _DIRECTIVE.finditer(text) if m["name"]}


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    parsed = parse_po(PO.read_text(encoding="utf-8"))
    return [e for e in parsed if e.msgid != ""]


def test_the_catalogue_parses_into_hundreds_of_entries(entries: list[Entry]) -> None:
    assert len(entries) > 500
    assert all(e.msgstrs for e in entries)


def test_no_entry_is_fuzzy(entries: list[Entry]) -> None:
    fuzzy = [str(e) for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy entries:\n" + "\n".join(fuzzy)


def test_every_entry_is_translated(entries: list[Entry]) -> None:
    empty = [f"{e} {k}" for e in entries for k, v in e.msgstrs.items() if not v.strip()]
    assert not empty, "untranslated entries:\n" + "\n".join(empty)


def test_every_named_placeholder_is_kept(entries: list[Entry]) -> None:
    problems = []
    for e in entries:
        for key, msgstr in e.msgstrs.items():
            source = e.fields.get("msgid_plural", e.msgid) if key not in ("msgstr", "msgstr[0]") else e.msgid
            lost = placeholders(source) - placeholders(msgstr)
            if lost:
                problems.append(f"{e} {key} lacks {sorted(lost)}")
    assert not problems, "\n".join(problems)


def test_placeholder_parsing_sees_names_and_ignores_escaped_percent() -> None:
    assert placeholders("第 %(n)d 行，%(name)s，%.1f") == {"n", "name"}
    assert placeholders("还有 %%(n)s 项") == set()


def test_the_compiled_catalogue_matches_the_po(entries: list[Entry]) -> None:
    """django.mo was compiled from this django.po (run compilemessages after editing it)."""
    with MO.open("rb") as fp:
        catalog = gettext.GNUTranslations(fp)._catalog  # type: ignore[attr-defined]
    stale = []
    for e in entries:
        key = f"{e.fields['msgctxt']}\x04{e.msgid}" if "msgctxt" in e.fields else e.msgid
        if "msgid_plural" in e.fields:
            for i in range(len(e.msgstrs)):
                if catalog.get((key, i)) != e.fields[f"msgstr[{i}]"]:
                    stale.append(f"{e} msgstr[{i}]")
        elif catalog.get(key) != e.fields["msgstr"]:
            stale.append(str(e))
    assert not stale, "django.mo is out of date for:\n" + "\n".join(stale[:20])


@pytest.mark.django_db
def test_the_login_page_is_english_with_the_english_cookie(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("accounts:login")).content.decode()
    assert "Log in" in html
    assert "登录" not in html


@pytest.mark.django_db
def test_the_login_page_stays_chinese_without_the_cookie(client: Client) -> None:
    html = client.get(reverse("accounts:login")).content.decode()
    assert "登录" in html
    assert "Log in" not in html
