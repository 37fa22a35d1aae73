"""Cycles, schemes, components, grading policies and four-level indicator trees (M2, M3).

考核周期 Cycle, 考核方案 Scheme (one per unit category per cycle), 考核构成 Component
(平时实绩, 年度实绩, 自身建设, 社会公认度 …, with sub-components), 等次政策 GradingPolicy
with 等次 GradeLevel and 规则 GradingRule, 指标 IndicatorNode (四级指标体系), 指标库 LibraryEntry.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jixiao.hygiene import DESCRIPTION_MAX_LENGTH, text_validators
from jixiao.organisation.models import FunctionZone, Layer, Unit, UnitCategory

WEIGHT_TOTAL = Decimal("100")
MAX_LEVEL = 4
# The office's framework is levels 1–2 of a tree; units declare levels 3–4 under it.
FRAMEWORK_MAX_LEVEL = 2

_weight_validators = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class CycleStatus(models.TextChoices):
    DRAFT = "draft", _("筹备")
    OPEN = "open", _("进行中")
    CLOSED = "closed", _("已结束")


class CycleStage(models.TextChoices):
    """The stages of an open cycle's year (制定框架 → 单位申报 → 审核 → 公布目标 → 过程跟踪 → 年度评价).

    What each role may change depends on the stage (:mod:`jixiao.schemes.lifecycle`)."""

    FRAMEWORK = "framework", _("制定框架")
    DECLARATION = "declaration", _("单位申报")
    REVIEW = "review", _("目标审核")
    PUBLICATION = "publication", _("公布目标")
    TRACKING = "tracking", _("过程跟踪")
    EVALUATION = "evaluation", _("年度评价")


STAGE_ORDER: tuple[str, ...] = tuple(CycleStage.values)

# The points a routine component (平时实绩) gives each monthly grade when a new component is
# created; the office changes them per component (Component.grade_points), they are data.
DEFAULT_GRADE_POINTS: dict[str, float] = {"completed": 100, "on_schedule": 90, "behind": 60}


class Cycle(models.Model):
    """An assessment year. Its status (筹备 → 进行中 → 已结束) and its stage change only through the
    audited actions of :mod:`jixiao.schemes.lifecycle`; a closed cycle's data is read-only."""

    year = models.PositiveIntegerField(_("年度"), unique=True)
    name = models.CharField(_("名称"), max_length=100)
    status = models.CharField(_("状态"), max_length=8, choices=CycleStatus.choices, default=CycleStatus.DRAFT)
    stage = models.CharField(
        _("阶段"), max_length=12, choices=CycleStage.choices, default=CycleStage.FRAMEWORK
    )

    class Meta:
        verbose_name = _("考核周期")
        verbose_name_plural = _("考核周期")
        ordering = ["-year"]

    def __str__(self) -> str:
        return self.name


