"""The unread count for the navigation badge (one COUNT per page)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from jixiao.accounts.models import User
from jixiao.notifications.selectors import unread_for


def unread(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    return {"notifications_unread": unread_for(user).count()}
