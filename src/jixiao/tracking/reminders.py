"""过程跟踪提醒: the periodic job that tells people what the year's tracking expects of them.

Run hourly by ``jixiao worker`` (jobs.periodic); every reminder goes through
``notifications.services.notify`` with a stable cause and its due date, so each person hears of
each thing once per due date however often the job runs (and recipients already told are left
out before ``notify`` is called, so a rerun writes nothing):

- **reports due** (liaisons): a month's reports are due on the cycle's report due day of the next
  month (tracking policy, default the 5th); from :data:`DAYS_BEFORE` days before it, the liaisons
  of every unit with reports of that month not yet submitted hear it once; after it, once more
  as overdue;
- **reports to grade** (lead departments): once the due day of a month has passed, a lead
  department with submitted but ungraded reports of that month hears it once;
- **race explanations** (liaisons): :data:`DAYS_BEFORE` days before the deadline an explanation
  still owed is reminded once, and once more when it is overdue.

The same job queues the race ranking of a quarterly race left waiting (``race.restart_waiting``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.models import Role, User
from jixiao.declarations.models import DeclarationStatus, DeclaredIndicator
from jixiao.jobs.models import Job
from jixiao.jobs.services import JobOutcome, Progress
from jixiao.notifications.models import Notification
from jixiao.notifications.services import notify
from jixiao.schemes.models import Cycle, CycleStage, CycleStatus
from jixiao.tracking import race
from jixiao.tracking.models import ProgressReport, RaceExplanation, ReportStatus
from jixiao.tracking.models.race import OWED

DAYS_BEFORE = 3  # remind this many days before a due date
DEFAULT_REPORT_DUE_DAY = 5  # tracking policy's default: a month's report is due by the 5th of the next
IN_FORCE = (DeclarationStatus.PUBLISHED, DeclarationStatus.CHANGING)  # targets being reported on


@dataclass(frozen=True)
class Sent:
    reports_due: int = 0
    grading: int = 0
    explanations: int = 0

    @property
    def total(self) -> int:
        return self.reports_due + self.grading + self.explanations


def report_due_day(cycle: Cycle) -> int:
    """The cycle's report due day (tracking policy ``report_due_day``; default the 5th)."""
    policy = getattr(cycle, "tracking_policy", None)  # tracking.TrackingPolicy, when the cycle has one
    return int(getattr(policy, "report_due_day", DEFAULT_REPORT_DUE_DAY) or DEFAULT_REPORT_DUE_DAY)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def due_date(cycle: Cycle, period: date) -> date:
    """When the reports of the month ``period`` are due."""
    return _next_month(period).replace(day=report_due_day(cycle))


def _send(*, recipients: dict[str, list[User]], due: date, title: dict[str, str], link: str) -> int:
    """Notify each cause's recipients not told yet (one query to find them); return how many."""
    told = set(
        Notification.objects.filter(cause__in=list(recipients), due=due).values_list("recipient_id", "cause")
    )
    sent = 0
    for cause, users in recipients.items():
        fresh = [u for u in users if (u.pk, cause) not in told]
        if fresh:
            sent += len(notify(recipients=fresh, cause=cause, due=due, title=title[cause], link=link))
    return sent


def _by_unit(users: Iterable[User]) -> dict[int, list[User]]:
    grouped: dict[int, list[User]] = defaultdict(list)
    for user in users:
        if user.unit_id is not None:
            grouped[user.unit_id].append(user)
    return grouped


def _reports_due(cycle: Cycle, today: date) -> int:
    """Remind liaisons of the month whose reports fall due around ``today``."""
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    sent = 0
    for period in (last_month, today.replace(day=1)):
        if period.year != cycle.year:
            continue
        due = due_date(cycle, period)
        if today < due - timedelta(days=DAYS_BEFORE):
            continue
        overdue = today > due
        if overdue and due < today - timedelta(days=31):
            continue  # a month overdue for over a month is the lights' business, not a daily ping
        done = ProgressReport.objects.filter(
            indicator=OuterRef("pk"),
            period=period,
            status__in=[ReportStatus.SUBMITTED, ReportStatus.GRADED],
        )
        month_end = _next_month(period) - timedelta(days=1)
        missing = dict(
            DeclaredIndicator.objects.filter(declaration__cycle=cycle, declaration__status__in=IN_FORCE)
            .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=month_end))
            .exclude(Exists(done))
            .values("declaration__unit_id")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("declaration__unit_id", "n")
        )
        if not missing:
            continue
        liaisons = _by_unit(User.objects.filter(role=Role.LIAISON, is_active=True, unit_id__in=list(missing)))
        kind = "overdue" if overdue else "due"
        recipients, titles = {}, {}
        for unit_id, users in liaisons.items():
            cause = f"tracking.reports_{kind}:{unit_id}:{period:%Y-%m}"
            recipients[cause] = users
            values = {"month": f"{period:%Y-%m}", "n": missing[unit_id], "due": f"{due:%Y-%m-%d}"}
            titles[cause] = (
                _("%(month)s 有 %(n)d 项月度进展逾期未报送（截止 %(due)s）") % values
                if overdue
                else _("%(month)s 有 %(n)d 项月度进展待报送，截止 %(due)s") % values
            )
        sent += _send(recipients=recipients, due=due, title=titles, link="/tracking/")
    return sent


