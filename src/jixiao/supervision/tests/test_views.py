"""督查督办 pages: each role sees its own scope, forms keep typed input on error, and a rated task
moves the lead unit's next score with the breakdown naming the task."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.facts.models import Adjustment, IndicatorResult
from jixiao.organisation.tests.factories import CategoryFactory, UnitFactory, UserFactory
from jixiao.results.models import EntityResult
from jixiao.results.selectors import entity_explanation
from jixiao.results.services import run_compute
from jixiao.schemes.models import Component
from jixiao.schemes.tests.factories import IndicatorFactory, SchemeFactory
from jixiao.supervision import services
from jixiao.supervision.models import RatingLevel, SupervisionTask, TaskStatus
from jixiao.tracking.tests.factories import TrackingCycleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict:
    cycle = TrackingCycleFactory()
    lead, other = UnitFactory(name="市住建局"), UnitFactory(name="市水利局")
    office = UserFactory(role=Role.OFFICE)
    task = services.task_create(
        actor=office, cycle=cycle, title="老旧小区改造", lead_unit=lead, deadline=date(2026, 12, 31),
        assigned_on=date(2026, 3, 1),
    )  # fmt: skip
    theirs = services.task_create(
        actor=office, cycle=cycle, title="河道整治", lead_unit=other, deadline=date(2026, 12, 31),
        assigned_on=date(2026, 3, 1),
    )  # fmt: skip
    return {
        "cycle": cycle,
        "lead": lead,
        "office": office,
        "task": task,
        "theirs": theirs,
        "liaison": UserFactory(role=Role.LIAISON, unit=lead),
        "auditor": UserFactory(role=Role.AUDITOR),
        "official": UserFactory(role=Role.OFFICIAL, unit=lead),
    }


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_the_office_lists_every_task_with_its_light_and_a_liaison_only_its_units(world: dict) -> None:
    url = reverse("supervision:task_list") + "?year=2026"
    office = _client(world["office"]).get(url)
    assert office.status_code == 200
    body = office.content.decode()
    assert "老旧小区改造" in body and "河道整治" in body and "交办督查事项" in body
    liaison = _client(world["liaison"]).get(url).content.decode()
    assert "老旧小区改造" in liaison and "河道整治" not in liaison and "交办督查事项" not in liaison


def test_another_units_task_is_a_404_and_an_official_has_no_supervision_page(world: dict) -> None:
    liaison = _client(world["liaison"])
    assert liaison.get(reverse("supervision:task_detail", args=[world["theirs"].pk])).status_code == 404
    assert liaison.post(reverse("supervision:task_sign", args=[world["theirs"].pk])).status_code == 404
    official = _client(world["official"])
    assert official.get(reverse("supervision:task_list")).status_code == 403
    assert official.get(reverse("supervision:task_detail", args=[world["task"].pk])).status_code == 403


def test_home_pages_list_the_tasks_to_sign_and_to_rate(world: dict) -> None:
    world["cycle"].status = "open"
    world["cycle"].save()
    home = _client(world["liaison"]).get(reverse("web:home")).content.decode()
    assert "本单位牵头的督查事项" in home and "老旧小区改造：待签收" in home and "河道整治" not in home
    services.task_sign(actor=world["liaison"], task=world["task"])
    services.task_report(actor=world["liaison"], task=world["task"], text="完成", progress=100, final=True)
    office = _client(world["office"]).get(reverse("web:home")).content.decode()
    assert "督查事项待评定" in office and "老旧小区改造（市住建局）" in office


def test_the_auditor_reads_but_every_post_is_refused(world: dict) -> None:
    auditor = _client(world["auditor"])
    assert auditor.get(reverse("supervision:task_detail", args=[world["task"].pk])).status_code == 200
    level = RatingLevel.objects.filter(cycle=world["cycle"]).first()
    response = auditor.post(reverse("supervision:task_rate", args=[world["task"].pk]), {"rating": level.pk})
    assert response.status_code == 403
    assert auditor.get(reverse("supervision:task_create")).status_code == 403


def test_a_bad_deadline_redisplays_the_form_with_everything_typed(world: dict) -> None:
    office = _client(world["office"])
    response = office.post(
        reverse("supervision:task_create"),
        {"year": "2026", "title": "营商环境问题整改", "source": "meeting", "lead_unit": world["lead"].pk,
         "priority": "normal", "deadline": "2020-01-01"},
    )  # fmt: skip
    assert response.status_code == 200
    body = response.content.decode()
    assert "办结时限不能早于交办日期" in body and 'value="营商环境问题整改"' in body
    assert SupervisionTask.objects.count() == 2


def test_from_sign_to_rating_in_the_pages(world: dict) -> None:
    liaison, office = _client(world["liaison"]), _client(world["office"])
    task = world["task"]
    page = liaison.get(reverse("supervision:task_detail", args=[task.pk])).content.decode()
    assert 'id="sign"' in page
    liaison.post(reverse("supervision:task_sign", args=[task.pk]))
    bad = liaison.post(
        reverse("supervision:task_report", args=[task.pk]), {"text": "完成", "progress": "90", "final": "on"}
    )
    assert "申请办结时进度应为 100%" in bad.content.decode()  # the typed text stays
    assert "完成" in bad.content.decode()
    liaison.post(
        reverse("supervision:task_report", args=[task.pk]),
        {"text": "全部完成", "progress": "100", "final": "on"},
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.SUBMITTED
    late = RatingLevel.objects.get(cycle=world["cycle"], label="逾期办结")
    office.post(reverse("supervision:task_rate", args=[task.pk]), {"rating": late.pk, "comment": "超期"})
    task.refresh_from_db()
    assert task.status == TaskStatus.RATED and task.adjustment is not None
    detail = liaison.get(reverse("supervision:task_detail", args=[task.pk])).content.decode()
    assert "逾期办结" in detail and "扣 1 分" in detail


def test_a_rated_task_lowers_the_next_run_and_the_breakdown_names_it() -> None:
    cycle = TrackingCycleFactory(year=2025)
    category = CategoryFactory(code="dept")
    scheme = SchemeFactory(cycle=cycle, category=category)
    annual = Component.objects.create(scheme=scheme, code="annual", name="年度实绩", weight=Decimal("100"))
    leaf = IndicatorFactory(component=annual, rule_type="completion", rule_params={"cap": 1.0})
    units = [UnitFactory(category=category) for _ in range(3)]
    for unit in units:
        IndicatorResult.objects.create(cycle=cycle, unit=unit, indicator=leaf, value=80, target=100)
    office = UserFactory(role=Role.OFFICE)
    before = run_compute(cycle=cycle, actor=office)
    old = EntityResult.objects.get(run=before, unit=units[0]).total
    task = services.task_create(
        actor=office, cycle=cycle, title="重点项目按期开工", lead_unit=units[0], deadline=date(2025, 9, 30),
        assigned_on=date(2025, 6, 1),
    )  # fmt: skip
    services.task_rate(actor=office, task=task, level=RatingLevel.objects.get(cycle=cycle, label="未办结"))
    after = run_compute(cycle=cycle, actor=office)
    result = EntityResult.objects.get(run=after, unit=units[0])
    assert result.total == pytest.approx(old - 3)
    assert EntityResult.objects.get(run=after, unit=units[1]).total == pytest.approx(old)
    explained = entity_explanation(result)
    assert [a["source"] for a in explained["adjustments"]] == [f"督查督办 {task.number}"]
    assert Adjustment.objects.get().supervision_task == task
