"""Every page of the demo, read as the office, shows Chinese names: no raw code, dict or long float.

The tiny demo (every category, two cycles, evaluations and surveys) is generated once, both cycles
are scored, and the latest cycle is scored a second time after a veto on its first-ranked unit
(so that comparison and a binding-veto breakdown have something to show). Then every GET route of
the URLconf (``tests/urlwalk.py``) is rendered with real ids, plus the ranking of every category
of both subjects, the comparison of the two runs and the breakdown of every result. The visible
text (tags, scripts and styles stripped) must hold no dict or list literal, no code from the
engine's and the models' code lists, and no number with more decimals than the scheme's + 2.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.test import Client

from jixiao.accounts.models import Role, User
from jixiao.demo.generator import generate
from jixiao.evaluations.models import BallotFormItem
from jixiao.facts.models import Adjustment, AdjustmentKind
from jixiao.organisation.models import UnitCategory
from jixiao.results import labels
from jixiao.results.models import EntityResult, ScoringRun
from jixiao.results.services import run_compute
from jixiao.schemes.models import Component, Cycle, RaterGroup
from jixiao.schemes.rule_types import INDICATOR_RULES
from jixiao.scoring.grading import DECISION_CODES, FLAGS
from jixiao.scoring.scheme import HARD_RULES
from tests import urlwalk

pytestmark = pytest.mark.django_db

HTML = "text/html"
CODE_ELEMENT = re.compile(r"(?is)<code\b.*?</code>")
# Codes that are also ordinary words or units of the page and would only make noise.
NOT_CODES = frozenset({"id", "name", "code"})


@pytest.fixture(autouse=True)
def _fast_settings(settings: Any, tmp_path: Path) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STATIC_ROOT = tmp_path / "static"


def visible_text(page: str) -> str:
    """The text a reader sees: scripts, styles and tags removed, entities decoded."""
    # A textarea holds what its editor types (a ballot form's item codes): not text shown to read.
    page = re.sub(r"(?is)<(script|style|template|textarea)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<!--.*?-->", " ", page)
    return html.unescape(re.sub(r"(?s)<[^>]+>", " ", page))


def choice_values() -> set[str]:
    """The stored values of every ``choices`` field of the project's models (TextChoices)."""
    values: set[str] = set()
    for model in apps.get_models():
        if not model.__module__.startswith("jixiao."):
            continue
        for field in model._meta.get_fields():
            if isinstance(field, models.Field) and field.choices:
                values |= {str(v) for v, _ in field.flatchoices if isinstance(v, str) and v}
    return values


def code_list() -> set[str]:
    """Every machine code a page could leak: rater groups, items, components, rules, flags …"""
    codes = set(RaterGroup.objects.values_list("code", flat=True))
    codes |= set(Component.objects.values_list("code", flat=True))
    codes |= {f"component:{c}" for c in codes}
    codes |= set(labels.ITEMS) | set(labels.STATUSES) | set(INDICATOR_RULES) | set(HARD_RULES)
    codes |= set(FLAGS) | set(DECISION_CODES) | set(labels.DECISIONS) | set(labels.ADJUSTMENT_KINDS)
    codes |= choice_values()
    categories = set(UnitCategory.objects.values_list("code", flat=True))
    codes |= categories | {f"{c}:official" for c in categories}
    codes |= {m._meta.label_lower for m in apps.get_models()}  # audit object types (accounts.user)
    codes |= {
        "total",
        "rank",
        "grade",
        "weighted",
        "decided_by",
        "ceiling_index",
    }  # result and decision fields
    codes |= set(BallotFormItem.objects.values_list("code", flat=True))
    for component in Component.objects.all():
        codes |= set(component.item_weights) | set(component.group_weights) | set(component.layer_weights)
    return {c for c in codes if c and re.search(r"[A-Za-z_]", c) and c not in NOT_CODES}


def problems(text: str, prose: str, codes: set[str], decimals: int) -> list[str]:
    """What is wrong with a page's ``text``; codes are looked for in its ``prose`` only (the text
    without ``<code>`` elements, where a configuration page shows an identifier on purpose)."""
    found: list[str] = []
    for literal in re.findall(r"[{\[]\s*'[^\n]{0,40}", text):
        found.append(f"literal {literal!r}")
    for number in re.findall(rf"\d+\.\d{{{decimals + 3},}}", text):
        found.append(f"long float {number}")
    # A word runs over "-" and "/": "basic-integrity" (a library code) and "/api/…" are not codes.
    for word in re.finditer(r"[A-Za-z_/][A-Za-z0-9_.:/-]*[A-Za-z0-9_]|[A-Za-z]", prose):
        if word.group() in codes:
            around = " ".join(prose[max(word.start() - 25, 0) : word.end() + 25].split())
            found.append(f"code {word.group()!r} in “{around}”")
    return found


