"""The registry (M1): regions, unit categories, function zones, units, leadership teams,
officials, posts and tenures.

区域 Region, 单位类别 UnitCategory, 功能区 FunctionZone, 单位 Unit, 领导班子 LeadershipTeam,
领导干部 Official (层级 layer: 班子正职 / 班子成员 / 其他), 职务 Position, 任职 Tenure.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jixiao.hygiene import DESCRIPTION_MAX_LENGTH, text_validators


class Region(models.Model):
    """An administrative area (prefecture, county); regions nest."""

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区域"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("区域")
        verbose_name_plural = _("区域")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class UnitCategory(models.Model):
    """A group of units ranked and graded together (e.g. 县市, 党委部门)."""

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    order = models.PositiveIntegerField(_("排序"), default=0)
    description = models.TextField(
        _("说明"),
        blank=True,
        max_length=DESCRIPTION_MAX_LENGTH,
        validators=text_validators(DESCRIPTION_MAX_LENGTH),
    )

    class Meta:
        verbose_name = _("单位类别")
        verbose_name_plural = _("单位类别")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class FunctionZone(models.Model):
    """A function zone typing regions (工业转型区, 农产品主产区, 生态保护区)."""

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(
        _("说明"),
        blank=True,
        max_length=DESCRIPTION_MAX_LENGTH,
        validators=text_validators(DESCRIPTION_MAX_LENGTH),
    )

    class Meta:
        verbose_name = _("功能区")
        verbose_name_plural = _("功能区")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """An assessed unit: a county government or a prefecture department."""

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    category = models.ForeignKey(
        UnitCategory, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="units"
    )
    region = models.ForeignKey(Region, verbose_name=_("区域"), on_delete=models.PROTECT, related_name="units")
    function_zone = models.ForeignKey(
        FunctionZone,
        verbose_name=_("功能区"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="units",
    )
    is_active = models.BooleanField(_("参加考核"), default=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["category__order", "code"]

    def __str__(self) -> str:
        return self.name


class LeadershipTeam(models.Model):
    """A unit's leadership team (领导班子); one per unit."""

    unit = models.OneToOneField(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="team")
    name = models.CharField(_("名称"), max_length=120)

    class Meta:
        verbose_name = _("领导班子")
        verbose_name_plural = _("领导班子")
        ordering = ["unit__code"]

    def __str__(self) -> str:
        return self.name


class Layer(models.TextChoices):
    """Which layer of officials a person belongs to; grading quotas differ by layer."""

    HEAD = "head", _("班子正职")
    MEMBER = "member", _("班子成员")
    OTHER = "other", _("其他处级干部")


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Official(models.Model):
    """A leading official (领导干部). ``unit`` and ``layer`` describe the current post."""

    code = models.CharField(_("工号"), max_length=32, unique=True)
    name = models.CharField(_("姓名"), max_length=64)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="officials")
    layer = models.CharField(_("层级"), max_length=8, choices=Layer.choices)
    rank = models.CharField(_("职级"), max_length=32, blank=True)
    title = models.CharField(_("职务"), max_length=100, blank=True)
    is_active = models.BooleanField(_("在职"), default=True)

    class Meta:
        verbose_name = _("领导干部")
        verbose_name_plural = _("领导干部")
        ordering = ["unit__code", "layer", "code"]
        indexes = [models.Index(fields=["unit", "layer"])]

    def __str__(self) -> str:
        return self.name


class Position(models.Model):
    """A post in a unit. A post outlives its holders: tenures hang off it, so a successor
    inherits the post's history (and its long-term indicator accounts)."""

    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="positions")
    title = models.CharField(_("职务名称"), max_length=100)
    layer = models.CharField(_("层级"), max_length=8, choices=Layer.choices)
    portfolio = models.CharField(_("分管工作"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("职务")
        verbose_name_plural = _("职务")
        ordering = ["unit__code", "layer", "title"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "title"], name="position_unique_title_per_unit")
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.title}"


class Tenure(models.Model):
    """An official holding a position from ``start`` to ``end`` (open while ``end`` is null)."""

    position = models.ForeignKey(
        Position, verbose_name=_("职务"), on_delete=models.CASCADE, related_name="tenures"
    )
    official = models.ForeignKey(
        Official, verbose_name=_("干部"), on_delete=models.CASCADE, related_name="tenures"
    )
    start = models.DateField(_("任职开始"))
    end = models.DateField(_("任职结束"), null=True, blank=True)

    class Meta:
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        ordering = ["position_id", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")), name="tenure_end_after_start"
            ),
            models.UniqueConstraint(
                fields=["position"], condition=Q(end__isnull=True), name="tenure_one_open_holder_per_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.official} @ {self.position} ({self.start}–{self.end or ''})"
