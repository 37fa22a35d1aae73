"""``jixiao worker``: the product's one job runner.

django-tasks' database worker (``db_worker``) runs queued jobs but has no scheduler, so this loop
alternates: queue the periodic jobs that are due (jobs.periodic), run everything queued, sleep.
One process is enough for an assessment office; more can run side by side (claims are exclusive).
``--exit-with-parent`` makes it stop when the process that started it ends (``jixiao demo`` starts
it beside gunicorn, which replaces the demo process and keeps its pid).
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from jixiao.jobs.periodic import periodic_enqueue_due


def _refuse_without_cjk_font() -> None:
    # The worker renders the PDFs (bulletins): without a CJK font they would print boxes.
    if settings.JIXIAO_REQUIRE_CJK_FONT:
        from jixiao.web.fonts import cjk_font_problems

        problems = cjk_font_problems()
        if problems:
            raise CommandError("\n".join(problems))


class Command(BaseCommand):
    help = "后台任务进程：执行排队的任务，并按时提交定期任务（测评票入库、发送评价链接、样本监测）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="队列为空时的等待秒数")
        parser.add_argument("--once", action="store_true", help="提交到期的定期任务、执行完队列后退出")
        parser.add_argument("--no-periodic", action="store_true", help="不提交定期任务，只执行队列")
        parser.add_argument("--exit-with-parent", action="store_true", help="启动它的进程结束时退出")

    def handle(self, *args: Any, **options: Any) -> None:
        _refuse_without_cjk_font()
        parent = os.getppid()
        worker = Worker(
            queue_names=["default"],
            interval=0,
            batch=True,  # run() returns when the queue is empty: then we schedule and sleep
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        self.stdout.write(f"worker {worker.worker_id[:8]} started")
        self.stdout.flush()
        while worker.running:
            if not options["no_periodic"]:
                periodic_enqueue_due()
            worker.run()
            if options["once"] or (options["exit_with_parent"] and os.getppid() != parent):
                break
            time.sleep(options["interval"])
