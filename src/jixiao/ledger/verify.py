"""``jixiao verify``: walk the chain, the checkpoints and every run, and say what no longer matches.

Every problem is one Chinese sentence naming the entry, run or row it broke.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from jixiao.ledger import kinds
from jixiao.ledger.hashing import GENESIS, Sm3Stream, entry_hash, merkle_root
from jixiao.ledger.models import HEAD_PK, AuditArchive, Checkpoint, LedgerEntry, LedgerHead, RunInput

CHUNK = 5_000


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    entries: int = 0
    runs: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def _entry_name(e: LedgerEntry) -> str:
    label = kinds.KINDS[e.kind].label if e.kind in kinds.KINDS else e.kind
    return _("账本条目 #%(seq)d（%(kind)s %(id)s）") % {"seq": e.seq, "kind": label, "id": e.object_id}


class _Archives:
    """The archived audit rows, read (and their file digests checked) on first need."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.ranges = list(AuditArchive.objects.order_by("first_id"))
        self.loaded: dict[int, dict[str, str] | None] = {}

    def content(self, audit_id: int) -> str | None:
        for archive in self.ranges:
            if archive.first_id <= audit_id <= archive.last_id:
                if archive.pk not in self.loaded:
                    self.loaded[archive.pk] = self._load(archive)
                rows = self.loaded[archive.pk]
                return None if rows is None else rows.get(str(audit_id))
        return None

    def _load(self, archive: AuditArchive) -> dict[str, str] | None:
        from jixiao.ledger.services import archive_rows

        try:
            with default_storage.open(archive.file, "rb") as handle:
                content = handle.read()
        except OSError:
            self.report.problems.append(_("审计归档 %(file)s 缺失") % {"file": archive.file})
            return None
        digest = Sm3Stream()
        digest.update(content)
        if digest.hexdigest() != archive.digest:
            self.report.problems.append(
                _("审计归档 %(file)s 的摘要不符，文件已被改动") % {"file": archive.file}
            )
            return None
        return {str(r["id"]): kinds.audit_content(r) for r in archive_rows(content)}


def _walk_chain(report: Report) -> None:
    archives = _Archives(report)
    prev, expected, last = GENESIS, 1, 0
    qs = LedgerEntry.objects.order_by("seq")
    while True:
        chunk = list(qs.filter(seq__gt=last)[:CHUNK])
        if not chunk:
            break
        by_kind: dict[str, list[str]] = defaultdict(list)
        for e in chunk:
            by_kind[e.kind].append(e.object_id)
        contents: dict[tuple[str, str], str] = {}
        for kind, ids in by_kind.items():
            if kind in kinds.KINDS:
                contents.update({(kind, i): d for i, d in kinds.KINDS[kind].content(ids).items()})
        for e in chunk:
            name = _entry_name(e)
            if e.seq != expected:
                report.problems.append(_("%(e)s：序号不连续，应为 #%(n)d") % {"e": name, "n": expected})
            if e.prev_hash != prev:
                report.problems.append(_("%(e)s：前一哈希与上一条目不符，链条已断") % {"e": name})
            if entry_hash(e.prev_hash, e.kind, e.object_id, e.content_digest) != e.hash:
                report.problems.append(_("%(e)s：条目哈希不符，条目已被改动") % {"e": name})
            current = contents.get((e.kind, e.object_id))
            if current is None and e.kind == kinds.AUDIT:
                current = archives.content(int(e.object_id))
            if current is None:
                report.problems.append(_("%(e)s：所记对象已不存在") % {"e": name})
            elif current != e.content_digest:
                report.problems.append(_("%(e)s：对象内容与入链时不符，已被改动") % {"e": name})
            prev, expected, last = e.hash, e.seq + 1, e.seq
        report.entries += len(chunk)
    head = LedgerHead.objects.filter(pk=HEAD_PK).first()
    if head is not None and (head.seq, head.hash) != (last, prev):
        report.problems.append(
            _("链头（#%(seq)d）与最后一个条目（#%(last)d）不符") % {"seq": head.seq, "last": last}
        )


