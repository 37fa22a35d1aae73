"""Each demo role, in a real browser, walks its home page, its to-dos and its main pages: every page
answers, shows no raw code, no English, trips no Content-Security-Policy violation and, for a
unit-scoped role, nothing of another unit.

The tiny demo is generated and scored once. For each of the six roles the demo account logs in
through the login page in Chromium, the home page is captured to ``/tmp/h9shots/<role>.png``, and
every navigation link and every to-do link of the home page is followed (at most ``MAX_PAGES``
pages a role). On each page:

- the answer is not a 4xx or 5xx;
- the raw-code checker of ``tests/test_no_raw_codes.py`` finds nothing;
- the visible text, without ``<code>`` elements, the brand and the language menu, holds no run of
  four or more ASCII letters but the allowed ones (``ALLOWED_WORDS``): no English reaches the user;
- for a liaison, a lead department and an official, no other unit's official code appears (as in
  ``tests/test_url_walk.py``), and for a liaison and an official no other unit's name either (a lead
  department enters facts about the units it assesses, so their names are its work).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from jixiao.accounts.models import Role, User
from jixiao.declarations.models import DeclaredIndicator
from jixiao.demo.catalog import DEMO_PASSWORD
from jixiao.demo.generator import generate
from jixiao.organisation.models import Official, Unit
from jixiao.results.models import ScoringRun
from jixiao.results.services import run_compute
from jixiao.schemes.models import Cycle
from tests.test_no_raw_codes import CODE_ELEMENT, code_list, problems, visible_text
from tests.test_url_walk import CSRF_VALUE, ROLES, _give_scoped_users_a_unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_PAGES = 16  # pages a role walks, its home page included (the office has 15 links)
SHOTS = Path("/tmp/h9shots")
# Words a Chinese page may show as they are: file formats, standards and abbreviations.
ALLOWED_WORDS = frozenset({"Excel", "PDF", "QR", "SM3", "ID", "HTTP", "HTTPS", "JSON", "API", "CSV"})
ENGLISH_WORD = re.compile(r"[A-Za-z]{4,}")
# A digest (SHA-256 of a run's input, of a tally) is shown in hexadecimal: letters, not English.
HEX_DIGEST = re.compile(r"\b[0-9a-f]{32,}\b")
# The page chrome that is not prose: the brand, the language menu (it names "English"), scripts.
CHROME = "header .brand, form:has(select[name=language]), script, style, template, textarea, code"
# Unit-scoped roles, and those of them that must not even see another unit's name.
NO_FOREIGN_NAMES = (Role.LIAISON, Role.OFFICIAL)


@dataclass
class RoleWalk:
    """What one role's walk visited and what it found wrong."""

    role: Role
    visited: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _prose(page: Page) -> str:
    """The HTML of the page's body without the chrome of ``CHROME``."""
    html: str = page.evaluate(
        """(chrome) => {
            const body = document.body.cloneNode(true);
            body.querySelectorAll(chrome).forEach((el) => el.remove());
            return body.innerHTML;
        }""",
        CHROME,
    )
    return html


def english_words(text: str) -> list[str]:
    """The runs of four or more ASCII letters in ``text`` that are not allowed words."""
    return sorted({w for w in ENGLISH_WORD.findall(HEX_DIGEST.sub(" ", text)) if w not in ALLOWED_WORDS})


@dataclass(frozen=True)
class Leaks:
    """What a unit-scoped role must not see: other units' official codes and unit names."""

    codes: re.Pattern[str] | None = None
    names: frozenset[str] = frozenset()
    # Published monthly rankings, races and bulletins (/race/) rank the units of a category for
    # all of them to read: there the category's unit names are the content, not a leak.
    published_names: frozenset[str] = frozenset()


def _leaks(user: User) -> Leaks:
    """Another unit's official code, or for a liaison and an official another unit's name."""
    if user.role not in (Role.LIAISON, Role.LEAD_DEPT, Role.OFFICIAL):
        return Leaks()
    assert user.unit_id is not None
    own = Unit.objects.get(pk=user.unit_id)
    codes = Official.objects.exclude(unit_id=user.unit_id).values_list("code", flat=True)
    pattern = re.compile(r"(?<![0-9A-Za-z])(" + "|".join(map(re.escape, codes)) + r")(?![0-9A-Za-z])")
    names: frozenset[str] = frozenset()
    category: frozenset[str] = frozenset()
    if user.role in NO_FOREIGN_NAMES:
        # The lead departments of the unit's own targets are named on its declaration and
        # tracking pages: they are who grades its reports.
        leads = DeclaredIndicator.objects.filter(
            declaration__unit_id=own.pk, lead_department__isnull=False
        ).values_list("lead_department__name", flat=True)
        names = frozenset(Unit.objects.exclude(pk=own.pk).values_list("name", flat=True)) - {own.name}
        names -= frozenset(leads)
        category = frozenset(Unit.objects.filter(category_id=own.category_id).values_list("name", flat=True))
    return Leaks(pattern, names, category)


