"""Forms of the staff pages. Scales, tags and questions are edited as short text lines."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jixiao.hygiene import DESCRIPTION_MAX_LENGTH
from jixiao.organisation.models import Official, Unit
from jixiao.schemes.models import Cycle
from jixiao.surveys.models import (
    DEFAULT_ADDRESS_LIMIT,
    DEFAULT_DEVICE_LIMIT,
    DEFAULT_LIMIT_HOURS,
    DEFAULT_SCALE,
    DEFAULT_SURVEY_TAGS,
    EventChannel,
    RatingPolicy,
    Survey,
)
from jixiao.surveys.scale import parse_questions, parse_scale_text, parse_tags, questions_text, scale_text
from jixiao.surveys.services import SurveyData
from jixiao.web.widgets import GroupedModelChoiceField, SearchableSelect, SearchableSelectMultiple

DEFAULT_QUESTIONS = "overall|您对本单位的服务总体是否满意？"


class SurveyForm(forms.Form):
    cycle = forms.ModelChoiceField(label=_("考核周期"), queryset=Cycle.objects.all())
    title = forms.CharField(label=_("标题"), max_length=120)
    intro = forms.CharField(
        label=_("说明"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    questions = forms.CharField(
        label=_("题目"),
        widget=forms.Textarea(attrs={"rows": 4}),
        initial=DEFAULT_QUESTIONS,
        help_text=_("每行一题：项目代码|题目。项目代码即计入测评得分的评价项目（测评表中的项目代码）"),
    )
    scale = forms.CharField(
        label=_("量表"),
        widget=forms.Textarea(attrs={"rows": 6}),
        initial=scale_text(DEFAULT_SCALE),
        help_text=_("每行一个选项：选项=分值（0–100）；分值留空表示不计分，如“不了解=”"),
    )
    tags = forms.CharField(
        label=_("标签"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        initial="\n".join(DEFAULT_SURVEY_TAGS),
    )
    allow_opinion = forms.BooleanField(label=_("允许填写意见建议"), required=False, initial=True)
    rater_group = forms.SlugField(label=_("计入评价主体代码"), initial="public", max_length=32)
    dedupe_hours = forms.IntegerField(
        label=_("重复提交判定时段(小时)"), min_value=0, max_value=24 * 366, initial=24
    )
    limit_hours = forms.IntegerField(
        required=False,
        label=_("限额统计时段(小时)"),
        min_value=0,
        max_value=24 * 366,
        initial=DEFAULT_LIMIT_HOURS,
        help_text=_("下面两项限额在此时段内计数；0 表示整个调查期间为一个时段"),
    )
    address_limit = forms.IntegerField(
        required=False,
        label=_("同一网络地址限额(份)"),
        min_value=0,
        max_value=100_000,
        initial=DEFAULT_ADDRESS_LIMIT,
        help_text=_(
            "同一网络地址在一个时段内对同一调查点计入的答卷数；超出的答卷仍保存，但标记为可疑、不计入测评得分。"
            "服务大厅共用网络时可调高；0 表示不限"
        ),
    )
    device_limit = forms.IntegerField(
        required=False,
        label=_("同一设备限额(个调查点)"),
        min_value=0,
        max_value=100_000,
        initial=DEFAULT_DEVICE_LIMIT,
        help_text=_("同一设备在一个时段内可计入的调查点数，超出的答卷标记为可疑；0 表示不限"),
    )
    is_open = forms.BooleanField(label=_("开放填写"), required=False, initial=True)

    def __init__(
        self, *args: Any, survey: Survey | None = None, with_units: bool = False, **kwargs: Any
    ) -> None:
        if survey is not None:
            kwargs.setdefault(
                "initial",
                {
                    "cycle": survey.cycle_id,
                    "title": survey.title,
                    "intro": survey.intro,
                    "questions": questions_text(list(survey.questions.values_list("item", "text"))),
                    "scale": scale_text(survey.scale),
                    "tags": "\n".join(survey.tags),
                    "allow_opinion": survey.allow_opinion,
                    "rater_group": survey.rater_group,
                    "dedupe_hours": survey.dedupe_hours,
                    "limit_hours": survey.limit_hours,
                    "address_limit": survey.address_limit,
                    "device_limit": survey.device_limit,
                    "is_open": survey.is_open,
                },
            )
        super().__init__(*args, **kwargs)
        if with_units:
            self.fields["units"] = forms.ModelMultipleChoiceField(
                label=_("为这些单位生成链接和二维码"),
                queryset=Unit.objects.filter(is_active=True).order_by("code"),
                required=False,
                widget=SearchableSelectMultiple(),
            )

    def _limit(self, name: str, default: int) -> int:
        # Left blank: the generous default (the field shows it as its initial value).
        value = self.cleaned_data.get(name)
        return default if value is None else int(value)

    def clean_limit_hours(self) -> int:
        return self._limit("limit_hours", DEFAULT_LIMIT_HOURS)

    def clean_address_limit(self) -> int:
        return self._limit("address_limit", DEFAULT_ADDRESS_LIMIT)

    def clean_device_limit(self) -> int:
        return self._limit("device_limit", DEFAULT_DEVICE_LIMIT)

    def clean_scale(self) -> list[dict[str, Any]]:
        return parse_scale_text(self.cleaned_data["scale"])

    def clean_tags(self) -> list[str]:
        return parse_tags(self.cleaned_data.get("tags", ""))

    def clean_questions(self) -> list[tuple[str, str]]:
        return parse_questions(self.cleaned_data["questions"])

    def data_object(self) -> SurveyData:
        c = self.cleaned_data
        return SurveyData(
            cycle=c["cycle"],
            title=c["title"],
            intro=c["intro"],
            scale=c["scale"],
            tags=c["tags"],
            questions=c["questions"],
            allow_opinion=c["allow_opinion"],
            rater_group=c["rater_group"],
            dedupe_hours=c["dedupe_hours"],
            limit_hours=c["limit_hours"],
            address_limit=c["address_limit"],
            device_limit=c["device_limit"],
            is_open=c["is_open"],
        )


class TargetForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("单位"),
        queryset=Unit.objects.filter(is_active=True).order_by("code"),
        widget=SearchableSelect,
    )
    official = GroupedModelChoiceField(
        label=_("干部（可选）"),
        queryset=Official.objects.filter(is_active=True)
        .select_related("unit")
        .order_by("unit__code", "code"),
        required=False,
        group_by=lambda official: official.unit.name,
    )
    service_point = forms.CharField(label=_("服务点（可选）"), max_length=100, required=False)


class EventForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("单位"),
        queryset=Unit.objects.filter(is_active=True).order_by("code"),
        widget=SearchableSelect,
    )
    official = GroupedModelChoiceField(
        label=_("干部（可选）"),
        queryset=Official.objects.filter(is_active=True)
        .select_related("unit")
        .order_by("unit__code", "code"),
        required=False,
        group_by=lambda official: official.unit.name,
    )
    service = forms.CharField(label=_("服务事项"), max_length=120)
    channel = forms.ChoiceField(label=_("发送渠道"), choices=EventChannel.choices, initial=EventChannel.SMS)
    contact = forms.CharField(
        label=_("手机号或微信 openid"),
        max_length=64,
        required=False,
        help_text=_("仅用于发送评价链接，加密暂存，发送后立即删除"),
    )

    def __init__(self, *args: Any, unit_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if unit_id is not None:
            field = self.fields["unit"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = Unit.objects.filter(pk=unit_id)
            field.initial = unit_id
            official = self.fields["official"]
            assert isinstance(official, forms.ModelChoiceField)
            official.queryset = (
                Official.objects.filter(is_active=True, unit_id=unit_id)
                .select_related("unit")
                .order_by("code")
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        official, unit = data.get("official"), data.get("unit")
        if official is not None and unit is not None and official.unit_id != unit.pk:
            self.add_error("official", _("“%(o)s”不是“%(u)s”的干部") % {"o": official.name, "u": unit.name})
        return data


class TokenForm(forms.Form):
    name = forms.CharField(label=_("名称（如：政务服务系统）"), max_length=100)
    unit = forms.ModelChoiceField(
        label=_("单位"), queryset=Unit.objects.filter(is_active=True).order_by("code")
    )


class PolicyForm(forms.ModelForm[RatingPolicy]):
    tags_text = forms.CharField(label=_("评价标签"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = RatingPolicy
        fields = [
            "link_valid_days",
            "monitor_threshold",
            "monitor_window_days",
            "count_survey_answers",
            "rater_group",
            "unit_item",
            "official_item",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tags_text"].initial = "\n".join(self.instance.tags)

    def clean_tags_text(self) -> list[str]:
        return parse_tags(self.cleaned_data.get("tags_text", ""))

    def values(self) -> dict[str, Any]:
        values = {name: self.cleaned_data[name] for name in self.Meta.fields}
        values["tags"] = self.cleaned_data["tags_text"]
        return values


class ThirdPartyForm(forms.Form):
    cycle = forms.ModelChoiceField(label=_("考核周期"), queryset=Cycle.objects.all())
    rater_group = forms.SlugField(label=_("评价主体代码"), initial="third_party", max_length=32)
    file = forms.FileField(label=_("第三方测评结果（.xlsx）"))


class PushForm(forms.Form):
    cycle = forms.ModelChoiceField(label=_("考核周期"), queryset=Cycle.objects.all())
