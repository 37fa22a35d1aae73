"""The second factor: required for the privileged roles in the default configuration, enrolment
with a QR code and recovery codes, verification after the password, the security admin's reset."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from jixiao.accounts import second_factor
from jixiao.accounts.models import AuditAction, AuditLog, Role, User
from jixiao.config import settings as project_settings
from jixiao.organisation.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pw-Jixiao-2025"
DEFAULT_REQUIRED = project_settings.JIXIAO_OTP_REQUIRED_ROLES


@pytest.fixture
def required(settings: Any) -> None:
    """The default configuration's requirement (the test conftest turns it off for force_login)."""
    settings.JIXIAO_OTP_REQUIRED_ROLES = DEFAULT_REQUIRED


def _login(client: Client, username: str, password: str = PASSWORD) -> str:
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    assert response.status_code == 302
    return str(response["Location"])


def test_default_configuration_requires_the_office_and_the_three_administrators() -> None:
    assert set(DEFAULT_REQUIRED) == {Role.OFFICE, Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN}


def test_office_without_a_factor_is_kept_on_the_enrolment_page(client: Client, required: None) -> None:
    UserFactory(username="kb", role=Role.OFFICE)
    _login(client, "kb")
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_setup"))
    page = client.get(reverse("accounts:otp_setup")).content.decode()
    assert "<svg" in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline script for the QR code
    assert 'id="otp-required"' in page


def test_enrolment_issues_ten_recovery_codes_once_and_verifies_the_session(
    client: Client, required: None
) -> None:
    user = UserFactory(username="kb", role=Role.OFFICE)
    _login(client, "kb")
    client.get(reverse("accounts:otp_setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("accounts:otp_setup"), {"token": second_factor.current_code(device)})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    codes = re.findall(r"<li><code>([^<]+)</code></li>", response.content.decode())
    assert len(codes) == second_factor.RECOVERY_CODES == 10
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert client.get(reverse("web:home")).status_code == 200
    assert AuditLog.objects.filter(action=AuditAction.OTP_ENROL, object_id=str(user.pk)).exists()
    # The codes are never shown again: the page now only says the factor is on.
    assert "<code>" not in client.get(reverse("accounts:otp_setup")).content.decode()


def test_a_wrong_enrolment_code_enrols_nothing(client: Client, required: None) -> None:
    user = UserFactory(username="kb", role=Role.OFFICE)
    _login(client, "kb")
    client.get(reverse("accounts:otp_setup"))
    client.post(reverse("accounts:otp_setup"), {"token": "000000x"})
    assert not second_factor.has_second_factor(user)
    assert client.get(reverse("web:home")).status_code == 302


def test_an_enrolled_user_is_asked_for_the_code_after_the_password(client: Client, required: None) -> None:
    user = UserFactory(username="kb", role=Role.OFFICE)
    device = second_factor.demo_device_ensure(user=user, key_hex=second_factor.demo_key("kb"))
    _login(client, "kb")
    response = client.get(reverse("web:home"))
    assert response["Location"].startswith(reverse("accounts:otp_verify"))
    wrong = client.post(reverse("accounts:otp_verify"), {"token": "123456x"})
    assert wrong.status_code == 200 and client.get(reverse("web:home")).status_code == 302
    # django-otp throttles after a wrong code (1 s, doubling); a person waits, the test resets it.
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttle_reset()
    ok = client.post(
        reverse("accounts:otp_verify"), {"token": second_factor.current_code(device), "next": "/"}
    )
    assert ok.status_code == 302 and ok["Location"] == "/"
    assert client.get(reverse("web:home")).status_code == 200


def test_a_recovery_code_logs_in_once(client: Client, required: None) -> None:
    user = UserFactory(username="kb", role=Role.OFFICE)
    second_factor.demo_device_ensure(user=user, key_hex=second_factor.demo_key("kb"))
    code = second_factor.recovery_codes_issue(user=user)[0]
    _login(client, "kb")
    assert client.post(reverse("accounts:otp_verify"), {"token": code}).status_code == 302
    other = Client()
    _login(other, "kb")
    other.post(reverse("accounts:otp_verify"), {"token": code})
    assert other.get(reverse("web:home")).status_code == 302  # used up


def test_the_second_factor_is_optional_for_a_liaison_but_asked_once_enrolled(
    client: Client, required: None
) -> None:
    user = UserFactory(username="ly", role=Role.LIAISON)
    _login(client, "ly")
    assert client.get(reverse("web:home")).status_code == 200
    second_factor.demo_device_ensure(user=user, key_hex=second_factor.demo_key("ly"))
    again = Client()
    _login(again, "ly")
    assert again.get(reverse("web:home"))["Location"].startswith(reverse("accounts:otp_verify"))


def test_the_security_admin_resets_a_second_factor_audited(client: Client, required: None) -> None:
    office = UserFactory(username="kb", role=Role.OFFICE)
    second_factor.demo_device_ensure(user=office, key_hex=second_factor.demo_key("kb"))
    second_factor.recovery_codes_issue(user=office)
    admin = UserFactory(username="aq", role=Role.SECADMIN)
    admin_device = second_factor.demo_device_ensure(user=admin, key_hex=second_factor.demo_key("aq"))
    _login(client, "aq")
    client.post(reverse("accounts:otp_verify"), {"token": second_factor.current_code(admin_device)})
    page = client.get(reverse("accounts:security")).content.decode()
    assert "kb" in page
    client.post(reverse("accounts:otp_reset", args=[office.pk]))
    assert not TOTPDevice.objects.filter(user=office).exists()
    assert not StaticToken.objects.filter(device__user=office).exists()
    entry = AuditLog.objects.get(action=AuditAction.OTP_RESET)
    assert entry.actor == admin and entry.object_id == str(office.pk)
    # The office enrols again at its next login.
    office_client = Client()
    _login(office_client, "kb")
    assert office_client.get("/")["Location"].startswith(reverse("accounts:otp_setup"))


@pytest.mark.parametrize("role", [Role.OFFICE, Role.LIAISON, Role.AUDITOR, Role.SYSADMIN, Role.AUDITADMIN])
def test_only_the_security_admin_resets_second_factors(client: Client, role: Role) -> None:
    target = UserFactory(role=Role.OFFICE)
    client.force_login(UserFactory(role=role))
    assert client.get(reverse("accounts:security")).status_code == 403
    assert client.post(reverse("accounts:otp_reset", args=[target.pk])).status_code == 403


def test_otp_code_prints_the_demo_code_and_refuses_a_real_account() -> None:
    demo = UserFactory(username="kaohe", role=Role.OFFICE)
    device = second_factor.demo_device_ensure(user=demo, key_hex=second_factor.demo_key("kaohe"))
    out = io.StringIO()
    call_command("otp_code", "kaohe", stdout=out)
    assert out.getvalue().strip() == second_factor.current_code(device, at=time.time())
    real = UserFactory(username="real", role=Role.OFFICE)
    TOTPDevice.objects.create(user=real, name="authenticator", confirmed=True)
    with pytest.raises(CommandError):
        call_command("otp_code", "real", stdout=io.StringIO())


def test_demo_privileged_accounts_get_the_demo_authenticator(required: None) -> None:
    from jixiao.demo.accounts import ensure_demo_accounts

    accounts = {user.username: user for user, _ in ensure_demo_accounts()}
    assert TOTPDevice.objects.get(user=accounts["kaohe"]).key == second_factor.demo_key("kaohe")
    assert not TOTPDevice.objects.filter(user=accounts["liaison1"]).exists()
    assert isinstance(accounts["kaohe"], User)
