"""Pages where lead departments and the office enter the engine's facts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.functions import Left
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from jixiao.accounts.permissions import office_required, request_user, write_required
from jixiao.facts import selectors, services
from jixiao.facts.forms import AdjustmentForm, grid_from_results, parse_result_grid
from jixiao.facts.models import Adjustment, AdjustmentKind
from jixiao.hygiene import NOTE_MAX_LENGTH
from jixiao.schemes.lifecycle import CycleLocked, assert_cycle_editable, is_locked
from jixiao.schemes.models import IndicatorNode
from jixiao.schemes.rule_types import INDICATOR_RULES
from jixiao.schemes.selectors import cycle_for_page
from jixiao.web.paging import paginate


@login_required
def indicator_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not selectors.may_see_entry_grids(user):
        raise PermissionDenied
    cycle = cycle_for_page(request.GET.get("year"), has="indicators")
    leaves = selectors.enterable_leaves(user=user, cycle=cycle) if cycle else IndicatorNode.objects.none()
    query = request.GET.get("q", "").strip()
    if query:
        leaves = leaves.filter(name__icontains=query)
    page = paginate(request, leaves, per_page=50)
    entered = selectors.entered_counts([leaf.pk for leaf in page])
    for leaf in page:
        leaf.entered = entered.get(leaf.pk, 0)  # shown in the list
    return render(
        request, "facts/indicator_list.html", {"cycle": cycle, "cycle_locked": is_locked(cycle), "page": page}
    )


@login_required
@write_required
def indicator_results(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    indicator = get_object_or_404(
        IndicatorNode.objects.select_related("scheme__cycle", "scheme__category", "lead_unit"), pk=pk
    )
    if not selectors.enterable_leaves(user=user, cycle=indicator.scheme.cycle).filter(pk=pk).exists():
        raise Http404
    grid = selectors.result_grid(indicator=indicator)
    rows = grid_from_results(grid)
    cycle_locked = is_locked(indicator.scheme.cycle)
    can_edit = services.may_enter_results(user, indicator) and not cycle_locked
    if request.method == "POST":
        if not services.may_enter_results(user, indicator):
            raise PermissionDenied
        # Every cell is read and checked before anything is saved; a bad cell keeps all typed values.
        parsed = parse_result_grid(indicator=indicator, units=[unit for unit, _r in grid], data=request.POST)
        rows = parsed.rows
        if parsed.errors:
            messages.error(
                request,
                _("有 %(n)d 处填写有误（已标红），全部未保存；请更正后再保存") % {"n": parsed.errors},
            )
        else:
            try:
                changed = services.indicator_results_save(
                    actor=user, indicator=indicator, entries=parsed.entries
                )
            except ValidationError as exc:
                for error in exc.messages:
                    messages.error(request, error)
            else:
                messages.success(request, _("已保存 %(n)d 条完成情况") % {"n": changed})
                return redirect("facts:indicator_results", pk=pk)
    spec = INDICATOR_RULES.get(indicator.rule_type)
    return render(
        request,
        "facts/indicator_results.html",
        {
            "indicator": indicator,
            "rows": rows,
            "rule_label": spec.label if spec else "",
            "can_edit": can_edit,
            "cycle_locked": cycle_locked,
        },
    )


@login_required
def adjustment_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    cycle = cycle_for_page(request.GET.get("year"), has="facts")
    items = selectors.adjustments_for(user=user, cycle=cycle) if cycle else Adjustment.objects.none()
    kind = request.GET.get("kind", "")
    if kind:
        items = items.filter(kind=kind)
    return render(
        request,
        "facts/adjustment_list.html",
        {
            "cycle": cycle,
            "cycle_locked": is_locked(cycle),
            # Rows written before reasons were bounded can be huge: read only what the list shows.
            "page": paginate(
                request,
                items.defer("reason")
                .annotate(reason_head=Left("reason", NOTE_MAX_LENGTH))
                .order_by("-created_at"),
            ),
            "kinds": AdjustmentKind.choices,
        },
    )


@login_required
@office_required
@write_required
def adjustment_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    cycle = cycle_for_page(request.GET.get("year"), has="facts")
    if cycle is None:
        raise Http404
    back = reverse("facts:adjustment_list") + f"?year={cycle.year}"
    try:
        assert_cycle_editable(cycle)
    except CycleLocked as exc:
        # Say so before the form is filled in; the service refuses a POST that gets here anyway.
        messages.error(request, exc.messages[0])
        return redirect(back)
    form = AdjustmentForm(request.POST or None, cycle_id=cycle.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.adjustment_create(
                actor=user,
                cycle_id=cycle.pk,
                kind=AdjustmentKind(data["kind"]),
                unit=data.get("unit"),
                official=data.get("official"),
                points=data.get("points"),
                sanction=data.get("sanction") or "",
                indicator=data.get("indicator"),
                component=data.get("component") or "",
                source=data["source"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("已录入"))
            return redirect(back)
    return render(request, "facts/adjustment_form.html", {"form": form, "cycle": cycle})


@login_required
@office_required
@write_required
def adjustment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    adjustment = get_object_or_404(Adjustment, pk=pk)
    back = reverse("facts:adjustment_list") + f"?year={adjustment.cycle.year}"
    if request.method == "POST":
        try:
            services.adjustment_delete(actor=request_user(request), adjustment=adjustment)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("已撤销"))
        return redirect(back)
    return render(request, "facts/adjustment_confirm_delete.html", {"adjustment": adjustment})
