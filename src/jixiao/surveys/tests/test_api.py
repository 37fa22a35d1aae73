"""The service-system API: bearer tokens scoped to a unit, and its OpenAPI description."""

from __future__ import annotations

import pytest
from django.test import Client

from jixiao.accounts.models import AuditLog, Role
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory, UserFactory
from jixiao.surveys import services
from jixiao.surveys.models import OutboxMessage, ServiceEvent, ServiceToken

pytestmark = [pytest.mark.django_db, pytest.mark.urls("jixiao.surveys.tests.urls")]
URL = "/api/surveys/v1/events"


@pytest.fixture
def issued() -> tuple[ServiceToken, str]:
    office = UserFactory(role=Role.OFFICE)
    return services.service_token_create(actor=office, name="政务服务系统", unit=UnitFactory())


def _post(raw: str | None, body: dict[str, object]) -> object:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"} if raw is not None else {}
    return Client().post(URL, body, content_type="application/json", **headers)


def test_a_missing_token_gets_401() -> None:
    assert _post(None, {"service": "x"}).status_code == 401  # type: ignore[attr-defined]
    assert not ServiceEvent.objects.exists()


def test_an_unknown_token_gets_401() -> None:
    assert _post("jxs_nonsense", {"service": "x"}).status_code == 401  # type: ignore[attr-defined]


def test_a_revoked_token_gets_401_and_revocation_is_audited(issued: tuple[ServiceToken, str]) -> None:
    token, raw = issued
    services.service_token_revoke(actor=UserFactory(role=Role.OFFICE), token=token)
    assert _post(raw, {"service": "x", "channel": "none"}).status_code == 401  # type: ignore[attr-defined]
    assert AuditLog.objects.filter(object_type="surveys.servicetoken").count() == 2


def test_a_valid_token_records_an_event_of_its_unit_and_queues_the_sms(
    issued: tuple[ServiceToken, str],
) -> None:
    token, raw = issued
    official = OfficialFactory(unit=token.unit)
    response = _post(
        raw,
        {
            "service": "不动产登记",
            "official_code": official.code,
            "contact": "13912345678",
            "external_ref": "A1",
        },
    )
    assert response.status_code == 201, response.content  # type: ignore[attr-defined]
    data = response.json()  # type: ignore[attr-defined]
    assert data["unit_code"] == token.unit.code and data["official_code"] == official.code
    assert data["link"] is None  # the rated unit never receives an SMS link
    assert OutboxMessage.objects.count() == 1
    event = ServiceEvent.objects.get()
    assert event.service_token_id == token.pk and event.origin == "api"
    again = _post(raw, {"service": "不动产登记", "contact": "13912345678", "external_ref": "A1"})
    assert again.status_code == 200 and again.json()["duplicate"] is True  # type: ignore[attr-defined]
    assert ServiceEvent.objects.count() == 1
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_only_the_token_hash_is_stored_and_creation_is_audited(issued: tuple[ServiceToken, str]) -> None:
    _token, raw = issued
    assert raw not in repr(list(ServiceToken.objects.values()))
    log = AuditLog.objects.get(object_type="surveys.servicetoken")
    assert raw not in repr(log.changes)


def test_a_token_cannot_post_for_another_unit_or_its_officials(issued: tuple[ServiceToken, str]) -> None:
    _token, raw = issued
    other = UnitFactory()
    assert _post(raw, {"service": "x", "unit_code": other.code, "channel": "none"}).status_code == 403  # type: ignore[attr-defined]
    stranger = OfficialFactory(unit=other)
    assert _post(raw, {"service": "x", "official_code": stranger.code, "channel": "none"}).status_code == 403  # type: ignore[attr-defined]
    assert not ServiceEvent.objects.exists()


def test_an_on_the_spot_event_returns_its_link(issued: tuple[ServiceToken, str]) -> None:
    _token, raw = issued
    data = _post(raw, {"service": "窗口咨询", "channel": "none"}).json()  # type: ignore[attr-defined]
    assert "/surveys/r/" in data["link"]


def test_a_bad_payload_gets_422(issued: tuple[ServiceToken, str]) -> None:
    _token, raw = issued
    assert _post(raw, {"service": "x", "channel": "fax"}).status_code == 422  # type: ignore[attr-defined]
    assert _post(raw, {"service": "x", "contact": "123"}).status_code == 422  # type: ignore[attr-defined]


def test_the_event_status_is_readable_by_its_own_unit_only(issued: tuple[ServiceToken, str]) -> None:
    _token, raw = issued
    event_id = _post(raw, {"service": "x", "channel": "none"}).json()["id"]  # type: ignore[attr-defined]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert Client().get(f"{URL}/{event_id}", **auth).json()["rated"] is False
    _t2, other_raw = services.service_token_create(
        actor=UserFactory(role=Role.OFFICE), name="b", unit=UnitFactory()
    )
    assert Client().get(f"{URL}/{event_id}", HTTP_AUTHORIZATION=f"Bearer {other_raw}").status_code == 404


def test_the_openapi_schema_and_docs_are_served() -> None:
    schema = Client().get("/api/surveys/openapi.json")
    assert schema.status_code == 200
    data = schema.json()
    assert "/api/surveys/v1/events" in data["paths"]
    assert data["components"]["securitySchemes"]["ServiceTokenAuth"]["scheme"] == "bearer"
    assert Client().get("/api/surveys/docs").status_code == 200
