"""月排名、季通报、季赛马: the monthly ranking, the quarterly bulletin and the quarterly race.

A :class:`MonthlyRanking` is one category's ranking over one period from the routine scores (the
month's graded progress reports, scored by ``jixiao.scoring.routine``): a month for the monthly
ranking (月排名), a quarter for the race (赛马). Its rows keep the previous period's rank so that
the page shows the movement without a second query. A :class:`RaceRound` is one category's
quarterly race: its bottom ``bottom_count`` units each file a 复盘说明 :class:`RaceExplanation` by
the deadline, which the office accepts or returns. A :class:`Bulletin` is the quarter's 通报 (a
PDF in storage, and a page).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jixiao.hygiene import DESCRIPTION_MAX_LENGTH, OPINION_MAX_LENGTH, text_validators
from jixiao.organisation.models import Unit, UnitCategory
from jixiao.schemes.models import Cycle
from jixiao.tracking.models.evidence import Evidence

DEFAULT_BOTTOM_COUNT = 3  # seed 004: "排名后三位的干部作复盘说明"


class RankingSpan(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")


class MonthlyRanking(models.Model):
    """One category's routine ranking over one month (or, for the race, one quarter).

    ``period`` is the first day of the period. Computed by a background job; the office publishes
    it, and only then do the category's units see it. A published ranking is final."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        UnitCategory, verbose_name=_("类别"), on_delete=models.CASCADE, related_name="+"
    )
    span = models.CharField(_("期间"), max_length=8, choices=RankingSpan.choices, default=RankingSpan.MONTH)
    period = models.DateField(_("起始月份"))
    unit_count = models.PositiveIntegerField(_("参加排名单位数"), default=0)
    computed_at = models.DateTimeField(_("计算时间"))
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("公布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("排名")
        verbose_name_plural = _("排名")
        ordering = ["cycle", "-period", "category__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "category", "span", "period"], name="ranking_one_per_period"
            )
        ]
        indexes = [models.Index(fields=["cycle", "span", "period"])]

    def __str__(self) -> str:
        return f"{self.category} · {self.period:%Y-%m}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class MonthlyRankingRow(models.Model):
    """One unit's place in a ranking. ``movement`` = previous rank − rank (positive: moved up);
    null when the unit was not ranked in the previous period."""

    ranking = models.ForeignKey(
        MonthlyRanking, verbose_name=_("排名"), on_delete=models.CASCADE, related_name="rows"
    )
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    score = models.DecimalField(_("平时实绩得分"), max_digits=7, decimal_places=2)
    rank = models.PositiveIntegerField(_("名次"))
    previous_rank = models.PositiveIntegerField(_("上期名次"), null=True, blank=True)
    movement = models.IntegerField(_("名次变化"), null=True, blank=True)
    graded_reports = models.PositiveIntegerField(_("已评定报告数"), default=0)

    class Meta:
        verbose_name = _("排名明细")
        verbose_name_plural = _("排名明细")
        ordering = ["ranking", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["ranking", "unit"], name="ranking_row_one_per_unit"),
            models.UniqueConstraint(fields=["ranking", "rank"], name="ranking_row_unique_rank"),
        ]
        indexes = [models.Index(fields=["unit", "ranking"])]

    def __str__(self) -> str:
        return f"{self.ranking} · {self.rank} {self.unit}"


class IssuedFile(models.Model):
    """A document the office generates as a PDF in the background, then issues (印发) to every
    unit: the file, who made it when, who issued it when. The quarterly bulletin and the monthly
    supervision bulletin are both one."""

    file = models.FileField(_("通报文件"), upload_to="bulletins/%Y/", max_length=200, blank=True)
    generated_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("印发时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("印发人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.file.name or ""

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Bulletin(IssuedFile):
    """季度通报: the quarter's bulletin of a cycle, generated as a PDF by a background job."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    quarter = models.PositiveSmallIntegerField(
        _("季度"), validators=[MinValueValidator(1), MaxValueValidator(4)]
    )

    class Meta:
        verbose_name = _("季度通报")
        verbose_name_plural = _("季度通报")
        ordering = ["-cycle__year", "-quarter"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "quarter"], name="bulletin_one_per_quarter"),
            models.CheckConstraint(
                condition=Q(quarter__gte=1) & Q(quarter__lte=4), name="bulletin_quarter_1_4"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cycle} · {self.quarter}"


class RaceRound(models.Model):
    """季度赛马: one category's race in one quarter. The quarter's ranking is computed by a
    background job; its bottom ``bottom_count`` units must file a 复盘说明 by ``deadline``."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        UnitCategory, verbose_name=_("类别"), on_delete=models.CASCADE, related_name="+"
    )
    quarter = models.PositiveSmallIntegerField(
        _("季度"), validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    bottom_count = models.PositiveSmallIntegerField(
        _("末位单位数"),
        default=DEFAULT_BOTTOM_COUNT,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )
    deadline = models.DateField(_("复盘说明截止日期"))
    ranking = models.OneToOneField(
        MonthlyRanking,
        verbose_name=_("季度排名"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="race",
    )
    opened_at = models.DateTimeField(_("发起时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("季度赛马")
        verbose_name_plural = _("季度赛马")
        ordering = ["-cycle__year", "-quarter", "category__order"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "category", "quarter"], name="race_one_per_quarter"),
            models.CheckConstraint(condition=Q(quarter__gte=1) & Q(quarter__lte=4), name="race_quarter_1_4"),
        ]

    def __str__(self) -> str:
        return f"{self.category} · {self.quarter}"


class ExplanationStatus(models.TextChoices):
    PENDING = "pending", _("待提交")
    SUBMITTED = "submitted", _("待审核")
    ACCEPTED = "accepted", _("已通过")
    RETURNED = "returned", _("已退回")


# A unit still owes its explanation in these states (overdue after the deadline).
OWED = (ExplanationStatus.PENDING, ExplanationStatus.RETURNED)


class RaceExplanation(models.Model):
    """复盘说明: a bottom unit's explanation in a race, filed by its liaison, reviewed by the office."""

    race = models.ForeignKey(
        RaceRound, verbose_name=_("季度赛马"), on_delete=models.CASCADE, related_name="explanations"
    )
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveIntegerField(_("名次"))
    text = models.TextField(
        _("复盘说明"),
        blank=True,
        max_length=DESCRIPTION_MAX_LENGTH,
        validators=text_validators(DESCRIPTION_MAX_LENGTH),
    )
    evidence = models.ManyToManyField(
        Evidence, verbose_name=_("佐证材料"), blank=True, related_name="race_explanations"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ExplanationStatus.choices, default=ExplanationStatus.PENDING
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    review_comment = models.CharField(_("审核意见"), max_length=OPINION_MAX_LENGTH, blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("复盘说明")
        verbose_name_plural = _("复盘说明")
        ordering = ["race", "rank"]
        constraints = [models.UniqueConstraint(fields=["race", "unit"], name="race_explanation_one_per_unit")]
        indexes = [models.Index(fields=["unit", "status"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.race} · {self.unit}"
