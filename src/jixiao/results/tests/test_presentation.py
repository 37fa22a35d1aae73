"""Results for people: the grade explained in words, categories in their order, comparison with
reasons, the Excel export in Chinese and local time."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from jixiao.accounts.models import Role
from jixiao.facts.models import Adjustment, AdjustmentKind, EvaluationScore, IndicatorResult
from jixiao.organisation.models import Layer
from jixiao.organisation.tests.factories import CategoryFactory, OfficialFactory, UnitFactory, UserFactory
from jixiao.results import selectors
from jixiao.results.models import EntityResult, ScoringRun
from jixiao.results.services import run_compute
from jixiao.schemes.models import Component, ComponentSource, GradeLevel, GradingPolicy, RaterGroup, Subject
from jixiao.schemes.tests.factories import CycleFactory, IndicatorFactory, SchemeFactory

pytestmark = pytest.mark.django_db


def _levels(policy: GradingPolicy, levels: list[tuple[str, str | None]]) -> None:
    for order, (label, quota) in enumerate(levels, start=1):
        GradeLevel.objects.create(
            policy=policy, code=f"l{order}", label=label, order=order,
            quota_percent=None if quota is None else Decimal(quota),
        )  # fmt: skip


def _category(cycle: Any, code: str, name: str, order: int, units: int) -> dict[str, Any]:
    category = CategoryFactory(code=code, name=name, order=order)
    scheme = SchemeFactory(cycle=cycle, category=category)
    annual = Component.objects.create(scheme=scheme, code="annual", name="年度实绩", weight=Decimal("80"))
    Component.objects.create(
        scheme=scheme, code="public", name="社会公认度", weight=Decimal("20"),
        source=ComponentSource.RATINGS, group_weights={"public": 100},
    )  # fmt: skip
    Component.objects.create(
        scheme=scheme, code="duty", name="履职", weight=Decimal("100"), subject=Subject.OFFICIAL,
        source=ComponentSource.TEAM,
    )  # fmt: skip
    _levels(
        GradingPolicy.objects.create(scheme=scheme, subject=Subject.TEAM), [("一等", "15"), ("二等", None)]
    )
    _levels(
        GradingPolicy.objects.create(scheme=scheme, subject=Subject.OFFICIAL),
        [("优秀", "15"), ("称职", None)],
    )
    leaf = IndicatorFactory(
        component=annual, rule_type="completion", rule_params={"cap": 1.0}, name="招商引资"
    )
    made = [UnitFactory(category=category, code=f"{code}{i:02d}") for i in range(units)]
    for i, unit in enumerate(made):
        IndicatorResult.objects.create(cycle=cycle, unit=unit, indicator=leaf, value=50 + i, target=100)
        EvaluationScore.objects.create(cycle=cycle, unit=unit, rater_group="public", item="overall", score=80)
    officials = [OfficialFactory(unit=u, layer=Layer.MEMBER) for u in made]
    return {"units": made, "leaf": leaf, "officials": officials}


@pytest.fixture
def scored() -> dict[str, Any]:
    """Two categories whose configured order (县市 first) is not their codes' order; one run."""
    cycle = CycleFactory(year=2025)
    RaterGroup.objects.create(cycle=cycle, code="public", name="群众", min_ballots=1)
    county = _category(cycle, "zcounty", "县市", 1, 20)
    dept = _category(cycle, "adept", "市直部门", 2, 7)
    run = run_compute(cycle=cycle, actor=None)
    client = Client()
    client.force_login(UserFactory(role=Role.OFFICE))
    return {"cycle": cycle, "county": county, "dept": dept, "run": run, "client": client}


def test_categories_are_listed_in_their_configured_order_not_by_code(scored: dict[str, Any]) -> None:
    assert selectors.categories(run=scored["run"], subject="unit") == ["zcounty", "adept"]
    assert selectors.categories(run=scored["run"], subject="official") == [
        "zcounty:official",
        "adept:official",
    ]
    page = scored["client"].get(reverse("results:ranking"), {"run": scored["run"].pk}).content.decode()
    assert page.index(">县市<") < page.index(">市直部门<")


def test_switching_to_officials_keeps_the_same_unit_category(scored: dict[str, Any]) -> None:
    response = scored["client"].get(
        reverse("results:ranking"), {"run": scored["run"].pk, "subject": "official", "category": "adept"}
    )
    assert response.context["category"] == "adept:official"
    assert len(response.context["table"]) == 7


def test_a_vetoed_first_unit_is_explained_in_words_and_not_recommended(scored: dict[str, Any]) -> None:
    cycle, top = scored["cycle"], scored["county"]["units"][-1]
    Adjustment.objects.create(
        cycle=cycle, unit=top, kind=AdjustmentKind.VETO_EXCELLENT, source="督查", reason="安全事故"
    )
    run = run_compute(cycle=cycle, actor=None)
    result = EntityResult.objects.get(run=run, unit=top, subject="unit")
    page = scored["client"].get(reverse("results:breakdown", args=[result.pk])).content.decode()
    assert "排名第1，但因一票否优项“安全事故”不得评为一等，按比例评为二等" in page
    assert "{&#x27;code&#x27;" not in page and "{'code'" not in page
    assert "top_twice" not in result.flags


