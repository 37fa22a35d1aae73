"""Forms of the supervision pages: no typed codes (units, leaders and levels are searchable
choices), dates as date pickers, every error shown next to its field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jixiao.accounts.models import Role, User
from jixiao.hygiene import NOTE_MAX_LENGTH
from jixiao.organisation.models import Unit
from jixiao.supervision.models import (
    TITLE_MAX_LENGTH,
    Priority,
    RatingLevel,
    SupervisionBulletin,
    TaskSource,
    TaskStatus,
)
from jixiao.tracking.forms import EvidenceChoiceField, MultipleFileField
from jixiao.tracking.models import Evidence, Light
from jixiao.web.widgets import SearchableSelect, SearchableSelectMultiple

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _UnitChoice(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic in stubs only
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.category.name}）"


class _UnitsChoice(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]  # generic in stubs only
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.category.name}）"


class _LeaderChoice(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic in stubs only
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.username)


def _units() -> Any:
    return Unit.objects.filter(is_active=True).select_related("category").order_by("category__order", "code")


class TaskForm(forms.Form):
    title = forms.CharField(label=_("督查事项"), max_length=TITLE_MAX_LENGTH)
    content = forms.CharField(
        label=_("工作要求"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    source = forms.ChoiceField(label=_("来源"), choices=TaskSource.choices)
    source_detail = forms.CharField(
        label=_("来源说明"),
        required=False,
        max_length=TITLE_MAX_LENGTH,
        help_text=_("如会议名称、批示或文件文号"),
    )
    leader = _LeaderChoice(
        label=_("交办领导"), required=False, queryset=User.objects.none(), widget=SearchableSelect
    )
    lead_unit = _UnitChoice(label=_("牵头单位"), queryset=Unit.objects.none(), widget=SearchableSelect)
    co_units = _UnitsChoice(
        label=_("配合单位"), required=False, queryset=Unit.objects.none(), widget=SearchableSelectMultiple
    )
    priority = forms.ChoiceField(label=_("紧急程度"), choices=Priority.choices, initial=Priority.NORMAL)
    deadline = forms.DateField(label=_("办结时限"), widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead_unit"].queryset = _units()  # type: ignore[attr-defined]  # ModelChoiceField
        self.fields["co_units"].queryset = _units()  # type: ignore[attr-defined]  # ModelChoiceField
        leaders = User.objects.filter(role=Role.LEADER, is_active=True).order_by("username")
        self.fields["leader"].queryset = leaders  # type: ignore[attr-defined]  # ModelChoiceField


class ReportForm(forms.Form):
    text = forms.CharField(
        label=_("进展情况"), max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )
    progress = forms.IntegerField(label=_("进度（%）"), min_value=0, max_value=100)
    final = forms.BooleanField(label=_("已办结，申请审核评定"), required=False)
    uploads = MultipleFileField(
        label=_("上传佐证材料"), help_text=_("PDF、Word、Excel、PowerPoint 或照片，可多选")
    )
    attach = EvidenceChoiceField(
        label=_("从本单位材料库选用"),
        queryset=Evidence.objects.none(),
        required=False,
        widget=SearchableSelectMultiple,
    )

    def __init__(self, *args: Any, library: Any = None, lead: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if library is not None:
            self.fields["attach"].queryset = library  # type: ignore[attr-defined]  # ModelMultipleChoiceField
        if not lead:
            del self.fields["final"]


class ExtensionForm(forms.Form):
    new_deadline = forms.DateField(label=_("申请延至"), widget=DATE)
    reason = forms.CharField(
        label=_("延期理由"), max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审批"), choices=[("approve", _("同意")), ("reject", _("不同意"))], widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("审批意见"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class _LevelChoice(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic in stubs only
    def label_from_instance(self, obj: Any) -> str:
        points = f"{obj.deduction.normalize():f}"
        return (
            f"{obj.label}（{_('扣 %(p)s 分') % {'p': points}}）"
            if obj.deduction
            else f"{obj.label}（{_('不扣分')}）"
        )


class RateForm(forms.Form):
    rating = _LevelChoice(
        label=_("评定结果"), queryset=RatingLevel.objects.none(), widget=forms.RadioSelect, empty_label=None
    )
    comment = forms.CharField(
        label=_("评定意见"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, levels: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if levels is not None:
            self.fields["rating"].queryset = levels  # type: ignore[attr-defined]  # ModelChoiceField


class LevelForm(forms.ModelForm):  # type: ignore[type-arg]  # generic in stubs only
    class Meta:
        model = RatingLevel
        fields = ["label", "deduction", "order"]


class FilterForm(forms.Form):
    # A province has 10,000 units: the unit is searched by name or code, not picked from a list.
    q = forms.CharField(label=_("搜索"), required=False, max_length=100, help_text=_("事项、编号或牵头单位"))
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *TaskStatus.choices]
    )
    source = forms.ChoiceField(
        label=_("来源"), required=False, choices=[("", _("全部")), *TaskSource.choices]
    )
    light = forms.ChoiceField(label=_("灯色"), required=False, choices=[("", _("全部")), *Light.choices])
    leader = _LeaderChoice(
        label=_("交办领导"), required=False, queryset=User.objects.none(), widget=SearchableSelect
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = User.objects.filter(role=Role.LEADER).order_by("username")  # type: ignore[attr-defined]  # ModelChoiceField


class BulletinForm(forms.ModelForm):  # type: ignore[type-arg]  # generic in stubs only
    class Meta:
        model = SupervisionBulletin
        fields = ["highlights", "concerns"]
        widgets = {
            "highlights": forms.Textarea(attrs={"rows": 4}),
            "concerns": forms.Textarea(attrs={"rows": 4}),
        }
