"""Schemathesis against the whole service API, with more examples than the suite's bounded run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jixiao_fuzz .venv/bin/python bench/fuzz_api.py [--examples 300]

Creates a throwaway test database (Django's ``test_<name>``, dropped at the end; SQLite in memory
when DATABASE_URL is unset), issues a token for one unit and one for another, then runs every
OpenAPI operation in-process through the WSGI handler (no network, not even loopback):
schema-conforming and non-conforming cases, a share of them spiked with NUL, other control
characters or 20,000-character strings, each sent as the unit's token, another unit's token and
no token. Deterministic (derandomized). Prints operations tested, requests, answers by status and
the 5xx count (exit status 1 when any 5xx). This is not a test; the suite runs the same check
bounded (src/jixiao/surveys/tests/test_api_fuzz.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=300, help="examples per operation and mode")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
    import django

    django.setup()
    # The figures are the output: each 5xx is listed with its request, so the logs add nothing.
    logging.disable(logging.CRITICAL)
    warnings.filterwarnings("ignore", message="No directory at")
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return _run(args.examples)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def _run(examples: int) -> int:
    from jixiao.accounts.models import Role
    from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory, UserFactory
    from jixiao.surveys import services
    from jixiao.surveys.tests.apifuzz import fuzz_api

    office = UserFactory(role=Role.OFFICE)
    token, raw = services.service_token_create(actor=office, name="政务服务系统", unit=UnitFactory())
    OfficialFactory(unit=token.unit)
    _other, other_raw = services.service_token_create(actor=office, name="其他系统", unit=UnitFactory())
    started = time.perf_counter()
    report = fuzz_api(
        callers={
            "unit token": {"Authorization": f"Bearer {raw}"},
            "other unit's token": {"Authorization": f"Bearer {other_raw}"},
            "no token": {},
        },
        examples_per_operation=examples,
    )
    elapsed = time.perf_counter() - started
    from django.db import connection

    print(f"database: {connection.vendor}")
    print(f"operations tested: {len(report.operations)} ({', '.join(report.operations)})")
    print(f"examples per operation and mode: {examples} (positive + negative)")
    print(f"requests: {report.requests} in {elapsed:.1f} s")
    print("answers by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(report.statuses.items())))
    print(f"5xx: {report.server_error_count}")
    for line in report.server_errors[:10]:
        print("  " + line)
    return 1 if report.server_errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
