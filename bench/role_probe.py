"""Figure: what each role reaches that it should not, over every URL of the URLconf.

    .venv/bin/python bench/role_probe.py

Creates a throwaway test database (SQLite in memory, or Django's ``test_<name>`` of DATABASE_URL,
dropped at the end), generates the tiny demo, scores both cycles, then walks every GET route of
``tests/urlwalk.py`` as each role (with the demo account of the role) and counts:

- pages with appraisal data (answered 200 outside the account, notification and home pages) an
  administrator of 三权分立 reaches;
- full birth dates and phone numbers in the pages and Excel exports a role reads (only the office
  needs them; the office's own figure is shown for comparison).
(Rating-link tokens are kept only as hashes, so they are checked by the tests of the log filter
and of the fragment links, not here.)

Prints a table; it is not a test (tests/test_url_walk.py holds the same rules).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
    # Plain static storage: the walk renders pages without a collectstatic manifest.
    os.environ.setdefault(
        "JIXIAO_STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    import django

    django.setup()
    from django.conf import settings

    # force_login gives no second factor: the walk reads pages as a verified session would (the
    # second factor has its own tests in accounts/tests).
    settings.JIXIAO_OTP_REQUIRED_ROLES = []
    logging.disable(logging.CRITICAL)
    warnings.filterwarnings("ignore")
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        _run()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def _run() -> None:
    from django.test import Client, override_settings
    from tests import urlwalk
    from tests.test_url_walk import ADMIN_PAGES, ROLES, _birth_forms, _give_scoped_users_a_unit, _readable

    from jixiao.accounts.models import ADMIN_ROLES, User
    from jixiao.demo.generator import generate
    from jixiao.organisation.models import Official
    from jixiao.results.services import run_compute
    from jixiao.schemes.models import Cycle

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        generate(scale="tiny", seed=11)
    for cycle in Cycle.objects.order_by("year"):
        run_compute(cycle=cycle, actor=None)
    _give_scoped_users_a_unit()
    births = {
        f
        for d in Official.objects.exclude(birth_date=None).values_list("birth_date", flat=True)
        for f in _birth_forms(d)
    }
    phones = {p for p in User.objects.exclude(phone="").values_list("phone", flat=True) if len(p) == 11}
    print(
        f"{'role':<12}{'pages':>7}{'answered 200':>14}{'appraisal pages (admins)':>26}{'birth dates':>13}{'phones':>8}"
    )
    for role in ROLES:
        user = User.objects.filter(role=role).order_by("pk").first()
        if user is None:
            continue
        client = Client()
        client.raise_request_exception = False
        client.force_login(user)
        pages = ok = appraisal = birth = phone = 0
        for route, url in urlwalk.urls():
            if url is None or route.name == "accounts:logout":
                continue
            response = client.get(url)
            pages += 1
            ok += response.status_code == 200
            if role in ADMIN_ROLES and response.status_code == 200 and not route.name.startswith(ADMIN_PAGES):
                appraisal += 1
            text = _readable(response)
            birth += sum(1 for b in births if b in text)
            phone += sum(1 for p in phones if p in text)
        print(f"{role:<12}{pages:>7}{ok:>14}{appraisal:>26}{birth:>13}{phone:>8}")


if __name__ == "__main__":
    main()
