"""Pages of 督查督办 (/supervision/): the task list, a task with its reports and actions, the
assignment form, the rating levels. Each page scoped by :mod:`.selectors`; writes through
:mod:`.services`."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jixiao.accounts.permissions import (
    allowed_only,
    can_edit_unit,
    office_required,
    request_user,
    write_required,
)
from jixiao.jobs.models import Job, JobKind
from jixiao.jobs.selectors import active_job, latest_job
from jixiao.organisation.models import Unit
from jixiao.schemes.lifecycle import is_locked
from jixiao.schemes.models import Cycle
from jixiao.schemes.selectors import cycle_for_page
from jixiao.supervision import bulletin as bulletins
from jixiao.supervision import selectors, services
from jixiao.supervision.forms import (
    BulletinForm,
    DecisionForm,
    ExtensionForm,
    FilterForm,
    LevelForm,
    RateForm,
    ReportForm,
    TaskForm,
)
from jixiao.supervision.lights import task_light, yellow_days
from jixiao.supervision.models import OPEN_STATUSES, ExtensionRequest, RatingLevel, TaskStatus
from jixiao.tracking.evidence import EvidenceRejected
from jixiao.tracking.selectors import unit_evidence
from jixiao.web.crud import post_action
from jixiao.web.paging import paginate

PER_PAGE = 50


def _cycle(request: HttpRequest) -> Cycle:
    year = request.POST.get("year") if request.method == "POST" else request.GET.get("year")
    cycle = cycle_for_page(year)
    if cycle is None:
        raise Http404
    return cycle


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@login_required
@allowed_only(selectors.may_see_supervision)
def task_list(request: HttpRequest) -> HttpResponse:
    """The office's whole list (filterable by status, source, light, leader, unit); a unit's own
    tasks for a liaison or lead department."""
    user = request_user(request)
    cycle = _cycle(request)
    today = timezone.localdate()
    form = FilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.TaskFilters(
        status=data.get("status", ""),
        source=data.get("source", ""),
        light=data.get("light", ""),
        unit=_int(request.GET.get("unit")),
        leader=data["leader"].pk if data.get("leader") else None,
        q=(data.get("q") or "").strip(),
    )
    visible = selectors.visible_tasks(user=user)
    tasks = selectors.filtered_tasks(visible, cycle=cycle, filters=filters, on=today)
    page = paginate(request, tasks, per_page=PER_PAGE)
    rows = selectors.with_lights(list(page.object_list), cycle=cycle, on=today)
    return render(
        request,
        "supervision/task_list.html",
        {
            "cycle": cycle,
            "form": form,
            "page": page,
            "rows": rows,
            "counts": selectors.light_counts(visible, cycle=cycle, on=today),
            "may_assign": services.may_assign(user) and not is_locked(cycle),
            "is_office": user.is_office,
            "unit": Unit.objects.filter(pk=filters.unit).first() if filters.unit else None,
        },
    )


@login_required
@allowed_only(services.may_assign)
def task_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    cycle = _cycle(request)
    form = TaskForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = services.task_create(
                    actor=user,
                    cycle=cycle,
                    title=data["title"],
                    content=data["content"],
                    source=data["source"],
                    source_detail=data["source_detail"],
                    leader=data["leader"],
                    lead_unit=data["lead_unit"],
                    co_units=list(data["co_units"]),
                    priority=data["priority"],
                    deadline=data["deadline"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("已交办督查事项 %(n)s") % {"n": task.number})
                return redirect("supervision:task_detail", pk=task.pk)
        messages.error(request, _("保存失败，请更正下列错误"))
    return render(request, "supervision/task_form.html", {"form": form, "cycle": cycle})


def _add_errors(form: Any, exc: ValidationError) -> None:
    """A service's refusal on the form: next to its field when it names one the form has."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    if not selectors.may_see_supervision(user):
        raise PermissionDenied
    task = selectors.task_get(user=user, pk=pk)
    return _detail_page(request, task)


def _detail_page(request: HttpRequest, task: Any, **forms: Any) -> HttpResponse:
    user = request_user(request)
    cycle = task.cycle
    writable = not is_locked(cycle)
    units = services.task_units(task)
    reporter = (
        writable
        and not user.is_office
        and user.unit_id in units
        and can_edit_unit(user, user.unit_id)
        and task.status in OPEN_STATUSES
    )
    lead = user.unit_id == task.lead_unit_id
    library = unit_evidence(cycle, Unit(pk=user.unit_id)) if reporter else None
    context = {
        "task": task,
        "cycle": cycle,
        "light": task_light(task, on=timezone.localdate(), days=yellow_days(cycle.pk)),
        "co_units": task.co_units.select_related("category"),
        "reports": selectors.task_reports(task),
        "extensions": task.extensions.select_related("requested_by", "decided_by"),
        "handed_down": task.handed_down.select_related("lead_unit"),
        "can_sign": reporter and lead and task.status == TaskStatus.ASSIGNED,
        "can_report": reporter and not (lead and task.status == TaskStatus.ASSIGNED),
        "can_extend": reporter and lead and not selectors.pending_extensions(task).exists(),
        "can_decide": writable and user.is_office and user.can_write,
        "can_rate": writable and user.is_office and user.can_write,
        "report_form": forms.get("report_form")
        or (ReportForm(library=library, lead=lead) if reporter else None),
        "extension_form": forms.get("extension_form") or ExtensionForm(),
        "decision_form": DecisionForm(),
        "rate_form": forms.get("rate_form")
        or RateForm(levels=RatingLevel.objects.filter(cycle=cycle), initial={"rating": task.rating_id}),
    }
    return render(request, "supervision/task_detail.html", context)


