from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.audit import snapshot
from jixiao.accounts.models import AuditAction, AuditLog, Role
from jixiao.accounts.services import instance_create, instance_delete, instance_update
from jixiao.organisation.models import Region
from jixiao.organisation.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_successful_login_is_audited(client: Client) -> None:
    UserFactory(username="alice")
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": "pw-Jixiao-2025"})
    assert response.status_code == 302
    entry = AuditLog.objects.get(action=AuditAction.LOGIN)
    assert entry.actor_name == "alice"
    assert entry.ip_address == "127.0.0.1"


def test_failed_login_is_audited_with_the_username_tried(client: Client) -> None:
    UserFactory(username="alice")
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    entry = AuditLog.objects.get(action=AuditAction.LOGIN_FAILED)
    assert entry.changes == {"username": "alice"}
    assert entry.actor is None


def test_create_update_delete_record_who_and_what_changed() -> None:
    actor = UserFactory()
    region = instance_create(actor=actor, instance=Region(code="X1", name="甲"))
    before = snapshot(region)
    region.name = "乙"
    instance_update(actor=actor, instance=region, before=before)
    instance_delete(actor=actor, instance=region)
    entries = list(AuditLog.objects.order_by("id").values_list("action", "changes"))
    assert [a for a, _ in entries] == [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE]
    assert entries[1][1] == {"name": ["甲", "乙"]}
    assert entries[2][1]["code"] == "X1"


def test_update_without_changes_writes_no_audit_entry() -> None:
    actor = UserFactory()
    region = instance_create(actor=actor, instance=Region(code="X1", name="甲"))
    instance_update(actor=actor, instance=region, before=snapshot(region))
    assert AuditLog.objects.filter(action=AuditAction.UPDATE).count() == 0


def test_audit_log_page_is_for_the_audit_admin_the_auditor_and_a_granted_office_only(client: Client) -> None:
    for user, expected in [
        (UserFactory(role=Role.AUDITADMIN), 200),
        (UserFactory(role=Role.AUDITOR), 200),
        (UserFactory(role=Role.OFFICE, audit_log_granted=True), 200),
        (UserFactory(role=Role.OFFICE), 403),  # 三权分立: not the log of its own actions by default
        (UserFactory(role=Role.SYSADMIN), 403),
        (UserFactory(role=Role.SECADMIN), 403),
        (UserFactory(role=Role.LIAISON), 403),
        (UserFactory(role=Role.OFFICIAL), 403),
    ]:
        client.force_login(user)
        assert client.get(reverse("accounts:audit_log")).status_code == expected, user.role


def test_password_change_is_audited(client: Client) -> None:
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "pw-Jixiao-2025",
            "new_password1": "An0ther-Secret!",
            "new_password2": "An0ther-Secret!",
        },
    )
    assert response.status_code == 302
    assert AuditLog.objects.filter(action=AuditAction.PASSWORD, actor=user).exists()


def test_anonymous_user_is_sent_to_login(client: Client) -> None:
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
