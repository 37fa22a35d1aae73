"""The second factor (双因素认证, GB/T 22239 8.1.4.1 d): TOTP through django-otp, with one-time
recovery codes.

Required for the roles in ``JIXIAO_OTP_REQUIRED_ROLES`` (office and the three administrators by
default), optional for everyone else. A user enrols by scanning a QR code (an inline SVG drawn by
segno, no script) into an authenticator app and typing one code; enrolment then issues
``RECOVERY_CODES`` single-use codes, shown once. A security admin can remove a user's second factor
(a lost phone); the user enrols again at the next login. Enrolment and reset are audited.
"""

from __future__ import annotations

import hashlib
import time
from typing import Final

import segno
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.accounts.permissions import is_security_admin

RECOVERY_CODES: Final = 10
TOTP_NAME: Final = "authenticator"
RECOVERY_NAME: Final = "recovery"


def required_for(user: User) -> bool:
    """Whether ``user`` may not work without a verified second factor."""
    roles = set(settings.JIXIAO_OTP_REQUIRED_ROLES)
    return bool(roles) and (user.role in roles or user.is_superuser)


def has_second_factor(user: User) -> bool:
    """Whether ``user`` has a confirmed authenticator."""
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def enrolment_device(user: User) -> TOTPDevice:
    """Return the user's pending (unconfirmed) authenticator, creating one with a fresh key."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """Return the device's otpauth:// URL as an inline SVG QR code (no script, no external file)."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=4, border=2))


def current_code(device: TOTPDevice, at: float | None = None) -> str:
    """Return the code the authenticator shows at ``at`` (now by default), zero-padded."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return str(totp.token()).zfill(int(device.digits))


@transaction.atomic
def enrolment_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the pending ``device`` with a code from the app; return the new recovery codes
    (to be shown once), or None if the code was wrong. Any earlier second factor is replaced."""
    if device.user_id != user.pk or device.confirmed or not device.verify_token(token.strip()):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = recovery_codes_issue(user=user)
    audit_record(actor=user, action=AuditAction.OTP_ENROL, obj=user, changes={"recovery_codes": len(codes)})
    return codes


def recovery_codes_issue(*, user: User) -> list[str]:
    """Replace the user's recovery codes with ``RECOVERY_CODES`` fresh ones and return them."""
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


@transaction.atomic
def second_factor_reset(*, actor: User, user: User) -> int:
    """Remove every second factor of ``user`` (the security admin's reset); return how many
    devices were removed. Audited. Nobody resets their own: that would bypass the factor."""
    if not is_security_admin(actor) or actor.pk == user.pk:
        raise PermissionDenied
    totp, _ = TOTPDevice.objects.filter(user=user).delete()
    static, _ = StaticDevice.objects.filter(user=user).delete()
    removed = int(totp) + int(static)
    audit_record(actor=actor, action=AuditAction.OTP_RESET, obj=user, changes={"devices": removed})
    return removed


def users_with_second_factor() -> QuerySet[User]:
    """Return the users with a confirmed authenticator, by username (the security admin's page)."""
    ids = TOTPDevice.objects.filter(confirmed=True).values("user_id")
    return User.objects.filter(pk__in=ids).order_by("username")


def demo_key(username: str) -> str:
    """The demo's authenticator key of ``username`` (40 hex digits). Published on purpose: it is
    derived from the name alone, so ``jixiao otp-code`` can print the code; it never matches a
    real account, whose key django-otp draws at random."""
    return hashlib.sha1(f"jixiao-demo-otp-not-secret|{username}".encode()).hexdigest()


def demo_device_ensure(*, user: User, key_hex: str) -> TOTPDevice:
    """Give ``user`` a confirmed authenticator with the fixed ``key_hex`` (the demo only: its key
    is published, so ``jixiao otp-code`` can print the current code)."""
    device, _ = TOTPDevice.objects.update_or_create(
        user=user, name=TOTP_NAME, defaults={"key": key_hex, "confirmed": True}
    )
    return device
