"""Writes to cycles, schemes and indicator trees (M2, M3)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record, snapshot
from jixiao.accounts.models import AuditAction, User
from jixiao.accounts.services import instance_create, instance_delete, instance_update
from jixiao.organisation.models import UnitCategory
from jixiao.schemes.lifecycle import assert_cycle_editable, assert_framework_editable, cycle_of
from jixiao.schemes.models import (
    FRAMEWORK_MAX_LEVEL,
    MAX_LEVEL,
    Component,
    Cycle,
    GradeLevel,
    GradingPolicy,
    GradingRule,
    IndicatorNode,
    LibraryEntry,
    Scheme,
    ZoneWeight,
)
from jixiao.schemes.rule_types import RuleParamError, validate_rule_params

M = TypeVar("M", bound=models.Model)


def _assert_editable(instance: models.Model) -> None:
    cycle_id = cycle_of(instance)
    if cycle_id is None:
        return
    # Components and level-1/2 indicators are the framework published targets hang under.
    framework = isinstance(instance, Component) or (
        isinstance(instance, IndicatorNode) and instance.level <= FRAMEWORK_MAX_LEVEL
    )
    if framework:
        assert_framework_editable(cycle_id)
    else:
        assert_cycle_editable(cycle_id)


@transaction.atomic
def scheme_part_save(*, actor: User, instance: M, before: Mapping[str, Any] | None) -> M:
    """Create (``before`` is None) or update a scheme-side row (scheme, component, grading policy,
    grade level, grading rule, rater group, the cycle itself), audited; return it. Raises
    CycleLocked when its cycle is closed."""
    _assert_editable(instance)
    if before is None:
        return instance_create(actor=actor, instance=instance)
    return instance_update(actor=actor, instance=instance, before=before)


@transaction.atomic
def scheme_part_delete(*, actor: User, instance: models.Model) -> None:
    """Delete a scheme-side row, audited. Raises CycleLocked when its cycle is closed."""
    _assert_editable(instance)
    instance_delete(actor=actor, instance=instance)


def rule_params_clean(*, rule_type: str, params: dict[str, Any], where: str) -> dict[str, Any]:
    """Return validated params, or raise ValidationError naming the indicator ``where``."""
    if not rule_type:
        return {}
    try:
        return validate_rule_params(rule_type, params, indicator=where)
    except RuleParamError as exc:
        raise ValidationError(_("指标“%(where)s”：%(error)s") % {"where": where, "error": exc}) from exc


@transaction.atomic
def indicator_add_child(
    *,
    actor: User,
    scheme: Scheme,
    parent: IndicatorNode | None,
    name: str,
    weight: Decimal,
    component: Component | None = None,
    rule_type: str = "",
    rule_params: dict[str, Any] | None = None,
    target_text: str = "",
    library_entry: LibraryEntry | None = None,
) -> IndicatorNode:
    """Append a node under ``parent`` (or at level 1 of ``component``) and return it."""
    level = 1 if parent is None else parent.level + 1
    if level <= FRAMEWORK_MAX_LEVEL:
        assert_framework_editable(scheme.cycle_id)
    else:
        assert_cycle_editable(scheme.cycle_id)
    if parent is not None and parent.scheme_id != scheme.pk:
        raise ValidationError(_("上级指标不属于该方案"))
    if level > MAX_LEVEL:
        raise ValidationError(_("指标体系最多四级"))
    if parent is not None:
        component = parent.component
    if component is None or component.scheme_id != scheme.pk:
        raise ValidationError(_("请选择该方案的考核构成"))
    if library_entry is not None:
        rule_type = rule_type or library_entry.rule_type
        rule_params = rule_params or dict(library_entry.rule_params)
    siblings = IndicatorNode.objects.filter(scheme=scheme, parent=parent)
    if parent is None:
        siblings = siblings.filter(component=component)
    next_order = (siblings.aggregate(m=Max("order"))["m"] or 0) + 1
    node = IndicatorNode(
        scheme=scheme,
        parent=parent,
        component=component,
        level=level,
        name=name,
        weight=weight,
        order=next_order,
        rule_type=rule_type,
        rule_params=rule_params_clean(rule_type=rule_type, params=rule_params or {}, where=name),
        target_text=target_text,
        library_entry=library_entry,
    )
    node.full_clean()
    node.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=node, changes=snapshot(node))
    return node


@transaction.atomic
def indicator_update(*, actor: User, node: IndicatorNode, fields: dict[str, Any]) -> IndicatorNode:
    """Change a node's editable fields (name, weight, rule, target …) and return it."""
    _assert_editable(node)
    before = snapshot(node)
    allowed = {
        "name",
        "weight",
        "code",
        "rule_type",
        "rule_params",
        "target_text",
        "kind",
        "is_long_term",
        "lead_unit",
    }
    for key, value in fields.items():
        if key not in allowed:
            raise ValidationError(_("字段不可修改：%(f)s") % {"f": key})
        setattr(node, key, value)
    node.rule_params = rule_params_clean(
        rule_type=node.rule_type, params=node.rule_params or {}, where=node.name
    )
    node.full_clean()
    node.save()
    after = snapshot(node)
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=node, changes=changes)
    return node


