from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from jixiao.accounts.models import AuditAction, AuditLog
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes import services, tree_services
from jixiao.schemes.models import (
    Component,
    GradeLevel,
    GradingPolicy,
    GradingRule,
    IndicatorKind,
    IndicatorNode,
    Scheme,
    Subject,
)
from jixiao.schemes.selectors import weight_problems
from jixiao.schemes.tests.factories import (
    ComponentFactory,
    CycleFactory,
    IndicatorFactory,
    LibraryEntryFactory,
    SchemeFactory,
)

pytestmark = pytest.mark.django_db


def _chain(depth: int) -> list[IndicatorNode]:
    """A single path of ``depth`` nodes, level 1 to ``depth``."""
    nodes = [IndicatorFactory()]
    for _ in range(depth - 1):
        nodes.append(IndicatorFactory(parent=nodes[-1], component=nodes[-1].component))
    return nodes


def test_weight_problems_is_empty_when_every_level_sums_to_100() -> None:
    root = IndicatorFactory(weight=Decimal("100"))
    IndicatorFactory(parent=root, component=root.component, weight=Decimal("60"))
    IndicatorFactory(parent=root, component=root.component, weight=Decimal("40"))
    assert weight_problems(scheme=root.scheme) == []


def test_weight_problems_names_the_node_whose_children_do_not_sum_to_100() -> None:
    root = IndicatorFactory(name="经济发展", weight=Decimal("100"))
    IndicatorFactory(parent=root, component=root.component, weight=Decimal("60"))
    IndicatorFactory(parent=root, component=root.component, weight=Decimal("30"))
    problems = weight_problems(scheme=root.scheme)
    assert [(p.where, p.total) for p in problems] == [("经济发展", Decimal("90"))]


def test_weight_problems_checks_top_level_components_and_sub_components() -> None:
    scheme = SchemeFactory()
    annual = ComponentFactory(scheme=scheme, name="年度实绩", weight=Decimal("45"))
    ComponentFactory(scheme=scheme, weight=Decimal("20"))
    ComponentFactory(scheme=scheme, parent=annual, name="重点工作", weight=Decimal("50"))
    wheres = {p.where for p in weight_problems(scheme=scheme)}
    assert wheres == {scheme.name, "年度实绩"}


def test_add_child_appends_at_the_next_level_with_the_next_order() -> None:
    root = IndicatorFactory()
    first = services.indicator_add_child(
        actor=UserFactory(), scheme=root.scheme, parent=root, name="甲", weight=Decimal("50")
    )
    second = services.indicator_add_child(
        actor=UserFactory(), scheme=root.scheme, parent=root, name="乙", weight=Decimal("50")
    )
    assert (first.level, second.level) == (2, 2)
    assert second.order == first.order + 1
    assert first.component_id == root.component_id


def test_add_child_refuses_a_fifth_level() -> None:
    leaf = _chain(4)[-1]
    with pytest.raises(ValidationError, match="最多四级"):
        services.indicator_add_child(
            actor=UserFactory(), scheme=leaf.scheme, parent=leaf, name="第五级", weight=Decimal("100")
        )
    assert not IndicatorNode.objects.filter(name="第五级").exists()


def test_bad_rule_params_are_rejected_naming_the_indicator_and_nothing_is_saved() -> None:
    root = IndicatorFactory()
    with pytest.raises(ValidationError) as exc:
        services.indicator_add_child(
            actor=UserFactory(),
            scheme=root.scheme,
            parent=root,
            name="税收增长",
            weight=Decimal("100"),
            rule_type="threshold_deduction",
            rule_params={"per_unit": "很多"},
        )
    assert "税收增长" in exc.value.messages[0]
    assert not IndicatorNode.objects.filter(name="税收增长").exists()


def test_update_with_bad_rule_params_keeps_the_stored_node() -> None:
    node = IndicatorFactory(name="安全生产", rule_type="completion", rule_params={"cap": 1.2})
    with pytest.raises(ValidationError, match="安全生产"):
        services.indicator_update(
            actor=UserFactory(), node=node, fields={"rule_type": "grade_map", "rule_params": {}}
        )
    node.refresh_from_db()
    assert node.rule_type == "completion"


def test_indicator_move_swaps_with_the_neighbour_and_stops_at_the_ends() -> None:
    root = IndicatorFactory()
    a, b, c = (IndicatorFactory(parent=root, component=root.component, order=i) for i in (1, 2, 3))
    actor = UserFactory()
    services.indicator_move(actor=actor, node=c, direction=-1)
    assert list(root.children.order_by("order").values_list("pk", flat=True)) == [a.pk, c.pk, b.pk]
    services.indicator_move(actor=actor, node=a, direction=-1)  # already first: nothing changes
    assert list(root.children.order_by("order").values_list("pk", flat=True)) == [a.pk, c.pk, b.pk]


