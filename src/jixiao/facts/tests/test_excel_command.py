"""``jixiao import-facts``: errors as "sheet row column: message" and a non-zero exit."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jixiao.accounts.models import AuditLog
from jixiao.facts.models import IndicatorResult, VoteCount
from jixiao.facts.tests.test_excel_setup import World, build_world, results_file, votes_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


def save(tmp_path: Path, handle: io.BytesIO) -> str:
    path = tmp_path / "facts.xlsx"
    path.write_bytes(handle.getvalue())
    return str(path)


def test_a_good_file_imports_and_prints_the_counts(world: World, tmp_path: Path) -> None:
    out = io.StringIO()
    path = save(tmp_path, votes_file(["G1", 3, 2, 1, 0], ["G2", 0, 0, 0, 1]))
    call_command("import_facts", path, cycle=2025, kind="votes", stdout=out)
    assert "测评票数：新增 2，更新 0" in out.getvalue()
    assert VoteCount.objects.count() == 2
    assert AuditLog.objects.get(action="import").actor is None


def test_every_error_is_printed_and_the_exit_status_is_one(world: World, tmp_path: Path) -> None:
    err = io.StringIO()
    path = save(tmp_path, votes_file(["G1", -3, 2, 1, 0], ["G404", 0, 0, 0, 1]))
    with pytest.raises(CommandError) as failure:
        call_command("import_facts", path, cycle=2025, kind="votes", stderr=err)
    assert failure.value.returncode == 1
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("测评票数 2 优秀: ")
    assert lines[1].startswith("测评票数 3 干部工号: ")
    assert not VoteCount.objects.exists()


def test_import_as_a_user_applies_their_permissions(world: World, tmp_path: Path) -> None:
    path = save(tmp_path, results_file(["1.2", "UA1", 1, None, None, None, None]))
    with pytest.raises(CommandError):
        call_command("import_facts", path, cycle=2025, kind="results", **{"username": world.lead.username})
    with pytest.raises(CommandError, match="无权"):
        call_command("import_facts", path, cycle=2025, kind="votes", **{"username": world.lead.username})
    assert not IndicatorResult.objects.exists()


def test_an_unknown_cycle_or_file_is_an_error(world: World, tmp_path: Path) -> None:
    path = save(tmp_path, votes_file(["G1", 1, 0, 0, 0]))
    with pytest.raises(CommandError, match="1999"):
        call_command("import_facts", path, cycle=1999, kind="votes")
    with pytest.raises(CommandError):
        call_command("import_facts", str(tmp_path / "missing.xlsx"), cycle=2025, kind="votes")


def test_the_console_script_spells_the_command_with_a_dash(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connections

    from jixiao.cli import main

    # run_from_argv closes every connection when the command ends, the test's own included.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    path = save(tmp_path, votes_file(["G1", 1, 0, 0, 0]))
    main(["jixiao", "import-facts", "--cycle", "2025", "--kind", "votes", path])
    assert VoteCount.objects.get().excellent == 1
