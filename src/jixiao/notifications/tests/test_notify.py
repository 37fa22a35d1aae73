"""notify() tells each person once per cause and due date, by inbox, e-mail and the SMS/WeChat
sender, records every send; the inbox shows a user only their own notifications."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.notifications.models import Channel, Delivery, DeliveryStatus, Notification
from jixiao.notifications.selectors import unread_for
from jixiao.notifications.services import notify
from jixiao.organisation.tests.factories import UserFactory
from jixiao.surveys.senders import MemorySender

pytestmark = pytest.mark.django_db

DUE = date(2025, 12, 31)


def test_the_same_cause_and_due_date_notifies_once_and_a_new_due_date_again() -> None:
    user = UserFactory()
    first = notify(recipients=[user], cause="report-due:unit:7", due=DUE, title="请报送年度总结")
    again = notify(recipients=[user], cause="report-due:unit:7", due=DUE, title="请报送年度总结")
    later = notify(
        recipients=[user], cause="report-due:unit:7", due=date(2026, 1, 15), title="请报送年度总结"
    )
    assert (len(first), len(again), len(later)) == (1, 0, 1)
    assert Notification.objects.filter(recipient=user).count() == 2


def test_a_cause_without_due_date_is_also_sent_only_once() -> None:
    user = UserFactory()
    notify(recipients=[user, user], cause="run:1", title="计分完成")
    notify(recipients=[user], cause="run:1", title="计分完成")
    assert Notification.objects.filter(recipient=user, cause="run:1").count() == 1


def test_email_goes_out_once_after_commit_and_is_recorded(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    user = UserFactory(email="liaison@example.cn")
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            notify(
                recipients=[user],
                cause="review:3",
                due=DUE,
                title="请审核指标结果",
                body="共 5 条",
                link="/facts/",
            )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "请审核指标结果" and mail.outbox[0].to == ["liaison@example.cn"]
    assert "/facts/" in mail.outbox[0].body
    channels = sorted(Delivery.objects.values_list("channel", "status", "address"))
    assert channels == [("email", "sent", "l***@example.cn"), ("inbox", "sent", "")]


def test_sms_goes_through_the_pluggable_sender_and_a_failure_is_recorded_not_raised(
    settings: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    settings.JIXIAO_NOTIFY_CHANNELS = ["sms"]
    settings.JIXIAO_RATING_SENDER = "jixiao.surveys.senders.MemorySender"
    MemorySender.sent.clear()
    user = UserFactory(phone="13812345678")
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[user], cause="a", title="提醒")
    assert MemorySender.sent == [("sms", "13812345678", "提醒")]
    settings.JIXIAO_RATING_SENDER = "jixiao.surveys.senders.FailingSender"
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[user], cause="b", title="提醒")
    failed = Delivery.objects.get(channel=Channel.SMS, notification__cause="b")
    assert failed.status == DeliveryStatus.FAILED and failed.address == "138****5678"
    assert "ConnectionError" in failed.error


def test_inactive_users_are_not_notified() -> None:
    assert notify(recipients=[UserFactory(is_active=False)], cause="x", title="t") == []


def test_the_inbox_lists_only_the_users_own_notifications(client: Client) -> None:
    me, other = UserFactory(role=Role.LIAISON), UserFactory(role=Role.LIAISON)
    notify(recipients=[me], cause="mine", title="我的通知")
    [theirs] = notify(recipients=[other], cause="theirs", title="别人的通知")
    client.force_login(me)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "我的通知" in page and "别人的通知" not in page
    assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:mark_read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_unread_count_shows_in_the_navigation_and_opening_marks_read(client: Client) -> None:
    user = UserFactory(role=Role.OFFICE)
    [first, _second] = [*notify(recipients=[user], cause="1", title="一", link="/results/runs/"),
                        *notify(recipients=[user], cause="2", title="二")]  # fmt: skip
    client.force_login(user)
    assert 'title="未读通知">2</span>' in client.get(reverse("notifications:inbox")).content.decode()
    response = client.get(reverse("notifications:open", args=[first.pk]))
    assert response.status_code == 302 and response["Location"] == "/results/runs/"
    assert unread_for(user).count() == 1
    client.post(reverse("notifications:mark_all_read"))
    assert unread_for(user).count() == 0
    assert "未读通知" not in client.get(reverse("notifications:inbox")).content.decode()


def test_a_link_to_another_site_is_not_followed(client: Client) -> None:
    user = UserFactory()
    [n] = notify(recipients=[user], cause="x", title="t", link="https://evil.example/")
    client.force_login(user)
    assert client.get(reverse("notifications:open", args=[n.pk]))["Location"] == reverse(
        "notifications:inbox"
    )
