"""The one service every part of the product calls to tell someone something: :func:`notify`.

Idempotent per (recipient, cause, due date): a reminder that runs every minute notifies once. The
inbox row is written first; the e-mail (Django's e-mail backend: console in the demo, SMTP from
the environment) and SMS/WeChat (the pluggable sender of ``JIXIAO_RATING_SENDER``) go out after
the transaction commits, so a rolled-back write never sends, and each attempt is recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from jixiao.accounts.models import User
from jixiao.hygiene import MESSAGE_MAX_LENGTH, truncate_text
from jixiao.notifications.models import Channel, Delivery, DeliveryStatus, Notification
from jixiao.surveys.senders import get_sender, mask

logger = logging.getLogger(__name__)

CHANNELS_SETTING = "JIXIAO_NOTIFY_CHANNELS"
ERROR_LENGTH = 300


def _absolute(link: str) -> str:
    base = str(getattr(settings, "JIXIAO_PUBLIC_BASE_URL", "") or "").rstrip("/")
    return f"{base}{link}" if base and link.startswith("/") else link


def _mask_email(address: str) -> str:
    name, _, domain = address.partition("@")
    return f"{name[:1]}***@{domain}" if domain else mask(address)


def _send(notification: Notification, channel: Channel, address: str, shown: str) -> None:
    try:
        if channel == Channel.EMAIL:
            text = notification.body
            if notification.link:
                text = f"{text}\n\n{_absolute(notification.link)}".strip()
            send_mail(notification.title, text, None, [address])
        else:
            get_sender().send(channel=channel.value, recipient=address, text=notification.title)
    except Exception as exc:  # a delivery failure is recorded, never raised into the caller
        logger.warning("notification %s via %s failed: %s", notification.pk, channel, type(exc).__name__)
        Delivery.objects.create(
            notification=notification,
            channel=channel,
            address=shown,
            status=DeliveryStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH],
        )
        return
    Delivery.objects.create(
        notification=notification, channel=channel, address=shown, status=DeliveryStatus.SENT
    )


def _deliver(notifications: list[Notification]) -> None:
    channels = set(getattr(settings, CHANNELS_SETTING, [Channel.EMAIL]))
    for notification in notifications:
        user = notification.recipient
        if Channel.EMAIL in channels and user.email:
            _send(notification, Channel.EMAIL, user.email, _mask_email(user.email))
        phone = getattr(user, "phone", "")
        for channel in (Channel.SMS, Channel.WECHAT):
            if channel in channels and phone:
                _send(notification, channel, phone, mask(phone))


def notify(
    *,
    recipients: Iterable[User],
    cause: str,
    due: date | None = None,
    title: str,
    body: str = "",
    link: str = "",
) -> list[Notification]:
    """Notify every active recipient once for ``cause`` and ``due``; return the notifications
    created by this call (recipients already notified for the same cause and date are skipped)."""
    created: list[Notification] = []
    seen: set[int] = set()
    body = truncate_text(body, MESSAGE_MAX_LENGTH)  # bodies quote job messages; keep the inbox small
    for user in recipients:
        if not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    recipient=user, cause=cause, due=due, title=title, body=body, link=link
                )
        except IntegrityError:
            continue  # already notified for this cause and date
        Delivery.objects.create(notification=notification, channel=Channel.INBOX, status=DeliveryStatus.SENT)
        created.append(notification)
    if created:
        transaction.on_commit(lambda: _deliver(created))
    return created


def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one of ``user``'s notifications read (a no-op when it already is); return it."""
    if notification.recipient_id != user.pk:
        raise PermissionError("not the recipient")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    """Mark all of ``user``'s unread notifications read; return how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
