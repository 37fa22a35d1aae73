from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.accounts.permissions import can_edit_unit, scope_to_units
from jixiao.organisation.models import Official, Unit
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_liaison_sees_only_their_own_unit_and_its_officials() -> None:
    mine, other = UnitFactory(), UnitFactory()
    OfficialFactory(unit=mine)
    OfficialFactory(unit=other)
    liaison = UserFactory(role=Role.LIAISON, unit=mine)
    assert list(scope_to_units(liaison, Unit.objects.all(), unit_path="")) == [mine]
    assert {o.unit_id for o in scope_to_units(liaison, Official.objects.all())} == {mine.pk}


@pytest.mark.parametrize("role", [Role.OFFICE, Role.AUDITOR, Role.LEADER])
def test_office_auditor_and_leader_see_every_unit(role: Role) -> None:
    UnitFactory.create_batch(3)
    assert scope_to_units(UserFactory(role=role), Unit.objects.all(), unit_path="").count() == 3


def test_scoped_user_without_a_unit_sees_nothing() -> None:
    UnitFactory()
    assert not scope_to_units(UserFactory(role=Role.OFFICIAL), Unit.objects.all(), unit_path="").exists()


def test_auditor_never_edits_and_liaison_edits_only_their_unit() -> None:
    mine, other = UnitFactory(), UnitFactory()
    assert not can_edit_unit(UserFactory(role=Role.AUDITOR), mine.pk)
    liaison = UserFactory(role=Role.LIAISON, unit=mine)
    assert can_edit_unit(liaison, mine.pk)
    assert not can_edit_unit(liaison, other.pk)
    assert can_edit_unit(UserFactory(role=Role.OFFICE), other.pk)


def test_liaisons_home_page_has_its_own_to_dos_and_not_the_registry_summary(client: Client) -> None:
    mine = UnitFactory(name="本县")
    OfficialFactory.create_batch(2, unit=mine)
    OfficialFactory.create_batch(5)
    client.force_login(UserFactory(role=Role.LIAISON, unit=mine))
    response = client.get(reverse("web:home"))
    assert response.status_code == 200
    assert "summary" not in response.context
    assert any(g.title == "本单位考核结果" for g in response.context["todos"])


def test_health_check_answers_without_login(client: Client) -> None:
    # Without a worker it answers 503, but it answers (web/tests/test_healthz.py has the rest).
    assert client.get(reverse("web:healthz")).json()["database"] == "ok"
