"""Failed logins are counted per (username, address): a burst from one address never stops the
office from logging in at another; delays grow; the security admin unlocks; all of it audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jixiao.accounts import lockout
from jixiao.accounts.models import AuditAction, AuditLog, LoginThrottle, Role
from jixiao.organisation.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pw-Jixiao-2025"


def _post(address: str, username: str, password: str) -> Any:
    return Client(REMOTE_ADDR=address).post(
        reverse("accounts:login"), {"username": username, "password": password}
    )


def test_twenty_failures_from_one_address_do_not_stop_the_office_at_another() -> None:
    UserFactory(username="kb", role=Role.OFFICE)
    statuses = [_post("10.0.0.1", "kb", f"wrong-{i}").status_code for i in range(20)]
    assert statuses.count(429) >= 15  # locked from the 5th failure on
    assert _post("10.0.0.2", "kb", PASSWORD).status_code == 302
    # …while the guessing address stays locked, even with the right password.
    assert _post("10.0.0.1", "kb", PASSWORD).status_code == 429


def test_the_lockout_page_is_chinese_and_names_the_wait() -> None:
    UserFactory(username="kb", role=Role.OFFICE)
    for i in range(5):
        response = _post("10.0.0.1", "kb", f"wrong-{i}")
    page = response.content.decode()
    assert response.status_code == 429
    assert "登录已暂停" in page and "1 分钟后再试" in page and "安全管理员" in page


def test_delays_start_at_the_fifth_failure_and_double_up_to_an_hour() -> None:
    assert lockout.delay_after(4) == timedelta(0)
    assert lockout.delay_after(5) == timedelta(minutes=1)
    assert lockout.delay_after(6) == timedelta(minutes=2)
    assert lockout.delay_after(8) == timedelta(minutes=8)
    assert lockout.delay_after(20) == timedelta(hours=1)
    assert lockout.delay_after(10**9) == timedelta(hours=1)


def test_after_the_wait_one_more_failure_doubles_it() -> None:
    UserFactory(username="kb", role=Role.OFFICE)
    for i in range(5):
        _post("10.0.0.1", "kb", f"wrong-{i}")
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    assert _post("10.0.0.1", "kb", "wrong-again").status_code == 429
    row = LoginThrottle.objects.get()
    assert row.failures == 6
    assert row.locked_until is not None
    assert timedelta(seconds=110) < row.locked_until - timezone.now() <= timedelta(minutes=2)


def test_a_success_clears_the_count() -> None:
    UserFactory(username="kb", role=Role.OFFICE)
    for i in range(4):
        _post("10.0.0.1", "kb", f"wrong-{i}")
    assert _post("10.0.0.1", "kb", PASSWORD).status_code == 302
    assert not LoginThrottle.objects.exists()


def test_case_variants_of_a_username_share_one_count() -> None:
    for i, name in enumerate(["KB", "kb", "Kb", "kB", "KB"]):
        _post("10.0.0.1", name, f"wrong-{i}")
    assert LoginThrottle.objects.get().failures == 5


def test_lockouts_and_unlocks_are_audited_and_the_security_admin_unlocks_at_once() -> None:
    UserFactory(username="kb", role=Role.OFFICE)
    for i in range(5):
        _post("10.0.0.1", "kb", f"wrong-{i}")
    locked = AuditLog.objects.get(action=AuditAction.LOCKOUT)
    assert locked.changes["address"] == "10.0.0.1" and locked.changes["failures"] == 5
    admin = UserFactory(role=Role.SECADMIN)
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("accounts:security")).content.decode()
    assert "10.0.0.1" in page and "解除锁定" in page
    row = LoginThrottle.objects.get()
    client.post(reverse("accounts:lockout_unlock", args=[row.pk]))
    assert not LoginThrottle.objects.exists()
    unlock = AuditLog.objects.get(action=AuditAction.UNLOCK)
    assert unlock.actor == admin and unlock.changes["username"] == "kb"
    assert _post("10.0.0.1", "kb", PASSWORD).status_code == 302


@pytest.mark.parametrize("role", [Role.OFFICE, Role.SYSADMIN, Role.AUDITADMIN, Role.AUDITOR])
def test_only_the_security_admin_unlocks(role: Role) -> None:
    row = LoginThrottle.objects.create(
        username="kb", address="10.0.0.1", failures=9, locked_until=timezone.now() + timedelta(hours=1)
    )
    client = Client()
    client.force_login(UserFactory(role=role))
    assert client.post(reverse("accounts:lockout_unlock", args=[row.pk])).status_code == 403
    assert LoginThrottle.objects.filter(pk=row.pk).exists()
