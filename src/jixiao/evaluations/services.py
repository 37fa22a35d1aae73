"""The assessment office's writes: ballot forms, events, who rates whom, issuing codes.

Every function is atomic and audited; none of them ever writes a code (only its hash) to the
database or to the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record, diff, snapshot
from jixiao.accounts.models import AuditAction, User
from jixiao.evaluations.codes import PrintedCode, code_hash, new_code
from jixiao.evaluations.models import (
    BallotCode,
    BallotForm,
    BallotFormItem,
    EvaluationEvent,
    EventGroup,
    EventRatee,
    EventStatus,
    FormKind,
    VotesMode,
)
from jixiao.organisation.models import Layer, Official, Unit
from jixiao.schemes.lifecycle import assert_cycle_editable
from jixiao.schemes.models import Cycle, RaterGroup

MAX_CODES_PER_ISSUE = 5000

# 好/较好/一般/较差 → 95/85/75/65: a common conversion (DOMAIN.md), editable per form.
DEFAULT_SCALE: list[dict[str, Any]] = [
    {"label": "好", "points": 95},
    {"label": "较好", "points": 85},
    {"label": "一般", "points": 75},
    {"label": "较差", "points": 65},
]
# Item codes match the engine's rating items (德能勤绩廉 for officials, overall for teams).
QUALITY_ITEMS: list[tuple[str, str, str]] = [
    ("de", "德", "政治品质、道德品行"),
    ("neng", "能", "履职能力、专业素养"),
    ("qin", "勤", "工作作风、勤勉敬业"),
    ("ji", "绩", "工作实绩、履职成效"),
    ("lian", "廉", "廉洁自律"),
]
TEAM_ITEMS: list[tuple[str, str, str]] = [
    ("overall", "总体评价", "领导班子年度工作总体评价"),
    ("zzjs", "政治建设", ""),
    ("kxjc", "科学决策", ""),
    ("tjxz", "团结协作", ""),
    ("lzjs", "廉政建设", ""),
]
_DEFAULT_FORMS: dict[str, tuple[str, list[tuple[str, str, str]], bool]] = {
    FormKind.TEAM: ("领导班子民主测评表", TEAM_ITEMS, False),
    FormKind.HEAD: ("班子正职民主测评表", QUALITY_ITEMS, True),
    FormKind.MEMBER: ("班子成员民主测评表", QUALITY_ITEMS, True),
    FormKind.OTHER: ("其他干部民主测评表", QUALITY_ITEMS, True),
}
_EVENT_FIELDS = ["cycle_id", "name", "status", "closes_at", "flush_batch", "votes_mode"]
LAYER_FORM_KIND = {Layer.HEAD: FormKind.HEAD, Layer.MEMBER: FormKind.MEMBER, Layer.OTHER: FormKind.OTHER}


def _require_office(actor: User | None) -> None:
    if actor is not None and not (actor.is_office and actor.can_write):
        raise PermissionDenied


# --- ballot forms ----------------------------------------------------------------------------


def parse_scale(text: str) -> list[dict[str, Any]]:
    """Parse ``好=95, 较好=85 …`` (commas, spaces or new lines) into a scale, best first."""
    scale: list[dict[str, Any]] = []
    for part in text.replace("，", ",").replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        label, sep, points = part.partition("=")
        try:
            value = float(points)
        except ValueError:
            value = float("nan")
        if not sep or not label.strip() or value != value or value < 0:
            raise ValidationError(_("评价档次格式应为“好=95, 较好=85”：%(part)s") % {"part": part})
        scale.append({"label": label.strip(), "points": int(value) if value.is_integer() else value})
    if len(scale) < 2:
        raise ValidationError(_("评价档次至少需要两档"))
    return scale


def parse_items(text: str) -> list[tuple[str, str, str]]:
    """Parse one item per line, ``code 名称 说明`` (说明 optional), into (code, label, hint)."""
    items: list[tuple[str, str, str]] = []
    for line in text.splitlines():
        parts = line.split(maxsplit=2)
        if not parts:
            continue
        if len(parts) < 2:
            raise ValidationError(_("测评项目每行应为“代码 名称 [说明]”：%(line)s") % {"line": line})
        code = parts[0]
        if not code.replace("_", "").replace("-", "").isalnum() or not code.isascii() or len(code) > 32:
            raise ValidationError(_("项目代码只能用英文字母、数字、-和_：%(code)s") % {"code": code})
        items.append((code, parts[1], parts[2] if len(parts) > 2 else ""))
    if not items:
        raise ValidationError(_("至少需要一个测评项目"))
    if len({c for c, _l, _h in items}) != len(items):
        raise ValidationError(_("项目代码不能重复"))
    return items


@transaction.atomic
def ballot_form_save(
    *,
    actor: User | None,
    form: BallotForm,
    scale: list[dict[str, Any]],
    items: Sequence[tuple[str, str, str]],
) -> BallotForm:
    """Create or update ``form`` with its scale and items; audited. Return the form."""
    _require_office(actor)
    if form.pk and EventRatee.objects.filter(form=form).exclude(event__status=EventStatus.DRAFT).exists():
        # Ballots were (or are being) cast against this scale and these items.
        raise ValidationError(_("该测评表已用于已开始的测评活动，不能修改；请新建测评表"))
    before = snapshot(form) if form.pk else {}
    form.scale = scale
    form.full_clean()
    form.save()
    form.items.all().delete()
    BallotFormItem.objects.bulk_create(
        BallotFormItem(form=form, code=code, label=label, hint=hint, order=n)
        for n, (code, label, hint) in enumerate(items)
    )
    changes = diff(before, snapshot(form)) if before else snapshot(form)
    changes["items"] = [code for code, _l, _h in items]
    audit_record(
        actor=actor, action=AuditAction.UPDATE if before else AuditAction.CREATE, obj=form, changes=changes
    )
    return form


@transaction.atomic
def default_forms_ensure() -> dict[str, BallotForm]:
    """Return an active form per kind, creating the standard 德能勤绩廉 / team forms if missing."""
    forms: dict[str, BallotForm] = {}
    for kind, (name, items, has_vote) in _DEFAULT_FORMS.items():
        form = BallotForm.objects.filter(kind=kind, is_active=True).order_by("pk").first()
        if form is None:
            form = BallotForm.objects.create(name=name, kind=kind, scale=DEFAULT_SCALE, has_vote=has_vote)
            BallotFormItem.objects.bulk_create(
                BallotFormItem(form=form, code=c, label=lbl, hint=h, order=n)
                for n, (c, lbl, h) in enumerate(items)
            )
        forms[kind] = form
    return forms


# --- events ----------------------------------------------------------------------------------


def _require_status(event: EvaluationEvent, *allowed: str) -> None:
    if event.status not in allowed:
        raise ValidationError(
            _("测评活动当前状态为“%(s)s”，不能进行此操作") % {"s": event.get_status_display()}
        )


@transaction.atomic
def event_create(
    *,
    actor: User | None,
    cycle: Cycle,
    name: str,
    closes_at: datetime,
    flush_batch: int | None = None,
    votes_mode: str = VotesMode.REPLACE,
) -> EvaluationEvent:
    """Create a draft event; audited. Raises CycleLocked when the cycle is closed."""
    _require_office(actor)
    assert_cycle_editable(cycle)
    event = EvaluationEvent(
        cycle=cycle,
        name=name,
        closes_at=closes_at,
        votes_mode=votes_mode,
        created_by=actor if actor is not None and actor.pk else None,
    )
    if flush_batch is not None:
        event.flush_batch = flush_batch
    event.full_clean()
    event.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=event, changes=snapshot(event, _EVENT_FIELDS))
    return event


@transaction.atomic
def event_create_with_cycle_groups(
    *, actor: User | None, cycle: Cycle, name: str, closes_at: datetime, **options: Any
) -> EvaluationEvent:
    """Create a draft event with every rater group of its cycle attached (no expected ballots
    yet), in one transaction so that an event never exists without its groups."""
    event = event_create(actor=actor, cycle=cycle, name=name, closes_at=closes_at, **options)
    event_set_groups(
        actor=actor,
        event=event,
        expected=dict.fromkeys(RaterGroup.objects.filter(cycle=cycle).values_list("pk", flat=True), 0),
    )
    return event


@transaction.atomic
def event_update(
    *,
    actor: User | None,
    event: EvaluationEvent,
    name: str,
    closes_at: datetime,
    flush_batch: int,
    votes_mode: str,
) -> EvaluationEvent:
    """Change an event's name, deadline and settings until it closes; audited. Raises
    CycleLocked when the event's cycle is closed."""
    _require_office(actor)
    event = EvaluationEvent.objects.select_for_update().get(pk=event.pk)
    assert_cycle_editable(event.cycle_id)
    _require_status(event, EventStatus.DRAFT, EventStatus.OPEN)
    before = snapshot(event, _EVENT_FIELDS)
    event.name, event.closes_at, event.flush_batch, event.votes_mode = (
        name,
        closes_at,
        flush_batch,
        votes_mode,
    )
    event.full_clean()
    event.save()
    changes = diff(before, snapshot(event, _EVENT_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=event, changes=changes)
    return event


@transaction.atomic
def event_set_groups(
    *, actor: User | None, event: EvaluationEvent, expected: Mapping[int, int | None]
) -> list[EventGroup]:
    """Set the participating rater groups: ``{rater_group_id: expected ballots or None (absent)}``.

    New groups rate every ratee; a group that already has codes cannot be removed. Raises
    CycleLocked when the event's cycle is closed.
    """
    _require_office(actor)
    event = EvaluationEvent.objects.select_for_update().get(pk=event.pk)
    assert_cycle_editable(event.cycle_id)
    _require_status(event, EventStatus.DRAFT, EventStatus.OPEN)
    valid = set(RaterGroup.objects.filter(cycle_id=event.cycle_id).values_list("pk", flat=True))
    if set(expected) - valid:
        raise ValidationError(_("评价主体不属于本活动的考核周期"))
    existing = {g.rater_group_id: g for g in EventGroup.objects.filter(event=event)}
    for rg_id, count in expected.items():
        group = existing.get(rg_id)
        if count is None:
            if group is not None:
                if group.codes.exists():
                    raise ValidationError(_("“%(g)s”已发放测评码，不能移除") % {"g": group})
                if event.status != EventStatus.DRAFT:
                    raise ValidationError(_("测评开始后不能移除评价主体"))
                group.delete()
            continue
        if group is None:
            if event.status != EventStatus.DRAFT:
                raise ValidationError(_("测评开始后不能增加评价主体"))
            group = EventGroup.objects.create(event=event, rater_group_id=rg_id, expected_ballots=count)
            group.ratees.set(EventRatee.objects.filter(event=event))
        elif group.expected_ballots != count:
            group.expected_ballots = count
            group.save(update_fields=["expected_ballots"])
    groups = list(EventGroup.objects.filter(event=event).select_related("rater_group"))
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=event,
        changes={"groups": {g.rater_group.code: g.expected_ballots for g in groups}},
    )
    return groups


