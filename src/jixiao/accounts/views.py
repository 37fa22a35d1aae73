"""Login-adjacent pages and the audit log viewer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from jixiao.accounts import selectors
from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role
from jixiao.accounts.permissions import request_user
from jixiao.web.paging import paginate


class PasswordChange(auth_views.PasswordChangeView):
    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        user = request_user(self.request)
        audit_record(actor=user, action=AuditAction.PASSWORD, obj=user)
        messages.success(self.request, _("密码已修改"))
        return response


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not (user.is_office or user.role == Role.AUDITOR):
        raise PermissionDenied
    entries = selectors.audit_entries(
        action=request.GET.get("action", ""), query=request.GET.get("q", "").strip()
    )
    page = paginate(request, entries, per_page=50)
    return render(
        request,
        "accounts/audit_log.html",
        {"page": page, "actions": AuditAction.choices, "action": request.GET.get("action", "")},
    )
