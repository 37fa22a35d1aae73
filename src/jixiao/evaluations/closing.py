"""Closing an event: flush, tally, write the engine's facts, seal the codes, digest the tally.

Closing runs in three transactions so that each guarantee has its own:

1. the event row is locked FOR UPDATE and set to CLOSING — this waits for every submit in flight
   (they hold a shared lock on the row) and turns every later submit away;
2. the buffer is flushed (the last, possibly small, shuffled batch) — its own transaction, so the
   last ballots share a transaction id with nothing else;
3. under the event lock again: tally per (ratee, group, item) and per vote in SQL, insert
   facts.EvaluationScore (one row per rated answer, ``ballots = 1``, 不了解 excluded) and
   facts.VoteCount, delete every code (keeping issued/used counts per group on EventGroup), record
   the tally's SHA-256 in the audit log, status CLOSED.

The facts receive only what the engine may use: a rater group that gave a ratee fewer ratings
than the group's minimum (``RaterGroup.min_ballots``, k) is **not written** — neither its scores
nor its votes — so a lone rater's answers never reach the facts, the cycle bundle or an export.
The count is the engine's: the largest number of rated answers on one item, summed over the
events closed together (docs/threat-model-ballots.md, "Groups below k"); their tally lines and
vote tallies are deleted too. A group with fewer ballots than k in its event never left the
buffer and is discarded at closing, counted only in the audit entry ("withheld_ballots").

Everything heavy is set-based SQL (INSERT … SELECT) over a whole *set* of events at once
(:func:`events_close`; :func:`event_close` is a set of one), so a province's ten million ballot
items close in one statement per table (bench/bench_close_event.py).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.evaluations.ballots import ballots_flush, group_min_ballots
from jixiao.evaluations.models import (
    Ballot,
    BallotAnswer,
    BallotCode,
    BallotOpinion,
    BallotVote,
    EvaluationEvent,
    EventGroup,
    EventRatee,
    EventStatus,
    PendingBallot,
    TallyLine,
    Vote,
    VotesMode,
    VoteTally,
)
from jixiao.facts.models import EvaluationScore, VoteCount
from jixiao.ledger.services import ledger_record_tallies
from jixiao.schemes.lifecycle import assert_cycles_editable
from jixiao.schemes.models import RaterGroup

logger = logging.getLogger(__name__)
VOTE_FIELDS = [v.value for v in Vote]
SOURCE_MAX = 64


def _t(model: type[object]) -> str:
    return model._meta.db_table  # type: ignore[attr-defined,no-any-return]


def _in(ids: Sequence[int]) -> str:
    """``IN (…)`` of integer ids: formatted, not bound (SQLite caps bound parameters)."""
    return "(" + ",".join(str(int(i)) for i in ids) + ")"


def _begin_closing(actor: User | None, ids: list[int]) -> None:
    with transaction.atomic():
        events = list(EvaluationEvent.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        if len(events) != len(ids):
            raise ValidationError(_("测评活动不存在"))
        if (
            any(e.status == EventStatus.CLOSED for e in events)
            or TallyLine.objects.filter(event_id__in=ids).exists()
        ):
            raise ValidationError(_("测评活动已经结束，不能重复计票"))
        for event in events:
            if event.status != EventStatus.CLOSING:
                audit_record(
                    actor=actor,
                    action=AuditAction.UPDATE,
                    obj=event,
                    changes={"status": [event.status, "closing"]},
                )
        EvaluationEvent.objects.filter(pk__in=ids).update(status=EventStatus.CLOSING)


_AGG = "evaluations_close_agg"


def _aggregate_sql(ids: list[int]) -> None:
    """One pass over the answers: a temporary table of (event, ratee, group, item, points, n).

    Both the tally and the compact facts are read from it, so ten million answers are scanned
    and joined once (``points`` null = 不了解).
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(f"DROP TABLE IF EXISTS {_AGG}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_AGG} AS "
            f"SELECT b.event_id, a.ratee_id, b.group_id, a.item, a.points, COUNT(*) AS n "
            f"FROM {_t(BallotAnswer)} a JOIN {_t(Ballot)} b ON b.id = a.ballot_id WHERE b.event_id IN {_in(ids)} "
            f"GROUP BY b.event_id, a.ratee_id, b.group_id, a.item, a.points"
        )


