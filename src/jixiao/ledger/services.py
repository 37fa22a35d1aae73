"""Writing the ledger: appending entries under the head lock, checkpoints, stored run inputs and
audit archives."""

from __future__ import annotations

import io
import lzma
import struct
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from jixiao.bound_insert import insert_bound
from jixiao.ledger import kinds
from jixiao.ledger.hashing import GENESIS, Sm3Stream, canonical, entry_hash, merkle_root, sm3
from jixiao.ledger.models import (
    HEAD_PK,
    AuditArchive,
    Checkpoint,
    LedgerEntry,
    LedgerHead,
    RunInput,
    Verification,
)
from jixiao.ledger.verify import Report
from jixiao.results.models import ScoringRun
from jixiao.scoring.types import DECLARED_COLUMNS, Facts, Officials, Units

PACK_THREADS = 3  # the ratings, indicator results and declared leaves are the big tables
MIN_RETENTION_DAYS = 180  # 《网络安全法》第二十一条: network logs are kept at least six months


def _locked_head() -> LedgerHead:
    """Return the head row locked for this transaction (created when a flush emptied the table)."""
    head = LedgerHead.objects.select_for_update().filter(pk=HEAD_PK).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            LedgerHead.objects.create(pk=HEAD_PK, seq=0, hash=GENESIS)
    except IntegrityError:
        pass  # another transaction created it first
    return LedgerHead.objects.select_for_update().get(pk=HEAD_PK)


def ledger_append(*, kind: str, object_ids: Sequence[str | int]) -> list[LedgerEntry]:
    """Append one entry per object (in order) and return them; the objects must exist.

    The head row lock serialises appends: two transactions never chain onto the same hash.
    """
    ids = [str(i) for i in object_ids]
    if not ids:
        return []
    contents = kinds.KINDS[kind].content(ids)
    with transaction.atomic():
        head = _locked_head()
        entries = []
        for object_id in ids:
            digest = contents[object_id]
            h = entry_hash(head.hash, kind, object_id, digest)
            entries.append(LedgerEntry(seq=head.seq + 1, kind=kind, object_id=object_id,
                                       content_digest=digest, prev_hash=head.hash, hash=h))  # fmt: skip
            head.seq, head.hash = head.seq + 1, h
        LedgerEntry.objects.bulk_create(entries)
        head.save(update_fields=["seq", "hash"])
    return entries


def checkpoint_create() -> Checkpoint | None:
    """Close a checkpoint over the entries since the last one; ``None`` when there are none."""
    with transaction.atomic():
        head = _locked_head()
        last = Checkpoint.objects.order_by("-number").first()
        first_seq = (last.last_seq + 1) if last is not None else 1
        if head.seq < first_seq:
            return None
        hashes = list(
            LedgerEntry.objects.filter(seq__gte=first_seq, seq__lte=head.seq)
            .order_by("seq")
            .values_list("hash", flat=True)
        )
        checkpoint = Checkpoint(number=(last.number + 1) if last else 1, first_seq=first_seq, last_seq=head.seq,
                                root=merkle_root(hashes), head_hash=head.hash)  # fmt: skip
        checkpoint.save(force_insert=True)
    return checkpoint


# -- stored run inputs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PackedInput:
    cycle: dict[str, Any]
    scheme: dict[str, Any]
    tables: bytes
    digest: str


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    # An Enum column (the adapter's keys) is written as a dictionary per row group: one row group
    # writes its 108,000 entity ids once (10 M ratings: 0.03 s instead of 0.5 s of CPU).
    one_group = any(isinstance(dtype, pl.Enum) for dtype in frame.schema.values())
    frame.write_parquet(buffer, compression="zstd", statistics=False,
                        row_group_size=max(frame.height, 1) if one_group else None)  # fmt: skip
    return buffer.getvalue()


def input_digest_of(cycle: dict[str, Any], scheme: dict[str, Any], tables: bytes) -> str:
    return sm3(canonical([cycle, scheme]), tables).hex()


def input_pack(
    *,
    cycle: dict[str, Any],
    scheme: dict[str, Any],
    units: Units,
    officials: Officials,
    facts: Facts,
    declared: pl.DataFrame | None = None,
) -> PackedInput:
    """Return the run's input as length-prefixed Parquet tables (``RunInput.TABLES`` order)."""
    zone = units.zone.tolist() if len(units.zone) else [""] * len(units.id)
    frames = {
        "units": pl.DataFrame({"id": units.id.tolist(), "category": units.category.tolist(), "zone": zone},
                              schema={"id": pl.String, "category": pl.String, "zone": pl.String}),
        "officials": pl.DataFrame({c: getattr(officials, c).tolist() for c in ("id", "unit", "layer", "category")},
                                  schema={c: pl.String for c in ("id", "unit", "layer", "category")}),
        **{name: getattr(facts, name) for name in RunInput.FACT_TABLES},
        "declared": declared if declared is not None else pl.DataFrame(schema=DECLARED_COLUMNS),
    }  # fmt: skip
    # The tables are encoded side by side (the Parquet writer releases the GIL), then written in
    # RunInput.TABLES order: the same bytes as one after the other.
    with ThreadPoolExecutor(max_workers=PACK_THREADS) as pool:
        blobs = list(pool.map(_parquet, [frames[name] for name in RunInput.TABLES]))
    out = io.BytesIO()
    for blob in blobs:
        out.write(struct.pack(">Q", len(blob)))
        out.write(blob)
    tables = out.getvalue()
    return PackedInput(cycle, scheme, tables, input_digest_of(cycle, scheme, tables))


