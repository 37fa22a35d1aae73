"""Drafting a unit's targets (目标申报, M3): declared indicators, the weight checks, the burden
cap and the guards the sibling modules share (:mod:`.library` pulls indicators in,
:mod:`.submission` submits into review).

Who: the unit's liaison (单位绩效员) or the office; auditors never write. When: a draft is written
only in the cycle's 单位申报 stage; a declaration sent back (已退回) also during 目标审核; a
declaration under a change request (变更中, or sent back while one is open) during 公布目标 and
过程跟踪. A closed cycle is read-only. Every write is atomic and audited.

The burden cap (减负) is the scheme option ``core_indicator_cap`` (:data:`CORE_CAP_OPTION`,
default :data:`DEFAULT_CORE_CAP` = 9): at most that many *core* declared indicators per unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.accounts.permissions import can_edit_unit
from jixiao.declarations import snapshot
from jixiao.declarations.models import (
    ChangeRequest,
    ChangeRequestStatus,
    Declaration,
    DeclarationStatus,
    DeclaredIndicator,
    Milestone,
)
from jixiao.organisation.models import Unit
from jixiao.schemes import lifecycle
from jixiao.schemes.models import (
    WEIGHT_TOTAL,
    Cycle,
    CycleStage,
    IndicatorNode,
    LibraryEntry,
    Scheme,
)
from jixiao.schemes.rule_types import RuleParamError, validate_rule_params

CORE_CAP_OPTION = "core_indicator_cap"
DEFAULT_CORE_CAP = 9
FRAMEWORK_MAX_LEVEL = 2  # the office's framework: levels 1–2; units declare levels 3–4

EDITABLE_STATUSES = frozenset(
    {DeclarationStatus.DRAFT, DeclarationStatus.RETURNED, DeclarationStatus.CHANGING}
)
# Stages in which each kind of working copy may be edited and submitted.
DRAFT_STAGES: tuple[str, ...] = (CycleStage.DECLARATION,)
RETURNED_STAGES: tuple[str, ...] = (CycleStage.DECLARATION, CycleStage.REVIEW)
CHANGE_STAGES: tuple[str, ...] = (CycleStage.PUBLICATION, CycleStage.TRACKING)


# --- reads the services need --------------------------------------------------------------------


def scheme_of(declaration: Declaration) -> Scheme | None:
    """The scheme (framework) of the declaration's unit category in its cycle, or None."""
    return Scheme.objects.filter(
        cycle_id=declaration.cycle_id, category_id=declaration.unit.category_id
    ).first()


def core_cap(scheme: Scheme | None) -> int:
    """The scheme's cap on core declared indicators per unit (default 9)."""
    raw = (scheme.options or {}).get(CORE_CAP_OPTION) if scheme is not None else None
    try:
        return int(raw) if raw not in (None, "") else DEFAULT_CORE_CAP
    except (TypeError, ValueError):
        return DEFAULT_CORE_CAP


def framework_parents(scheme: Scheme | None) -> QuerySet[IndicatorNode]:
    """The framework nodes a unit may declare under: level-2 nodes and childless level-1 nodes."""
    if scheme is None:
        return IndicatorNode.objects.none()
    return (
        IndicatorNode.objects.filter(scheme=scheme, level__lte=FRAMEWORK_MAX_LEVEL)
        .filter(Q(level=FRAMEWORK_MAX_LEVEL) | Q(children__isnull=True))
        .distinct()
        .order_by("component__order", "level", "order", "id")
    )


def has_open_change(declaration: Declaration) -> bool:
    return ChangeRequest.objects.filter(declaration=declaration, status=ChangeRequestStatus.OPEN).exists()


def editing_stages(declaration: Declaration) -> tuple[str, ...]:
    """The cycle stages in which ``declaration``'s working copy may be edited and submitted
    (empty when its status allows no edit: under review, approved, published)."""
    if declaration.status == DeclarationStatus.CHANGING:
        return CHANGE_STAGES
    if declaration.status == DeclarationStatus.RETURNED:
        return CHANGE_STAGES if has_open_change(declaration) else RETURNED_STAGES
    if declaration.status == DeclarationStatus.DRAFT:
        return DRAFT_STAGES
    return ()


