"""The scoring engine's inputs as tables any workflow can fill ("facts").

指标完成情况 IndicatorResult, 测评得分 EvaluationScore, 测评票数 VoteCount, 加减分与否决
Adjustment. Each row belongs to a cycle and to exactly one entity: a unit (its leadership team)
or an official.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jixiao.hygiene import NOTE_MAX_LENGTH, text_validators
from jixiao.organisation.models import Official, Unit
from jixiao.schemes.models import Cycle, IndicatorNode

_ONE_ENTITY = (Q(unit__isnull=False) & Q(official__isnull=True)) | (
    Q(unit__isnull=True) & Q(official__isnull=False)
)


class EntityFact(models.Model):
    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    official = models.ForeignKey(
        Official, verbose_name=_("干部"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} · {self.entity}"

    @property
    def entity(self) -> Unit | Official:
        return self.unit if self.unit is not None else self.official  # type: ignore[return-value]


_ONE_INDICATOR = (Q(indicator__isnull=False) & Q(declared__isnull=True)) | (
    Q(indicator__isnull=True) & Q(declared__isnull=False)
)


class IndicatorResult(EntityFact):
    """The actual value of one leaf indicator for one entity, entered by the lead department: a
    leaf of the office's tree (``indicator``) or one of the unit's own declared targets
    (``declared``), exactly one of the two."""

    indicator = models.ForeignKey(
        IndicatorNode,
        verbose_name=_("指标"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="results",
    )
    declared = models.ForeignKey(
        "declarations.DeclaredIndicator",
        verbose_name=_("申报指标"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="results",
    )
    value = models.FloatField(_("实际值"), null=True, blank=True)
    grade = models.CharField(_("评定等次/是否"), max_length=32, blank=True)
    target = models.FloatField(_("目标值"), null=True, blank=True)
    last_year = models.FloatField(_("上年值"), null=True, blank=True)
    evidence = models.TextField(
        _("佐证说明"), blank=True, max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH)
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("指标完成情况")
        verbose_name_plural = _("指标完成情况")
        constraints = [
            models.CheckConstraint(condition=_ONE_ENTITY, name="indicator_result_one_entity"),
            models.CheckConstraint(condition=_ONE_INDICATOR, name="indicator_result_one_indicator"),
            models.UniqueConstraint(fields=["declared", "unit"], name="indicator_result_unique_declared"),
            models.UniqueConstraint(fields=["indicator", "unit"], name="indicator_result_unique_unit"),
            models.UniqueConstraint(
                fields=["indicator", "official"], name="indicator_result_unique_official"
            ),
        ]
        indexes = [models.Index(fields=["cycle", "indicator"])]


class EvaluationScore(EntityFact):
    """A rater group's score on one item for one entity: a single rating (ballots = 1) or an
    aggregate over ``ballots`` ballots (as third-party survey results arrive)."""

    rater_group = models.CharField(_("评价主体"), max_length=32)
    item = models.CharField(_("评价项目"), max_length=32)
    score = models.FloatField(_("得分"))
    ballots = models.PositiveIntegerField(_("票数"), default=1)
    source = models.CharField(_("来源"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("测评得分")
        verbose_name_plural = _("测评得分")
        constraints = [
            models.CheckConstraint(condition=_ONE_ENTITY, name="evaluation_score_one_entity"),
            models.CheckConstraint(condition=Q(ballots__gte=1), name="evaluation_score_ballots_positive"),
        ]
        indexes = [
            models.Index(fields=["cycle", "rater_group"]),
            # The score list (facts.selectors.scored_entities) asks, entity by entity, "has this
            # unit (official) a score in this cycle (of this rater group)?": one index probe each.
            models.Index(fields=["unit", "cycle", "rater_group"], name="score_unit_cycle_group"),
            models.Index(fields=["official", "cycle", "rater_group"], name="score_official_cycle_group"),
        ]


class VoteCount(models.Model):
    """How many raters voted each overall grade for an official (民主测评票数)."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    official = models.ForeignKey(Official, verbose_name=_("干部"), on_delete=models.CASCADE, related_name="+")
    excellent = models.PositiveIntegerField(_("优秀票"), default=0)
    competent = models.PositiveIntegerField(_("称职票"), default=0)
    basic = models.PositiveIntegerField(_("基本称职票"), default=0)
    incompetent = models.PositiveIntegerField(_("不称职票"), default=0)
    source = models.CharField(_("来源"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("测评票数")
        verbose_name_plural = _("测评票数")
        constraints = [models.UniqueConstraint(fields=["cycle", "official"], name="vote_count_unique")]

    def __str__(self) -> str:
        return f"{self.official} {self.excellent}/{self.competent}/{self.basic}/{self.incompetent}"


class AdjustmentKind(models.TextChoices):
    DEDUCTION = "deduction", _("扣分")
    BONUS = "bonus", _("加分")
    VETO_EXCELLENT = "veto_excellent", _("一票否优")
    SANCTION = "sanction", _("处分/问责")
    NO_GRADE = "no_grade", _("不确定等次")
    FALSIFICATION = "falsification", _("弄虚作假（该项零分）")
    DEBT_OVER_LIMIT = "debt_over_limit", _("债务率超限")


class SanctionLevel(models.TextChoices):
    ADMONISH = "admonish", _("诫勉")
    WARNING = "warning", _("警告")
    POST_ADJUSTMENT = "post_adjustment", _("调整职务")
    ACCOUNTABLE = "accountable", _("追责")
    SERIOUS_WARNING = "serious_warning", _("严重警告/记过")
    MAJOR = "major", _("记大过/降级/撤职")
    REMOVAL = "removal", _("撤销党内职务")


class Adjustment(EntityFact):
    """A deduction, bonus, veto, sanction or no-grade reason, with its source and reason."""

    kind = models.CharField(_("类型"), max_length=16, choices=AdjustmentKind.choices)
    points = models.FloatField(_("分值"), null=True, blank=True)
    sanction = models.CharField(_("处分类型"), max_length=16, choices=SanctionLevel.choices, blank=True)
    indicator = models.ForeignKey(
        IndicatorNode,
        verbose_name=_("涉及指标"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    component = models.CharField(_("扣减构成"), max_length=32, blank=True)
    source = models.CharField(_("来源"), max_length=64)
    reason = models.TextField(
        _("事由"), max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH)
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("加减分与否决")
        verbose_name_plural = _("加减分与否决")
        constraints = [models.CheckConstraint(condition=_ONE_ENTITY, name="adjustment_one_entity")]
        indexes = [
            models.Index(fields=["cycle", "kind"]),
            # The adjustment list (/facts/adjustments/): a cycle's newest first, one page read
            # through the index instead of sorting the cycle's 48,000 rows (a province).
            models.Index(fields=["cycle", "-created_at"], name="adjustment_cycle_newest"),
        ]