@transaction.atomic
def event_set_ratees(
    *,
    actor: User | None,
    event: EvaluationEvent,
    units: Iterable[Unit],
    kinds: Iterable[str],
    forms: Mapping[str, BallotForm],
) -> int:
    """Replace the ratees with the teams and/or officials (by layer) of ``units``; return how many.

    ``kinds`` picks FormKind values; ``forms`` gives the form per kind. Every ratee is rated by
    every participating group until the matrix says otherwise. Only while the event is a draft
    and its cycle is not closed (CycleLocked).
    """
    _require_office(actor)
    event = EvaluationEvent.objects.select_for_update().get(pk=event.pk)
    assert_cycle_editable(event.cycle_id)
    _require_status(event, EventStatus.DRAFT)
    kinds = set(kinds)
    for kind in kinds:
        if kind not in forms or forms[kind].kind != kind:
            raise ValidationError(_("请为“%(k)s”选择对应的测评表") % {"k": FormKind(kind).label})
    unit_list = sorted(units, key=lambda u: u.code)
    EventRatee.objects.filter(event=event).delete()
    rows: list[EventRatee] = []
    for unit in unit_list:
        if FormKind.TEAM in kinds:
            rows.append(EventRatee(event=event, unit=unit, form=forms[FormKind.TEAM]))
    layer_order = {Layer.HEAD: 0, Layer.MEMBER: 1, Layer.OTHER: 2}
    officials = Official.objects.filter(unit__in=unit_list, is_active=True).select_related("unit")
    for official in sorted(
        officials, key=lambda o: (o.unit.code, layer_order.get(Layer(o.layer), 9), o.code)
    ):
        kind = LAYER_FORM_KIND[Layer(official.layer)]
        if kind in kinds:
            rows.append(EventRatee(event=event, official=official, form=forms[kind]))
    for n, row in enumerate(rows):
        row.order = n
    created = EventRatee.objects.bulk_create(rows)
    through = EventRatee.groups.through
    through.objects.bulk_create(
        through(eventratee_id=r.pk, eventgroup_id=g)
        for g in EventGroup.objects.filter(event=event).values_list("pk", flat=True)
        for r in created
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=event,
        changes={"ratees": len(created), "units": [u.code for u in unit_list], "kinds": sorted(kinds)},
    )
    return len(created)