def may_edit(user: User, declaration: Declaration) -> bool:
    """Whether the page offers ``user`` the edit buttons (the services check again)."""
    if not can_edit_unit(user, declaration.unit_id):
        return False
    if lifecycle.is_locked(declaration.cycle):
        return False
    return declaration.cycle.stage in editing_stages(declaration)


@dataclass(frozen=True)
class DeclaredWeightProblem:
    """A framework node (or a level-3 declared indicator) whose declared children's weights do
    not sum to 100."""

    where: str
    total: Decimal
    node_id: int | None = None  # framework node
    indicator_id: int | None = None  # level-3 declared indicator with level-4 children


def declared_weight_problems(declaration: Declaration) -> list[DeclaredWeightProblem]:
    """Every framework node whose base declared indicators' weights do not sum to 100, and every
    level-3 indicator whose level-4 children do not. The office's dynamic tasks are left out: their weights are the office's and never block a unit's submission."""
    rows = list(
        DeclaredIndicator.objects.filter(declaration=declaration)
        .filter(task__isnull=True)
        .select_related("parent")
        .only("pk", "name", "weight", "under_id", "parent_id", "parent__name", "parent__order")
        .order_by("parent__order", "parent_id", "order", "id")
    )
    problems: list[DeclaredWeightProblem] = []
    by_node: dict[int, list[DeclaredIndicator]] = {}
    by_top: dict[int, list[DeclaredIndicator]] = {}
    for row in rows:
        if row.under_id is None:
            by_node.setdefault(row.parent_id, []).append(row)
        else:
            by_top.setdefault(row.under_id, []).append(row)
    for node_id, items in by_node.items():
        total = sum((i.weight for i in items), Decimal("0"))
        if total != WEIGHT_TOTAL:
            problems.append(DeclaredWeightProblem(items[0].parent.name, total, node_id=node_id))
    names = {r.pk: r.name for r in rows}
    for top_id, items in by_top.items():
        total = sum((i.weight for i in items), Decimal("0"))
        if total != WEIGHT_TOTAL:
            problems.append(DeclaredWeightProblem(names.get(top_id, "?"), total, indicator_id=top_id))
    return problems


# --- guards -------------------------------------------------------------------------------------


def require_editor(actor: User, declaration: Declaration) -> None:
    if not can_edit_unit(actor, declaration.unit_id):
        raise PermissionDenied


def assert_editable(declaration: Declaration, action: str) -> Cycle:
    """Raise unless the working copy may be edited now; return the fresh cycle."""
    stages = editing_stages(declaration)
    if not stages:
        lifecycle.assert_cycle_editable(declaration.cycle_id)
        raise ValidationError(
            _("本单位目标申报现为“%(status)s”，不能%(action)s")
            % {"status": declaration.get_status_display(), "action": action},
            code="declaration_not_editable",
        )
    return lifecycle.assert_stage(declaration.cycle_id, stages, action)


def cap_message(cap: int) -> str:
    return _(
        "本单位核心指标已达上限 %(cap)s 项（减负要求，见考核方案），请把部分指标改为非核心指标或删除后再添加"
    ) % {"cap": cap}


def assert_core_cap(declaration: Declaration, *, adding: int, excluding: int | None = None) -> None:
    cap = core_cap(scheme_of(declaration))
    qs = DeclaredIndicator.objects.filter(declaration=declaration, is_core=True)
    if excluding is not None:
        qs = qs.exclude(pk=excluding)
    if qs.count() + adding > cap:
        raise ValidationError(cap_message(cap), code="core_cap")


def check_rule(rule_type: str, params: dict[str, Any], name: str) -> dict[str, Any]:
    if not rule_type:
        raise ValidationError({"rule_type": _("申报指标须选择计分规则")})
    try:
        return validate_rule_params(rule_type, params, indicator=name)
    except RuleParamError as exc:
        raise ValidationError({"rule_type": str(exc)}) from exc