def test_comparison_lists_only_changed_entities_with_the_input_that_changed(scored: dict[str, Any]) -> None:
    cycle, county = scored["cycle"], scored["county"]
    moved = county["units"][0]
    IndicatorResult.objects.filter(cycle=cycle, unit=moved).update(value=95)
    new = run_compute(cycle=cycle, actor=None)
    changes = selectors.compare(old=scored["run"], new=new)
    by_unit = {c.result.unit_id: c for c in changes if c.result.subject == "unit"}
    assert moved.pk in by_unit
    assert "指标“招商引资”实际值 50 → 95" in by_unit[moved.pk].reasons
    assert all(c.result.category.startswith("zcounty") for c in changes)  # 市直部门 unchanged
    others = [c for c in by_unit.values() if c.result.unit_id != moved.pk]
    assert others and all(c.reasons == ["本身输入未变，名次或等次随同类别其他对象变化"] for c in others)
    official = next(c for c in changes if c.result.official_id == county["officials"][0].pk)
    assert "所在班子得分变化" in official.reasons
    page = scored["client"].get(reverse("results:compare"), {"old": scored["run"].pk, "new": new.pk})
    assert "component:" not in page.content.decode() and "年度实绩" in page.content.decode()


def test_comparison_of_two_runs_on_the_same_inputs_lists_nothing(scored: dict[str, Any]) -> None:
    # Its speed on the demo is measured by hand (issue note), never asserted: a timing is no test.
    new = run_compute(cycle=scored["cycle"], actor=None)
    response = scored["client"].get(reverse("results:compare"), {"old": scored["run"].pk, "new": new.pk})
    assert response.status_code == 200
    assert response.context["changes"] == []


def test_comparison_names_a_withheld_rater_group_without_its_mean_or_count(scored: dict[str, Any]) -> None:
    cycle, moved = scored["cycle"], scored["county"]["units"][0]
    RaterGroup.objects.filter(cycle=cycle, code="public").update(min_ballots=3)
    old = run_compute(cycle=cycle, actor=None)
    # One lone citizen's rating changes (below k in both runs) and an indicator moves the total.
    EvaluationScore.objects.filter(cycle=cycle, unit=moved).update(score=23)
    IndicatorResult.objects.filter(cycle=cycle, unit=moved).update(value=95)
    new = run_compute(cycle=cycle, actor=None)
    change = next(c for c in selectors.compare(old=old, new=new) if c.result.unit_id == moved.pk)
    text = " ".join(change.reasons)
    assert "评价主体“群众”的" in text and "样本不足，不予显示" in text
    assert "23" not in text and "80" not in text and "份" not in text


def test_the_excel_export_has_chinese_headers_names_and_local_time(scored: dict[str, Any]) -> None:
    run: ScoringRun = scored["run"]
    response = scored["client"].get(reverse("results:export"), {"run": run.pk})
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0][:6] == ["对象", "类别", "名次", "单位", "姓名", "总分"]
    assert "年度实绩" in rows[0] and "annual" not in rows[0]
    assert {r[1] for r in rows[1:]} == {"县市", "市直部门"}
    info = dict(tuple(r[:2]) for r in book.get_sheet_by_index(1).to_python())
    assert info["计算时间"] == timezone.localtime(run.created_at).strftime("%Y-%m-%d %H:%M:%S")


def test_a_ranking_is_paged_per_category_with_a_total_and_a_fixed_number_of_queries(
    scored: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jixiao.results import views

    client, run = scored["client"], scored["run"]
    url = reverse("results:ranking")
    with CaptureQueriesContext(connection) as small:  # 7 units
        client.get(url, {"run": run.pk, "category": "adept"})
    with CaptureQueriesContext(connection) as large:  # 20 units
        response = client.get(url, {"run": run.pk, "category": "zcounty"})
    assert len(large) == len(small)
    assert "本类别共 20 个领导班子" in response.content.decode()
    monkeypatch.setattr(views, "RANKING_PAGE_SIZE", 5)
    response = client.get(url, {"run": run.pk, "category": "zcounty", "subject": "official", "page": "2"})
    ranks = [r.rank for r, _prev in response.context["table"]]
    assert len(ranks) == 5 and ranks == sorted(ranks) and response.context["page"].number == 2
    assert "本类别共 20 名干部，本页第 6–10 条" in response.content.decode()
    official = scored["county"]["officials"][3]
    response = client.get(
        url, {"run": run.pk, "subject": "official", "category": "zcounty:official", "q": official.code}
    )
    assert [r.official_id for r, _prev in response.context["table"]] == [official.pk]


def test_the_ranking_may_show_500_rows_a_page_but_no_other_size(scored: dict[str, Any]) -> None:
    client, run = scored["client"], scored["run"]
    assert client.get(reverse("results:ranking"), {"run": run.pk, "size": "500"}).context["size"] == 500
    assert client.get(reverse("results:ranking"), {"run": run.pk, "size": "99999"}).context["size"] == 100
