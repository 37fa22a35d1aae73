"""Forms for the registry. They parse and validate input; saving happens in services."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jixiao.organisation.models import (
    FunctionZone,
    LeadershipTeam,
    Official,
    Position,
    Region,
    Tenure,
    Unit,
    UnitCategory,
)
from jixiao.web.widgets import searchable


class DateInput(forms.DateInput):
    input_type = "date"


class RegionForm(forms.ModelForm[Region]):
    class Meta:
        model = Region
        fields = ["code", "name", "parent"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A region cannot be its own parent.
            parent = self.fields["parent"]
            assert isinstance(parent, forms.ModelChoiceField)
            parent.queryset = Region.objects.exclude(pk=self.instance.pk)


class CategoryForm(forms.ModelForm[UnitCategory]):
    class Meta:
        model = UnitCategory
        fields = ["code", "name", "order", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class FunctionZoneForm(forms.ModelForm[FunctionZone]):
    class Meta:
        model = FunctionZone
        fields = ["code", "name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class UnitForm(forms.ModelForm[Unit]):
    class Meta:
        model = Unit
        fields = ["code", "name", "short_name", "category", "region", "function_zone", "is_active"]


class TeamForm(forms.ModelForm[LeadershipTeam]):
    class Meta:
        model = LeadershipTeam
        fields = ["name"]


class OfficialForm(forms.ModelForm[Official]):
    class Meta:
        model = Official
        fields = ["code", "name", "gender", "birth_date", "unit", "layer", "rank", "title", "is_active"]
        widgets = {"birth_date": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit = self.fields["unit"]
        assert isinstance(unit, forms.ModelChoiceField)
        unit.queryset = Unit.objects.select_related("category")
        searchable(unit.widget)


class PositionForm(forms.ModelForm[Position]):
    class Meta:
        model = Position
        fields = ["title", "layer", "portfolio"]


class TenureEndForm(forms.Form):
    end = forms.DateField(label=_("任职结束"), widget=DateInput())

    def __init__(self, *args: Any, tenure: Tenure, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenure = tenure

    def clean_end(self) -> date:
        end: date = self.cleaned_data["end"]
        if end < self.tenure.start:
            raise forms.ValidationError(_("结束日期不能早于开始日期"))
        return end


class AppointForm(forms.Form):
    """Appoint a holder to a post; an open tenure of a predecessor ends on the start date."""

    official = forms.ModelChoiceField(label=_("干部"), queryset=Official.objects.none())
    start = forms.DateField(label=_("任职开始"), widget=DateInput())

    def __init__(self, *args: Any, position: Position, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.position = position
        official = self.fields["official"]
        assert isinstance(official, forms.ModelChoiceField)
        official.queryset = Official.objects.filter(unit_id=position.unit_id, is_active=True)
