"""Backup and restore of the database and the media files, with a manifest that proves them intact.

A backup is a directory: ``database.dump`` (PostgreSQL custom format, from ``pg_dump``) or
``database.sqlite3`` (SQLite's online backup API), ``media.tar.gz`` (MEDIA_ROOT: evidence files,
archives) and ``manifest.json`` listing each file's size, SHA-256 and SM3. Restoring checks every
file against the manifest first and refuses a changed or missing one by name, then restores into an
empty database only (``--force`` to overwrite), so a restore can never silently mix two states.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf import settings
from django.db import connections

from jixiao.operations.digests import file_digests

MANIFEST = "manifest.json"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in Chinese."""


@dataclass(frozen=True)
class BackupResult:
    directory: Path
    files: list[dict[str, Any]]


def _pg_env(db: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """libpq connection options for the command line, with the password only in the environment."""
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = ["--host", str(db.get("HOST") or "localhost"), "--port", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} 失败：{result.stderr.strip()[:2000]}")


def _dump_database(target: Path, using: str) -> Path:
    connection = connections[using]
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        out = target / "database.dump"
        args, env = _pg_env(db)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(out), *args, str(db["NAME"])], env)
        return out
    if connection.vendor == "sqlite":
        out = target / "database.sqlite3"
        connection.ensure_connection()
        source = connection.connection
        with sqlite3.connect(out) as copy:
            source.backup(copy)  # consistent online copy, also of an in-memory test database
        copy.close()
        return out
    raise BackupError(f"不支持备份该数据库类型：{connection.vendor}")


def _pack_media(target: Path) -> Path:
    out = target / "media.tar.gz"
    media = Path(settings.MEDIA_ROOT)
    with tarfile.open(out, "w:gz") as tar:
        if media.is_dir():
            for path in sorted(media.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(media)), recursive=False)
    return out


def backup_create(*, out_dir: Path, using: str = "default") -> BackupResult:
    """Write a backup into a new directory ``out_dir`` and return what it holds."""
    if out_dir.exists() and any(out_dir.iterdir()):
        raise BackupError(f"备份目录不是空的：{out_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [_dump_database(out_dir, using), _pack_media(out_dir)]
    files = []
    for path in written:
        sha256, sm3 = file_digests(path)
        files.append({"name": path.name, "size": path.stat().st_size, "sha256": sha256, "sm3": sm3})
    manifest = {
        "format": FORMAT,
        "product": "jixiao",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connections[using].vendor,
        "files": files,
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return BackupResult(directory=out_dir, files=files)


def manifest_check(directory: Path) -> dict[str, Any]:
    """The manifest, after every file it lists was found unchanged; otherwise BackupError naming it."""
    path = directory / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"无法读取备份清单 {path}：{exc}") from exc
    if manifest.get("format") != FORMAT or manifest.get("product") != "jixiao":
        raise BackupError(f"{path} 不是本系统的备份清单")
    for entry in manifest.get("files", []):
        file = directory / str(entry["name"])
        if not file.is_file():
            raise BackupError(f"备份文件缺失：{entry['name']}")
        sha256, sm3 = file_digests(file)
        if file.stat().st_size != entry["size"] or sha256 != entry["sha256"] or sm3 != entry["sm3"]:
            raise BackupError(f"备份文件已被修改或损坏：{entry['name']}（摘要与清单不符），拒绝恢复")
    return manifest


def _pg_is_empty(url: str) -> bool:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    return row is not None and row[0] == 0


def _restore_media(archive: Path, media_root: Path) -> int:
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        if hasattr(tarfile, "data_filter"):
            # filter="data" refuses absolute paths, "..", links out of the tree and device files.
            tar.extractall(media_root, filter="data")
        else:
            # Python < 3.11.4 (Debian 12 ships 3.11.2) has no extraction filters: the same refusals
            # by hand, and only plain files and directories (the backup writes nothing else).
            for member in members:
                _refuse_unsafe_member(member, media_root)
            tar.extractall(media_root)  # every member checked above
    return len(members)


def _refuse_unsafe_member(member: tarfile.TarInfo, media_root: Path) -> None:
    root = media_root.resolve()
    target = (root / member.name).resolve()
    if (
        not (member.isfile() or member.isdir())
        or member.name.startswith("/")
        or not target.is_relative_to(root)
    ):
        raise BackupError(f"附件归档中有不安全的条目，拒绝恢复：{member.name}")


def backup_restore(
    *, directory: Path, database_url: str | None = None, force: bool = False
) -> dict[str, Any]:
    """Restore ``directory`` into the database at ``database_url`` (default: the configured one)."""
    manifest = manifest_check(directory)
    db: dict[str, Any] = (
        dict(dj_database_url.parse(database_url))
        if database_url
        else dict(connections["default"].settings_dict)
    )
    engine = str(db.get("ENGINE", ""))
    names = {entry["name"] for entry in manifest["files"]}
    if "postgresql" in engine:
        if "database.dump" not in names:
            raise BackupError("该备份不是 PostgreSQL 备份，不能恢复到 PostgreSQL")
        args, env = _pg_env(db)
        url = database_url or _pg_url(db)
        if not _pg_is_empty(url) and not force:
            raise BackupError(f"目标数据库 {db['NAME']} 不是空的；请恢复到新建的空库，或加 --force 覆盖")
        clean = ["--clean", "--if-exists"] if force else []
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                *clean,
                *args,
                "--dbname",
                str(db["NAME"]),
                str(directory / "database.dump"),
            ],
            env,
        )
    elif "sqlite" in engine:
        if "database.sqlite3" not in names:
            raise BackupError("该备份不是 SQLite 备份，不能恢复到 SQLite")
        target = Path(str(db["NAME"]))
        if target.exists() and target.stat().st_size > 0 and not force:
            raise BackupError(f"目标数据库文件 {target} 已存在；请恢复到新文件，或加 --force 覆盖")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(directory / "database.sqlite3", target)
    else:
        raise BackupError(f"不支持恢复到该数据库类型：{engine}")
    media = _restore_media(directory / "media.tar.gz", Path(settings.MEDIA_ROOT))
    return {"database": str(db["NAME"]), "media_files": media, "created_at": manifest["created_at"]}


def _pg_url(db: dict[str, Any]) -> str:
    from urllib.parse import quote

    auth = quote(str(db.get("USER") or ""))
    if db.get("PASSWORD"):
        auth += ":" + quote(str(db["PASSWORD"]))
    # A Unix-socket directory (HOST=/var/run/postgresql) is percent-encoded, as libpq's URIs want.
    host = quote(str(db.get("HOST") or "localhost"), safe="")
    return f"postgresql://{auth}@{host}:{db.get('PORT') or 5432}/{quote(str(db['NAME']), safe='')}"
