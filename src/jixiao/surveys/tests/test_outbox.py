"""Contact data: sealed while waiting, erased after sending or expiry, never on the event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from jixiao.organisation.tests.factories import UnitFactory
from jixiao.surveys import ratetime
from jixiao.surveys.models import EventChannel, OutboxMessage, OutboxStatus, ServiceEvent
from jixiao.surveys.sealing import SealBroken, seal, unseal
from jixiao.surveys.senders import FailingSender, MemorySender, get_sender, mask

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


def _queue(channel: str = EventChannel.SMS, contact: str = PHONE) -> ServiceEvent:
    return ratetime.event_record(
        unit=UnitFactory(), official=None, service="户籍办理", channel=channel, contact=contact
    ).event


def _all_text() -> str:
    rows = list(OutboxMessage.objects.values_list("sealed", "last_error")) + list(
        ServiceEvent.objects.values_list("service", "external_ref")
    )
    return repr(rows)


def test_seal_round_trips_and_detects_tampering() -> None:
    sealed = seal("13812345678")
    assert "13812345678" not in sealed and unseal(sealed) == "13812345678"
    assert seal("x") != seal("x")  # a fresh nonce every time
    broken = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(SealBroken):
        unseal(broken)


def test_the_contact_is_sealed_in_the_outbox_and_erased_once_sent() -> None:
    MemorySender.sent.clear()
    _queue()
    assert PHONE not in _all_text()
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.PENDING and message.sealed
    report = ratetime.outbox_deliver(sender=MemorySender())
    assert report.sent == 1
    channel, recipient, text = MemorySender.sent[-1]
    assert (channel, recipient) == ("sms", PHONE) and "/surveys/r/" in text and "7天内有效" in text
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.sealed == ""


def test_a_failing_gateway_is_retried_then_the_contact_is_erased() -> None:
    _queue()
    for _ in range(ratetime.MAX_SEND_ATTEMPTS):
        assert ratetime.outbox_deliver(sender=FailingSender()).failed == 1
    message = OutboxMessage.objects.get()
    assert (
        message.status == OutboxStatus.FAILED and message.sealed == "" and "unreachable" in message.last_error
    )


def test_an_unsent_message_is_erased_when_its_link_expires() -> None:
    _queue()
    report = ratetime.outbox_deliver(sender=MemorySender(), now=timezone.now() + timedelta(days=8))
    assert report.expired == 1
    assert OutboxMessage.objects.get().sealed == ""


def test_an_invalid_phone_number_is_refused() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        _queue(contact="12345")
    with pytest.raises(ValidationError):
        _queue(channel=EventChannel.WECHAT, contact="short")


@override_settings(JIXIAO_RATING_SENDER="jixiao.surveys.senders.MemorySender")
def test_the_sender_is_configured_by_a_dotted_path_setting() -> None:
    assert isinstance(get_sender(), MemorySender)


def test_the_log_sender_masks_the_recipient() -> None:
    assert mask(PHONE) == "138****5678"
    assert isinstance(get_sender(), object)