def check_parent(declaration: Declaration, parent: IndicatorNode, under: DeclaredIndicator | None) -> None:
    if under is not None:
        if under.declaration_id != declaration.pk or under.under_id is not None:
            raise ValidationError(_("四级指标只能挂在本单位的三级指标下"))
        if under.parent_id != parent.pk:
            raise ValidationError(_("四级指标须与其三级指标属于同一框架指标"))
        return
    if not framework_parents(scheme_of(declaration)).filter(pk=parent.pk).exists():
        raise ValidationError(_("所选框架指标不属于本单位类别的考核方案，或其下已有考核办设定的指标"))


# --- writes -------------------------------------------------------------------------------------


@transaction.atomic
def declaration_start(*, actor: User, cycle: Cycle, unit: Unit) -> Declaration:
    """Open the unit's declaration for ``cycle`` (or return the existing one), audited."""
    if not can_edit_unit(actor, unit.pk):
        raise PermissionDenied
    existing = Declaration.objects.filter(cycle=cycle, unit=unit).first()
    if existing is not None:
        return existing
    lifecycle.assert_stage(cycle, DRAFT_STAGES, _("开始申报"))
    declaration = Declaration.objects.create(cycle=cycle, unit=unit)
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=declaration, changes={"status": declaration.status}
    )
    return declaration


def declaration_ensure(*, actor: User | None, cycle: Cycle, unit: Unit) -> Declaration:
    """The unit's declaration for ``cycle``, created (audited) when missing, whatever the stage:
    for the office's own assignments (dynamic tasks). Call inside a transaction."""
    declaration, created = Declaration.objects.get_or_create(cycle=cycle, unit=unit)
    if created:
        audit_record(
            actor=actor, action=AuditAction.CREATE, obj=declaration, changes={"status": declaration.status}
        )
    return declaration


@dataclass(frozen=True)
class MilestoneInput:
    due: date
    expected_percent: Decimal
    note: str = ""


INDICATOR_FIELDS = (
    "name",
    "measure",
    "target",
    "target_text",
    "weight",
    "lead_department",
    "evidence_required",
    "kind",
    "is_long_term",
    "is_core",
    "last_year_actual",
    "last_year_target",
    "higher_target",
    "order",
)


def _set_milestones(indicator: DeclaredIndicator, milestones: Sequence[MilestoneInput]) -> None:
    days = [m.due for m in milestones]
    if len(set(days)) != len(days):
        raise ValidationError({"milestones": _("同一日期只能有一个节点目标")})
    indicator.milestones.all().delete()
    Milestone.objects.bulk_create(
        Milestone(indicator=indicator, due=m.due, expected_percent=m.expected_percent, note=m.note)
        for m in sorted(milestones, key=lambda m: m.due)
    )


def _milestone_list(indicator: DeclaredIndicator) -> list[list[str]]:
    return [[m.due.isoformat(), str(m.expected_percent)] for m in indicator.milestones.order_by("due")]


@transaction.atomic
def indicator_create(
    *,
    actor: User,
    declaration: Declaration,
    parent: IndicatorNode,
    under: DeclaredIndicator | None = None,
    rule_type: str,
    rule_params: dict[str, Any],
    milestones: Sequence[MilestoneInput] = (),
    library_entry: LibraryEntry | None = None,
    **fields: Any,
) -> DeclaredIndicator:
    """Add a declared indicator (level 3 under ``parent``, level 4 with ``under``), audited.

    Raises ValidationError for a closed cycle, a wrong stage or status, a parent outside the
    framework, bad rule parameters, or a core indicator beyond the burden cap."""
    require_editor(actor, declaration)
    declaration = (
        Declaration.objects.select_for_update().select_related("unit", "cycle").get(pk=declaration.pk)
    )
    assert_editable(declaration, _("修改申报指标"))
    unknown = set(fields) - set(INDICATOR_FIELDS)
    if unknown:
        raise TypeError(f"unknown indicator fields: {sorted(unknown)}")
    check_parent(declaration, parent, under)
    name = str(fields.get("name", ""))
    params = check_rule(rule_type, rule_params, name)
    if fields.get("is_core", True):
        assert_core_cap(declaration, adding=1)
    indicator = DeclaredIndicator(
        declaration=declaration,
        parent=parent,
        under=under,
        rule_type=rule_type,
        rule_params=params,
        library_entry=library_entry,
        **fields,
    )
    indicator.full_clean(
        exclude=["declaration", "parent", "under", "task", "library_entry", "lead_department"]
    )
    indicator.save()
    _set_milestones(indicator, milestones)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=indicator,
        changes={"declaration": declaration.pk, "parent": parent.name, "weight": str(indicator.weight)},
    )
    return indicator


