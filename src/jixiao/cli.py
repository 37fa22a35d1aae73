"""The ``jixiao`` console script: Django's management commands under a friendlier name.

``jixiao demo``, ``jixiao generate --scale province``, ``jixiao import-registry FILE`` …
(dashes and underscores are interchangeable).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["jixiao", *args[1:]])


if __name__ == "__main__":
    main()
