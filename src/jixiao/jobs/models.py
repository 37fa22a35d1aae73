"""Background jobs (后台任务): one row per run of something that must not run inside a request.

The row is what people see (status, progress, the stage in words, the outcome and a link to it);
django-tasks only carries the job's id to the worker. At most one job of a kind is queued or
running per scope (a scoring run per cycle, a periodic job once): the database refuses a second,
so two runs of one cycle can never execute at once, whichever process starts them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jixiao.hygiene import MESSAGE_MAX_LENGTH


class JobKind(models.TextChoices):
    COMPUTE = "compute", _("计分")
    FLUSH_BALLOTS = "flush_ballots", _("测评票分批入库")
    SEND_OUTBOX = "send_outbox", _("发送随时评链接")
    SAMPLE_MONITOR = "sample_monitor", _("评价样本监测")
    PRUNE = "prune", _("清理过期任务记录")
    VERIFY_LEDGER = "verify_ledger", _("账本校验")
    TRACKING_LIGHTS = "tracking_lights", _("重算红黄绿灯")
    MONTHLY_RANKING = "monthly_ranking", _("月度排名计算")
    RACE_RANKING = "race_ranking", _("季度赛马排名")
    BULLETIN = "bulletin", _("季度通报生成")
    TRACKING_REMINDERS = "tracking_reminders", _("过程跟踪提醒")
    PUBLICATION_PDF = "publication_pdf", _("目标公布清单 PDF 生成")
    SUPERVISION_REMINDERS = "supervision_reminders", _("督查督办提醒")
    SUPERVISION_BULLETIN = "supervision_bulletin", _("督查通报生成")
    RANKING_XLSX = "ranking_xlsx", _("排名 Excel 导出")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    kind = models.CharField(_("类型"), max_length=32, choices=JobKind.choices)
    cycle = models.ForeignKey(
        "schemes.Cycle",
        verbose_name=_("考核周期"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="jobs",
    )
    # The lock key: two active jobs of one kind never share it ("cycle:7", or "" for global jobs).
    scope = models.CharField(_("范围"), max_length=64, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    stage = models.CharField(_("阶段"), max_length=100, blank=True)
    message = models.TextField(_("结果说明"), blank=True, max_length=MESSAGE_MAX_LENGTH)
    link = models.CharField(_("结果链接"), max_length=300, blank=True)
    params: models.JSONField[dict[str, Any]] = models.JSONField(_("参数"), default=dict, blank=True)
    task_id = models.CharField(_("队列编号"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("最近更新"), auto_now=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "scope"],
                condition=Q(status__in=["queued", "running"]),
                name="jobs_one_active_per_kind_scope",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="jobs_progress_0_100"),
        ]
        indexes = [models.Index(fields=["kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
