"""Tracking pages: a unit's dashboard and monthly reports, the evidence library and downloads,
the lead department's grading queue, the office's lights page and tracking rules."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from jixiao.accounts.models import User
from jixiao.accounts.permissions import (
    allowed_only,
    can_edit_unit,
    office_required,
    request_user,
    write_required,
)
from jixiao.declarations.models import DeclaredIndicator
from jixiao.schemes.lifecycle import is_locked
from jixiao.schemes.models import Cycle, CycleStage
from jixiao.tracking import selectors
from jixiao.tracking.evidence import EvidenceRejected, evidence_upload, storage
from jixiao.tracking.forms import GradeForm, LightsFilter, PolicyForm, ReportForm, UploadForm
from jixiao.tracking.models import Evidence, Light, ProgressReport, ReportStatus
from jixiao.tracking.reports import policy_save, report_grade, report_save
from jixiao.web.paging import paginate


def reports_for_own_unit(user: User) -> bool:
    """A user bound to one unit (liaison, lead department, official): the unit's tracking page."""
    return not user.sees_all_units and user.unit_id is not None


def sees_all_lights(user: User) -> bool:
    """The lights of every unit: the office, leaders and the auditor."""
    return user.sees_all_units


def _period(raw: str | None, cycle: Cycle) -> date:
    """``?period=2026-05`` within the cycle's year; else the current month."""
    if raw:
        try:
            year, month = (int(x) for x in raw.split("-")[:2])
            if year == cycle.year and 1 <= month <= 12:
                return date(year, month, 1)
        except ValueError:
            pass
    return selectors.current_period(cycle)


def _months(cycle: Cycle) -> list[date]:
    today = timezone.localdate()
    last = 12 if today.year > cycle.year else (today.month if today.year == cycle.year else 1)
    return [date(cycle.year, m, 1) for m in range(1, last + 1)]


def _writable(cycle: Cycle) -> bool:
    return not is_locked(cycle) and cycle.stage == CycleStage.TRACKING


def _dashboard(request: HttpRequest, user: User, unit_pk: int) -> HttpResponse:
    unit = selectors.scoped_unit(user, unit_pk)
    if unit is None:
        raise Http404
    cycle = selectors.tracking_cycle(request.GET.get("year"))
    if cycle is None:
        raise Http404
    period = _period(request.GET.get("period"), cycle)
    rows = selectors.unit_dashboard(cycle, unit, period)
    policy = selectors.policy_for(cycle)
    volume = selectors.evidence_volume(cycle, [unit.pk])[unit.pk]
    return render(
        request,
        "tracking/unit.html",
        {
            "cycle": cycle,
            "cycle_locked": is_locked(cycle),
            "unit": unit,
            "rows": rows,
            "period": period,
            "months": _months(cycle),
            "due": selectors.report_due(period, policy.report_due_day),
            "counts": selectors.status_counts(rows),
            "volume": volume,
            "can_report": can_edit_unit(user, unit.pk) and _writable(cycle),
            "stage_closed": not _writable(cycle),
            "light_totals": {c: sum(1 for r in rows if r.light and r.light.color == c) for c in Light.values},
        },
    )


@require_safe
@login_required
@allowed_only(reports_for_own_unit)
def home(request: HttpRequest) -> HttpResponse:
    """The tracking page of the user's own unit."""
    user = request_user(request)
    assert user.unit_id is not None
    return _dashboard(request, user, user.unit_id)


@require_safe
@login_required
def unit_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    return _dashboard(request, request_user(request), pk)


def _indicator(user: User, pk: int) -> DeclaredIndicator:
    return get_object_or_404(
        selectors.visible_indicators(user).select_related(
            "declaration__unit", "declaration__cycle", "parent", "lead_department"
        ),
        pk=pk,
    )