class CycleStagePlan(models.Model):
    """The planned dates of one stage of a cycle (e.g. 单位申报 from 1 to 28 February)."""

    cycle = models.ForeignKey(
        Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="stage_plans"
    )
    stage = models.CharField(_("阶段"), max_length=12, choices=CycleStage.choices)
    opens_on = models.DateField(_("开始日期"), null=True, blank=True)
    closes_on = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("阶段安排")
        verbose_name_plural = _("阶段安排")
        ordering = ["cycle_id", "opens_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "stage"], name="stage_plan_one_per_stage"),
            models.CheckConstraint(
                condition=Q(opens_on__isnull=True)
                | Q(closes_on__isnull=True)
                | Q(closes_on__gte=models.F("opens_on")),
                name="stage_plan_closes_after_opens",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cycle} · {self.get_stage_display()}"


class Scheme(models.Model):
    """The scheme that applies to one unit category in one cycle."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="schemes")
    category = models.ForeignKey(
        UnitCategory, verbose_name=_("单位类别"), on_delete=models.PROTECT, related_name="schemes"
    )
    name = models.CharField(_("名称"), max_length=120)
    notes = models.TextField(
        _("说明"),
        blank=True,
        max_length=DESCRIPTION_MAX_LENGTH,
        validators=text_validators(DESCRIPTION_MAX_LENGTH),
    )
    copied_from = models.ForeignKey(
        "self", verbose_name=_("复制自"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    options: models.JSONField[dict[str, Any]] = models.JSONField(
        _("计分选项"),
        default=dict,
        blank=True,
        help_text=_("扣分、债务率、并列名次等计分参数，详见 docs/scoring.md"),
    )

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")
        ordering = ["-cycle__year", "category__order"]
        constraints = [models.UniqueConstraint(fields=["cycle", "category"], name="scheme_one_per_category")]

    def __str__(self) -> str:
        return self.name


class Subject(models.TextChoices):
    TEAM = "team", _("领导班子")
    OFFICIAL = "official", _("领导干部")


class ComponentSource(models.TextChoices):
    """Where a component's score comes from."""

    INDICATORS = "indicators", _("指标体系")
    RATINGS = "ratings", _("测评与满意度")
    TEAM = "team", _("所在班子得分")
    ROUTINE = "routine", _("平时实绩（来自月度评定）")


class RaterGroup(models.Model):
    """A rater group (评价主体, "1+5+N") of a cycle: trimming and the minimum ballots shown."""

    cycle = models.ForeignKey(
        Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="rater_groups"
    )
    code = models.SlugField(_("代码"), max_length=32)
    name = models.CharField(_("名称"), max_length=64)
    trim_percent = models.DecimalField(
        _("去掉最高最低比例(%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=_weight_validators,
    )
    trim_min_count = models.PositiveIntegerField(_("超过此人数才去除"), default=5)
    min_ballots = models.PositiveIntegerField(_("最少票数"), default=1)
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("评价主体")
        verbose_name_plural = _("评价主体")
        ordering = ["cycle_id", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["cycle", "code"], name="rater_group_unique_code")]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    """A weighted part of the total score; a component may split into weighted sub-components.

    Team components weigh the unit's score; official components weigh an official's score, with
    per-layer weights (e.g. the team head's duty score is 70% of the team's score)."""

    scheme = models.ForeignKey(
        Scheme, verbose_name=_("方案"), on_delete=models.CASCADE, related_name="components"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级构成"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    code = models.SlugField(_("代码"), max_length=32)
    name = models.CharField(_("名称"), max_length=100)
    weight = models.DecimalField(_("权重"), max_digits=6, decimal_places=2, validators=_weight_validators)
    order = models.PositiveIntegerField(_("排序"), default=0)
    subject = models.CharField(_("对象"), max_length=8, choices=Subject.choices, default=Subject.TEAM)
    source = models.CharField(
        _("得分来源"), max_length=12, choices=ComponentSource.choices, default=ComponentSource.INDICATORS
    )
    layer_weights: models.JSONField[dict[str, float]] = models.JSONField(
        _("分层权重"), default=dict, blank=True, help_text=_('干部构成：如 {"head": 70, "member": 50}')
    )
    group_weights: models.JSONField[dict[str, float]] = models.JSONField(
        _("评价主体权重"), default=dict, blank=True, help_text=_('测评构成：如 {"public": 35, "peers": 15}')
    )
    item_weights: models.JSONField[dict[str, float]] = models.JSONField(
        _("测评项目权重"), default=dict, blank=True, help_text=_("为空时各项目等权")
    )
    team_component = models.SlugField(_("取班子构成"), max_length=32, blank=True)
    grade_points: models.JSONField[dict[str, float]] = models.JSONField(
        _("月度评定分值"), default=dict, blank=True, help_text=_("平时实绩构成：每种月度评定计多少分")
    )

    class Meta:
        verbose_name = _("考核构成")
        verbose_name_plural = _("考核构成")
        ordering = ["scheme_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="component_unique_code"),
            models.CheckConstraint(
                condition=Q(weight__gte=0) & Q(weight__lte=100), name="component_weight_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.weight}"


class GradingPolicy(models.Model):
    """How a scheme grades teams or officials: ordered levels with quotas and switchable rules."""

    scheme = models.ForeignKey(
        Scheme, verbose_name=_("方案"), on_delete=models.CASCADE, related_name="grading_policies"
    )
    subject = models.CharField(_("对象"), max_length=8, choices=Subject.choices)
    options: models.JSONField[dict[str, Any]] = models.JSONField(
        _("等次选项"),
        default=dict,
        blank=True,
        help_text=_("rounding 名额取整方式、veto_ceiling 一票否优后最高等次、falsification_grade 造假等次"),
    )

    class Meta:
        verbose_name = _("等次政策")
        verbose_name_plural = _("等次政策")
        constraints = [models.UniqueConstraint(fields=["scheme", "subject"], name="policy_one_per_subject")]

    def __str__(self) -> str:
        return f"{self.scheme} · {self.get_subject_display()}"


class GradeLevel(models.Model):
    """One grade (e.g. 优秀) with its share of the category in percent (blank: no quota)."""

    policy = models.ForeignKey(
        GradingPolicy, verbose_name=_("政策"), on_delete=models.CASCADE, related_name="levels"
    )
    code = models.SlugField(_("代码"), max_length=32)
    label = models.CharField(_("名称"), max_length=32)
    quota_percent = models.DecimalField(
        _("比例(%)"), max_digits=5, decimal_places=2, null=True, blank=True, validators=_weight_validators
    )
    order = models.PositiveIntegerField(_("顺序（1 为最高）"))

    class Meta:
        verbose_name = _("等次")
        verbose_name_plural = _("等次")
        ordering = ["policy_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "code"], name="grade_level_unique_code"),
            models.UniqueConstraint(fields=["policy", "order"], name="grade_level_unique_order"),
        ]

    def __str__(self) -> str:
        return self.label


class GradingRuleType(models.TextChoices):
    """Rule kinds; their parameters are documented in schemes/rule_types.py."""

    BOTTOM_SHARE = "bottom_share", _("类别末位比例降等")
    EVALUATION_BOTTOM_SHARE = "evaluation_bottom_share", _("民主测评末位比例降等")
    TARGET_UNDER = "target_under", _("量化指标得分率过低降等")
    NEGATIVE_VOTES = "negative_votes", _("基本称职及以下票数超比例降等")
    SANCTIONS = "sanctions", _("处分与问责限制等次")
    TEAM_CAP = "team_cap", _("班子等次限制成员优秀比例")
    CONSECUTIVE_LAST = "consecutive_last", _("连续末位提示")
    LOW_AMBITION = "low_ambition", _("目标偏低降等")


class GradingRule(models.Model):
    """A switchable, parameterised grading rule belonging to a policy."""

    policy = models.ForeignKey(
        GradingPolicy, verbose_name=_("政策"), on_delete=models.CASCADE, related_name="rules"
    )
    rule_type = models.CharField(_("规则"), max_length=32, choices=GradingRuleType.choices)
    enabled = models.BooleanField(_("启用"), default=True)
    params: models.JSONField[dict[str, Any]] = models.JSONField(_("参数"), default=dict, blank=True)

    class Meta:
        verbose_name = _("等次规则")
        verbose_name_plural = _("等次规则")
        constraints = [
            models.UniqueConstraint(fields=["policy", "rule_type"], name="grading_rule_unique_type")
        ]

    def __str__(self) -> str:
        return self.get_rule_type_display()


class IndicatorKind(models.TextChoices):
    BASE = "base", _("基础指标")
    DYNAMIC = "dynamic", _("动态指标")


class LibraryKind(models.TextChoices):
    BASIC = "basic", _("基本指标")
    REGIONAL = "regional", _("区域指标")
    POSITION = "position", _("岗位指标")


class LibraryEntry(models.Model):
    """A reusable indicator from the "3+3+3" library."""

    kind = models.CharField(_("类型"), max_length=10, choices=LibraryKind.choices)
    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    description = models.TextField(
        _("说明"),
        blank=True,
        max_length=DESCRIPTION_MAX_LENGTH,
        validators=text_validators(DESCRIPTION_MAX_LENGTH),
    )
    rule_type = models.CharField(_("计分规则"), max_length=32, blank=True)
    rule_params: models.JSONField[dict[str, Any]] = models.JSONField(_("规则参数"), default=dict, blank=True)
    function_zone = models.ForeignKey(
        FunctionZone, verbose_name=_("适用功能区"), null=True, blank=True, on_delete=models.SET_NULL
    )
    layer = models.CharField(_("适用层级"), max_length=8, choices=Layer.choices, blank=True)

    class Meta:
        verbose_name = _("指标库条目")
        verbose_name_plural = _("指标库")
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name


class IndicatorNode(models.Model):
    """A node of the four-level indicator tree. Children's weights are shares (summing to 100)
    of their parent; level-1 nodes' weights are shares of their component. Leaves carry a
    scoring rule with parameters as data."""

    scheme = models.ForeignKey(
        Scheme, verbose_name=_("方案"), on_delete=models.CASCADE, related_name="indicators"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级指标"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    component = models.ForeignKey(
        Component, verbose_name=_("所属构成"), on_delete=models.PROTECT, related_name="indicators"
    )
    level = models.PositiveSmallIntegerField(
        _("级别"), validators=[MinValueValidator(1), MaxValueValidator(MAX_LEVEL)]
    )
    code = models.CharField(_("编号"), max_length=32, blank=True)
    name = models.CharField(_("名称"), max_length=200)
    weight = models.DecimalField(_("权重"), max_digits=6, decimal_places=2, validators=_weight_validators)
    order = models.PositiveIntegerField(_("排序"), default=0)
    kind = models.CharField(
        _("类型"), max_length=8, choices=IndicatorKind.choices, default=IndicatorKind.BASE
    )
    is_long_term = models.BooleanField(_("潜绩指标"), default=False)
    target_text = models.TextField(
        _("目标内容"),
        blank=True,
        max_length=DESCRIPTION_MAX_LENGTH,
        validators=text_validators(DESCRIPTION_MAX_LENGTH),
    )
    rule_type = models.CharField(_("计分规则"), max_length=32, blank=True)
    rule_params: models.JSONField[dict[str, Any]] = models.JSONField(_("规则参数"), default=dict, blank=True)
    lead_unit = models.ForeignKey(
        Unit, verbose_name=_("牵头单位"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    library_entry = models.ForeignKey(
        LibraryEntry, verbose_name=_("指标库来源"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["scheme_id", "level", "order", "id"]
        indexes = [models.Index(fields=["scheme", "parent", "order"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=MAX_LEVEL), name="indicator_level_1_4"
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=0) & Q(weight__lte=100), name="indicator_weight_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ZoneWeight(models.Model):
    """A framework node's weight for the units of one function zone (e.g. 生态 GEP 25 in an
    ecological zone); a node without one for a zone keeps its own weight there."""

    node = models.ForeignKey(
        IndicatorNode, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="zone_weights"
    )
    zone = models.ForeignKey(
        FunctionZone, verbose_name=_("功能区"), on_delete=models.CASCADE, related_name="+"
    )
    weight = models.DecimalField(_("权重"), max_digits=6, decimal_places=2, validators=_weight_validators)

    class Meta:
        verbose_name = _("功能区权重")
        verbose_name_plural = _("功能区权重")
        ordering = ["node_id", "zone_id"]
        constraints = [
            models.UniqueConstraint(fields=["node", "zone"], name="zone_weight_one_per_zone"),
            models.CheckConstraint(condition=Q(weight__gte=0) & Q(weight__lte=100), name="zone_weight_range"),
        ]

    def __str__(self) -> str:
        return f"{self.node} · {self.zone} {self.weight}"