def input_unpack(tables: bytes) -> tuple[Units, Officials, Facts, pl.DataFrame]:
    """Return the entities, facts and declared leaves stored by :func:`input_pack` (a run stored
    before bundle version 2 has no routine grades, declared leaves or unit zones)."""
    frames: dict[str, pl.DataFrame] = {}
    view, at = memoryview(tables), 0
    for name in RunInput.TABLES:
        if at >= len(view):
            break
        (size,) = struct.unpack(">Q", view[at : at + 8])
        frames[name] = pl.read_parquet(io.BytesIO(view[at + 8 : at + 8 + size]))
        at += 8 + size

    def strings(frame: pl.DataFrame, column: str) -> Any:
        return np.array(frame.get_column(column).to_list(), dtype=np.str_)

    stored_units = frames["units"]
    units = Units(
        strings(stored_units, "id"),
        strings(stored_units, "category"),
        *([strings(stored_units, "zone")] if "zone" in stored_units.columns else []),
    )
    officials = Officials(*(strings(frames["officials"], c) for c in ("id", "unit", "layer", "category")))
    facts = Facts(**{name: frames[name] for name in RunInput.FACT_TABLES if name in frames})
    return units, officials, facts, frames.get("declared", pl.DataFrame(schema=DECLARED_COLUMNS))


def ledger_record_run(*, run: ScoringRun, packed: PackedInput) -> None:
    """Keep the run's input and chain the run (with its result rows): call after writing them."""
    # The packed tables (≈30 MiB for a province) bound on the server, not escaped into the SQL.
    insert_bound(RunInput(run=run, cycle=packed.cycle, scheme=packed.scheme, tables=packed.tables,
                          digest=packed.digest))  # fmt: skip
    ledger_append(kind=kinds.RUN, object_ids=[run.pk])


def ledger_record_tallies(*, event_ids: Sequence[int]) -> None:
    """Chain the closed tallies of these events (call once their tally digests are stored)."""
    ledger_append(kind=kinds.TALLY, object_ids=sorted(event_ids))


# -- audit retention -----------------------------------------------------------------------------


def retention_days() -> int:
    days = int(getattr(settings, "JIXIAO_AUDIT_RETENTION_DAYS", 190))
    if days < MIN_RETENTION_DAYS:
        raise ImproperlyConfigured(f"JIXIAO_AUDIT_RETENTION_DAYS must be at least {MIN_RETENTION_DAYS}")
    return days


ARCHIVE_DIR = "audit-archives"


def archive_rows(content: bytes) -> list[dict[str, Any]]:
    """The audit rows of an archive file (one canonical JSON object a line, lzma-compressed)."""
    import json

    return [json.loads(line) for line in lzma.decompress(content).splitlines() if line]


def audit_archive(*, now: datetime | None = None) -> AuditArchive | None:
    """Export the chained audit entries older than the retention to an archive file, record it in
    the chain, then remove them; ``None`` when nothing is old enough.

    Their ledger entries stay: ``jixiao verify`` checks the archived rows against them.
    """
    from jixiao.accounts.models import AuditLog

    before = (now or timezone.now()) - timedelta(days=retention_days())
    chained = LedgerEntry.objects.filter(kind=kinds.AUDIT).values_list("object_id", flat=True)
    old = AuditLog.objects.filter(at__lt=before).order_by("id")
    ids = [pk for pk in old.values_list("id", flat=True)]
    chained_ids = {int(i) for i in chained.filter(object_id__in=[str(i) for i in ids])}
    ids = [i for i in ids if i in chained_ids]  # an unchained row is evidence: never archive it away
    if not ids:
        return None
    stream = io.BytesIO()
    for row in AuditLog.objects.filter(pk__in=ids).order_by("id").values(*kinds.AUDIT_FIELDS):
        row["at"] = kinds._when(row["at"])
        row["ip_address"] = None if row["ip_address"] is None else str(row["ip_address"])
        stream.write(canonical(row) + b"\n")
    content = lzma.compress(stream.getvalue())
    name = default_storage.save(f"{ARCHIVE_DIR}/audit-{ids[0]}-{ids[-1]}.jsonl.xz", ContentFile(content))
    digest = Sm3Stream()
    digest.update(content)
    with transaction.atomic():
        archive = AuditArchive(first_id=ids[0], last_id=ids[-1], count=len(ids), before=before, file=name,
                               digest=digest.hexdigest())  # fmt: skip
        archive.save(force_insert=True)
        ledger_append(kind=kinds.ARCHIVE, object_ids=[archive.pk])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # the trigger lets only the archiver delete audit rows
                cursor.execute("SET LOCAL jixiao.audit_archiving = 'on'")
        # The plain QuerySet bypasses the append-only guard: this is the one sanctioned removal.
        models.QuerySet(AuditLog).filter(pk__in=ids)._raw_delete(connection.alias)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jixiao.audit_archiving = 'off'")
    return archive


# -- verification ----------------------------------------------------------------------------------


def verification_record(*, recompute: bool = True) -> tuple[Verification, Report]:
    """Run :func:`ledger_verify` and keep its outcome (the home page shows the last one)."""
    from jixiao.ledger.verify import ledger_verify

    report = ledger_verify(recompute=recompute)
    row = Verification.objects.create(ok=report.ok, entries=report.entries, runs=report.runs,
                                      seconds=report.seconds, problems=report.problems)  # fmt: skip
    return row, report


def run_bundle(run: ScoringRun) -> dict[str, Any]:
    """Return the cycle bundle of exactly the input ``run`` scored, rebuilt from its stored input
    (the cycle's data may have changed since); ``bundle_digest`` of it is the run's input digest."""
    from jixiao.results.services import bundle_of

    stored = RunInput.objects.get(run=run)
    units, officials, facts, declared = input_unpack(bytes(stored.tables))
    return bundle_of(stored.cycle, stored.scheme, units, officials, facts, declared)
