"""``jixiao generate --scale prefecture|province --seed N [--reset] [--tracking]``: fill an empty database."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jixiao.demo.generator import DEFAULT_SEED, database_is_empty, generate, reset_database
from jixiao.demo.pipeline import SCALES


class Command(BaseCommand):
    help = "生成演示数据（确定性：同一种子得到同样的数据）/ Generate deterministic demo data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="prefecture")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument(
            "--reset",
            action="store_true",
            help="先清空整个数据库（含用户与审计日志）/ flush the database first",
        )
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--tracking",
            action="store_true",
            help="全省规模另生成月度进展（约1700万条）与红黄绿灯 / province: also the monthly reports and lights",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        using: str = options["database"]
        if not database_is_empty(using):
            if not options["reset"]:
                raise CommandError(
                    "数据库已有数据；加 --reset 清空后重新生成。/ "
                    "The database is not empty; pass --reset to flush it and generate again."
                )
            self.stdout.write("清空数据库 / flushing the database …")
            reset_database(using)
        started = time.perf_counter()
        ctx = generate(
            scale=options["scale"],
            seed=options["seed"],
            using=using,
            log=lambda m: self.stdout.write(f"  {m}"),
            flags=("tracking",) if options["tracking"] else (),
        )
        elapsed = time.perf_counter() - started
        for label, count in ctx.counts.items():
            self.stdout.write(f"{label:32} {count:>10,}")
        self.stdout.write(
            self.style.SUCCESS(f"完成 / done: scale={ctx.scale.name} seed={ctx.seed} in {elapsed:.1f} s")
        )
