"""Request middleware of the accounts app: the current request for the audit log (so it need not
be threaded through every call), and the forced password change."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

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


def password_expired(user: object) -> bool:
    """Whether ``user`` (a privileged role, JIXIAO_PASSWORD_EXPIRY_ROLES) has kept the same
    password longer than JIXIAO_PASSWORD_MAX_AGE_DAYS (0 turns expiry off)."""
    days = int(settings.JIXIAO_PASSWORD_MAX_AGE_DAYS)
    changed = getattr(user, "password_changed_at", None)
    if (
        days <= 0
        or changed is None
        or getattr(user, "role", None) not in settings.JIXIAO_PASSWORD_EXPIRY_ROLES
    ):
        return False
    return bool(changed < timezone.now() - timedelta(days=days))


class PasswordChangeRequiredMiddleware:
    """Keep a user whose password the office set (``must_change_password``), or whose password
    has expired, on the password change page until they choose a new one: every other page
    redirects there, except logging out, the second-factor pages, switching the language and
    static files. Goes after AuthenticationMiddleware and SecondFactorRequiredMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and (getattr(user, "must_change_password", False) or password_expired(user))
        ):
            names = (
                "accounts:password_change",
                "accounts:logout",
                "accounts:otp_verify",
                "accounts:otp_setup",
            )
            if not _exempt(request.path_info, names):
                return redirect(reverse("accounts:password_change"))
        return self.get_response(request)


def _exempt(path: str, names: tuple[str, ...]) -> bool:
    allowed = [reverse(name) for name in names] + [reverse("set_language"), settings.STATIC_URL]
    return any(path.startswith(p if p.startswith("/") else f"/{p}") for p in allowed)


class SessionLifetimeMiddleware:
    """End a session after ``JIXIAO_SESSION_IDLE_MINUTES`` without a request, or
    ``JIXIAO_SESSION_MAX_HOURS`` after its login however busy (会话超时, GB/T 22239 8.1.4.1 b).

    The last-seen time is rewritten at most once a minute, so a burst of requests does not write
    the session on every one. Goes after AuthenticationMiddleware."""

    REFRESH_SECONDS = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from jixiao.accounts.login_state import AUTH_AT, SEEN_AT

        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            session = request.session
            now = int(time.time())
            auth_at, seen_at = session.get(AUTH_AT), session.get(SEEN_AT)
            if not isinstance(auth_at, int) or not isinstance(seen_at, int):
                # A session from before this middleware: its clock starts now.
                session[AUTH_AT] = session[SEEN_AT] = now
            elif (
                now - seen_at > int(settings.JIXIAO_SESSION_IDLE_MINUTES) * 60
                or now - auth_at > int(settings.JIXIAO_SESSION_MAX_HOURS) * 3600
            ):
                logout(request)
                login = reverse("accounts:login")
                return redirect(f"{login}?{urlencode({'next': request.get_full_path(), 'expired': '1'})}")
            elif now - seen_at >= self.REFRESH_SECONDS:
                session[SEEN_AT] = now
        return self.get_response(request)


class SecondFactorRequiredMiddleware:
    """Keep a user who owes a second factor on the verification page (or, for a required role
    without one, on the enrolment page) until it is given. Goes after OTPMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from jixiao.accounts import second_factor
        from jixiao.accounts.login_state import OTP_STATE, SETUP, VERIFY, otp_state_for

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return self.get_response(request)
        state = request.session.get(OTP_STATE)
        if state is None and second_factor.required_for(user):
            # A required role whose session never learnt it (logged in before the rule applied).
            state = otp_state_for(user)
            request.session[OTP_STATE] = state
        if state not in {VERIFY, SETUP}:
            return self.get_response(request)
        if _exempt(request.path_info, ("accounts:otp_verify", "accounts:otp_setup", "accounts:logout")):
            return self.get_response(request)
        target = reverse("accounts:otp_verify" if state == VERIFY else "accounts:otp_setup")
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")


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
        if user is None or not user.is_authenticated or not is_admin_role(user):
            return None
        match = request.resolver_match
        if match is None:
            return None
        if match.view_name in ADMIN_URL_NAMES or (
            match.namespaces and match.namespaces[0] in ADMIN_NAMESPACES
        ):
            return None
        raise PermissionDenied
