"""季度赛马: the quarterly race of each category and its 复盘说明.

The office opens a quarter's race for some categories (bottom N, default 3, and a deadline); a
background job ranks each category on the quarter's routine scores (the pure core, through
:mod:`jixiao.tracking.ranking`), publishes that ranking, asks the bottom N units for an
explanation and notifies their liaisons once. The liaison files the text (and evidence of the
unit); the office accepts it or returns it with a comment; a returned one is filed again. An
explanation still owed after the deadline is overdue (shown red; the reminder job tells the
liaisons once).

Who sees what: the office, the auditor and leaders every race and explanation; a unit's people
the races of their own category (its ranking and who is at the bottom, with each status) and
only their own unit's explanation text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.accounts.permissions import can_edit_unit
from jixiao.hygiene import DESCRIPTION_MAX_LENGTH, OPINION_MAX_LENGTH, clean_text
from jixiao.jobs.models import Job, JobKind
from jixiao.jobs.services import JobBusy, JobOutcome, Progress, job_start
from jixiao.notifications.services import notify
from jixiao.organisation.models import UnitCategory
from jixiao.schemes import lifecycle
from jixiao.schemes.models import Cycle, CycleStatus
from jixiao.tracking import ranking as rankings
from jixiao.tracking.models import Evidence, ExplanationStatus, MonthlyRanking, RaceExplanation, RaceRound
from jixiao.tracking.models.race import OWED
from jixiao.tracking.selectors import log_only_evidence


def _office(actor: User | None) -> None:
    if actor is not None and not (actor.is_office and actor.can_write):
        raise PermissionDenied


def _liaisons(unit_ids: Iterable[int]) -> QuerySet[User]:
    return User.objects.filter(role=Role.LIAISON, unit_id__in=list(unit_ids), is_active=True)


@transaction.atomic
def _create_rounds(
    *,
    actor: User,
    cycle: Cycle,
    quarter: int,
    categories: Sequence[UnitCategory],
    bottom_count: int,
    deadline: date,
) -> list[RaceRound]:
    created = []
    for category in categories:
        if RaceRound.objects.filter(cycle=cycle, category=category, quarter=quarter).exists():
            raise ValidationError(
                _("%(category)s第%(q)d季度的赛马已发起") % {"category": category.name, "q": quarter}
            )
        race = RaceRound.objects.create(
            cycle=cycle,
            category=category,
            quarter=quarter,
            bottom_count=bottom_count,
            deadline=deadline,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=race,
            changes={"quarter": quarter, "bottom_count": bottom_count, "deadline": deadline.isoformat()},
        )
        created.append(race)
    return created


def race_open(
    *,
    actor: User,
    cycle: Cycle,
    quarter: int,
    categories: Sequence[UnitCategory],
    bottom_count: int,
    deadline: date,
) -> tuple[list[RaceRound], Job | None]:
    """Create the quarter's race of each category and queue the job that ranks them and asks the
    bottom units for explanations; return the rounds and the job (None when a race job of the
    cycle is already running: it takes the new rounds too)."""
    _office(actor)
    lifecycle.assert_stage(cycle, rankings.RANKING_STAGES, _("发起季度赛马"))
    if not 1 <= quarter <= 4:
        raise ValidationError(_("季度须为 1 至 4"))
    if not categories:
        raise ValidationError(_("请至少选择一个类别"))
    if deadline <= timezone.localdate():
        raise ValidationError(_("截止日期须晚于今天"))
    rounds = _create_rounds(
        actor=actor,
        cycle=cycle,
        quarter=quarter,
        categories=categories,
        bottom_count=bottom_count,
        deadline=deadline,
    )
    try:
        job: Job | None = job_start(kind=JobKind.RACE_RANKING, actor=actor, cycle=cycle, params={})
    except JobBusy:
        job = None
    return rounds, job


def _open_round(race: RaceRound, actor: User | None) -> int:
    """Rank the round's category on the quarter, publish the ranking, ask the bottom units;
    return how many units were asked."""
    period = rankings.quarter(race.cycle.year, race.quarter)
    stored = rankings.rankings_compute(cycle=race.cycle, period=period, actor=actor, category=race.category)
    ranking = stored[0] if stored else None
    if ranking is None:  # already published by an earlier round: reuse it
        ranking = MonthlyRanking.objects.get(
            cycle=race.cycle, category=race.category, span=period.span, period=period.start
        )
    with transaction.atomic():
        locked = RaceRound.objects.select_for_update().get(pk=race.pk)
        if locked.opened_at is not None:
            return 0
        now = timezone.now()
        if ranking.published_at is None:
            ranking.published_at, ranking.published_by = (
                now,
                actor if actor is not None and actor.pk else None,
            )
            ranking.save(update_fields=["published_at", "published_by"])
        bottom = list(
            ranking.rows.filter(rank__gt=max(ranking.unit_count - locked.bottom_count, 0)).order_by("rank")
        )
        explanations = RaceExplanation.objects.bulk_create(
            [RaceExplanation(race=locked, unit_id=row.unit_id, rank=row.rank) for row in bottom]
        )
        locked.ranking, locked.opened_at = ranking, now
        locked.save(update_fields=["ranking", "opened_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=locked,
            changes={"opened": True, "bottom_units": [row.unit_id for row in bottom]},
        )
        for explanation in explanations:
            notify(
                recipients=_liaisons([explanation.unit_id]),
                cause=f"tracking.race_explanation:{explanation.pk}",
                due=locked.deadline,
                title=_("%(category)s第%(q)d季度赛马排名第%(rank)d位，请于%(deadline)s前提交复盘说明")
                % {
                    "category": locked.category.name,
                    "q": locked.quarter,
                    "rank": explanation.rank,
                    "deadline": f"{locked.deadline:%Y-%m-%d}",
                },
                link=f"/race/explanations/{explanation.pk}/",
            )
    return len(bottom)


def race_job(*, job: Job, progress: Progress) -> JobOutcome:
    """The background job: open every race of the cycle not yet opened (new ones included)."""
    assert job.cycle is not None
    opened = asked = 0
    while True:
        waiting = list(
            RaceRound.objects.filter(cycle=job.cycle, opened_at__isnull=True)
            .select_related("cycle", "category")
            .order_by("quarter", "category__order", "pk")
        )
        if not waiting:
            break
        for race in waiting:
            progress(min(95, 10 + opened * 10), _("排名：%(c)s") % {"c": race.category.name})
            asked += _open_round(race, job.created_by)
            opened += 1
    return JobOutcome(
        _("已完成 %(n)d 个类别的季度排名，%(m)d 个单位须提交复盘说明") % {"n": opened, "m": asked},
        f"/race/rounds/?year={job.cycle.year}",
    )


def restart_waiting() -> int:
    """Queue the race job of every open cycle with a race not yet opened and no race job active;
    return how many were queued. ``race_open`` leaves its rounds to a race job already running,
    which takes new rounds until it finds none; rounds created just after that last look would
    wait for ever, so the hourly tracking job (``reminders_job``) calls this."""
    started = 0
    cycles = Cycle.objects.filter(status=CycleStatus.OPEN, pk__in=RaceRound.objects.filter(
        opened_at__isnull=True).values("cycle_id"))  # fmt: skip
    for cycle in cycles.order_by("year"):
        try:
            job_start(kind=JobKind.RACE_RANKING, actor=None, cycle=cycle, params={})
        except JobBusy:
            continue
        started += 1
    return started


def _evidence(explanation: RaceExplanation, evidence_ids: Iterable[int]) -> list[Evidence]:
    ids = set(evidence_ids)
    chosen = list(Evidence.objects.filter(pk__in=ids, unit_id=explanation.unit_id))
    if len(chosen) != len(ids):
        raise ValidationError(_("只能选择本单位的佐证材料"))
    return chosen


@transaction.atomic
def explanation_submit(
    *, actor: User, explanation: RaceExplanation, text: str, evidence_ids: Iterable[int] = ()
) -> RaceExplanation:
    """File (or file again, after a return) a unit's 复盘说明; return it."""
    if actor.role != Role.LIAISON and not actor.is_office:
        raise PermissionDenied
    if not can_edit_unit(actor, explanation.unit_id):
        raise PermissionDenied
    locked = RaceExplanation.objects.select_for_update().select_related("race").get(pk=explanation.pk)
    lifecycle.assert_stage(locked.race.cycle_id, rankings.RANKING_STAGES, _("提交复盘说明"))
    if locked.status not in OWED:
        raise ValidationError(_("该复盘说明已提交，不能重复提交"))
    text = clean_text(text, max_length=DESCRIPTION_MAX_LENGTH, label=_("复盘说明")).strip()
    if not text:
        raise ValidationError(_("请填写复盘说明"))
    chosen = _evidence(locked, evidence_ids)
    locked.text = text
    locked.status = ExplanationStatus.SUBMITTED
    locked.submitted_at, locked.submitted_by = timezone.now(), actor
    locked.save(update_fields=["text", "status", "submitted_at", "submitted_by"])
    locked.evidence.set(chosen)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        changes={"status": locked.status, "evidence": [e.pk for e in chosen], "late": is_overdue(locked)},
    )
    return locked