@login_required
@write_required
@require_POST
def task_sign(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    task = selectors.task_get(user=user, pk=pk)
    return post_action(
        request,
        lambda: services.task_sign(actor=user, task=task),
        done=_("已签收，请按时报送进展"),
        to=reverse("supervision:task_detail", args=[task.pk]),
    )


@login_required
@write_required
@require_POST
def task_report(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    task = selectors.task_get(user=user, pk=pk)
    if user.unit_id is None:
        raise PermissionDenied
    library = unit_evidence(task.cycle, Unit(pk=user.unit_id))
    form = ReportForm(request.POST, request.FILES, library=library, lead=user.unit_id == task.lead_unit_id)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.task_report(
                actor=user,
                task=task,
                text=data["text"],
                progress=data["progress"],
                final=data.get("final", False),
                evidence=list(data["attach"]),
                uploads=data["uploads"],
            )
        except EvidenceRejected as exc:
            form.add_error("uploads", exc.messages)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已报送进展"))
            return redirect("supervision:task_detail", pk=task.pk)
    messages.error(request, _("报送失败，请更正下列错误"))
    return _detail_page(request, task, report_form=form)


@login_required
@write_required
@require_POST
def extension_request(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    task = selectors.task_get(user=user, pk=pk)
    form = ExtensionForm(request.POST)
    if form.is_valid():
        try:
            services.extension_request(
                actor=user,
                task=task,
                reason=form.cleaned_data["reason"],
                new_deadline=form.cleaned_data["new_deadline"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已提交延期申请，等待督查办审批"))
            return redirect("supervision:task_detail", pk=task.pk)
    messages.error(request, _("提交失败，请更正下列错误"))
    return _detail_page(request, task, extension_form=form)


@login_required
@office_required
@write_required
@require_POST
def extension_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    extension = get_object_or_404(ExtensionRequest.objects.select_related("task"), pk=pk)
    form = DecisionForm(request.POST)
    to = reverse("supervision:task_detail", args=[extension.task_id])
    if not form.is_valid():
        messages.error(request, _("请选择同意或不同意"))
        return redirect(to)
    return post_action(
        request,
        lambda: services.extension_decide(
            actor=user,
            request=extension,
            approve=form.cleaned_data["decision"] == "approve",
            comment=form.cleaned_data["comment"],
        ),
        done=_("已审批延期申请"),
        to=to,
    )


@login_required
@office_required
@write_required
@require_POST
def task_rate(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    task = selectors.task_get(user=user, pk=pk)
    form = RateForm(request.POST, levels=RatingLevel.objects.filter(cycle=task.cycle))
    if form.is_valid():
        try:
            services.task_rate(
                actor=user, task=task, level=form.cleaned_data["rating"], comment=form.cleaned_data["comment"]
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("已评定，扣分已计入牵头单位的考核结果"))
            return redirect("supervision:task_detail", pk=task.pk)
    messages.error(request, _("评定失败，请更正下列错误"))
    return _detail_page(request, task, rate_form=form)


@login_required
@office_required
def levels(request: HttpRequest) -> HttpResponse:
    """The cycle's rating levels and the points each deducts; the office adds or edits one."""
    user = request_user(request)
    cycle = _cycle(request)
    rows = list(RatingLevel.objects.filter(cycle=cycle))
    editing = (
        get_object_or_404(RatingLevel, pk=_int(request.GET.get("edit")), cycle=cycle)
        if request.GET.get("edit")
        else None
    )
    form = LevelForm(request.POST or None, instance=editing or RatingLevel(cycle=cycle))
    if request.method == "POST":
        if not user.can_write:
            raise PermissionDenied
        if form.is_valid():
            level = form.save(commit=False)
            before = (
                None
                if editing is None
                else {"label": editing.label, "deduction": str(editing.deduction), "order": editing.order}
            )
            try:
                services.rating_level_save(actor=user, level=level, before=before)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("已保存评定结果“%(l)s”") % {"l": level.label})
                return redirect(reverse("supervision:levels") + f"?year={cycle.year}")
        messages.error(request, _("保存失败，请更正下列错误"))
    return render(
        request,
        "supervision/levels.html",
        {
            "cycle": cycle,
            "levels": rows,
            "form": form,
            "editing": editing,
            "can_edit": user.can_write and not is_locked(cycle),
        },
    )


# --- 督查通报 ------------------------------------------------------------------------------------


def _months(cycle: Cycle) -> list[date]:
    last = min(timezone.localdate(), date(cycle.year, 12, 31))
    return [date(cycle.year, m, 1) for m in range(1, last.month + 1)] if last.year == cycle.year else []


def _bulletin_job(cycle: Cycle) -> Job | None:
    return active_job(kind=JobKind.SUPERVISION_BULLETIN, cycle=cycle) or latest_job(
        kind=JobKind.SUPERVISION_BULLETIN, cycle=cycle
    )


@login_required
@allowed_only(selectors.reads_bulletins)
def bulletin_list(request: HttpRequest) -> HttpResponse:
    """督查通报: issued ones for every appraisal role; drafts and generation for the office."""
    user = request_user(request)
    cycle = _cycle(request)
    office = user.is_office
    return render(
        request,
        "supervision/bulletin_list.html",
        {
            "cycle": cycle,
            "page": paginate(request, bulletins.visible_bulletins(user=user).filter(cycle=cycle)),
            "months": _months(cycle),
            "may_generate": office and user.can_write and not is_locked(cycle),
            "job": _bulletin_job(cycle) if office else None,
        },
    )


@login_required
@office_required
@write_required
@require_POST
def bulletin_generate(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    cycle = _cycle(request)
    to = reverse("supervision:bulletin_list") + f"?year={cycle.year}"
    raw = request.POST.get("month", "")
    month = next((m for m in _months(cycle) if f"{m:%Y-%m}" == raw), None)
    if month is None:
        messages.error(request, _("请选择月份"))
        return redirect(to)
    return post_action(
        request,
        lambda: bulletins.bulletin_start(actor=user, cycle=cycle, month=month),
        done=_("已开始生成督查通报，完成后会通知考核办"),
        to=to,
    )


@login_required
@allowed_only(selectors.reads_bulletins)
def bulletin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    bulletin = get_object_or_404(bulletins.visible_bulletins(user=user), pk=pk)
    editable = (
        user.is_office and user.can_write and not bulletin.is_published and not is_locked(bulletin.cycle)
    )
    form = BulletinForm(request.POST or None, instance=bulletin)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        if form.is_valid():
            try:
                bulletins.bulletin_edit(
                    actor=user,
                    bulletin=bulletin,
                    highlights=form.cleaned_data["highlights"],
                    concerns=form.cleaned_data["concerns"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("已保存；请重新生成 PDF 后再印发"))
                return redirect("supervision:bulletin_detail", pk=bulletin.pk)
        messages.error(request, _("保存失败，请更正下列错误"))
    context = bulletins.bulletin_context(bulletin=bulletin)
    context.update(
        {
            "form": form if editable else None,
            "may_publish": editable and bool(bulletin.file),
            "may_generate": editable,
            "job": _bulletin_job(bulletin.cycle) if user.is_office else None,
        }
    )
    return render(request, "supervision/bulletin_detail.html", context)


@login_required
def bulletin_download(request: HttpRequest, pk: int) -> FileResponse:
    """The bulletin's PDF for whoever may read it; every download is audited."""
    user = request_user(request)
    if not selectors.reads_bulletins(user):
        raise PermissionDenied
    bulletin = get_object_or_404(bulletins.visible_bulletins(user=user), pk=pk)
    if not bulletin.file:
        raise Http404
    bulletins.bulletin_download_record(actor=user, bulletin=bulletin)
    name = _("%(month)s督查通报.pdf") % {"month": f"{bulletin.month:%Y年%m月}"}
    return FileResponse(
        bulletin.file.open("rb"), as_attachment=True, filename=name, content_type="application/pdf"
    )


@login_required
@office_required
@write_required
@require_POST
def bulletin_publish(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    bulletin = get_object_or_404(bulletins.visible_bulletins(user=user), pk=pk)
    return post_action(
        request,
        lambda: bulletins.bulletin_publish(actor=user, bulletin=bulletin),
        done=_("督查通报已印发，各单位可以查看"),
        to=reverse("supervision:bulletin_detail", args=[bulletin.pk]),
    )


@login_required
@office_required
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """A supervision bulletin job's progress panel (polled by htmx while active)."""
    job = get_object_or_404(
        Job.objects.select_related("cycle", "created_by"), pk=pk, kind=JobKind.SUPERVISION_BULLETIN
    )
    response = render(request, "supervision/_job.html", {"job": job})
    if getattr(request, "htmx", False) and not job.is_active:
        response["HX-Refresh"] = "true"
    return response
