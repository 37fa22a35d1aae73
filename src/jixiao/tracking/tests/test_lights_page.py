"""The office's lights page, a unit's dashboard, the grading queue and the tracking rules form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jixiao.accounts.models import Role, User
from jixiao.jobs.models import Job, JobKind
from jixiao.organisation.tests.factories import CategoryFactory, UnitFactory, UserFactory
from jixiao.tracking.lights import lights_recompute
from jixiao.tracking.models import TrackingPolicy
from jixiao.tracking.tests.factories import (
    DeclarationFactory,
    DeclaredIndicatorFactory,
    ProgressReportFactory,
    TrackingCycleFactory,
)
from jixiao.web.context_processors import nav_links

ON = date(2026, 6, 1)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def build(units: int, *, category: object = None, lead: object = None) -> None:
    cycle = TrackingCycleFactory()
    category = category or CategoryFactory()
    for n in range(units):
        declaration = DeclarationFactory(cycle=cycle, unit=UnitFactory(category=category))
        good = DeclaredIndicatorFactory(declaration=declaration, lead_department=lead)
        ProgressReportFactory(indicator=good, progress_percent=Decimal("60"))
        if n % 2:
            bad = DeclaredIndicatorFactory(declaration=declaration, lead_department=lead)
            ProgressReportFactory(indicator=bad, progress_percent=Decimal("1"))
    lights_recompute(cycle=cycle, on=ON)


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_lights_page_counts_units_and_indicators_per_colour() -> None:
    build(4)
    page = client_for(UserFactory(role=Role.OFFICE)).get(reverse("tracking:lights")).content.decode()
    assert 'id="units-red">2<' in page and 'id="units-green">2<' in page
    assert 'id="indicator-counts">4 / 0 / 2<' in page


@pytest.mark.django_db
def test_the_lights_page_makes_the_same_number_of_queries_for_5_and_40_units() -> None:
    build(5)
    office = client_for(UserFactory(role=Role.OFFICE))
    url = reverse("tracking:lights")
    few = queries(office, url)
    build_more = TrackingCycleFactory()  # same cycle (get_or_create by year)
    category = CategoryFactory()
    for _n in range(35):
        declaration = DeclarationFactory(cycle=build_more, unit=UnitFactory(category=category))
        DeclaredIndicatorFactory(declaration=declaration)
    lights_recompute(cycle=build_more, on=ON)
    assert queries(office, url) == few
    assert few <= 16


@pytest.mark.django_db
def test_the_lights_page_filters_by_category_and_lead_department() -> None:
    lead = UnitFactory(name="统计局")
    roads = CategoryFactory(name="县市区")
    build(2, category=roads, lead=lead)
    build(3)
    office = client_for(UserFactory(role=Role.OFFICE))
    page = office.get(reverse("tracking:lights"), {"category": roads.pk}).content.decode()
    assert page.count('href="/tracking/units/') == 2
    page = office.get(reverse("tracking:lights"), {"lead": lead.pk}).content.decode()
    assert page.count('href="/tracking/units/') == 2
    assert 'id="indicator-counts">2 / 0 / 1<' in page


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.LIAISON, Role.LEAD_DEPT, Role.OFFICIAL])
def test_unit_bound_roles_cannot_open_the_lights_page(role: Role) -> None:
    build(1)
    user = UserFactory(role=role, unit=UnitFactory())
    assert client_for(user).get(reverse("tracking:lights")).status_code == 403
    assert "/tracking/lights/" not in {u for u, _l in nav_links(user)}


@pytest.mark.django_db
def test_the_navigation_shows_each_role_its_tracking_pages() -> None:
    unit = UnitFactory()
    links = {
        role: {
            u
            for u, _l in nav_links(
                UserFactory(role=role, unit=unit if role in {Role.LIAISON, Role.LEAD_DEPT} else None)
            )
        }
        for role in (Role.OFFICE, Role.LIAISON, Role.LEAD_DEPT, Role.LEADER, Role.AUDITOR)
    }
    assert {"/tracking/lights/", "/tracking/grading/"} <= links[Role.OFFICE]
    assert "/tracking/" in links[Role.LIAISON] and "/tracking/grading/" not in links[Role.LIAISON]
    assert {"/tracking/", "/tracking/grading/"} <= links[Role.LEAD_DEPT]
    assert "/tracking/lights/" in links[Role.LEADER] and "/tracking/grading/" not in links[Role.LEADER]
    assert {"/tracking/lights/", "/tracking/grading/"} <= links[Role.AUDITOR]


@pytest.mark.django_db
def test_the_office_drills_into_a_units_dashboard_with_constant_queries() -> None:
    declaration = DeclarationFactory()
    for _n in range(3):
        ProgressReportFactory(indicator=DeclaredIndicatorFactory(declaration=declaration), period=ON)
    lights_recompute(cycle=declaration.cycle, on=ON)
    office = client_for(UserFactory(role=Role.OFFICE))
    url = reverse("tracking:unit", args=[declaration.unit_id]) + "?period=2026-06"
    few = queries(office, url)
    for _n in range(10):
        ProgressReportFactory(indicator=DeclaredIndicatorFactory(declaration=declaration), period=ON)
    lights_recompute(cycle=declaration.cycle, on=ON)
    assert queries(office, url) == few
    page = office.get(url).content.decode()
    assert page.count("已报送") >= 13


@pytest.mark.django_db
def test_a_liaison_sees_its_own_dashboard_at_tracking_home() -> None:
    declaration = DeclarationFactory()
    DeclaredIndicatorFactory(declaration=declaration, name="招商引资到位资金")
    liaison = UserFactory(role=Role.LIAISON, unit=declaration.unit)
    page = client_for(liaison).get(reverse("tracking:home")).content.decode()
    assert "招商引资到位资金" in page and declaration.unit.name in page
    assert client_for(UserFactory(role=Role.OFFICE)).get(reverse("tracking:home")).status_code == 403


@pytest.mark.django_db
def test_the_office_sets_the_tracking_rules_and_a_lights_job_is_queued(
    django_capture_on_commit_callbacks: object,
) -> None:
    cycle = TrackingCycleFactory()
    office = client_for(UserFactory(role=Role.OFFICE))
    url = reverse("tracking:policy")
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = office.post(
            url, {"yellow_days": "5", "red_share": "75", "report_due_day": "10", "interpolation": "step"}
        )
    assert response.status_code == 302
    policy = TrackingPolicy.objects.get(cycle=cycle)
    assert (policy.yellow_days, policy.red_share, policy.report_due_day) == (5, Decimal("75.00"), 10)
    assert Job.objects.filter(kind=JobKind.TRACKING_LIGHTS, cycle=cycle).exists()
    bad = office.post(
        url, {"yellow_days": "5", "red_share": "150", "report_due_day": "31", "interpolation": "step"}
    )
    assert bad.status_code == 200 and "150" in bad.content.decode()
    liaison = client_for(UserFactory(role=Role.LIAISON, unit=UnitFactory()))
    assert liaison.get(url).status_code == 403
