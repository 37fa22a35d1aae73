"""The home page shows each role its own to-dos, with bounded queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.evaluations.models import EvaluationEvent, EventStatus
from jixiao.facts.models import Adjustment, AdjustmentKind, IndicatorResult
from jixiao.organisation.models import Unit
from jixiao.organisation.tests.factories import CategoryFactory, OfficialFactory, UnitFactory, UserFactory
from jixiao.results.models import EntityResult, ResultSubject, ScoringRun
from jixiao.schemes.models import Cycle, CycleStatus, IndicatorNode, Scheme
from jixiao.schemes.tests.factories import ComponentFactory, CycleFactory, IndicatorFactory, SchemeFactory
from jixiao.surveys.models import SampleReminder
from jixiao.web.selectors import TODO_LIMIT, TodoGroup

pytestmark = pytest.mark.django_db


@dataclass
class World:
    open_cycle: Cycle
    closed_cycle: Cycle
    scheme: Scheme
    counties: list[Unit]
    lead: Unit
    led: list[IndicatorNode]  # leaves the lead department leads


def _run(cycle: Cycle, number: int = 1) -> ScoringRun:
    return ScoringRun.objects.create(
        cycle=cycle, number=number, engine_version="t", input_digest="0" * 64, output_digest="0" * 64
    )


def _world(*, units: int = 3, leaves: int = 3) -> World:
    county = CategoryFactory(name="县市")
    dept = CategoryFactory(name="市直部门")
    counties = [UnitFactory(category=county, name=f"第{i}县") for i in range(units)]
    lead = UnitFactory(category=dept, name="市统计局")
    closed = CycleFactory(year=2024, status=CycleStatus.CLOSED)
    cycle = CycleFactory(year=2025, status=CycleStatus.OPEN)
    scheme = SchemeFactory(cycle=cycle, category=county, name="2025年县市考核方案")
    component = ComponentFactory(scheme=scheme, weight=Decimal("100"))
    root = IndicatorFactory(scheme=scheme, component=component, name="经济发展", code="1")
    led = [
        IndicatorFactory(
            scheme=scheme,
            component=component,
            parent=root,
            name=f"指标{i}",
            code=f"1.{i}",
            lead_unit=lead,
            weight=Decimal(100) / leaves,
        )
        for i in range(leaves)
    ]
    return World(cycle, closed, scheme, counties, lead, led)


def _todos(client: Client, user: User) -> dict[str, TodoGroup]:
    client.force_login(user)
    response = client.get(reverse("web:home"))
    assert response.status_code == 200
    return {g.title.split(" · ")[0]: g for g in response.context["todos"]}


def _texts(group: TodoGroup) -> list[str]:
    return [t.text for t in group.items]


def test_lead_department_sees_each_led_indicator_still_to_enter_with_units_left(client: Client) -> None:
    world = _world()
    first = world.led[0]
    for unit in world.counties:
        IndicatorResult.objects.create(cycle=world.open_cycle, indicator=first, unit=unit, value=1)
    IndicatorResult.objects.create(
        cycle=world.open_cycle, indicator=world.led[1], unit=world.counties[0], value=1
    )
    IndicatorFactory(scheme=world.scheme, component=world.led[0].component, name="别人的指标")
    user = UserFactory(role=Role.LEAD_DEPT, unit=world.lead)
    group = _todos(client, user)["待录入的指标完成情况"]
    assert _texts(group) == ["指标1（县市）：已录 1 / 3 个单位", "指标2（县市）：已录 0 / 3 个单位"]
    assert group.items[0].url == reverse("facts:indicator_results", args=[world.led[1].pk])
    assert "summary" not in client.get(reverse("web:home")).context


def test_lead_department_without_an_open_cycle_is_told_so(client: Client) -> None:
    world = _world()
    Cycle.objects.filter(pk=world.open_cycle.pk).update(status=CycleStatus.CLOSED)
    group = _todos(client, UserFactory(role=Role.LEAD_DEPT, unit=world.lead))["待录入的指标完成情况"]
    assert group.items == [] and group.empty == "当前没有进行中的考核周期"


def test_liaison_sees_its_units_missing_items_adjustments_samples_and_published_result(
    client: Client,
) -> None:
    world = _world()
    mine, other = world.counties[0], world.counties[1]
    IndicatorResult.objects.create(cycle=world.open_cycle, indicator=world.led[0], unit=mine, value=1)
    IndicatorResult.objects.create(cycle=world.open_cycle, indicator=world.led[1], unit=other, value=1)
    common = {"cycle": world.open_cycle, "kind": AdjustmentKind.DEDUCTION, "points": 0.5, "source": "督查"}
    Adjustment.objects.create(unit=mine, reason="安全生产事故", **common)
    Adjustment.objects.create(unit=other, reason="别的县", **common)
    SampleReminder.objects.create(
        unit=mine, window_start=date(2025, 1, 1), window_end=date(2025, 6, 30), count=3, threshold=30
    )
    run = _run(world.closed_cycle)
    EntityResult.objects.create(
        run=run,
        subject=ResultSubject.UNIT,
        unit=mine,
        category="county",
        total=91.23456,
        rank=2,
        grade="优秀",
    )
    EntityResult.objects.create(
        run=run, subject=ResultSubject.UNIT, unit=other, category="county", total=80, rank=5
    )
    groups = _todos(client, UserFactory(role=Role.LIAISON, unit=mine))
    assert _texts(groups["本单位尚缺的指标完成情况"]) == ["指标1：待市统计局录入", "指标2：待市统计局录入"]
    assert [t.text for t in groups["涉及本单位的加减分与否决（请核对）"].items] == [
        "扣分 0.5 分：安全生产事故"
    ]
    assert "有效评价 3 条，少于 30 条" in groups["群众评价样本"].items[0].text
    assert _texts(groups["本单位考核结果"]) == ["2024年度考核：总分 91.23，类别内第 2 名，等次 优秀"]


def test_liaison_sees_no_result_of_a_cycle_still_open(client: Client) -> None:
    world = _world()
    run = _run(world.open_cycle)
    EntityResult.objects.create(
        run=run, subject=ResultSubject.UNIT, unit=world.counties[0], category="c", total=90, rank=1
    )
    group = _todos(client, UserFactory(role=Role.LIAISON, unit=world.counties[0]))["本单位考核结果"]
    assert group.items == [] and group.empty == "暂无已发布的结果"


def test_official_gets_a_link_to_their_own_breakdown_once_a_run_exists(client: Client) -> None:
    world = _world()
    official = OfficialFactory(unit=world.counties[0])
    user = UserFactory(role=Role.OFFICIAL, unit=official.unit, official=official)
    assert _todos(client, user)["我的考核结果"].items == []
    run = _run(world.open_cycle)
    result = EntityResult.objects.create(
        run=run,
        subject=ResultSubject.OFFICIAL,
        unit=official.unit,
        official=official,
        category="c",
        total=88,
        rank=3,
    )
    EntityResult.objects.create(
        run=run,
        subject=ResultSubject.OFFICIAL,
        unit=official.unit,
        official=OfficialFactory(unit=official.unit),
        category="c",
        total=99,
        rank=1,
    )
    group = _todos(client, user)["我的考核结果"]
    assert [t.url for t in group.items] == [reverse("results:breakdown", args=[result.pk])]
    assert "第 3 名" in group.items[0].text


def test_office_sees_draft_cycles_unscored_open_cycles_weight_problems_events_and_samples(
    client: Client,
) -> None:
    world = _world(leaves=3)
    IndicatorNode.objects.filter(pk=world.led[0].pk).update(weight=Decimal("10"))
    CycleFactory(year=2026, status=CycleStatus.DRAFT)
    now = timezone.now()
    EvaluationEvent.objects.create(
        cycle=world.open_cycle,
        name="年度民主测评",
        status=EventStatus.OPEN,
        closes_at=now - timedelta(hours=1),
    )
    EvaluationEvent.objects.create(
        cycle=world.open_cycle, name="下半年测评", status=EventStatus.OPEN, closes_at=now + timedelta(days=3)
    )
    EvaluationEvent.objects.create(cycle=world.open_cycle, name="筹备中", closes_at=now)
    SampleReminder.objects.create(
        unit=world.counties[1],
        window_start=date(2025, 1, 1),
        window_end=date(2025, 6, 30),
        count=4,
        threshold=30,
    )
    groups = _todos(client, UserFactory(role=Role.OFFICE))
    assert _texts(groups["考核周期"]) == [
        "2025年度考核进行中，尚未计分",
        "2026年度考核尚在筹备：完成方案后开启",
    ]
    weight = groups["方案权重问题"].items
    assert len(weight) == 1 and weight[0].url == reverse("schemes:scheme_detail", args=[world.scheme.pk])
    assert "经济发展" in weight[0].text
    events = groups["民主测评"].items
    assert [e.text for e in events] == ["年度民主测评：已到截止时间，可结束并计票", "下半年测评：测评进行中"]
    assert events[0].urgent and events[1].due is not None
    assert _texts(groups["样本不足提醒"]) == ["第1县：有效评价 4 条，少于 30 条"]
    _run(world.open_cycle)
    groups = _todos(client, UserFactory(role=Role.OFFICE))
    assert _texts(groups["考核周期"]) == ["2026年度考核尚在筹备：完成方案后开启"]


def test_office_keeps_the_registry_chart_below_its_to_dos(client: Client) -> None:
    _world()
    client.force_login(UserFactory(role=Role.OFFICE))
    response = client.get(reverse("web:home"))
    assert response.context["summary"]["unit_count"] == 4
    page = response.content.decode()
    assert page.index("todo-group") < page.index("category-chart")


def test_auditor_sees_recent_exports_and_runs_and_leader_sees_results_to_read(client: Client) -> None:
    world = _world()
    office = UserFactory(role=Role.OFFICE, username="kaohe")
    audit_record(actor=office, action=AuditAction.EXPORT, object_repr="初始密码（3 个账户）")
    audit_record(actor=office, action=AuditAction.UPDATE, object_repr="不该出现")
    _run(world.closed_cycle)
    groups = _todos(client, UserFactory(role=Role.AUDITOR))
    assert _texts(groups["近期导出、导入与重置密码"]) == ["kaohe 导出 初始密码（3 个账户）"]
    assert _texts(groups["最近的计分批次"]) == ["2024年度考核 第 1 批计分：0 个对象"]
    leader = _todos(client, UserFactory(role=Role.LEADER))
    assert leader["待阅考核结果"].items[0].url == reverse("results:ranking") + "?year=2024"
    # Past events carry the time they happened, never a deadline.
    assert all(t.due is None and t.at is not None for t in groups["近期导出、导入与重置密码"].items)
    audit_record(actor=None, action=AuditAction.IMPORT, object_repr="群众评价计入测评得分")
    client.force_login(UserFactory(role=Role.AUDITOR))
    page = client.get(reverse("web:home")).content.decode()
    assert "截止" not in page and "系统 导入 群众评价计入测评得分" in page


def _grow(world: World, *, units: int, leaves: int) -> None:
    """Many more units, leaves, results, events and reminders: the query count must not move."""
    county = world.counties[0].category
    extra = [UnitFactory.build(category=county, region=world.counties[0].region) for _ in range(units)]
    for i, unit in enumerate(extra):
        unit.code, unit.name = f"G{i:05d}", f"加县{i}"
    Unit.objects.bulk_create(extra)
    component = world.led[0].component
    parent = world.led[0].parent
    nodes = IndicatorNode.objects.bulk_create(
        IndicatorNode(
            scheme=world.scheme,
            component=component,
            parent=parent,
            level=2,
            name=f"加指标{i}",
            code=f"9.{i}",
            weight=Decimal("1"),
            lead_unit=world.lead,
        )
        for i in range(leaves)
    )
    all_units = list(Unit.objects.filter(category=county))
    IndicatorResult.objects.bulk_create(
        IndicatorResult(cycle=world.open_cycle, indicator=node, unit=unit, value=1)
        for node in nodes[: leaves // 2]
        for unit in all_units
    )
    now = timezone.now()
    EvaluationEvent.objects.bulk_create(
        EvaluationEvent(cycle=world.open_cycle, name=f"测评{i}", status=EventStatus.OPEN, closes_at=now)
        for i in range(TODO_LIMIT * 2)
    )
    SampleReminder.objects.bulk_create(
        SampleReminder(
            unit=u, window_start=date(2025, 1, 1), window_end=date(2025, 6, 30), count=1, threshold=30
        )
        for u in all_units
    )
    Adjustment.objects.bulk_create(
        Adjustment(
            cycle=world.open_cycle,
            unit=world.counties[0],
            kind=AdjustmentKind.BONUS,
            points=1,
            source="s",
            reason="r",
        )
        for _ in range(TODO_LIMIT * 2)
    )


@pytest.mark.parametrize(
    ("role", "queries"),
    [
        # session, user, the user's unit (the greeting), the navigation's unread count, the unread
        # notifications, then the role's own to-dos
        # office: + the last ledger verification, the declarations awaiting review, the zone weights
        # + the supervision tasks waiting for a rating and the extensions to decide (with the cycle)
        (Role.OFFICE, 22),
        (Role.LEAD_DEPT, 8),  # + the declarations awaiting its review
        (Role.LIAISON, 14),  # + the unit's declaration (目标申报), its supervision tasks (+ policy)
        (Role.OFFICIAL, 6),
        (Role.LEADER, 7),  # + the declarations awaiting review
        (Role.AUDITOR, 7),
    ],
)
def test_home_page_queries_stay_bounded_as_the_data_grows(
    client: Client, django_assert_max_num_queries: Any, role: Role, queries: int
) -> None:
    world = _world()
    unit = world.lead if role == Role.LEAD_DEPT else world.counties[0]
    official = OfficialFactory(unit=unit) if role == Role.OFFICIAL else None
    user = UserFactory(role=role, unit=unit, official=official)
    client.force_login(user)
    with django_assert_max_num_queries(queries):
        assert client.get(reverse("web:home")).status_code == 200
    _grow(world, units=60, leaves=40)
    with django_assert_max_num_queries(queries):
        response = client.get(reverse("web:home"))
    if role == Role.LEAD_DEPT:
        group = response.context["todos"][-1]
        assert len(group.items) == TODO_LIMIT and group.more


def test_a_notification_due_on_a_day_shows_its_date_on_the_home_page(client: Client) -> None:
    from jixiao.notifications.services import notify

    user = UserFactory(role=Role.LIAISON, unit=UnitFactory())
    notify(recipients=[user], cause="test:due-day", title="请提交复盘说明", due=date(2026, 12, 17))
    client.force_login(user)
    page = client.get(reverse("web:home"))
    assert page.status_code == 200
    assert "请提交复盘说明" in page.content.decode() and "2026-12-17" in page.content.decode()
