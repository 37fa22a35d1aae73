"""Request middleware of the accounts app: the current request for the audit log (so it need not
be threaded through every call), and the forced password change."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)


class CurrentRequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


class PasswordChangeRequiredMiddleware:
    """Keep a user whose password the office set (``must_change_password``) on the password
    change page until they choose their own: every other page redirects there, except logging
    out, switching the language and static files. Goes after AuthenticationMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            target = reverse("accounts:password_change")
            allowed = (target, reverse("accounts:logout"), reverse("set_language"), settings.STATIC_URL)
            path = request.path_info
            if not any(path.startswith(p if p.startswith("/") else f"/{p}") for p in allowed):
                return redirect(target)
        return self.get_response(request)
