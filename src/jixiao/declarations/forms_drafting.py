"""Forms of the declaration pages: a declared indicator (with the rule catalogue's parameter
inputs and a milestone table), library pull-in, submission, change requests, dynamic tasks and
publication. No input asks for JSON or a code: rules, framework nodes and units are selects."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jixiao.declarations.drafting import MilestoneInput, framework_parents, library_choices, scheme_of
from jixiao.declarations.dynamic import dynamic_parents
from jixiao.declarations.models import Declaration, DeclaredIndicator
from jixiao.hygiene import DESCRIPTION_MAX_LENGTH, NOTE_MAX_LENGTH, OPINION_MAX_LENGTH
from jixiao.organisation.models import Unit, UnitCategory
from jixiao.schemes.config_forms import number_field, percent_field
from jixiao.schemes.forms import RuleParamsMixin, param_field_name
from jixiao.schemes.models import Cycle, IndicatorKind, IndicatorNode
from jixiao.schemes.rule_types import INDICATOR_RULES, rule_param_problems
from jixiao.web.widgets import GroupedModelChoiceField, RowColumn, RowsField, SearchableSelectMultiple


class NodeChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic only in the stubs
    """A framework node shown by its name only."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class KindNameMultipleField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]  # stubs only
    """Library entries as "类型 · 名称"; units as "类别 · 名称"."""

    def label_from_instance(self, obj: Any) -> str:
        if isinstance(obj, Unit):
            return f"{obj.category.name} · {obj.name}"
        return f"{obj.get_kind_display()} · {obj.name}"


def _rule_choices() -> list[tuple[str, Any]]:
    return [(code, spec.label) for code, spec in INDICATOR_RULES.items()]


def _units() -> Any:
    return Unit.objects.filter(is_active=True).select_related("category").order_by("category__order", "code")


def _require_rule(form: RuleParamsMixin) -> None:
    """Drop the "no rule" choice (a declared indicator is a leaf and needs a rule) and check the
    chosen rule's parameters together, the message on the field it names."""
    if form.errors:
        return
    rule_type = form.selected_rule()
    if not rule_type:
        form.add_error("rule_type", _("请选择计分规则"))
        return
    for param, message in rule_param_problems(rule_type, form.rule_params()):
        name = param_field_name(rule_type, param)
        form.add_error(name if name in form.fields else None, message)


def _date_field(label: Any, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("“%(label)s”须为日期，如 2026-06-30") % {"label": label}},
    )


