"""周纪实 WorkLog: an official's weekly record of work, attached to declared indicators."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from jixiao.declarations.models import DeclaredIndicator
from jixiao.hygiene import NOTE_MAX_LENGTH, text_validators
from jixiao.organisation.models import Official
from jixiao.schemes.models import Cycle
from jixiao.tracking.models.evidence import Evidence


class WorkLog(models.Model):
    """What an official did in one week (``week`` is its Monday); seen by the official, the
    official's superior and the office, nobody else."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("周期"), on_delete=models.CASCADE, related_name="+")
    official = models.ForeignKey(Official, verbose_name=_("干部"), on_delete=models.CASCADE, related_name="+")
    week = models.DateField(_("周（周一）"))
    text = models.TextField(
        _("工作纪实"), max_length=NOTE_MAX_LENGTH, validators=text_validators(NOTE_MAX_LENGTH)
    )
    indicators = models.ManyToManyField(
        DeclaredIndicator, verbose_name=_("相关指标"), blank=True, related_name="work_logs"
    )
    evidence = models.ManyToManyField(
        Evidence, verbose_name=_("照片与材料"), blank=True, related_name="work_logs"
    )
    created_at = models.DateTimeField(_("填写时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("周纪实")
        verbose_name_plural = _("周纪实")
        ordering = ["-week", "official"]
        constraints = [models.UniqueConstraint(fields=["official", "week"], name="work_log_one_per_week")]

    def __str__(self) -> str:
        return f"{self.official} · {self.week}"
