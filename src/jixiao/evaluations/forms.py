"""Forms of the office's pages (the rater's ballot is parsed by evaluations.ballots)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jixiao.evaluations.models import DEFAULT_FLUSH_BATCH, BallotForm, FormKind, VotesMode
from jixiao.evaluations.services import parse_items, parse_scale
from jixiao.organisation.models import Unit
from jixiao.schemes.models import Cycle
from jixiao.web.widgets import SearchableSelectMultiple

_DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class EventForm(forms.Form):
    cycle = forms.ModelChoiceField(label=_("考核周期"), queryset=Cycle.objects.all())
    name = forms.CharField(label=_("名称"), max_length=120)
    closes_at = forms.DateTimeField(label=_("截止时间"), widget=_DT, input_formats=["%Y-%m-%dT%H:%M"])
    flush_batch = forms.IntegerField(
        label=_("入库批量"),
        min_value=1,
        max_value=10_000,
        initial=DEFAULT_FLUSH_BATCH,
        help_text=_("待入库票达到此数量时打乱顺序一并入库；数值越大匿名性越强"),
    )
    votes_mode = forms.ChoiceField(
        label=_("票数写入方式"), choices=VotesMode.choices, initial=VotesMode.REPLACE
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["cycle"]


class RateesForm(forms.Form):
    units = forms.ModelMultipleChoiceField(
        label=_("单位"),
        queryset=Unit.objects.filter(is_active=True).select_related("category"),
        widget=SearchableSelectMultiple(),
    )
    kinds = forms.MultipleChoiceField(
        label=_("测评对象"),
        choices=FormKind.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=list(FormKind.values),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in FormKind.choices:
            self.fields[f"form_{kind}"] = forms.ModelChoiceField(
                label=_("%(kind)s测评表") % {"kind": label},
                queryset=BallotForm.objects.filter(kind=kind, is_active=True),
                required=False,
            )

    def chosen_forms(self) -> dict[str, BallotForm]:
        return {
            k: self.cleaned_data[f"form_{k}"] for k in FormKind.values if self.cleaned_data.get(f"form_{k}")
        }


class IssueCodesForm(forms.Form):
    count = forms.IntegerField(label=_("数量"), min_value=1, max_value=5000, required=False)
    names = forms.CharField(
        label=_("或按名单发放（每行一人，名单只印在PDF上，不保存）"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        names = [n.strip() for n in (data.get("names") or "").splitlines() if n.strip()]
        if not names and not data.get("count"):
            raise ValidationError(_("请填写数量或名单"))
        data["name_list"] = names
        return data


class BallotFormForm(forms.ModelForm[BallotForm]):
    scale_text = forms.CharField(
        label=_("评价档次（档次=分值，由好到差）"), initial="好=95, 较好=85, 一般=75, 较差=65"
    )
    items_text = forms.CharField(
        label=_("测评项目（每行：代码 名称 说明）"),
        widget=forms.Textarea(attrs={"rows": 6}),
        initial="de 德 政治品质、道德品行\nneng 能 履职能力\nqin 勤 工作作风\nji 绩 工作实绩\nlian 廉 廉洁自律",
    )

    class Meta:
        model = BallotForm
        fields = ["name", "kind", "unknown_label", "has_vote", "has_opinion", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["scale_text"].initial = ", ".join(
                f"{p['label']}={p['points']}" for p in self.instance.scale
            )
            self.fields["items_text"].initial = "\n".join(
                f"{i.code} {i.label} {i.hint}".strip() for i in self.instance.items.all()
            )

    def clean_scale_text(self) -> list[dict[str, Any]]:
        return parse_scale(self.cleaned_data["scale_text"])

    def clean_items_text(self) -> list[tuple[str, str, str]]:
        return parse_items(self.cleaned_data["items_text"])
