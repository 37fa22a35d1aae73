"""The ranking sorted by its columns, and the Excel export of a whole category (at once when small,
by the worker when large), scoped and audited like the ranking page."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.template.defaultfilters import floatformat
from django.test import Client
from django.urls import reverse
from python_calamine import CalamineWorkbook

from jixiao.accounts.models import AuditAction, AuditLog, Role
from jixiao.organisation.tests.factories import UserFactory
from jixiao.results import ranking_export, selectors
from jixiao.results.models import EntityResult, RankingExport, ScoringRun

pytestmark = pytest.mark.django_db


def _table(client: Client, run: ScoringRun, **params: str) -> list[EntityResult]:
    response = client.get(reverse("results:ranking"), {"run": run.pk, "category": "zcounty", **params})
    assert response.status_code == 200
    return [r for r, _prev in response.context["table"]]


def test_the_ranking_sorts_by_score_code_name_and_grade_with_ties_in_rank_order(
    scored: dict[str, Any],
) -> None:
    client, run = scored["client"], scored["run"]
    by_rank = _table(client, run)
    assert [r.rank for r in by_rank] == sorted(r.rank for r in by_rank)
    low_first = _table(client, run, sort="total")
    totals = [r.total for r in low_first]
    assert totals == sorted(totals)
    high_first = _table(client, run, sort="-total")
    assert [r.total for r in high_first] == sorted(totals, reverse=True)
    codes = [r.unit.code for r in _table(client, run, sort="-code")]
    assert codes == sorted(codes, reverse=True)
    names = [
        r.official.name
        for r in _table(client, run, subject="official", category="zcounty:official", sort="name")
    ]
    assert len(names) == 20
    graded = _table(client, run, sort="grade")
    levels = selectors.grade_levels(run=run, category="zcounty")
    assert levels == ["一等", "二等"]
    keys = [(levels.index(r.grade), r.rank) for r in graded]
    assert keys == sorted(keys)


def test_an_unknown_sort_falls_back_to_the_rank_and_the_headers_link_the_other_direction(
    scored: dict[str, Any],
) -> None:
    client, run = scored["client"], scored["run"]
    response = client.get(reverse("results:ranking"), {"run": run.pk, "sort": "explanation", "page": "2"})
    assert response.context["sort"] == "rank"
    page = client.get(reverse("results:ranking"), {"run": run.pk, "sort": "-total"}).content.decode()
    assert 'aria-sort="descending"' in page
    assert "sort=total" in page  # clicking the sorted header again turns it ascending
    assert "page=" not in response.context["sorts"]["total"]["href"]  # a new order starts at page 1


def test_a_sorted_ranking_takes_the_same_number_of_queries_for_any_category_size(
    scored: dict[str, Any],
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, run = scored["client"], scored["run"]
    for sort in ("name", "grade", "-total"):
        # The run's grade levels are read once per process (a run never changes): warm them.
        client.get(reverse("results:ranking"), {"run": run.pk, "category": "zcounty", "sort": sort})
        with CaptureQueriesContext(connection) as small:  # 7 units
            client.get(reverse("results:ranking"), {"run": run.pk, "category": "adept", "sort": sort})
        with CaptureQueriesContext(connection) as large:  # 20 units
            client.get(reverse("results:ranking"), {"run": run.pk, "category": "zcounty", "sort": sort})
        assert len(small) == len(large), sort


def test_scores_are_exported_rounded_as_the_page_shows_them() -> None:
    for value in (84.125, 2.675, 99.995, 0.0, 71.3):
        assert f"{ranking_export.shown_score(value, 2):.2f}" == floatformat(value, 2)
    assert ranking_export.shown_score(None, 2) is None


def test_a_small_category_is_exported_at_once_in_the_pages_order_with_chinese_headers(
    scored: dict[str, Any],
) -> None:
    client, run = scored["client"], scored["run"]
    response = client.post(
        reverse("results:ranking_export"),
        {"run": run.pk, "subject": "official", "category": "zcounty:official", "sort": "-code"},
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert rows[0][:5] == ["名次", "单位", "工号", "姓名", "总分"]
    assert rows[0][-4:] == ["等次", "上年名次", "上年等次", "提示"] and "履职" in rows[0]
    body = rows[1:]
    assert len(body) == 20
    assert [r[2] for r in body] == sorted((r[2] for r in body), reverse=True)
    assert {r[-4] for r in body} <= {"优秀", "称职", "不确定等次"}
    results = {r.official.code: r for r in EntityResult.objects.filter(run=run, subject="official")}
    for r in body:
        assert f"{r[4]:.2f}" == floatformat(results[r[2]].total, 2)
    audit = AuditLog.objects.get(action=AuditAction.EXPORT)
    assert audit.changes["category"] == "zcounty:official" and audit.changes["rows"] == 20


def test_a_large_category_is_exported_by_the_worker_and_only_its_requester_downloads_it(
    scored: dict[str, Any], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jixiao.jobs.models import JobStatus

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    monkeypatch.setattr(ranking_export, "INLINE_ROWS", 5)  # 20 units count as a large category here
    client, run = scored["client"], scored["run"]
    page = client.get(reverse("results:ranking"), {"run": run.pk, "category": "zcounty"}).content.decode()
    assert "后台导出本类别 Excel" in page
    started = client.post(
        f"{reverse('results:ranking_export')}?run={run.pk}&category=zcounty",
        {"run": run.pk, "subject": "unit", "category": "zcounty", "sort": "rank"},
    )
    assert started.status_code == 302
    export = RankingExport.objects.get()
    assert export.job is not None and export.job.status == JobStatus.SUCCEEDED and export.row_count == 20
    assert not AuditLog.objects.filter(action=AuditAction.EXPORT).exists()  # audited when handed over
    page = client.get(reverse("results:ranking"), {"run": run.pk, "category": "zcounty"}).content.decode()
    assert "下载 Excel（20 行" in page
    download = client.get(reverse("results:ranking_export_file", args=[export.pk]))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(download.content)).get_sheet_by_index(0).to_python()
    assert rows[0][:3] == ["名次", "单位代码", "单位"] and [r[0] for r in rows[1:]] == list(range(1, 21))
    assert AuditLog.objects.filter(action=AuditAction.EXPORT).count() == 1
    status = client.get(reverse("results:ranking_export_status", args=[export.pk]))
    assert status.status_code == 200 and "已完成" in status.content.decode()

    client.force_login(UserFactory(role=Role.OFFICE))  # another office user: not their export
    assert client.get(reverse("results:ranking_export_file", args=[export.pk])).status_code == 404
    assert client.get(reverse("results:ranking_export_status", args=[export.pk])).status_code == 404


def test_those_who_may_not_read_rankings_cannot_export_a_category(scored: dict[str, Any]) -> None:
    run: ScoringRun = scored["run"]
    unit = scored["county"]["units"][0]
    official = scored["county"]["officials"][0]
    for user in (
        UserFactory(role=Role.LIAISON, unit=unit),
        UserFactory(role=Role.OFFICIAL, unit=unit, official=official),
    ):
        client = Client()
        client.force_login(user)
        response = client.post(
            reverse("results:ranking_export"),
            {"run": run.pk, "subject": "official", "category": "zcounty:official"},
        )
        assert response.status_code == 403
    assert not AuditLog.objects.filter(action=AuditAction.EXPORT).exists()


def test_the_auditor_exports_a_category_although_read_only(scored: dict[str, Any]) -> None:
    run: ScoringRun = scored["run"]
    client = Client()
    client.force_login(UserFactory(role=Role.AUDITOR))
    response = client.post(
        reverse("results:ranking_export"), {"run": run.pk, "subject": "unit", "category": "adept"}
    )
    assert response.status_code == 200
