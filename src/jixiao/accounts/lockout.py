"""Failed-login handling (登录失败处理, GB/T 22239 8.1.4.1 b) that cannot lock the office out.

Failures are counted per (username, client address). From the ``JIXIAO_LOCKOUT_AFTER``-th
consecutive failure on, that combination waits ``JIXIAO_LOCKOUT_BASE_SECONDS`` before its next
attempt, doubling with every further failure up to ``JIXIAO_LOCKOUT_MAX_SECONDS``. A success
clears the count. The same username from another address is never delayed, so a guessing burst
from one machine cannot keep the office from logging in at its own desk; the security admin
lifts a delay at once from the lockouts page (no CAPTCHA). Every lock and unlock is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, LoginThrottle, User
from jixiao.accounts.permissions import is_security_admin

UNKNOWN_ADDRESS = "0.0.0.0"  # a request without REMOTE_ADDR (the test client sets one)


def _key(username: str) -> str:
    # Case variants of one name share a count: Django's lookup is case-sensitive, a guesser's isn't.
    return username.strip().casefold()[:150]


def delay_after(failures: int) -> timedelta:
    """Return how long a combination with ``failures`` consecutive failures must wait."""
    after = int(settings.JIXIAO_LOCKOUT_AFTER)
    if failures < after:
        return timedelta(0)
    base = int(settings.JIXIAO_LOCKOUT_BASE_SECONDS)
    ceiling = int(settings.JIXIAO_LOCKOUT_MAX_SECONDS)
    # min() before the power keeps a huge failure count from building a huge integer.
    exponent = min(failures - after, 32)
    return timedelta(seconds=min(base * 2**exponent, ceiling))


@dataclass(frozen=True)
class Locked:
    """The combination is waiting; ``until`` is when the next attempt will be heard."""

    until: datetime


def locked(*, username: str, address: str) -> Locked | None:
    """Return the running lock of (``username``, ``address``), or None."""
    row = (
        LoginThrottle.objects.filter(username=_key(username), address=address or UNKNOWN_ADDRESS)
        .only("locked_until")
        .first()
    )
    if row is None or row.locked_until is None or row.locked_until <= timezone.now():
        return None
    return Locked(until=row.locked_until)


@transaction.atomic
def failure_record(*, username: str, address: str) -> Locked | None:
    """Count one failed password for the combination; return the lock it starts, if any."""
    key, address = _key(username), address or UNKNOWN_ADDRESS
    now = timezone.now()
    row, _created = LoginThrottle.objects.select_for_update().get_or_create(
        username=key, address=address, defaults={"failures": 0, "last_failure_at": now}
    )
    LoginThrottle.objects.filter(pk=row.pk).update(failures=F("failures") + 1, last_failure_at=now)
    row.refresh_from_db(fields=["failures"])
    wait = delay_after(row.failures)
    if not wait:
        return None
    row.locked_until = now + wait
    row.save(update_fields=["locked_until"])
    audit_record(
        actor=None,
        action=AuditAction.LOCKOUT,
        obj=row,
        object_repr=f"{key} @ {address}",
        changes={
            "username": key,
            "address": address,
            "failures": row.failures,
            "seconds": int(wait.total_seconds()),
        },
    )
    return Locked(until=row.locked_until)


def success_record(*, username: str, address: str) -> None:
    """A correct password clears the combination's count."""
    LoginThrottle.objects.filter(username=_key(username), address=address or UNKNOWN_ADDRESS).delete()


def current_lockouts() -> QuerySet[LoginThrottle]:
    """Return the combinations waiting now, latest first (the security admin's page)."""
    return LoginThrottle.objects.filter(locked_until__gt=timezone.now()).order_by("-locked_until")


@transaction.atomic
def lockout_release(*, actor: User, throttle_id: int) -> LoginThrottle | None:
    """Lift the lock and the count of one combination at once (the security admin's unlock);
    return the row as it was, or None if it was gone already. Audited."""
    if not is_security_admin(actor):
        raise PermissionDenied
    row = LoginThrottle.objects.select_for_update().filter(pk=throttle_id).first()
    if row is None:
        return None
    audit_record(
        actor=actor,
        action=AuditAction.UNLOCK,
        obj=row,
        object_repr=f"{row.username} @ {row.address}",
        changes={"username": row.username, "address": row.address, "failures": row.failures},
    )
    row.delete()
    return row