@login_required
@write_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    """The monthly report form of one indicator (and its earlier months)."""
    user = request_user(request)
    indicator = _indicator(user, pk)
    cycle = indicator.declaration.cycle
    unit = indicator.declaration.unit
    period = _period(request.GET.get("period") or request.POST.get("period"), cycle)
    current = ProgressReport.objects.filter(indicator=indicator, period=period).first()
    library = selectors.unit_evidence(cycle, unit)
    can_report = (
        can_edit_unit(user, unit.pk)
        and _writable(cycle)
        and (current is None or current.status != ReportStatus.GRADED)
    )
    if request.method == "POST":
        if not can_edit_unit(user, unit.pk):
            raise PermissionDenied
        form = ReportForm(request.POST, request.FILES, library=library)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = report_save(
                    actor=user,
                    indicator=indicator,
                    period=period,
                    value_to_date=data["value_to_date"],
                    progress_percent=data["progress_percent"],
                    narrative=data["narrative"],
                    uploads=data["uploads"],
                    attach=[e.pk for e in data["attach"]],
                    submit="submit" in request.POST,
                )
            except EvidenceRejected as exc:
                form.add_error("uploads", exc.messages)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                if saved.status == ReportStatus.SUBMITTED:
                    messages.success(request, _("已报送 %(month)s 进展") % {"month": f"{period:%Y-%m}"})
                else:
                    messages.success(request, _("已保存草稿"))
                return redirect(f"{_unit_url(user, unit.pk)}?year={cycle.year}&period={period:%Y-%m}")
    else:
        initial: dict[str, Any] = {}
        if current is not None:
            initial = {
                "value_to_date": current.value_to_date,
                "progress_percent": current.progress_percent,
                "narrative": current.narrative,
            }
        form = ReportForm(initial=initial, library=library)
    return render(
        request,
        "tracking/report.html",
        {
            "cycle": cycle,
            "indicator": indicator,
            "unit": unit,
            "period": period,
            "months": _months(cycle),
            "form": form,
            "current": current,
            "history": selectors.reports_of(indicator),
            "milestones": indicator.milestones.order_by("due"),
            "can_report": can_report,
            "unit_url": _unit_url(user, unit.pk),
        },
    )


def _unit_url(user: User, unit_pk: int) -> str:
    from django.urls import reverse

    if user.unit_id == unit_pk and reports_for_own_unit(user):
        return reverse("tracking:home")
    return reverse("tracking:unit", args=[unit_pk])


@login_required
@write_required
def evidence_library(request: HttpRequest, pk: int) -> HttpResponse:
    """A unit's evidence library: every file with its use, the volume, an upload form."""
    user = request_user(request)
    unit = selectors.scoped_unit(user, pk)
    if unit is None:
        raise Http404
    cycle = selectors.tracking_cycle(request.GET.get("year"))
    if cycle is None:
        raise Http404
    can_upload = can_edit_unit(user, unit.pk) and not is_locked(cycle)
    form = UploadForm()
    if request.method == "POST":
        if not can_edit_unit(user, unit.pk):
            raise PermissionDenied
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                added = evidence_upload(
                    actor=user, cycle=cycle, unit=unit, uploads=form.cleaned_data["uploads"]
                )
            except ValidationError as exc:
                form.add_error("uploads", exc.messages)
            else:
                messages.success(request, _("已上传 %(n)d 个文件") % {"n": len(added)})
                return redirect(f"{request.path}?year={cycle.year}")
    return render(
        request,
        "tracking/evidence.html",
        {
            "cycle": cycle,
            "unit": unit,
            "page": paginate(request, selectors.unit_evidence(cycle, unit), per_page=30),
            "volume": selectors.evidence_volume(cycle, [unit.pk])[unit.pk],
            "form": form,
            "can_upload": can_upload,
            "unit_url": _unit_url(user, unit.pk),
        },
    )


def _evidence(request: HttpRequest, pk: int) -> Evidence:
    return get_object_or_404(selectors.visible_evidence(request_user(request)), pk=pk)


