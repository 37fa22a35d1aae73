"""Light anti-abuse for the public pages: token buckets per address and per device cookie, the
signed random device cookie itself, and the rule that marks answers suspect (可疑答卷).

Two layers. The token buckets below refuse floods (HTTP 429) and are per worker. Stuffing that
stays under them (fresh browser sessions from one address, one device answering every link) is not
refused: the answer is stored and marked ``suspect`` with a reason when it exceeds its survey's
per-address or per-device limit within the survey's limit window (:data:`SUSPECT_RULE`), and
suspect answers stay out of the facts. Refusing would block honest citizens behind a shared
address; marking lets the office see the counts and raise a survey's limit, after which
:func:`survey_mark_suspects` re-applies the rule to the answers already stored.

The buckets live in each worker's memory: no query and no lock contention on the submit path. With
N gunicorn workers a client can reach at most N × the limit, which is fine for "light" protection
(the database's unique constraint, not the buckets, is what makes duplicates impossible). Limits are
settings, because a service hall behind one NAT address needs a generous per-address limit.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Final

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from jixiao.surveys.models import Survey, SurveyResponse

DEVICE_COOKIE: Final = "jx_dev"
DEVICE_SALT: Final = "jixiao.surveys.device"
DEVICE_MAX_AGE: Final = 2 * 365 * 24 * 3600
# (burst, refill per minute). Setting names: JIXIAO_SURVEY_LIMIT_PER_ADDRESS / _PER_DEVICE.
DEFAULT_ADDRESS_LIMIT: Final = (120, 60.0)
DEFAULT_DEVICE_LIMIT: Final = (6, 2.0)
# Forget idle keys once a worker holds this many, so memory stays bounded under a spray of addresses.
MAX_KEYS: Final = 50_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBucket:
    """``burst`` requests at once, refilled at ``per_minute``; :meth:`allow` spends one token."""

    def __init__(self, burst: int, per_minute: float) -> None:
        self.burst = float(burst)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, _Bucket] = {}
        self._lock = (
            threading.Lock()
        )  # runserver and gthread workers are threaded; sync workers never contend

    def allow(self, key: str, now: float | None = None) -> bool:
        """Return True and spend a token when ``key`` has one left, else False."""
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_KEYS:
                    self._evict(now)
                self._buckets[key] = _Bucket(self.burst - 1.0, now)
                return True
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return True
            return False

    def _evict(self, now: float) -> None:
        full_after = self.burst / self.rate if self.rate > 0 else float("inf")
        stale = [k for k, b in self._buckets.items() if now - b.at >= full_after]
        for key in stale or list(self._buckets)[: MAX_KEYS // 2]:
            del self._buckets[key]

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


def _limit(name: str, default: tuple[int, float]) -> tuple[int, float]:
    value = getattr(settings, name, default)
    burst, per_minute = value
    return int(burst), float(per_minute)


class Limiters:
    """The per-worker buckets, built lazily from settings (tests reset them)."""

    _address: TokenBucket | None = None
    _device: TokenBucket | None = None

    @classmethod
    def address(cls) -> TokenBucket:
        if cls._address is None:
            cls._address = TokenBucket(*_limit("JIXIAO_SURVEY_LIMIT_PER_ADDRESS", DEFAULT_ADDRESS_LIMIT))
        return cls._address

    @classmethod
    def device(cls) -> TokenBucket:
        if cls._device is None:
            cls._device = TokenBucket(*_limit("JIXIAO_SURVEY_LIMIT_PER_DEVICE", DEFAULT_DEVICE_LIMIT))
        return cls._device

    @classmethod
    def reset(cls) -> None:
        cls._address = None
        cls._device = None


def client_address(request: HttpRequest) -> str:
    # Behind a reverse proxy, the proxy must set REMOTE_ADDR (gunicorn --forwarded-allow-ips);
    # trusting X-Forwarded-For here would let anyone pick their own bucket.
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def device_id(request: HttpRequest) -> str | None:
    """Return the verified device id from the signed cookie, or None (no cookie or forged)."""
    value = request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=DEVICE_SALT)
    return value if isinstance(value, str) and value else None


def address_digest(address: str) -> str:
    """Return the 24-character keyed digest of a client address stored with an answer: equal
    addresses compare equal, but the address cannot be read back (nor guessed without the key)."""
    return salted_hmac("jixiao.surveys.address", address).hexdigest()[:24]


def limit_window(now_ts: float, limit_hours: int) -> int:
    """Return the index of the survey's limit window holding the Unix time ``now_ts`` (0 when the
    survey counts its limits over its whole period)."""
    return int(now_ts) // (limit_hours * 3600) if limit_hours > 0 else 0


# The documented rule (docs/surveys.md), applied at insert time by submit.py and in bulk here.
SUSPECT_RULE: Final = (
    "Within one survey and one limit window, an answer is suspect (reason 'address') when its "
    "address already gave address_limit answers to the same link before it, else (reason 'device') "
    "when its device already gave device_limit answers to the survey before it; 'before' orders by "
    "created_at then id; a limit of 0 is no limit; answers without an address or a device are not "
    "counted for that limit."
)


def _epoch(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    # "%%s": the statement is run with parameters, so a literal % is doubled (both drivers).
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


@transaction.atomic
def survey_mark_suspects(*, survey: Survey) -> int:
    """Re-apply :data:`SUSPECT_RULE` with the survey's current limits to every stored answer of
    ``survey`` (limit windows recomputed from ``limit_hours``); return how many answers changed mark.

    Called before every push to the facts, so the facts follow the rule exactly even when two
    concurrent submits from one address both saw a count just under the limit at insert time."""
    return surveys_mark_suspects(survey_ids=[survey.pk])


@transaction.atomic
def surveys_mark_suspects(*, survey_ids: list[int]) -> int:
    """:func:`survey_mark_suspects` for many surveys at once (two statements in all); return how many
    of their answers changed mark (suspect ⇄ counted, or another reason)."""
    if not survey_ids:
        return 0
    table = SurveyResponse._meta.db_table
    surveys = Survey._meta.db_table
    ids = ", ".join(["%s"] * len(survey_ids))
    window = f"CASE WHEN s.limit_hours > 0 THEN {_epoch(f'{table}.created_at')} / (s.limit_hours * 3600) ELSE 0 END"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET limit_window = {window} FROM {surveys} s "
            f"WHERE s.id = {table}.survey_id AND {table}.survey_id IN ({ids}) AND {table}.limit_window <> {window}",
            survey_ids,
        )
        cursor.execute(
            f"UPDATE {table} SET suspect = (m.reason <> ''), suspect_reason = m.reason FROM ("
            "SELECT x.id, CASE "
            "WHEN s.address_limit > 0 AND x.address IS NOT NULL AND x.an > s.address_limit THEN 'address' "
            "WHEN s.device_limit > 0 AND x.device IS NOT NULL AND x.dn > s.device_limit THEN 'device' "
            "ELSE '' END AS reason FROM ("
            "SELECT id, survey_id, address, device, "
            "ROW_NUMBER() OVER (PARTITION BY target_id, address, limit_window ORDER BY created_at, id) AS an, "
            "ROW_NUMBER() OVER (PARTITION BY survey_id, device, limit_window ORDER BY created_at, id) AS dn "
            f"FROM {table} WHERE survey_id IN ({ids})) x JOIN {surveys} s ON s.id = x.survey_id) m "
            f"WHERE {table}.id = m.id AND {table}.suspect_reason <> m.reason",
            survey_ids,
        )
        return int(cursor.rowcount)


def device_digest(device: str) -> str:
    """Return the 24-character digest stored with an answer (never the cookie value itself)."""
    return hashlib.sha256(device.encode()).hexdigest()[:24]


def ensure_device_cookie(request: HttpRequest, response: HttpResponse) -> str:
    """Return the request's device id, setting a new signed random cookie when it has none."""
    device = device_id(request)
    if device is None:
        device = secrets.token_urlsafe(16)
        response.set_signed_cookie(
            DEVICE_COOKIE,
            device,
            salt=DEVICE_SALT,
            max_age=DEVICE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
        )
    return device
