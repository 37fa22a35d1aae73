"""The password rule (≥ 10 characters, 3 of 4 classes, not common), expiry for the privileged
roles, and the forced change of initial passwords."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jixiao.accounts import services
from jixiao.accounts.models import Role, User
from jixiao.accounts.passwords import password_generate
from jixiao.accounts.validators import character_classes
from jixiao.organisation.tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pw-Jixiao-2025"


@pytest.mark.parametrize(
    "password",
    ["Ab1-xyz", "abcdefghijkl", "abcdefgh1234", "Password123", "12345678901", "ABCDEFGHIJ"],
    ids=["short", "one-class", "two-classes", "common", "numeric", "capitals-only"],
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(ValidationError):
        validate_password(password)


@pytest.mark.parametrize("password", ["Tea-pot-garden9", "qiuyue2025ZHANG", "绩效-考核-2025-abc"])
def test_long_passwords_of_three_classes_pass(password: str) -> None:
    validate_password(password)


def test_character_classes_counts_lower_upper_digit_and_other() -> None:
    assert character_classes("aA1-") == 4
    assert character_classes("绩效abc") == 2  # Chinese counts as "other"


def test_generated_initial_passwords_pass_the_policy() -> None:
    for _ in range(50):
        validate_password(password_generate())


def test_the_refusal_is_in_chinese(client: Client) -> None:
    user = UserFactory(role=Role.LIAISON)
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "abcdefgh1234", "new_password2": "abcdefgh1234"},
    )
    assert "至少 3 类" in response.content.decode()


def test_an_expired_office_password_must_be_changed_and_changing_it_restarts_the_clock(
    client: Client,
) -> None:
    user = UserFactory(role=Role.OFFICE)
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    client.force_login(user)
    response = client.get(reverse("web:home"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_change")
    assert 'id="password-expired"' in client.get(reverse("accounts:password_change")).content.decode()
    new = "Fresh-Tea-2026x"
    client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    user.refresh_from_db()
    assert timezone.now() - user.password_changed_at < timedelta(minutes=1)
    assert client.get(reverse("web:home")).status_code == 200


def test_expiry_is_for_the_privileged_roles_and_follows_the_setting(client: Client, settings: Any) -> None:
    liaison = UserFactory(role=Role.LIAISON, unit=UnitFactory())
    office = UserFactory(role=Role.OFFICE)
    old = timezone.now() - timedelta(days=91)
    User.objects.filter(pk__in=[liaison.pk, office.pk]).update(password_changed_at=old)
    client.force_login(liaison)
    assert client.get(reverse("web:home")).status_code == 200  # a liaison's password never expires
    settings.JIXIAO_PASSWORD_MAX_AGE_DAYS = 0
    client.force_login(office)
    assert client.get(reverse("web:home")).status_code == 200
    settings.JIXIAO_PASSWORD_MAX_AGE_DAYS = 120
    assert client.get(reverse("web:home")).status_code == 200
    settings.JIXIAO_PASSWORD_MAX_AGE_DAYS = 90
    assert client.get(reverse("web:home")).status_code == 302


def test_an_initial_password_must_be_changed_first(client: Client) -> None:
    admin = UserFactory(role=Role.SYSADMIN)
    target = UserFactory(role=Role.LIAISON)
    services.account_password_reset(actor=admin, user=target)
    target.refresh_from_db()
    client.force_login(target)
    assert client.get(reverse("web:home"))["Location"] == reverse("accounts:password_change")
