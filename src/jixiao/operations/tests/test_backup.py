"""A backup restores into a fresh database with every row and every run digest; a changed file is refused."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from jixiao.demo.generator import generate
from jixiao.operations.backup import BackupError, backup_create, backup_restore, manifest_check
from jixiao.results.models import ScoringRun
from jixiao.results.services import run_compute
from jixiao.schemes.models import Cycle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "evidence").mkdir(parents=True)
    (tmp_path / "media" / "evidence" / "佐证.txt").write_text("现场照片说明", encoding="utf-8")


def _tables() -> list[str]:
    return sorted(t for t in connection.introspection.table_names() if not t.startswith("sqlite_"))


def _counts_here() -> dict[str, int]:
    with connection.cursor() as cursor:
        out = {}
        for table in _tables():
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            out[table] = cursor.fetchone()[0]
        return out


def _run_digests_here() -> list[tuple[int, str, str]]:
    return list(ScoringRun.objects.order_by("pk").values_list("pk", "input_digest", "output_digest"))


@pytest.fixture
def restored_target() -> Iterator[str]:
    """A URL of a new, empty database of the same kind as the test database; dropped afterwards."""
    if connection.vendor == "postgresql":
        import psycopg

        db = connection.settings_dict
        name = f"jixiao_restore_{uuid.uuid4().hex[:8]}"
        base = f"postgresql://{db['USER']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        yield f"{base}/{name}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = Path(f"/tmp/jixiao-restore-{uuid.uuid4().hex[:8]}.sqlite3")
        yield f"sqlite:///{path}"
        path.unlink(missing_ok=True)


def _counts_and_digests_there(url: str) -> tuple[dict[str, int], list[tuple[int, str, str]]]:
    runs_sql = 'SELECT id, input_digest, output_digest FROM "results_scoringrun" ORDER BY id'
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url) as conn:
            counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in _tables()}  # type: ignore[index]
            runs = [tuple(r) for r in conn.execute(runs_sql).fetchall()]
    else:
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in _tables()}
            runs = [tuple(r) for r in conn.execute(runs_sql).fetchall()]
    return counts, runs  # type: ignore[return-value]


def test_a_backup_restores_into_a_fresh_database_with_every_row_and_run_digest(
    tmp_path: Path, restored_target: str, settings: Any
) -> None:
    generate(scale="tiny", seed=3)
    run_compute(cycle=Cycle.objects.order_by("-year").first(), actor=None)  # type: ignore[arg-type]
    counts, runs = _counts_here(), _run_digests_here()
    assert runs and counts["organisation_unit"] > 0

    result = backup_create(out_dir=tmp_path / "backup")
    assert {f["name"] for f in result.files} >= {"media.tar.gz"}
    assert all(len(f["sm3"]) == 64 and len(f["sha256"]) == 64 for f in result.files)

    settings.MEDIA_ROOT = tmp_path / "restored-media"
    done = backup_restore(directory=tmp_path / "backup", database_url=restored_target)
    restored_counts, restored_runs = _counts_and_digests_there(restored_target)
    assert restored_counts == counts
    assert restored_runs == runs
    assert done["media_files"] >= 2
    assert (tmp_path / "restored-media" / "evidence" / "佐证.txt").read_text(
        encoding="utf-8"
    ) == "现场照片说明"
    # The restored database passes the ledger's verification on its own: the hash chain, the
    # checkpoints and every run recomputed from its stored input (a separate process, as an
    # operator would run it, pointed at the restored database).
    verified = subprocess.run(
        [sys.executable, "-m", "jixiao.cli", "verify"],
        env={
            **os.environ,
            "DATABASE_URL": restored_target,
            "DJANGO_SETTINGS_MODULE": "jixiao.config.settings",
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr

    with pytest.raises(BackupError, match=r"不是空的|已存在"):
        backup_restore(directory=tmp_path / "backup", database_url=restored_target)


def test_a_changed_backup_file_is_refused_by_name(tmp_path: Path) -> None:
    backup_create(out_dir=tmp_path / "backup")
    media = tmp_path / "backup" / "media.tar.gz"
    media.write_bytes(media.read_bytes() + b"\0")
    with pytest.raises(BackupError, match=r"media\.tar\.gz"):
        manifest_check(tmp_path / "backup")


def test_a_missing_file_or_a_foreign_manifest_is_refused(tmp_path: Path) -> None:
    backup_create(out_dir=tmp_path / "backup")
    (tmp_path / "backup" / "media.tar.gz").unlink()
    with pytest.raises(BackupError, match="缺失"):
        manifest_check(tmp_path / "backup")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "manifest.json").write_text(json.dumps({"format": 9}), encoding="utf-8")
    with pytest.raises(BackupError, match="不是本系统"):
        manifest_check(tmp_path / "other")


def test_a_backup_refuses_a_directory_that_holds_files(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(BackupError, match="不是空的"):
        backup_create(out_dir=tmp_path / "full")


def test_the_restore_url_of_a_unix_socket_database_percent_encodes_the_directory() -> None:
    from jixiao.operations.backup import _pg_url

    url = _pg_url({"USER": "postgres", "HOST": "/var/run/postgresql", "PORT": "", "NAME": "jixiao"})
    assert url == "postgresql://postgres@%2Fvar%2Frun%2Fpostgresql:5432/jixiao"
    import psycopg.conninfo

    assert psycopg.conninfo.conninfo_to_dict(url)["host"] == "/var/run/postgresql"


def test_without_extraction_filters_an_unsafe_media_member_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python < 3.11.4 (Debian 12's 3.11.2) has no tarfile filters: the by-hand check refuses."""
    import io
    import tarfile

    from jixiao.operations import backup

    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    for name, kind in (
        ("../escape.txt", tarfile.REGTYPE),
        ("/abs.txt", tarfile.REGTYPE),
        ("link", tarfile.SYMTYPE),
    ):
        archive = tmp_path / f"m{abs(hash(name))}.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
            tar.addfile(info, io.BytesIO(b"") if kind == tarfile.REGTYPE else None)
        with pytest.raises(backup.BackupError, match="不安全"):
            backup._restore_media(archive, tmp_path / "media")
    good = tmp_path / "good.tar.gz"
    with tarfile.open(good, "w:gz") as tar:
        info = tarfile.TarInfo("evidence/a.pdf")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"pdf"))
    assert backup._restore_media(good, tmp_path / "media") == 1
    assert (tmp_path / "media" / "evidence" / "a.pdf").read_bytes() == b"pdf"
