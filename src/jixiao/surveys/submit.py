"""The citizen's submit path: a cached snapshot of the survey link and one INSERT.

Nothing here touches the ORM per request. The survey link's questions, scale and tags are read once
per worker and cached for :data:`SNAPSHOT_TTL` seconds (an edit reaches every worker within that
time); the answer is written with one ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING id``, so
the database's unique constraint (target, device, window) decides duplicates without a prior SELECT,
and the same statement marks the answer suspect (antiabuse.SUSPECT_RULE) with two index-only counts
each stopped at the survey's limit (``LIMIT n``), so a flood from one address costs no more per
answer than the first few.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from django.db import connection
from django.utils import timezone

from jixiao.hygiene import OPINION_MAX_LENGTH, truncate_text
from jixiao.surveys.antiabuse import limit_window
from jixiao.surveys.models import Survey, SurveyQuestion, SurveyResponse, SurveyTarget

SNAPSHOT_TTL: Final = 30.0
_MAX_CACHED: Final = 10_000


@dataclass(frozen=True)
class TargetSnapshot:
    """What the public page needs about one survey link."""

    target_id: int
    survey_id: int
    title: str
    intro: str
    unit_name: str
    official_name: str
    service_point: str
    questions: tuple[tuple[str, str], ...]
    scale: tuple[tuple[str, int | None], ...]
    tags: tuple[str, ...]
    allow_opinion: bool
    dedupe_seconds: int
    limit_hours: int
    address_limit: int
    device_limit: int
    is_open: bool


_cache: dict[str, tuple[float, TargetSnapshot | None]] = {}
_cache_lock = threading.Lock()


def _load(token: str) -> TargetSnapshot | None:
    target = SurveyTarget.objects.select_related("survey", "unit", "official").filter(token=token).first()
    if target is None:
        return None
    survey: Survey = target.survey
    questions = tuple(
        SurveyQuestion.objects.filter(survey=survey).order_by("order", "id").values_list("item", "text")
    )
    return TargetSnapshot(
        target_id=target.pk,
        survey_id=survey.pk,
        title=survey.title,
        intro=survey.intro,
        unit_name=target.unit.name,
        official_name=target.official.name if target.official else "",
        service_point=target.service_point,
        questions=questions,
        scale=tuple((str(o["label"]), o["points"]) for o in survey.scale),
        tags=tuple(survey.tags or ()),
        allow_opinion=survey.allow_opinion,
        dedupe_seconds=survey.dedupe_hours * 3600,
        limit_hours=survey.limit_hours,
        address_limit=survey.address_limit,
        device_limit=survey.device_limit,
        is_open=survey.is_open and target.is_active,
    )


def snapshot(token: str) -> TargetSnapshot | None:
    """Return the cached snapshot of the link ``token`` (None when there is no such link)."""
    now = time.monotonic()
    hit = _cache.get(token)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = _load(token)
    with _cache_lock:
        if len(_cache) >= _MAX_CACHED:
            _cache.clear()
        _cache[token] = (now + SNAPSHOT_TTL, value)
    return value


def forget_snapshots() -> None:
    """Drop this worker's cache (after an edit in the same process, and in tests)."""
    with _cache_lock:
        _cache.clear()


@dataclass(frozen=True)
class ParsedAnswer:
    points: dict[str, int]
    tags: list[str]
    opinion: str


def parse_answer(snap: TargetSnapshot, data: Any) -> tuple[ParsedAnswer | None, list[str]]:
    """Return the parsed answer and the items of unanswered questions (answer is None if any)."""
    points: dict[str, int] = {}
    missing: list[str] = []
    for item, _text in snap.questions:
        raw = data.get(f"q_{item}", "")
        if not raw.isdigit() or int(raw) >= len(snap.scale):
            missing.append(item)
            continue
        value = snap.scale[int(raw)][1]
        if value is not None:
            points[item] = value
    if missing:
        return None, missing
    allowed = snap.tags
    tags = [t for t in data.getlist("tag") if t in allowed][: len(allowed)]
    opinion = ""
    if snap.allow_opinion:
        from jixiao.surveys.deidentify import deidentify

        opinion = truncate_text(deidentify(data.get("opinion", "")), OPINION_MAX_LENGTH)
    return ParsedAnswer(points=points, tags=tags, opinion=opinion), []


def _insert_sql() -> str:
    table = SurveyResponse._meta.db_table
    json_cast = "::jsonb" if connection.vendor == "postgresql" else ""
    # Each count reads at most ``limit`` index entries; a limit of 0 skips its test.
    address_count = (
        f"(SELECT COUNT(*) FROM (SELECT 1 FROM {table} "
        "WHERE target_id = %s AND address = %s AND limit_window = %s LIMIT %s) a)"
    )
    device_count = (
        f"(SELECT COUNT(*) FROM (SELECT 1 FROM {table} "
        "WHERE survey_id = %s AND device = %s AND limit_window = %s LIMIT %s) d)"
    )
    return (
        f"INSERT INTO {table} (survey_id, target_id, points, tags, opinion, device, bucket, address, "
        "limit_window, suspect, suspect_reason, is_valid, created_at) "
        f"SELECT %s, %s, %s{json_cast}, %s{json_cast}, %s, %s, %s, %s, %s, m.reason <> '', m.reason, %s, %s "
        f"FROM (SELECT CASE WHEN %s > 0 AND {address_count} >= %s THEN 'address' "
        f"WHEN %s > 0 AND {device_count} >= %s THEN 'device' ELSE '' END AS reason) m "
        # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT (parsing ambiguity).
        "WHERE 1 = 1 ON CONFLICT DO NOTHING RETURNING id"
    )


_SQL: dict[str, str] = {}


def response_insert(
    *,
    snap: TargetSnapshot,
    answer: ParsedAnswer,
    device: str | None,
    address: str | None = None,
    now: datetime | None = None,
) -> int | None:
    """Insert one answer (marked suspect when it exceeds the survey's limits); return its id, or
    None when the device already answered this link in the current dedupe window. ``device`` and
    ``address`` are digests (antiabuse.device_digest / address_digest)."""
    now = now or timezone.now()
    if snap.dedupe_seconds <= 0:
        device, bucket = None, 0
    else:
        bucket = int(now.timestamp()) // snap.dedupe_seconds
    window = limit_window(now.timestamp(), snap.limit_hours)
    sql = _SQL.get(connection.vendor)
    if sql is None:
        sql = _SQL[connection.vendor] = _insert_sql()
    params: list[Any] = [
        snap.survey_id,
        snap.target_id,
        json.dumps(answer.points, separators=(",", ":")),
        json.dumps(answer.tags, ensure_ascii=False),
        answer.opinion,
        device,
        bucket,
        address,
        window,
        True,
        now,
        snap.address_limit,
        snap.target_id,
        address,
        window,
        snap.address_limit,
        snap.address_limit,
        snap.device_limit,
        snap.survey_id,
        device,
        window,
        snap.device_limit,
        snap.device_limit,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return int(row[0]) if row else None
