"""周纪实: an official's weekly work log.

Who writes: a user of role 领导干部 linked to an organisation.Official (``User.official``), one log
per week (the week is its Monday; writing again the same week edits it), about declared
indicators of the official's own unit.

Who reads — the official, the official's superior and the office, nobody else (not the unit's
liaison, not other units, not leaders or auditors). The superior is known from the registry: the
**head of the official's leadership team** (an active official of the same unit whose layer is
班子正职, ``Layer.HEAD``, signed in as that official) reads the logs of the unit's other
officials. A head's own logs are read by the head and the office.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.declarations.models import DeclaredIndicator
from jixiao.hygiene import NOTE_MAX_LENGTH, clean_text
from jixiao.organisation.models import Layer, Official
from jixiao.schemes import lifecycle
from jixiao.schemes.models import Cycle, CycleStatus
from jixiao.tracking.models import Evidence, WorkLog


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def author(user: User) -> Official | None:
    """The official ``user`` writes logs as (role 领导干部 with a linked, active official)."""
    if user.role != Role.OFFICIAL or not user.can_write or user.official_id is None:
        return None
    official = user.official
    return official if official is not None and official.is_active else None


def headed_unit(user: User) -> int | None:
    """The unit whose team ``user`` heads (the official is 班子正职), else None."""
    if user.role != Role.OFFICIAL or user.official_id is None:
        return None
    official = user.official
    if official is None or not official.is_active or official.layer != Layer.HEAD:
        return None
    return official.unit_id


def may_use_worklogs(user: User) -> bool:
    """The work-log pages answer the office and officials linked to an official."""
    return user.is_authenticated and (
        user.is_office or (user.role == Role.OFFICIAL and user.official_id is not None)
    )


def visible_logs(*, user: User) -> QuerySet[WorkLog]:
    """The logs ``user`` may read (see the module docstring), newest week first."""
    logs = WorkLog.objects.select_related("official__unit", "cycle").order_by("-week", "official__code")
    if user.is_office:
        return logs
    if user.role != Role.OFFICIAL or user.official_id is None:
        return logs.none()
    mine = Q(official_id=user.official_id)
    unit = headed_unit(user)
    if unit is not None:
        mine |= Q(official__unit_id=unit)
    return logs.filter(mine)


def cycle_for_week(week: date) -> Cycle | None:
    """The cycle of the week's year when it is open."""
    return Cycle.objects.filter(year=week.year, status=CycleStatus.OPEN).first()


def unit_indicators(*, official: Official, cycle: Cycle | None) -> QuerySet[DeclaredIndicator]:
    """The declared indicators of the official's unit in ``cycle`` a log may name."""
    if cycle is None:
        return DeclaredIndicator.objects.none()
    return DeclaredIndicator.objects.filter(
        declaration__cycle=cycle, declaration__unit_id=official.unit_id
    ).order_by("parent__order", "order", "pk")


def _check_evidence(
    official: Official, cycle: Cycle, evidence_ids: Iterable[int], actor: User
) -> list[Evidence]:
    ids = set(evidence_ids)
    chosen = list(
        Evidence.objects.filter(pk__in=ids, unit_id=official.unit_id, cycle=cycle, uploaded_by=actor)
    )
    if len(chosen) != len(ids):
        raise ValidationError(_("只能附上本人上传的照片与材料"))
    return chosen


@transaction.atomic
def worklog_save(
    *,
    actor: User,
    week: date,
    text: str,
    indicator_ids: Iterable[int] = (),
    evidence_ids: Iterable[int] = (),
) -> WorkLog:
    """Write (or rewrite) ``actor``'s log of the week containing ``week``; return it."""
    official = author(actor)
    if official is None:
        raise PermissionDenied
    week = monday(week)
    if week > monday(timezone.localdate()):
        raise ValidationError(_("不能填写以后各周的纪实"))
    cycle = cycle_for_week(week)
    if cycle is None:
        raise ValidationError(_("%(year)s 年度考核未在进行中，不能填写周纪实") % {"year": week.year})
    lifecycle.assert_cycle_editable(cycle)
    text = clean_text(text, max_length=NOTE_MAX_LENGTH, label=_("工作纪实")).strip()
    if not text:
        raise ValidationError(_("请填写本周工作纪实"))
    ids = set(indicator_ids)
    indicators = list(unit_indicators(official=official, cycle=cycle).filter(pk__in=ids))
    if len(indicators) != len(ids):
        raise ValidationError(_("只能关联本单位的申报指标"))
    evidence = _check_evidence(official, cycle, evidence_ids, actor)
    log, created = WorkLog.objects.select_for_update().get_or_create(
        official=official, week=week, defaults={"cycle": cycle, "text": text}
    )
    if not created:
        log.text = text
        log.save(update_fields=["text", "updated_at"])
    log.indicators.set(indicators)
    log.evidence.set(evidence)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=log,
        changes={"week": week.isoformat(), "indicators": sorted(ids), "evidence": [e.pk for e in evidence]},
    )
    return log