def _grading(cycle: Cycle, today: date) -> int:
    """Remind lead departments of submitted, ungraded reports of months already due."""
    pending = (
        ProgressReport.objects.filter(
            indicator__declaration__cycle=cycle,
            status=ReportStatus.SUBMITTED,
            indicator__lead_department__isnull=False,
        )
        .values("indicator__lead_department_id", "period")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("indicator__lead_department_id", "period", "n")
    )
    due_rows = [(dept, period, n) for dept, period, n in pending if due_date(cycle, period) <= today]
    if not due_rows:
        return 0
    departments = _by_unit(
        User.objects.filter(role=Role.LEAD_DEPT, is_active=True, unit_id__in={d for d, _p, _n in due_rows})
    )
    sent = 0
    by_due: dict[date, tuple[dict[str, list[User]], dict[str, str]]] = defaultdict(lambda: ({}, {}))
    for dept, period, n in due_rows:
        if dept not in departments:
            continue
        recipients, titles = by_due[due_date(cycle, period)]
        cause = f"tracking.grade_pending:{dept}:{period:%Y-%m}"
        recipients[cause] = departments[dept]
        titles[cause] = _("%(month)s 有 %(n)d 项月度进展待评定") % {"month": f"{period:%Y-%m}", "n": n}
    for due, (recipients, titles) in by_due.items():
        sent += _send(recipients=recipients, due=due, title=titles, link="/tracking/")
    return sent


def _explanations(cycle: Cycle, today: date) -> int:
    """Remind liaisons of explanations due within DAYS_BEFORE days, and once more when overdue."""
    owed = list(
        RaceExplanation.objects.filter(
            race__cycle=cycle, status__in=OWED, race__deadline__lte=today + timedelta(days=DAYS_BEFORE)
        ).select_related("race__category")
    )
    if not owed:
        return 0
    liaisons = _by_unit(
        User.objects.filter(role=Role.LIAISON, is_active=True, unit_id__in={e.unit_id for e in owed})
    )
    sent = 0
    for explanation in owed:
        race = explanation.race
        overdue = race.deadline < today
        cause = f"tracking.race_{'overdue' if overdue else 'due'}:{explanation.pk}"
        values = {"category": race.category.name, "q": race.quarter, "deadline": f"{race.deadline:%Y-%m-%d}"}
        title = (
            _("%(category)s第%(q)d季度复盘说明已逾期（截止 %(deadline)s），请尽快提交") % values
            if overdue
            else _("%(category)s第%(q)d季度复盘说明将于 %(deadline)s 截止") % values
        )
        sent += _send(
            recipients={cause: liaisons.get(explanation.unit_id, [])},
            due=race.deadline,
            title={cause: title},
            link=f"/race/explanations/{explanation.pk}/",
        )
    return sent


def _today() -> date:
    return timezone.localdate()


def reminders_run(*, today: date | None = None) -> Sent:
    """Send every reminder due ``today`` (default: today) in the open cycles; return the counts."""
    today = today or _today()
    reports = grading = explanations = 0
    for cycle in Cycle.objects.filter(status=CycleStatus.OPEN).order_by("year"):
        if cycle.stage in (CycleStage.TRACKING, CycleStage.EVALUATION):
            if cycle.stage == CycleStage.TRACKING:
                reports += _reports_due(cycle, today)
            grading += _grading(cycle, today)
        explanations += _explanations(cycle, today)
    return Sent(reports, grading, explanations)


def reminders_job(*, job: Job, progress: Progress) -> JobOutcome:
    """The periodic job (jobs.periodic.PERIODIC)."""
    race.restart_waiting()
    sent = reminders_run()
    return JobOutcome(
        _("已发送提醒 %(n)d 条（报送 %(r)d，评定 %(g)d，复盘说明 %(e)d）")
        % {"n": sent.total, "r": sent.reports_due, "g": sent.grading, "e": sent.explanations}
    )
