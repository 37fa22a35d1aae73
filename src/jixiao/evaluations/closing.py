"""Closing an event: flush, tally, write the engine's facts, seal the codes, digest the tally.

Closing runs in three transactions so that each guarantee has its own:

1. the event row is locked FOR UPDATE and set to CLOSING — this waits for every submit in flight
   (they hold a shared lock on the row) and turns every later submit away;
2. the buffer is flushed (the last, possibly small, shuffled batch) — its own transaction, so the
   last ballots share a transaction id with nothing else;
3. under the event lock again: tally per (ratee, group, item) and per vote in SQL, insert
   facts.EvaluationScore (one row per rated answer, ``ballots = 1``, 不了解 excluded) and
   facts.VoteCount, seal every code, record the tally's SHA-256 in the audit log, status CLOSED.

Everything heavy is set-based SQL (INSERT … SELECT), so ten million ballot items close in
seconds (bench/bench_close_event.py).
"""

from __future__ import annotations

import hashlib
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.evaluations.ballots import ballots_flush
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
from jixiao.schemes.models import RaterGroup

logger = logging.getLogger(__name__)
VOTE_FIELDS = [v.value for v in Vote]
SOURCE_MAX = 64


def _t(model: type[object]) -> str:
    return model._meta.db_table  # type: ignore[attr-defined,no-any-return]


def _begin_closing(actor: User | None, event_id: int) -> EvaluationEvent:
    with transaction.atomic():
        event = EvaluationEvent.objects.select_for_update().get(pk=event_id)
        if event.status == EventStatus.CLOSED:
            raise ValidationError(_("测评活动已经结束，不能重复计票"))
        if EvaluationScore.objects.filter(cycle_id=event.cycle_id, source=event.source).exists():
            raise ValidationError(_("考核数据中已有本活动的测评得分，不能重复计票"))
        if event.status != EventStatus.CLOSING:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=event,
                changes={"status": [event.status, "closing"]},
            )
            event.status = EventStatus.CLOSING
            event.save(update_fields=["status"])
        return event


def _tally_sql(event: EvaluationEvent) -> None:
    answer, ballot = _t(BallotAnswer), _t(Ballot)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_t(TallyLine)} (event_id, ratee_id, group_id, item, rated, unknown, mean) "
            f"SELECT b.event_id, a.ratee_id, b.group_id, a.item, COUNT(a.points), COUNT(*) - COUNT(a.points), "
            f"AVG(a.points) FROM {answer} a JOIN {ballot} b ON b.id = a.ballot_id WHERE b.event_id = %s "
            f"GROUP BY b.event_id, a.ratee_id, b.group_id, a.item",
            [event.pk],
        )
        sums = ", ".join(f"SUM(CASE WHEN v.vote = '{f}' THEN 1 ELSE 0 END)" for f in VOTE_FIELDS)
        cursor.execute(
            f"INSERT INTO {_t(VoteTally)} (event_id, ratee_id, group_id, {', '.join(VOTE_FIELDS)}, unknown) "
            f"SELECT b.event_id, v.ratee_id, b.group_id, {sums}, SUM(CASE WHEN v.vote = '' THEN 1 ELSE 0 END) "
            f"FROM {_t(BallotVote)} v JOIN {ballot} b ON b.id = v.ballot_id WHERE b.event_id = %s "
            f"GROUP BY b.event_id, v.ratee_id, b.group_id",
            [event.pk],
        )


