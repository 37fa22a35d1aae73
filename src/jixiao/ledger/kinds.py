"""What each kind of ledger entry covers: a function from object ids to their content digests.

Adding a kind (published results, appeal decisions…) is one :func:`register` call with a function
that reads the objects' current content from the database; ``jixiao verify`` recomputes the same
function and compares. A content function returns ``{object id: SM3 hex}`` for the ids that exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jixiao.ledger.hashing import Sm3Stream, canonical, sm3

ContentFn = Callable[[Sequence[str]], dict[str, str]]


@dataclass(frozen=True)
class Kind:
    code: str
    label: str  # shown in verify messages (Chinese)
    content: ContentFn


KINDS: dict[str, Kind] = {}


def register(code: str, label: str, content: ContentFn) -> None:
    KINDS[code] = Kind(code, label, content)


def _ints(ids: Sequence[str]) -> list[int]:
    return [int(i) for i in ids]


def _when(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):  # a string: already the canonical form (an archive)
        return value
    return value.astimezone(UTC).isoformat()


def audit_content(row: dict[str, Any]) -> str:
    """The content digest of one audit row (a dict of its fields; ``actor_id`` is left out so that
    deleting a user, which sets it to NULL, does not break the chain: ``actor_name`` stays)."""
    return sm3(canonical([
        row["id"], _when(row["at"]), row["actor_name"], row["action"], row["object_type"],
        row["object_id"], row["object_repr"], row["changes"],
        None if row["ip_address"] is None else str(row["ip_address"]),
    ])).hex()  # fmt: skip


AUDIT_FIELDS = ("id", "at", "actor_name", "action", "object_type", "object_id", "object_repr", "changes",
                "ip_address")  # fmt: skip


def _audit(ids: Sequence[str]) -> dict[str, str]:
    from jixiao.accounts.models import AuditLog

    rows = AuditLog.objects.filter(pk__in=_ints(ids)).values(*AUDIT_FIELDS)
    return {str(r["id"]): audit_content(r) for r in rows}


RESULT_FIELDS = ("id", "subject", "unit_id", "official_id", "category", "total", "components", "rank", "grade",
                 "flags")  # fmt: skip
RUN_FIELDS = ("id", "cycle_id", "number", "engine_version", "created_at", "created_by_name", "input_digest",
              "output_digest", "parameters", "note", "entity_count")  # fmt: skip


def result_rows_digest(run_id: int) -> str:
    """SM3 over the run's result rows in id order, one canonical JSON line each."""
    from jixiao.results.models import EntityResult

    stream = Sm3Stream()
    rows = EntityResult.objects.filter(run_id=run_id).order_by("id").values_list(*RESULT_FIELDS)
    for row in rows.iterator(chunk_size=20_000):
        stream.update(canonical(list(row)) + b"\n")
    return stream.hexdigest()


def _run(ids: Sequence[str]) -> dict[str, str]:
    from jixiao.ledger.models import RunInput
    from jixiao.results.models import ScoringRun

    stored = dict(RunInput.objects.filter(run_id__in=_ints(ids)).values_list("run_id", "digest"))
    out = {}
    for run in ScoringRun.objects.filter(pk__in=_ints(ids)).values(*RUN_FIELDS):
        run["created_at"] = _when(run["created_at"])
        out[str(run["id"])] = sm3(canonical([
            [run[f] for f in RUN_FIELDS], result_rows_digest(run["id"]), stored.get(run["id"]),
        ])).hex()  # fmt: skip
    return out


def _tally(ids: Sequence[str]) -> dict[str, str]:
    from jixiao.evaluations.closing import tally_digests
    from jixiao.evaluations.models import EvaluationEvent

    events = dict(EvaluationEvent.objects.filter(pk__in=_ints(ids)).values_list("pk", "tally_digest"))
    recomputed = tally_digests(list(events))
    return {str(pk): sm3(canonical([pk, stored, recomputed[pk]])).hex() for pk, stored in events.items()}


def _archive(ids: Sequence[str]) -> dict[str, str]:
    from jixiao.ledger.models import AuditArchive

    rows = AuditArchive.objects.filter(pk__in=_ints(ids)).values(
        "id", "first_id", "last_id", "count", "before", "file", "digest"
    )
    return {
        str(r["id"]): sm3(
            canonical(
                [r["id"], r["first_id"], r["last_id"], r["count"], _when(r["before"]), r["file"], r["digest"]]
            )
        ).hex()
        for r in rows
    }


AUDIT, RUN, TALLY, ARCHIVE = "audit", "run", "tally", "archive"
register(AUDIT, "审计日志", _audit)
register(RUN, "计分批次", _run)
register(TALLY, "测评计票", _tally)
register(ARCHIVE, "审计归档", _archive)
