"""Drafting a unit's targets (目标申报, M3): declared indicators, library pull-in, the burden cap,
submission into review and the reviewers' notification.

Who: the unit's liaison (单位绩效员) or the office; auditors never write. When: a draft is written
only in the cycle's 单位申报 stage; a declaration sent back (已退回) also during 目标审核; a
declaration under a change request (变更中, or sent back while one is open) during 公布目标 and
过程跟踪. A closed cycle is read-only. Every write is atomic and audited.

The burden cap (减负) is the scheme option ``core_indicator_cap`` (:data:`CORE_CAP_OPTION`,
default :data:`DEFAULT_CORE_CAP` = 9): at most that many *core* declared indicators per unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.accounts.permissions import can_edit_unit
from jixiao.declarations import snapshot
from jixiao.declarations.models import (
    ChangeRequest,
    ChangeRequestStatus,
    Declaration,
    DeclarationStatus,
    DeclarationVersion,
    DeclaredIndicator,
    Milestone,
    ReviewerRole,
    ReviewStage,
)
from jixiao.hygiene import NOTE_MAX_LENGTH, OPINION_MAX_LENGTH, clean_text
from jixiao.organisation.models import Unit
from jixiao.schemes import lifecycle
from jixiao.schemes.models import (
    WEIGHT_TOTAL,
    Cycle,
    CycleStage,
    IndicatorKind,
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
    level-3 indicator whose level-4 children do not. Dynamic indicators (the office's tasks) are
    left out: their weights are the office's and never block a unit's submission."""
    rows = list(
        DeclaredIndicator.objects.filter(declaration=declaration)
        .exclude(kind=IndicatorKind.DYNAMIC)
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


def _require_editor(actor: User, declaration: Declaration) -> None:
    if not can_edit_unit(actor, declaration.unit_id):
        raise PermissionDenied


def _assert_editable(declaration: Declaration, action: str) -> Cycle:
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


def _cap_message(cap: int) -> str:
    return _(
        "本单位核心指标已达上限 %(cap)s 项（减负要求，见考核方案），请把部分指标改为非核心指标或删除后再添加"
    ) % {"cap": cap}


def _assert_core_cap(declaration: Declaration, *, adding: int, excluding: int | None = None) -> None:
    cap = core_cap(scheme_of(declaration))
    qs = DeclaredIndicator.objects.filter(declaration=declaration, is_core=True)
    if excluding is not None:
        qs = qs.exclude(pk=excluding)
    if qs.count() + adding > cap:
        raise ValidationError(_cap_message(cap), code="core_cap")


def check_rule(rule_type: str, params: dict[str, Any], name: str) -> dict[str, Any]:
    if not rule_type:
        raise ValidationError({"rule_type": _("申报指标须选择计分规则")})
    try:
        return validate_rule_params(rule_type, params, indicator=name)
    except RuleParamError as exc:
        raise ValidationError({"rule_type": str(exc)}) from exc


def _check_parent(declaration: Declaration, parent: IndicatorNode, under: DeclaredIndicator | None) -> None:
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
    _require_editor(actor, declaration)
    declaration = (
        Declaration.objects.select_for_update().select_related("unit", "cycle").get(pk=declaration.pk)
    )
    _assert_editable(declaration, _("修改申报指标"))
    unknown = set(fields) - set(INDICATOR_FIELDS)
    if unknown:
        raise TypeError(f"unknown indicator fields: {sorted(unknown)}")
    _check_parent(declaration, parent, under)
    name = str(fields.get("name", ""))
    params = check_rule(rule_type, rule_params, name)
    if fields.get("is_core", True):
        _assert_core_cap(declaration, adding=1)
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
    _require_editor(actor, declaration)
    _assert_editable(declaration, _("修改申报指标"))
    unknown = set(fields) - set(INDICATOR_FIELDS)
    if unknown:
        raise TypeError(f"unknown indicator fields: {sorted(unknown)}")
    if indicator.task_id is not None and not actor.is_office:
        fields = {k: v for k, v in fields.items() if k in {"evidence_required", "order"}}
        rule_type, rule_params = indicator.rule_type, dict(indicator.rule_params)
    before = snapshot.indicator_dict(indicator)
    params = check_rule(rule_type, rule_params, str(fields.get("name", indicator.name)))
    if fields.get("is_core", indicator.is_core) and not indicator.is_core:
        _assert_core_cap(declaration, adding=1, excluding=indicator.pk)
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
def indicator_delete(*, actor: User, indicator: DeclaredIndicator) -> None:
    """Delete a declared indicator (and its level-4 children), audited. A dynamic indicator is
    the office's assignment: only the office removes it."""
    declaration = (
        Declaration.objects.select_for_update()
        .select_related("unit", "cycle")
        .get(pk=indicator.declaration_id)
    )
    _require_editor(actor, declaration)
    _assert_editable(declaration, _("删除申报指标"))
    if indicator.task_id is not None and not actor.is_office:
        raise ValidationError(_("动态指标由考核办交办，单位不能删除"))
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


def library_choices(declaration: Declaration) -> QuerySet[LibraryEntry]:
    """Library entries the unit may pull in: basic and position entries, and the regional ones of
    its function zone (or of no zone)."""
    zone = declaration.unit.function_zone_id
    regional = Q(kind="regional") & (Q(function_zone__isnull=True) | Q(function_zone_id=zone))
    return LibraryEntry.objects.filter(Q(kind__in=["basic", "position"]) | regional).order_by("kind", "code")


def _last_year(declaration: Declaration) -> dict[int, DeclaredIndicator]:
    """Last year's published indicators of the same unit, by library entry id."""
    previous = Declaration.objects.filter(
        unit_id=declaration.unit_id, cycle__year=declaration.cycle.year - 1, published_version__isnull=False
    ).first()
    if previous is None:
        return {}
    rows = DeclaredIndicator.objects.filter(declaration=previous, library_entry__isnull=False)
    return {r.library_entry_id: r for r in rows if r.library_entry_id is not None}


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
    its rule and parameters, ``weight`` each, last year's target pre-filled from last year's
    published declaration; audited. All or nothing (the burden cap counts them together)."""
    _require_editor(actor, declaration)
    declaration = (
        Declaration.objects.select_for_update().select_related("unit", "cycle").get(pk=declaration.pk)
    )
    _assert_editable(declaration, _("从指标库引入指标"))
    _check_parent(declaration, parent, None)
    chosen = list(entries)
    if not chosen:
        raise ValidationError(_("请至少选择一个指标库条目"))
    allowed = set(
        library_choices(declaration).filter(pk__in=[e.pk for e in chosen]).values_list("pk", flat=True)
    )
    if any(e.pk not in allowed for e in chosen):
        raise ValidationError(_("所选区域指标不适用于本单位的功能区"))
    if is_core:
        _assert_core_cap(declaration, adding=len(chosen))
    previous = _last_year(declaration)
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


# --- submission ---------------------------------------------------------------------------------


def stage_reviewers(declaration: Declaration, stage: ReviewStage) -> QuerySet[User]:
    """The active accounts that decide ``stage`` for ``declaration``: the office; every leader;
    for a business-department stage, the lead departments of the declaration's indicators."""
    users = User.objects.filter(is_active=True)
    if stage.role == ReviewerRole.OFFICE:
        return users.filter(role=Role.OFFICE)
    if stage.role == ReviewerRole.LEADER:
        return users.filter(role=Role.LEADER)
    leads = DeclaredIndicator.objects.filter(declaration=declaration, lead_department__isnull=False).values(
        "lead_department_id"
    )
    return users.filter(role=Role.LEAD_DEPT, unit_id__in=leads)


def notify_stage_reviewers(*, declaration: Declaration, stage: ReviewStage) -> int:
    """Tell ``stage``'s reviewers that ``declaration``'s current version awaits them (once per
    version and stage); return how many were notified. The review pages reuse it."""
    from jixiao.notifications.services import notify

    title = _("%(unit)s的目标申报（第 %(v)s 版）待“%(stage)s”审核") % {
        "unit": declaration.unit.name,
        "v": declaration.version,
        "stage": stage.name,
    }
    created = notify(
        recipients=stage_reviewers(declaration, stage),
        cause=f"declaration:{declaration.pk}:v{declaration.version}:stage:{stage.pk}",
        title=title,
        # The review page: a lead department cannot open another unit's drafting page.
        link=reverse("review:declaration", args=[declaration.pk]),
    )
    return len(created)


def notify_liaisons(*, unit: Unit, cause: str, title: str, link: str) -> int:
    """Notify the unit's active liaisons once for ``cause``; return how many."""
    from jixiao.notifications.services import notify

    liaisons = User.objects.filter(is_active=True, role=Role.LIAISON, unit=unit)
    return len(notify(recipients=liaisons, cause=cause, title=title, link=link))


def freeze_version(*, actor: User | None, declaration: Declaration, note: str = "") -> DeclarationVersion:
    """Freeze the working copy as the next :class:`DeclarationVersion` and bump
    ``declaration.version`` (saved). Call inside a transaction holding the declaration's lock."""
    number = declaration.version + 1
    version = DeclarationVersion.objects.create(
        declaration=declaration,
        number=number,
        snapshot=snapshot.snapshot_of(declaration),
        note=note[:OPINION_MAX_LENGTH],
        submitted_by=actor if actor is not None and actor.pk else None,
    )
    declaration.version = number
    declaration.submitted_at = version.submitted_at
    declaration.save(update_fields=["version", "submitted_at", "updated_at"])
    return version


@transaction.atomic
def declaration_submit(*, actor: User, declaration: Declaration, note: str = "") -> DeclarationVersion:
    """Submit the working copy: freeze a new version, then status 审核中 at the cycle's first
    review stage (its reviewers notified), or 审核通过 directly when the cycle has no review
    stage. Refused (ValidationError) in a wrong stage or status, with weight problems, with no
    indicator, or beyond the burden cap. Audited; returns the new version."""
    _require_editor(actor, declaration)
    declaration = (
        Declaration.objects.select_for_update().select_related("unit", "cycle").get(pk=declaration.pk)
    )
    _assert_editable(declaration, _("提交目标申报"))
    if not DeclaredIndicator.objects.filter(declaration=declaration).exists():
        raise ValidationError(_("尚未申报任何指标，不能提交"))
    problems = declared_weight_problems(declaration)
    if problems:
        listed = "；".join(
            _("“%(where)s”下权重合计 %(total)s") % {"where": p.where, "total": p.total.normalize()}
            for p in problems
        )
        raise ValidationError(_("各级指标权重须合计 100，请先调整：%(listed)s") % {"listed": listed})
    cap = core_cap(scheme_of(declaration))
    if DeclaredIndicator.objects.filter(declaration=declaration, is_core=True).count() > cap:
        raise ValidationError(_cap_message(cap))
    previous_status = declaration.status
    version = freeze_version(
        actor=actor,
        declaration=declaration,
        note=clean_text(note, max_length=OPINION_MAX_LENGTH, label=_("提交说明")),
    )
    first = ReviewStage.objects.filter(cycle_id=declaration.cycle_id).order_by("order").first()
    now = timezone.now()
    if first is None:
        declaration.status = DeclarationStatus.APPROVED
        declaration.stage = None
        declaration.approved_at = now
    else:
        declaration.status = DeclarationStatus.SUBMITTED
        declaration.stage = first
    declaration.save(update_fields=["status", "stage", "approved_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=declaration,
        changes={
            "status": [previous_status, declaration.status],
            "version": version.number,
            "stage": first.name if first else "",
        },
    )
    if first is not None:
        notify_stage_reviewers(declaration=declaration, stage=first)
    return version
