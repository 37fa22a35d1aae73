"""Forms for cycles, schemes, components, grading policies, the indicator editor and the library.

Rule parameters are edited as labelled inputs generated from :data:`INDICATOR_RULES`: every rule
gets its own group of inputs and only the chosen rule's group is read. The forms only *parse*
parameters (text to numbers, lists, grade maps); whether they fit the rule is decided by the
scheme services, which name the indicator in their error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from jixiao.hygiene import DESCRIPTION_MAX_LENGTH
from jixiao.organisation.models import Unit, UnitCategory
from jixiao.schemes.config_forms import ComponentForm as ComponentForm
from jixiao.schemes.config_forms import GradingPolicyForm as GradingPolicyForm
from jixiao.schemes.config_forms import GradingRuleForm as GradingRuleForm
from jixiao.schemes.config_forms import SchemeForm as SchemeForm
from jixiao.schemes.config_forms import number_field
from jixiao.schemes.models import (
    Cycle,
    CycleStatus,
    GradeLevel,
    IndicatorKind,
    IndicatorNode,
    LibraryEntry,
)
from jixiao.schemes.rule_types import INDICATOR_RULES, Param, RuleSpec, rule_param_problems
from jixiao.web.widgets import GroupedModelChoiceField, RowColumn, RowsField

_LIST_SPLIT = re.compile(r"[\s,，、;；]+")

# Choice parameters' values, in words.
CHOICE_LABELS: dict[str, StrOrPromise] = {"value": _("实际值"), "ratio": _("完成率")}
RATE = _("得分率，1 = 满分")
# The unit shown beside a number parameter, by (rule, parameter) or by parameter.
PARAM_UNITS: dict[tuple[str, str] | str, StrOrPromise] = {
    "target": _("与实际值同单位"),
    ("completion", "floor"): _("完成率，1 = 100%"),
    ("completion", "cap"): _("完成率，1 = 100%"),
    ("best_proportion", "cap"): RATE,
    ("bonus_deduction", "cap"): RATE,
    ("rank_points", "floor"): _("分"),
    "full": _("分"),
    "threshold": _("与实际值同单位"),
    "per_unit": _("得分率/单位"),
    "per_point": _("得分率/百分点"),
    "below": RATE,
    "base": RATE,
    "min_rate": RATE,
    "max_rate": RATE,
    "triggered_rate": RATE,
}
PAIR_COLUMNS: dict[str, tuple[StrOrPromise, StrOrPromise]] = {
    "steps": (_("门槛"), _("得分率")),
    "tiers": (_("与平均值之比"), _("得分率")),
}


def _format_number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def parse_param(param: Param, cleaned: Any) -> Any:
    """Turn one cleaned input into a parameter value; ``None`` means "not given"."""
    if param.kind == "bool":
        return True if cleaned else None
    if param.kind == "number":
        return _float(cleaned)
    if param.kind == "pairs":
        return [[_float(a), _float(b)] for a, b in cleaned] if cleaned else None
    if param.kind == "grade_map":
        return {label: _float(rate) for label, rate in cleaned} if cleaned else None
    if param.kind == "number_list":
        return cleaned or None
    return cleaned or None


def format_param(param: Param, value: Any) -> Any:
    """Return a stored parameter value as the input's initial value."""
    if value is None:
        return ""
    if param.kind == "bool":
        return bool(value)
    if param.kind == "number_list" and isinstance(value, list):
        return ", ".join(_format_number(v) for v in value)
    if param.kind == "pairs" and isinstance(value, list):
        return [tuple(_format_number(v) for v in pair) for pair in value if isinstance(pair, list | tuple)]
    if param.kind == "grade_map" and isinstance(value, dict):
        return [(k, _format_number(v)) for k, v in value.items()]
    return _format_number(value)


class NumberListField(forms.CharField):
    """Numbers separated by commas (名次分数 60, 57, 54); a bad one is named in the message."""

    def to_python(self, value: Any) -> list[float]:  # type: ignore[override]
        numbers: list[float] = []
        for token in _LIST_SPLIT.split(str(value or "").strip()):
            if not token:
                continue
            try:
                numbers.append(float(token))
            except ValueError:
                raise forms.ValidationError(
                    _("“%(label)s”中的“%(token)s”不是数字") % {"label": self.label, "token": token}
                ) from None
        return numbers


