"""A NUL or another control character in any input is a 400 with a Chinese message, never a 500.

PostgreSQL refuses NUL in text, so these tests matter most there (CI runs them on both databases);
on SQLite they check the same refusal.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.evaluations.models import BallotOpinion
from jixiao.evaluations.tests.helpers import full_ballot, issue, make_world
from jixiao.hygiene import has_control_characters
from jixiao.organisation.models import Unit
from jixiao.organisation.tests.factories import CategoryFactory, UnitFactory, UserFactory
from jixiao.surveys import services
from jixiao.surveys.models import ServiceEvent

pytestmark = [pytest.mark.django_db]
MESSAGE = "控制字符"


def _office_client() -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(role=Role.OFFICE))
    return client


def test_tab_newline_and_carriage_return_are_allowed_other_controls_are_not() -> None:
    assert not has_control_characters("第一行\r\n第二行\t说明")
    assert not has_control_characters("\U0001f600 emoji 𠀀")  # astral characters are fine
    for bad in ("\x00", "a\x01b", "\x0b", "\x1b[31m", "\x7f", "\x85", "\udce2"):
        assert has_control_characters(bad), repr(bad)


def test_a_nul_in_a_form_field_is_refused_with_a_message() -> None:
    category = CategoryFactory()
    response = _office_client().post(
        reverse("organisation:unit_create"),
        {"code": "N1", "name": "空字符\x00单位", "short_name": "", "category": category.pk},
    )
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    assert not Unit.objects.filter(code="N1").exists()


def test_a_nul_in_a_ballot_opinion_is_refused_and_nothing_is_stored() -> None:
    world = make_world()
    (code,) = issue(world, world.peers, 1)
    client = Client(raise_request_exception=False)
    assert client.post(reverse("evaluations:ballot_open"), {"code": code}).status_code == 200
    data = {"code": code, **full_ballot(world.peers, opinion="意见\x00")}
    response = client.post(reverse("evaluations:ballot_submit"), data)
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    assert not BallotOpinion.objects.exists()


def test_a_nul_in_a_query_string_is_refused_with_a_message() -> None:
    response = _office_client().get(reverse("facts:indicator_list"), {"q": "a\x00b"})
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()


def test_a_nul_in_the_path_a_cookie_or_a_header_is_refused() -> None:
    client = Client(raise_request_exception=False)
    assert client.get("/org/units/\x00/").status_code == 400
    client.cookies["sessionid"] = "a\x00b"
    assert client.get("/").status_code == 400
    client = Client(raise_request_exception=False)
    response = client.post(
        reverse("accounts:login"), {"username": "x", "password": "y"}, HTTP_USER_AGENT="bot\x00"
    )
    assert response.status_code == 400


def test_a_nul_in_an_api_field_is_a_json_400_and_records_nothing() -> None:
    office = UserFactory(role=Role.OFFICE)
    _token, raw = services.service_token_create(actor=office, name="政务服务系统", unit=UnitFactory())
    for body in (
        {"service": "不动产\x00登记", "channel": "none"},
        {"service": "不动产登记", "channel": "none", "external_ref": "\x00"},
        {"service": "不动产登记", "official_code": "\x1f"},
        {"service": "不动产\udce2登记", "channel": "none"},  # a lone surrogate: not encodable
    ):
        response = Client(raise_request_exception=False).post(
            "/api/surveys/v1/events",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        assert response.status_code == 400, body
        assert MESSAGE in response.json()["detail"]
    assert not ServiceEvent.objects.exists()
