"""Declaration pages (目标申报): the unit's targets under the framework, declared indicators,
library pull-in, submission, versions, publication (目标公布) with exports, change requests,
dynamic tasks and the lead department's list.

Scoping: a liaison, lead department or official reaches only their unit's declaration (another
unit's is a 404); the office, leaders and auditors read all; only the unit's liaison and the
office write, and only the office publishes and assigns dynamic tasks; auditors never write.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.accounts.permissions import can_edit_unit, office_required, request_user, write_required
from jixiao.declarations import (
    drafting,
    dynamic,
    library,
    publication,
    review_selectors,
    selectors,
    submission,
)
from jixiao.declarations.forms_drafting import (
    ChangeRequestForm,
    DeclaredIndicatorForm,
    DynamicTaskForm,
    LibraryPullForm,
    PublishForm,
    SubmitForm,
)
from jixiao.declarations.models import Declaration, DeclarationStatus, DeclarationVersion, PublicationExport
from jixiao.organisation.models import Unit, UnitCategory
from jixiao.schemes import lifecycle
from jixiao.schemes.models import Cycle
from jixiao.schemes.rule_types import INDICATOR_RULES
from jixiao.schemes.selectors import cycle_for_page
from jixiao.web.crud import post_action
from jixiao.web.paging import paginate


def _form_error(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's error on the form: on the named field when the form has it."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _cycle(request: HttpRequest) -> Cycle:
    cycle = cycle_for_page(request.GET.get("year"))
    if cycle is None:
        raise Http404
    return cycle


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _detail_url(declaration: Declaration) -> str:
    return reverse("declarations:declaration_detail", args=[declaration.pk])


def _rule_label(rule_type: str) -> str:
    spec = INDICATOR_RULES.get(rule_type)
    return str(spec.label) if spec else ""


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """本单位目标申报 for a unit's users (their declaration, or the start page); the list of all
    declarations of the cycle for the office, leaders and auditors."""
    user = request_user(request)
    cycle = cycle_for_page(request.GET.get("year"))
    if cycle is None or (not user.sees_all_units and user.unit_id is None):
        return render(request, "declarations/drafting/no_cycle.html", {"cycle": cycle})
    if not user.sees_all_units and user.unit_id is not None:
        own = Declaration.objects.filter(cycle=cycle, unit_id=user.unit_id).first()
        if own is not None:
            own = selectors.declaration_get(user=user, pk=own.pk)
            return _render_detail(request, user, own)
        unit = Unit.objects.select_related("category").get(pk=user.unit_id)
        return render(
            request,
            "declarations/drafting/start.html",
            {
                "cycle": cycle,
                "unit": unit,
                "may_start": can_edit_unit(user, unit.pk)
                and not lifecycle.is_locked(cycle)
                and cycle.stage in drafting.DRAFT_STAGES,
                "led_count": selectors.led_indicators(user=user, cycle=cycle).exists()
                if user.role == Role.LEAD_DEPT
                else False,
            },
        )
    qs = selectors.declarations_visible(user=user, cycle=cycle)
    category = _int(request.GET.get("category"))
    status = request.GET.get("status") or ""
    if category:
        qs = qs.filter(unit__category_id=category)
    if status in DeclarationStatus.values:
        qs = qs.filter(status=status)
    page = paginate(request, qs.order_by("unit__category__order", "unit__code"))
    return render(
        request,
        "declarations/drafting/list.html",
        {
            "cycle": cycle,
            "page": page,
            "categories": UnitCategory.objects.order_by("order", "code"),
            "statuses": DeclarationStatus.choices,
            "category": category,
            "status": status,
        },
    )


@login_required
@write_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    cycle = _cycle(request)
    if user.unit_id is None:
        raise PermissionDenied
    unit = Unit.objects.get(pk=user.unit_id)
    try:
        declaration = drafting.declaration_start(actor=user, cycle=cycle, unit=unit)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("declarations:home") + f"?year={cycle.year}")
    return redirect(_detail_url(declaration))


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    return _render_detail(request, user, selectors.declaration_get(user=user, pk=pk))


def _render_detail(request: HttpRequest, user: User, declaration: Declaration) -> HttpResponse:
    page = selectors.declaration_page(declaration)
    editable = drafting.may_edit(user, declaration)
    open_change = selectors.change_requests_of(declaration).filter(status="open").first()
    return render(
        request,
        "declarations/drafting/detail.html",
        {
            "declaration": declaration,
            "cycle": declaration.cycle,
            "page": page,
            "editable": editable,
            "cap": drafting.core_cap(page.scheme),
            "over_cap": page.core_count > drafting.core_cap(page.scheme),
            "rule_labels": {code: str(spec.label) for code, spec in INDICATOR_RULES.items()},
            "versions": list(selectors.versions_of(declaration)[:5]),
            "open_change": open_change,
            "may_request_change": can_edit_unit(user, declaration.unit_id)
            and declaration.status == DeclarationStatus.PUBLISHED
            and declaration.cycle.stage in drafting.CHANGE_STAGES
            and not lifecycle.is_locked(declaration.cycle),
            "may_withdraw_change": open_change is not None
            and user.can_write
            and (can_edit_unit(user, declaration.unit_id) or user.is_office)
            and declaration.cycle.stage in drafting.CHANGE_STAGES
            and not lifecycle.is_locked(declaration.cycle),
            "may_publish": user.is_office
            and user.can_write
            and declaration.status == DeclarationStatus.APPROVED
            and declaration.cycle.stage in publication.PUBLISH_STAGES
            and not lifecycle.is_locked(declaration.cycle),
            "submit_form": SubmitForm(),
            # The reviewers' comments the liaison revises by (review_selectors).
            "review_comments": review_selectors.comments_for(declaration),
            "returned_by": review_selectors.return_decision(declaration),
            "may_carry_over": editable and bool(library.last_year_snapshot(declaration)),
        },
    )


def _editable_declaration(user: User, pk: int) -> Declaration:
    declaration = selectors.declaration_get(user=user, pk=pk)
    if not can_edit_unit(user, declaration.unit_id):
        raise PermissionDenied
    return declaration


@login_required
@write_required
def indicator_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    declaration = _editable_declaration(user, pk)
    initial: dict[str, Any] = {}
    if parent := _int(request.GET.get("parent")):
        initial["parent"] = parent
    if under := _int(request.GET.get("under")):
        initial["under"] = under
    form = DeclaredIndicatorForm(request.POST or None, declaration=declaration, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            drafting.indicator_create(
                actor=user,
                declaration=declaration,
                parent=form.cleaned_data["parent"],
                under=form.cleaned_data.get("under"),
                **fields,
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("已添加申报指标：%(name)s") % {"name": fields["name"]})
            return redirect(_detail_url(declaration))
    return render(
        request,
        "declarations/drafting/indicator_form.html",
        {"form": form, "declaration": declaration, "title": _("添加申报指标")},
    )


@login_required
@write_required
def indicator_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    indicator = selectors.indicator_get(user=user, pk=pk)
    declaration = _editable_declaration(user, indicator.declaration_id)
    form = DeclaredIndicatorForm(request.POST or None, declaration=declaration, indicator=indicator)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            drafting.indicator_update(actor=user, indicator=indicator, **fields)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("已保存申报指标：%(name)s") % {"name": indicator.name})
            return redirect(_detail_url(declaration))
    return render(
        request,
        "declarations/drafting/indicator_form.html",
        {"form": form, "declaration": declaration, "indicator": indicator, "title": _("修改申报指标")},
    )


@login_required
@write_required
def indicator_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    indicator = selectors.indicator_get(user=user, pk=pk)
    declaration = _editable_declaration(user, indicator.declaration_id)
    if request.method == "POST":
        return post_action(
            request,
            lambda: drafting.indicator_delete(actor=user, indicator=indicator),
            done=_("已删除申报指标：%(name)s") % {"name": indicator.name},
            to=_detail_url(declaration),
        )
    return render(
        request,
        "declarations/drafting/confirm_delete.html",
        {"indicator": indicator, "declaration": declaration, "children": indicator.children.count()},
    )


@login_required
@write_required
def library_pull(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    declaration = _editable_declaration(user, pk)
    initial = {"parent": _int(request.GET.get("parent"))} if request.GET.get("parent") else {}
    form = LibraryPullForm(request.POST or None, declaration=declaration, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            created = library.library_pull(
                actor=user,
                declaration=declaration,
                parent=form.cleaned_data["parent"],
                entries=form.cleaned_data["entries"],
                weight=form.cleaned_data["weight"],
                is_core=form.cleaned_data["is_core"],
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("已从指标库引入 %(n)s 项指标") % {"n": len(created)})
            return redirect(_detail_url(declaration))
    return render(
        request,
        "declarations/drafting/library_form.html",
        {"form": form, "declaration": declaration},
    )


@login_required
@write_required
@require_POST
def carry_over(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    declaration = _editable_declaration(user, pk)
    return post_action(
        request,
        lambda: library.carry_over_last_year(actor=user, declaration=declaration),
        done=lambda count: _("已沿用上年目标 %(n)s 项，请逐项填写今年的目标值") % {"n": count},
        to=_detail_url(declaration),
    )


@login_required
@write_required
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    declaration = _editable_declaration(user, pk)
    form = SubmitForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        version = submission.declaration_submit(actor=user, declaration=declaration, note=note)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_detail_url(declaration))
    declaration.refresh_from_db()
    if declaration.status == DeclarationStatus.APPROVED:
        messages.success(
            request,
            _("已提交第 %(v)s 版；本周期未设审核环节，申报直接审核通过") % {"v": version.number},
        )
    else:
        messages.success(
            request,
            _("已提交第 %(v)s 版，进入“%(stage)s”审核")
            % {"v": version.number, "stage": declaration.stage.name if declaration.stage else ""},
        )
    return redirect(_detail_url(declaration))


@login_required
def versions(request: HttpRequest, pk: int) -> HttpResponse:
    declaration = selectors.declaration_get(user=request_user(request), pk=pk)
    page = paginate(request, selectors.versions_of(declaration))
    return render(
        request,
        "declarations/drafting/versions.html",
        {
            "declaration": declaration,
            "page": page,
            "changes": list(selectors.change_requests_of(declaration)[:20]),
        },
    )


@login_required
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    version = DeclarationVersion.objects.select_related("declaration", "submitted_by").filter(pk=pk).first()
    if version is None:
        raise Http404
    declaration = selectors.declaration_get(user=user, pk=version.declaration_id)
    rows = [publication.export_rows(item) for item in version.snapshot]
    return render(
        request,
        "declarations/drafting/version_detail.html",
        {
            "declaration": declaration,
            "version": version,
            "rows": rows,
            "headers": publication.export_headers(),
        },
    )


@login_required
@write_required
def change_request(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    declaration = _editable_declaration(user, pk)
    form = ChangeRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            publication.change_request_file(
                actor=user, declaration=declaration, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("已提出变更申请，请修改目标后重新提交审核"))
            return redirect(_detail_url(declaration))
    return render(
        request, "declarations/drafting/change_form.html", {"form": form, "declaration": declaration}
    )


@login_required
@write_required
@require_POST
def change_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    declaration = selectors.declaration_get(user=user, pk=pk)
    return post_action(
        request,
        lambda: publication.change_request_withdraw(actor=user, declaration=declaration),
        done=_("已撤回变更申请，目标恢复为已公布的版本"),
        to=_detail_url(declaration),
    )


@login_required
@office_required
@write_required
@require_POST
def publish_one(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    declaration = selectors.declaration_get(user=user, pk=pk)
    return post_action(
        request,
        lambda: publication.declaration_publish(actor=user, declaration=declaration),
        done=_("已公布%(unit)s的目标") % {"unit": declaration.unit.name},
        to=_detail_url(declaration),
    )


@login_required
@office_required
@write_required
@require_POST
def publish_all(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    cycle = _cycle(request)
    form = PublishForm(request.POST)
    category = form.cleaned_data.get("category") if form.is_valid() else None
    return post_action(
        request,
        lambda: publication.declarations_publish(actor=user, cycle=cycle, category=category),
        done=lambda count: _("已公布 %(n)s 个单位的目标") % {"n": count},
        to=reverse("declarations:publication") + f"?year={cycle.year}",
    )


def _publication_filters(request: HttpRequest) -> tuple[int | None, int | None]:
    return _int(request.GET.get("category")), _int(request.GET.get("unit"))


@login_required
def publication_page(request: HttpRequest) -> HttpResponse:
    """目标公布: per unit its published targets (the unit's own users; the office, leaders and
    auditors for all units)."""
    user = request_user(request)
    cycle = cycle_for_page(request.GET.get("year"))
    if cycle is None:
        return render(request, "declarations/drafting/no_cycle.html", {"cycle": None})
    category, unit = _publication_filters(request)
    qs = selectors.published_declarations(user=user, cycle=cycle, category_id=category, unit_id=unit)
    page = paginate(request, qs, per_page=10)
    approved = (
        Declaration.objects.filter(cycle=cycle, status=DeclarationStatus.APPROVED).exists()
        if user.is_office
        else False
    )
    return render(
        request,
        "declarations/drafting/publication.html",
        {
            "cycle": cycle,
            "page": page,
            "units": [
                (pu, [publication.export_rows(i) for i in pu.indicators])
                for pu in selectors.published_units(page.object_list)
            ],
            "headers": publication.export_headers(),
            "categories": UnitCategory.objects.order_by("order", "code"),
            "category": category,
            "may_publish": user.is_office
            and user.can_write
            and approved
            and cycle.stage in publication.PUBLISH_STAGES
            and not lifecycle.is_locked(cycle),
            "publish_form": PublishForm(),
            "query": request.GET.urlencode(),
            "pdf_in_background": page.paginator.count > publication.INLINE_PDF_UNITS,
            "pdf_export": _latest_export(user, cycle),
        },
    )


def _latest_export(user: User, cycle: Cycle) -> PublicationExport | None:
    return (
        PublicationExport.objects.filter(requested_by_id=user.pk, cycle=cycle)
        .select_related("job__created_by")
        .first()
    )


@login_required
@write_required
@require_POST
def publication_pdf_start(request: HttpRequest) -> HttpResponse:
    """Queue the PDF of the published list the user sees (with the page's filters); read-only
    accounts (the auditor) export the same list as Excel."""
    user = request_user(request)
    cycle = _cycle(request)
    category, unit = _publication_filters(request)
    qs = selectors.published_declarations(user=user, cycle=cycle, category_id=category, unit_id=unit)
    return post_action(
        request,
        lambda: publication.publication_pdf_start(
            actor=user,
            cycle=cycle,
            category=UnitCategory.objects.filter(pk=category).first() if category else None,
            unit=Unit.objects.filter(pk=unit).first() if unit else None,
            units=qs.count(),
        ),
        done=_("已开始在后台生成 PDF，完成后可在本页下载"),
        to=f"{reverse('declarations:publication')}?{request.GET.urlencode()}",
    )


def _own_export(user: User, pk: int) -> PublicationExport:
    export = get_object_or_404(PublicationExport.objects.select_related("cycle", "job__created_by"), pk=pk)
    if export.requested_by_id != user.pk:
        raise Http404  # another user's list: as if it did not exist
    return export


@login_required
def publication_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """Download a background PDF (its requester only)."""
    user = request_user(request)
    export = _own_export(user, pk)
    if not export.file:
        raise Http404
    response = HttpResponse(
        publication.publication_pdf_download(actor=user, export=export), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="targets-{export.cycle.year}.pdf"'
    return response


@login_required
def publication_pdf_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The background PDF's job panel (polled by htmx while it runs)."""
    export = _own_export(request_user(request), pk)
    if export.job is None:
        raise Http404
    response = render(
        request,
        "web/_job_panel.html",
        {"job": export.job, "status_url": reverse("declarations:publication_pdf_status", args=[export.pk])},
    )
    if getattr(request, "htmx", False) and not export.job.is_active:
        response["HX-Refresh"] = "true"
    return response


@login_required
def publication_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in {"xlsx", "pdf"}:
        raise Http404
    user = request_user(request)
    cycle = _cycle(request)
    category, unit = _publication_filters(request)
    qs = selectors.published_declarations(user=user, cycle=cycle, category_id=category, unit_id=unit)
    if fmt == "pdf" and qs.count() > publication.INLINE_PDF_UNITS:
        messages.info(request, _("清单较长，请点击“后台生成 PDF”，生成后在本页下载"))
        return redirect(f"{reverse('declarations:publication')}?{request.GET.urlencode()}")
    units = selectors.published_units(qs)
    if fmt == "xlsx":
        content = publication.published_workbook(cycle=cycle, units=units)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content = publication.published_pdf(cycle=cycle, units=units)
        content_type = "application/pdf"
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        obj=cycle,
        changes={"what": "published_targets", "format": fmt, "units": len(units), "category": category},
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="targets-{cycle.year}.{fmt}"'
    return response


@login_required
def led(request: HttpRequest) -> HttpResponse:
    """The declared indicators the user's unit leads (a lead department), read-only."""
    user = request_user(request)
    if user.role != Role.LEAD_DEPT and not user.sees_all_units:
        raise PermissionDenied
    cycle = _cycle(request)
    page = paginate(request, selectors.led_indicators(user=user, cycle=cycle))
    return render(
        request,
        "declarations/drafting/led.html",
        {"cycle": cycle, "page": page, "rule_labels": {c: str(s.label) for c, s in INDICATOR_RULES.items()}},
    )


def _office_or_auditor(user: User) -> bool:
    return user.is_office or user.role == Role.AUDITOR


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not _office_or_auditor(user):
        raise PermissionDenied
    cycle = _cycle(request)
    page = paginate(request, selectors.tasks_of(cycle=cycle))
    return render(
        request,
        "declarations/drafting/task_list.html",
        {
            "cycle": cycle,
            "page": page,
            "may_create": user.is_office and user.can_write and not lifecycle.is_locked(cycle),
            "rule_labels": {c: str(s.label) for c, s in INDICATOR_RULES.items()},
        },
    )


@login_required
@office_required
@write_required
def task_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    cycle = _cycle(request)
    form = DynamicTaskForm(request.POST or None, cycle=cycle)
    if request.method == "POST" and form.is_valid():
        try:
            task = dynamic.dynamic_task_create(actor=user, cycle=cycle, **form.service_fields())
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request, _("已交办动态任务“%(t)s”，%(n)s 个单位") % {"t": task.name, "n": task.units.count()}
            )
            return redirect(reverse("declarations:task_list") + f"?year={cycle.year}")
    return render(request, "declarations/drafting/task_form.html", {"form": form, "cycle": cycle})