def _param_field(rule: str, param: Param) -> forms.Field:
    label, help_text = param.label, param.help
    if param.kind == "bool":
        return forms.BooleanField(label=label, required=False, help_text=help_text)
    if param.kind == "choice":
        return forms.ChoiceField(
            label=label,
            required=False,
            choices=[("", "—"), *((c, CHOICE_LABELS.get(c, c)) for c in param.choices)],
        )
    if param.kind == "pairs":
        first, second = PAIR_COLUMNS.get(param.name, (_("门槛"), _("得分率")))
        return RowsField(
            (
                RowColumn("min", first, number_field(first, required=True)),
                RowColumn("rate", second, number_field(second, required=True), RATE),
            ),
            label=label,
            help_text=_("每行一档；达到门槛即得该档得分率"),
        )
    if param.kind == "grade_map":
        return RowsField(
            (
                RowColumn("label", _("等次"), forms.CharField(max_length=32, required=True)),
                RowColumn("rate", _("得分率"), number_field(_("得分率"), required=True), RATE),
            ),
            label=label,
            help_text=_("每行一个等次，如 好 → 1、较好 → 0.85"),
        )
    if param.kind == "number_list":
        return NumberListField(
            label=label,
            required=False,
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            help_text=help_text or _("多个数字用逗号分隔，例如 60, 57, 54"),
        )
    unit = PARAM_UNITS.get((rule, param.name)) or PARAM_UNITS.get(param.name, "")
    return number_field(label, unit, help_text=help_text)


def param_field_name(rule: str, param: str) -> str:
    return f"rp__{rule}__{param}"


@dataclass(frozen=True)
class ParamGroup:
    spec: RuleSpec
    fields: list[forms.BoundField]

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def label(self) -> StrOrPromise:
        return self.spec.label

    @property
    def help(self) -> StrOrPromise:
        return self.spec.help


class RuleParamsMixin(forms.Form):
    """Adds ``rule_type`` and one labelled input per parameter of every indicator rule."""

    rule_type = forms.ChoiceField(label=_("计分规则"), required=False)

    def _init_rules(self, rule_type: str, params: dict[str, Any]) -> None:
        rule = self.fields["rule_type"]
        assert isinstance(rule, forms.ChoiceField)
        rule.choices = [("", _("（无规则，按下级汇总）"))] + [
            (code, spec.label) for code, spec in INDICATOR_RULES.items()
        ]
        rule.widget.attrs["data-rule-select"] = "1"
        self.initial.setdefault("rule_type", rule_type)
        for code, spec in INDICATOR_RULES.items():
            for param in spec.params:
                name = param_field_name(code, param.name)
                self.fields[name] = _param_field(code, param)
                if code == rule_type and param.name in params:
                    self.initial[name] = format_param(param, params[param.name])

    def param_groups(self) -> list[ParamGroup]:
        """The parameter inputs grouped by rule, for the template."""
        return [
            ParamGroup(spec, [self[param_field_name(code, p.name)] for p in spec.params])
            for code, spec in INDICATOR_RULES.items()
        ]

    def plain_fields(self) -> list[forms.BoundField]:
        """Every input that is not a rule parameter, in declaration order."""
        return [self[name] for name in self.fields if not name.startswith("rp__")]

    def selected_rule(self) -> str:
        return str(self.cleaned_data.get("rule_type") or "")

    def rule_params(self) -> dict[str, Any]:
        """The chosen rule's parameters as submitted (parsed, not yet validated)."""
        rule_type = self.selected_rule()
        spec = INDICATOR_RULES.get(rule_type)
        if spec is None:
            return {}
        params: dict[str, Any] = {}
        for param in spec.params:
            value = parse_param(param, self.cleaned_data.get(param_field_name(rule_type, param.name)))
            if value is not None:
                params[param.name] = value
        return params


