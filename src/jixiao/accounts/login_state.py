"""What a login session remembers about itself: when it logged in, when it was last used, and
whether it still owes a second factor. Set once at login (``user_logged_in``), read by the
accounts middleware on every request without a query."""

from __future__ import annotations

import time
from typing import Any, Final

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from jixiao.accounts import second_factor
from jixiao.accounts.models import User

AUTH_AT: Final = "jixiao_auth_at"  # epoch seconds of the login
SEEN_AT: Final = "jixiao_seen_at"  # epoch seconds of the last request (to the minute)
OTP_STATE: Final = "jixiao_otp"  # "verify": has a factor to check; "setup": must enrol one
VERIFY: Final = "verify"
SETUP: Final = "setup"


def otp_state_for(user: User) -> str | None:
    """Return what ``user`` owes after the password: verify, setup, or nothing."""
    if second_factor.has_second_factor(user):
        return VERIFY
    return SETUP if second_factor.required_for(user) else None


@receiver(user_logged_in)
def _on_login(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    now = int(time.time())
    session[AUTH_AT] = now
    session[SEEN_AT] = now
    state = otp_state_for(user)
    if state is None:
        session.pop(OTP_STATE, None)
    else:
        session[OTP_STATE] = state
