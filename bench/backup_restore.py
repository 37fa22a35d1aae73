"""Figure: backup and restore of the generated data, and Django's deployment checks in production mode.

    .venv/bin/python bench/backup_restore.py [--scale prefecture] [--database postgres://…/empty_db]

Uses a throwaway SQLite database in a temporary directory (or ``--database`` for an empty
PostgreSQL database you own; the restore then goes to ``<name>_restored``, created and dropped
here), migrates it, generates the data, scores the latest cycle, then times ``jixiao backup`` and
``jixiao restore`` into a fresh database and prints sizes, seconds and whether the restored row
counts equal the source's. Prints numbers; it is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JIXIAO = str(ROOT / ".venv" / "bin" / "jixiao")


def _jixiao(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([JIXIAO, *args], env=env, check=True, stdout=subprocess.DEVNULL, timeout=1800)
    return time.perf_counter() - start


def _counts(env: dict[str, str]) -> dict[str, int]:
    code = (
        "import django, json; django.setup(); from django.db import connection as c; cur = c.cursor(); "
        "t = [n for n in c.introspection.table_names() if not n.startswith('sqlite_')]; "
        "print(json.dumps({n: cur.execute(f'SELECT count(*) FROM \"{n}\"').fetchone()[0] "
        "if c.vendor == 'sqlite' else (cur.execute(f'SELECT count(*) FROM \"{n}\"'), cur.fetchone()[0])[1] for n in t}))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="tiny", choices=["tiny", "prefecture"])
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JIXIAO_"))}
        base.update(DJANGO_SETTINGS_MODULE="jixiao.config.settings", JIXIAO_VAR_DIR=tmp)
        source = dict(base, DATABASE_URL=args.database or f"sqlite:///{tmp}/source.sqlite3")
        if args.database:
            target_url = args.database.rsplit("/", 1)[0] + "/" + args.database.rsplit("/", 1)[1] + "_restored"
            subprocess.run(
                ["psql", args.database, "-qc", f'CREATE DATABASE "{target_url.rsplit("/", 1)[1]}"'],
                check=True,
            )
        else:
            target_url = f"sqlite:///{tmp}/restored.sqlite3"
        target = dict(base, DATABASE_URL=target_url)
        try:
            _jixiao(source, "migrate", "--verbosity", "0")
            generated = _jixiao(source, "generate", "--scale", args.scale)
            _jixiao(source, "compute", "--cycle", "2025")
            before = _counts(source)  # the backup itself adds an audit entry after the dump
            backup_s = _jixiao(source, "backup", "--out", f"{tmp}/backup")
            size = sum(p.stat().st_size for p in Path(f"{tmp}/backup").iterdir())
            restore_s = _jixiao(target, "restore", f"{tmp}/backup")
            same = before == _counts(target)
        finally:
            if args.database:
                subprocess.run(
                    [
                        "psql",
                        args.database,
                        "-qc",
                        f'DROP DATABASE IF EXISTS "{target_url.rsplit("/", 1)[1]}"',
                    ],
                    check=False,
                )
        deploy = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
            env=dict(
                base,
                JIXIAO_PRODUCTION="1",
                DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
                DJANGO_ALLOWED_HOSTS="jixiao.example.gov.cn",
                JIXIAO_RATING_SENDER="jixiao.surveys.senders.MemorySender",
            ),
            capture_output=True,
            text=True,
            check=False,
        )
    print(
        f"database: {'PostgreSQL' if args.database else 'SQLite'}, scale {args.scale} (generated in {generated:.1f} s)"
    )
    print(
        f"backup: {size / 1e6:.1f} MB in {backup_s:.1f} s; restore into a fresh database: {restore_s:.1f} s"
    )
    print(f"restored row counts equal the source's: {same}")
    print(
        f"check --deploy (production mode): {'clean' if deploy.returncode == 0 else deploy.stdout + deploy.stderr}"
    )


if __name__ == "__main__":
    main()
