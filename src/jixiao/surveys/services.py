"""Audited writes of the office: surveys, their links, service tokens and the rate-any-time policy."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record, diff, snapshot
from jixiao.accounts.models import AuditAction, User
from jixiao.organisation.models import Official, Unit
from jixiao.schemes.lifecycle import assert_cycle_editable
from jixiao.schemes.models import Cycle
from jixiao.surveys.antiabuse import survey_mark_suspects
from jixiao.surveys.models import (
    DEFAULT_ADDRESS_LIMIT,
    DEFAULT_DEVICE_LIMIT,
    DEFAULT_LIMIT_HOURS,
    RatingPolicy,
    ServiceToken,
    Survey,
    SurveyQuestion,
    SurveyResponse,
    SurveyTarget,
)
from jixiao.surveys.scale import validate_scale
from jixiao.surveys.submit import forget_snapshots

TOKEN_PREFIX_CHARS = 8


def new_link_token() -> str:
    """A 12-character URL-safe code for a public survey link (72 random bits)."""
    return secrets.token_urlsafe(9)


@dataclass(frozen=True)
class SurveyData:
    cycle: Cycle
    title: str
    intro: str
    scale: list[dict[str, Any]]
    tags: list[str]
    questions: list[tuple[str, str]]
    allow_opinion: bool = True
    rater_group: str = "public"
    dedupe_hours: int = 24
    limit_hours: int = DEFAULT_LIMIT_HOURS
    address_limit: int = DEFAULT_ADDRESS_LIMIT
    device_limit: int = DEFAULT_DEVICE_LIMIT
    is_open: bool = True


def _apply(survey: Survey, data: SurveyData) -> None:
    survey.cycle = data.cycle
    survey.title = data.title
    survey.intro = data.intro
    survey.scale = validate_scale(data.scale)
    survey.tags = data.tags
    survey.allow_opinion = data.allow_opinion
    survey.rater_group = data.rater_group
    survey.dedupe_hours = data.dedupe_hours
    survey.limit_hours = data.limit_hours
    survey.address_limit = data.address_limit
    survey.device_limit = data.device_limit
    survey.is_open = data.is_open


def _save_questions(survey: Survey, questions: list[tuple[str, str]]) -> None:
    existing = {q.item: q for q in SurveyQuestion.objects.filter(survey=survey)}
    wanted = {item for item, _text in questions}
    removed = set(existing) - wanted
    if removed and SurveyResponse.objects.filter(survey=survey).exists():
        raise ValidationError(
            _("已有答卷的调查不能删除题目：%(items)s") % {"items": "、".join(sorted(removed))}
        )
    SurveyQuestion.objects.filter(survey=survey, item__in=removed).delete()
    for order, (item, text) in enumerate(questions, start=1):
        question = existing.get(item) or SurveyQuestion(survey=survey, item=item)
        question.text, question.order = text, order
        question.save()


@transaction.atomic
def survey_create(*, actor: User, data: SurveyData, unit_ids: Iterable[int] = ()) -> Survey:
    """Create a survey with its questions and one link per unit in ``unit_ids``; audited. Raises
    CycleLocked when ``data.cycle`` is closed."""
    assert_cycle_editable(data.cycle)
    survey = Survey()
    _apply(survey, data)
    survey.full_clean()
    survey.save()
    _save_questions(survey, data.questions)
    units = list(Unit.objects.filter(pk__in=list(unit_ids)).order_by("code"))
    SurveyTarget.objects.bulk_create(
        [SurveyTarget(survey=survey, unit=u, token=new_link_token()) for u in units]
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=survey,
        changes={**snapshot(survey), "questions": data.questions, "units": [u.code for u in units]},
    )
    return survey


@transaction.atomic
def survey_update(*, actor: User, survey: Survey, data: SurveyData) -> Survey:
    """Change a survey; questions with answers cannot be removed. Audited with the changes. New
    anti-stuffing limits are re-applied at once to the answers already stored. Raises CycleLocked
    when the survey's cycle, or the cycle it would move to, is closed."""
    assert_cycle_editable(survey.cycle_id)
    assert_cycle_editable(data.cycle)
    before = {**snapshot(survey), "questions": list(survey.questions.values_list("item", "text"))}
    limits = (survey.limit_hours, survey.address_limit, survey.device_limit)
    _apply(survey, data)
    survey.full_clean()
    survey.save()
    _save_questions(survey, data.questions)
    if limits != (survey.limit_hours, survey.address_limit, survey.device_limit):
        survey_mark_suspects(survey=survey)
    after = {**snapshot(survey), "questions": [list(q) for q in data.questions]}
    before["questions"] = [list(q) for q in before["questions"]]
    changes = diff(before, after)
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=survey, changes=changes)
    transaction.on_commit(forget_snapshots)
    return survey


