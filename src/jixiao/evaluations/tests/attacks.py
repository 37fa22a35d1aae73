"""An attacker with a read-only copy of the database, trying to tie a small group's ballot to its voter.

Shared by the tests (test_group_linkage.py) and bench/attack_ballot_linkage.py. The attacker knows
which rater group is small (a group of one superior leader is public knowledge) and reads raw
rows: every column, PostgreSQL's ``xmin`` (inserting transaction) and ``ctid`` (physical
position), sequences and ``pg_stat_user_tables``. Each attack returns True when it *succeeds*:
it found stored content of a group below its k, or a batch of the group smaller than k that the
used codes (or the order of arrival) would single out. Names are those the script prints.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.db import connection

from jixiao.accounts.models import AuditLog
from jixiao.evaluations.models import (
    Ballot,
    BallotAnswer,
    BallotCode,
    BallotOpinion,
    BallotVote,
    EventGroup,
    PendingBallot,
    TallyLine,
    VoteTally,
)
from jixiao.facts.models import EvaluationScore

BALLOT_TABLES = [m._meta.db_table for m in (Ballot, BallotAnswer, BallotVote, BallotOpinion)]
TALLY_TABLES = [m._meta.db_table for m in (TallyLine, VoteTally)]
CODE_TABLE = BallotCode._meta.db_table


def _rows(sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return list(cursor.fetchall())


def _k(group: EventGroup) -> int:
    return max(1, group.rater_group.min_ballots)


def stored_content(group: EventGroup) -> bool:
    """Any ballot, answer, vote, opinion, tally line or vote tally of the group, below k."""
    g = group.pk
    n = _rows(f"SELECT COUNT(*) FROM {Ballot._meta.db_table} WHERE group_id = %s", [g])[0][0]
    assert isinstance(n, int)
    tallies = sum(
        int(str(_rows(f"SELECT COUNT(*) FROM {t} WHERE group_id = %s", [g])[0][0])) for t in TALLY_TABLES
    )
    return (0 < n < _k(group)) or (tallies > 0 and n < _k(group))


def code_group_join(group: EventGroup) -> bool:
    """Used codes of the group next to fewer than k stored ballots of it: code ⇒ ballot."""
    used = _rows(f"SELECT COUNT(*) FROM {CODE_TABLE} WHERE group_id = %s AND used", [group.pk])[0][0]
    n = _rows(f"SELECT COUNT(*) FROM {Ballot._meta.db_table} WHERE group_id = %s", [group.pk])[0][0]
    assert isinstance(used, int) and isinstance(n, int)
    return used > 0 and 0 < n < _k(group)


# Flush batches the attacker has seen, by (group, xmin): the largest size seen. An attacker with
# copies from before and after closing knows a batch's size when it was written; the closing
# flush may take ballots back out of it, which does not shrink the set of voters who may have
# cast the rest (see ballots._take_back).
SEEN: dict[tuple[int, str], int] = {}


def _batches(group: EventGroup) -> dict[str, int]:
    rows = _rows(
        f"SELECT xmin::text, COUNT(*) FROM {Ballot._meta.db_table} WHERE group_id = %s GROUP BY 1",
        [group.pk],
    )
    out = {}
    for x, n in rows:
        key = (group.pk, str(x))
        SEEN[key] = max(SEEN.get(key, 0), int(str(n)))
        out[str(x)] = SEEN[key]
    return out


def xmin_batch(group: EventGroup) -> bool:
    """A flush batch (one ``xmin``) written with fewer than k ballots of the group, or a code's
    xmin shared with a ballot, answer, vote, opinion or tally row."""
    if any(n < _k(group) for n in _batches(group).values()):
        return True
    codes = {str(r[0]) for r in _rows(f"SELECT xmin::text FROM {CODE_TABLE} WHERE used")}
    for table in BALLOT_TABLES + TALLY_TABLES:
        if codes & {str(r[0]) for r in _rows(f"SELECT DISTINCT xmin::text FROM {table}")}:
            return True
    return False


def ctid_order(group: EventGroup) -> bool:
    """The group's ballots in physical order: the last-written batch of them had fewer than k
    (the last voter, whom a meeting sees hand in last, is singled out)."""
    sizes = _batches(group)
    rows = _rows(
        f"SELECT xmin::text FROM {Ballot._meta.db_table} WHERE group_id = %s ORDER BY ctid", [group.pk]
    )
    return bool(rows) and sizes[str(rows[-1][0])] < _k(group)


def answers_anywhere(group: EventGroup, marker: str) -> bool:
    """The group's opinion ``marker`` or its rater-group code in any evaluations/facts/audit row."""
    code = group.rater_group.code
    if EvaluationScore.objects.filter(rater_group=code, source=f"evaluation:{group.event_id}").exists():
        return True
    if BallotOpinion.objects.filter(text__contains=marker).exists():
        return True
    if any(
        marker in json.dumps(p, ensure_ascii=False)
        for p in PendingBallot.objects.filter(event_id=group.event_id).values_list("payload", flat=True)
    ):
        return True
    return any(
        marker in json.dumps(c, ensure_ascii=False)
        for c in AuditLog.objects.values_list("changes", flat=True)
    )


def counters() -> dict[str, int]:
    """n_tup_ins of the ballot and tally tables and the last value of every sequence."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT relname, n_tup_ins FROM pg_stat_user_tables WHERE relname = ANY(%s)",
            [BALLOT_TABLES + TALLY_TABLES],
        )
        out = {f"ins:{r}": int(n) for r, n in cursor.fetchall()}
        cursor.execute("SELECT schemaname || '.' || sequencename, COALESCE(last_value, 0) FROM pg_sequences")
        out.update({f"seq:{s}": int(v) for s, v in cursor.fetchall()})
    return out


def insert_counters_moved(before: dict[str, int], after: dict[str, int], group: EventGroup) -> bool:
    """A submit of the group made fewer than k ballot rows appear (a batch the submit singles out)."""
    ballots = after.get(f"ins:{Ballot._meta.db_table}", 0) - before.get(f"ins:{Ballot._meta.db_table}", 0)
    return 0 < ballots < _k(group)


def sequences_moved(before: dict[str, int], after: dict[str, int]) -> bool:
    """A submit advanced a sequence of the evaluations or facts tables (a counter of arrivals)."""
    return any(
        after[s] != before.get(s, 0)
        for s in after
        if s.startswith("seq:") and ("evaluations_" in s or "facts_" in s)
    )


def buffer_content(group: EventGroup) -> bool:
    """A buffered ballot of the group whose answers can be read without the server's key."""
    return any(
        "a" in p or "o" in p
        for p in PendingBallot.objects.filter(event_id=group.event_id, payload__g=group.pk).values_list(
            "payload", flat=True
        )
    )


STATIC_ATTACKS: dict[str, Callable[[EventGroup], bool]] = {
    "buffer content readable": buffer_content,
    "stored content below k": stored_content,
    "used code joins group's ballots": code_group_join,
    "xmin batch / shared xmin": xmin_batch,
    "ctid last run": ctid_order,
}