def _facts_sql(event: EvaluationEvent) -> int:
    """Insert one EvaluationScore per rated answer; return how many.

    Sorted by (ratee, group, item, score) so that the facts table's sequential ids say nothing
    about which answers came from the same ballot or in which order ballots arrived.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            f"INSERT INTO {_t(EvaluationScore)} "
            f"(cycle_id, unit_id, official_id, rater_group, item, score, ballots, source) "
            f"SELECT %s, r.unit_id, r.official_id, rg.code, a.item, a.points, 1, %s "
            f"FROM {_t(BallotAnswer)} a JOIN {_t(Ballot)} b ON b.id = a.ballot_id "
            f"JOIN {_t(EventRatee)} r ON r.id = a.ratee_id JOIN {_t(EventGroup)} g ON g.id = b.group_id "
            f"JOIN {_t(RaterGroup)} rg ON rg.id = g.rater_group_id "
            f"WHERE b.event_id = %s AND a.points IS NOT NULL "
            f"ORDER BY a.ratee_id, rg.code, a.item, a.points",
            [event.cycle_id, event.source, event.pk],
        )
        return int(cursor.rowcount)


def _votes_to_facts(event: EvaluationEvent) -> int:
    """Write each rated official's vote totals to facts.VoteCount (replace or add); return how many."""
    totals: dict[int, dict[str, int]] = {}
    rows = VoteTally.objects.filter(event=event, ratee__official__isnull=False).values_list(
        "ratee__official_id", *VOTE_FIELDS
    )
    for official_id, *counts in rows:
        entry = totals.setdefault(official_id, dict.fromkeys(VOTE_FIELDS, 0))
        for name, n in zip(VOTE_FIELDS, counts, strict=True):
            entry[name] += n
    existing = {
        v.official_id: v for v in VoteCount.objects.filter(cycle_id=event.cycle_id, official_id__in=totals)
    }
    create, update = [], []
    for official_id, counts in totals.items():
        row = existing.get(official_id)
        if row is None:
            create.append(
                VoteCount(cycle_id=event.cycle_id, official_id=official_id, source=event.source, **counts)
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
        update.append(row)
    VoteCount.objects.bulk_create(create, batch_size=5000)
    VoteCount.objects.bulk_update(update, [*VOTE_FIELDS, "source"], batch_size=5000)
    return len(create) + len(update)


def tally_digest(event: EvaluationEvent) -> str:
    """Return the SHA-256 of the event's closed tally in a canonical text form.

    One line per tally line ``T|ratee|group|item|rated|unknown|mean`` (mean to 6 decimals), per
    vote tally ``V|ratee|group|excellent|competent|basic|incompetent|unknown`` and per opinion
    ``O|ratee|text`` (sorted by text), each ending in a newline, in that order, sorted by ids.
    """
    digest = hashlib.sha256()
    lines = TallyLine.objects.filter(event=event).order_by("ratee_id", "group_id", "item")
    for ratee, group, item, rated, unknown, mean in lines.values_list(
        "ratee_id", "group_id", "item", "rated", "unknown", "mean"
    ).iterator(chunk_size=20_000):
        shown = "" if mean is None else f"{mean:.6f}"
        digest.update(f"T|{ratee}|{group}|{item}|{rated}|{unknown}|{shown}\n".encode())
    votes = VoteTally.objects.filter(event=event).order_by("ratee_id", "group_id")
    for row in votes.values_list("ratee_id", "group_id", *VOTE_FIELDS, "unknown").iterator(chunk_size=20_000):
        digest.update(("V|" + "|".join(str(x) for x in row) + "\n").encode())
    opinions = BallotOpinion.objects.filter(ballot__event=event).order_by("ratee_id", "text")
    for ratee, text in opinions.values_list("ratee_id", "text").iterator(chunk_size=20_000):
        digest.update(f"O|{ratee}|{text}\n".encode())
    return digest.hexdigest()


def _vacuum_after_close() -> None:
    """Best effort: drop the dead row versions that still carry per-code transaction ids."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {_t(BallotCode)}, {_t(PendingBallot)}")
    except Exception:  # a failed VACUUM must not fail a committed close; autovacuum will do it
        logger.warning("VACUUM after closing an evaluation event failed", exc_info=True)


def event_close(*, actor: User | None, event: EvaluationEvent) -> EvaluationEvent:
    """Close ``event``: no ballot can be added or changed afterwards. Return the closed event.

    Raises ValidationError when the event is already closed or its facts already exist, and
    PermissionDenied for anyone but the office.
    """
    if actor is not None and not (actor.is_office and actor.can_write):
        raise PermissionDenied
    event = _begin_closing(actor, event.pk)
    ballots_flush(event_id=event.pk, force=True)
    with transaction.atomic():
        event = EvaluationEvent.objects.select_for_update().get(pk=event.pk)
        if event.status != EventStatus.CLOSING:
            raise ValidationError(_("测评活动已经结束，不能重复计票"))
        if PendingBallot.objects.filter(event=event).exists():
            raise RuntimeError("the ballot buffer is not empty after the closing flush")
        _tally_sql(event)
        facts = _facts_sql(event)
        officials = _votes_to_facts(event)
        # One transaction id for every code row of the event: the ids of the transactions that
        # used each code (and so the flush batch each ballot went into) are no longer readable.
        BallotCode.objects.filter(event=event).update(sealed=True)
        digest = tally_digest(event)
        event.status = EventStatus.CLOSED
        event.tally_digest = digest
        event.save(update_fields=["status", "tally_digest"])
        by_group = dict(
            Ballot.objects.filter(event=event)
            .values("group__rater_group__code")
            .annotate(n=Count("id"))
            .values_list("group__rater_group__code", "n")
        )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=event,
            changes={
                "status": ["closing", "closed"],
                "tally_sha256": digest,
                "ballots": by_group,
                "evaluation_scores": facts,
                "vote_counts": officials,
                "source": event.source,
            },
        )
    _vacuum_after_close()
    return event