class DeclaredIndicatorForm(RuleParamsMixin):
    """Add or edit one declared indicator (level 3 under a framework node, level 4 under one of
    the unit's level-3 indicators)."""

    parent = forms.ModelChoiceField(
        label=_("框架指标"), queryset=IndicatorNode.objects.none(), empty_label=None
    )
    under = forms.ModelChoiceField(
        label=_("上级申报指标（四级指标时选）"),
        queryset=DeclaredIndicator.objects.none(),
        required=False,
        empty_label=_("（无，作为三级指标）"),
    )
    name = forms.CharField(label=_("指标名称"), max_length=200)
    measure = forms.CharField(label=_("计量单位"), max_length=20, required=False)
    target = number_field(_("目标值"))
    target_text = forms.CharField(
        label=_("目标说明"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    weight = number_field(_("权重"), "%", required=True, min_value=Decimal("0"), max_value=Decimal("100"))
    lead_department = GroupedModelChoiceField(
        label=_("牵头部门"), queryset=Unit.objects.none(), required=False, group_by=lambda u: u.category.name
    )
    evidence_required = forms.CharField(
        label=_("佐证材料要求"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    kind = forms.ChoiceField(label=_("类型"), choices=IndicatorKind.choices, initial=IndicatorKind.BASE)
    is_long_term = forms.BooleanField(label=_("潜绩指标（跨年度）"), required=False)
    is_core = forms.BooleanField(label=_("核心指标"), required=False, initial=True)
    last_year_actual = number_field(_("上年实际"))
    last_year_target = number_field(_("上年目标"))
    higher_target = number_field(_("上级下达目标"))
    milestones = RowsField(
        (
            RowColumn("due", _("节点日期"), _date_field(_("节点日期"), required=True)),
            RowColumn("percent", _("应完成进度"), percent_field(_("应完成进度"), required=True), "%"),
            RowColumn("note", _("节点任务"), forms.CharField(max_length=200, required=False)),
        ),
        label=_("节点目标"),
        help_text=_("每行一个节点：到该日期应完成的进度（如 6 月 30 日 50%）"),
    )
    order = forms.IntegerField(label=_("排序"), min_value=0, required=False, initial=0)

    field_order = [
        "parent",
        "under",
        "name",
        "measure",
        "target",
        "target_text",
        "weight",
        "lead_department",
        "evidence_required",
        "kind",
        "is_long_term",
        "is_core",
        "last_year_actual",
        "last_year_target",
        "higher_target",
        "milestones",
        "order",
        "rule_type",
    ]

    def __init__(
        self,
        *args: Any,
        declaration: Declaration,
        indicator: DeclaredIndicator | None = None,
        **kwargs: Any,
    ) -> None:
        initial = kwargs.setdefault("initial", {})
        if indicator is not None:
            for name in (
                "name",
                "measure",
                "target",
                "target_text",
                "weight",
                "evidence_required",
                "kind",
                "is_long_term",
                "is_core",
                "last_year_actual",
                "last_year_target",
                "higher_target",
                "order",
            ):
                initial.setdefault(name, getattr(indicator, name))
            initial.setdefault("parent", indicator.parent_id)
            initial.setdefault("under", indicator.under_id)
            initial.setdefault("lead_department", indicator.lead_department_id)
            initial.setdefault(
                "milestones",
                [(m.due.isoformat(), _plain(m.expected_percent), m.note) for m in indicator.milestones.all()],
            )
        super().__init__(*args, **kwargs)
        self._indicator = indicator
        parent = self.fields["parent"]
        assert isinstance(parent, forms.ModelChoiceField)
        parent.queryset = framework_parents(scheme_of(declaration))
        under = self.fields["under"]
        assert isinstance(under, forms.ModelChoiceField)
        tops = DeclaredIndicator.objects.filter(declaration=declaration, under__isnull=True).order_by(
            "order", "id"
        )
        if indicator is not None:
            tops = tops.exclude(pk=indicator.pk)
        under.queryset = tops
        lead = self.fields["lead_department"]
        assert isinstance(lead, forms.ModelChoiceField)
        lead.queryset = _units()
        if indicator is not None:
            # The place in the tree is fixed once created (the uid's diff keeps its meaning).
            parent.disabled = True
            under.disabled = True
        self._init_rules(
            indicator.rule_type if indicator else str(initial.get("rule_type", "")),
            dict(indicator.rule_params) if indicator else dict(initial.get("rule_params") or {}),
        )
        rule = self.fields["rule_type"]
        assert isinstance(rule, forms.ChoiceField)
        rule.choices = _rule_choices()
        if indicator is not None and indicator.task_id is not None:
            for name in self.fields:
                if name not in {"evidence_required", "order", "milestones"}:
                    self.fields[name].disabled = True

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if self._indicator is None or self._indicator.task_id is None:
            _require_rule(self)
        return data

    def service_fields(self) -> dict[str, Any]:
        """The submitted values as ``drafting.indicator_create/update`` arguments."""
        data = self.cleaned_data
        fields = {
            name: data.get(name)
            for name in (
                "name",
                "measure",
                "target",
                "target_text",
                "weight",
                "lead_department",
                "evidence_required",
                "kind",
                "is_long_term",
                "is_core",
                "last_year_actual",
                "last_year_target",
                "higher_target",
            )
        }
        fields["order"] = data.get("order") or 0
        fields["measure"] = fields["measure"] or ""
        return {
            **fields,
            "rule_type": self.selected_rule(),
            "rule_params": self.rule_params(),
            "milestones": [
                MilestoneInput(due=d, expected_percent=p, note=n or "")
                for d, p, n in data.get("milestones") or []
            ],
        }


def _plain(value: Decimal) -> str:
    text = str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


class LibraryPullForm(forms.Form):
    """Pull several library entries in as level-3 declared indicators under one framework node."""

    parent = forms.ModelChoiceField(
        label=_("框架指标"), queryset=IndicatorNode.objects.none(), empty_label=None
    )
    entries = KindNameMultipleField(
        label=_("指标库条目"),
        queryset=Declaration.objects.none(),
        widget=SearchableSelectMultiple,
        help_text=_("区域指标只列出适用于本单位功能区的"),
    )
    weight = number_field(_("每项权重"), "%", required=True, min_value=Decimal("0"), max_value=Decimal("100"))
    is_core = forms.BooleanField(label=_("作为核心指标"), required=False, initial=True)

    def __init__(self, *args: Any, declaration: Declaration, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        assert isinstance(parent, forms.ModelChoiceField)
        parent.queryset = framework_parents(scheme_of(declaration))
        entries = self.fields["entries"]
        assert isinstance(entries, forms.ModelMultipleChoiceField)
        entries.queryset = library_choices(declaration)


class SubmitForm(forms.Form):
    note = forms.CharField(
        label=_("提交说明"),
        required=False,
        max_length=OPINION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ChangeRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("变更理由"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("说明为何要变更已公布的目标；变更后的目标须重新经过审核"),
    )


class PublishForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("单位类别"),
        queryset=UnitCategory.objects.order_by("order", "code"),
        required=False,
        empty_label=_("（全部类别）"),
    )


class DynamicTaskForm(RuleParamsMixin):
    """The office assigns a dynamic task to responsible units."""

    name = forms.CharField(label=_("任务名称"), max_length=200)
    source = forms.CharField(label=_("任务来源"), max_length=200, required=False)
    description = forms.CharField(
        label=_("任务说明"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    parent = GroupedModelChoiceField(
        label=_("所属框架指标（动态构成）"),
        queryset=IndicatorNode.objects.none(),
        group_by=lambda n: n.scheme.category.name,
        label_of=lambda n: n.name,
    )
    weight = number_field(_("权重"), "%", required=True, min_value=Decimal("0"), max_value=Decimal("100"))
    target = number_field(_("目标值"))
    measure = forms.CharField(label=_("计量单位"), max_length=20, required=False)
    effective_from = _date_field(_("起算日期"), required=True)
    due = _date_field(_("完成时限"))
    units = KindNameMultipleField(
        label=_("责任单位"), queryset=Unit.objects.none(), widget=SearchableSelectMultiple
    )
    field_order = [
        "name",
        "source",
        "description",
        "parent",
        "weight",
        "target",
        "measure",
        "effective_from",
        "due",
        "units",
        "rule_type",
    ]

    def __init__(self, *args: Any, cycle: Cycle, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        assert isinstance(parent, forms.ModelChoiceField)
        parent.queryset = dynamic_parents(cycle)
        units = self.fields["units"]
        assert isinstance(units, forms.ModelMultipleChoiceField)
        units.queryset = _units()
        self._init_rules("", {})
        rule = self.fields["rule_type"]
        assert isinstance(rule, forms.ChoiceField)
        rule.choices = _rule_choices()

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        _require_rule(self)
        return data

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "source": data.get("source") or "",
            "description": data.get("description") or "",
            "parent": data["parent"],
            "weight": data["weight"],
            "target": data.get("target"),
            "measure": data.get("measure") or "",
            "effective_from": data["effective_from"],
            "due": data.get("due"),
            "units": list(data["units"]),
            "rule_type": self.selected_rule(),
            "rule_params": self.rule_params(),
        }
