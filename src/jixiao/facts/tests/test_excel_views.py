"""The import pages: who may use them, the upload round trip, and the result page."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.facts.excel import XLSX_CONTENT_TYPE, FactKind
from jixiao.facts.models import EvaluationScore, IndicatorResult
from jixiao.facts.tests.test_excel_setup import World, build_world, results_file, scores_file
from jixiao.organisation.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KINDS = [k.value for k in FactKind]


@pytest.fixture
def world() -> World:
    return build_world()


def import_url(kind: str) -> str:
    return reverse("facts:import", args=[kind])


def post(client: Client, kind: str, upload: io.BytesIO, year: int = 2025) -> Any:
    return client.post(import_url(kind), {"cycle": str(year), "file": upload})


@pytest.mark.parametrize("kind", KINDS)
def test_anonymous_users_are_sent_to_login(client: Client, kind: str) -> None:
    for url in (import_url(kind), reverse("facts:import_template", args=[kind])):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("name", ["facts:score_list", "facts:vote_list"])
def test_anonymous_users_are_sent_to_login_from_the_lists(client: Client, name: str) -> None:
    assert reverse("accounts:login") in client.get(reverse(name))["Location"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_liaison_may_not_import(client: Client, world: World, kind: str) -> None:
    client.force_login(UserFactory(role=Role.LIAISON, unit=world.ua1))
    assert client.get(import_url(kind)).status_code == 403
    assert post(client, kind, results_file(["1.1", "UA1", 1, None, None, None, None])).status_code == 403
    assert not IndicatorResult.objects.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_an_auditor_is_refused_the_upload(client: Client, world: World, kind: str) -> None:
    client.force_login(UserFactory(role=Role.AUDITOR))
    assert (
        post(client, kind, scores_file(["单位", "UA1", "public", "overall", 90, 1, None])).status_code == 403
    )
    assert not EvaluationScore.objects.exists()


@pytest.mark.parametrize("kind", ["scores", "votes", "adjustments"])
def test_a_lead_department_may_import_only_indicator_results(client: Client, world: World, kind: str) -> None:
    client.force_login(world.lead)
    assert client.get(import_url(kind)).status_code == 403
    assert client.get(import_url("results")).status_code == 200


def test_an_unknown_kind_is_not_found(client: Client, world: World) -> None:
    client.force_login(world.office)
    assert client.get(import_url("salaries")).status_code == 404
    assert client.get(reverse("facts:import_template", args=["salaries"])).status_code == 404


def test_the_upload_form_has_csrf_and_a_cycle_chooser_set_to_the_latest_cycle(
    client: Client, world: World
) -> None:
    client.force_login(world.office)
    response = client.get(import_url("scores"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in body and "csrfmiddlewaretoken" in body
    assert '<option value="2025" selected>' in body


def test_an_upload_without_the_csrf_token_is_refused(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.office)
    response = post(client, "results", results_file(["1.1", "UA1", 1, None, None, None, None]))
    assert response.status_code == 403
    assert not IndicatorResult.objects.exists()


def test_a_lead_department_uploads_its_results_and_sees_the_counts(client: Client, world: World) -> None:
    client.force_login(world.lead)
    response = post(client, "results", results_file(["1.1", "UA1", 1, None, None, None, None]))
    assert response.status_code == 200
    assert "新增 1 条" in response.content.decode()
    assert IndicatorResult.objects.get().entered_by == world.lead


def test_a_lead_department_upload_of_another_departments_indicator_lists_the_error(
    client: Client, world: World
) -> None:
    client.force_login(world.lead)
    response = post(client, "results", results_file(["1.2", "UA1", 1, None, None, None, None]))
    assert response.status_code == 422
    body = response.content.decode()
    assert 'class="grid import-errors"' in body
    assert '<td>指标完成情况</td><td class="num">2</td><td>指标编号</td>' in body
    assert not IndicatorResult.objects.exists()


def test_the_office_imports_into_the_chosen_cycle(client: Client, world: World) -> None:
    from jixiao.schemes.tests.factories import CycleFactory

    CycleFactory(year=2024)
    client.force_login(world.office)
    response = post(
        client, "scores", scores_file(["单位", "UA1", "public", "overall", 90, 1, None]), year=2024
    )
    # 2024 has no rater groups: the row is wrong for that cycle.
    assert response.status_code == 422
    response = post(client, "scores", scores_file(["单位", "UA1", "public", "overall", 90, 1, None]))
    assert response.status_code == 200
    assert EvaluationScore.objects.get().cycle == world.cycle


def test_an_upload_that_is_not_a_workbook_is_a_422_with_one_error(client: Client, world: World) -> None:
    client.force_login(world.office)
    upload = io.BytesIO(b"\x00not a workbook")
    upload.name = "votes.xlsx"
    response = post(client, "votes", upload)
    assert response.status_code == 422
    assert "xlsx" in response.content.decode()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", [Role.OFFICE, Role.AUDITOR])
def test_the_office_and_the_auditor_download_every_template(
    client: Client, world: World, kind: str, role: Role
) -> None:
    client.force_login(UserFactory(role=role))
    response = client.get(reverse("facts:import_template", args=[kind]))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_liaison_may_not_download_a_template(client: Client, world: World, kind: str) -> None:
    client.force_login(UserFactory(role=Role.LIAISON, unit=world.ua1))
    assert client.get(reverse("facts:import_template", args=[kind])).status_code == 403


def test_a_lead_department_downloads_the_results_template_only(client: Client, world: World) -> None:
    client.force_login(world.lead)
    assert client.get(reverse("facts:import_template", args=["results"])).status_code == 200
    for kind in ("scores", "votes"):
        assert client.get(reverse("facts:import_template", args=[kind])).status_code == 403


def test_the_facts_pages_link_to_the_import_pages(client: Client, world: World) -> None:
    client.force_login(world.office)
    indicators = client.get(reverse("facts:indicator_list")).content.decode()
    adjustments = client.get(reverse("facts:adjustment_list")).content.decode()
    assert import_url("results") in indicators
    assert import_url("adjustments") in adjustments
    assert reverse("facts:score_list") in adjustments and reverse("facts:vote_list") in adjustments
    client.force_login(world.lead)
    assert import_url("results") in client.get(reverse("facts:indicator_list")).content.decode()
