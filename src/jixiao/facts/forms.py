"""Forms for entering facts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from jixiao.facts.models import AdjustmentKind, IndicatorResult, SanctionLevel
from jixiao.facts.services import ResultEntry
from jixiao.hygiene import NOTE_MAX_LENGTH
from jixiao.organisation.models import Official, Unit
from jixiao.schemes.models import Component, IndicatorNode, Subject
from jixiao.web.widgets import GroupedModelChoiceField, NumberWithUnit


class AdjustmentForm(forms.Form):
    """A deduction, bonus, veto, sanction … for one unit or one official, picked from searchable
    lists (units by category, officials by unit), with the component it applies to by name."""

    kind = forms.ChoiceField(label=_("类型"), choices=AdjustmentKind.choices)
    unit = GroupedModelChoiceField(
        label=_("单位（班子）"),
        queryset=Unit.objects.none(),
        required=False,
        group_by=lambda unit: unit.category.name,
    )
    official = GroupedModelChoiceField(
        label=_("或选择干部"),
        queryset=Official.objects.none(),
        required=False,
        group_by=lambda official: official.unit.name,
        label_of=lambda official: f"{official.name}（{official.code}）",
    )
    points = forms.FloatField(label=_("分值"), required=False, widget=NumberWithUnit(_("分")))
    sanction = forms.ChoiceField(
        label=_("处分类型"), choices=[("", "—"), *SanctionLevel.choices], required=False
    )
    indicator = GroupedModelChoiceField(
        label=_("涉及指标"),
        queryset=IndicatorNode.objects.none(),
        required=False,
        group_by=lambda leaf: f"{leaf.scheme.category.name} · {leaf.component.name}",
        label_of=lambda leaf: f"{leaf.code} {leaf.name}".strip(),
    )
    component = forms.ChoiceField(label=_("扣减或加分的构成"), required=False)
    source = forms.CharField(label=_("来源"), max_length=64, help_text=_("如 督查督办、审计、纪检"))
    reason = forms.CharField(
        label=_("事由"), max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, cycle_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cycle_id = cycle_id
        self._field("unit").queryset = (
            Unit.objects.filter(is_active=True)
            .select_related("category")
            .order_by("category__order", "category__code", "code")
        )
        official = self._field("official")
        official.queryset = (
            Official.objects.filter(is_active=True).select_related("unit").order_by("unit__code", "code")
        )
        indicator = self._field("indicator")
        indicator.queryset = (
            IndicatorNode.objects.filter(scheme__cycle_id=cycle_id, children__isnull=True)
            .select_related("scheme__category", "component")
            .order_by("scheme__category__order", "scheme__category__code", "component__order", "code", "id")
        )
        self.components = list(
            Component.objects.filter(scheme__cycle_id=cycle_id, parent__isnull=True)
            .select_related("scheme")
            .order_by("subject", "order", "id")
        )
        by_subject: dict[str, dict[str, str]] = {}
        for comp in self.components:
            by_subject.setdefault(comp.subject, {}).setdefault(comp.code, comp.name)
        component = self.fields["component"]
        assert isinstance(component, forms.ChoiceField)
        component.choices = [
            ("", _("（按方案设置：默认扣在方案指定的构成或总分）")),
            *(
                (str(Subject(subject).label), sorted(codes.items(), key=lambda kv: kv[1]))
                for subject, codes in sorted(by_subject.items())
            ),
        ]
        component.help_text = _("扣分、加分计入哪一项构成；不选则按方案的计分选项")

    def _field(self, name: str) -> GroupedModelChoiceField:
        field = self.fields[name]
        assert isinstance(field, GroupedModelChoiceField)
        return field

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        unit, official = data.get("unit"), data.get("official")
        if bool(unit) == bool(official):
            raise forms.ValidationError(_("请选择一个单位，或选择一名干部（二者选一）"))
        code = data.get("component") or ""
        if code:
            subject = Subject.TEAM if unit else Subject.OFFICIAL
            category_id = unit.category_id if unit else official.unit.category_id  # type: ignore[union-attr]  # one is set
            names = {
                c.code
                for c in self.components
                if c.subject == subject and c.scheme.category_id == category_id
            }
            if code not in names:
                self.add_error(
                    "component",
                    gettext("所选构成不属于“%(who)s”所在类别的方案（%(subject)s）")
                    % {"who": unit or official, "subject": Subject(subject).label},
                )
        return data


# --- the entry grid: one row per unit, one cell per input --------------------------------------

GRID_NUMBERS: tuple[tuple[str, StrOrPromise], ...] = (
    ("value", _("实际值")),
    ("target", _("目标值")),
    ("last_year", _("上年值")),
)
GRADE_MAX = 32
_THOUSANDS = str.maketrans({",": "", "，": "", " ": ""})


@dataclass
class GridCell:
    """One input of the entry grid: its name, the text shown and the error, if any."""

    name: str
    text: str
    error: str = ""


@dataclass
class GridRow:
    unit: Unit
    cells: dict[str, GridCell]

    @property
    def has_error(self) -> bool:
        return any(cell.error for cell in self.cells.values())


def _shown(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def grid_from_results(grid: list[tuple[Unit, IndicatorResult | None]]) -> list[GridRow]:
    """The grid as stored: what a GET shows."""
    rows = []
    for unit, result in grid:
        prefix = f"u{unit.pk}-"
        texts = {
            "value": _shown(result.value) if result else "",
            "grade": result.grade if result else "",
            "target": _shown(result.target) if result else "",
            "last_year": _shown(result.last_year) if result else "",
            "evidence": result.evidence if result else "",
        }
        rows.append(GridRow(unit, {k: GridCell(prefix + k, v) for k, v in texts.items()}))
    return rows


@dataclass
class ParsedGrid:
    rows: list[GridRow]
    entries: list[ResultEntry]

    @property
    def errors(self) -> int:
        return sum(1 for row in self.rows for cell in row.cells.values() if cell.error)


def parse_result_grid(*, indicator: IndicatorNode, units: list[Unit], data: Mapping[str, str]) -> ParsedGrid:
    """Read every cell of a posted grid: each row keeps what was typed, and each bad cell carries
    its message. ``entries`` are only meaningful when there is no error."""
    grades = _grade_labels(indicator)
    rows: list[GridRow] = []
    entries: list[ResultEntry] = []
    for unit in units:
        prefix = f"u{unit.pk}-"
        cells = {
            key: GridCell(prefix + key, str(data.get(prefix + key, "")).strip())
            for key in ("value", "grade", "target", "last_year", "evidence")
        }
        numbers: dict[str, float | None] = {}
        for key, label in GRID_NUMBERS:
            text = cells[key].text.translate(_THOUSANDS)
            numbers[key] = None
            if not text:
                continue
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                cells[key].error = gettext("“%(label)s”须为数字") % {"label": label}
            else:
                numbers[key] = number
        evidence = cells["evidence"]
        if len(evidence.text) > NOTE_MAX_LENGTH:
            evidence.error = gettext("“佐证说明”不能超过 %(n)s 个字") % {"n": NOTE_MAX_LENGTH}
        grade = cells["grade"]
        if len(grade.text) > GRADE_MAX:
            grade.error = gettext("“等次/是否”不能超过 %(n)s 个字") % {"n": GRADE_MAX}
        elif grade.text and grades and grade.text not in grades:
            grade.error = gettext("等次须为：%(labels)s") % {"labels": "、".join(grades)}
        rows.append(GridRow(unit, cells))
        entries.append(
            ResultEntry(
                unit_id=unit.pk,
                value=numbers["value"],
                grade=grade.text,
                target=numbers["target"],
                last_year=numbers["last_year"],
                evidence=cells["evidence"].text,
            )
        )
    return ParsedGrid(rows, entries)


def _grade_labels(indicator: IndicatorNode) -> list[str]:
    """The labels a qualitative (grade map) indicator accepts; empty when any text goes."""
    if indicator.rule_type != "grade_map":
        return []
    grades = (indicator.rule_params or {}).get("map")
    return [str(label) for label in grades] if isinstance(grades, dict) else []
