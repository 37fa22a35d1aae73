"""The evaluation score and vote count lists: aggregated, paginated, for the office and the auditor only."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.facts.models import EvaluationScore, VoteCount
from jixiao.facts.tests.test_excel_setup import World, build_world
from jixiao.organisation.tests.factories import OfficialFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    w = build_world()
    rows = [
        EvaluationScore(cycle=w.cycle, unit=w.ua1, rater_group="public", item="overall", score=90, ballots=3),
        EvaluationScore(cycle=w.cycle, unit=w.ua1, rater_group="public", item="overall", score=80, ballots=1),
        EvaluationScore(cycle=w.cycle, official=w.g1, rater_group="peers", item="overall", score=70),
        EvaluationScore(cycle=w.cycle, unit=w.ub1, rater_group="public", item="overall", score=60),
        EvaluationScore(cycle=w.cycle, official=w.g2, rater_group="public", item="overall", score=50),
    ]
    EvaluationScore.objects.bulk_create(rows)
    VoteCount.objects.create(cycle=w.cycle, official=w.g1, excellent=9, competent=1)
    VoteCount.objects.create(cycle=w.cycle, official=w.g2, excellent=2, competent=8)
    return w


def test_scores_are_aggregated_per_entity_group_and_item_with_a_ballot_weighted_mean(
    client: Client, world: World
) -> None:
    client.force_login(world.office)
    page = client.get(reverse("facts:score_list")).context["page"]
    ua1 = next(r for r in page if r["unit_id"] == world.ua1.pk)
    assert (ua1["rows"], ua1["ballot_total"]) == (2, 4)
    assert ua1["mean"] == pytest.approx((90 * 3 + 80) / 4)
    assert len(page) == 4 and page.total == 5 and not page.approximate  # 5 score rows in 4 groups
    assert "共 5 条" in page.total_text


@pytest.mark.parametrize("role", [Role.LIAISON, Role.LEAD_DEPT, Role.LEADER, Role.OFFICIAL])
@pytest.mark.parametrize("name", ["facts:score_list", "facts:vote_list"])
def test_raw_scores_and_votes_are_refused_to_everyone_but_the_office_and_the_auditor(
    client: Client, world: World, role: Role, name: str
) -> None:
    client.force_login(UserFactory(role=role, unit=world.ua1))
    response = client.get(reverse(name))
    assert response.status_code == 403
    # The random CSRF tokens on the page may contain any letters: leave them out of the search.
    html = re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', "", response.content.decode())
    assert "G1" not in html and "UA1" not in html
    assert "无权" in html  # the product's Chinese 403 page, not a bare English one


def test_the_auditor_reads_every_score_and_vote(client: Client, world: World) -> None:
    client.force_login(UserFactory(role=Role.AUDITOR))
    assert len(client.get(reverse("facts:score_list")).context["page"]) == 4
    assert client.get(reverse("facts:vote_list")).context["page"].paginator.count == 2


def test_the_score_and_vote_selectors_return_nothing_to_a_liaison(world: World) -> None:
    from jixiao.facts import selectors

    liaison = UserFactory(role=Role.LIAISON, unit=world.ua1)
    assert not selectors.evaluation_score_summary(user=liaison, cycle=world.cycle).exists()
    assert not selectors.vote_counts_for(user=liaison, cycle=world.cycle).exists()


def test_the_score_list_filters_by_rater_group_and_entity_type(client: Client, world: World) -> None:
    client.force_login(world.office)
    page = client.get(reverse("facts:score_list"), {"group": "peers"}).context["page"]
    assert [r["official_id"] for r in page] == [world.g1.pk]
    page = client.get(reverse("facts:score_list"), {"entity": "unit"}).context["page"]
    assert {r["unit_id"] for r in page} == {world.ua1.pk, world.ub1.pk}


def test_the_score_list_pages_by_entity_after_a_cursor_and_finds_by_code_or_name(
    client: Client, world: World
) -> None:
    from jixiao.facts import views_excel

    client.force_login(world.office)
    seen: list[tuple[int | None, int | None]] = []
    params: dict[str, str] = {}
    views_excel.SCORE_ENTITIES_PER_PAGE, before = 1, views_excel.SCORE_ENTITIES_PER_PAGE
    try:
        while True:
            page = client.get(reverse("facts:score_list"), params).context["page"]
            seen += [(r["unit_id"], r["official_id"]) for r in page]
            if page.next_after is None:
                break
            params = {"after": page.next_after}
    finally:
        views_excel.SCORE_ENTITIES_PER_PAGE = before
    # Units by code, then officials by code, each once.
    assert seen == [(world.ua1.pk, None), (world.ub1.pk, None), (None, world.g1.pk), (None, world.g2.pk)]
    page = client.get(reverse("facts:score_list"), {"q": world.g2.name}).context["page"]
    assert [r["official_id"] for r in page] == [world.g2.pk]


def test_the_score_list_runs_a_fixed_number_of_queries(client: Client, world: World) -> None:
    client.force_login(world.office)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("facts:score_list"))
    EvaluationScore.objects.bulk_create(
        EvaluationScore(
            cycle=world.cycle, official=OfficialFactory(), rater_group="public", item="overall", score=1
        )
        for _ in range(30)
    )
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("facts:score_list"))
    assert len(many) == len(few)
    assert response.context["page"].next_after is not None  # 34 entities: more than one page


def test_the_vote_list_runs_a_fixed_number_of_queries(client: Client, world: World) -> None:
    client.force_login(world.office)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("facts:vote_list"))
    VoteCount.objects.bulk_create(
        VoteCount(cycle=world.cycle, official=OfficialFactory(), excellent=1) for _ in range(20)
    )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("facts:vote_list"))
    assert len(many) == len(few)


def test_the_import_button_shows_only_to_those_who_may_import(client: Client, world: World) -> None:
    url = reverse("facts:import", args=["scores"])
    client.force_login(world.office)
    assert url in client.get(reverse("facts:score_list")).content.decode()
    client.force_login(UserFactory(role=Role.AUDITOR))
    assert url not in client.get(reverse("facts:score_list")).content.decode()
