"""Dynamic indicators (动态指标): tasks the office assigns mid-year (省州后续安排部署的重点工作).

Saving a :class:`DynamicTask` gives each responsible unit a declared indicator (kind dynamic,
``task``, ``effective_from``) under the task's framework node, creating the unit's declaration
when it has none. The office's assignment needs no review: a declaration under review, approved
or published gets a new frozen version holding the task (a published one is republished at that
version); a working copy (填报中, 已退回, 变更中) just gains the indicator.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.declarations.drafting import (
    check_rule,
    declaration_ensure,
    freeze_version,
    notify_liaisons,
)
from jixiao.declarations.models import Declaration, DeclarationStatus, DeclaredIndicator, DynamicTask
from jixiao.hygiene import DESCRIPTION_MAX_LENGTH, clean_text
from jixiao.organisation.models import Unit
from jixiao.schemes import lifecycle
from jixiao.schemes.models import Cycle, IndicatorKind, IndicatorNode

_FROZEN = {DeclarationStatus.SUBMITTED, DeclarationStatus.APPROVED, DeclarationStatus.PUBLISHED}


def dynamic_parents(cycle: Cycle) -> Any:
    """Framework nodes (levels 1–2) of the cycle's schemes a task may hang under: those of a
    dynamic kind first, then every other level-2 node."""
    return (
        IndicatorNode.objects.filter(scheme__cycle=cycle, level__lte=2)
        .select_related("scheme__category")
        .order_by("scheme__category__order", "scheme_id", "level", "order", "id")
    )


@transaction.atomic
def dynamic_task_create(
    *,
    actor: User,
    cycle: Cycle,
    name: str,
    parent: IndicatorNode,
    weight: Decimal,
    rule_type: str,
    rule_params: dict[str, Any],
    effective_from: date,
    units: Iterable[Unit],
    description: str = "",
    source: str = "",
    target: Decimal | None = None,
    measure: str = "",
    due: date | None = None,
) -> DynamicTask:
    """Create a dynamic task and its indicator in each responsible unit's declaration; audited,
    the units' liaisons notified. Office only; a closed cycle refuses. Raises ValidationError
    for a unit outside the framework node's category or bad rule parameters."""
    if not (actor.is_office and actor.can_write):
        raise PermissionDenied
    lifecycle.assert_cycle_editable(cycle)
    if parent.scheme.cycle_id != cycle.pk:
        raise ValidationError({"parent": _("所属框架指标不在本周期的考核方案中")})
    chosen = list(units)
    if not chosen:
        raise ValidationError({"units": _("请至少选择一个责任单位")})
    wrong = [u.name for u in chosen if u.category_id != parent.scheme.category_id]
    if wrong:
        raise ValidationError(
            {
                "units": _("%(units)s不属于“%(category)s”，不能承担该框架指标下的任务")
                % {"units": "、".join(wrong[:5]), "category": parent.scheme.category.name}
            }
        )
    if due is not None and due < effective_from:
        raise ValidationError({"due": _("完成时限不能早于起算日期")})
    params = check_rule(rule_type, rule_params, name)
    task = DynamicTask.objects.create(
        cycle=cycle,
        name=name,
        description=clean_text(description, max_length=DESCRIPTION_MAX_LENGTH, label=_("任务说明")),
        source=source,
        parent=parent,
        weight=weight,
        rule_type=rule_type,
        rule_params=params,
        target=target,
        measure=measure,
        effective_from=effective_from,
        due=due,
        created_by=actor,
    )
    task.units.set(chosen)
    for unit in chosen:
        declaration = declaration_ensure(actor=actor, cycle=cycle, unit=unit)
        declaration = (
            Declaration.objects.select_for_update().select_related("unit", "cycle").get(pk=declaration.pk)
        )
        order = DeclaredIndicator.objects.filter(declaration=declaration).aggregate(m=Max("order"))["m"] or 0
        DeclaredIndicator.objects.create(
            declaration=declaration,
            parent=parent,
            name=name,
            measure=measure,
            target=target,
            target_text=task.description[:2000],
            rule_type=rule_type,
            rule_params=params,
            weight=weight,
            kind=IndicatorKind.DYNAMIC,
            is_core=False,
            effective_from=effective_from,
            task=task,
            order=order + 1,
        )
        if declaration.status in _FROZEN:
            freeze_version(
                actor=actor, declaration=declaration, note=_("考核办交办动态任务：%(t)s") % {"t": name}
            )
            if declaration.status == DeclarationStatus.PUBLISHED:
                declaration.published_version = declaration.version
                declaration.published_at = timezone.now()
                declaration.save(update_fields=["published_version", "published_at", "updated_at"])
        notify_liaisons(
            unit=unit,
            cause=f"dynamic_task:{task.pk}",
            title=_("考核办交办动态任务“%(t)s”，自 %(d)s 起计入本单位目标")
            % {"t": name, "d": effective_from},
            link=reverse("declarations:declaration_detail", args=[declaration.pk]),
        )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=task,
        changes={"units": [u.pk for u in chosen], "parent": parent.name, "weight": str(weight)},
    )
    return task
