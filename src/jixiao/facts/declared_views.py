"""The entry grid of one unit's declared targets (申报指标): one row per published declared leaf,
with its annual value, grade, target and evidence. The office enters all of them, a lead
department the ones it leads; leaders and the auditor read."""

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

from jixiao.accounts.permissions import request_user, write_required
from jixiao.declarations.models import DeclaredIndicator
from jixiao.facts import declared
from jixiao.facts.excel import FactKind, may_import
from jixiao.facts.excel.declared_codes import code_of, declared_targets
from jixiao.facts.models import IndicatorResult
from jixiao.facts.selectors import may_see_entry_grids
from jixiao.hygiene import NOTE_MAX_LENGTH
from jixiao.organisation.models import Unit, UnitCategory
from jixiao.schemes.lifecycle import is_locked
from jixiao.schemes.models import Cycle
from jixiao.schemes.selectors import cycle_for_page
from jixiao.web.paging import paginate

GRADE_MAX = 32


def _number(label: str) -> forms.FloatField:
    return forms.FloatField(
        label=label, required=False, error_messages={"invalid": _("%(label)s须为数字") % {"label": label}}
    )


class DeclaredResultsForm(forms.Form):
    """Four inputs per declared leaf (``d<pk>-value`` …), each labelled with the target's name."""

    KEYS = ("value", "grade", "target", "evidence")

    def __init__(
        self, *args: Any, leaves: list[DeclaredIndicator], results: dict[int, IndicatorResult], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.leaves = leaves
        self.codes: dict[int, str] = {}
        for leaf in leaves:
            p = f"d{leaf.pk}-"
            self.fields[p + "value"] = _number(_("“%(n)s”的实际值") % {"n": leaf.name})
            self.fields[p + "grade"] = forms.CharField(
                label=_("“%(n)s”的等次/是否") % {"n": leaf.name}, required=False, max_length=GRADE_MAX
            )
            self.fields[p + "target"] = _number(_("“%(n)s”的目标值") % {"n": leaf.name})
            self.fields[p + "evidence"] = forms.CharField(
                label=_("“%(n)s”的佐证说明") % {"n": leaf.name}, required=False, max_length=NOTE_MAX_LENGTH
            )
            row = results.get(leaf.pk)
            target = row.target if row and row.target is not None else leaf.target
            self.initial.update(
                {
                    p + "value": row.value if row else None,
                    p + "grade": row.grade if row else "",
                    p + "target": None if target is None else float(target),
                    p + "evidence": row.evidence if row else "",
                }
            )

    def table(self) -> list[tuple[DeclaredIndicator, str, list[forms.BoundField]]]:
        """(leaf, its code as the Excel template shows it, its inputs) per leaf."""
        return [
            (leaf, self.codes.get(leaf.pk, ""), [self[f"d{leaf.pk}-{k}"] for k in self.KEYS])
            for leaf in self.leaves
        ]

    def entries(self, keep: set[int]) -> list[declared.DeclaredEntry]:
        data = self.cleaned_data
        return [
            declared.DeclaredEntry(
                declared_id=leaf.pk,
                value=data.get(f"d{leaf.pk}-value"),
                grade=(data.get(f"d{leaf.pk}-grade") or "").strip(),
                target=data.get(f"d{leaf.pk}-target"),
                evidence=data.get(f"d{leaf.pk}-evidence") or "",
            )
            for leaf in self.leaves
            if leaf.pk in keep
        ]


@login_required
def declared_unit_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not may_see_entry_grids(user):
        raise PermissionDenied
    cycle = cycle_for_page(request.GET.get("year"))
    units = declared.units_with_published_targets(user=user, cycle=cycle) if cycle else Unit.objects.none()
    can_import = cycle is not None and not is_locked(cycle) and may_import(user, FactKind.DECLARED)
    return render(
        request,
        "facts/declared_units.html",
        {
            "cycle": cycle,
            "page": paginate(request, units, per_page=50),
            "can_import": can_import,
            "categories": (
                UnitCategory.objects.filter(pk__in=units.values("category_id")).order_by("order", "code")
                if can_import
                else []
            ),
        },
    )


@login_required
@write_required
def declared_results(request: HttpRequest, unit_pk: int) -> HttpResponse:
    user = request_user(request)
    if not may_see_entry_grids(user):
        raise PermissionDenied
    cycle: Cycle | None = cycle_for_page(request.GET.get("year"))
    if cycle is None:
        raise Http404
    unit = get_object_or_404(declared.units_with_published_targets(user=user, cycle=cycle), pk=unit_pk)
    leaves = declared.declared_leaves(user=user, cycle=cycle, unit=unit)
    form = DeclaredResultsForm(
        request.POST or None, leaves=leaves, results=declared.declared_results(unit=unit, leaves=leaves)
    )
    form.codes = code_of(declared_targets(cycle=cycle, unit_ids=[unit.pk]))
    locked = is_locked(cycle)
    editable = (
        {leaf.pk for leaf in leaves if declared.may_enter_declared(user, leaf)} if not locked else set()
    )
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        if form.is_valid():
            try:
                changed = declared.declared_results_save(
                    actor=user, cycle=cycle, unit=unit, entries=form.entries(editable)
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已保存 %(n)d 条完成情况") % {"n": changed})
                return redirect(reverse("facts:declared_results", args=[unit.pk]) + f"?year={cycle.year}")
        messages.error(request, _("填写有误，全部未保存；请更正后再保存"))
    return render(
        request,
        "facts/declared_results.html",
        {
            "cycle": cycle,
            "unit": unit,
            "form": form,
            "editable": editable,
            "cycle_locked": locked,
            "can_import": not locked and may_import(user, FactKind.DECLARED),
        },
    )
