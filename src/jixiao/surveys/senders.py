"""Pluggable senders of rating links. SMS and WeChat gateways are configuration: the dotted path
in the setting ``JIXIAO_RATING_SENDER`` names a class with a ``send`` method (default: log only)."""

from __future__ import annotations

import logging
from typing import Final, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

SENDER_SETTING: Final = "JIXIAO_RATING_SENDER"
DEFAULT_SENDER: Final = "jixiao.surveys.senders.LogSender"

logger = logging.getLogger(__name__)


class Sender(Protocol):
    def send(self, *, channel: str, recipient: str, text: str) -> None:
        """Deliver ``text`` to ``recipient`` over ``channel`` ("sms" or "wechat"); raise on failure."""


def mask(recipient: str) -> str:
    """Return ``recipient`` with the middle hidden (13812345678 → 138****5678)."""
    if len(recipient) <= 6:
        return "*" * len(recipient)
    return recipient[:3] + "*" * (len(recipient) - 7) + recipient[-4:]


class LogSender:
    """Writes the message to the log instead of sending it (development and demos)."""

    def send(self, *, channel: str, recipient: str, text: str) -> None:
        # The link is a bearer token: never write it to the log, only that a message went out.
        logger.info(
            "rating link via %s to %s (%d characters, link withheld)", channel, mask(recipient), len(text)
        )


class MemorySender:
    """Keeps messages in a list (tests)."""

    sent: list[tuple[str, str, str]] = []

    def send(self, *, channel: str, recipient: str, text: str) -> None:
        MemorySender.sent.append((channel, recipient, text))


class FailingSender:
    """Always fails (tests of retries)."""

    def send(self, *, channel: str, recipient: str, text: str) -> None:
        raise ConnectionError("gateway unreachable")


def get_sender() -> Sender:
    """Return an instance of the configured sender class."""
    path = getattr(settings, SENDER_SETTING, DEFAULT_SENDER)
    sender: Sender = import_string(path)()
    return sender