# A script element without src runs inline, unless it is data (json_script: type="application/json").
INLINE_SCRIPT = re.compile(r"(?is)<script\b(?![^>]*\bsrc=)(?![^>]*type=[\"']application/json)[^>]*>")
EVENT_HANDLER = re.compile(r"(?is)<[a-z][^>]*\son[a-z]+\s*=")
JS_URL = re.compile(r"(?is)(?:href|src|action)\s*=\s*[\"']?\s*javascript:")


def script_problems(page: str, csp: str) -> list[str]:
    """What the Content-Security-Policy would block or what would weaken it: an inline script, an
    event-handler attribute, a javascript: URL, or a response without the policy."""
    found = [f"inline script {m.group()[:60]!r}" for m in INLINE_SCRIPT.finditer(page)]
    found += [f"event handler {m.group()[-60:]!r}" for m in EVENT_HANDLER.finditer(page)]
    found += [f"javascript URL {m.group()!r}" for m in JS_URL.finditer(page)]
    if "script-src 'self'" not in csp or "unsafe-inline" in csp.split("script-src", 1)[1].split(";")[0]:
        found.append(f"no strict script-src in the policy {csp!r}")
    return found


def test_script_problems_finds_each_kind_of_inline_code() -> None:
    strict = "default-src 'self'; script-src 'self'"
    assert script_problems('<script src="/s.js"></script>', strict) == []
    assert len(script_problems("<script>alert(1)</script>", strict)) == 1
    assert script_problems('<script id="d" type="application/json">{}</script>', strict) == []
    assert len(script_problems('<a href="#" onclick="x()">', strict)) == 1
    assert len(script_problems('<a href="javascript:x()">', strict)) == 1
    assert len(script_problems("", "script-src 'self' 'unsafe-inline'")) == 1
    assert len(script_problems("", "")) == 1


def _scored_demo() -> tuple[ScoringRun, ScoringRun]:
    generate(scale="tiny", seed=7)
    urlwalk.seed_declarations()
    for cycle in Cycle.objects.order_by("year"):
        run_compute(cycle=cycle, actor=None)
    latest = Cycle.objects.order_by("-year").first()
    assert latest is not None
    first = ScoringRun.objects.filter(cycle=latest).get()
    top = EntityResult.objects.filter(run=first, subject="unit", rank=1).first()
    assert top is not None
    Adjustment.objects.create(
        cycle=cycle,
        unit=top.unit,
        kind=AdjustmentKind.VETO_EXCELLENT,
        source="督查室",
        reason="重大安全生产事故",
    )
    return first, run_compute(cycle=latest, actor=None)


def _extra_urls(old: ScoringRun, new: ScoringRun) -> Iterator[str]:
    for subject in ("unit", "official"):
        for category in (
            EntityResult.objects.filter(run=new, subject=subject)
            .values_list("category", flat=True)
            .distinct()
        ):
            yield f"/results/?run={new.pk}&subject={subject}&category={category}"
    yield f"/results/compare/?old={old.pk}&new={new.pk}"
    yield f"/results/runs/?year={new.cycle.year}"
    for pk in EntityResult.objects.filter(run=new).values_list("pk", flat=True):
        yield f"/results/entity/{pk}/"


def test_every_page_of_the_demo_shows_names_not_codes_and_runs_no_inline_script() -> None:
    old, new = _scored_demo()
    # The office walks the appraisal pages; the three administrators the account and audit pages
    # the office no longer reaches (三权分立).
    clients = []
    for role in (Role.OFFICE, Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN):
        user = User.objects.filter(role=role, is_active=True).first()
        assert user is not None, role
        client = Client()
        client.force_login(user)
        clients.append(client)
    codes = code_list()
    decimals = int(new.parameters.get("score_decimals", 2))
    urls = [url for route, url in urlwalk.urls() if url is not None and not route.name.startswith("api")]
    urls += list(_extra_urls(old, new))
    failures: dict[str, list[str]] = {}
    rendered = 0
    for url in urls:
        response = next(
            (r for r in (c.get(url) for c in clients) if r.status_code == 200),
            None,
        )
        if response is None or not response.get("Content-Type", "").startswith(HTML):
            continue
        rendered += 1
        page = response.content.decode()
        found = problems(visible_text(page), visible_text(CODE_ELEMENT.sub(" ", page)), codes, decimals)
        found += script_problems(page, response.get("Content-Security-Policy", ""))
        if found:
            failures[url] = found[:6]
    assert rendered > 60, rendered  # the walk reached the pages, not only redirects
    assert not failures, "\n".join(f"{url}: {', '.join(found)}" for url, found in failures.items())
