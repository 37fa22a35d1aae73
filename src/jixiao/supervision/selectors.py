"""Reads of the supervision pages, scoped by role and unit: the office, the leaders and the
auditor see every task; a unit's liaison and lead department see the tasks their unit leads or
helps with; nobody else sees any."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from jixiao.accounts.models import Role, User
from jixiao.accounts.permissions import is_admin_role
from jixiao.schemes.models import Cycle
from jixiao.supervision.lights import light_filter, task_light, yellow_days
from jixiao.supervision.models import (
    ExtensionRequest,
    ExtensionStatus,
    SupervisionTask,
    TaskReport,
    TaskStatus,
)
from jixiao.tracking.lights import Verdict
from jixiao.tracking.models import Light

UNIT_ROLES = {Role.LIAISON, Role.LEAD_DEPT}


def sees_all_tasks(user: User) -> bool:
    return user.is_office or user.role in {Role.LEADER, Role.AUDITOR}


def may_see_supervision(user: User) -> bool:
    """Whether ``user`` has a supervision page at all (the navigation asks)."""
    return sees_all_tasks(user) or (user.role in UNIT_ROLES and user.unit_id is not None)


def reads_bulletins(user: User) -> bool:
    """Issued supervision bulletins are read by every appraisal role (not the administrators)."""
    return not is_admin_role(user)


def visible_tasks(*, user: User) -> QuerySet[SupervisionTask]:
    tasks = SupervisionTask.objects.select_related("lead_unit", "leader", "rating", "cycle")
    if sees_all_tasks(user):
        return tasks
    if user.role in UNIT_ROLES and user.unit_id is not None:
        co = SupervisionTask.co_units.through.objects.filter(
            supervisiontask_id=OuterRef("pk"), unit_id=user.unit_id
        )
        return tasks.filter(Q(lead_unit_id=user.unit_id) | Exists(co))
    return tasks.none()


def task_get(*, user: User, pk: int) -> SupervisionTask:
    """One task ``user`` may see (a 404 otherwise, so another unit's ids reveal nothing)."""
    return get_object_or_404(visible_tasks(user=user), pk=pk)


@dataclass(frozen=True)
class TaskFilters:
    status: str = ""
    source: str = ""
    light: str = ""
    unit: int | None = None
    leader: int | None = None
    q: str = ""


def filtered_tasks(
    tasks: QuerySet[SupervisionTask], *, cycle: Cycle, filters: TaskFilters, on: date
) -> QuerySet[SupervisionTask]:
    """``tasks`` of ``cycle`` narrowed by the list's filters (all served by the cycle indexes)."""
    tasks = tasks.filter(cycle=cycle)
    if filters.status in TaskStatus.values:
        tasks = tasks.filter(status=filters.status)
    if filters.source:
        tasks = tasks.filter(source=filters.source)
    if filters.light in Light.values:
        tasks = tasks.filter(light_filter(filters.light, on=on, days=yellow_days(cycle.pk)))
    if filters.unit:
        tasks = tasks.filter(Q(lead_unit_id=filters.unit) | Q(co_units=filters.unit)).distinct()
    if filters.leader:
        tasks = tasks.filter(leader_id=filters.leader)
    if filters.q:
        tasks = tasks.filter(
            Q(title__icontains=filters.q)
            | Q(number__icontains=filters.q)
            | Q(lead_unit__name__icontains=filters.q)
            | Q(lead_unit__code=filters.q)
        )
    return tasks.order_by("deadline", "pk")


@dataclass(frozen=True)
class TaskRow:
    task: SupervisionTask
    light: Verdict


def with_lights(tasks: list[SupervisionTask], *, cycle: Cycle, on: date) -> list[TaskRow]:
    days = yellow_days(cycle.pk)
    return [TaskRow(t, task_light(t, on=on, days=days)) for t in tasks]


def light_counts(tasks: QuerySet[SupervisionTask], *, cycle: Cycle, on: date) -> dict[str, int]:
    """Red / yellow / green counts of the tasks of ``cycle`` (one aggregate query)."""
    days = yellow_days(cycle.pk)
    found = tasks.filter(cycle=cycle).aggregate(
        red=Count("pk", filter=light_filter(Light.RED, on=on, days=days)),
        yellow=Count("pk", filter=light_filter(Light.YELLOW, on=on, days=days)),
        all=Count("pk"),
    )
    return {
        Light.RED: found["red"],
        Light.YELLOW: found["yellow"],
        Light.GREEN: found["all"] - found["red"] - found["yellow"],
    }


def task_reports(task: SupervisionTask) -> QuerySet[TaskReport]:
    return task.reports.select_related("unit", "reported_by").prefetch_related("evidence")


def pending_extensions(task: SupervisionTask) -> QuerySet[ExtensionRequest]:
    return task.extensions.filter(status=ExtensionStatus.PENDING)
