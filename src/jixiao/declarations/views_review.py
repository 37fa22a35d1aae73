"""The review pages (/review/): a reviewer's queue, one declaration's review, the stage settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jixiao.accounts.permissions import (
    allowed_only,
    office_or_auditor,
    office_required,
    request_user,
    write_required,
)
from jixiao.declarations import review, review_selectors
from jixiao.declarations.forms_review import DecisionForm, PresetForm, StageAddForm
from jixiao.declarations.models import Declaration, ReviewStage
from jixiao.schemes import lifecycle
from jixiao.schemes.models import Cycle
from jixiao.schemes.selectors import cycle_for_page
from jixiao.web.paging import paginate


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
@allowed_only(review_selectors.reviews_anything)
def queue(request: HttpRequest) -> HttpResponse:
    """The declarations waiting for the user's decision, searchable by unit."""
    user = request_user(request)
    query = request.GET.get("q", "")
    items = review_selectors.review_queue(user=user, query=query)
    return render(request, "declarations/review/queue.html", {"page": paginate(request, items), "q": query})


def _stages_url(cycle: Cycle) -> str:
    return f"{reverse('review:stages')}?year={cycle.year}"


@login_required
@allowed_only(office_or_auditor)
def stages(request: HttpRequest) -> HttpResponse:
    """A cycle's review stages: add, remove, reorder, or apply a preset (the office)."""
    cycle = cycle_for_page(request.GET.get("year"))
    editable = False
    if cycle is not None:
        try:
            lifecycle.assert_stage(cycle, review.STAGE_CONFIG_STAGES, "")
            editable = request_user(request).is_office and request_user(request).can_write
        except ValidationError:
            editable = False
    return render(
        request,
        "declarations/review/stages.html",
        {
            "cycle": cycle,
            "stages": review_selectors.review_stages(cycle) if cycle else [],
            "usage": review_selectors.stage_usage(cycle) if cycle else {},
            "editable": editable,
            "form": StageAddForm(),
            "preset_form": PresetForm(),
        },
    )


@login_required
@office_required
@write_required
@require_POST
def stage_add(request: HttpRequest, cycle_pk: int) -> HttpResponse:
    cycle = get_object_or_404(Cycle, pk=cycle_pk)
    form = StageAddForm(request.POST)
    if form.is_valid():
        try:
            review.review_stage_add(
                actor=request_user(request),
                cycle=cycle,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已添加审核环节“%(n)s”") % {"n": form.cleaned_data["name"]})
            return redirect(_stages_url(cycle))
    return render(
        request,
        "declarations/review/stages.html",
        {
            "cycle": cycle,
            "stages": review_selectors.review_stages(cycle),
            "usage": review_selectors.stage_usage(cycle),
            "editable": True,
            "form": form,
            "preset_form": PresetForm(),
        },
    )


@login_required
@office_required
@write_required
@require_POST
def stage_preset(request: HttpRequest, cycle_pk: int) -> HttpResponse:
    cycle = get_object_or_404(Cycle, pk=cycle_pk)
    form = PresetForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择一种预设的审核流程"))
        return redirect(_stages_url(cycle))
    try:
        review.review_stages_apply_preset(
            actor=request_user(request), cycle=cycle, preset=form.cleaned_data["preset"]
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("已采用预设审核流程"))
    return redirect(_stages_url(cycle))


@login_required
@office_required
@write_required
@require_POST
def stage_remove(request: HttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(ReviewStage.objects.select_related("cycle"), pk=pk)
    try:
        review.review_stage_remove(actor=request_user(request), stage=stage)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("已删除审核环节“%(n)s”") % {"n": stage.name})
    return redirect(_stages_url(stage.cycle))


@login_required
@office_required
@write_required
@require_POST
def stage_move(request: HttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(ReviewStage.objects.select_related("cycle"), pk=pk)
    try:
        review.review_stage_move(
            actor=request_user(request), stage=stage, up=request.POST.get("dir") != "down"
        )
    except ValidationError as exc:
        _errors(request, exc)
    return redirect(_stages_url(stage.cycle))


def _declaration(request: HttpRequest, pk: int) -> Declaration:
    user = request_user(request)
    return get_object_or_404(
        review_selectors.readable_declarations(user).select_related("unit__category", "cycle", "stage"), pk=pk
    )


def _version_number(request: HttpRequest) -> int | None:
    raw = request.GET.get("v", "")
    return int(raw) if raw.isdigit() else None


def _render_review(
    request: HttpRequest, declaration: Declaration, number: int | None, form: DecisionForm | None = None
) -> HttpResponse:
    user = request_user(request)
    page = review_selectors.review_page(declaration, number)
    is_current = page.version is not None and page.version.number == declaration.version
    can_decide = (
        is_current and declaration.status in review.IN_REVIEW and review.may_decide(user, declaration)
    )
    if can_decide and form is None:
        form = DecisionForm(rows=page.rows, initial=_prefill(page))
    rows = [
        (row, *(form.bound_for(row) if form is not None and can_decide else (None, None)))
        for row in page.rows
    ]
    return render(
        request,
        "declarations/review/declaration.html",
        {
            "d": declaration,
            "p": page,
            "rows": rows,
            "form": form if can_decide else None,
            "can_decide": can_decide,
            "is_current": is_current,
            "locked": lifecycle.is_locked(declaration.cycle),
        },
    )


def _prefill(page: review_selectors.ReviewPage) -> dict[str, str]:
    """An earlier stage's reason for a flagged target, offered again (each stage states its own)."""
    initial: dict[str, str] = {}
    for row in page.rows:
        reasons = [c.text for c in row.comments if c.is_ambition_reason]
        if row.check.flagged and reasons:
            initial[f"r_{row.check.uid}"] = reasons[-1]
    return initial


@login_required
@allowed_only(review_selectors.reads_reviews)
def declaration_review(request: HttpRequest, pk: int) -> HttpResponse:
    """One declaration's version with the ambition check, the diffs, the history and the decision."""
    declaration = _declaration(request, pk)
    return _render_review(request, declaration, _version_number(request))


@login_required
@allowed_only(review_selectors.reads_reviews)
@write_required
@require_POST
def declaration_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    declaration = _declaration(request, pk)
    if not review.may_decide(user, declaration):
        raise PermissionDenied  # not this user's stage (another unit's declaration was a 404 above)
    page = review_selectors.review_page(declaration)
    form = DecisionForm(request.POST, rows=page.rows)
    if form.is_valid():
        raw_stage, raw_version = request.POST.get("stage", ""), request.POST.get("version", "")
        try:
            decision = review.declaration_decide(
                actor=user,
                declaration=declaration,
                version=int(raw_version) if raw_version.isdigit() else -1,
                stage_id=int(raw_stage) if raw_stage.isdigit() else -1,
                outcome=form.cleaned_data["outcome"],
                comment=form.cleaned_data.get("comment", ""),
                indicator_comments=form.indicator_comments(),
                reasons=form.reasons(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("已提交审核结论：%(o)s（%(u)s）")
                % {"o": decision.get_outcome_display(), "u": declaration.unit.name},
            )
            if review_selectors.reviews_anything(user):
                return redirect("review:queue")
            return redirect("review:declaration", pk=declaration.pk)
    return _render_review(request, declaration, None, form)
