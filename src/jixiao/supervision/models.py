"""督查督办 (M6): the supervising office's task list, each task's sign-off, progress reports with
evidence, extension requests and the final rating whose deduction becomes a fact.

A task is assigned to one lead unit (牵头单位) and any co-units (配合单位) with a deadline; a
rating level (按时办结 / 逾期办结 / 未办结 …, per cycle, editable) carries the points deducted
from the lead unit, written as an :class:`~jixiao.facts.models.Adjustment` whose source names the
task, so every deducted point has a task, a rating and the reports behind it."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from jixiao.facts.models import Adjustment
from jixiao.hygiene import NOTE_MAX_LENGTH, text_validators
from jixiao.organisation.models import Unit
from jixiao.schemes.models import Cycle
from jixiao.tracking.models import Evidence
from jixiao.tracking.models.race import IssuedFile

TITLE_MAX_LENGTH = 200


class TaskSource(models.TextChoices):
    MEETING = "meeting", _("会议议定")
    INSTRUCTION = "instruction", _("领导批示")
    DOCUMENT = "document", _("上级文件")
    OTHER = "other", _("其他")


class Priority(models.TextChoices):
    URGENT = "urgent", _("特急")
    HIGH = "high", _("重要")
    NORMAL = "normal", _("一般")


class TaskStatus(models.TextChoices):
    ASSIGNED = "assigned", _("已交办")
    SIGNED = "signed", _("办理中")
    SUBMITTED = "submitted", _("已报结待审核")
    RATED = "rated", _("已评定")


# Statuses of a task still being handled (its light runs on the deadline).
OPEN_STATUSES = (TaskStatus.ASSIGNED, TaskStatus.SIGNED)


class RatingLevel(models.Model):
    """One outcome the supervising office may give a task in a cycle, and the points it deducts
    from the lead unit (0: none)."""

    cycle = models.ForeignKey(
        Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="supervision_levels"
    )
    label = models.CharField(_("评定结果"), max_length=32)
    deduction = models.DecimalField(
        _("扣分"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text=_("评定为此结果时从牵头单位年度总分中扣除的分数"),
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("督查评定结果")
        verbose_name_plural = _("督查评定结果")
        ordering = ["cycle", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["cycle", "label"], name="supervision_level_unique")]

    def __str__(self) -> str:
        return self.label


class SupervisionTask(models.Model):
    """A task on the supervision list (督查事项), assigned to a lead unit with a deadline."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    serial = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("编号"), max_length=32)
    title = models.CharField(_("督查事项"), max_length=TITLE_MAX_LENGTH)
    content = models.TextField(
        _("工作要求"), max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH), blank=True
    )
    source = models.CharField(_("来源"), max_length=16, choices=TaskSource.choices)
    source_detail = models.CharField(_("来源说明"), max_length=TITLE_MAX_LENGTH, blank=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("交办领导"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lead_unit = models.ForeignKey(
        Unit, verbose_name=_("牵头单位"), on_delete=models.PROTECT, related_name="supervision_tasks"
    )
    co_units = models.ManyToManyField(Unit, verbose_name=_("配合单位"), blank=True, related_name="+")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级交办事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handed_down",
    )
    priority = models.CharField(
        _("紧急程度"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    assigned_on = models.DateField(_("交办日期"))
    deadline = models.DateField(_("办结时限"))
    status = models.CharField(
        _("状态"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.ASSIGNED
    )
    progress = models.PositiveSmallIntegerField(
        _("进度（%）"), default=0, validators=[MaxValueValidator(100)]
    )
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签收人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    finished_on = models.DateField(_("报结日期"), null=True, blank=True)
    rating = models.ForeignKey(
        RatingLevel,
        verbose_name=_("评定结果"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rating_comment = models.TextField(
        _("评定意见"), max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH), blank=True
    )
    rated_at = models.DateTimeField(_("评定时间"), null=True, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评定人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    adjustment = models.OneToOneField(
        Adjustment,
        verbose_name=_("扣分记录"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervision_task",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("交办人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("督查事项")
        verbose_name_plural = _("督查事项")
        ordering = ["deadline", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "serial"], name="supervision_task_serial"),
            models.UniqueConstraint(fields=["cycle", "number"], name="supervision_task_number"),
        ]
        indexes = [
            # The office's list (a cycle's tasks by deadline, filtered by status) and a unit's page.
            models.Index(fields=["cycle", "status", "deadline"], name="supervision_cycle_status"),
            models.Index(fields=["lead_unit", "cycle", "deadline"], name="supervision_unit_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class TaskReport(models.Model):
    """A progress report on a task by its lead or a co-unit, with evidence; ``final`` asks the
    office to rate the task (报结)."""

    task = models.ForeignKey(
        SupervisionTask, verbose_name=_("督查事项"), on_delete=models.CASCADE, related_name="reports"
    )
    unit = models.ForeignKey(Unit, verbose_name=_("报送单位"), on_delete=models.PROTECT, related_name="+")
    text = models.TextField(
        _("进展情况"), max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH)
    )
    progress = models.PositiveSmallIntegerField(_("进度（%）"), validators=[MaxValueValidator(100)])
    final = models.BooleanField(_("申请办结"), default=False)
    evidence = models.ManyToManyField(Evidence, verbose_name=_("佐证材料"), blank=True, related_name="+")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reported_at = models.DateTimeField(_("报送时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("督查进展")
        verbose_name_plural = _("督查进展")
        ordering = ["-reported_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.task} · {self.progress}%"


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已同意")
    REJECTED = "rejected", _("未同意")


class ExtensionRequest(models.Model):
    """The lead unit asks for a later deadline, with a reason; the office decides."""

    task = models.ForeignKey(
        SupervisionTask, verbose_name=_("督查事项"), on_delete=models.CASCADE, related_name="extensions"
    )
    reason = models.TextField(
        _("延期理由"), max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH)
    )
    old_deadline = models.DateField(_("原办结时限"))
    new_deadline = models.DateField(_("申请延至"))
    status = models.CharField(
        _("审批状态"), max_length=8, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    comment = models.TextField(
        _("审批意见"), max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH), blank=True
    )

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # One open request per task: a second waits for the first's decision.
            models.UniqueConstraint(
                fields=["task"],
                condition=models.Q(status="pending"),
                name="supervision_one_pending_extension",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} → {self.new_deadline:%Y-%m-%d}"


class SupervisionBulletin(IssuedFile):
    """督查通报: a cycle's monthly supervision bulletin. The figures come from the tasks when the
    PDF is made; the office writes the good practice and the problems before issuing it."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    highlights = models.TextField(
        _("工作亮点"), max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH), blank=True
    )
    concerns = models.TextField(
        _("存在问题及下步要求"),
        max_length=NOTE_MAX_LENGTH,
        validators=text_validators(NOTE_MAX_LENGTH),
        blank=True,
    )

    class Meta:
        verbose_name = _("督查通报")
        verbose_name_plural = _("督查通报")
        ordering = ["-month", "-pk"]
        constraints = [models.UniqueConstraint(fields=["cycle", "month"], name="supervision_bulletin_month")]

    def __str__(self) -> str:
        return f"{self.cycle} · {self.month:%Y-%m}"
