"""Forms for entering facts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jixiao.facts.models import AdjustmentKind, SanctionLevel
from jixiao.organisation.models import Official, Unit
from jixiao.schemes.models import IndicatorNode


class AdjustmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=AdjustmentKind.choices)
    unit = forms.ModelChoiceField(label=_("单位（班子）"), queryset=Unit.objects.all(), required=False)
    official = forms.ModelChoiceField(
        label=_("干部"), queryset=Official.objects.select_related("unit"), required=False
    )
    official_code = forms.CharField(label=_("或输入干部工号"), required=False, max_length=32)
    points = forms.FloatField(label=_("分值"), required=False)
    sanction = forms.ChoiceField(
        label=_("处分类型"), choices=[("", "—"), *SanctionLevel.choices], required=False
    )
    indicator = forms.ModelChoiceField(
        label=_("涉及指标"), queryset=IndicatorNode.objects.none(), required=False
    )
    component = forms.CharField(label=_("扣减构成代码"), required=False, max_length=32)
    source = forms.CharField(label=_("来源"), max_length=64, help_text=_("如 督查督办、审计、纪检"))
    reason = forms.CharField(label=_("事由"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, cycle_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indicator"].queryset = IndicatorNode.objects.filter(  # type: ignore[attr-defined]
            scheme__cycle_id=cycle_id, children__isnull=True
        ).select_related("scheme__category")
        # The official list is long in a real prefecture: the code box is the quick way in.
        self.fields["official"].widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        code = (data.get("official_code") or "").strip()
        if code and not data.get("official"):
            official = Official.objects.filter(code=code).first()
            if official is None:
                self.add_error("official_code", _("找不到工号为 %(code)s 的干部") % {"code": code})
            data["official"] = official
        if bool(data.get("unit")) == bool(data.get("official")):
            raise forms.ValidationError(_("请选择一个单位，或输入一名干部的工号（二者选一）"))
        return data
