"""Forms for what the scheme stores as JSON: component weights per layer, rater group and item,
the scheme's scoring options, the grading policy's options and the grading rules' parameters.

People fill in ordinary fields (selects, numbers with their unit, a small table for rows); the
forms build the JSON the engine reads (docs/scoring.md) and keep any key they do not manage.
Shares are typed as percentages and stored as fractions of 1, as the engine expects.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from jixiao.evaluations.models import BallotFormItem
from jixiao.facts.models import SanctionLevel
from jixiao.organisation.models import Layer
from jixiao.results.labels import ITEMS
from jixiao.schemes.models import (
    DEFAULT_GRADE_POINTS,
    Component,
    ComponentSource,
    GradingPolicy,
    GradingRule,
    GradingRuleType,
    RaterGroup,
    Scheme,
    Subject,
)
from jixiao.schemes.rule_types import INDICATOR_RULES
from jixiao.tracking.models import ProgressGrade
from jixiao.web.widgets import NumberWithUnit, RowColumn, RowsField

HUNDRED = Decimal("100")
_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def plain_number(value: Decimal) -> int | float:
    """A weight or cap as the JSON number people expect: 70, not 70.00."""
    return int(value) if value == value.to_integral_value() else float(value)


def _display(value: Any) -> Any:
    """A stored JSON number as the input's initial value."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def share_to_percent(value: Any) -> Any:
    """A stored share (0.05, or "1/20") as the percentage shown in the form (5)."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str) and (m := _FRACTION.match(value)):
            return _display(float(Decimal(m[1]) * HUNDRED / Decimal(m[2])))
        return plain_number(Decimal(str(value)) * HUNDRED)
    except (InvalidOperation, ZeroDivisionError):
        return None


def percent_to_share(value: Decimal | None) -> float | None:
    return None if value is None else float(value / HUNDRED)


def number_field(label: StrOrPromise, unit: StrOrPromise = "", **kwargs: Any) -> forms.DecimalField:
    """An optional number input with its unit; the message of a bad value names the field."""
    return forms.DecimalField(
        label=label,
        required=kwargs.pop("required", False),
        widget=NumberWithUnit(unit),
        error_messages={
            "invalid": _("“%(label)s”须为数字") % {"label": label},
            "min_value": _("“%(label)s”不能小于 %%(limit_value)s") % {"label": label},
            "max_value": _("“%(label)s”不能大于 %%(limit_value)s") % {"label": label},
        },
        **kwargs,
    )


def percent_field(label: StrOrPromise, **kwargs: Any) -> forms.DecimalField:
    return number_field(label, "%", min_value=Decimal("0"), max_value=HUNDRED, **kwargs)


def _choices(pairs: Sequence[tuple[str, Any]], blank: StrOrPromise = "—") -> list[tuple[str, Any]]:
    return [("", blank), *pairs]


# --- components --------------------------------------------------------------------------------


def rating_item_choices() -> list[tuple[str, str]]:
    """Rating items by code: the conventional ones, then those of the ballot forms in use."""
    labels = {code: str(label) for code, label in ITEMS.items()}
    for code, label in BallotFormItem.objects.values_list("code", "label").distinct():
        labels.setdefault(code, label)
    return sorted(labels.items(), key=lambda kv: kv[1])


class ComponentForm(forms.ModelForm[Component]):
    """A component with its weights per layer (officials), per rater group and per rating item
    (ratings) and the team component an official's team score is taken from."""

    team_component = forms.ChoiceField(label=_("取班子构成"), required=False)

    class Meta:
        model = Component
        fields = ["parent", "code", "name", "weight", "order", "subject", "source", "team_component"]
        widgets = {"weight": NumberWithUnit(_("占 100"))}

    def __init__(self, *args: Any, scheme: Scheme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        component = self.instance
        parent = self.fields["parent"]
        assert isinstance(parent, forms.ModelChoiceField)
        candidates = Component.objects.filter(scheme=scheme, parent__isnull=True)
        if component.pk:
            candidates = candidates.exclude(pk=component.pk)
        parent.queryset = candidates
        parent.help_text = _("留空为一级构成；选择上级则为其子构成，子构成权重合计应为 100")
        team_parts = [
            (c.code, c.name) for c in candidates.filter(subject=Subject.TEAM).order_by("order", "id")
        ]
        team = self.fields["team_component"]
        assert isinstance(team, forms.ChoiceField)
        team.choices = _choices(team_parts, _("（班子总分）"))
        team.help_text = _("得分来源为“所在班子得分”时：取班子的哪一项构成得分，留空取班子总分")
        for layer, label in Layer.choices:
            name = f"lw__{layer}"
            self.fields[name] = percent_field(
                _("%(layer)s的权重") % {"layer": label},
                help_text=_("干部构成：该层级干部的权重，留空则用上面的权重"),
            )
            self.initial.setdefault(name, _display(component.layer_weights.get(layer)))
        self.group_codes: list[str] = []
        groups = list(RaterGroup.objects.filter(cycle_id=scheme.cycle_id).values_list("code", "name"))
        known = {code for code, _name in groups}
        groups += [
            (code, str(_("已删除的评价主体"))) for code in component.group_weights if code not in known
        ]
        for code, label in groups:  # type: ignore[assignment]  # names are str, labels lazy or str
            name = f"gw__{code}"
            self.group_codes.append(code)
            self.fields[name] = percent_field(
                _("评价主体“%(group)s”的权重") % {"group": label},
                help_text=_("测评构成：各评价主体权重合计应为 100；不参与的留空"),
            )
            self.initial.setdefault(name, _display(component.group_weights.get(code)))
        items = rating_item_choices()
        known_items = {code for code, _label in items}
        items += [(code, code) for code in component.item_weights if code not in known_items]
        self.fields["item_weights_rows"] = RowsField(
            (
                RowColumn("item", _("测评项目"), forms.ChoiceField(choices=_choices(items), required=False)),
                RowColumn("weight", _("权重"), number_field(_("权重"), min_value=Decimal("0"))),
            ),
            label=_("测评项目权重"),
            help_text=_("为空时各测评项目等权"),
        )
        self.initial.setdefault(
            "item_weights_rows", [(k, _display(v)) for k, v in component.item_weights.items()]
        )
        self.initial.setdefault("team_component", component.team_component)
        for grade, label in ProgressGrade.choices:
            name = f"gpt__{grade}"
            self.fields[name] = number_field(
                _("月度评定“%(grade)s”计分") % {"grade": label},
                _("分"),
                min_value=Decimal("0"),
                max_value=HUNDRED,
                help_text=_("平时实绩构成：各单位每月每项指标的评定折算为此分值，取平均"),
            )
            stored = component.grade_points.get(grade, DEFAULT_GRADE_POINTS.get(grade))
            self.initial.setdefault(name, _display(stored))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        layers = {
            layer: plain_number(data[f"lw__{layer}"])
            for layer in Layer.values
            if data.get(f"lw__{layer}") is not None
        }
        groups = {
            code: plain_number(data[f"gw__{code}"])
            for code in self.group_codes
            if data.get(f"gw__{code}") is not None
        }
        items: dict[str, int | float] = {}
        for item, weight in data.get("item_weights_rows") or []:
            if not item:
                self.add_error("item_weights_rows", _("“测评项目权重”：每行须选择测评项目"))
            elif item in items:
                self.add_error("item_weights_rows", _("“测评项目权重”：测评项目重复"))
            elif weight is None:
                self.add_error("item_weights_rows", _("“测评项目权重”：请填写权重"))
            else:
                items[item] = plain_number(weight)
        source, subject = data.get("source"), data.get("subject")
        if source == ComponentSource.RATINGS and not groups:
            self.add_error(None, _("得分来源为“测评与满意度”时，请至少为一个评价主体填写权重"))
        if source == ComponentSource.TEAM and subject != Subject.OFFICIAL:
            self.add_error("source", _("“所在班子得分”只用于领导干部的构成"))
        points: dict[str, int | float] = {}
        if source == ComponentSource.ROUTINE:
            if subject != Subject.TEAM:
                self.add_error("source", _("“平时实绩（来自月度评定）”只用于领导班子的构成"))
            for grade, label in ProgressGrade.choices:
                value = data.get(f"gpt__{grade}")
                if value is None:
                    if f"gpt__{grade}" not in self.errors:
                        self.add_error(
                            f"gpt__{grade}", _("请填写月度评定“%(grade)s”的计分") % {"grade": label}
                        )
                else:
                    points[grade] = plain_number(value)
        self.json_fields = {
            "layer_weights": layers if subject == Subject.OFFICIAL else {},
            "group_weights": groups if source == ComponentSource.RATINGS else {},
            "item_weights": items if source == ComponentSource.RATINGS else {},
            "team_component": (data.get("team_component") or "") if source == ComponentSource.TEAM else "",
            "grade_points": points,
        }
        return data

    def save(self, commit: bool = True) -> Component:
        for name, value in self.json_fields.items():
            setattr(self.instance, name, value)
        return super().save(commit=commit)


# --- scheme options ----------------------------------------------------------------------------

MISSING_CHOICES = [
    ("zero", _("未填报的指标按 0 分计，权重不变")),
    ("exclude", _("未填报的指标不计入，按已填报指标折算权重")),
]


class SchemeForm(forms.ModelForm[Scheme]):
    """A scheme and its scoring options (Scheme.options), separately for teams and officials."""

    class Meta:
        model = Scheme
        fields = ["category", "name", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    # (input name tag, key prefix in Scheme.options, subject, heading)
    SUBJECTS = (
        ("team", "", Subject.TEAM, _("领导班子")),
        ("official", "official_", Subject.OFFICIAL, _("领导干部")),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = self.instance.options or {}
        components = list(self.instance.components.all()) if self.instance.pk else []
        for tag, prefix, subject, heading in self.SUBJECTS:
            parts = [(c.code, c.name) for c in components if c.parent_id is None and c.subject == subject]
            adjust = options.get("adjustments" if subject == Subject.TEAM else "official_adjustments") or {}
            f = self.fields
            f[f"opt__{tag}__missing_indicator"] = forms.ChoiceField(
                label=_("%(s)s：未填报的指标") % {"s": heading},
                choices=_choices(MISSING_CHOICES, _("（默认：按 0 分计）")),
                required=False,
            )
            f[f"opt__{tag}__tie_break"] = RowsField(
                (
                    RowColumn(
                        "component", _("构成"), forms.ChoiceField(choices=_choices(parts), required=False)
                    ),
                ),
                label=_("%(s)s：总分相同时依次比较") % {"s": heading},
                help_text=_("总分相同时按这些构成的得分从高到低排序，再按单位编号"),
            )
            f[f"opt__{tag}__deduction_component"] = forms.ChoiceField(
                label=_("%(s)s：督查扣分扣在") % {"s": heading},
                choices=_choices(parts, _("（总分）")),
                required=False,
            )
            f[f"opt__{tag}__deduction_cap"] = number_field(
                _("%(s)s：扣分上限") % {"s": heading}, _("分"), min_value=Decimal("0")
            )
            f[f"opt__{tag}__bonus_component"] = forms.ChoiceField(
                label=_("%(s)s：加分加在") % {"s": heading},
                choices=_choices(parts, _("（总分）")),
                required=False,
            )
            f[f"opt__{tag}__bonus_cap"] = number_field(
                _("%(s)s：加分上限") % {"s": heading}, _("分"), min_value=Decimal("0")
            )
            f[f"opt__{tag}__debt_enabled"] = forms.BooleanField(
                label=_("%(s)s：债务率超限扣减总分") % {"s": heading}, required=False
            )
            f[f"opt__{tag}__debt_rate_per_point"] = number_field(
                _("%(s)s：债务率每超 1 个百分点扣减总分") % {"s": heading},
                "%",
                min_value=Decimal("0"),
                max_value=HUNDRED,
                help_text=_("默认 2%"),
            )
            f[f"opt__{tag}__falsification_enabled"] = forms.BooleanField(
                label=_("%(s)s：弄虚作假的指标计 0 分") % {"s": heading}, required=False
            )
            initial = {
                "missing_indicator": options.get(f"{prefix}missing_indicator", ""),
                "tie_break": [(code,) for code in options.get(f"{prefix}tie_break", [])],
                "deduction_component": adjust.get("deduction_component") or "",
                "deduction_cap": _display(adjust.get("deduction_cap")),
                "bonus_component": adjust.get("bonus_component") or "",
                "bonus_cap": _display(adjust.get("bonus_cap")),
                "debt_enabled": adjust.get("debt_enabled", True),
                "debt_rate_per_point": share_to_percent(adjust.get("debt_rate_per_point")),
                "falsification_enabled": adjust.get("falsification_enabled", True),
            }
            for key, value in initial.items():
                self.initial.setdefault(f"opt__{tag}__{key}", value)

    def plain_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("opt__")]

    def option_groups(self) -> list[tuple[StrOrPromise, list[forms.BoundField]]]:
        """The option inputs by subject, for the template."""
        return [
            (heading, [self[name] for name in self.fields if name.startswith(f"opt__{tag}__")])
            for tag, _prefix, _subject, heading in self.SUBJECTS
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        options = dict(self.instance.options or {})
        for tag, prefix, subject, _heading in self.SUBJECTS:
            missing = data.get(f"opt__{tag}__missing_indicator")
            self._put(options, f"{prefix}missing_indicator", missing or None)
            ties = [code for (code,) in data.get(f"opt__{tag}__tie_break") or [] if code]
            if len(set(ties)) != len(ties):
                self.add_error(f"opt__{tag}__tie_break", _("同一构成不能重复比较"))
            self._put(options, f"{prefix}tie_break", ties or None)
            key = "adjustments" if subject == Subject.TEAM else "official_adjustments"
            adjust = dict(options.get(key) or {})
            for name in ("deduction_component", "bonus_component"):
                self._put(adjust, name, data.get(f"opt__{tag}__{name}") or None)
            for name in ("deduction_cap", "bonus_cap"):
                value = data.get(f"opt__{tag}__{name}")
                self._put(adjust, name, None if value is None else plain_number(value))
            rate = data.get(f"opt__{tag}__debt_rate_per_point")
            self._put(adjust, "debt_rate_per_point", percent_to_share(rate))
            adjust["debt_enabled"] = bool(data.get(f"opt__{tag}__debt_enabled"))
            adjust["falsification_enabled"] = bool(data.get(f"opt__{tag}__falsification_enabled"))
            options[key] = adjust
        self.options = options
        return data

    @staticmethod
    def _put(target: dict[str, Any], key: str, value: Any) -> None:
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value

    def save(self, commit: bool = True) -> Scheme:
        self.instance.options = self.options
        return super().save(commit=commit)


# --- grading policies --------------------------------------------------------------------------

ROUNDING_CHOICES = [
    ("floor", _("向下取整（20 个单位 15% 为 3 个）")),
    ("round_half_up", _("四舍五入")),
    ("ceil", _("向上取整")),
]


def _level_labels(policy: GradingPolicy | None) -> list[tuple[str, str]]:
    if policy is None or policy.pk is None:
        return []
    return [(lv.label, lv.label) for lv in policy.levels.order_by("order")]


class GradingPolicyForm(forms.ModelForm[GradingPolicy]):
    """A grading policy: its subject, how quotas round, and the grades a veto or falsification gives."""

    rounding = forms.ChoiceField(
        label=_("名额取整方式"), choices=_choices(ROUNDING_CHOICES, _("（默认：向下取整）")), required=False
    )
    veto_ceiling = forms.ChoiceField(label=_("一票否优后最高等次"), required=False)
    falsification_grade = forms.ChoiceField(label=_("弄虚作假确定的等次"), required=False)

    class Meta:
        model = GradingPolicy
        fields = ["subject"]

    def __init__(self, *args: Any, scheme: Scheme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        policy = self.instance
        subject = self.fields["subject"]
        assert isinstance(subject, forms.ChoiceField)
        if policy.pk:
            subject.disabled = True
        else:
            taken = set(scheme.grading_policies.values_list("subject", flat=True))
            subject.choices = [(v, label) for v, label in Subject.choices if v not in taken]
        labels = _level_labels(policy)
        hint = "" if labels else _("请先保存并添加等次，再选择")
        for name, blank in (
            ("veto_ceiling", _("（默认：第二个等次）")),
            ("falsification_grade", _("（不强制）")),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = _choices(labels, blank)
            field.help_text = hint
            self.initial.setdefault(name, (policy.options or {}).get(name, ""))
        self.initial.setdefault("rounding", (policy.options or {}).get("rounding", ""))

    def save(self, commit: bool = True) -> GradingPolicy:
        options = dict(self.instance.options or {})
        for name in ("rounding", "veto_ceiling", "falsification_grade"):
            value = self.cleaned_data.get(name)
            if value:
                options[name] = value
            else:
                options.pop(name, None)
        self.instance.options = options
        return super().save(commit=commit)


# --- grading rules -----------------------------------------------------------------------------

EFFECT_CHOICES = [
    ("ceiling", _("等次不高于")),
    ("forced", _("直接确定为")),
    ("no_grade", _("不确定等次")),
]


def _fraction_or_percent(text: str) -> str | float:
    """'1/3' stays an exact fraction; '30' or '30%' is a percentage."""
    if m := _FRACTION.match(text):
        if int(m[2]) == 0 or int(m[1]) > int(m[2]):
            raise forms.ValidationError(_("“超过比例”须在 0 到 1 之间，如 1/3"))
        return f"{int(m[1])}/{int(m[2])}"
    try:
        percent = Decimal(text.strip().rstrip("%").strip())
    except InvalidOperation:
        raise forms.ValidationError(_("“超过比例”须为分数（如 1/3）或百分比（如 30%）")) from None
    if not Decimal("0") <= percent <= HUNDRED:
        raise forms.ValidationError(_("“超过比例”须在 0% 到 100% 之间"))
    return float(percent / HUNDRED)


@dataclass(frozen=True)
class RuleInputs:
    """One grading rule type's inputs (shown only while that type is chosen)."""

    code: str
    label: StrOrPromise
    fields: list[forms.BoundField]
    help: StrOrPromise = ""


class GradingRuleForm(forms.ModelForm[GradingRule]):
    """A grading rule; each rule type has its own labelled inputs (``gp__<type>__<param>``), only
    the chosen type's are read and stored as its parameters."""

    class Meta:
        model = GradingRule
        fields = ["rule_type", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        policy = self.instance.policy
        rule_type = self.fields["rule_type"]
        rule_type.widget.attrs["data-rule-select"] = "1"
        levels = _choices(_level_labels(policy))
        scheme = policy.scheme
        components = _choices(
            [
                (c.code, c.name)
                for c in scheme.components.filter(parent__isnull=True, subject=policy.subject).order_by(
                    "order"
                )
            ],
            _("（总分）"),
        )
        team_policy = scheme.grading_policies.filter(subject=Subject.TEAM).first()
        team_levels = _choices(_level_labels(team_policy))
        leaf_rules = [(code, spec.label) for code, spec in INDICATOR_RULES.items()]
        T = GradingRuleType

        def grade(label: StrOrPromise | None = None, required: bool = True) -> forms.ChoiceField:
            return forms.ChoiceField(
                label=label or _("确定的等次"),
                choices=levels,
                required=False,
                help_text="" if required else _("可不填"),
            )

        share = percent_field(_("比例"), help_text=_("如 5 表示类别内末位 5%"))
        self.groups: dict[str, dict[str, forms.Field]] = {
            T.BOTTOM_SHARE: {"share": share, "grade": grade(), "component": forms.ChoiceField(
                label=_("按哪项排名"), choices=components, required=False)},
            T.EVALUATION_BOTTOM_SHARE: {"share": percent_field(_("比例"), help_text=_("如 2 表示末位 2%")),
                "grade": grade(), "component": forms.ChoiceField(label=_("按哪项排名"), choices=components, required=False)},
            T.TARGET_UNDER: {
                "threshold": number_field(_("得分率低于"), _("（1 = 满分）"), min_value=Decimal("0")),
                "grade": grade(),
                "rule_types": forms.MultipleChoiceField(label=_("计入的计分规则"), choices=leaf_rules,
                    required=False, widget=forms.CheckboxSelectMultiple, help_text=_("不选则为完成率计分和达标线性扣分")),
            },
            T.NEGATIVE_VOTES: {
                "labels": forms.MultipleChoiceField(label=_("计入的票"), choices=levels[1:], required=False,
                    widget=forms.CheckboxSelectMultiple),
                "more_than": forms.CharField(label=_("超过比例"), required=False, help_text=_("如 1/3 或 30%")),
                "grade": grade(),
            },
            T.SANCTIONS: {"sanctions": RowsField((
                RowColumn("level", _("处分类型"), forms.ChoiceField(choices=_choices(list(SanctionLevel.choices)), required=False)),
                RowColumn("effect", _("影响"), forms.ChoiceField(choices=_choices(EFFECT_CHOICES), required=False)),
                RowColumn("grade", _("等次"), forms.ChoiceField(choices=levels, required=False)),
            ), label=_("处分与等次"), help_text=_("从轻到重排列；受多种处分时按最重的一行"))},
            T.TEAM_CAP: {"team_caps": RowsField((
                RowColumn("team", _("班子等次"), forms.ChoiceField(choices=team_levels, required=False)),
                RowColumn("member", _("成员最高等次比例"), number_field(_("成员最高等次比例"), min_value=Decimal("0"), max_value=HUNDRED), "%"),
                RowColumn("head", _("正职最高等次"), forms.ChoiceField(choices=levels, required=False)),
            ), label=_("班子等次对成员的限制"))},
            T.CONSECUTIVE_LAST: {"grade": grade(_("确定的等次"), required=False)},
            T.LOW_AMBITION: {
                "min_count": number_field(_("目标偏低的指标达到"), _("项"), min_value=Decimal("1"),
                    help_text=_("审核中标记为“目标偏低”（避高就低）的申报指标数")),
                "grade": grade(_("最高等次")),
            },
        }  # fmt: skip
        params = self.instance.params or {}
        self.params: dict[str, Any] = dict(params)
        current = self.instance.rule_type
        for code, fields in self.groups.items():
            for param, field in fields.items():
                name = f"gp__{code}__{param}"
                self.fields[name] = field
                if code == current:
                    self.initial.setdefault(name, self._initial(param, params))

    @staticmethod
    def _initial(param: str, params: dict[str, Any]) -> Any:
        if param == "share":
            return share_to_percent(params.get("share"))
        if param == "more_than":
            raw = params.get("more_than")
            return raw if isinstance(raw, str) else (f"{share_to_percent(raw)}%" if raw is not None else "")
        if param == "sanctions":
            return [
                (s.get("level", ""), s.get("effect", ""), s.get("grade", ""))
                for s in params.get("sanctions", [])
            ]
        if param == "team_caps":
            return [
                (team, share_to_percent(cap.get("member_share")), cap.get("head_ceiling", ""))
                for team, cap in (params.get("team_caps") or {}).items()
            ]
        return _display(params.get(param, [] if param in ("labels", "rule_types") else ""))

    def param_groups(self) -> list[RuleInputs]:
        """Each rule type's inputs, for the template."""
        return [
            RuleInputs(code, GradingRuleType(code).label, [self[f"gp__{code}__{p}"] for p in fields])
            for code, fields in self.groups.items()
        ]

    def plain_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("gp__")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        code = data.get("rule_type") or ""
        if code not in self.groups:
            return data
        values = {p: data.get(f"gp__{code}__{p}") for p in self.groups[code]}
        params: dict[str, Any] = {}
        T = GradingRuleType

        def need(param: str, message: StrOrPromise) -> None:
            if values.get(param) in (None, "", [], ()):
                self.add_error(f"gp__{code}__{param}", message)

        if code in (T.BOTTOM_SHARE, T.EVALUATION_BOTTOM_SHARE):
            need("share", _("请填写“比例”"))
            need("grade", _("请选择“确定的等次”"))
            params["share"] = percent_to_share(values["share"])
            if values.get("component"):
                params["component"] = values["component"]
        elif code == T.TARGET_UNDER:
            need("threshold", _("请填写“得分率低于”"))
            need("grade", _("请选择“确定的等次”"))
            params["threshold"] = None if values["threshold"] is None else plain_number(values["threshold"])
            if values.get("rule_types"):
                params["rule_types"] = list(values["rule_types"] or [])
        elif code == T.NEGATIVE_VOTES:
            need("labels", _("请至少选择一种“计入的票”"))
            need("more_than", _("请填写“超过比例”"))
            need("grade", _("请选择“确定的等次”"))
            params["labels"] = list(values.get("labels") or [])
            if values.get("more_than"):
                try:
                    params["more_than"] = _fraction_or_percent(str(values["more_than"]))
                except forms.ValidationError as exc:
                    self.add_error(f"gp__{code}__more_than", exc)
        elif code == T.SANCTIONS:
            rows = []
            for number, (level, effect, grade_label) in enumerate(values.get("sanctions") or [], start=1):
                if not level or not effect or (effect != "no_grade" and not grade_label):
                    self.add_error(
                        f"gp__{code}__sanctions",
                        _("第 %(n)s 行：请选择处分类型、影响和等次（不确定等次无需等次）") % {"n": number},
                    )
                    continue
                row = {"level": level, "effect": effect}
                if effect != "no_grade":
                    row["grade"] = grade_label
                rows.append(row)
            if len({r["level"] for r in rows}) != len(rows):
                self.add_error(f"gp__{code}__sanctions", _("同一处分类型只能填一行"))
            params["sanctions"] = rows
        elif code == T.TEAM_CAP:
            caps: dict[str, dict[str, Any]] = {}
            for number, (team, member, head) in enumerate(values.get("team_caps") or [], start=1):
                if not team or (member is None and not head):
                    self.add_error(
                        f"gp__{code}__team_caps",
                        _("第 %(n)s 行：请选择班子等次，并填写比例或正职最高等次") % {"n": number},
                    )
                    continue
                cap: dict[str, Any] = {}
                if member is not None:
                    cap["member_share"] = percent_to_share(member)
                if head:
                    cap["head_ceiling"] = head
                caps[team] = cap
            params["team_caps"] = caps
        elif code == T.CONSECUTIVE_LAST and values.get("grade"):
            params["grade"] = values["grade"]
        elif code == T.LOW_AMBITION:
            need("min_count", _("请填写“目标偏低的指标达到”几项"))
            need("grade", _("请选择“最高等次”"))
            count = values.get("min_count")
            if count is not None:
                if count != count.to_integral_value():
                    self.add_error(f"gp__{code}__min_count", _("“目标偏低的指标达到”须为整数项"))
                else:
                    params["min_count"] = int(count)
        graded = (T.BOTTOM_SHARE, T.EVALUATION_BOTTOM_SHARE, T.TARGET_UNDER, T.NEGATIVE_VOTES, T.LOW_AMBITION)
        if code in graded and values.get("grade"):
            params["grade"] = values["grade"]
        self.params = {k: v for k, v in params.items() if v is not None}
        return data

    def save(self, commit: bool = True) -> GradingRule:
        self.instance.params = self.params
        return super().save(commit=commit)