@transaction.atomic
def explanation_review(
    *, actor: User, explanation: RaceExplanation, accept: bool, comment: str
) -> RaceExplanation:
    """The office accepts a filed explanation or returns it with a comment (the liaisons are
    told); return it."""
    _office(actor)
    locked = (
        RaceExplanation.objects.select_for_update().select_related("race__category").get(pk=explanation.pk)
    )
    lifecycle.assert_stage(locked.race.cycle_id, rankings.RANKING_STAGES, _("审核复盘说明"))
    if locked.status != ExplanationStatus.SUBMITTED:
        raise ValidationError(_("只有待审核的复盘说明可以审核"))
    comment = clean_text(comment, max_length=OPINION_MAX_LENGTH, label=_("审核意见")).strip()
    if not accept and not comment:
        raise ValidationError(_("退回时请填写审核意见"))
    locked.status = ExplanationStatus.ACCEPTED if accept else ExplanationStatus.RETURNED
    locked.review_comment = comment
    locked.reviewed_at, locked.reviewed_by = timezone.now(), actor
    locked.save(update_fields=["status", "review_comment", "reviewed_at", "reviewed_by"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        changes={"status": locked.status, "comment": comment},
    )
    if not accept:
        notify(
            recipients=_liaisons([locked.unit_id]),
            cause=f"tracking.race_returned:{locked.pk}:{locked.reviewed_at:%Y%m%d%H%M%S%f}",
            due=locked.race.deadline,
            title=_("%(category)s第%(q)d季度复盘说明被退回，请修改后重新提交")
            % {"category": locked.race.category.name, "q": locked.race.quarter},
            body=comment,
            link=f"/race/explanations/{locked.pk}/",
        )
    return locked


# --- reads ------------------------------------------------------------------------------------


def is_overdue(explanation: RaceExplanation, today: date | None = None) -> bool:
    """Still owed after the deadline."""
    today = today or timezone.localdate()
    return explanation.status in OWED and explanation.race.deadline < today


def sees_every_race(user: User) -> bool:
    return user.sees_all_units


def visible_rounds(*, user: User) -> QuerySet[RaceRound]:
    """The races ``user`` may open, latest quarter first."""
    rounds = RaceRound.objects.select_related("category", "cycle", "ranking").order_by(
        "-quarter", "category__order"
    )
    if sees_every_race(user):
        return rounds
    if user.unit_id is None:
        return rounds.none()
    return rounds.filter(category__units=user.unit_id)


def with_overdue(
    explanations: QuerySet[RaceExplanation], today: date | None = None
) -> QuerySet[RaceExplanation]:
    """``explanations`` annotated with ``overdue`` (still owed after the deadline)."""
    today = today or timezone.localdate()
    return explanations.annotate(
        overdue=Case(
            When(Q(status__in=OWED, race__deadline__lt=today), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def round_explanations(*, race: RaceRound) -> QuerySet[RaceExplanation]:
    return with_overdue(race.explanations.select_related("unit", "race").order_by("rank"))


def visible_explanations(*, user: User) -> QuerySet[RaceExplanation]:
    """The explanations whose text ``user`` may read: every one for those who see all units, else
    the own unit's."""
    explanations = RaceExplanation.objects.select_related("race__category", "race__cycle", "unit")
    if sees_every_race(user):
        return with_overdue(explanations)
    if user.unit_id is None:
        return explanations.none()
    return with_overdue(explanations.filter(unit_id=user.unit_id))


def unit_evidence(*, explanation: RaceExplanation) -> QuerySet[Evidence]:
    """The unit's evidence of the race's cycle, to attach to the explanation (not the photos of
    the officials' weekly logs, :func:`jixiao.tracking.selectors.log_only_evidence`)."""
    return (
        Evidence.objects.filter(unit_id=explanation.unit_id, cycle_id=explanation.race.cycle_id)
        .exclude(log_only_evidence())
        .order_by("-uploaded_at", "-pk")
    )