def test_scheme_copy_copies_components_policies_and_the_whole_tree() -> None:
    source = SchemeFactory(cycle=CycleFactory(year=2024), name="2024年县市考核方案")
    annual = ComponentFactory(scheme=source, code="annual", weight=Decimal("60"))
    ComponentFactory(scheme=source, parent=annual, code="key", weight=Decimal("100"))
    ComponentFactory(scheme=source, code="public", weight=Decimal("40"))
    policy = GradingPolicy.objects.create(scheme=source, subject=Subject.TEAM)
    GradeLevel.objects.create(policy=policy, code="first", label="一等", quota_percent=15, order=1)
    GradingRule.objects.create(policy=policy, rule_type="bottom_share", params={"share": 0.05})
    root = IndicatorFactory(component=annual, scheme=source)
    child = IndicatorFactory(parent=root, component=annual, scheme=source, rule_type="completion")
    IndicatorFactory(parent=child, component=annual, scheme=source)

    copy = services.scheme_copy(actor=UserFactory(), source=source, cycle=CycleFactory(year=2025))

    assert copy.name == "2025年县市考核方案"
    assert copy.copied_from == source
    assert sorted(copy.components.values_list("code", "parent__code")) == [
        ("annual", None),
        ("key", "annual"),
        ("public", None),
    ]
    new_policy = copy.grading_policies.get()
    assert list(new_policy.levels.values_list("label", "quota_percent")) == [("一等", Decimal("15"))]
    assert list(new_policy.rules.values_list("rule_type", "params")) == [("bottom_share", {"share": 0.05})]
    copied = {n.name: n for n in copy.indicators.all()}
    assert len(copied) == 3
    assert copied[child.name].parent == copied[root.name]
    assert copied[child.name].rule_type == "completion"
    assert all(n.component.scheme_id == copy.pk for n in copied.values())
    assert source.indicators.count() == 3  # the source is untouched


def test_scheme_copy_refuses_a_category_the_cycle_already_has() -> None:
    source = SchemeFactory()
    target = CycleFactory()
    SchemeFactory(cycle=target, category=source.category)
    with pytest.raises(ValidationError):
        services.scheme_copy(actor=UserFactory(), source=source, cycle=target)


def test_indicator_create_sets_kind_lead_unit_and_long_term_in_one_step() -> None:
    component = ComponentFactory()
    lead = UnitFactory()
    node = tree_services.indicator_create(
        actor=UserFactory(),
        scheme=component.scheme,
        parent=None,
        component=component,
        name="乡村振兴",
        weight=Decimal("30"),
        kind=IndicatorKind.DYNAMIC,
        is_long_term=True,
        lead_unit=lead,
        rule_type="completion",
        rule_params={"cap": 1.2},
    )
    node.refresh_from_db()
    assert (node.level, node.kind, node.is_long_term, node.lead_unit) == (1, "dynamic", True, lead)
    assert node.rule_params == {"cap": 1.2}


def test_indicator_create_saves_nothing_when_the_rule_is_wrong() -> None:
    component = ComponentFactory()
    with pytest.raises(ValidationError, match="招商引资"):
        tree_services.indicator_create(
            actor=UserFactory(),
            scheme=component.scheme,
            parent=None,
            component=component,
            name="招商引资",
            weight=Decimal("30"),
            rule_type="grade_map",
            rule_params={},
            lead_unit=UnitFactory(),
        )
    assert not IndicatorNode.objects.exists()


def test_cycle_copy_previous_copies_only_missing_categories_from_last_year() -> None:
    last = CycleFactory(year=2024)
    kept, copied = SchemeFactory(cycle=last), SchemeFactory(cycle=last)
    ComponentFactory(scheme=copied)
    this = CycleFactory(year=2025)
    SchemeFactory(cycle=this, category=kept.category)
    copies = tree_services.cycle_copy_previous(actor=UserFactory(), cycle=this)
    assert [c.category_id for c in copies] == [copied.category_id]
    assert Scheme.objects.filter(cycle=this).count() == 2
    assert Component.objects.filter(scheme=copies[0]).count() == 1


def test_cycle_copy_previous_without_an_earlier_cycle_is_refused() -> None:
    with pytest.raises(ValidationError):
        tree_services.cycle_copy_previous(actor=UserFactory(), cycle=CycleFactory(year=2001))


def test_library_entry_save_validates_params_and_audits() -> None:
    entry = LibraryEntryFactory.build(name="亩均税收", rule_type="grade_map", rule_params={})
    with pytest.raises(ValidationError, match="亩均税收"):
        tree_services.library_entry_save(actor=UserFactory(), entry=entry, before=None)
    entry.rule_params = {"map": {"好": 1, "差": 0.5}}
    saved = tree_services.library_entry_save(actor=UserFactory(), entry=entry, before=None)
    assert saved.pk is not None
    assert AuditLog.objects.filter(action=AuditAction.CREATE, object_id=str(saved.pk)).exists()
