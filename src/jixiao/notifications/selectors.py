"""Reads of a user's notifications: always the user's own, never anyone else's."""

from __future__ import annotations

from django.db.models import QuerySet

from jixiao.accounts.models import User
from jixiao.notifications.models import Notification


def inbox(user: User) -> QuerySet[Notification]:
    """All of ``user``'s notifications, newest first."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def unread_for(user: User) -> QuerySet[Notification]:
    """``user``'s unread notifications, newest first (the home page's to-dos read these)."""
    return inbox(user).filter(read_at__isnull=True)
