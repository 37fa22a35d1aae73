"""The whole service API under schemathesis, bounded for CI: no input gives a 5xx."""

from __future__ import annotations

import pytest

from jixiao.accounts.models import Role
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory, UserFactory
from jixiao.surveys import services
from jixiao.surveys.tests.apifuzz import fuzz_api

pytestmark = [pytest.mark.django_db]

EXAMPLES_PER_OPERATION = 40  # x 2 modes x 2 operations x 3 callers = 480 requests, ~10 s


def test_no_generated_request_to_the_api_gets_a_server_error() -> None:
    office = UserFactory(role=Role.OFFICE)
    _token, raw = services.service_token_create(actor=office, name="政务服务系统", unit=UnitFactory())
    OfficialFactory(unit=_token.unit)
    _other, other_raw = services.service_token_create(actor=office, name="其他系统", unit=UnitFactory())
    report = fuzz_api(
        callers={
            "unit token": {"Authorization": f"Bearer {raw}"},
            "other unit's token": {"Authorization": f"Bearer {other_raw}"},
            "no token": {},
        },
        examples_per_operation=EXAMPLES_PER_OPERATION,
    )
    assert len(report.operations) >= 2
    assert report.requests > 0
    assert report.server_errors == [], "\n".join(report.server_errors[:5])