@transaction.atomic
def indicator_update(
    *,
    actor: User,
    indicator: DeclaredIndicator,
    rule_type: str,
    rule_params: dict[str, Any],
    milestones: Sequence[MilestoneInput] = (),
    **fields: Any,
) -> DeclaredIndicator:
    """Change a declared indicator (not its place in the tree), audited with what changed.
    A dynamic indicator's target and rule are the office's (its task): a unit edits only its
    milestones and evidence there."""
    declaration = (
        Declaration.objects.select_for_update()
        .select_related("unit", "cycle")
        .get(pk=indicator.declaration_id)
    )
    require_editor(actor, declaration)
    assert_editable(declaration, _("修改申报指标"))
    unknown = set(fields) - set(INDICATOR_FIELDS)
    if unknown:
        raise TypeError(f"unknown indicator fields: {sorted(unknown)}")
    if indicator.task_id is not None and not actor.is_office:
        fields = {k: v for k, v in fields.items() if k in {"evidence_required", "order"}}
        rule_type, rule_params = indicator.rule_type, dict(indicator.rule_params)
    before = snapshot.indicator_dict(indicator)
    params = check_rule(rule_type, rule_params, str(fields.get("name", indicator.name)))
    if fields.get("is_core", indicator.is_core) and not indicator.is_core:
        assert_core_cap(declaration, adding=1, excluding=indicator.pk)
    for key, value in fields.items():
        setattr(indicator, key, value)
    indicator.rule_type = rule_type
    indicator.rule_params = params
    indicator.full_clean(
        exclude=["declaration", "parent", "under", "task", "library_entry", "lead_department"]
    )
    indicator.save()
    _set_milestones(indicator, milestones)
    after = snapshot.indicator_dict(indicator)
    changes = {k: [before[k], after[k]] for k in snapshot.COMPARED_FIELDS if before[k] != after[k]}
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=indicator, changes=changes)
    return indicator


@transaction.atomic
def assert_no_recorded_work(indicator: DeclaredIndicator) -> None:
    """Refuse to delete a target (or its level-4 children) that already carries monthly reports or
    annual values: deleting would cascade them away, and a published target still scores until
    its change is republished. Its weight can be set to 0 instead."""
    from jixiao.facts.models import IndicatorResult
    from jixiao.tracking.models import ProgressReport

    ids = [indicator.pk, *indicator.children.values_list("pk", flat=True)]
    if (
        ProgressReport.objects.filter(indicator_id__in=ids).exists()
        or IndicatorResult.objects.filter(declared_id__in=ids).exists()
    ):
        raise ValidationError(
            _("指标“%(name)s”已有月度进展或年度数据，不能删除；如不再考核，可将其权重调为 0")
            % {"name": indicator.name},
            code="has_recorded_work",
        )


def indicator_delete(*, actor: User, indicator: DeclaredIndicator) -> None:
    """Delete a declared indicator (and its level-4 children), audited. A dynamic indicator is
    the office's assignment: only the office removes it."""
    declaration = (
        Declaration.objects.select_for_update()
        .select_related("unit", "cycle")
        .get(pk=indicator.declaration_id)
    )
    require_editor(actor, declaration)
    assert_editable(declaration, _("删除申报指标"))
    if indicator.task_id is not None and not actor.is_office:
        raise ValidationError(_("动态指标由考核办交办，单位不能删除"))
    assert_no_recorded_work(indicator)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=indicator,
        changes={
            "declaration": declaration.pk,
            "name": indicator.name,
            "children": indicator.children.count(),
        },
    )
    indicator.delete()