def _element_texts(page: Page) -> set[str]:
    """The whole text of every element without child elements (a cell, a link, an option): a
    unit's name standing as such, not inside a position title (市委办公室 in 市委办公室主任)."""
    texts: list[str] = page.eval_on_selector_all(
        "body *:not(script):not(style)",
        "els => els.filter((e) => !e.children.length).map((e) => e.textContent.trim())",
    )
    return set(texts)


def _log_in(page: Page, base: str, user: User) -> None:
    page.goto(base + reverse("accounts:login"))
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("form.stacked button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("工作台")


def _home_links(page: Page, base: str) -> list[str]:
    """The links of the top bar (navigation, inbox, password) and the to-do links of the home
    page, same site, in page order, once each, the home page itself left out."""
    hrefs: list[str] = page.eval_on_selector_all(
        "header.topbar a[href], .todo-group a[href]", "els => els.map((a) => a.href)"
    )
    links: list[str] = []
    for href in hrefs:
        parts = urlsplit(href)
        if not href.startswith(base) or parts.path in (reverse("accounts:logout"), reverse("web:home")):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path not in links:
            links.append(path)
    return links


def _check(page: Page, walk: RoleWalk, url: str, status: int, checks: dict[str, Any]) -> None:
    walk.visited.append(url)
    if status >= 400:
        walk.problems.append(f"{url} answered {status}")
        return
    html = page.content()
    found = problems(
        visible_text(html), visible_text(CODE_ELEMENT.sub(" ", html)), checks["codes"], checks["decimals"]
    )
    # Account names are data an administrator reads (kaohe, liaison1), not English prose.
    words = [w for w in english_words(visible_text(_prose(page))) if w not in checks["usernames"]]
    if words:
        found.append(f"English {words[:8]}")
    leaks: Leaks = checks["leaks"]
    if leaks.codes is not None and (hit := leaks.codes.search(CSRF_VALUE.sub("", html))):
        found.append(f"another unit's official {hit[0]!r}")
    names = leaks.names - leaks.published_names if url.startswith("/race/") else leaks.names
    found += [f"another unit's name {n!r}" for n in sorted(names & _element_texts(page))]
    walk.problems += [f"{url}: {f}" for f in found[:6]]


def _walk(browser: Browser, base: str, user: User, checks: dict[str, Any]) -> RoleWalk:
    walk = RoleWalk(Role(user.role))
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    # Chromium reports what the Content-Security-Policy blocked (an inline script, an event
    # handler, an injected style) on the console: any such message is a page that lost behaviour.
    page.on(
        "console",
        lambda message: (
            walk.problems.append(f"{page.url}: CSP {message.text[:160]}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    try:
        _log_in(page, base, user)
        page.screenshot(path=str(SHOTS / f"{user.role}.png"), full_page=True)
        links = _home_links(page, base)
        _check(page, walk, "/", 200, checks)
        for url in links[: MAX_PAGES - 1]:
            response = page.goto(base + url)
            _check(page, walk, url, response.status if response is not None else 0, checks)
    finally:
        context.close()
    return walk


def _demo() -> dict[Role, User]:
    generate(scale="tiny", seed=11)
    for cycle in Cycle.objects.order_by("year"):
        run_compute(cycle=cycle, actor=None)
    _give_scoped_users_a_unit()
    users = {role: User.objects.filter(role=role, is_active=True).order_by("pk").first() for role in ROLES}
    assert all(users.values()), users
    return {role: user for role, user in users.items() if user is not None}


def test_each_role_walks_its_home_todos_and_main_pages_without_codes_english_or_leaks(
    live_server: Any, browser: Browser, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    users = _demo()
    User.objects.filter(pk__in=[u.pk for u in users.values()]).update(must_change_password=False)
    for user in users.values():
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    codes = code_list()
    usernames = {
        w for name in User.objects.values_list("username", flat=True) for w in ENGLISH_WORD.findall(name)
    }
    latest = ScoringRun.objects.order_by("-cycle__year", "-pk").first()
    assert latest is not None
    decimals = int(latest.parameters.get("score_decimals", 2))
    walks = [
        _walk(
            browser,
            str(live_server),
            user,
            {"codes": codes, "decimals": decimals, "leaks": _leaks(user), "usernames": usernames},
        )
        for user in users.values()
    ]
    for walk in walks:
        assert len(walk.visited) >= 3, (walk.role, walk.visited)  # home and at least two links
    assert [w.role for w in walks] == list(ROLES)
    failures = [f"{w.role}: {p}" for w in walks for p in w.problems]
    assert not failures, "\n".join(failures)
