"""Forms for cycles, schemes, components, grading policies, the indicator editor and the library.

Rule parameters are edited as labelled inputs generated from :data:`INDICATOR_RULES`: every rule
gets its own group of inputs and only the chosen rule's group is read. The forms only *parse*
parameters (text to numbers, lists, grade maps); whether they fit the rule is decided by the
scheme services, which name the indicator in their error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jixiao.organisation.models import Unit
from jixiao.schemes.models import (
    Component,
    Cycle,
    GradeLevel,
    GradingPolicy,
    GradingRule,
    IndicatorKind,
    IndicatorNode,
    LibraryEntry,
    Scheme,
    Subject,
)
from jixiao.schemes.rule_types import INDICATOR_RULES, Param, RuleSpec

_LIST_SPLIT = re.compile(r"[\s,，、;；]+")
_PAIR_SPLIT = re.compile(r"[\n,，;；]+")
_LINE_SPLIT = re.compile(r"[\n;；]+")
_KEY_VALUE = re.compile(r"^\s*(?P<key>[^=:：]+?)\s*[=:：]\s*(?P<value>.+?)\s*$")


def _number_or_text(text: str) -> float | str:
    """A number when the text is one; otherwise the text, so the service reports it by name."""
    try:
        return float(text)
    except ValueError:
        return text


def _format_number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_param(param: Param, raw: Any) -> Any:
    """Turn one submitted input into a parameter value; ``None`` means "not given"."""
    if param.kind == "bool":
        return True if raw else None
    text = str(raw or "").strip()
    if not text:
        return None
    if param.kind == "number":
        return _number_or_text(text)
    if param.kind == "number_list":
        return [_number_or_text(t) for t in _LIST_SPLIT.split(text) if t]
    if param.kind == "pairs":
        # One pair per line ("门槛, 得分率"); a malformed line stays as it is for the engine to name.
        return [
            [_number_or_text(t) for t in _LIST_SPLIT.split(line.strip()) if t]
            for line in _LINE_SPLIT.split(text)
            if line.strip()
        ]
    if param.kind == "grade_map":
        grades: dict[str, float | str] = {}
        for pair in _PAIR_SPLIT.split(text):
            if not pair.strip():
                continue
            match = _KEY_VALUE.match(pair)
            if match is None:
                return text  # not a map: the engine says the parameter must be an object
            grades[match["key"]] = _number_or_text(match["value"])
        return grades
    return text


def format_param(param: Param, value: Any) -> Any:
    """Return a stored parameter value as the input's initial text."""
    if value is None:
        return ""
    if param.kind == "bool":
        return bool(value)
    if param.kind == "number_list" and isinstance(value, list):
        return ", ".join(_format_number(v) for v in value)
    if param.kind == "pairs" and isinstance(value, list):
        return "\n".join(
            ", ".join(_format_number(v) for v in pair) if isinstance(pair, list | tuple) else str(pair)
            for pair in value
        )
    if param.kind == "grade_map" and isinstance(value, dict):
        return "\n".join(f"{k}={_format_number(v)}" for k, v in value.items())
    return _format_number(value)


def _param_field(param: Param) -> forms.Field:
    label, help_text = param.label, param.help
    if param.kind == "bool":
        return forms.BooleanField(label=label, required=False, help_text=help_text)
    if param.kind == "choice":
        return forms.ChoiceField(
            label=label,
            required=False,
            choices=[("", "—"), *((c, c) for c in param.choices)],
            help_text=help_text,
        )
    if param.kind in {"grade_map", "pairs"}:
        placeholder = "好=1\n较好=0.85" if param.kind == "grade_map" else "100, 1\n80, 0.8"
        return forms.CharField(
            label=label,
            required=False,
            widget=forms.Textarea(attrs={"rows": 3, "placeholder": placeholder}),
            help_text=help_text or (_("每行一项：等次=得分率") if param.kind == "grade_map" else ""),
        )
    if param.kind == "number_list" and not help_text:
        help_text = _("多个数字用逗号分隔，例如 60, 57, 54")
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=help_text,
    )


def param_field_name(rule: str, param: str) -> str:
    return f"rp__{rule}__{param}"


@dataclass(frozen=True)
class ParamGroup:
    spec: RuleSpec
    fields: list[forms.BoundField]


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
                self.fields[name] = _param_field(param)
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
    lead_unit = forms.ModelChoiceField(label=_("牵头单位"), queryset=Unit.objects.none(), required=False)
    target_text = forms.CharField(
        label=_("目标内容"), required=False, widget=forms.Textarea(attrs={"rows": 2})
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
        lead.queryset = Unit.objects.filter(is_active=True)
        self._init_rules(node.rule_type if node else "", dict(node.rule_params) if node else {})

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

    entry = forms.ModelChoiceField(label=_("指标库条目"), queryset=LibraryEntry.objects.all())
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
    class Meta:
        model = Cycle
        fields = ["year", "name", "status"]


class SchemeForm(forms.ModelForm[Scheme]):
    class Meta:
        model = Scheme
        fields = ["category", "name", "notes", "options"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class ComponentForm(forms.ModelForm[Component]):
    class Meta:
        model = Component
        fields = [
            "parent",
            "code",
            "name",
            "weight",
            "order",
            "subject",
            "source",
            "layer_weights",
            "group_weights",
            "item_weights",
            "team_component",
        ]

    def __init__(self, *args: Any, scheme: Scheme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        assert isinstance(parent, forms.ModelChoiceField)
        candidates = Component.objects.filter(scheme=scheme, parent__isnull=True)
        if self.instance.pk:
            candidates = candidates.exclude(pk=self.instance.pk)
        parent.queryset = candidates
        parent.help_text = _("留空为一级构成；选择上级则为其子构成，子构成权重合计应为 100")


class GradingPolicyForm(forms.ModelForm[GradingPolicy]):
    class Meta:
        model = GradingPolicy
        fields = ["subject", "options"]

    def __init__(self, *args: Any, scheme: Scheme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        taken = set(scheme.grading_policies.values_list("subject", flat=True))
        subject = self.fields["subject"]
        assert isinstance(subject, forms.ChoiceField)
        subject.choices = [(v, label) for v, label in Subject.choices if v not in taken]


class GradeLevelForm(forms.ModelForm[GradeLevel]):
    class Meta:
        model = GradeLevel
        fields = ["code", "label", "quota_percent", "order"]


class GradingRuleForm(forms.ModelForm[GradingRule]):
    params_json = forms.CharField(
        label=_("参数（JSON）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=_('例如 {"share": 0.05, "grade": "basic"}'),
    )

    class Meta:
        model = GradingRule
        fields = ["rule_type", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault(
            "params_json", json.dumps(self.instance.params or {}, ensure_ascii=False, indent=1)
        )

    def clean_params_json(self) -> dict[str, Any]:
        text = self.cleaned_data["params_json"].strip() or "{}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("JSON 格式错误（第 %(line)s 行）：%(msg)s") % {"line": exc.lineno, "msg": exc.msg}
            ) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("参数必须是 JSON 对象（{…}）"))
        return value

    def save(self, commit: bool = True) -> GradingRule:
        self.instance.params = self.cleaned_data["params_json"]
        return super().save(commit=commit)
