"""Free text is bounded at the model, the form, the services, the import specs and the API, and
the audit log keeps each entry small whatever was changed."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jixiao.accounts.audit import AUDIT_LIST_MAX, AUDIT_TEXT_MAX, audit_record
from jixiao.accounts.models import AuditLog, Role
from jixiao.facts import services as facts_services
from jixiao.facts.excel.specs import SHEETS
from jixiao.facts.models import Adjustment, AdjustmentKind
from jixiao.hygiene import NOTE_MAX_LENGTH, OPINION_MAX_LENGTH
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.tests.factories import CycleFactory
from jixiao.surveys import ratetime, services
from jixiao.surveys.models import ServiceEvent, ServiceRating

pytestmark = [pytest.mark.django_db]

# TextFields whose app another helper of issue 8 owns (their limits come at merge time), and
# ciphertext the system writes itself.
EXEMPT = {
    "surveys.OutboxMessage.sealed",  # ciphertext of a phone number and one SMS, written by seal()
}


def test_every_text_field_of_the_product_has_a_length_limit() -> None:
    unbounded = [
        f"{m._meta.app_label}.{m.__name__}.{f.name}"
        for m in apps.get_models()
        if m.__module__.startswith("jixiao.")
        for f in m._meta.get_fields()
        if isinstance(f, models.TextField) and f.max_length is None
    ]
    assert sorted(set(unbounded) - EXEMPT) == []


def test_the_adjustment_form_refuses_a_reason_longer_than_the_limit(client: Client) -> None:
    CycleFactory(year=2025)
    client.force_login(UserFactory(role=Role.OFFICE))
    unit = UnitFactory()
    data = {"kind": "deduction", "unit": unit.pk, "points": "2", "source": "督查"}
    url = reverse("facts:adjustment_create") + "?year=2025"
    response = client.post(url, {**data, "reason": "迟" * (NOTE_MAX_LENGTH + 1)})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert not Adjustment.objects.exists()
    assert f'maxlength="{NOTE_MAX_LENGTH}"' in client.get(url).content.decode()


def test_the_adjustment_service_refuses_a_long_reason_written_without_a_form() -> None:
    cycle = CycleFactory(year=2025)
    with pytest.raises(ValidationError, match="事由"):
        facts_services.adjustment_create(
            actor=UserFactory(role=Role.OFFICE), cycle_id=cycle.pk, kind=AdjustmentKind.DEDUCTION,
            source="督查", reason="迟" * (NOTE_MAX_LENGTH + 1), unit=UnitFactory(), points=1.0,
        )  # fmt: skip
    assert not Adjustment.objects.exists()


def test_imports_bound_evidence_and_reasons_as_the_models_do() -> None:
    limits = {(s.kind, c.key): c.max_length for s in SHEETS for c in s.columns}
    bounded = {key: n for key, n in limits.items() if key[1] in {"evidence", "reason"}}
    assert bounded and set(bounded.values()) == {NOTE_MAX_LENGTH}


def test_the_api_refuses_fields_longer_than_their_columns_instead_of_cutting_them() -> None:
    _token, raw = services.service_token_create(
        actor=UserFactory(role=Role.OFFICE), name="政务服务系统", unit=UnitFactory()
    )
    for body in (
        {"service": "办" * 121, "channel": "none"},
        {"service": "办事", "channel": "none", "external_ref": "R" * 65},
    ):
        response = Client().post(
            "/api/surveys/v1/events",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        assert response.status_code == 422, body
    assert not ServiceEvent.objects.exists()


def test_an_anonymous_opinion_is_cut_to_the_limit_not_refused() -> None:
    recorded = ratetime.event_record(unit=UnitFactory(), official=None, service="办事", channel="none")
    assert recorded.link is not None
    token = re.split(r"[/#=]", recorded.link.rstrip("/"))[-1]
    ratetime.rating_submit(token=token, score=9, tags=[], opinion="好" * 5_000, now=timezone.now())
    assert len(ServiceRating.objects.get().opinion) == OPINION_MAX_LENGTH


def test_the_audit_log_keeps_long_values_short_and_refuses_no_control_character() -> None:
    entry = audit_record(
        actor=None,
        action="update",
        object_type="facts.indicatorresult",
        changes={"evidence": ["", "长" * 100_000], "units": list(range(1_000)), "note": "a\x00b"},
    )
    entry.refresh_from_db()
    old, new = entry.changes["evidence"]
    assert old == "" and len(new) < AUDIT_TEXT_MAX + 20 and "100000" in new
    assert len(entry.changes["units"]) == AUDIT_LIST_MAX + 1
    assert entry.changes["note"] == "a\ufffdb"
    assert len(str(AuditLog.objects.values_list("changes", flat=True).get())) < 2_000