def _tally_sql(ids: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_t(TallyLine)} (event_id, ratee_id, group_id, item, rated, unknown, mean) "
            f"SELECT event_id, ratee_id, group_id, item, "
            f"SUM(CASE WHEN points IS NULL THEN 0 ELSE n END), SUM(CASE WHEN points IS NULL THEN n ELSE 0 END), "
            f"SUM(points * n) / NULLIF(SUM(CASE WHEN points IS NULL THEN 0 ELSE n END), 0) "
            f"FROM {_AGG} GROUP BY event_id, ratee_id, group_id, item"
        )
        sums = ", ".join(f"SUM(CASE WHEN v.vote = '{f}' THEN 1 ELSE 0 END)" for f in VOTE_FIELDS)
        cursor.execute(
            f"INSERT INTO {_t(VoteTally)} (event_id, ratee_id, group_id, {', '.join(VOTE_FIELDS)}, unknown) "
            f"SELECT b.event_id, v.ratee_id, b.group_id, {sums}, SUM(CASE WHEN v.vote = '' THEN 1 ELSE 0 END) "
            f"FROM {_t(BallotVote)} v JOIN {_t(Ballot)} b ON b.id = v.ballot_id WHERE b.event_id IN {_in(ids)} "
            f"GROUP BY b.event_id, v.ratee_id, b.group_id"
        )


_WITHHELD = "evaluations_close_withheld"


