"""Login-adjacent pages, the audit log viewer, and the account pages (/accounts/users/).

三权分立: the system admin opens and keeps accounts (create, name and phone, password reset,
(de)activation, bulk import); the security admin gives roles, units and the office's audit-log
grant; the audit admin (and the auditor, and a granted office) reads the audit log.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from jixiao.accounts import bulk, credentials, personal, selectors, services
from jixiao.accounts.forms import AccountCreateForm, AccountEditForm, AccountImportForm, RoleAssignForm
from jixiao.accounts.middleware import password_expired
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.accounts.permissions import (
    allowed_only,
    assigns_roles,
    manages_accounts,
    reads_audit_log,
    request_user,
    sees_accounts,
)
from jixiao.organisation.models import Unit
from jixiao.web.paging import paginate


class PasswordChange(auth_views.PasswordChangeView):
    """Django's page; the save goes through ``services.password_change_own``, which also clears
    the must-change mark the office's initial passwords set."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = request_user(self.request)
        context["must_change"] = user.must_change_password
        context["expired"] = not user.must_change_password and password_expired(user)
        context["max_age_days"] = settings.JIXIAO_PASSWORD_MAX_AGE_DAYS
        return context

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        user = request_user(self.request)
        try:
            services.password_change_own(user=user, password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            form.add_error("new_password1", exc)
            return self.form_invalid(form)
        update_session_auth_hash(self.request, user)
        messages.success(self.request, _("密码已修改"))
        return redirect(self.get_success_url())


@login_required
@allowed_only(reads_audit_log)
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = selectors.audit_entries(
        action=request.GET.get("action", ""), query=request.GET.get("q", "").strip()
    )
    page = paginate(request, entries, per_page=50)
    return render(
        request,
        "accounts/audit_log.html",
        {"page": page, "actions": AuditAction.choices, "action": request.GET.get("action", "")},
    )


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@login_required
@allowed_only(sees_accounts)
def user_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    role = role if role in Role.values else ""
    status = request.GET.get("status", "active")
    active = {"active": True, "inactive": False}.get(status)
    unit_id = _int(request.GET.get("unit"))
    accounts = selectors.users(query=query, role=role, unit_id=unit_id, active=active)
    return render(
        request,
        "accounts/users/list.html",
        {
            "page": paginate(request, accounts),
            "roles": Role.choices,
            "units": Unit.objects.order_by("category__order", "code").only("pk", "code", "name"),
            "filters": {"q": query, "role": role, "unit": unit_id, "status": status},
            "manages_accounts": manages_accounts(request_user(request)),
            "assigns_roles": assigns_roles(request_user(request)),
        },
    )


def _issued(request: HttpRequest, *, account: User, password: str, title: str) -> HttpResponse:
    """Show an initial password once; the page must not be kept by the browser or a proxy."""
    response = render(
        request,
        "accounts/users/issued.html",
        {"account": account, "password": password, "title": title, "login_url": _login_url(request)},
    )
    response["Cache-Control"] = "no-store"
    return response


def _login_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("accounts:login"))


