"""Pulling indicators in: library entries (基本 / 区域 / 岗位指标, regional ones by the unit's
function zone) and last year's published targets (沿用上年目标, matched by uid).

Same rules as :mod:`jixiao.declarations.drafting` (who, when, the burden cap); audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.declarations.drafting import (
    assert_core_cap,
    assert_editable,
    check_parent,
    check_rule,
    framework_parents,
    require_editor,
    scheme_of,
)
from jixiao.declarations.models import (
    Declaration,
    DeclarationVersion,
    DeclaredIndicator,
)
from jixiao.hygiene import NOTE_MAX_LENGTH, clean_text
from jixiao.organisation.models import Unit
from jixiao.schemes.models import (
    IndicatorKind,
    IndicatorNode,
    LibraryEntry,
)

ACTUAL_PLACES = Decimal("0.0001")  # DeclaredIndicator.last_year_actual has 4 decimal places


def library_choices(declaration: Declaration) -> QuerySet[LibraryEntry]:
    """Library entries the unit may pull in: basic and position entries, and the regional ones of
    its function zone (or of no zone)."""
    zone = declaration.unit.function_zone_id
    regional = Q(kind="regional") & (Q(function_zone__isnull=True) | Q(function_zone_id=zone))
    return LibraryEntry.objects.filter(Q(kind__in=["basic", "position"]) | regional).order_by("kind", "code")


def _previous(declaration: Declaration) -> Declaration | None:
    """The same unit's published declaration of the year before, or None."""
    return Declaration.objects.filter(
        unit_id=declaration.unit_id, cycle__year=declaration.cycle.year - 1, published_version__isnull=False
    ).first()


def _last_year(declaration: Declaration) -> dict[int, DeclaredIndicator]:
    """Last year's published indicators of the same unit, by library entry id."""
    previous = _previous(declaration)
    if previous is None:
        return {}
    rows = DeclaredIndicator.objects.filter(declaration=previous, library_entry__isnull=False)
    return {r.library_entry_id: r for r in rows if r.library_entry_id is not None}


def last_year_actuals(declaration: Declaration) -> dict[str, Decimal]:
    """Last year's actual value (年度实绩, the facts entered for the annual evaluation) of each of
    the unit's targets of the year before, by indicator uid (one query): what 上年实际 is."""
    from jixiao.facts.models import IndicatorResult  # facts refers to declared indicators

    previous = _previous(declaration)
    if previous is None:
        return {}
    rows = IndicatorResult.objects.filter(
        declared__declaration=previous, cycle_id=previous.cycle_id, value__isnull=False
    ).values_list("declared__uid", "value")
    return {str(uid): Decimal(repr(value)).quantize(ACTUAL_PLACES) for uid, value in rows}


@transaction.atomic
def library_pull(
    *,
    actor: User,
    declaration: Declaration,
    parent: IndicatorNode,
    entries: Iterable[LibraryEntry],
    weight: Decimal,
    is_core: bool = True,
) -> list[DeclaredIndicator]:
    """Add each library entry as a level-3 declared indicator under ``parent`` in one step, with
    its rule and parameters, ``weight`` each, last year's target and actual value pre-filled from
    last year's published declaration and facts; audited. All or nothing (the burden cap counts them together)."""
    require_editor(actor, declaration)
    declaration = (
        Declaration.objects.select_for_update().select_related("unit", "cycle").get(pk=declaration.pk)
    )
    assert_editable(declaration, _("从指标库引入指标"))
    check_parent(declaration, parent, None)
    chosen = list(entries)
    if not chosen:
        raise ValidationError(_("请至少选择一个指标库条目"))
    allowed = set(
        library_choices(declaration).filter(pk__in=[e.pk for e in chosen]).values_list("pk", flat=True)
    )
    if any(e.pk not in allowed for e in chosen):
        raise ValidationError(_("所选区域指标不适用于本单位的功能区"))
    if is_core:
        assert_core_cap(declaration, adding=len(chosen))
    previous = _last_year(declaration)
    actuals = last_year_actuals(declaration) if previous else {}
    start = (
        DeclaredIndicator.objects.filter(declaration=declaration, parent=parent).aggregate(m=Max("order"))[
            "m"
        ]
        or 0
    )
    created: list[DeclaredIndicator] = []
    for i, entry in enumerate(chosen, start=1):
        if not entry.rule_type:
            raise ValidationError(
                _("指标库条目“%(name)s”没有计分规则，请先由考核办补全") % {"name": entry.name}
            )
        params = check_rule(entry.rule_type, dict(entry.rule_params or {}), entry.name)
        last = previous.get(entry.pk)
        indicator = DeclaredIndicator.objects.create(
            last_year_actual=actuals.get(str(last.uid)) if last else None,
            declaration=declaration,
            parent=parent,
            name=entry.name[:200],
            target_text=clean_text(
                entry.description[:NOTE_MAX_LENGTH], max_length=NOTE_MAX_LENGTH, label=_("目标说明")
            ),
            rule_type=entry.rule_type,
            rule_params=params,
            weight=weight,
            is_core=is_core,
            library_entry=entry,
            measure=last.measure if last else "",
            last_year_target=last.target if last else None,
            higher_target=last.higher_target if last else None,
            lead_department=last.lead_department if last else None,
            order=start + i,
        )
        created.append(indicator)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=declaration,
        changes={"library": [e.code for e in chosen], "parent": parent.name, "weight": str(weight)},
    )
    return created


