"""``jixiao ledger-roots``: the checkpoints and their SM3 Merkle roots, for publication."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Print every ledger checkpoint with its SM3 Merkle root (--checkpoint closes one first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint", action="store_true", help="close a checkpoint over new entries first"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from jixiao.ledger.models import Checkpoint
        from jixiao.ledger.services import checkpoint_create

        if options["checkpoint"]:
            created = checkpoint_create()
            if created is None:
                self.stdout.write(_("没有新的账本条目，未生成检查点。"))
        checkpoints = list(Checkpoint.objects.order_by("number"))
        if not checkpoints:
            self.stdout.write(_("尚无检查点。"))
        for cp in checkpoints:
            self.stdout.write(
                _("检查点 %(n)d  %(at)s  条目 #%(a)d–#%(b)d  默克尔根 %(root)s  链头 %(head)s")
                % {
                    "n": cp.number,
                    "at": f"{cp.at:%Y-%m-%d %H:%M:%S}",
                    "a": cp.first_seq,
                    "b": cp.last_seq,
                    "root": cp.root,
                    "head": cp.head_hash,
                }
            )
