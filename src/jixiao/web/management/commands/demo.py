"""``jixiao demo [--port N] [--no-serve]``: a working demo on a fresh clone in one command.

Migrates, generates the demo prefecture with a year of facts per cycle when the database has no
units (a second run reuses it), scores the 2024 and then the 2025 cycle when they have facts and no
scoring run yet (so /results/ shows graded results with breakdowns), creates the demo accounts that
are missing, collects static files (whitenoise serves them with
hashed names, which need collectstatic) and then replaces itself with gunicorn, so Ctrl-C stops
the server.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.staticfiles.management.commands import collectstatic
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jixiao.accounts.models import User
from jixiao.demo import catalog
from jixiao.demo.accounts import ensure_demo_accounts
from jixiao.demo.generator import DEFAULT_SEED, generate
from jixiao.demo.schemes import close_finished_cycles
from jixiao.facts.models import EvaluationScore, IndicatorResult
from jixiao.jobs.models import JobKind
from jixiao.jobs.runner import start_worker
from jixiao.jobs.services import JobBusy, job_start
from jixiao.organisation.models import Unit
from jixiao.results.models import ScoringRun
from jixiao.results.services import run_compute
from jixiao.schemes.models import Cycle
from jixiao.scoring.errors import ScoringError

T = TypeVar("T")
DEFAULT_PORT = 8000
DEMO_RUN_NOTE = "演示数据自动计算 / demo run"
WSGI_APP = "jixiao.config.wsgi:application"
WORKERS = 2  # sync workers with persistent connections measured fastest here (RECIPES.md)


# The default storage also writes gzip and brotli copies of every file: 45 s of CPU for the API
# docs' bundles on this machine, on every start, for a server on loopback where compression buys
# nothing. The demo collects with the same manifest (hashed names) and skips the copies.
COMPRESSING_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def _collectstatic() -> None:
    command = collectstatic.Command()
    if settings.STORAGES["staticfiles"]["BACKEND"] == COMPRESSING_STORAGE:
        command.storage = ManifestStaticFilesStorage()
    call_command(command, interactive=False, verbosity=0)


def _port(value: str | None) -> int:
    try:
        port = int(value) if value else DEFAULT_PORT
    except ValueError:
        raise CommandError(f"PORT must be a number, got {value!r}") from None
    if not 0 < port < 65536:
        raise CommandError(f"PORT must lie in 1–65535, got {port}")
    return port


class Command(BaseCommand):
    help = "启动演示系统 / Start the demo: migrate, generate, accounts, collectstatic, serve."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", default=None, help=f"端口，默认取环境变量 PORT 或 {DEFAULT_PORT}")
        parser.add_argument("--no-serve", action="store_true", help="准备好数据后不启动服务（用于测试）")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)

    def handle(self, *args: Any, **options: Any) -> None:
        port = _port(options["port"] or os.environ.get("PORT"))
        began = time.perf_counter()
        self._timed("数据库迁移 / migrate", lambda: call_command("migrate", interactive=False, verbosity=0))
        if Unit.objects.exists():
            self.stdout.write("已有数据，直接使用 / reusing the existing data")
        else:
            self._say("生成演示州市数据 / generating the demo prefecture …")
            ctx = generate(scale="prefecture", seed=options["seed"], log=self._say)
            units, officials = ctx.counts["organisation.Unit"], ctx.counts["organisation.Official"]
            self.stdout.write(f"  {units} 个单位 / units, {officials} 名干部 / officials")
            ratings = ctx.counts["facts.EvaluationScore"]
            results = ctx.counts["facts.IndicatorResult"]
            self.stdout.write(f"  {results} 条指标结果 / indicator results, {ratings} 条测评 / ratings")
        self._compute(queue_latest=not options["no_serve"])
        for cycle in close_finished_cycles():
            self.stdout.write(f"  {cycle.name}: 已结束（只读）/ closed (read-only)")
        accounts = self._timed("演示账号 / demo accounts", ensure_demo_accounts)
        self._timed("静态文件 / collectstatic", _collectstatic)
        self._say(f"准备完成 / ready in {time.perf_counter() - began:.1f} s")
        self._print_logins(port, [user for user, _ in accounts])
        if options["no_serve"]:
            return
        self._serve(port)

    def _say(self, message: str) -> None:
        """One progress line, flushed at once (stdout may be a pipe or a file, not a terminal)."""
        self.stdout.write(message)
        self.stdout.flush()

    def _timed(self, label: str, work: Callable[[], T]) -> T:
        """Run ``work`` between a start line and a line with the time it took; return its result."""
        self._say(f"{label} …")
        started = time.perf_counter()
        result = work()
        self._say(f"  {label}: {time.perf_counter() - started:.1f} s")
        return result

    def _compute(self, *, queue_latest: bool) -> None:
        """Score every cycle that has facts and no run yet, oldest first (cross-year rules). With
        ``queue_latest`` the newest such cycle goes to the job runner started beside the server
        instead, so the first page answers while it is scored (its page shows the progress)."""
        pending = [
            cycle
            for cycle in Cycle.objects.order_by("year")
            if not ScoringRun.objects.filter(cycle=cycle).exists()
            and (
                IndicatorResult.objects.filter(cycle=cycle).exists()
                or EvaluationScore.objects.filter(cycle=cycle).exists()
            )
        ]
        for cycle in pending:
            if queue_latest and cycle is pending[-1]:
                # JobBusy: queued by an earlier start that was stopped before the worker ran it.
                with contextlib.suppress(JobBusy):
                    job_start(kind=JobKind.COMPUTE, actor=None, cycle=cycle, params={"note": DEMO_RUN_NOTE})
                self._say(f"{cycle.name}: 已交后台计算 / queued for the job runner (计分运行 page)")
                continue
            self._say(f"{cycle.name}: 计算中 / computing …")
            started = time.perf_counter()
            try:
                run = run_compute(cycle=cycle, actor=None, note=DEMO_RUN_NOTE)
            except (ScoringError, ValidationError) as exc:  # ValidationError: a closed cycle
                self.stderr.write(f"{cycle.name}: 无法计算 / cannot compute: {exc}")
                continue
            self._say(
                f"  {cycle.name}: 第 {run.number} 次计算 / run {run.number}, "
                f"{run.entity_count} 个对象 / entities, {time.perf_counter() - started:.1f} s"
            )

    def _print_logins(self, port: int, users: list[User]) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"演示地址 / Demo URL:  http://127.0.0.1:{port}/"))
        self.stdout.write(f"演示密码（仅限演示）/ Demo password (demo only):  {catalog.DEMO_PASSWORD}")
        self.stdout.write("账号 / Logins:")
        for user in users:
            unit = f" · {user.unit}" if user.unit_id else ""
            self.stdout.write(f"  {user.username:10} {user.get_role_display()} / {user.role}{unit} · {user}")
        self.stdout.write(
            "考核办等特权账号登录后须输入两步验证码：另开终端运行 `.venv/bin/jixiao otp-code 用户名` 获取"
            " / privileged logins ask for a 2FA code: run `.venv/bin/jixiao otp-code USERNAME`"
        )
        self.stdout.write("按 Ctrl-C 停止 / Press Ctrl-C to stop.")
        self.stdout.flush()

    def _serve(self, port: int) -> None:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        if not gunicorn.exists():
            raise CommandError(f"gunicorn not found next to {sys.executable}")
        argv = [
            str(gunicorn),
            WSGI_APP,
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "-",
        ]
        sys.stdout.flush()
        sys.stderr.flush()
        start_worker()  # the background job runner beside the server (scoring runs, periodic jobs)
        os.execvp(argv[0], argv)  # replaces this process: Ctrl-C reaches gunicorn directly
