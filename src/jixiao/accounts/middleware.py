"""Request middleware of the accounts app: the current request for the audit log (so it need not
be threaded through every call), and the forced password change."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import PermissionDenied
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


# What the three administrators of 三权分立 may open: their own account pages and the user and
# audit pages (each view checks which of them), notifications, the language, the home page with
# their to-dos. Every other page holds appraisal data (results, facts, evaluations, surveys,
# schemes, the registry) and answers 403: one rule here instead of a check in every view.
ADMIN_NAMESPACES = frozenset({"accounts", "notifications"})
ADMIN_URL_NAMES = frozenset({"web:home", "web:healthz", "set_language"})


class AdminBoundaryMiddleware:
    """Refuse every appraisal page to a system, security or audit admin (after authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], args: object, kwargs: object
    ) -> None:
        from jixiao.accounts.permissions import is_admin_role

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not is_admin_role(user):  # type: ignore[arg-type]
            return None
        match = request.resolver_match
        if match is None:
            return None
        if match.view_name in ADMIN_URL_NAMES or (
            match.namespaces and match.namespaces[0] in ADMIN_NAMESPACES
        ):
            return None
        raise PermissionDenied
