"""A task's light is the tracking lights' rule with the deadline as its one point, and the list's
SQL filter picks exactly the tasks whose computed light has that colour."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from jixiao.organisation.tests.factories import UnitFactory
from jixiao.supervision.lights import light_filter, task_light
from jixiao.supervision.models import SupervisionTask, TaskStatus
from jixiao.tracking.models import Light
from jixiao.tracking.tests.factories import TrackingCycleFactory

D0 = date(2026, 6, 1)


def _task(assigned: int, length: int, progress: int, status: str) -> SupervisionTask:
    return SupervisionTask(
        assigned_on=D0 + timedelta(days=assigned),
        deadline=D0 + timedelta(days=assigned + length),
        progress=progress,
        status=status,
    )


@pytest.mark.parametrize(
    ("on", "progress", "status", "color"),
    [
        (date(2026, 6, 20), 0, TaskStatus.SIGNED, Light.GREEN),  # 11 days ahead
        (date(2026, 6, 28), 0, TaskStatus.SIGNED, Light.YELLOW),  # 3 days ahead
        (date(2026, 7, 1), 50, TaskStatus.ASSIGNED, Light.YELLOW),  # the deadline itself
        (date(2026, 7, 2), 90, TaskStatus.SIGNED, Light.RED),  # overdue
        (date(2026, 7, 2), 100, TaskStatus.SIGNED, Light.GREEN),  # done
        (date(2026, 7, 9), 30, TaskStatus.SUBMITTED, Light.GREEN),  # reported done
        (date(2026, 7, 9), 30, TaskStatus.RATED, Light.GREEN),
    ],
)
def test_the_light_follows_the_deadline(on: date, progress: int, status: str, color: str) -> None:
    task = SupervisionTask(assigned_on=D0, deadline=date(2026, 7, 1), progress=progress, status=status)
    assert task_light(task, on=on).color == color


def test_a_task_due_the_day_it_is_assigned_is_yellow_that_day_and_red_after() -> None:
    task = SupervisionTask(assigned_on=D0, deadline=D0, progress=0, status=TaskStatus.ASSIGNED)
    assert task_light(task, on=D0).color == Light.YELLOW
    assert task_light(task, on=D0 + timedelta(days=1)).color == Light.RED


class LightFilterMatchesLightFor(TestCase):
    @settings(max_examples=25, deadline=None)
    @given(
        tasks=st.lists(
            st.tuples(
                st.integers(0, 40),
                st.integers(0, 40),
                st.sampled_from([0, 30, 99, 100]),
                st.sampled_from(TaskStatus.values),
            ),
            min_size=1,
            max_size=8,
        ),
        on=st.integers(-5, 90),
        days=st.integers(0, 7),
    )
    def test_the_sql_filter_selects_the_tasks_of_each_computed_colour(
        self, tasks: list[tuple[int, int, int, str]], on: int, days: int
    ) -> None:
        cycle = TrackingCycleFactory()
        unit = UnitFactory()
        made = []
        for serial, (assigned, length, progress, status) in enumerate(tasks, start=1):
            task = _task(assigned, length, progress, status)
            task.cycle, task.lead_unit, task.serial, task.number, task.title = (
                cycle,
                unit,
                serial,
                f"DB-{serial}",
                "事项",
            )
            task.source = "other"
            task.save()
            made.append(task)
        today = D0 + timedelta(days=on)
        for color in Light.values:
            expected = {t.pk for t in made if task_light(t, on=today, days=days).color == color}
            found = set(
                SupervisionTask.objects.filter(light_filter(color, on=today, days=days)).values_list(
                    "pk", flat=True
                )
            )
            assert found == expected, color
