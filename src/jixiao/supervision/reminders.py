"""Supervision reminders, each sent once per task and deadline (notify's cause and due): to the
lead unit's liaisons within the yellow warning before the deadline, and to the office and the
assigning leader once it is overdue. A moved deadline (an approved extension) is a new due date."""

from __future__ import annotations

from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.models import Role, User
from jixiao.jobs.models import Job
from jixiao.jobs.services import JobOutcome, Progress
from jixiao.notifications.services import notify
from jixiao.schemes.models import Cycle, CycleStatus
from jixiao.supervision.lights import yellow_days
from jixiao.supervision.models import OPEN_STATUSES, SupervisionTask


def reminders_run(*, today: date | None = None) -> int:
    """Send the supervision reminders due ``today``; return how many notifications were created."""
    today = today or timezone.localdate()
    office = list(User.objects.filter(role=Role.OFFICE, is_active=True))
    sent = 0
    for cycle in Cycle.objects.filter(status=CycleStatus.OPEN):
        days = yellow_days(cycle.pk)
        tasks = SupervisionTask.objects.filter(
            cycle=cycle,
            status__in=OPEN_STATUSES,
            progress__lt=100,
            deadline__lte=today + timedelta(days=days),
        ).select_related("leader", "lead_unit")
        liaisons: dict[int, list[User]] = {}
        for user in User.objects.filter(
            role=Role.LIAISON, is_active=True, unit_id__in=tasks.values("lead_unit_id")
        ):
            liaisons.setdefault(user.unit_id or 0, []).append(user)
        for task in tasks.iterator(chunk_size=2000):
            link = reverse("supervision:task_detail", args=[task.pk])
            if task.deadline >= today:
                sent += len(
                    notify(
                        recipients=liaisons.get(task.lead_unit_id, []),
                        cause=f"supervision:due:{task.pk}",
                        due=task.deadline,
                        title=_("督查事项临近时限：%(title)s（%(d)s 前办结）")
                        % {"title": task.title, "d": f"{task.deadline:%Y-%m-%d}"},
                        link=link,
                    )
                )
            else:
                sent += len(
                    notify(
                        recipients=[*office, *([task.leader] if task.leader else [])],
                        cause=f"supervision:overdue:{task.pk}",
                        due=task.deadline,
                        title=_("督查事项已逾期：%(title)s（%(unit)s，时限 %(d)s）")
                        % {
                            "title": task.title,
                            "unit": task.lead_unit.name,
                            "d": f"{task.deadline:%Y-%m-%d}",
                        },
                        link=link,
                    )
                )
    return sent


def reminders_job(*, job: Job, progress: Progress) -> JobOutcome:
    """The periodic job (jobs.periodic.PERIODIC)."""
    return JobOutcome(_("已发送督查提醒 %(n)d 条") % {"n": reminders_run()})
