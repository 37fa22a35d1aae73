"""Receivers for Django's authentication signals: logins and failures are audited."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User


@receiver(user_logged_in)
def _on_login(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit_record(actor=user, action=AuditAction.LOGIN, obj=user)


@receiver(user_logged_out)
def _on_logout(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action=AuditAction.LOGOUT, obj=user)


@receiver(user_login_failed)
def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        object_type="accounts.user",
        object_repr=username,
        changes={"username": username},
    )
