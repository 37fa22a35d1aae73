"""A cycle's stages: opening starts 制定框架, the office moves forward and back (with a reason),
every move is audited, the planned dates are a form, and published targets freeze the framework."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from jixiao.accounts.audit import snapshot
from jixiao.accounts.models import AuditLog, Role, User
from jixiao.declarations.models import Declaration
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes import lifecycle, services
from jixiao.schemes.lifecycle import StageClosed
from jixiao.schemes.models import Cycle, CycleStage, CycleStagePlan, CycleStatus
from jixiao.schemes.tests.factories import ComponentFactory, CycleFactory, IndicatorFactory, SchemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office() -> User:
    user: User = UserFactory(role=Role.OFFICE)
    return user


def _open(year: int = 2026, stage: str = CycleStage.FRAMEWORK) -> Cycle:
    cycle: Cycle = CycleFactory(year=year, status=CycleStatus.OPEN, stage=stage)
    return cycle


def _stage_audits(cycle: Cycle) -> list[dict[str, object]]:
    rows = AuditLog.objects.filter(object_id=str(cycle.pk)).order_by("id")
    return [r.changes for r in rows if "stage" in r.changes]


def test_opening_a_draft_cycle_puts_it_in_the_framework_stage(office: User) -> None:
    cycle = CycleFactory(year=2026, status=CycleStatus.DRAFT, stage=CycleStage.TRACKING)
    lifecycle.cycle_open(actor=office, cycle=cycle)
    cycle.refresh_from_db()
    assert (cycle.status, cycle.stage) == (CycleStatus.OPEN, CycleStage.FRAMEWORK)
    assert _stage_audits(cycle) == [{"stage": ["tracking", "framework"]}]


def test_the_office_moves_a_cycle_through_all_six_stages_each_move_audited(office: User) -> None:
    cycle = _open()
    for _ in range(5):
        lifecycle.cycle_stage_advance(actor=office, cycle=cycle)
    cycle.refresh_from_db()
    assert cycle.stage == CycleStage.EVALUATION
    moves = [c["stage"] for c in _stage_audits(cycle)]
    assert moves == [
        ["framework", "declaration"],
        ["declaration", "review"],
        ["review", "publication"],
        ["publication", "tracking"],
        ["tracking", "evaluation"],
    ]
    with pytest.raises(ValidationError, match="已是最后一个阶段“年度评价”"):
        lifecycle.cycle_stage_advance(actor=office, cycle=cycle)


def test_moving_back_one_stage_needs_a_reason_kept_in_the_audit_log(office: User) -> None:
    cycle = _open(stage=CycleStage.PUBLICATION)
    with pytest.raises(ValidationError, match="须填写原因"):
        lifecycle.cycle_stage_back(actor=office, cycle=cycle, reason="  ")
    lifecycle.cycle_stage_back(actor=office, cycle=cycle, reason="生态区权重有误")
    cycle.refresh_from_db()
    assert cycle.stage == CycleStage.REVIEW
    assert _stage_audits(cycle)[-1] == {"stage": ["publication", "review"], "reason": "生态区权重有误"}


def test_the_first_stage_has_nothing_before_it(office: User) -> None:
    with pytest.raises(ValidationError, match="已是第一个阶段“制定框架”"):
        lifecycle.cycle_stage_back(actor=office, cycle=_open(), reason="x")


def test_only_an_open_cycle_changes_stage(office: User) -> None:
    for status in (CycleStatus.DRAFT, CycleStatus.CLOSED):
        cycle = CycleFactory(year=2020 if status == CycleStatus.DRAFT else 2021, status=status)
        with pytest.raises(ValidationError, match="只有进行中的周期可以调整阶段"):
            lifecycle.cycle_stage_advance(actor=office, cycle=cycle)


def test_only_the_office_moves_stages() -> None:
    cycle = _open()
    for role in (Role.AUDITOR, Role.LIAISON, Role.LEADER):
        with pytest.raises(PermissionDenied):
            lifecycle.cycle_stage_advance(actor=UserFactory(role=role), cycle=cycle)
    cycle.refresh_from_db()
    assert cycle.stage == CycleStage.FRAMEWORK


def test_assert_stage_names_the_stage_in_chinese() -> None:
    cycle = _open(stage=CycleStage.TRACKING)
    with pytest.raises(StageClosed, match="现处于“过程跟踪”阶段，不能提交申报（仅在单位申报阶段可以）"):
        lifecycle.assert_stage(cycle, [CycleStage.DECLARATION], "提交申报")


# --- the stage plan ----------------------------------------------------------------------------


def test_stage_plan_saves_dates_and_audits_what_changed(office: User) -> None:
    cycle = _open()
    dates = {
        CycleStage.FRAMEWORK.value: (date(2026, 1, 1), date(2026, 1, 31)),
        CycleStage.DECLARATION.value: (date(2026, 2, 1), date(2026, 2, 28)),
    }
    lifecycle.cycle_stage_plan_save(actor=office, cycle=cycle, dates=dates)
    plans = {p.stage: (p.opens_on, p.closes_on) for p in CycleStagePlan.objects.filter(cycle=cycle)}
    assert plans["framework"] == (date(2026, 1, 1), date(2026, 1, 31))
    assert plans["declaration"] == (date(2026, 2, 1), date(2026, 2, 28))
    audit = AuditLog.objects.filter(object_id=str(cycle.pk)).latest("id").changes
    assert audit["stage_plan"]["declaration"] == [[None, None], ["2026-02-01", "2026-02-28"]]


def test_stage_plan_refuses_an_end_before_the_start_and_out_of_order_stages(office: User) -> None:
    cycle = _open()
    bad = {
        CycleStage.FRAMEWORK.value: (date(2026, 3, 1), date(2026, 2, 1)),
        CycleStage.DECLARATION.value: (date(2026, 2, 15), None),
    }
    with pytest.raises(ValidationError) as caught:
        lifecycle.cycle_stage_plan_save(actor=office, cycle=cycle, dates=bad)
    assert "“制定框架”的结束日期早于开始日期" in caught.value.messages
    assert "“单位申报”的开始日期早于上一阶段“制定框架”的开始日期" in caught.value.messages
    assert not CycleStagePlan.objects.filter(cycle=cycle).exists()


def test_stage_plan_form_keeps_what_was_typed_and_explains_in_chinese(client: Client, office: User) -> None:
    cycle = _open()
    client.force_login(office)
    url = reverse("schemes:cycle_stage_plan", args=[cycle.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"opens__framework": "2026-01-10", "closes__framework": "2026-01-05",
                                 "opens__review": "不是日期"})  # fmt: skip
    assert response.status_code == 200
    text = response.content.decode()
    assert "“制定框架”的结束日期早于开始日期" not in text  # a bad field stops before the service
    assert "“目标审核开始”须为日期" in text
    assert 'value="2026-01-10"' in text
    response = client.post(url, {"opens__framework": "2026-01-01", "closes__framework": "2026-01-31"})
    assert response.status_code == 302
    assert CycleStagePlan.objects.get(cycle=cycle, stage="framework").closes_on == date(2026, 1, 31)


def test_cycle_page_shows_the_timeline_with_the_current_stage_dates_and_what_it_allows(
    client: Client, office: User
) -> None:
    cycle = _open(stage=CycleStage.DECLARATION)
    CycleStagePlan.objects.create(
        cycle=cycle, stage="declaration", opens_on=date(2026, 2, 1), closes_on=date(2026, 2, 28)
    )
    client.force_login(office)
    text = client.get(reverse("schemes:cycle_detail", args=[cycle.pk])).content.decode()
    assert 'class="current" aria-current="step"' in text
    assert "2026-02-01 ～ 2026-02-28" in text
    assert "各单位绩效员在框架指标下填报本单位的三四级目标并提交" in text
    assert "进入“目标审核”阶段" in text
    assert "退回“制定框架”阶段" in text


def test_stage_buttons_move_the_cycle_and_back_asks_for_a_reason(client: Client, office: User) -> None:
    cycle = _open()
    client.force_login(office)
    client.post(reverse("schemes:cycle_stage_next", args=[cycle.pk]))
    cycle.refresh_from_db()
    assert cycle.stage == CycleStage.DECLARATION
    back = reverse("schemes:cycle_stage_back", args=[cycle.pk])
    response = client.post(back, {"reason": ""})
    assert response.status_code == 200
    assert "未保存，请更正以下各项" in response.content.decode()
    cycle.refresh_from_db()
    assert cycle.stage == CycleStage.DECLARATION
    client.post(back, {"reason": "框架需补充一项"})
    cycle.refresh_from_db()
    assert cycle.stage == CycleStage.FRAMEWORK


def test_an_auditor_cannot_move_stages_or_plan_dates(client: Client) -> None:
    cycle = _open()
    client.force_login(UserFactory(role=Role.AUDITOR))
    assert client.post(reverse("schemes:cycle_stage_next", args=[cycle.pk])).status_code == 403
    assert client.get(reverse("schemes:cycle_stage_plan", args=[cycle.pk])).status_code == 403


# --- published targets freeze the framework ----------------------------------------------------


@pytest.fixture
def published() -> dict[str, object]:
    """A 2026 cycle in 过程跟踪 with one published declaration, a component and a 2-level tree."""
    cycle = _open(stage=CycleStage.TRACKING)
    scheme = SchemeFactory(cycle=cycle)
    component = ComponentFactory(scheme=scheme, weight=Decimal("100"))
    level1 = IndicatorFactory(scheme=scheme, component=component, name="经济发展")
    level2 = IndicatorFactory(scheme=scheme, component=component, parent=level1, name="财政收入")
    level3 = IndicatorFactory(scheme=scheme, component=component, parent=level2, name="税收占比")
    unit = UnitFactory(category=scheme.category)
    Declaration.objects.create(cycle=cycle, unit=unit, published_version=1, version=1)
    return {"cycle": cycle, "component": component, "level1": level1, "level2": level2, "level3": level3}


FROZEN = "目标已公布，框架指标、考核构成和权重不能再修改"


def test_published_targets_refuse_framework_weight_component_and_node_changes(
    office: User, published: dict[str, object]
) -> None:
    component = published["component"]
    before = snapshot(component)  # type: ignore[arg-type]
    component.weight = Decimal("90")  # type: ignore[attr-defined]
    with pytest.raises(StageClosed, match=FROZEN):
        services.scheme_part_save(actor=office, instance=component, before=before)  # type: ignore[type-var]
    with pytest.raises(StageClosed, match=FROZEN):
        services.indicator_update(actor=office, node=published["level2"], fields={"weight": Decimal("50")})  # type: ignore[arg-type]
    with pytest.raises(StageClosed, match=FROZEN):
        services.indicator_add_child(
            actor=office, scheme=published["level1"].scheme, parent=published["level1"], name="新增", weight=Decimal("1")  # type: ignore[attr-defined]
        )  # fmt: skip
    with pytest.raises(StageClosed, match=FROZEN):
        services.indicator_delete(actor=office, node=published["level1"])  # type: ignore[arg-type]


def test_published_targets_leave_level_three_of_the_office_tree_editable(
    office: User, published: dict[str, object]
) -> None:
    node = services.indicator_update(actor=office, node=published["level3"], fields={"name": "税收占比（%）"})  # type: ignore[arg-type]
    assert node.name == "税收占比（%）"


def test_moving_the_cycle_back_before_publication_reopens_the_framework(
    office: User, published: dict[str, object]
) -> None:
    cycle = published["cycle"]
    for _ in range(2):  # 过程跟踪 → 公布目标 → 目标审核
        lifecycle.cycle_stage_back(actor=office, cycle=cycle, reason="调整框架")  # type: ignore[arg-type]
    node = services.indicator_update(
        actor=office, node=published["level2"], fields={"weight": Decimal("100")}
    )  # type: ignore[arg-type]
    assert node.weight == Decimal("100")


def test_without_published_targets_a_tracking_cycle_keeps_its_framework_editable(office: User) -> None:
    cycle = _open(stage=CycleStage.TRACKING)
    scheme = SchemeFactory(cycle=cycle)
    node = IndicatorFactory(scheme=scheme, component=ComponentFactory(scheme=scheme))
    assert services.indicator_update(actor=office, node=node, fields={"name": "新名称"}).name == "新名称"


def test_the_tree_page_shows_the_framework_refusal_in_chinese(
    client: Client, office: User, published: dict[str, object]
) -> None:
    client.force_login(office)
    node = published["level2"]
    url = reverse("schemes:indicator_edit", args=[node.pk])  # type: ignore[attr-defined]
    response = client.post(url, {"name": "财政收入", "weight": "40", "kind": "base"}, follow=True)
    assert FROZEN in response.content.decode()


def test_a_framework_node_with_declared_targets_under_it_cannot_be_deleted(office: User) -> None:
    from jixiao.declarations.models import DeclaredIndicator

    cycle = _open(stage=CycleStage.DECLARATION)
    scheme = SchemeFactory(cycle=cycle)
    level1 = IndicatorFactory(scheme=scheme, component=ComponentFactory(scheme=scheme), name="经济发展")
    level2 = IndicatorFactory(scheme=scheme, component=level1.component, parent=level1, name="财政收入")
    draft = Declaration.objects.create(cycle=cycle, unit=UnitFactory(category=scheme.category))
    DeclaredIndicator.objects.create(
        declaration=draft, parent=level2, name="税收", rule_type="completion", weight=Decimal("100")
    )
    with pytest.raises(ValidationError, match="已有单位在指标“经济发展”下申报了目标，不能删除"):
        services.indicator_delete(actor=office, node=level1)
    assert level1.__class__.objects.filter(pk=level1.pk).exists()


def test_a_draft_cycle_with_a_stage_plan_can_still_be_deleted(office: User) -> None:
    cycle = CycleFactory(year=2030, status=CycleStatus.DRAFT)
    lifecycle.cycle_stage_plan_save(
        actor=office, cycle=cycle, dates={"framework": (date(2030, 1, 1), date(2030, 1, 31))}
    )
    lifecycle.cycle_delete(actor=office, cycle=cycle)
    assert not Cycle.objects.filter(year=2030).exists()
