"""A facts import leaves exactly one audit entry with its counts and the file's digest."""

from __future__ import annotations

import hashlib
import io

import pytest

from jixiao.accounts.models import AuditAction, AuditLog
from jixiao.facts.excel import FactKind, facts_import
from jixiao.facts.tests.test_excel_setup import World, build_world, results_file, scores_file, votes_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


def test_one_import_entry_records_kind_cycle_counts_and_sha256(world: World) -> None:
    source = scores_file(*(["单位", "UA1", "public", "overall", 90, 1, None] for _ in range(50)))
    digest = hashlib.sha256(source.getvalue()).hexdigest()
    before = AuditLog.objects.count()
    facts_import(
        actor=world.office, cycle=world.cycle, kind=FactKind.SCORES, source=source, filename="survey.xlsx"
    )
    assert AuditLog.objects.count() == before + 1
    entry = AuditLog.objects.get(action=AuditAction.IMPORT)
    assert entry.actor == world.office
    assert (entry.object_type, entry.object_id) == ("facts.evaluationscore", str(world.cycle.pk))
    assert "survey.xlsx" in entry.object_repr
    assert entry.changes == {
        "kind": "scores",
        "cycle_id": world.cycle.pk,
        "year": 2025,
        "file": "survey.xlsx",
        "sha256": digest,
        "rows": 50,
        "created": 50,
        "updated": 0,
    }


def test_an_upsert_import_records_created_and_updated(world: World) -> None:
    facts_import(
        actor=world.lead,
        cycle=world.cycle,
        kind=FactKind.RESULTS,
        source=results_file(["1.1", "UA1", 1, None, None, None, None]),
    )
    facts_import(
        actor=world.lead,
        cycle=world.cycle,
        kind=FactKind.RESULTS,
        source=results_file(
            ["1.1", "UA1", 2, None, None, None, None], ["1.1", "UA2", 2, None, None, None, None]
        ),
    )
    last = AuditLog.objects.filter(action=AuditAction.IMPORT).order_by("-id").first()
    assert last is not None
    assert (last.changes["created"], last.changes["updated"], last.actor) == (1, 1, world.lead)


def test_a_failed_import_is_not_audited(world: World) -> None:
    facts_import(
        actor=world.office, cycle=world.cycle, kind=FactKind.VOTES, source=votes_file(["G1", -1, 0, 0, 0])
    )
    assert not AuditLog.objects.filter(action=AuditAction.IMPORT).exists()


def test_re_importing_vote_counts_is_allowed_because_they_are_upserts(world: World) -> None:
    data = votes_file(["G1", 1, 0, 0, 0]).getvalue()
    for _ in range(2):
        assert facts_import(
            actor=world.office, cycle=world.cycle, kind=FactKind.VOTES, source=io.BytesIO(data)
        ).ok
    assert AuditLog.objects.filter(action=AuditAction.IMPORT).count() == 2