def _check_checkpoints(report: Report) -> None:
    next_first = 1
    for cp in Checkpoint.objects.order_by("number"):
        if cp.first_seq != next_first:
            report.problems.append(_("检查点 %(n)d：范围不连续") % {"n": cp.number})
        hashes = list(
            LedgerEntry.objects.filter(seq__gte=cp.first_seq, seq__lte=cp.last_seq)
            .order_by("seq")
            .values_list("hash", flat=True)
        )
        if len(hashes) != cp.last_seq - cp.first_seq + 1 or merkle_root(hashes) != cp.root:
            report.problems.append(
                _("检查点 %(n)d（#%(a)d–#%(b)d）：默克尔根不符，其中条目已被改写")
                % {"n": cp.number, "a": cp.first_seq, "b": cp.last_seq}
            )
        next_first = cp.last_seq + 1


def _check_unchained(report: Report) -> None:
    from jixiao.accounts.models import AuditLog
    from jixiao.results.models import ScoringRun

    for model, kind, label in (
        (AuditLog, kinds.AUDIT, _("审计日志")),
        (ScoringRun, kinds.RUN, _("计分批次")),
    ):
        chained = LedgerEntry.objects.filter(kind=kind, object_id=Cast(OuterRef("pk"), CharField()))
        for pk in model.objects.filter(~Exists(chained)).values_list("pk", flat=True)[:50]:
            report.problems.append(_("%(what)s %(id)s 未入链（绕过应用写入）") % {"what": label, "id": pk})


def _check_runs(report: Report) -> None:
    from jixiao.ledger.services import input_digest_of, input_unpack
    from jixiao.results import engine_io
    from jixiao.results.models import EntityResult, ScoringRun
    from jixiao.results.services import entity_rows
    from jixiao.scoring.digests import input_digest, results_digest
    from jixiao.scoring.engine import compute

    for run in ScoringRun.objects.select_related("cycle").order_by("id"):
        name = _("计分批次 %(run)s（编号 %(id)d）") % {"run": run, "id": run.pk}
        stored = RunInput.objects.filter(run=run).first()
        if stored is None:
            continue  # a run from before inputs were kept: its rows are still covered by the chain
        report.runs += 1
        if input_digest_of(stored.cycle, stored.scheme, bytes(stored.tables)) != stored.digest:
            report.problems.append(_("%(run)s：保存的输入已被改动") % {"run": name})
            continue
        units, officials, facts, declared = input_unpack(bytes(stored.tables))
        inp = engine_io.cycle_input(stored.scheme, units, officials, facts, declared)
        if input_digest(inp, stored.scheme, stored.cycle) != run.input_digest:
            report.problems.append(_("%(run)s：保存的输入与批次的输入摘要不符") % {"run": name})
        results = compute(inp)
        if results_digest(results) != run.output_digest:
            report.problems.append(_("%(run)s：重算结果与批次的结果摘要不符") % {"run": name})
        fields = ("id", "subject", "unit_id", "official_id", "category", "total", "components", "rank",
                  "grade", "flags")  # fmt: skip
        stored_rows = (
            EntityResult.objects.filter(run=run).order_by("id").values_list(*fields).iterator(20_000)
        )
        expected = (row for rows in entity_rows(results) for row in rows)
        bad = 0
        for got, want in zip(stored_rows, expected, strict=False):
            if tuple(got[1:]) != want:
                bad += 1
                if bad <= 5:
                    report.problems.append(
                        _("%(run)s：结果行 %(row)d 与重算不符（保存 %(got)s，应为 %(want)s）")
                        % {"run": name, "row": got[0], "got": got[5], "want": want[4]}
                    )
        count = EntityResult.objects.filter(run=run).count()
        if count != results.entities.height:
            report.problems.append(_("%(run)s：结果行数 %(n)d 与重算的 %(m)d 不符")
                                   % {"run": name, "n": count, "m": results.entities.height})  # fmt: skip
        elif bad > 5:
            report.problems.append(_("%(run)s：另有 %(n)d 行不符") % {"run": name, "n": bad - 5})


def ledger_verify(*, recompute: bool = True) -> Report:
    """Return what no longer matches in the chain, the checkpoints and (``recompute``) the runs."""
    started = time.perf_counter()
    report = Report()
    _walk_chain(report)
    _check_checkpoints(report)
    _check_unchained(report)
    if recompute:
        _check_runs(report)
    report.seconds = time.perf_counter() - started
    return report
