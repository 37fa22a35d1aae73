"""A cycle's life: open, close, reopen with a reason; a closed cycle's schemes are read-only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from jixiao.accounts.audit import snapshot
from jixiao.accounts.models import AuditAction, AuditLog, Role, User
from jixiao.facts.models import Adjustment, AdjustmentKind
from jixiao.organisation.tests.factories import CategoryFactory, UnitFactory, UserFactory
from jixiao.schemes import lifecycle, services
from jixiao.schemes.lifecycle import CycleLocked
from jixiao.schemes.models import Component, Cycle, CycleStatus, IndicatorNode, Scheme
from jixiao.schemes.tests.factories import ComponentFactory, CycleFactory, IndicatorFactory, SchemeFactory

pytestmark = pytest.mark.django_db

LOCKED = "2024 年度考核已结束，数据只读；如需修改请由考核办重新开启"


@pytest.fixture
def office() -> User:
    user: User = UserFactory(role=Role.OFFICE)
    return user


@pytest.fixture
def closed() -> dict[str, object]:
    """A closed 2024 cycle with one scheme, a component of weight 100 and one indicator."""
    cycle = CycleFactory(year=2024, status=CycleStatus.CLOSED)
    scheme = SchemeFactory(cycle=cycle)
    component = ComponentFactory(scheme=scheme, name="年度实绩", weight=Decimal("100"))
    node = IndicatorFactory(component=component, scheme=scheme, name="财政收入", weight=Decimal("100"))
    return {"cycle": cycle, "scheme": scheme, "component": component, "node": node}


def _cycle(t: dict[str, object]) -> Cycle:
    cycle = t["cycle"]
    assert isinstance(cycle, Cycle)
    return cycle


def _component(t: dict[str, object]) -> Component:
    component = t["component"]
    assert isinstance(component, Component)
    return component


def _node(t: dict[str, object]) -> IndicatorNode:
    node = t["node"]
    assert isinstance(node, IndicatorNode)
    return node


# --- the guard in the services ------------------------------------------------------------------


def test_closed_cycle_refuses_weight_change(office: User, closed: dict[str, object]) -> None:
    component = _component(closed)
    before = snapshot(component)
    component.weight = Decimal("60")
    with pytest.raises(CycleLocked, match=LOCKED):
        services.scheme_part_save(actor=office, instance=component, before=before)
    component.refresh_from_db()
    assert component.weight == Decimal("100")


def test_closed_cycle_refuses_indicator_edit_add_move_and_delete(
    office: User, closed: dict[str, object]
) -> None:
    node = _node(closed)
    with pytest.raises(CycleLocked):
        services.indicator_update(actor=office, node=node, fields={"weight": Decimal("50")})
    with pytest.raises(CycleLocked):
        services.indicator_add_child(
            actor=office, scheme=node.scheme, parent=node, name="新指标", weight=Decimal("100")
        )
    with pytest.raises(CycleLocked):
        services.indicator_move(actor=office, node=node, direction=1)
    with pytest.raises(CycleLocked):
        services.indicator_delete(actor=office, node=node)
    node.refresh_from_db()
    assert (node.weight, IndicatorNode.objects.count()) == (Decimal("100"), 1)


def test_guard_reads_the_status_from_the_database_not_a_stale_instance(
    office: User, closed: dict[str, object]
) -> None:
    stale = Cycle.objects.get(pk=_cycle(closed).pk)
    Cycle.objects.filter(pk=stale.pk).update(status=CycleStatus.OPEN)
    lifecycle.assert_cycle_editable(stale)  # open in the database: no error
    Cycle.objects.filter(pk=stale.pk).update(status=CycleStatus.CLOSED)
    stale.status = CycleStatus.OPEN
    with pytest.raises(CycleLocked):
        lifecycle.assert_cycle_editable(stale)


def test_nothing_can_be_copied_into_a_closed_cycle(office: User, closed: dict[str, object]) -> None:
    source = SchemeFactory(cycle=CycleFactory(year=2023))
    with pytest.raises(CycleLocked):
        services.scheme_copy(actor=office, source=source, cycle=_cycle(closed))


# --- the actions --------------------------------------------------------------------------------


def test_open_then_close_are_audited_transitions(office: User) -> None:
    cycle = CycleFactory(year=2026)
    assert cycle.status == CycleStatus.DRAFT
    lifecycle.cycle_open(actor=office, cycle=cycle)
    lifecycle.cycle_close(actor=office, cycle=cycle)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.CLOSED
    changes = list(
        AuditLog.objects.filter(object_type="schemes.cycle", object_id=str(cycle.pk), actor=office)
        .order_by("id")
        .values_list("changes", flat=True)
    )
    assert changes == [{"status": ["draft", "open"]}, {"status": ["open", "closed"]}]


def test_a_cycle_cannot_skip_a_state(office: User) -> None:
    cycle = CycleFactory(year=2026)
    with pytest.raises(ValidationError, match="只有“进行中”的周期"):
        lifecycle.cycle_close(actor=office, cycle=cycle)
    with pytest.raises(ValidationError, match="只有“已结束”的周期"):
        lifecycle.cycle_reopen(actor=office, cycle=cycle, reason="x")


def test_reopening_needs_a_reason(office: User, closed: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="须填写原因"):
        lifecycle.cycle_reopen(actor=office, cycle=_cycle(closed), reason="  ")
    assert Cycle.objects.get(pk=_cycle(closed).pk).status == CycleStatus.CLOSED


def test_reopening_with_a_reason_is_audited_and_allows_changes_again(
    office: User, closed: dict[str, object]
) -> None:
    cycle = _cycle(closed)
    lifecycle.cycle_reopen(actor=office, cycle=cycle, reason="复核发现财政收入录入错误")
    entry = AuditLog.objects.get(object_type="schemes.cycle", object_id=str(cycle.pk))
    assert entry.action == AuditAction.UPDATE
    assert entry.changes == {"status": ["closed", "open"], "reason": "复核发现财政收入录入错误"}
    services.indicator_update(actor=office, node=_node(closed), fields={"weight": Decimal("90")})
    assert IndicatorNode.objects.get(pk=_node(closed).pk).weight == Decimal("90")


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.LIAISON, Role.LEADER, Role.LEAD_DEPT, Role.OFFICIAL])
def test_only_the_office_moves_a_cycle_in_the_services(role: Role, closed: dict[str, object]) -> None:
    user = UserFactory(role=role)
    draft = CycleFactory(year=2026)
    with pytest.raises(PermissionDenied):
        lifecycle.cycle_open(actor=user, cycle=draft)
    with pytest.raises(PermissionDenied):
        lifecycle.cycle_reopen(actor=user, cycle=_cycle(closed), reason="想改")
    with pytest.raises(PermissionDenied):
        lifecycle.cycle_delete(actor=user, cycle=draft)


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.LIAISON, Role.LEADER, Role.LEAD_DEPT])
def test_only_the_office_opens_closes_reopens_or_deletes_a_cycle_from_the_ui(
    client: Client, role: Role, closed: dict[str, object]
) -> None:
    client.force_login(UserFactory(role=role))
    draft = CycleFactory(year=2026)
    opened = CycleFactory(year=2025, status=CycleStatus.OPEN)
    cycle = _cycle(closed)
    assert client.post(reverse("schemes:cycle_open", args=[draft.pk])).status_code == 403
    assert client.post(reverse("schemes:cycle_close", args=[opened.pk])).status_code == 403
    assert client.get(reverse("schemes:cycle_reopen", args=[cycle.pk])).status_code == 403
    assert client.post(reverse("schemes:cycle_reopen", args=[cycle.pk]), {"reason": "x"}).status_code == 403
    assert client.post(reverse("schemes:cycle_delete", args=[draft.pk])).status_code == 403
    statuses = dict(Cycle.objects.values_list("year", "status"))
    assert statuses == {2024: "closed", 2025: "open", 2026: "draft"}


# --- the pages ----------------------------------------------------------------------------------


def test_office_closes_a_cycle_from_its_page_and_the_page_then_hides_the_edit_buttons(
    client: Client, office: User
) -> None:
    cycle = CycleFactory(year=2025, status=CycleStatus.OPEN)
    scheme = SchemeFactory(cycle=cycle)
    client.force_login(office)
    response = client.post(reverse("schemes:cycle_close", args=[cycle.pk]), follow=True)
    page = response.content.decode()
    assert "数据已锁定为只读" in page
    assert 'id="cycle-locked"' in page
    assert reverse("schemes:scheme_create", args=[cycle.pk]) not in page
    assert reverse("schemes:cycle_reopen", args=[cycle.pk]) in page
    detail = client.get(reverse("schemes:scheme_detail", args=[scheme.pk])).content.decode()
    assert reverse("schemes:scheme_edit", args=[scheme.pk]) not in detail
    assert reverse("schemes:component_create", args=[scheme.pk]) not in detail


def test_closed_cycle_weight_change_from_the_form_shows_the_chinese_message(
    client: Client, office: User, closed: dict[str, object]
) -> None:
    component = _component(closed)
    client.force_login(office)
    response = client.post(
        reverse("schemes:component_edit", args=[component.pk]),
        {"code": component.code, "name": component.name, "weight": "60", "order": "0", "subject": "team",
         "source": "indicators"},
    )  # fmt: skip
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    component.refresh_from_db()
    assert component.weight == Decimal("100")


def test_closed_cycle_indicator_edit_and_delete_from_the_tree_show_the_message(
    client: Client, office: User, closed: dict[str, object]
) -> None:
    node = _node(closed)
    client.force_login(office)
    response = client.post(
        reverse("schemes:indicator_edit", args=[node.pk]),
        {"name": "改名", "weight": "50", "kind": "base", "rule_type": ""},
    )
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    response = client.post(reverse("schemes:indicator_delete", args=[node.pk]), follow=True)
    assert LOCKED in response.content.decode()
    assert IndicatorNode.objects.filter(pk=node.pk, name="财政收入").exists()


def test_reopen_page_requires_a_reason_and_records_it(
    client: Client, office: User, closed: dict[str, object]
) -> None:
    cycle = _cycle(closed)
    client.force_login(office)
    url = reverse("schemes:cycle_reopen", args=[cycle.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert Cycle.objects.get(pk=cycle.pk).status == CycleStatus.CLOSED
    response = client.post(url, {"reason": "更正数据"})
    assert response.status_code == 302
    assert Cycle.objects.get(pk=cycle.pk).status == CycleStatus.OPEN
    assert AuditLog.objects.filter(object_type="schemes.cycle", changes__reason="更正数据").exists()


def test_cycle_form_no_longer_changes_the_status(client: Client, office: User) -> None:
    cycle = CycleFactory(year=2025, status=CycleStatus.OPEN)
    client.force_login(office)
    response = client.post(
        reverse("schemes:cycle_edit", args=[cycle.pk]), {"year": 2025, "name": "改名", "status": "closed"}
    )
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert (cycle.name, cycle.status) == ("改名", CycleStatus.OPEN)


# --- deleting a draft ---------------------------------------------------------------------------


def test_a_draft_with_only_schemes_is_deleted_with_them_and_audited(office: User) -> None:
    draft = CycleFactory(year=2026)
    SchemeFactory(cycle=draft)
    pk = draft.pk
    lifecycle.cycle_delete(actor=office, cycle=draft)
    assert not Cycle.objects.filter(pk=pk).exists()
    assert not Scheme.objects.filter(cycle_id=pk).exists()
    entry = AuditLog.objects.get(action=AuditAction.DELETE, object_type="schemes.cycle", object_id=str(pk))
    assert entry.changes["schemes"] == 1


def test_a_draft_with_facts_is_not_deleted_and_the_refusal_names_them(client: Client, office: User) -> None:
    draft = CycleFactory(year=2026)
    Adjustment.objects.create(
        cycle=draft, unit=UnitFactory(), kind=AdjustmentKind.DEDUCTION, points=1, source="督查", reason="x"
    )
    with pytest.raises(ValidationError, match="已有加减分与否决 1 条，不能删除"):
        lifecycle.cycle_delete(actor=office, cycle=draft)
    client.force_login(office)
    response = client.post(reverse("schemes:cycle_delete", args=[draft.pk]), follow=True)
    assert "不能删除" in response.content.decode()
    assert Cycle.objects.filter(pk=draft.pk).exists()


def test_an_open_cycle_is_not_deleted(office: User) -> None:
    cycle = CycleFactory(year=2025, status=CycleStatus.OPEN)
    with pytest.raises(ValidationError, match="只能删除“筹备”中的考核周期"):
        lifecycle.cycle_delete(actor=office, cycle=cycle)


def test_office_deletes_an_empty_draft_from_its_page(client: Client, office: User) -> None:
    draft = CycleFactory(year=2026)
    client.force_login(office)
    page = client.get(reverse("schemes:cycle_detail", args=[draft.pk])).content.decode()
    assert reverse("schemes:cycle_delete", args=[draft.pk]) in page
    response = client.post(reverse("schemes:cycle_delete", args=[draft.pk]))
    assert response.status_code == 302
    assert not Cycle.objects.filter(pk=draft.pk).exists()


# --- copying one scheme -------------------------------------------------------------------------


def test_office_copies_one_scheme_into_another_cycle_and_category(client: Client, office: User) -> None:
    source_category = CategoryFactory(name="县市")
    target_category = CategoryFactory(name="市直部门")
    source = SchemeFactory(
        cycle=CycleFactory(year=2024, status=CycleStatus.CLOSED),
        category=source_category,
        name="2024年县市考核方案",
    )
    component = ComponentFactory(scheme=source, weight=Decimal("100"))
    IndicatorFactory(component=component, scheme=source, name="财政收入")
    target = CycleFactory(year=2026)
    client.force_login(office)
    url = reverse("schemes:scheme_copy", args=[source.pk])
    form = client.get(url).context["form"]
    assert list(form.fields["cycle"].queryset) == [target]  # a closed cycle is not offered
    response = client.post(url, {"cycle": target.pk, "category": target_category.pk})
    copy = Scheme.objects.get(cycle=target)
    assert response.status_code == 302
    assert response["Location"] == reverse("schemes:scheme_detail", args=[copy.pk])
    assert (copy.category, copy.name, copy.copied_from) == (target_category, "2026年市直部门考核方案", source)
    assert list(copy.indicators.values_list("name", flat=True)) == ["财政收入"]
    assert AuditLog.objects.filter(object_type="schemes.scheme", object_id=str(copy.pk)).exists()


def test_copying_onto_a_category_the_cycle_already_has_is_refused_with_a_message(
    client: Client, office: User
) -> None:
    target = CycleFactory(year=2026)
    source = SchemeFactory(cycle=CycleFactory(year=2025, status=CycleStatus.OPEN))
    SchemeFactory(cycle=target, category=source.category)
    client.force_login(office)
    response = client.post(
        reverse("schemes:scheme_copy", args=[source.pk]), {"cycle": target.pk, "category": source.category_id}
    )
    assert response.status_code == 200
    assert "该周期已有此类别的方案" in response.content.decode()
    assert Scheme.objects.filter(cycle=target).count() == 1


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.LIAISON, Role.LEAD_DEPT])
def test_only_the_office_copies_a_scheme(client: Client, role: Role) -> None:
    source = SchemeFactory(cycle=CycleFactory(year=2025))
    target = CycleFactory(year=2026)
    client.force_login(UserFactory(role=role))
    url = reverse("schemes:scheme_copy", args=[source.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"cycle": target.pk, "category": source.category_id}).status_code == 403
    assert not Scheme.objects.filter(cycle=target).exists()