def _withheld_sql() -> int:
    """Fill a temporary table with the (cycle, entity, rater group) below the group's k; return how many.

    Read from the aggregate table: per entity, group and item the rated answers (不了解 excluded)
    summed over the events being closed; the group's ballots for the entity are the largest such
    count, as in ``jixiao.scoring.raters``. Entities are keyed by ``COALESCE(id, 0)`` so that the
    null of the other entity column compares equal on every database.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_WITHHELD}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_WITHHELD} AS "
            f"SELECT x.cycle_id, x.unit_key, x.official_key, x.rater_group FROM ("
            f"SELECT e.cycle_id, COALESCE(r.unit_id, 0) AS unit_key, COALESCE(r.official_id, 0) AS official_key, "
            f"rg.code AS rater_group, rg.min_ballots AS k, a.item, SUM(a.n) AS rated "
            f"FROM {_AGG} a JOIN {_t(EvaluationEvent)} e ON e.id = a.event_id "
            f"JOIN {_t(EventRatee)} r ON r.id = a.ratee_id JOIN {_t(EventGroup)} g ON g.id = a.group_id "
            f"JOIN {_t(RaterGroup)} rg ON rg.id = g.rater_group_id WHERE a.points IS NOT NULL "
            f"GROUP BY e.cycle_id, COALESCE(r.unit_id, 0), COALESCE(r.official_id, 0), rg.code, rg.min_ballots, a.item"
            f") x GROUP BY x.cycle_id, x.unit_key, x.official_key, x.rater_group HAVING MAX(x.rated) < MAX(x.k)"
        )
        cursor.execute(f"SELECT COUNT(*) FROM {_WITHHELD}")
        return int(cursor.fetchone()[0])


def _facts_sql(ids: list[int], *, compact: bool) -> int:
    """Insert the events' rated answers into facts.EvaluationScore; return how many rows.

    Default: one row per rated answer (``ballots = 1``). ``compact``: one row per (ratee, group,
    item, score) with ``ballots`` = how many raters gave that score — the same multiset of
    individual ratings (the engine expands ``ballots`` into that many copies, so trimming and
    the k rule see exactly the same ratings), in a handful of rows per item instead of one per
    rater: at province scale every inserted row costs deferred foreign-key checks at COMMIT.
    Rows are sorted by (event, ratee, group, item, score), so the facts table's sequential ids
    say nothing about which answers came from the same ballot or in which order ballots arrived.
    A (ratee, group) listed by :func:`_withheld_sql` (below the group's k) is left out.
    """
    if compact:
        source_sql = f"{_AGG} a"
        ballots = "a.n"
    else:
        source_sql = f"{_t(BallotAnswer)} a JOIN {_t(Ballot)} b ON b.id = a.ballot_id"
        ballots = "1"
    event_col = "a.event_id" if compact else "b.event_id"
    group_col = "a.group_id" if compact else "b.group_id"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            f"INSERT INTO {_t(EvaluationScore)} "
            f"(cycle_id, unit_id, official_id, rater_group, item, score, ballots, source) "
            f"SELECT e.cycle_id, r.unit_id, r.official_id, rg.code, a.item, a.points, {ballots}, "
            f"'evaluation:' || CAST(e.id AS TEXT) "
            f"FROM {source_sql} JOIN {_t(EvaluationEvent)} e ON e.id = {event_col} "
            f"JOIN {_t(EventRatee)} r ON r.id = a.ratee_id JOIN {_t(EventGroup)} g ON g.id = {group_col} "
            f"JOIN {_t(RaterGroup)} rg ON rg.id = g.rater_group_id "
            f"WHERE {event_col} IN {_in(ids)} AND a.points IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {_WITHHELD} w WHERE w.cycle_id = e.cycle_id "
            f"AND w.unit_key = COALESCE(r.unit_id, 0) AND w.official_key = COALESCE(r.official_id, 0) "
            f"AND w.rater_group = rg.code) "
            f"ORDER BY {event_col}, a.ratee_id, rg.code, a.item, a.points"
        )
        return int(cursor.rowcount)


def _votes_to_facts(events: list[EvaluationEvent]) -> int:
    """Write each rated official's vote totals to facts.VoteCount (replace or add); return how many.

    Events are applied in id order, so two events of one set rating the same official combine as
    if closed one after the other. A rater group that cast fewer votes on an official than its k
    (summed over the set) is left out, like its scores (see the module docstring).
    """
    by_event = {e.pk: e for e in events}
    rows = list(
        VoteTally.objects.filter(event__in=events, ratee__official__isnull=False).values_list(
            "event_id",
            "ratee__official_id",
            "group__rater_group__code",
            "group__rater_group__min_ballots",
            *VOTE_FIELDS,
        )
    )
    cast: dict[tuple[int, int, str], int] = {}
    for event_id, official_id, code, _k, *counts in rows:
        key3 = (by_event[event_id].cycle_id, official_id, code)
        cast[key3] = cast.get(key3, 0) + sum(counts)
    totals: dict[tuple[int, int], dict[str, int]] = {}
    for event_id, official_id, code, k, *counts in rows:
        if cast[(by_event[event_id].cycle_id, official_id, code)] < k:
            continue
        entry = totals.setdefault((event_id, official_id), dict.fromkeys(VOTE_FIELDS, 0))
        for name, n in zip(VOTE_FIELDS, counts, strict=True):
            entry[name] += n
    cycles = {e.cycle_id for e in events}
    officials = {o for _e, o in totals}
    existing = {
        (v.cycle_id, v.official_id): v
        for v in VoteCount.objects.filter(cycle_id__in=cycles, official_id__in=officials)
    }
    created: dict[tuple[int, int], VoteCount] = {}
    for (event_id, official_id), counts in sorted(totals.items()):
        event = by_event[event_id]
        key = (event.cycle_id, official_id)
        row = existing.get(key) or created.get(key)
        if row is None:
            created[key] = VoteCount(
                cycle_id=event.cycle_id, official_id=official_id, source=event.source, **counts
            )
            continue
        if event.votes_mode == VotesMode.ADD:
            for name, n in counts.items():
                setattr(row, name, getattr(row, name) + n)
            combined = f"{row.source}+{event.source}" if row.source else event.source
            row.source = combined if len(combined) <= SOURCE_MAX else event.source
        else:
            for name, n in counts.items():
                setattr(row, name, n)
            row.source = event.source
    VoteCount.objects.bulk_create(created.values(), batch_size=5000)
    VoteCount.objects.bulk_update(existing.values(), [*VOTE_FIELDS, "source"], batch_size=5000)
    return len(created) + len(existing)


def tally_digests(ids: Sequence[int]) -> dict[int, str]:
    """Return the SHA-256 of each event's closed tally in a canonical text form.

    Per event: one line per tally line ``T|ratee|group|item|rated|unknown|mean`` (mean to 6
    decimals), then per vote tally ``V|ratee|group|excellent|competent|basic|incompetent|unknown``,
    then per opinion ``O|ratee|text`` — each ending in a newline, sorted by ids (opinions by text).
    """
    digests = {int(i): hashlib.sha256() for i in ids}
    lines = TallyLine.objects.filter(event_id__in=ids).order_by("event_id", "ratee_id", "group_id", "item")
    for event, ratee, group, item, rated, unknown, mean in lines.values_list(
        "event_id", "ratee_id", "group_id", "item", "rated", "unknown", "mean"
    ).iterator(chunk_size=20_000):
        shown = "" if mean is None else f"{mean:.6f}"
        digests[event].update(f"T|{ratee}|{group}|{item}|{rated}|{unknown}|{shown}\n".encode())
    votes = VoteTally.objects.filter(event_id__in=ids).order_by("event_id", "ratee_id", "group_id")
    for event, *row in votes.values_list(
        "event_id", "ratee_id", "group_id", *VOTE_FIELDS, "unknown"
    ).iterator(chunk_size=20_000):
        digests[event].update(("V|" + "|".join(str(x) for x in row) + "\n").encode())
    opinions = BallotOpinion.objects.filter(ballot__event_id__in=ids).order_by(
        "ballot__event_id", "ratee_id", "text"
    )
    for event, ratee, text in opinions.values_list("ballot__event_id", "ratee_id", "text").iterator(
        chunk_size=20_000
    ):
        digests[event].update(f"O|{ratee}|{text}\n".encode())
    return {event: h.hexdigest() for event, h in digests.items()}


def tally_digest(event: EvaluationEvent) -> str:
    """Return the SHA-256 of ``event``'s closed tally (see :func:`tally_digests`)."""
    return tally_digests([event.pk])[event.pk]


def _discard_groups_below_k(ids: list[int]) -> dict[int, dict[str, int]]:
    """Delete every ballot (buffered or stored) of a group with fewer than its k in its event.

    Such a group's ballots never left the buffer (:func:`ballots_flush` moves a group only in
    batches of at least k), so they are deleted unread; stored ones exist only if k was raised
    after they moved. Returns ``{event: {rater group code: ballots discarded}}`` for the audit
    entry — the only trace they leave.
    """
    codes = dict(EventGroup.objects.filter(event_id__in=ids).values_list("pk", "rater_group__code"))
    counts: dict[int, dict[str, int]] = {}
    for event_id in ids:
        ks = group_min_ballots(event_id)
        pending: dict[int, list[uuid.UUID]] = {}
        for pk, payload in PendingBallot.objects.filter(event_id=event_id).values_list("pk", "payload"):
            pending.setdefault(int(payload["g"]), []).append(pk)
        stored = dict(
            Ballot.objects.filter(event_id=event_id)
            .values("group_id")
            .annotate(n=Count("id"))
            .values_list("group_id", "n")
        )
        for group_id, k in ks.items():
            n = len(pending.get(group_id, [])) + stored.get(group_id, 0)
            if n == 0 or n >= k:
                continue
            PendingBallot.objects.filter(pk__in=pending.get(group_id, [])).delete()
            Ballot.objects.filter(event_id=event_id, group_id=group_id).delete()
            counts.setdefault(event_id, {})[codes[group_id]] = n
    if PendingBallot.objects.filter(event_id__in=ids).exists():
        raise RuntimeError("the ballot buffer is not empty after the closing flush")
    return counts


def _tally_withheld_delete(ids: list[int]) -> None:
    """Delete the tally lines and vote tallies of the (entity, rater group) pairs below k.

    The pairs are those :func:`_withheld_sql` listed (kept from the facts): the sealed tally and
    its digest then hold nothing the engine withholds.
    """
    pairs = (
        f"SELECT r.id AS rid, g.id AS gid FROM {_WITHHELD} w JOIN {_t(EvaluationEvent)} e ON e.cycle_id = w.cycle_id "
        f"JOIN {_t(EventRatee)} r ON r.event_id = e.id AND COALESCE(r.unit_id, 0) = w.unit_key "
        f"AND COALESCE(r.official_id, 0) = w.official_key "
        f"JOIN {_t(EventGroup)} g ON g.event_id = e.id "
        f"JOIN {_t(RaterGroup)} rg ON rg.id = g.rater_group_id AND rg.code = w.rater_group "
        f"WHERE e.id IN {_in(ids)}"
    )
    with connection.cursor() as cursor:
        for table in (_t(TallyLine), _t(VoteTally)):
            cursor.execute(
                f"DELETE FROM {table} WHERE event_id IN {_in(ids)} AND EXISTS (SELECT 1 FROM ({pairs}) p "
                f"WHERE p.rid = {table}.ratee_id AND p.gid = {table}.group_id)"
            )


def _codes_erase(ids: list[int]) -> dict[int, dict[str, list[int]]]:
    """Keep the issued/used counts per group on EventGroup, then delete the events' codes.

    A used code row keeps its group; in a small group the used codes and the group's ballots
    would join (by group, and by the order of transaction ids), so after closing no code row is
    left — only the counts the participation pages show. Returns ``{event: {code: [issued, used]}}``.
    """
    counts = {
        group_id: (issued, used)
        for group_id, issued, used in BallotCode.objects.filter(event_id__in=ids)
        .values("group_id")
        .annotate(issued=Count("id"), used=Count("id", filter=Q(used=True)))
        .values_list("group_id", "issued", "used")
    }
    groups = list(EventGroup.objects.filter(event_id__in=ids).select_related("rater_group"))
    out: dict[int, dict[str, list[int]]] = {}
    for group in groups:
        group.codes_issued, group.codes_used = counts.get(group.pk, (0, 0))
        out.setdefault(group.event_id, {})[group.rater_group.code] = [group.codes_issued, group.codes_used]
    EventGroup.objects.bulk_update(groups, ["codes_issued", "codes_used"], batch_size=1000)
    BallotCode.objects.filter(event_id__in=ids).delete()
    return out


def vacuum_after_close() -> None:
    """Best effort: drop the dead row versions that still carry per-code transaction ids."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            # The codes (deleted), the buffer and the ballots taken back by the closing flush.
            tables = [BallotCode, PendingBallot, Ballot, BallotAnswer, BallotVote, BallotOpinion]
            cursor.execute("VACUUM " + ", ".join(_t(m) for m in tables))
    except Exception:  # a failed VACUUM must not fail a committed close; autovacuum will do it
        logger.warning("VACUUM after closing an evaluation event failed", exc_info=True)


def events_close(
    *, actor: User | None, events: Sequence[EvaluationEvent], vacuum: bool = True, compact_facts: bool = False
) -> list[EvaluationEvent]:
    """Close every event of ``events`` together; return them closed, in id order.

    ``compact_facts`` writes identical ratings as one fact row with ``ballots`` = their number
    (see :func:`_facts_sql`); the default is one row per rated answer.

    No ballot can be added or changed afterwards. Raises ValidationError when one of them is
    already closed or tallied or its cycle is closed (then none is closed), and PermissionDenied
    for anyone but the office.
    """
    if actor is not None and not (actor.is_office and actor.can_write):
        raise PermissionDenied
    ids = sorted({e.pk for e in events})
    if not ids:
        return []
    # Closing writes the cycle's facts: a closed cycle refuses before any ballot is touched.
    assert_cycles_editable(e.cycle_id for e in events)
    _begin_closing(actor, ids)
    for event_id in (
        PendingBallot.objects.filter(event_id__in=ids).values_list("event_id", flat=True).distinct()
    ):
        ballots_flush(event_id=event_id, force=True)
    with transaction.atomic():
        locked = list(EvaluationEvent.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        if any(e.status != EventStatus.CLOSING for e in locked):
            raise ValidationError(_("测评活动已经结束，不能重复计票"))
        discarded = _discard_groups_below_k(ids)
        _aggregate_sql(ids)
        _tally_sql(ids)
        withheld = _withheld_sql()
        facts = _facts_sql(ids, compact=compact_facts)
        _votes_to_facts(locked)
        _tally_withheld_delete(ids)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_AGG}")
            cursor.execute(f"DROP TABLE IF EXISTS {_WITHHELD}")
        participation = _codes_erase(ids)
        digests = tally_digests(ids)
        for event in locked:
            event.status = EventStatus.CLOSED
            event.tally_digest = digests[event.pk]
        EvaluationEvent.objects.bulk_update(locked, ["status", "tally_digest"], batch_size=1000)
        ledger_record_tallies(event_ids=ids)
        counts: dict[int, dict[str, int]] = {}
        for event_id, code, n in (
            Ballot.objects.filter(event_id__in=ids)
            .values("event_id", "group__rater_group__code")
            .annotate(n=Count("id"))
            .values_list("event_id", "group__rater_group__code", "n")
        ):
            counts.setdefault(event_id, {})[code] = n
        for event in locked:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=event,
                changes={
                    "status": ["closing", "closed"],
                    "tally_sha256": event.tally_digest,
                    "ballots": counts.get(event.pk, {}),
                    "source": event.source,
                    # (entity, rater group) pairs below k in the set, not written to the facts
                    "withheld_groups": withheld,
                    # ballots of groups below k, discarded unread: only their number is kept
                    "withheld_ballots": discarded.get(event.pk, {}),
                    "codes": participation.get(event.pk, {}),
                    **(
                        {"evaluation_scores_in_set": facts, "events_in_set": len(ids)}
                        if len(ids) > 1
                        else {"evaluation_scores": facts}
                    ),
                },
            )
    if vacuum:
        vacuum_after_close()
    return locked


def event_close(*, actor: User | None, event: EvaluationEvent, vacuum: bool = True) -> EvaluationEvent:
    """Close ``event`` (see :func:`events_close`); return it closed."""
    return events_close(actor=actor, events=[event], vacuum=vacuum)[0]
