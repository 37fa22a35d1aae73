"""The office's home page says how the last ledger verification went."""

from __future__ import annotations

import pytest
from django.test import Client

from jixiao.accounts.models import Role
from jixiao.ledger.services import verification_record
from jixiao.ledger.tests.helpers import tamper
from jixiao.ledger.verify import ledger_verify
from jixiao.organisation.tests.factories import UserFactory
from jixiao.web.tests.test_home import _texts, _todos

pytestmark = pytest.mark.django_db


def test_the_office_home_shows_the_last_verification_and_a_failure_as_urgent(client: Client) -> None:
    office = UserFactory(role=Role.OFFICE)
    assert _todos(client, office)["账本校验"].items == []
    verification_record()
    assert any("校验通过" in t for t in _texts(_todos(client, office)["账本校验"]))
    assert ledger_verify(recompute=False).entries > 0
    tamper(
        "UPDATE accounts_auditlog SET object_repr = 'forged' WHERE id = (SELECT min(id) FROM accounts_auditlog)",
        [],
    )
    verification_record()
    group = _todos(client, office)["账本校验"]
    assert group.items[0].urgent and "未通过" in group.items[0].text
