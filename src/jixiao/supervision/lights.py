"""A task's red/yellow/green light: the tracking lights' one rule (:func:`light_for`) applied to a
task as one target, 100 % by its deadline. Yellow within the cycle's ``yellow_days`` of the
deadline, red once the deadline has passed; a task reported done or rated is green. The SQL form
(:func:`light_filter`) filters the office's list by light with the same boundaries (tested equal)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q

from jixiao.supervision.models import OPEN_STATUSES, SupervisionTask
from jixiao.tracking.lights import LightRules, Verdict, light_for
from jixiao.tracking.models import Light, TrackingPolicy
from jixiao.tracking.models.policy import DEFAULT_YELLOW_DAYS


def yellow_days(cycle_id: int) -> int:
    """The cycle's yellow warning in days (its tracking policy's, or the default 3)."""
    policy = TrackingPolicy.objects.filter(cycle_id=cycle_id).only("yellow_days").first()
    return policy.yellow_days if policy is not None else DEFAULT_YELLOW_DAYS


def task_light(task: SupervisionTask, *, on: date, days: int = DEFAULT_YELLOW_DAYS) -> Verdict:
    """The light of ``task`` on ``on`` with a yellow warning of ``days`` days."""
    # Reported progress counts for nothing but completion: a task has one point, its deadline,
    # so the share-of-expected rule is off (red_share 0) and only the deadline decides.
    rules = LightRules(yellow_days=days, red_share=Decimal(0))
    # The day before assignment: a task due the day it is assigned still has its deadline as a
    # point of the schedule (light_for drops an end that falls on the start).
    start = task.assigned_on - timedelta(days=1)
    return light_for(
        milestones=[],
        start=start,
        end=task.deadline,
        on=on,
        reported=Decimal(task.progress),
        completed=task.status not in OPEN_STATUSES,
        rules=rules,
    )


def light_filter(light: str, *, on: date, days: int = DEFAULT_YELLOW_DAYS) -> Q:
    """Tasks whose light on ``on`` is ``light`` (a :class:`Light` value), as a filter."""
    open_ = Q(status__in=OPEN_STATUSES, progress__lt=100, assigned_on__lte=on + timedelta(days=1))
    red = open_ & Q(deadline__lt=on)
    yellow = open_ & Q(deadline__gte=on, deadline__lte=on + timedelta(days=days))
    if light == Light.RED:
        return red
    if light == Light.YELLOW:
        return yellow
    return ~(red | yellow)