class IndicatorForm(RuleParamsMixin):
    """Add or edit one node of the indicator tree."""

    name = forms.CharField(label=_("名称"), max_length=200)
    code = forms.CharField(label=_("编号"), max_length=32, required=False)
    weight = forms.DecimalField(label=_("权重"), max_digits=6, decimal_places=2, min_value=0, max_value=100)
    kind = forms.ChoiceField(label=_("类型"), choices=IndicatorKind.choices, initial=IndicatorKind.BASE)
    is_long_term = forms.BooleanField(label=_("潜绩指标（跨年度）"), required=False)
    lead_unit = GroupedModelChoiceField(
        label=_("牵头单位"),
        queryset=Unit.objects.none(),
        required=False,
        group_by=lambda unit: unit.category.name,
    )
    target_text = forms.CharField(
        label=_("目标内容"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    field_order = ["name", "code", "weight", "kind", "is_long_term", "lead_unit", "target_text", "rule_type"]

    def __init__(self, *args: Any, node: IndicatorNode | None = None, **kwargs: Any) -> None:
        if node is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": node.name,
                    "code": node.code,
                    "weight": node.weight,
                    "kind": node.kind,
                    "is_long_term": node.is_long_term,
                    "lead_unit": node.lead_unit_id,
                    "target_text": node.target_text,
                },
            )
        super().__init__(*args, **kwargs)
        lead = self.fields["lead_unit"]
        assert isinstance(lead, forms.ModelChoiceField)
        lead.queryset = (
            Unit.objects.filter(is_active=True)
            .select_related("category")
            .order_by("category__order", "category__code", "code")
        )
        self._init_rules(node.rule_type if node else "", dict(node.rule_params) if node else {})
        self._node = node

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        rule_type = self.selected_rule() if not self.errors else ""
        if rule_type:
            # The parameters checked together, the message on the field it names.
            for param, message in rule_param_problems(rule_type, self.rule_params(), node=self._node):
                name = param_field_name(rule_type, param)
                self.add_error(name if name in self.fields else None, message)
        return data

    def node_fields(self) -> dict[str, Any]:
        """The submitted values as :func:`indicator_update` fields."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "code": data["code"],
            "weight": data["weight"],
            "kind": data["kind"],
            "is_long_term": data["is_long_term"],
            "lead_unit": data["lead_unit"],
            "target_text": data["target_text"],
            "rule_type": self.selected_rule(),
            "rule_params": self.rule_params(),
        }


class LibraryPickForm(forms.Form):
    """Add an indicator from the library under a node."""

    entry = GroupedModelChoiceField(
        label=_("指标库条目"),
        queryset=LibraryEntry.objects.order_by("kind", "code"),
        group_by=lambda entry: entry.get_kind_display(),
    )
    weight = forms.DecimalField(label=_("权重"), max_digits=6, decimal_places=2, min_value=0, max_value=100)


class LibraryEntryForm(forms.ModelForm[LibraryEntry], RuleParamsMixin):
    class Meta:
        model = LibraryEntry
        fields = ["kind", "code", "name", "description", "function_zone", "layer"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_rules(self.instance.rule_type, dict(self.instance.rule_params or {}))

    def apply_rule(self) -> LibraryEntry:
        """Return the (unsaved) entry with the chosen rule and its parsed parameters."""
        entry = self.instance
        entry.rule_type = self.selected_rule()
        entry.rule_params = self.rule_params()
        return entry


class CycleForm(forms.ModelForm[Cycle]):
    # The status changes only through the explicit, audited actions (开始 / 结束 / 重新开启).
    class Meta:
        model = Cycle
        fields = ["year", "name"]


class CycleReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("重新开启原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("记入审计日志，例如：复核发现某县市指标数据录入错误，须更正后重新计分"),
    )


class SchemeCopyForm(forms.Form):
    """Where one scheme is copied: a cycle that is not closed, and a unit category."""

    cycle = forms.ModelChoiceField(
        label=_("目标考核周期"),
        queryset=Cycle.objects.exclude(status=CycleStatus.CLOSED),
        empty_label=None,
    )
    category = forms.ModelChoiceField(
        label=_("单位类别"), queryset=UnitCategory.objects.order_by("order", "code"), empty_label=None
    )


class GradeLevelForm(forms.ModelForm[GradeLevel]):
    class Meta:
        model = GradeLevel
        fields = ["code", "label", "quota_percent", "order"]
