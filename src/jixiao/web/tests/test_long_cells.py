"""List pages stay small with long text: cells are cut (the full text up to the field's limit in
the title) and the lists paginate. Rows written before the limits existed can be huge, so they are
created here directly, bypassing the services."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import AuditLog, Role
from jixiao.facts.models import Adjustment, AdjustmentKind
from jixiao.notifications.models import Notification
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.tests.factories import CycleFactory

pytestmark = [pytest.mark.django_db]
HUGE = "长" * 100_000


@pytest.fixture
def office() -> Client:
    client = Client()
    client.force_login(UserFactory(role=Role.OFFICE))
    return client


def test_the_adjustment_list_cuts_a_huge_reason_and_paginates(office: Client) -> None:
    cycle = CycleFactory(year=2025)
    unit = UnitFactory()
    for i in range(30):
        Adjustment.objects.create(
            cycle=cycle, unit=unit, kind=AdjustmentKind.BONUS, points=1, source=f"SRC{i:02d}", reason=HUGE
        )
    response = office.get(reverse("facts:adjustment_list"), {"year": 2025})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("SRC") == 25 and "page=2" in body
    assert len(response.content) < 25 * 2_100 * 3 + 60_000  # each row: a title of at most 2,000 characters


def test_the_audit_log_cuts_a_huge_change(client: Client) -> None:
    for _ in range(5):
        AuditLog.objects.create(actor_name="x", action="update", object_type="facts.adjustment",
                                changes={"reason": ["", HUGE]})  # fmt: skip
    client.force_login(UserFactory(role=Role.AUDITADMIN))
    response = client.get(reverse("accounts:audit_log"))
    assert response.status_code == 200
    assert len(response.content) < 5 * 2_100 * 3 + 60_000


def test_the_inbox_cuts_a_huge_notification_body() -> None:
    user = UserFactory(role=Role.OFFICE)
    Notification.objects.create(recipient=user, cause="x", title="任务完成", body=HUGE)
    client = Client()
    client.force_login(user)
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 200
    assert len(response.content) < 60_000
