"""The quarterly race: the office opens it, a job ranks the quarter and asks the bottom three; the
liaison files a 复盘说明; the office accepts or returns it; overdue ones are shown red."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jixiao.jobs.models import Job, JobKind, JobStatus
from jixiao.notifications.models import Notification
from jixiao.tracking import race as races
from jixiao.tracking.models import ExplanationStatus, RaceExplanation, RaceRound, RankingSpan
from jixiao.tracking.tests import race_world
from jixiao.tracking.tests.race_world import IMMEDIATE, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings: Any) -> World:
    settings.TASKS = IMMEDIATE
    w = race_world.build()
    for month in (1, 2, 3):
        race_world.grade_all(w, date(2026, month, 1))
    return w


def _open(world: World, bottom: int = 3, deadline: date | None = None) -> RaceRound:
    rounds, job = races.race_open(
        actor=world.office,
        cycle=world.cycle,
        quarter=1,
        categories=[world.category],
        bottom_count=bottom,
        deadline=deadline or timezone.localdate() + timedelta(days=10),
    )
    assert job is not None and Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED
    return RaceRound.objects.get(pk=rounds[0].pk)


def test_the_bottom_three_of_the_quarter_must_explain_and_their_liaisons_are_told_once(world: World) -> None:
    race = _open(world)
    assert race.ranking is not None and race.ranking.span == RankingSpan.QUARTER
    assert race.ranking.is_published
    explanations = list(race.explanations.order_by("rank"))
    assert [(e.unit, e.rank) for e in explanations] == [(u, i + 3) for i, u in enumerate(world.units[2:])]
    assert all(e.status == ExplanationStatus.PENDING for e in explanations)
    told = Notification.objects.filter(cause__startswith="tracking.race_explanation:")
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted(
        world.liaisons[u.pk].pk for u in world.units[2:]
    )
    assert set(told.values_list("due", flat=True)) == {race.deadline}


def test_a_race_left_waiting_behind_a_busy_job_is_opened_by_the_hourly_tracking_job(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jixiao.jobs.services import JobBusy
    from jixiao.tracking import reminders

    def busy(**_: object) -> None:
        raise JobBusy("busy")

    monkeypatch.setattr(races, "job_start", busy)  # a race job of the cycle is just finishing
    rounds, job = races.race_open(
        actor=world.office, cycle=world.cycle, quarter=1, categories=[world.category], bottom_count=3,
        deadline=timezone.localdate() + timedelta(days=10),
    )  # fmt: skip
    assert job is None and RaceRound.objects.get(pk=rounds[0].pk).opened_at is None
    assert races.restart_waiting() == 0  # still busy: nothing queued twice
    monkeypatch.undo()

    reminders.reminders_job(job=Job(kind=JobKind.TRACKING_REMINDERS), progress=lambda p, s: None)
    race = RaceRound.objects.get(pk=rounds[0].pk)
    assert race.opened_at is not None and race.explanations.count() == 3
    assert races.restart_waiting() == 0  # every race opened: nothing to queue


def test_the_number_of_bottom_units_is_configurable(world: World) -> None:
    race = _open(world, bottom=1)
    assert [e.unit for e in race.explanations.all()] == [world.units[4]]


def test_a_quarter_race_is_opened_once_per_category(world: World) -> None:
    _open(world)
    with pytest.raises(ValidationError, match="已发起"):
        _open(world)


def test_the_liaison_files_the_office_returns_then_accepts(world: World) -> None:
    race = _open(world)
    explanation = race.explanations.get(unit=world.units[4])
    liaison = world.liaisons[world.units[4].pk]
    races.explanation_submit(actor=liaison, explanation=explanation, text="  原因是项目推进慢。  ")
    explanation.refresh_from_db()
    assert explanation.status == ExplanationStatus.SUBMITTED and explanation.text == "原因是项目推进慢。"
    with pytest.raises(ValidationError, match="退回时请填写"):
        races.explanation_review(actor=world.office, explanation=explanation, accept=False, comment="")
    races.explanation_review(actor=world.office, explanation=explanation, accept=False, comment="请补充措施")
    explanation.refresh_from_db()
    assert explanation.status == ExplanationStatus.RETURNED
    assert Notification.objects.filter(
        recipient=liaison, cause__startswith="tracking.race_returned:"
    ).exists()
    races.explanation_submit(actor=liaison, explanation=explanation, text="补充了下一步措施")
    races.explanation_review(actor=world.office, explanation=explanation, accept=True, comment="")
    explanation.refresh_from_db()
    assert explanation.status == ExplanationStatus.ACCEPTED
    with pytest.raises(ValidationError):
        races.explanation_submit(actor=liaison, explanation=explanation, text="再交一次")


def test_another_units_liaison_may_not_file(world: World) -> None:
    race = _open(world)
    explanation = race.explanations.get(unit=world.units[4])
    with pytest.raises(PermissionDenied):
        races.explanation_submit(actor=world.liaisons[world.units[3].pk], explanation=explanation, text="x")
    with pytest.raises(PermissionDenied):
        races.explanation_review(
            actor=world.liaisons[world.units[4].pk], explanation=explanation, accept=True, comment=""
        )


def test_evidence_of_another_unit_cannot_be_attached(world: World) -> None:
    from jixiao.tracking.models import Evidence

    race = _open(world)
    explanation = race.explanations.get(unit=world.units[4])
    foreign = Evidence.objects.create(
        cycle=world.cycle, unit=world.units[0], file="evidence/x.pdf", original_name="x.pdf",
        content_type="application/pdf", size=1, sha256="0" * 64,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="本单位"):
        races.explanation_submit(
            actor=world.liaisons[world.units[4].pk],
            explanation=explanation,
            text="说明",
            evidence_ids=[foreign.pk],
        )


def test_an_owed_explanation_after_the_deadline_is_overdue_and_shown_red(
    world: World, client: Client
) -> None:
    race = _open(world)
    RaceRound.objects.filter(pk=race.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    client.force_login(world.office)
    page = client.get(reverse("race:round_detail", args=[race.pk])).content.decode()
    assert page.count('class="tag bad">已逾期') == 3


def test_the_liaison_files_through_the_page_and_a_bad_form_keeps_the_text(
    world: World, client: Client
) -> None:
    race = _open(world)
    explanation = race.explanations.get(unit=world.units[4])
    client.force_login(world.liaisons[world.units[4].pk])
    url = reverse("race:explanation_detail", args=[explanation.pk])
    page = client.get(url).content.decode()
    assert "提交复盘说明" in page
    bad = client.post(url, {"text": "", "evidence": ["999999"]}).content.decode()
    assert "这个字段是必填项" in bad or "必填" in bad
    assert client.post(url, {"text": "排名靠后的原因"}).status_code == 302
    assert RaceExplanation.objects.get(pk=explanation.pk).status == ExplanationStatus.SUBMITTED


def test_units_see_their_category_race_but_only_their_own_explanation(world: World, client: Client) -> None:
    race = _open(world)
    own = race.explanations.get(unit=world.units[4])
    other = race.explanations.get(unit=world.units[3])
    client.force_login(world.liaisons[world.units[4].pk])
    assert client.get(reverse("race:round_detail", args=[race.pk])).status_code == 200
    assert client.get(reverse("race:explanation_detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("race:explanation_detail", args=[other.pk])).status_code == 404
    assert client.post(reverse("race:explanation_detail", args=[other.pk]), {"text": "x"}).status_code == 404
    client.force_login(world.other_liaison)
    assert client.get(reverse("race:round_detail", args=[race.pk])).status_code == 404


def test_the_auditor_reads_but_never_files_or_reviews(world: World, client: Client) -> None:
    race = _open(world)
    explanation = race.explanations.get(unit=world.units[4])
    client.force_login(world.auditor)
    assert client.get(reverse("race:explanation_detail", args=[explanation.pk])).status_code == 200
    assert (
        client.post(reverse("race:explanation_detail", args=[explanation.pk]), {"text": "x"}).status_code
        == 403
    )
    review = reverse("race:explanation_review", args=[explanation.pk])
    assert client.post(review, {"decision": "accept"}).status_code == 403


def test_the_office_opens_the_race_from_the_page(world: World, client: Client) -> None:
    client.force_login(world.office)
    deadline = timezone.localdate() + timedelta(days=7)
    response = client.post(
        reverse("race:round_open"),
        {"year": "2026", "quarter": "1", "categories": [world.category.pk], "bottom_count": "3",
         "deadline": deadline.isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    assert Job.objects.get(kind=JobKind.RACE_RANKING).status == JobStatus.SUCCEEDED
    assert RaceExplanation.objects.count() == 3
    bad = client.post(
        reverse("race:round_open"),
        {"year": "2026", "quarter": "2", "categories": [world.category.pk], "bottom_count": "3",
         "deadline": "2020-01-01"},
    )  # fmt: skip
    assert bad.status_code == 200 and "截止日期须晚于今天" in bad.content.decode()