@transaction.atomic
def indicator_move(*, actor: User, node: IndicatorNode, direction: int) -> None:
    """Swap ``node`` with its previous (direction −1) or next (+1) sibling."""
    _assert_editable(node)
    siblings = list(
        IndicatorNode.objects.select_for_update()
        .filter(scheme_id=node.scheme_id, parent_id=node.parent_id, component_id=node.component_id)
        .order_by("order", "id")
    )
    index = next(i for i, s in enumerate(siblings) if s.pk == node.pk)
    other = index + (1 if direction > 0 else -1)
    if other < 0 or other >= len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings, start=1):
        if sibling.order != position:
            sibling.order = position
            sibling.save(update_fields=["order"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=node, changes={"order": ["move", direction]})


@transaction.atomic
def indicator_delete(*, actor: User, node: IndicatorNode) -> None:
    """Delete a node and its subtree, audited. Raises ValidationError when a unit has declared
    targets under it (they would lose their framework node)."""
    _assert_editable(node)
    subtree, level = [node.pk], [node.pk]
    while level:
        level = list(IndicatorNode.objects.filter(parent_id__in=level).values_list("pk", flat=True))
        subtree += level
    # By label: declarations depends on schemes, never the reverse.
    declared = apps.get_model("declarations", "DeclaredIndicator")._default_manager
    if declared.filter(parent_id__in=subtree).exists():
        raise ValidationError(
            _("已有单位在指标“%(name)s”下申报了目标，不能删除；请先调整这些单位的申报") % {"name": node.name}
        )
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=node,
        changes={**snapshot(node), "descendants": node.children.count()},
    )
    node.delete()


