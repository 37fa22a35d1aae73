"""Logging in: the password (with the per-address lockout), the second factor, enrolment, and
the security admin's page of lockouts and second factors."""

from __future__ import annotations

from typing import Any

import django_otp
from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from jixiao.accounts import lockout, second_factor
from jixiao.accounts.audit import audit_record
from jixiao.accounts.login_state import OTP_STATE
from jixiao.accounts.models import AuditAction, User
from jixiao.accounts.permissions import is_security_admin, request_user


def client_address(request: HttpRequest) -> str:
    """The address failures are counted against (the proxy must set REMOTE_ADDR truthfully)."""
    return str(request.META.get("REMOTE_ADDR") or lockout.UNKNOWN_ADDRESS)


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, refusing a (username, address) that is waiting and counting failures."""

    locked: lockout.Locked | None = None

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        address = client_address(self.request) if self.request is not None else lockout.UNKNOWN_ADDRESS
        if username:
            self.locked = lockout.locked(username=username, address=address)
            if self.locked is not None:
                # Refused before the password is checked: a waiting guesser learns nothing.
                raise ValidationError(_("登录失败次数过多，请稍后再试"), code="locked")
        try:
            cleaned = super().clean()
        except ValidationError as exc:
            if username and any(e.code == "invalid_login" for e in exc.error_list):
                self.locked = lockout.failure_record(username=username, address=address)
            raise
        lockout.success_record(username=username, address=address)
        return cleaned


class Login(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = ThrottledAuthenticationForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["expired"] = self.request.GET.get("expired") == "1"
        return context

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        locked = getattr(form, "locked", None)
        if locked is None:
            return super().form_invalid(form)
        wait = max(1, int((locked.until - timezone.now()).total_seconds() + 59) // 60)
        return render(
            self.request, "accounts/locked.html", {"until": locked.until, "minutes": wait}, status=429
        )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("验证码"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


@login_required
@never_cache
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The step after the password: a code from the authenticator or one recovery code."""
    user = request_user(request)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = django_otp.match_token(user, form.cleaned_data["token"].strip().replace(" ", ""))
        if device is not None:
            django_otp.login(request, device)
            request.session.pop(OTP_STATE, None)
            return redirect(_next(request))
        audit_record(actor=user, action=AuditAction.LOGIN_FAILED, obj=user, changes={"second_factor": True})
        form.add_error("token", _("验证码不正确或已使用，请重试"))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next(request)})


@login_required
@never_cache
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: QR code and key, one code to confirm, then the recovery codes once."""
    user = request_user(request)
    if second_factor.has_second_factor(user) and request.method != "POST":
        return render(request, "accounts/otp_status.html", {"required": second_factor.required_for(user)})
    device = second_factor.enrolment_device(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = second_factor.enrolment_confirm(user=user, device=device, token=form.cleaned_data["token"])
        if codes is not None:
            django_otp.login(request, device)
            request.session.pop(OTP_STATE, None)
            response = render(request, "accounts/otp_codes.html", {"codes": codes, "next": _next(request)})
            response["Cache-Control"] = "no-store"
            return response
        form.add_error("token", _("验证码不正确，请核对手机时间后重试"))
    context = {
        "form": form,
        # Safe: segno draws only path data; the otpauth URL (with the username) is not in the SVG.
        "qr": mark_safe(second_factor.qr_svg(device)),
        "key": device.config_url.split("secret=", 1)[1].split("&", 1)[0],
        "required": second_factor.required_for(user),
        "next": _next(request),
    }
    return render(request, "accounts/otp_setup.html", context)


def _security_admin(request: HttpRequest) -> User:
    user = request_user(request)
    if not is_security_admin(user):
        raise PermissionDenied
    return user


@login_required
def security_overview(request: HttpRequest) -> HttpResponse:
    """The security admin's page: current lockouts (with unlock) and second factors (with reset)."""
    _security_admin(request)
    return render(
        request,
        "accounts/security.html",
        {
            "lockouts": lockout.current_lockouts()[:200],
            "enrolled": second_factor.users_with_second_factor()[:500],
        },
    )


@login_required
@require_POST
def lockout_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    row = lockout.lockout_release(actor=_security_admin(request), throttle_id=pk)
    if row is not None:
        messages.success(request, _("已解除锁定：%(u)s（%(a)s）") % {"u": row.username, "a": row.address})
    return redirect("accounts:security")


@login_required
@require_POST
def otp_reset(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _security_admin(request)
    account = get_object_or_404(User, pk=pk)
    if account.pk == actor.pk:
        messages.error(request, _("不能重置自己的两步验证"))
        return redirect("accounts:security")
    second_factor.second_factor_reset(actor=actor, user=account)
    messages.success(request, _("已重置两步验证：%(u)s，其下次登录时须重新绑定") % {"u": account.username})
    return redirect("accounts:security")
