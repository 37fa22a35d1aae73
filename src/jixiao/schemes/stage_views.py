"""Pages for a cycle's stages (move forward, back with a reason, plan the dates) and a scheme's
function-zone weights. Only the office writes; everyone who may read the scheme sees the zone
weights (the tree page links them)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jixiao.accounts.permissions import request_user
from jixiao.schemes import lifecycle, services
from jixiao.schemes.models import Cycle, CycleStage, CycleStagePlan
from jixiao.schemes.selectors import zone_weight_grid, zone_weight_problems
from jixiao.schemes.stage_forms import StageBackForm, StagePlanForm, ZoneWeightForm
from jixiao.schemes.views import _scheme_for_read, office_only
from jixiao.web.crud import post_action


@office_only
@require_POST
def cycle_stage_next(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(Cycle, pk=pk)
    return post_action(
        request,
        lambda: lifecycle.cycle_stage_advance(actor=request_user(request), cycle=cycle),
        done=lambda moved: (
            _("%(cycle)s已进入“%(stage)s”阶段") % {"cycle": moved.name, "stage": moved.get_stage_display()}
        ),
        to=reverse("schemes:cycle_detail", args=[cycle.pk]) + "#stages",
    )


@office_only
def cycle_stage_back(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(Cycle, pk=pk)
    form = StageBackForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                moved = lifecycle.cycle_stage_back(
                    actor=request_user(request), cycle=cycle, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("%(cycle)s已退回“%(stage)s”阶段")
                    % {"cycle": moved.name, "stage": moved.get_stage_display()},
                )
                return redirect(reverse("schemes:cycle_detail", args=[cycle.pk]) + "#stages")
        messages.error(request, _("保存失败，请更正下列错误"))
    previous = lifecycle.previous_stage(cycle.stage)
    title = (
        _("将%(cycle)s退回“%(stage)s”阶段") % {"cycle": cycle.name, "stage": CycleStage(previous).label}
        if previous
        else _("%(cycle)s已在第一个阶段") % {"cycle": cycle.name}
    )
    return render(
        request,
        "schemes/form.html",
        {
            "form": form,
            "title": title,
            "cancel_url": reverse("schemes:cycle_detail", args=[cycle.pk]),
            "submit_label": _("退回"),
        },
    )


@office_only
def cycle_stage_plan(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(Cycle, pk=pk)
    plans = list(CycleStagePlan.objects.filter(cycle=cycle))
    form = StagePlanForm(request.POST or None, plans=plans)
    detail = reverse("schemes:cycle_detail", args=[cycle.pk])
    if request.method == "POST":
        if form.is_valid():
            try:
                lifecycle.cycle_stage_plan_save(actor=request_user(request), cycle=cycle, dates=form.dates())
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已保存%(cycle)s的阶段安排") % {"cycle": cycle.name})
                return redirect(detail + "#stages")
        messages.error(request, _("保存失败，请更正下列错误"))
    return render(
        request,
        "schemes/stage_plan_form.html",
        {"form": form, "cycle": cycle, "cancel_url": detail + "#stages"},
    )


@login_required
def scheme_zone_weights(request: HttpRequest, pk: int) -> HttpResponse:
    """The grid of function-zone weights of a scheme's framework nodes; the office saves it."""
    scheme = _scheme_for_read(request, pk)
    user = request_user(request)
    can_edit = user.is_office and user.can_write and not lifecycle.is_locked(scheme.cycle)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    zones, rows = zone_weight_grid(scheme=scheme)
    form = ZoneWeightForm(request.POST or None, rows=rows)
    url = reverse("schemes:scheme_zone_weights", args=[scheme.pk])
    if request.method == "POST":
        if form.is_valid():
            try:
                changed = services.zone_weights_save(actor=user, scheme=scheme, weights=form.weights())
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已保存功能区权重（%(n)s 处改动）") % {"n": changed})
                return redirect(url)
        messages.error(request, _("保存失败，请更正下列错误"))
    problems = zone_weight_problems(scheme=scheme)
    return render(
        request,
        "schemes/zone_weights.html",
        {
            "scheme": scheme,
            "zones": zones,
            "form": form,
            "can_edit": can_edit,
            "problems": problems,
            "cycle_locked": lifecycle.is_locked(scheme.cycle),
        },
    )