@transaction.atomic
def scheme_copy(*, actor: User, source: Scheme, cycle: Cycle, category: UnitCategory | None = None) -> Scheme:
    """Copy ``source`` (components, grading policies, indicator tree) into ``cycle`` for
    ``category`` (default: the source's category); return the copy. Raises ValidationError when
    that cycle already has a scheme for the category, CycleLocked when the cycle is closed,
    StageClosed when its targets are published."""
    assert_framework_editable(cycle)
    category_id = category.pk if category is not None else source.category_id
    if Scheme.objects.filter(cycle=cycle, category_id=category_id).exists():
        raise ValidationError(_("该周期已有此类别的方案"))
    name = source.name.replace(str(source.cycle.year), str(cycle.year))
    if category is not None and category.pk != source.category_id:
        name = name.replace(source.category.name, category.name)
    copy = Scheme.objects.create(
        cycle=cycle,
        category_id=category_id,
        name=name,
        notes=source.notes,
        options=source.options,
        copied_from=source,
    )
    component_map: dict[int, Component] = {}
    # Top-level components first (NULL parents sort first on SQLite but last on PostgreSQL).
    components = sorted(source.components.all(), key=lambda c: (c.parent_id is not None, c.order, c.pk))
    for comp in components:
        component_map[comp.pk] = Component.objects.create(
            scheme=copy,
            parent=component_map[comp.parent_id] if comp.parent_id else None,
            code=comp.code,
            name=comp.name,
            weight=comp.weight,
            order=comp.order,
            subject=comp.subject,
            source=comp.source,
            layer_weights=comp.layer_weights,
            group_weights=comp.group_weights,
            item_weights=comp.item_weights,
            team_component=comp.team_component,
        )
    for policy in source.grading_policies.all():
        new_policy = GradingPolicy.objects.create(scheme=copy, subject=policy.subject, options=policy.options)
        GradeLevel.objects.bulk_create(
            GradeLevel(
                policy=new_policy,
                code=lv.code,
                label=lv.label,
                quota_percent=lv.quota_percent,
                order=lv.order,
            )
            for lv in policy.levels.all()
        )
        GradingRule.objects.bulk_create(
            GradingRule(policy=new_policy, rule_type=r.rule_type, enabled=r.enabled, params=r.params)
            for r in policy.rules.all()
        )
    node_map: dict[int, IndicatorNode] = {}
    # Level order guarantees a parent is copied before its children.
    for node in source.indicators.order_by("level", "order", "id"):
        node_map[node.pk] = IndicatorNode.objects.create(
            scheme=copy,
            parent=node_map[node.parent_id] if node.parent_id else None,
            component=component_map[node.component_id],
            level=node.level,
            code=node.code,
            name=node.name,
            weight=node.weight,
            order=node.order,
            kind=node.kind,
            is_long_term=node.is_long_term,
            target_text=node.target_text,
            rule_type=node.rule_type,
            rule_params=node.rule_params,
            lead_unit_id=node.lead_unit_id,
            library_entry_id=node.library_entry_id,
        )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=copy,
        changes={
            "copied_from": source.pk,
            "category_id": category_id,
            "indicators": len(node_map),
            "components": len(component_map),
        },
    )
    return copy


@transaction.atomic
def zone_weights_save(
    *, actor: User, scheme: Scheme, weights: Mapping[tuple[int, int], Decimal | None]
) -> int:
    """Set the scheme's function-zone weights: ``weights`` maps (framework node id, zone id) to
    a weight, or None to drop that zone's own weight (the node's weight applies). Pairs not in
    ``weights`` are left alone. Audited on the scheme; return how many rows changed. Raises
    ValidationError for a node outside the scheme's framework, StageClosed once targets are
    published."""
    assert_framework_editable(scheme.cycle_id)
    nodes = set(
        IndicatorNode.objects.filter(scheme=scheme, level__lte=FRAMEWORK_MAX_LEVEL).values_list(
            "pk", flat=True
        )
    )
    if any(node_id not in nodes for node_id, _zone in weights):
        raise ValidationError(_("功能区权重只能设置在本方案的一、二级指标上"))
    existing = {
        (zw.node_id, zw.zone_id): zw
        for zw in ZoneWeight.objects.select_for_update().filter(node__scheme=scheme)
    }
    changes: dict[str, list[object]] = {}
    for (node_id, zone_id), weight in sorted(weights.items()):
        row = existing.get((node_id, zone_id))
        key = f"{node_id}:{zone_id}"
        if weight is None:
            if row is not None:
                changes[key] = [str(row.weight), None]
                row.delete()
            continue
        if row is not None and row.weight == weight:
            continue
        changes[key] = [None if row is None else str(row.weight), str(weight)]
        row = row or ZoneWeight(node_id=node_id, zone_id=zone_id)
        row.weight = weight
        row.full_clean()
        row.save()
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=scheme, changes={"zone_weights": changes})
    return len(changes)