@transaction.atomic
def target_add(
    *, actor: User, survey: Survey, unit: Unit, official: Official | None = None, service_point: str = ""
) -> SurveyTarget:
    """Add a link for a unit, one of its officials or a service point; audited. Raises CycleLocked
    when the survey's cycle is closed."""
    assert_cycle_editable(survey.cycle_id)
    if official is not None and official.unit_id != unit.pk:
        raise ValidationError(_("干部“%(name)s”不属于%(unit)s") % {"name": official.name, "unit": unit.name})
    duplicate = SurveyTarget.objects.filter(survey=survey, unit=unit)
    duplicate = (
        duplicate.filter(official=official)
        if official is not None
        else duplicate.filter(official__isnull=True, service_point=service_point.strip())
    )
    if duplicate.exists():
        raise ValidationError(_("该调查点已存在"))
    target = SurveyTarget.objects.create(
        survey=survey,
        unit=unit,
        official=official,
        service_point=service_point.strip()[:100],
        token=new_link_token(),
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=target, changes=snapshot(target))
    return target


@transaction.atomic
def target_set_active(*, actor: User, target: SurveyTarget, active: bool) -> SurveyTarget:
    """Switch a link on or off; audited. Return it. Raises CycleLocked when the survey's cycle is
    closed (a link switched on would collect answers into it)."""
    assert_cycle_editable(Survey.objects.filter(pk=target.survey_id).values_list("cycle_id", flat=True).get())
    if target.is_active != active:
        target.is_active = active
        target.save(update_fields=["is_active"])
        audit_record(
            actor=actor, action=AuditAction.UPDATE, obj=target, changes={"is_active": [not active, active]}
        )
        transaction.on_commit(forget_snapshots)
    return target


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def service_token_create(*, actor: User, name: str, unit: Unit) -> tuple[ServiceToken, str]:
    """Create a bearer token for ``unit``'s service system; return it and the raw token, which is
    shown once and never stored (only its SHA-256)."""
    raw = "jxs_" + secrets.token_urlsafe(32)
    token = ServiceToken.objects.create(
        name=name.strip()[:100] or unit.name,
        unit=unit,
        token_hash=_hash(raw),
        prefix=raw[:TOKEN_PREFIX_CHARS],
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=token,
        changes={"name": token.name, "unit_id": unit.pk, "prefix": token.prefix},
    )
    return token, raw


@transaction.atomic
def service_token_revoke(*, actor: User, token: ServiceToken) -> ServiceToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=token,
            changes={"revoked_at": [None, token.revoked_at]},
        )
    return token


def service_token_authenticate(raw: str) -> ServiceToken | None:
    """Return the live token whose raw value is ``raw``, or None."""
    if not raw or len(raw) > 200:
        return None
    token = (
        ServiceToken.objects.select_related("unit")
        .filter(token_hash=_hash(raw), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        now = timezone.now()
        # Touch last_used_at at most once a minute: a busy service system must not write per request.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ServiceToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def rating_policy_update(*, actor: User, policy: RatingPolicy, values: dict[str, Any]) -> RatingPolicy:
    before = snapshot(policy)
    for name, value in values.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()
    changes = diff(before, snapshot(policy))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=policy, changes=changes)
    return policy
