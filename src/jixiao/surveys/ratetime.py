"""Rate-any-time (随时评): service events, one-time rating links, the outbox and ratings.

A link's token is random (192 bits) and only its SHA-256 is stored, so a database dump cannot be
used to rate. The contact (phone number or WeChat openid) lives only in the outbox row, sealed, and
is erased as soon as the message is sent or the link expires; the event never stores it.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.hygiene import OPINION_MAX_LENGTH, truncate_text
from jixiao.organisation.models import Official, Unit
from jixiao.surveys.deidentify import deidentify
from jixiao.surveys.models import (
    EventChannel,
    EventOrigin,
    OutboxMessage,
    OutboxStatus,
    RatingPolicy,
    ServiceEvent,
    ServiceRating,
    ServiceToken,
)
from jixiao.surveys.sealing import SealBroken, seal, unseal
from jixiao.surveys.senders import Sender, get_sender

logger = logging.getLogger(__name__)

BASE_URL_SETTING: Final = "JIXIAO_PUBLIC_BASE_URL"
DEFAULT_BASE_URL: Final = "http://127.0.0.1:8000"
MAX_SEND_ATTEMPTS: Final = 5
_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_OPENID = re.compile(r"^[A-Za-z0-9_-]{10,64}$")


def rating_policy() -> RatingPolicy:
    """Return the single settings row, creating it with the defaults on first use."""
    policy, _created = RatingPolicy.objects.get_or_create(pk=1)
    return policy


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_base_url() -> str:
    return str(getattr(settings, BASE_URL_SETTING, "") or DEFAULT_BASE_URL).rstrip("/")


def rating_link(token: str, base_url: str | None = None) -> str:
    """The link sent to the citizen: the token in the fragment (``/surveys/r/#<token>``), which
    browsers never send to the server, so no access log, proxy or Referer sees it."""
    return f"{base_url or public_base_url()}{reverse('surveys:public_rate')}#{token}"


def normalise_contact(channel: str, contact: str) -> str:
    """Return the contact cleaned for ``channel``; raise ValidationError when it is not valid."""
    contact = re.sub(r"[\s-]", "", contact)
    if channel == EventChannel.SMS and not _MOBILE.match(contact):
        raise ValidationError(_("手机号码格式不正确"))
    if channel == EventChannel.WECHAT and not _OPENID.match(contact):
        raise ValidationError(_("微信 openid 格式不正确"))
    return contact


@dataclass(frozen=True)
class RecordedEvent:
    event: ServiceEvent
    link: str | None  # None when the event already existed (the token is not kept)
    duplicate: bool


@transaction.atomic
def event_record(
    *,
    unit: Unit,
    official: Official | None,
    service: str,
    occurred_at: datetime | None = None,
    channel: str = EventChannel.SMS,
    contact: str = "",
    external_ref: str = "",
    actor: User | None = None,
    service_token: ServiceToken | None = None,
    base_url: str | None = None,
) -> RecordedEvent:
    """Record a service event, issue its one-time rating link and queue the message.

    An event whose ``external_ref`` the unit already posted is returned as a duplicate, unchanged.
    People's registrations are audited; a service system's posts are not (millions a year), the
    token's creation and revocation are.
    """
    service = service.strip()
    if not service:
        raise ValidationError(_("请填写服务事项"))
    if official is not None and official.unit_id != unit.pk:
        raise ValidationError(_("干部“%(name)s”不属于%(unit)s") % {"name": official.name, "unit": unit.name})
    if channel not in EventChannel.values:
        raise ValidationError(_("未知的发送渠道"))
    if channel != EventChannel.NONE:
        if not contact.strip():
            raise ValidationError(_("短信或微信发送需要联系方式"))
        contact = normalise_contact(channel, contact)
    external_ref = external_ref.strip()[:64]
    if external_ref:
        existing = ServiceEvent.objects.filter(unit=unit, external_ref=external_ref).first()
        if existing is not None:
            return RecordedEvent(existing, None, True)
    now = timezone.now()
    policy = rating_policy()
    token = secrets.token_urlsafe(24)
    event = ServiceEvent.objects.create(
        unit=unit,
        official=official,
        service=service[:120],
        occurred_at=occurred_at or now,
        channel=channel,
        origin=EventOrigin.API if service_token is not None else EventOrigin.UI,
        external_ref=external_ref,
        token_hash=token_hash(token),
        expires_at=now + timedelta(days=policy.link_valid_days),
        service_token=service_token,
        created_by=actor,
    )
    link = rating_link(token, base_url)
    if channel != EventChannel.NONE:
        text = _("【%(unit)s】感谢您办理“%(service)s”，请为本次服务评价：%(link)s（%(days)d天内有效）") % {
            "unit": unit.short_name or unit.name,
            "service": event.service,
            "link": link,
            "days": policy.link_valid_days,
        }
        message = OutboxMessage.objects.create(
            event=event,
            channel=channel,
            sealed=seal(json.dumps({"to": contact, "text": text}, ensure_ascii=False)),
        )
        transaction.on_commit(lambda: _deliver_quietly(message.pk))
    if actor is not None:
        # Never the contact: the audit log keeps what happened, not who was served.
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=event,
            changes={
                "unit_id": unit.pk,
                "official_id": official.pk if official else None,
                "service": event.service,
                "channel": channel,
            },
        )
    return RecordedEvent(event, link, False)


def _deliver_quietly(message_id: int) -> None:
    try:
        outbox_deliver(ids=[message_id])
    except Exception:  # the command retries; a failed send must not fail the request that queued it
        logger.exception("immediate delivery of outbox message %s failed", message_id)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    expired: int


def outbox_deliver(
    *,
    limit: int = 500,
    ids: list[int] | None = None,
    sender: Sender | None = None,
    now: datetime | None = None,
) -> DeliveryReport:
    """Send pending messages (at most ``limit``) and erase each contact once sent; messages whose
    link expired are erased unsent. Returns the counts."""
    now = now or timezone.now()
    expired = OutboxMessage.objects.filter(status=OutboxStatus.PENDING, event__expires_at__lte=now).update(
        status=OutboxStatus.EXPIRED, sealed=""
    )
    sender = sender or get_sender()
    sent = failed = 0
    with transaction.atomic():
        pending = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            status=OutboxStatus.PENDING
        )
        if ids is not None:
            pending = pending.filter(pk__in=ids)
        for message in pending.order_by("created_at", "id")[:limit]:
            try:
                payload = json.loads(unseal(message.sealed))
                sender.send(channel=message.channel, recipient=payload["to"], text=payload["text"])
            except SealBroken:
                message.status, message.sealed, message.last_error = (
                    OutboxStatus.FAILED,
                    "",
                    "sealed content broken",
                )
                failed += 1
            except Exception as exc:  # any gateway error: count, keep for a retry until the limit
                message.attempts += 1
                message.last_error = str(exc)[:200]
                if message.attempts >= MAX_SEND_ATTEMPTS:
                    message.status, message.sealed = OutboxStatus.FAILED, ""
                failed += 1
            else:
                message.status, message.sealed, message.sent_at = OutboxStatus.SENT, "", now
                sent += 1
            message.save(update_fields=["status", "sealed", "attempts", "last_error", "sent_at"])
    return DeliveryReport(sent=sent, failed=failed, expired=expired)


class LinkStatus(enum.Enum):
    OPEN = "open"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class LinkState:
    status: LinkStatus
    valid_days: int
    unit_name: str = ""
    official_name: str = ""
    service: str = ""
    occurred_at: datetime | None = None
    tags: tuple[str, ...] = ()


def link_state(token: str, now: datetime | None = None) -> LinkState:
    """Return what the rating link ``token`` can do now, with what the page shows."""
    now = now or timezone.now()
    policy = rating_policy()
    event = (
        ServiceEvent.objects.select_related("unit", "official").filter(token_hash=token_hash(token)).first()
        if token
        else None
    )
    if event is None:
        return LinkState(LinkStatus.UNKNOWN, policy.link_valid_days)
    if event.rated_at is not None:
        status = LinkStatus.USED
    elif event.expires_at <= now:
        status = LinkStatus.EXPIRED
    else:
        status = LinkStatus.OPEN
    return LinkState(
        status,
        policy.link_valid_days,
        unit_name=event.unit.name,
        official_name=event.official.name if event.official else "",
        service=event.service,
        occurred_at=event.occurred_at,
        tags=tuple(policy.tags),
    )


@transaction.atomic
def rating_submit(
    *, token: str, score: int, tags: list[str], opinion: str, now: datetime | None = None
) -> LinkStatus:
    """Record the rating of the link ``token`` once. Returns OPEN when recorded, otherwise why not
    (USED, EXPIRED, UNKNOWN). The conditional UPDATE makes two simultaneous posts record one."""
    if not 1 <= score <= 10:
        raise ValidationError(_("评分须为 1–10 分"))
    now = now or timezone.now()
    digest = token_hash(token)
    claimed = ServiceEvent.objects.filter(
        token_hash=digest, rated_at__isnull=True, expires_at__gt=now
    ).update(rated_at=now)
    if claimed != 1:
        return link_state(token, now).status
    event = ServiceEvent.objects.only("pk", "unit_id", "official_id").get(token_hash=digest)
    allowed = rating_policy().tags
    ServiceRating.objects.create(
        event=event,
        unit_id=event.unit_id,
        official_id=event.official_id,
        score=score,
        tags=[t for t in dict.fromkeys(tags) if t in allowed],
        opinion=truncate_text(deidentify(opinion), OPINION_MAX_LENGTH),
        created_at=now,
    )
    return LinkStatus.OPEN
