"""Lockout probe: a password-guessing burst from one address, then the office from another.

Runs in-process against the Django test client (loopback by construction, no network), on a
throwaway SQLite database, bounded by ``--attempts`` (default 200). Prints attempts / locked /
office-login-ok, and exits non-zero if the office could not log in from its own address.

    .venv/bin/python bench/lockout_probe.py [--attempts 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attempts", type=int, default=200)
    args = parser.parse_args()
    attempts = max(1, min(args.attempts, 10_000))

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
    os.environ["JIXIAO_VAR_DIR"] = tempfile.mkdtemp(prefix="lockout-probe-")
    os.environ.pop("DATABASE_URL", None)
    os.environ["JIXIAO_STATICFILES_BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()  # allows the "testserver" host and the test client
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    settings.JIXIAO_OTP_REQUIRED_ROLES = []  # the probe measures the password step alone
    call_command("migrate", verbosity=0)

    from jixiao.accounts.models import AuditAction, AuditLog, Role
    from jixiao.accounts.services import user_create

    password = "Office-Desk-2026"
    user_create(username="kaohe", password=password, role=Role.OFFICE)
    login = reverse("accounts:login")
    attacker = Client(REMOTE_ADDR="10.0.0.1")
    started = time.perf_counter()
    locked = 0
    for i in range(attempts):
        response = attacker.post(login, {"username": "kaohe", "password": f"guess-{i:05d}"})
        locked += response.status_code == 429
    burst = time.perf_counter() - started
    right_from_attacker = attacker.post(login, {"username": "kaohe", "password": password})
    office = Client(REMOTE_ADDR="10.0.0.2").post(login, {"username": "kaohe", "password": password})
    office_ok = office.status_code == 302
    lock_events = AuditLog.objects.filter(action=AuditAction.LOCKOUT).count()
    print(f"attempts={attempts} from 10.0.0.1 in {burst:.1f} s")
    print(f"locked={locked} (answered 429 without checking the password)")
    print(f"password-checked={attempts - locked} audited-lockouts={lock_events}")
    print(
        f"right-password-from-10.0.0.1={'refused' if right_from_attacker.status_code == 429 else 'accepted'}"
    )
    print(f"office-login-ok={office_ok} (from 10.0.0.2)")
    return 0 if office_ok else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    sys.exit(main())