def _file_response(name: str, *, content_type: str, filename: str, attachment: bool) -> FileResponse:
    response = FileResponse(
        storage().open(name, "rb"), as_attachment=attachment, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_safe
@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """Stream one evidence file to a user who may see it (never a public media URL)."""
    evidence = _evidence(request, pk)
    return _file_response(
        evidence.file.name or "",
        content_type=evidence.content_type,
        filename=evidence.original_name,
        attachment=True,
    )


@require_safe
@login_required
def evidence_thumbnail(request: HttpRequest, pk: int) -> FileResponse:
    evidence = _evidence(request, pk)
    if not evidence.thumbnail:
        raise Http404
    return _file_response(
        evidence.thumbnail.name or "", content_type="image/jpeg", filename="thumbnail.jpg", attachment=False
    )


@require_safe
@login_required
@allowed_only(selectors.grades_reports)
def grading(request: HttpRequest) -> HttpResponse:
    """The lead department's queue: reports of the indicators it leads, waiting ones first."""
    user = request_user(request)
    cycle = selectors.tracking_cycle(request.GET.get("year"))
    status = request.GET.get("status", ReportStatus.SUBMITTED)
    reports = selectors.grading_queue(user, cycle, status=status) if cycle else ProgressReport.objects.none()
    return render(
        request,
        "tracking/grading.html",
        {
            "cycle": cycle,
            "page": paginate(request, reports, per_page=30),
            "status": status,
            "statuses": [
                (ReportStatus.SUBMITTED.value, ReportStatus.SUBMITTED.label),
                (ReportStatus.GRADED.value, ReportStatus.GRADED.label),
                ("all", _("全部")),
            ],
        },
    )


@login_required
@write_required
def grade(request: HttpRequest, pk: int) -> HttpResponse:
    """One report with its evidence, and the grade form for its lead department."""
    user = request_user(request)
    report_obj = get_object_or_404(
        ProgressReport.objects.select_related(
            "indicator__declaration__unit",
            "indicator__declaration__cycle",
            "indicator__lead_department",
            "submitted_by",
        ).filter(indicator__in=selectors.visible_indicators(user)),
        pk=pk,
    )
    if report_obj.status == ReportStatus.DRAFT and not can_edit_unit(
        user, report_obj.indicator.declaration.unit_id
    ):
        raise Http404  # a draft is the unit's own until it is submitted
    indicator = report_obj.indicator
    cycle = indicator.declaration.cycle
    can_grade = (
        selectors.may_grade(user, indicator) and _writable(cycle) and report_obj.status != ReportStatus.DRAFT
    )
    if request.method == "POST":
        if not selectors.may_grade(user, indicator):
            raise PermissionDenied
        form = GradeForm(request.POST)
        if form.is_valid():
            try:
                report_grade(
                    actor=user,
                    report=report_obj,
                    grade=form.cleaned_data["grade"],
                    quality_comment=form.cleaned_data["quality_comment"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("已评定"))
                return redirect(f"{_grading_url()}?year={cycle.year}")
    else:
        form = GradeForm(
            initial={"grade": report_obj.grade or None, "quality_comment": report_obj.quality_comment}
        )
    return render(
        request,
        "tracking/grade.html",
        {
            "cycle": cycle,
            "report": report_obj,
            "indicator": indicator,
            "evidence": list(report_obj.evidence.all()),
            "form": form,
            "can_grade": can_grade,
            "light": getattr(indicator, "light", None) if _has_light(indicator) else None,
        },
    )


def _has_light(indicator: DeclaredIndicator) -> bool:
    return selectors._has_light(indicator)


def _grading_url() -> str:
    from django.urls import reverse

    return reverse("tracking:grading")


@require_safe
@login_required
@allowed_only(sees_all_lights)
def lights(request: HttpRequest) -> HttpResponse:
    """Every unit's lights (from the stored UnitLight rows), filterable, with counts per colour."""
    cycle = selectors.tracking_cycle(request.GET.get("year"))
    if cycle is None:
        raise Http404
    leads = selectors.lead_departments(cycle)
    filters = LightsFilter(request.GET or None, leads=leads)
    category_id = lead_id = None
    if filters.is_valid():
        category = filters.cleaned_data["category"]
        lead = filters.cleaned_data["lead"]
        category_id = category.pk if category else None
        lead_id = lead.pk if lead else None
    rows = selectors.lights_rows(cycle, category_id=category_id, lead_department_id=lead_id)
    page = paginate(request, rows, per_page=50)
    volume = selectors.evidence_volume(cycle, [r.unit_id for r in page.object_list])
    return render(
        request,
        "tracking/lights.html",
        {
            "cycle": cycle,
            "filters": filters,
            "page": page,
            "rows": [(r, volume[r.unit_id]) for r in page.object_list],
            "counts": selectors.light_counts(cycle, category_id=category_id, lead_department_id=lead_id),
            "colors": [(c.value, c.label) for c in Light],
        },
    )


@login_required
@office_required
def policy(request: HttpRequest) -> HttpResponse:
    """The office sets the cycle's tracking rules (yellow days, red line, report due day)."""
    user = request_user(request)
    cycle = selectors.tracking_cycle(request.GET.get("year"))
    if cycle is None:
        raise Http404
    current = selectors.policy_for(cycle)
    if request.method == "POST":
        form = PolicyForm(request.POST, instance=current)
        if form.is_valid():
            data = form.cleaned_data
            try:
                policy_save(
                    actor=user,
                    cycle=cycle,
                    yellow_days=data["yellow_days"],
                    red_share=data["red_share"],
                    report_due_day=data["report_due_day"],
                    interpolation=data["interpolation"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("跟踪规则已保存，红黄绿灯将在后台重新计算"))
                return redirect(f"{request.path}?year={cycle.year}")
    else:
        form = PolicyForm(instance=current)
    return render(
        request,
        "tracking/policy.html",
        {"cycle": cycle, "form": form, "cycle_locked": is_locked(cycle)},
    )
