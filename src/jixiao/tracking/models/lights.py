"""红黄绿灯 lights: stored per declared indicator and summed per unit, so that the office's page
for a province category reads a few thousand summary rows instead of 17 M reports."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from jixiao.declarations.models import DeclaredIndicator
from jixiao.organisation.models import Unit, UnitCategory
from jixiao.schemes.models import Cycle


class Light(models.TextChoices):
    GREEN = "green", _("绿灯")
    YELLOW = "yellow", _("黄灯")
    RED = "red", _("红灯")


class IndicatorLight(models.Model):
    """The light of one declared indicator as of ``as_of`` and why (expected vs reported)."""

    indicator = models.OneToOneField(
        DeclaredIndicator, verbose_name=_("申报指标"), on_delete=models.CASCADE, related_name="light"
    )
    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        UnitCategory, verbose_name=_("类别"), on_delete=models.CASCADE, related_name="+"
    )
    lead_department = models.ForeignKey(
        Unit, verbose_name=_("牵头部门"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    color = models.CharField(_("灯色"), max_length=6, choices=Light.choices)
    expected_percent = models.DecimalField(
        _("应完成进度（%）"), max_digits=6, decimal_places=2, default=Decimal(0)
    )
    reported_percent = models.DecimalField(
        _("实际进度（%）"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    as_of = models.DateField(_("截至日期"))

    class Meta:
        verbose_name = _("指标灯")
        verbose_name_plural = _("指标灯")
        indexes = [
            models.Index(fields=["cycle", "category", "color"]),
            models.Index(fields=["cycle", "lead_department", "color"]),
            models.Index(fields=["cycle", "unit"]),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} · {self.get_color_display()}"


class UnitLight(models.Model):
    """A unit's counts of lights (and its worst light) in a cycle."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        UnitCategory, verbose_name=_("类别"), on_delete=models.CASCADE, related_name="+"
    )
    green = models.PositiveIntegerField(_("绿灯"), default=0)
    yellow = models.PositiveIntegerField(_("黄灯"), default=0)
    red = models.PositiveIntegerField(_("红灯"), default=0)
    color = models.CharField(_("总体"), max_length=6, choices=Light.choices)
    as_of = models.DateField(_("截至日期"))

    class Meta:
        verbose_name = _("单位灯")
        verbose_name_plural = _("单位灯")
        ordering = ["-red", "-yellow", "unit__code"]
        constraints = [models.UniqueConstraint(fields=["cycle", "unit"], name="unit_light_one_per_cycle")]
        indexes = [models.Index(fields=["cycle", "category", "color"])]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_color_display()}"