@transaction.atomic
def event_set_matrix(*, actor: User | None, event: EvaluationEvent, pairs: set[tuple[int, int]]) -> None:
    """Set who rates whom: ``pairs`` of (ratee id, event group id). Only while a draft in a
    cycle that is not closed (CycleLocked)."""
    _require_office(actor)
    event = EvaluationEvent.objects.select_for_update().get(pk=event.pk)
    assert_cycle_editable(event.cycle_id)
    _require_status(event, EventStatus.DRAFT)
    ratees = set(EventRatee.objects.filter(event=event).values_list("pk", flat=True))
    groups = set(EventGroup.objects.filter(event=event).values_list("pk", flat=True))
    if any(r not in ratees or g not in groups for r, g in pairs):
        raise ValidationError(_("测评对象或评价主体不属于本活动"))
    through = EventRatee.groups.through
    through.objects.filter(eventratee__event=event).delete()
    through.objects.bulk_create(through(eventratee_id=r, eventgroup_id=g) for r, g in sorted(pairs))
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=event, changes={"matrix_pairs": len(pairs)})


@transaction.atomic
def event_open(*, actor: User | None, event: EvaluationEvent) -> EvaluationEvent:
    """Start accepting ballots: needs groups, ratees, a group for every ratee and a cycle that
    is not closed (CycleLocked); audited. Return the event."""
    _require_office(actor)
    event = EvaluationEvent.objects.select_for_update().get(pk=event.pk)
    assert_cycle_editable(event.cycle_id)
    _require_status(event, EventStatus.DRAFT)
    if not EventGroup.objects.filter(event=event).exists():
        raise ValidationError(_("请先选择评价主体"))
    if not EventRatee.objects.filter(event=event).exists():
        raise ValidationError(_("请先选择被测评对象"))
    if EventRatee.objects.filter(event=event, groups__isnull=True).exists():
        raise ValidationError(_("有被测评对象没有任何评价主体"))
    event.status = EventStatus.OPEN
    event.save(update_fields=["status"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=event, changes={"status": ["draft", "open"]})
    return event


@transaction.atomic
def codes_issue(
    *, actor: User | None, group: EventGroup, count: int = 0, names: Sequence[str] = ()
) -> list[PrintedCode]:
    """Create one-time codes for ``group`` (``count`` anonymous ones, or one per name in ``names``).

    Returns the codes in clear text — the only time they exist outside a rater's hands; the
    database keeps their hashes and no names. The audit entry records how many, never which.
    Raises CycleLocked when the event's cycle is closed: a code is a ballot into its facts.
    """
    _require_office(actor)
    event = EvaluationEvent.objects.select_for_update().get(pk=group.event_id)
    assert_cycle_editable(event.cycle_id)
    _require_status(event, EventStatus.DRAFT, EventStatus.OPEN)
    labels = [n.strip() for n in names if n.strip()] or [""] * count
    if not labels or len(labels) > MAX_CODES_PER_ISSUE:
        raise ValidationError(_("每次发放 1 至 %(n)d 个测评码") % {"n": MAX_CODES_PER_ISSUE})
    printed = [PrintedCode(code=new_code(), name=name) for name in labels]
    BallotCode.objects.bulk_create(
        BallotCode(event=event, group=group, code_hash=code_hash(p.code)) for p in printed
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=event,
        object_type="evaluations.ballotcode",
        changes={"group": group.rater_group.code, "codes": len(printed), "named": bool(names)},
    )
    return printed
