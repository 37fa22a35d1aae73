"""月度进展 ProgressReport: a unit's value to date, narrative and evidence for one declared
indicator and one month, graded by the indicator's lead department."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jixiao.declarations.models import DeclaredIndicator
from jixiao.hygiene import NOTE_MAX_LENGTH, OPINION_MAX_LENGTH, text_validators
from jixiao.tracking.models.evidence import Evidence


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已报送")
    GRADED = "graded", _("已评定")


class ProgressGrade(models.TextChoices):
    """The lead department's grade of a report; its points are scheme data (routine component)."""

    ON_SCHEDULE = "on_schedule", _("按进度推进")
    BEHIND = "behind", _("进度滞后")
    COMPLETED = "completed", _("已完成")


class ProgressReport(models.Model):
    """One month's report on one declared indicator (``period`` is the first day of the month)."""

    indicator = models.ForeignKey(
        DeclaredIndicator, verbose_name=_("申报指标"), on_delete=models.CASCADE, related_name="reports"
    )
    period = models.DateField(_("月份"))
    value_to_date = models.DecimalField(
        _("累计完成值"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    progress_percent = models.DecimalField(
        _("完成进度（%）"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    narrative = models.TextField(
        _("进展情况"), blank=True, max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH)
    )
    evidence = models.ManyToManyField(
        Evidence, verbose_name=_("佐证材料"), blank=True, related_name="reports"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    grade = models.CharField(_("评定"), max_length=12, choices=ProgressGrade.choices, blank=True)
    quality_comment = models.CharField(_("质量评价"), max_length=OPINION_MAX_LENGTH, blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评定人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    graded_at = models.DateTimeField(_("评定时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("月度进展")
        verbose_name_plural = _("月度进展")
        ordering = ["indicator", "period"]
        constraints = [models.UniqueConstraint(fields=["indicator", "period"], name="report_one_per_month")]
        indexes = [models.Index(fields=["period", "status"])]

    def __str__(self) -> str:
        return f"{self.indicator} · {self.period:%Y-%m}"