@login_required
@allowed_only(manages_accounts)
def user_create(request: HttpRequest) -> HttpResponse:
    form = AccountCreateForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                issued = services.account_create(
                    actor=request_user(request),
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data.get("password") or "",
                    **form.scope(),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return _issued(request, account=issued.user, password=issued.password, title=_("账户已开通"))
        messages.error(request, _("保存失败，请更正下列错误"))
    return render(request, "accounts/users/form.html", {"form": form, "title": _("新增账户")})


@login_required
@allowed_only(manages_accounts)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(User.objects.select_related("unit", "official"), pk=pk)
    form = AccountEditForm(request.POST or None, user=account)
    if request.method != "POST" and account.phone:
        # The form shows the phone unmasked: 查询留痕.
        personal.sensitive_view_record(
            actor=request_user(request), obj=account, fields=["phone"], where="accounts:user_edit"
        )
    if request.method == "POST":
        if form.is_valid():
            try:
                services.account_update(actor=request_user(request), user=account, **form.scope())
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已保存：%(u)s") % {"u": account.username})
                return redirect("accounts:user_list")
        messages.error(request, _("保存失败，请更正下列错误"))
    return render(
        request, "accounts/users/form.html", {"form": form, "account": account, "title": _("修改账户")}
    )


@login_required
@allowed_only(assigns_roles)
def user_role(request: HttpRequest, pk: int) -> HttpResponse:
    """The security admin gives an account its role and unit (never their own)."""
    account = get_object_or_404(User.objects.select_related("unit", "official"), pk=pk)
    actor = request_user(request)
    if account.pk == actor.pk:
        raise PermissionDenied  # no role grants itself rights
    form = RoleAssignForm(request.POST or None, user=account)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.account_role_assign(actor=actor, user=account, **form.scope())
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已分配角色：%(u)s") % {"u": account.username})
                return redirect("accounts:user_list")
        messages.error(request, _("保存失败，请更正下列错误"))
    return render(
        request,
        "accounts/users/role.html",
        {"form": form, "account": account, "title": _("分配角色"), "grantable": account.role == Role.OFFICE},
    )


@login_required
@allowed_only(assigns_roles)
@require_POST
def user_audit_grant(request: HttpRequest, pk: int) -> HttpResponse:
    """The security admin lets an office account read the audit log, or takes it back."""
    account = get_object_or_404(User, pk=pk)
    granted = request.POST.get("granted") == "1"
    try:
        services.audit_grant_set(actor=request_user(request), user=account, granted=granted)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        done = _("已授权查阅审计日志：%(u)s") if granted else _("已收回审计日志查阅权：%(u)s")
        messages.success(request, done % {"u": account.username})
    return redirect("accounts:user_list")


@login_required
@allowed_only(manages_accounts)
@never_cache
def user_password_reset(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(User, pk=pk)
    if request.method != "POST":
        return render(request, "accounts/users/reset_confirm.html", {"account": account})
    password = services.account_password_reset(actor=request_user(request), user=account)
    return _issued(request, account=account, password=password, title=_("密码已重置"))


@login_required
@allowed_only(manages_accounts)
@require_POST
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.account_set_active(actor=request_user(request), user=account, active=active)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        done = _("已启用：%(u)s") if active else _("已停用：%(u)s")
        messages.success(request, done % {"u": account.username})
    back = request.POST.get("back", "")
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    return redirect(back if back and safe else reverse("accounts:user_list"))


@login_required
@allowed_only(manages_accounts)
def user_import(request: HttpRequest) -> HttpResponse:
    form = AccountImportForm(request.POST or None, request.FILES or None)
    errors: list[Any] = []
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            outcome = bulk.accounts_import(actor=request_user(request), source=upload, filename=upload.name)
            if outcome.ok:
                credentials.seal(request.session, outcome.created)
                messages.success(
                    request, _("已开通 %(n)s 个账户，请立即下载初始密码") % {"n": len(outcome.created)}
                )
                return redirect("accounts:user_import")
            errors = outcome.errors
        messages.error(request, _("导入失败，未开通任何账户，请更正下列错误后重新上传"))
    return render(
        request,
        "accounts/users/import.html",
        {"form": form, "errors": errors, "pending": credentials.pending(request.session)},
    )


@login_required
@allowed_only(manages_accounts)
def user_import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(bulk.template_xlsx(), content_type=credentials.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="accounts-template.xlsx"'
    return response


@login_required
@allowed_only(manages_accounts)
@never_cache
@require_POST
def user_credentials(request: HttpRequest, fmt: str) -> HttpResponse:
    """The one-time download of the initial passwords. POST only: a GET (a prefetch, a pasted link)
    must not use up the only copy."""
    if fmt not in credentials.FORMATS:
        raise Http404
    content = credentials.credentials_download(
        actor=request_user(request), session=request.session, fmt=fmt, login_url=_login_url(request)
    )
    if content is None:
        messages.error(request, _("初始密码文件已下载过或已超过下载时限；如需重新发放请逐个重置密码"))
        return redirect("accounts:user_import")
    content_type = "application/pdf" if fmt == "pdf" else credentials.XLSX_CONTENT_TYPE
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="initial-passwords.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
