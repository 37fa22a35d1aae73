"""The tamper-evident ledger (防篡改账本): an append-only SM3 hash chain over the audit log and the
score ledger, Merkle checkpoints over it, the stored inputs of scoring runs and the audit archives.

Every :class:`LedgerEntry` names an object (``kind`` + ``object_id``) and carries the SM3 digest of
that object's content (``jixiao.ledger.kinds``); its ``hash`` is SM3(previous hash || canonical
[kind, object id, content digest]). Changing any byte of an object changes its recomputed content
digest; changing an entry breaks the chain; rewriting the chain changes the published checkpoint
roots.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jixiao.ledger.guards import AppendOnlyManager, AppendOnlyModel
from jixiao.results.models import ScoringRun

HEAD_PK = 1


class LedgerHead(models.Model):
    """The chain's one head row: appends lock it (``SELECT … FOR UPDATE``) so the chain never forks."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("账本链头")
        verbose_name_plural = _("账本链头")

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class LedgerEntry(AppendOnlyModel):
    seq = models.BigIntegerField(_("序号"), unique=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    kind = models.CharField(_("类型"), max_length=32)
    object_id = models.CharField(_("对象编号"), max_length=64)
    content_digest = models.CharField(_("内容摘要 SM3"), max_length=64)
    prev_hash = models.CharField(_("前一哈希"), max_length=64)
    hash = models.CharField(_("哈希 SM3"), max_length=64)

    objects = AppendOnlyManager()

    class Meta:
        verbose_name = _("账本条目")
        verbose_name_plural = _("账本条目")
        ordering = ["seq"]
        indexes = [models.Index(fields=["kind", "object_id"], name="ledger_entry_object")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.object_id}"


class Checkpoint(AppendOnlyModel):
    """A Merkle root (RFC 6962, SM3) over the entries ``first_seq``…``last_seq``, for publication."""

    number = models.PositiveIntegerField(_("检查点"), unique=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    first_seq = models.BigIntegerField(_("起始序号"))
    last_seq = models.BigIntegerField(_("结束序号"))
    root = models.CharField(_("默克尔根 SM3"), max_length=64)
    head_hash = models.CharField(_("链头哈希"), max_length=64)

    objects = AppendOnlyManager()

    class Meta:
        verbose_name = _("检查点")
        verbose_name_plural = _("检查点")
        ordering = ["number"]
        constraints = [models.CheckConstraint(condition=models.Q(last_seq__gte=models.F("first_seq")),
                                              name="checkpoint_range")]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.number}: {self.first_seq}–{self.last_seq} {self.root[:12]}"


class RunInput(AppendOnlyModel):
    """Exactly the input a scoring run scored: the bundle's scheme and cycle, and its tables as
    Parquet (zstd). ``jixiao export-bundle --run N`` rebuilds the bundle from it, bit for bit."""

    # Runs stored before bundle version 2 hold only the first seven tables (and no unit zones).
    TABLES = ("units", "officials", "indicator_results", "ratings", "votes", "adjustments", "previous",
              "routine", "declared")  # fmt: skip
    FACT_TABLES = ("indicator_results", "ratings", "votes", "adjustments", "previous", "routine")

    run = models.OneToOneField(
        ScoringRun,
        verbose_name=_("批次"),
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="stored_input",
    )
    cycle: models.JSONField[dict[str, Any]] = models.JSONField(_("周期"), default=dict)
    scheme: models.JSONField[dict[str, Any]] = models.JSONField(_("考核方案"), default=dict)
    tables = models.BinaryField(_("输入数据表（Parquet）"))
    digest = models.CharField(_("存储摘要 SM3"), max_length=64)

    objects = AppendOnlyManager()

    class Meta:
        verbose_name = _("计分输入")
        verbose_name_plural = _("计分输入")

    def __str__(self) -> str:
        return str(self.run_id)


class AuditArchive(AppendOnlyModel):
    """Audit entries older than the retention, exported to a compressed file before removal."""

    at = models.DateTimeField(_("时间"), default=timezone.now)
    first_id = models.BigIntegerField(_("起始日志编号"))
    last_id = models.BigIntegerField(_("结束日志编号"))
    count = models.PositiveIntegerField(_("条数"))
    before = models.DateTimeField(_("早于"))
    file = models.CharField(_("归档文件"), max_length=200)
    digest = models.CharField(_("文件摘要 SM3"), max_length=64)

    objects = AppendOnlyManager()

    class Meta:
        verbose_name = _("审计归档")
        verbose_name_plural = _("审计归档")
        ordering = ["first_id"]

    def __str__(self) -> str:
        return f"{self.first_id}–{self.last_id}"


class Verification(models.Model):
    """One run of ``jixiao verify``: when, whether everything matched, and what did not."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    ok = models.BooleanField(_("通过"))
    entries = models.PositiveIntegerField(_("条目数"), default=0)
    runs = models.PositiveIntegerField(_("重算批次数"), default=0)
    seconds = models.FloatField(_("耗时（秒）"), default=0)
    problems: models.JSONField[list[str]] = models.JSONField(_("问题"), default=list)

    class Meta:
        verbose_name = _("校验记录")
        verbose_name_plural = _("校验记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAIL'}"
