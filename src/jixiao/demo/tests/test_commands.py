"""The ``generate`` and ``demo`` management commands."""

from __future__ import annotations

import re
from fractions import Fraction
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role, User
from jixiao.demo import catalog
from jixiao.demo.accounts import DEMO_ACCOUNTS
from jixiao.facts.models import Adjustment, EvaluationScore, IndicatorResult, VoteCount
from jixiao.jobs.models import Job, JobKind, JobStatus
from jixiao.organisation.models import Official, Unit
from jixiao.results.models import EntityResult, ScoringRun
from jixiao.schemes.models import GradeLevel, IndicatorNode, Scheme
from jixiao.scoring.grading import quota
from jixiao.web.management.commands.demo import COMPRESSING_STORAGE

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Unit.objects.count(),
        Official.objects.count(),
        Scheme.objects.count(),
        IndicatorNode.objects.count(),
        User.objects.count(),
        EvaluationScore.objects.count(),
        ScoringRun.objects.count(),
    )


def _assert_graded_by_the_rules(run: ScoringRun) -> None:
    """Quotas hold in every category; the vote rule and a veto of excellence visibly decide grades."""
    results = list(EntityResult.objects.filter(run=run))
    assert len(results) == run.entity_count == 102 + Official.objects.filter(is_active=True).count()
    top = {
        level.policy.scheme.category.code + ("" if level.policy.subject == "team" else ":official"): level
        for level in GradeLevel.objects.filter(policy__scheme__cycle=run.cycle, order=1).select_related(
            "policy__scheme__category"
        )
    }
    by_category: dict[str, list[EntityResult]] = {}
    for result in results:
        by_category.setdefault(result.category, []).append(result)
    assert len(by_category) == 16
    for category, members in by_category.items():
        graded = [r for r in members if r.grade]
        level = top[category]
        places = quota(Fraction(str(level.quota_percent)) / 100, len(graded), "floor")
        assert sum(r.grade == level.label for r in graded) <= places, category
    decisions = [r.explanation["grade"]["decision"] for r in results]
    assert any(d["code"] == "forced.hard_rule.vote_share" for d in decisions)
    capped = [
        r
        for r in results
        if r.subject == "unit"
        and r.rank == 1
        and r.grade == "二等"
        and any(
            c["code"] == "ceiling.veto" for c in r.explanation["grade"]["decision"].get("constraints", [])
        )
    ]
    assert capped, "a leading unit kept out of 一等 by a veto of excellence"
    official = next(r for r in results if r.subject == "official" and r.official.layer == "member")  # type: ignore[union-attr]
    assert {c["component"] for c in official.explanation["components"]} == {"duty", "portfolio", "quality"}


def test_generate_prints_counts_and_refuses_a_non_empty_database() -> None:
    out = StringIO()
    call_command("generate", "--scale", "tiny", "--seed", "3", stdout=out)
    assert "organisation.Unit" in out.getvalue() and "done" in out.getvalue()

    with pytest.raises(CommandError, match="--reset"):
        call_command("generate", "--scale", "tiny", stdout=StringIO())


def test_generate_with_reset_replaces_the_data() -> None:
    call_command("generate", "--scale", "tiny", "--seed", "3", stdout=StringIO())
    first = set(Official.objects.values_list("name", flat=True))

    call_command("generate", "--scale", "tiny", "--seed", "4", "--reset", stdout=StringIO())

    assert Unit.objects.count() == 9
    assert set(Official.objects.values_list("name", flat=True)) != first
    assert User.objects.filter(username="kaohe").count() == 1


