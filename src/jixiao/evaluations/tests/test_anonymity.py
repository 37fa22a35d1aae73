"""The threat model (docs/threat-model-ballots.md) as tests: nothing joins a ballot to a code."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from django.db import connection, models
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jixiao.accounts.models import AuditLog
from jixiao.evaluations import ballots
from jixiao.evaluations.closing import event_close
from jixiao.evaluations.codes import code_hash
from jixiao.evaluations.models import (
    Ballot,
    BallotAnswer,
    BallotCode,
    BallotOpinion,
    BallotVote,
    PendingBallot,
)
from jixiao.evaluations.tests.helpers import World, full_ballot, issue, make_world

BALLOT_MODELS: list[type[models.Model]] = [PendingBallot, Ballot, BallotAnswer, BallotVote, BallotOpinion]
pg_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="xmin (the inserting transaction id) is a PostgreSQL system column; SQLite rows have none",
)


@pytest.mark.parametrize("model", BALLOT_MODELS, ids=lambda m: m.__name__)
def test_no_ballot_table_has_a_time_a_sequence_or_a_code_column(model: type[models.Model]) -> None:
    for f in model._meta.get_fields():
        assert not isinstance(f, models.DateField | models.TimeField | models.DurationField), f
        assert not isinstance(f, models.AutoField | models.BigAutoField | models.SmallAutoField), f
        assert getattr(f, "related_model", None) is not BallotCode, f
        assert not any(word in f.name for word in ("code", "hash", "time", "_at", "created")), f
    pk = model._meta.pk
    assert isinstance(pk, models.UUIDField | models.CompositePrimaryKey)
    if isinstance(pk, models.UUIDField):
        assert pk.default is uuid.uuid4


def test_the_code_table_keeps_neither_time_nor_name() -> None:
    names = {f.name for f in BallotCode._meta.get_fields()}
    assert names == {"id", "event", "group", "code_hash", "used", "sealed"}


def _all_cells() -> dict[str, list[str]]:
    """Every value of every table, as text."""
    cells: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            cells[table] = [str(v) for row in cursor.fetchall() for v in row]
    return cells


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s").format(record))
        request: Any = getattr(record, "request", None)
        if request is not None:  # what an access log or an error mail would show
            self.lines.append(
                f"{request.method} {request.get_full_path()} {request.META.get('HTTP_REFERER', '')}"
            )


@pytest.mark.django_db
def test_no_table_sql_statement_log_line_or_audit_entry_carries_a_code(world: World) -> None:
    codes = issue(world, world.peers, 4)
    handler = _Records()
    # django.request does not propagate (settings.LOGGING): listen to it and the others directly.
    loggers = [
        logging.getLogger(n)
        for n in ("", "django", "django.request", "django.security", "django.db.backends", "jixiao")
    ]
    old_levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    paths: list[str] = []
    client = Client()
    try:
        with CaptureQueriesContext(connection) as queries:
            for code in codes:
                response = client.get(reverse("evaluations:ballot_start"))
                paths.append(response.request["PATH_INFO"] + "?" + response.request.get("QUERY_STRING", ""))
                response = client.post(reverse("evaluations:ballot_open"), {"code": code})
                assert response.status_code == 200
                data = {"code": code, **full_ballot(world.peers, opinion="工作扎实")}
                response = client.post(reverse("evaluations:ballot_submit"), data)
                assert response.status_code == 302
                again = client.post(reverse("evaluations:ballot_submit"), data)  # a reused code
                assert again.status_code == 409
                paths += [
                    r.request["PATH_INFO"] + "?" + r.request.get("QUERY_STRING", "")
                    for r in (response, again)
                ]
            event_close(actor=world.office, event=world.event)
    finally:
        for lg, level in zip(loggers, old_levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
    assert Ballot.objects.count() == 4
    hashes = {code_hash(c) for c in codes}
    sql = [q["sql"] for q in queries.captured_queries]
    logged = handler.lines
    assert any("Conflict" in line for line in logged)  # django.request did log the 409s …
    for code in codes:
        assert not any(code in s for s in sql), "a code reached the database in clear"
        assert not [line for line in logged if code in line][:1], "a code reached a log line"
        assert not any(code in p for p in paths), "a code reached a URL"
    # SQL statements are logged only when DEBUG is on or, as here, while CaptureQueriesContext
    # forces it; they hold the hash (never the code). Production runs with DEBUG off: the threat
    # model forbids statement logging. Every other logger must not see the hash either.
    for h in hashes:
        assert not any(h in line for line in logged if not line.startswith("django.db.backends"))
    cells = _all_cells()
    for table, values in cells.items():
        text = "\n".join(values)
        for code in codes:
            assert code not in text, table
        for h in hashes:  # closing deleted the codes: not even their hashes are left
            assert h not in text, table
    audit = "\n".join(f"{a.object_repr} {a.changes}" for a in AuditLog.objects.all())
    assert not any(c in audit for c in codes) and not any(h in audit for h in hashes)


@pytest.mark.django_db
def test_ballot_pages_are_not_cached_and_send_no_referrer_to_other_sites(world: World) -> None:
    [code] = issue(world, world.peers, 1)
    client = Client()
    for response in (
        client.get(reverse("evaluations:ballot_start")),
        client.post(reverse("evaluations:ballot_open"), {"code": code}),
    ):
        assert "no-store" in response["Cache-Control"]
        assert response["Referrer-Policy"] == "same-origin"
    page = client.post(reverse("evaluations:ballot_open"), {"code": code}).content.decode()
    # The code is only in the hidden field posted back, never in a link or a form action.
    assert page.count(code) == 1 and f'name="code" value="{code}"' in page


def _xmins(table: str, where: str = "", params: list[Any] | None = None) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT xmin::text::bigint FROM {table} {where}", params or [])
        return {int(r[0]) for r in cursor.fetchall()}


@pg_only
@pytest.mark.django_db(transaction=True)
def test_no_transaction_id_joins_a_used_code_to_a_ballot_on_postgresql() -> None:
    world = make_world(flush_batch=3)
    codes = issue(world, world.peers, 7) + issue(world, world.staff, 2)
    for code in codes[:7]:
        ballots.ballot_submit(code=code, data=full_ballot(world.peers))
    for code in codes[7:]:
        ballots.ballot_submit(code=code, data=full_ballot(world.staff))
    code_table = BallotCode._meta.db_table
    used = _xmins(code_table, "WHERE used")
    assert len(used) == 9  # one submit transaction per code …
    # … and the buffer rows still waiting share them — the window the flush closes.
    assert _xmins(PendingBallot._meta.db_table) <= used
    stored: set[int] = set()
    for model in (Ballot, BallotAnswer, BallotVote):
        stored |= _xmins(model._meta.db_table)
    assert stored and not (stored & used)
    # Two flushes of three peers' ballots; the two staff ballots wait for a batch of their group.
    assert len(_xmins(Ballot._meta.db_table)) == 2

    event_close(actor=world.office, event=world.event)
    assert PendingBallot.objects.count() == 0 and Ballot.objects.count() == 9
    assert not _xmins(code_table, "WHERE event_id = %s", [world.event.pk]), "closing deletes the codes"
    for model in (Ballot, BallotAnswer, BallotVote, BallotOpinion):
        assert not (_xmins(model._meta.db_table) & used), model.__name__
