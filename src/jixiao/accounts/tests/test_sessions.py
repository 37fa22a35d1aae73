"""Sessions end after 30 idle minutes or 12 hours in all; a password change ends the others."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.login_state import AUTH_AT, SEEN_AT
from jixiao.accounts.models import Role
from jixiao.organisation.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pw-Jixiao-2025"


def _shift(client: Client, **seconds_ago: int) -> None:
    session = client.session
    now = int(time.time())
    for key, ago in seconds_ago.items():
        session[{"auth": AUTH_AT, "seen": SEEN_AT}[key]] = now - ago
    session.save()


def _logged_in() -> Client:
    client = Client()
    client.force_login(UserFactory(role=Role.OFFICE))
    return client


def test_defaults_are_thirty_idle_minutes_and_twelve_hours() -> None:
    from jixiao.config import settings as project_settings

    assert project_settings.JIXIAO_SESSION_IDLE_MINUTES == 30
    assert project_settings.JIXIAO_SESSION_MAX_HOURS == 12


def test_a_session_idle_for_thirty_one_minutes_is_logged_out() -> None:
    client = _logged_in()
    _shift(client, seen=31 * 60, auth=31 * 60)
    response = client.get(reverse("web:home"))
    assert response.status_code == 302 and "expired=1" in response["Location"]
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "登录已超时" in page


def test_a_session_used_every_few_minutes_lasts_but_not_past_twelve_hours() -> None:
    client = _logged_in()
    _shift(client, seen=29 * 60, auth=11 * 3600)
    assert client.get(reverse("web:home")).status_code == 200
    assert int(time.time()) - client.session[SEEN_AT] < 5  # the clock was refreshed
    _shift(client, seen=60, auth=12 * 3600 + 60)
    assert client.get(reverse("web:home")).status_code == 302


def test_the_timeouts_follow_the_settings(settings: Any) -> None:
    settings.JIXIAO_SESSION_IDLE_MINUTES = 5
    client = _logged_in()
    _shift(client, seen=6 * 60)
    assert client.get(reverse("web:home")).status_code == 302


def test_changing_the_password_logs_out_every_other_session() -> None:
    user = UserFactory(role=Role.OFFICE, username="kb")
    here, elsewhere = Client(), Client(REMOTE_ADDR="10.0.0.9")
    for client in (here, elsewhere):
        assert (
            client.post(reverse("accounts:login"), {"username": "kb", "password": PASSWORD}).status_code
            == 302
        )
        assert client.get(reverse("web:home")).status_code == 200
    new = "Fresh-Tea-2026x"
    response = here.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert here.get(reverse("web:home")).status_code == 200  # this session carries on
    assert elsewhere.get(reverse("web:home")).status_code == 302  # the other one is gone
    user.refresh_from_db()
    assert user.check_password(new)