def last_year_snapshot(declaration: Declaration) -> list[dict[str, Any]]:
    """Last year's published targets of the same unit (the published version's snapshot), or []."""
    previous = Declaration.objects.filter(
        unit_id=declaration.unit_id, cycle__year=declaration.cycle.year - 1, published_version__isnull=False
    ).first()
    if previous is None or previous.published_version is None:
        return []
    version = DeclarationVersion.objects.filter(
        declaration=previous, number=previous.published_version
    ).first()
    return list(version.snapshot) if version is not None else []


@transaction.atomic
def carry_over_last_year(*, actor: User, declaration: Declaration) -> int:
    """Copy last year's published targets into the working copy (沿用上年目标): each indicator
    keeps its ``uid`` (so review and the ambition check match it to last year), lands under the
    framework node of the same name, takes last year's target as 上年目标 and last year's
    entered actual value (:func:`last_year_actuals`) as 上年实际, and leaves this year's
    target for the unit to set. The office's dynamic tasks, indicators already present (same uid)
    and those whose framework node is gone are skipped. Audited; returns how many were added."""
    require_editor(actor, declaration)
    declaration = (
        Declaration.objects.select_for_update().select_related("unit", "cycle").get(pk=declaration.pk)
    )
    assert_editable(declaration, _("沿用上年目标"))
    items = [i for i in last_year_snapshot(declaration) if not i.get("task_id")]
    if not items:
        raise ValidationError(_("本单位上年没有已公布的目标可以沿用"))
    parents = {n.name: n for n in framework_parents(scheme_of(declaration))}
    present = {
        str(u)
        for u in DeclaredIndicator.objects.filter(declaration=declaration).values_list("uid", flat=True)
    }
    wanted = [i for i in items if i["uid"] not in present and i.get("parent_name") in parents]
    tops = {i["uid"] for i in wanted if not i.get("under")}
    wanted = [i for i in wanted if not i.get("under") or i["under"] in tops or i["under"] in present]
    assert_core_cap(declaration, adding=sum(1 for i in wanted if i.get("is_core")))
    created: dict[str, DeclaredIndicator] = {}
    actuals = last_year_actuals(declaration)

    def number(value: Any) -> Decimal | None:
        return None if value in (None, "") else Decimal(str(value))

    for item in sorted(wanted, key=lambda i: bool(i.get("under"))):
        under_uid = item.get("under")
        under = created.get(under_uid) if under_uid else None
        if under_uid and under is None:
            under = DeclaredIndicator.objects.filter(declaration=declaration, uid=under_uid).first()
        lead = item.get("lead_department_id")
        created[item["uid"]] = DeclaredIndicator.objects.create(
            declaration=declaration,
            uid=item["uid"],
            parent=parents[item["parent_name"]],
            under=under,
            name=item["name"],
            measure=item.get("measure") or "",
            target_text=item.get("target_text") or "",
            rule_type=item["rule_type"],
            rule_params=dict(item.get("rule_params") or {}),
            weight=Decimal(str(item["weight"])),
            lead_department=Unit.objects.filter(pk=lead).first() if lead else None,
            evidence_required=item.get("evidence_required") or "",
            kind=item.get("kind") or IndicatorKind.BASE,
            is_long_term=bool(item.get("is_long_term")),
            is_core=bool(item.get("is_core")),
            library_entry_id=item.get("library_entry_id")
            if LibraryEntry.objects.filter(pk=item.get("library_entry_id") or 0).exists()
            else None,
            last_year_actual=actuals.get(item["uid"]),
            last_year_target=number(item.get("target")),
            higher_target=number(item.get("higher_target")),
            order=int(item.get("order") or 0),
        )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=declaration,
        changes={"carried_over": len(created), "from_year": declaration.cycle.year - 1},
    )
    return len(created)
