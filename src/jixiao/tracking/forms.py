"""Forms of the tracking pages: the monthly report, the grade, the evidence upload, the policy."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jixiao.hygiene import NOTE_MAX_LENGTH, OPINION_MAX_LENGTH
from jixiao.organisation.models import Unit, UnitCategory
from jixiao.tracking.evidence import kind_label
from jixiao.tracking.models import Evidence, ProgressGrade, TrackingPolicy
from jixiao.web.widgets import SearchableSelect, SearchableSelectMultiple

ACCEPT = ".pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.jpg,.jpeg,.png,.webp,.heic,image/*"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the store checks each by content (not the form)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class EvidenceChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]  # generic in stubs only
    def label_from_instance(self, obj: Any) -> str:
        assert isinstance(obj, Evidence)
        return f"{obj.original_name}（{kind_label(obj.content_type)}，{obj.uploaded_at:%Y-%m-%d}）"


class ReportForm(forms.Form):
    value_to_date = forms.DecimalField(label=_("累计完成值"), required=False, max_digits=18, decimal_places=4)
    progress_percent = forms.DecimalField(
        label=_("完成进度（%）"),
        required=False,
        max_digits=6,
        decimal_places=2,
        min_value=0,
        max_value=999,
        help_text=_("留空时按累计完成值与目标值计算"),
    )
    narrative = forms.CharField(
        label=_("进展情况"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    uploads = MultipleFileField(
        label=_("上传佐证材料"), help_text=_("PDF、Word、Excel、PowerPoint 或照片，可多选")
    )
    attach = EvidenceChoiceField(
        label=_("从本单位材料库选用"),
        queryset=Evidence.objects.none(),
        required=False,
        widget=SearchableSelectMultiple,
    )

    def __init__(self, *args: Any, library: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if library is not None:
            self.fields["attach"].queryset = library  # type: ignore[attr-defined]  # ModelMultipleChoiceField


class GradeForm(forms.Form):
    grade = forms.ChoiceField(label=_("评定结果"), choices=ProgressGrade.choices, widget=forms.RadioSelect)
    quality_comment = forms.CharField(
        label=_("质量评价"),
        required=False,
        max_length=OPINION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class UploadForm(forms.Form):
    uploads = MultipleFileField(label=_("上传佐证材料"), required=True)


class PolicyForm(forms.ModelForm):  # type: ignore[type-arg]  # generic in stubs only
    class Meta:
        model = TrackingPolicy
        fields = ["yellow_days", "red_share", "report_due_day", "interpolation"]


class LightsFilter(forms.Form):
    category = forms.ModelChoiceField(
        label=_("类别"),
        queryset=UnitCategory.objects.order_by("order"),
        required=False,
        empty_label=_("全部类别"),
    )
    lead = forms.ModelChoiceField(
        label=_("牵头部门"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=_("全部牵头部门"),
        widget=SearchableSelect,
    )

    def __init__(self, *args: Any, leads: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if leads is not None:
            self.fields["lead"].queryset = leads  # type: ignore[attr-defined]  # ModelChoiceField
