"""跟踪规则 TrackingPolicy: the numbers behind a cycle's lights and report deadlines, as data."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from jixiao.schemes.models import Cycle

DEFAULT_YELLOW_DAYS = 3  # issue 9: yellow inside 3 days of a milestone not yet reached
DEFAULT_RED_SHARE = Decimal("80")  # red below 80% of the expected progress
DEFAULT_REPORT_DUE_DAY = 5  # a month's report is due by the 5th of the next month


class Interpolation(models.TextChoices):
    """How expected progress runs between two milestones."""

    LINEAR = "linear", _("节点间匀速推进")
    STEP = "step", _("到节点日期才计入")


class TrackingPolicy(models.Model):
    """One cycle's tracking rules: yellow ``yellow_days`` before a milestone not yet reached, red
    when a milestone is overdue or reported progress is below ``red_share`` % of expected; a
    month's report is due on ``report_due_day`` of the next month. A cycle without a row uses the
    defaults above."""

    cycle = models.OneToOneField(
        Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="tracking_policy"
    )
    yellow_days = models.PositiveSmallIntegerField(
        _("节点前黄灯提示天数"),
        default=DEFAULT_YELLOW_DAYS,
        validators=[MaxValueValidator(60)],
        help_text=_("节点日期前这么多天内仍未达到节点进度的，亮黄灯"),
    )
    red_share = models.DecimalField(
        _("红灯线（应完成进度的百分比）"),
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_RED_SHARE,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("实际进度低于应完成进度的这一比例时亮红灯"),
    )
    report_due_day = models.PositiveSmallIntegerField(
        _("月度进展报送截止日"),
        default=DEFAULT_REPORT_DUE_DAY,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("每月这一天前报送上月进展"),
    )
    interpolation = models.CharField(
        _("节点间进度"), max_length=8, choices=Interpolation.choices, default=Interpolation.LINEAR
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("跟踪规则")
        verbose_name_plural = _("跟踪规则")

    def __str__(self) -> str:
        return f"{self.cycle} · {self._meta.verbose_name}"