@pytest.mark.prefecture
def test_demo_without_serving_is_idempotent_and_the_logins_work() -> None:
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    counts = _counts()
    call_command("demo", "--no-serve", stdout=out)

    assert _counts() == counts
    assert counts[0] == 102
    # A year of facts per cycle, scored 2024 then 2025.
    assert ScoringRun.objects.count() == 2
    assert 20_000 < IndicatorResult.objects.count() < 40_000
    assert 500_000 < EvaluationScore.objects.count() < 2_000_000
    assert VoteCount.objects.count() == 2 * Official.objects.filter(is_active=True).count()
    assert 40 < Adjustment.objects.count() < 120
    for run in ScoringRun.objects.order_by("cycle__year"):
        _assert_graded_by_the_rules(run)
    text = out.getvalue()
    assert catalog.DEMO_PASSWORD in text and "http://127.0.0.1:8000/" in text
    for account in DEMO_ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.role == account.role
        assert account.username in text
        response = Client().post(
            reverse("accounts:login"), {"username": account.username, "password": catalog.DEMO_PASSWORD}
        )
        assert response.status_code == 302, account.username
    assert User.objects.get(username="tongji").unit.name == "市统计局"  # type: ignore[union-attr]
    assert User.objects.get(username="liaison1").unit != User.objects.get(username="liaison2").unit
    assert User.objects.get(username="ganbu").unit is not None
    assert User.objects.get(username="kaohe").role == Role.OFFICE


def test_demo_serves_with_gunicorn_on_the_requested_port(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, list[str]]] = []

    def fake_execvp(path: str, argv: list[str]) -> Any:
        calls.append((path, argv))

    monkeypatch.setattr("jixiao.web.management.commands.demo.os.execvp", fake_execvp)
    monkeypatch.setattr(
        "jixiao.web.management.commands.demo.start_worker", lambda: calls.append(("worker", []))
    )
    monkeypatch.setattr("jixiao.web.management.commands.demo.generate", lambda **kw: _tiny(**kw))
    monkeypatch.setenv("PORT", "8123")

    call_command("demo", stdout=StringIO())

    # The job runner starts beside the server, before this process becomes gunicorn.
    worker, (path, argv) = calls
    assert worker == ("worker", [])
    assert path.endswith("gunicorn")
    assert "jixiao.config.wsgi:application" in argv
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8123"
    assert argv[argv.index("--workers") + 1] == "2"
    assert argv[argv.index("--worker-class") + 1] == "sync"
    # The first page answers before the newest cycle is scored: 2024 is scored here, 2025 waits
    # for the job runner (it sees 2024's run for the cross-year rules).
    assert ScoringRun.objects.filter(cycle__year=2024).count() == 1
    assert not ScoringRun.objects.filter(cycle__year=2025).exists()
    queued = Job.objects.get(kind=JobKind.COMPUTE)
    assert queued.cycle.year == 2025 and queued.status == JobStatus.QUEUED  # type: ignore[union-attr]


def _tiny(**kwargs: Any) -> Any:
    from jixiao.demo.generator import generate

    return generate(**{**kwargs, "scale": "tiny"})


def test_demo_rejects_a_bad_port() -> None:
    with pytest.raises(CommandError, match="PORT"):
        call_command("demo", "--no-serve", "--port", "http", stdout=StringIO())


def test_demo_prints_every_step_with_the_time_it_took(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setattr("jixiao.web.management.commands.demo.generate", lambda **kw: _tiny(**kw))
    # The production default (tests otherwise use plain storage): compressing, hashed names.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": COMPRESSING_STORAGE}}
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    text = out.getvalue()
    from jixiao.demo.generator import STEPS

    timed = r"\d+\.\d s"
    for label in ["数据库迁移 / migrate", *(f"  {s.name}" for s in STEPS), "演示账号", "静态文件"]:
        assert re.search(re.escape(label) + r".*: " + timed, text), label
    for cycle in ("2024", "2025"):
        assert re.search(cycle + r".*第 1 次计算.*" + timed, text), cycle
    assert re.search(r"准备完成 / ready in " + timed, text)
    # Hashed names for whitenoise, without the slow gzip/brotli copies (loopback demo).
    static = Path(django_settings.STATIC_ROOT)
    assert (static / "staticfiles.json").exists()
    assert not list(static.rglob("*.br")) and not list(static.rglob("*.gz"))
