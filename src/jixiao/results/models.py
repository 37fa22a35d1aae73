"""Scoring runs (计分批次) and their results. A run is immutable: a later run never overwrites an
earlier one, and its inputs' and outputs' SHA-256 digests let anyone check it was not altered."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jixiao.organisation.models import Official, Unit
from jixiao.schemes.models import Cycle


class ScoringRun(models.Model):
    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.PROTECT, related_name="runs")
    number = models.PositiveIntegerField(_("批次号"))
    engine_version = models.CharField(_("引擎版本"), max_length=32)
    created_at = models.DateTimeField(_("计算时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("计算人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by_name = models.CharField(_("计算人账号"), max_length=150, blank=True)
    input_digest = models.CharField(_("输入摘要 SHA-256"), max_length=64)
    output_digest = models.CharField(_("结果摘要 SHA-256"), max_length=64)
    parameters: models.JSONField[dict[str, Any]] = models.JSONField(_("参数"), default=dict)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    entity_count = models.PositiveIntegerField(_("对象数"), default=0)
    seconds = models.FloatField(_("耗时（秒）"), default=0)

    class Meta:
        verbose_name = _("计分批次")
        verbose_name_plural = _("计分批次")
        ordering = ["-cycle__year", "-number"]
        constraints = [models.UniqueConstraint(fields=["cycle", "number"], name="run_unique_number")]

    def __str__(self) -> str:
        return f"{self.cycle.year}-#{self.number}"


class ResultSubject(models.TextChoices):
    UNIT = "unit", _("领导班子")
    OFFICIAL = "official", _("领导干部")


class RunDetail(models.Model):
    """Everything a run's explanations are built from, kept with the run (nothing lost).

    The results frames are Parquet (zstd, written by Polars, sorted by entity, so that one
    entity's rows are a binary search away); ``decisions`` and ``scheme`` are the grade decisions
    and the scheme dict that was scored. ``selectors.entity_explanation`` rebuilds an entity's
    explanation from them on demand.
    """

    FRAMES = ("entities", "components", "indicators", "raters", "adjustments")

    run = models.OneToOneField(
        ScoringRun, verbose_name=_("批次"), primary_key=True, on_delete=models.CASCADE, related_name="detail"
    )
    entities = models.BinaryField(_("对象结果（Parquet）"))
    components = models.BinaryField(_("构成得分（Parquet）"))
    indicators = models.BinaryField(_("指标得分（Parquet）"))
    raters = models.BinaryField(_("测评得分（Parquet）"))
    adjustments = models.BinaryField(_("加减分（Parquet）"))
    decisions: models.JSONField[dict[str, Any]] = models.JSONField(_("等次判定"), default=dict)
    scheme: models.JSONField[dict[str, Any]] = models.JSONField(_("考核方案"), default=dict)

    class Meta:
        verbose_name = _("计分明细")
        verbose_name_plural = _("计分明细")

    def __str__(self) -> str:
        return str(self.run)


class EntityResult(models.Model):
    """One unit's or official's outcome in a run: total, components, rank, grade, flags.

    The explanation is rebuilt on demand from the run's ``RunDetail`` (``explanation``); runs
    stored before ``RunDetail`` existed kept it in ``stored_explanation`` (column ``explanation``).
    """

    run = models.ForeignKey(
        ScoringRun, verbose_name=_("批次"), on_delete=models.CASCADE, related_name="results"
    )
    subject = models.CharField(_("对象类型"), max_length=8, choices=ResultSubject.choices)
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    official = models.ForeignKey(
        Official, verbose_name=_("干部"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.CharField(_("类别"), max_length=64)
    total = models.FloatField(_("总分"), null=True)
    components: models.JSONField[dict[str, Any]] = models.JSONField(_("构成得分"), default=dict)
    rank = models.PositiveIntegerField(_("名次"), null=True)
    grade = models.CharField(_("等次"), max_length=32, blank=True)
    flags: models.JSONField[list[str]] = models.JSONField(_("提示"), default=list)
    stored_explanation: models.JSONField[dict[str, Any]] = models.JSONField(
        _("计分说明"), default=dict, db_column="explanation"
    )

    class Meta:
        verbose_name = _("考核结果")
        verbose_name_plural = _("考核结果")
        ordering = ["run_id", "subject", "category", "rank"]
        indexes = [models.Index(fields=["run", "subject", "category", "rank"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(subject="unit") & Q(official__isnull=True))
                | (Q(subject="official") & Q(official__isnull=False)),
                name="result_subject_matches_entity",
            ),
        ]

    def __str__(self) -> str:
        total = "—" if self.total is None else f"{self.total:.2f}"  # shown in the audit log
        return f"{self.official or self.unit} {total} #{self.rank or '—'} {self.grade}".rstrip()

    @property
    def entity_key(self) -> str:
        """The engine id of the entity (``U<unit pk>`` or ``O<official pk>``)."""
        return f"O{self.official_id}" if self.official_id is not None else f"U{self.unit_id}"

    @property
    def explanation(self) -> dict[str, Any]:
        """The entity's explanation (``selectors.entity_explanation``)."""
        from jixiao.results.selectors import entity_explanation

        return entity_explanation(self)


class RankingExport(models.Model):
    """The Excel workbook of one category's ranking, made in the background for one user (a
    province's largest category has 30,000 officials): what they asked for, and the file once
    made. Only its requester downloads it, and only while they may still read rankings."""

    run = models.ForeignKey(ScoringRun, verbose_name=_("批次"), on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(_("对象类型"), max_length=8, choices=ResultSubject.choices)
    category = models.CharField(_("类别"), max_length=64)
    sort = models.CharField(_("排序"), max_length=16, default="rank")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.CASCADE, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    job = models.ForeignKey(
        "jobs.Job",
        verbose_name=_("后台任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    file = models.FileField(_("文件"), upload_to="rankings/%Y/", max_length=200, blank=True)

    class Meta:
        verbose_name = _("排名导出")
        verbose_name_plural = _("排名导出")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.run} · {self.category} · {self.requested_at:%Y-%m-%d %H:%M}"


class ExplanationBlock(models.Model):
    """The rows of a run's frames (``RunDetail``) for a block of consecutive entities (by engine
    id), and their grade decisions: one entity's explanation reads one block (a few hundred KB)
    instead of the run's whole frames (tens of MB at province scale). Written after the run by
    ``explanation_blocks.blocks_store``; a run without blocks is explained from ``RunDetail``."""

    run = models.ForeignKey(
        ScoringRun, verbose_name=_("批次"), on_delete=models.CASCADE, related_name="explanation_blocks"
    )
    first = models.CharField(_("首个对象"), max_length=32)
    last = models.CharField(_("末个对象"), max_length=32)
    entities = models.BinaryField(_("对象结果（Parquet）"))
    components = models.BinaryField(_("构成得分（Parquet）"))
    indicators = models.BinaryField(_("指标得分（Parquet）"))
    raters = models.BinaryField(_("测评得分（Parquet）"))
    adjustments = models.BinaryField(_("加减分（Parquet）"))
    decisions: models.JSONField[dict[str, Any]] = models.JSONField(_("等次判定"), default=dict)

    class Meta:
        verbose_name = _("计分说明分块")
        verbose_name_plural = _("计分说明分块")
        constraints = [
            models.UniqueConstraint(fields=["run", "first"], name="explanation_block_unique_first")
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.first}–{self.last}"
