"""Forms for a cycle's stages (the planned dates, moving back with a reason) and for a scheme's
function-zone weights (a grid of numbers: one per framework node and zone)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jixiao.hygiene import OPINION_MAX_LENGTH
from jixiao.schemes.config_forms import plain_number
from jixiao.schemes.models import STAGE_ORDER, CycleStage, CycleStagePlan
from jixiao.schemes.selectors import ZoneGridRow
from jixiao.web.widgets import NumberWithUnit

HUNDRED = Decimal("100")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("“%(label)s”须为日期，如 2026-02-01") % {"label": label}},
    )


class StagePlanForm(forms.Form):
    """The planned start and end date of each of the cycle's six stages (both optional)."""

    def __init__(self, *args: Any, plans: list[CycleStagePlan], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        known = {p.stage: p for p in plans}
        for stage in STAGE_ORDER:
            label = str(CycleStage(stage).label)
            self.fields[f"opens__{stage}"] = _date_field(str(_("%(stage)s开始") % {"stage": label}))
            self.fields[f"closes__{stage}"] = _date_field(str(_("%(stage)s结束") % {"stage": label}))
            plan = known.get(stage)
            if plan is not None:
                self.initial.setdefault(f"opens__{stage}", plan.opens_on)
                self.initial.setdefault(f"closes__{stage}", plan.closes_on)

    def rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        """(stage label, start field, end field) per stage, for the template."""
        return [(str(CycleStage(s).label), self[f"opens__{s}"], self[f"closes__{s}"]) for s in STAGE_ORDER]

    def dates(self) -> dict[str, tuple[date | None, date | None]]:
        return {
            s: (self.cleaned_data.get(f"opens__{s}"), self.cleaned_data.get(f"closes__{s}"))
            for s in STAGE_ORDER
        }


class StageBackForm(forms.Form):
    reason = forms.CharField(
        label=_("退回原因"),
        max_length=OPINION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("记入审计日志，例如：公布后发现生态保护区的权重设置有误，须调整框架"),
    )


class ZoneWeightForm(forms.Form):
    """One optional weight per framework node and function zone (``zw__<node>__<zone>``); an
    empty cell means the zone uses the node's own weight."""

    def __init__(self, *args: Any, rows: list[ZoneGridRow], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.grid = rows
        for row in rows:
            for zone, weight in row.cells:
                name = f"zw__{row.node.pk}__{zone.pk}"
                label = _("“%(node)s”在%(zone)s的权重") % {"node": row.node.name, "zone": zone.name}
                self.fields[name] = forms.DecimalField(
                    label=label,
                    required=False,
                    min_value=Decimal("0"),
                    max_value=HUNDRED,
                    max_digits=6,
                    decimal_places=2,
                    widget=NumberWithUnit("", attrs={"placeholder": plain_number(row.node.weight)}),
                    error_messages={
                        "invalid": _("%(label)s须为数字") % {"label": label},
                        "min_value": _("%(label)s不能小于 0") % {"label": label},
                        "max_value": _("%(label)s不能大于 100") % {"label": label},
                        "max_decimal_places": _("%(label)s最多两位小数") % {"label": label},
                        "max_digits": _("%(label)s须在 0 到 100 之间") % {"label": label},
                    },
                )
                if weight is not None:
                    self.initial.setdefault(name, plain_number(weight))

    def table(self) -> list[tuple[ZoneGridRow, list[forms.BoundField]]]:
        """Each grid row with its bound inputs (one per zone), for the template."""
        return [
            (row, [self[f"zw__{row.node.pk}__{zone.pk}"] for zone, _weight in row.cells]) for row in self.grid
        ]

    def weights(self) -> dict[tuple[int, int], Decimal | None]:
        return {
            (row.node.pk, zone.pk): self.cleaned_data.get(f"zw__{row.node.pk}__{zone.pk}")
            for row in self.grid
            for zone, _weight in row.cells
        }
