"""Declared targets and their review (M3, M4): "一个单位一张蓝图".

The office's indicator tree of a category is the *framework* (levels 1–2 with weights). Each unit
keeps one 目标申报 :class:`Declaration` per cycle holding its own 申报指标 :class:`DeclaredIndicator`
rows (levels 3–4) under framework nodes, with 节点 :class:`Milestone` rows for the schedule. A
submission freezes a :class:`DeclarationVersion` (every version is kept); the cycle's configurable
审核环节 :class:`ReviewStage` rows decide it in order (:class:`ReviewDecision`, with per-indicator
:class:`IndicatorComment`); a stage may send it back (退回修改). Approved targets are published and
become the basis of scoring; after publication a change goes through a :class:`ChangeRequest`.
A 动态指标 :class:`DynamicTask` assigned mid-year becomes a declared indicator of each responsible
unit from its effective date.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jixiao.hygiene import DESCRIPTION_MAX_LENGTH, NOTE_MAX_LENGTH, OPINION_MAX_LENGTH, text_validators
from jixiao.organisation.models import Unit
from jixiao.schemes.models import Cycle, IndicatorKind, IndicatorNode, LibraryEntry

_weight_validators = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]
_percent_validators = _weight_validators


class DeclarationStatus(models.TextChoices):
    DRAFT = "draft", _("填报中")
    SUBMITTED = "submitted", _("审核中")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("审核通过")
    PUBLISHED = "published", _("已公布")
    CHANGING = "changing", _("变更中")


class Declaration(models.Model):
    """One unit's targets for one cycle (its current working copy, status and review stage)."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="declarations"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=DeclarationStatus.choices, default=DeclarationStatus.DRAFT
    )
    stage = models.ForeignKey(
        "ReviewStage",
        verbose_name=_("当前审核环节"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("版本"), default=0)  # the last submitted version's number
    published_version = models.PositiveIntegerField(_("公布版本"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("通过时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("目标申报")
        verbose_name_plural = _("目标申报")
        ordering = ["unit__category__order", "unit__code"]
        constraints = [models.UniqueConstraint(fields=["cycle", "unit"], name="declaration_one_per_unit")]
        indexes = [models.Index(fields=["cycle", "status"])]

    def __str__(self) -> str:
        return f"{self.unit} · {self.cycle}"


class DeclaredIndicator(models.Model):
    """A unit's own level-3/4 target (申报指标) under a framework node of its category's tree.

    ``uid`` stays the same across versions and change requests, so that a reviewer's diff and
    next year's ambition check can match the target; ``weight`` is a share within ``parent``
    among the unit's declared children of that node."""

    declaration = models.ForeignKey(
        Declaration, verbose_name=_("目标申报"), on_delete=models.CASCADE, related_name="indicators"
    )
    uid = models.UUIDField(_("标识"), default=uuid.uuid4, editable=False)
    parent = models.ForeignKey(
        IndicatorNode, verbose_name=_("上级指标"), on_delete=models.PROTECT, related_name="declared"
    )
    under = models.ForeignKey(
        "self",
        verbose_name=_("上级申报指标"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
        help_text=_("四级指标挂在本单位的三级指标下"),
    )
    name = models.CharField(_("指标名称"), max_length=200)
    measure = models.CharField(_("计量单位"), max_length=20, blank=True)
    target = models.DecimalField(_("目标值"), max_digits=18, decimal_places=4, null=True, blank=True)
    target_text = models.TextField(
        _("目标说明"), blank=True, max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH)
    )
    rule_type = models.CharField(_("计分规则"), max_length=32)
    rule_params: models.JSONField[dict[str, Any]] = models.JSONField(_("规则参数"), default=dict, blank=True)
    weight = models.DecimalField(_("权重"), max_digits=6, decimal_places=2, validators=_weight_validators)
    lead_department = models.ForeignKey(
        Unit, verbose_name=_("牵头部门"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evidence_required = models.TextField(
        _("佐证材料要求"), blank=True, max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH)
    )
    kind = models.CharField(
        _("类型"), max_length=8, choices=IndicatorKind.choices, default=IndicatorKind.BASE
    )
    is_long_term = models.BooleanField(_("潜绩指标"), default=False)
    is_core = models.BooleanField(_("核心指标"), default=True)
    library_entry = models.ForeignKey(
        LibraryEntry, verbose_name=_("指标库来源"), null=True, blank=True, on_delete=models.SET_NULL
    )
    last_year_actual = models.DecimalField(
        _("上年实际"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    last_year_target = models.DecimalField(
        _("上年目标"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    higher_target = models.DecimalField(
        _("上级下达目标"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    low_ambition = models.BooleanField(_("目标偏低"), default=False)  # set by the ambition check
    ambition_reason = models.CharField(_("目标偏低仍予通过的理由"), max_length=OPINION_MAX_LENGTH, blank=True)
    effective_from = models.DateField(_("起算日期"), null=True, blank=True)  # dynamic indicators
    task = models.ForeignKey(
        "DynamicTask",
        verbose_name=_("动态任务"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("申报指标")
        verbose_name_plural = _("申报指标")
        ordering = ["declaration", "parent__order", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["declaration", "uid"], name="declared_uid_unique")]
        indexes = [models.Index(fields=["lead_department", "declaration"])]

    def __str__(self) -> str:
        return self.name


class Milestone(models.Model):
    """A schedule point of a declared indicator (节点目标): by ``due``, ``expected_percent`` done."""

    indicator = models.ForeignKey(
        DeclaredIndicator, verbose_name=_("申报指标"), on_delete=models.CASCADE, related_name="milestones"
    )
    due = models.DateField(_("节点日期"))
    expected_percent = models.DecimalField(
        _("应完成进度（%）"), max_digits=5, decimal_places=2, validators=_percent_validators
    )
    note = models.CharField(_("节点任务"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("节点目标")
        verbose_name_plural = _("节点目标")
        ordering = ["indicator", "due"]
        constraints = [models.UniqueConstraint(fields=["indicator", "due"], name="milestone_one_per_date")]

    def __str__(self) -> str:
        return f"{self.indicator} · {self.due}"


class DeclarationVersion(models.Model):
    """A frozen submission: the indicators and milestones as JSON, never changed afterwards."""

    declaration = models.ForeignKey(
        Declaration, verbose_name=_("目标申报"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    snapshot: models.JSONField[list[dict[str, Any]]] = models.JSONField(_("内容"), default=list)
    note = models.CharField(_("提交说明"), max_length=OPINION_MAX_LENGTH, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("申报版本")
        verbose_name_plural = _("申报版本")
        ordering = ["declaration", "number"]
        constraints = [
            models.UniqueConstraint(fields=["declaration", "number"], name="declaration_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.declaration} · v{self.number}"


class ReviewerRole(models.TextChoices):
    """Who acts at a review stage (the account role that may decide it)."""

    LEAD_DEPT = "lead_dept", _("业务主管部门")
    OFFICE = "office", _("考核办")
    LEADER = "leader", _("分管领导")


class ReviewStage(models.Model):
    """One review stage of a cycle (四级联审: 业务部门 → 考核办 → 分管领导 → 领导小组 …), in order."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    order = models.PositiveIntegerField(_("顺序"))
    name = models.CharField(_("环节名称"), max_length=50)
    role = models.CharField(_("审核人"), max_length=10, choices=ReviewerRole.choices)

    class Meta:
        verbose_name = _("审核环节")
        verbose_name_plural = _("审核环节")
        ordering = ["cycle", "order"]
        constraints = [models.UniqueConstraint(fields=["cycle", "order"], name="review_stage_unique_order")]

    def __str__(self) -> str:
        return self.name


class ReviewOutcome(models.TextChoices):
    APPROVE = "approve", _("通过")
    RETURN = "return", _("退回修改")


class ReviewDecision(models.Model):
    """A stage's decision on one submitted version."""

    version = models.ForeignKey(
        DeclarationVersion, verbose_name=_("申报版本"), on_delete=models.CASCADE, related_name="decisions"
    )
    stage = models.ForeignKey(
        ReviewStage, verbose_name=_("审核环节"), on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("结论"), max_length=8, choices=ReviewOutcome.choices)
    comment = models.TextField(
        _("审核意见"), blank=True, max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH)
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # At a 业务主管部门 stage every lead department of the declaration decides for its own
    # targets (the stage passes when all have approved): the department a decision speaks for.
    department = models.ForeignKey(
        Unit,
        verbose_name=_("业务主管部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("审核意见")
        verbose_name_plural = _("审核意见")
        ordering = ["version", "stage__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "stage"],
                condition=Q(department__isnull=True),
                name="review_once_per_stage",
            ),
            models.UniqueConstraint(
                fields=["version", "stage", "department"],
                condition=Q(department__isnull=False),
                name="review_once_per_stage_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} · {self.stage}"


class IndicatorComment(models.Model):
    """A reviewer's comment on one indicator of a version (matched by the indicator's ``uid``)."""

    decision = models.ForeignKey(
        ReviewDecision, verbose_name=_("审核意见"), on_delete=models.CASCADE, related_name="comments"
    )
    indicator_uid = models.UUIDField(_("指标标识"))
    text = models.CharField(_("意见"), max_length=OPINION_MAX_LENGTH)
    # The reason a flagged (避高就低) target passes this stage, kept apart from plain comments.
    is_ambition_reason = models.BooleanField(_("目标偏低通过理由"), default=False)

    class Meta:
        verbose_name = _("指标审核意见")
        verbose_name_plural = _("指标审核意见")
        ordering = ["decision", "id"]

    def __str__(self) -> str:
        return self.text


class ChangeRequestStatus(models.TextChoices):
    OPEN = "open", _("变更中")
    APPROVED = "approved", _("变更通过")
    WITHDRAWN = "withdrawn", _("已撤回")


class ChangeRequest(models.Model):
    """A request to change published targets; the changed declaration passes the same review."""

    declaration = models.ForeignKey(
        Declaration, verbose_name=_("目标申报"), on_delete=models.CASCADE, related_name="change_requests"
    )
    reason = models.TextField(
        _("变更理由"), max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH)
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ChangeRequestStatus.choices, default=ChangeRequestStatus.OPEN
    )
    from_version = models.PositiveIntegerField(_("原公布版本"))
    to_version = models.PositiveIntegerField(_("新公布版本"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    closed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("目标变更申请")
        verbose_name_plural = _("目标变更申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["declaration"], condition=Q(status="open"), name="change_request_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.declaration} · {self.get_status_display()}"


class DynamicTask(models.Model):
    """A task assigned mid-year (省州后续安排部署的重点工作) that becomes a declared indicator of each
    responsible unit from ``effective_from``, under a framework node of the dynamic component."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("任务名称"), max_length=200)
    description = models.TextField(
        _("任务说明"),
        blank=True,
        max_length=DESCRIPTION_MAX_LENGTH,
        validators=text_validators(DESCRIPTION_MAX_LENGTH),
    )
    source = models.CharField(_("任务来源"), max_length=200, blank=True)
    parent = models.ForeignKey(
        IndicatorNode, verbose_name=_("所属框架指标"), on_delete=models.PROTECT, related_name="+"
    )
    weight = models.DecimalField(_("权重"), max_digits=6, decimal_places=2, validators=_weight_validators)
    rule_type = models.CharField(_("计分规则"), max_length=32)
    rule_params: models.JSONField[dict[str, Any]] = models.JSONField(_("规则参数"), default=dict, blank=True)
    target = models.DecimalField(_("目标值"), max_digits=18, decimal_places=4, null=True, blank=True)
    measure = models.CharField(_("计量单位"), max_length=20, blank=True)
    effective_from = models.DateField(_("起算日期"))
    due = models.DateField(_("完成时限"), null=True, blank=True)
    units = models.ManyToManyField(Unit, verbose_name=_("责任单位"), related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("交办人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("交办时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("动态任务")
        verbose_name_plural = _("动态任务")
        ordering = ["-effective_from", "id"]

    def __str__(self) -> str:
        return self.name


class PublicationExport(models.Model):
    """A 目标公布 PDF made in the background for one user (a long list takes the worker tens of
    seconds): what they asked for, and the file once made. Only its requester downloads it (the
    list was scoped to what they may read)."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        "organisation.UnitCategory",
        verbose_name=_("类别"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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
    unit_count = models.PositiveIntegerField(_("单位数"), default=0)
    file = models.FileField(_("文件"), upload_to="publication/%Y/", max_length=200, blank=True)

    class Meta:
        verbose_name = _("目标公布清单导出")
        verbose_name_plural = _("目标公布清单导出")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.cycle} · {self.requested_at:%Y-%m-%d %H:%M}"
