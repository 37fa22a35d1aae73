"""A closed cycle is not scored again: neither from the services nor from ``jixiao compute``."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from jixiao.accounts.models import Role
from jixiao.organisation.tests.factories import UserFactory
from jixiao.results.models import ScoringRun
from jixiao.results.services import run_compute
from jixiao.results.tests.test_compute import cycle_with_facts  # noqa: F401  # the fixture
from jixiao.schemes.lifecycle import CycleLocked, cycle_close, cycle_reopen
from jixiao.schemes.models import Cycle, CycleStatus

pytestmark = pytest.mark.django_db

LOCKED = "2025 年度考核已结束，数据只读；如需修改请由考核办重新开启"


def _close(cycle: Cycle) -> None:
    Cycle.objects.filter(pk=cycle.pk).update(status=CycleStatus.CLOSED)


def test_closed_cycle_refuses_a_compute(cycle_with_facts: dict) -> None:  # noqa: F811
    _close(cycle_with_facts["cycle"])
    with pytest.raises(CycleLocked, match=LOCKED):
        run_compute(cycle=cycle_with_facts["cycle"], actor=None)
    assert not ScoringRun.objects.exists()


def test_compute_command_on_a_closed_cycle_refuses_to_create_a_run(cycle_with_facts: dict) -> None:  # noqa: F811
    _close(cycle_with_facts["cycle"])
    # The command's pre-flight check may word it its own way; the lock is what it must report.
    with pytest.raises(CommandError, match=r"已结束.*数据只读"):
        call_command("compute", cycle=2025)
    assert not ScoringRun.objects.exists()


def test_after_reopening_the_cycle_scores_again(cycle_with_facts: dict) -> None:  # noqa: F811
    cycle = cycle_with_facts["cycle"]
    office = UserFactory(role=Role.OFFICE)
    Cycle.objects.filter(pk=cycle.pk).update(status=CycleStatus.OPEN)
    cycle_close(actor=office, cycle=cycle)
    cycle_reopen(actor=office, cycle=cycle, reason="更正一项指标后重新计分")
    run = run_compute(cycle=cycle, actor=office)
    assert run.number == 1
