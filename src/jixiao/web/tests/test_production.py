"""JIXIAO_PRODUCTION=1 refuses unsafe settings and demo accounts; HTTPS settings follow secure cookies."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from jixiao.accounts.models import Role, User
from jixiao.config.env import ConfigError
from jixiao.config.production import refuse, settings_problems
from jixiao.demo.catalog import DEMO_PASSWORD
from jixiao.web.checks import check_demo_accounts, demo_usernames_with_demo_password

GOOD_KEY = "k" + secrets.token_urlsafe(60)


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JIXIAO_"))}
    # Production also needs a sender that really sends (settings refuse the log sender); any other
    # importable sender satisfies the settings for these checks.
    clean.update(
        DJANGO_SETTINGS_MODULE="jixiao.config.settings",
        JIXIAO_RATING_SENDER="jixiao.surveys.senders.MemorySender",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=120, check=False
    )


def test_debug_a_demo_key_and_a_short_key_are_each_refused() -> None:
    assert len(settings_problems(debug=True, secret_key=GOOD_KEY)) == 1
    assert (
        len(
            settings_problems(
                debug=False, secret_key="jixiao-demo-only-not-secret-set-DJANGO_SECRET_KEY-in-production"
            )
        )
        == 1
    )
    assert len(settings_problems(debug=False, secret_key="django-insecure-" + "x" * 60)) == 1
    assert len(settings_problems(debug=False, secret_key="short-key")) == 1
    assert len(settings_problems(debug=False, secret_key="a" * 60)) == 1  # long but not varied
    assert settings_problems(debug=False, secret_key=GOOD_KEY) == []


def test_refuse_lists_every_problem_in_one_bilingual_message() -> None:
    with pytest.raises(ConfigError) as raised:
        refuse(settings_problems(debug=True, secret_key="short"))
    message = str(raised.value)
    assert "调试" in message and "DEBUG" in message and "太短" in message


@pytest.mark.parametrize(
    "env",
    [
        {"DJANGO_DEBUG": "1", "DJANGO_SECRET_KEY": GOOD_KEY},
        {"DJANGO_SECRET_KEY": "too-short"},
        {},  # the demo key
    ],
    ids=["debug", "short-key", "demo-key"],
)
def test_production_settings_refuse_to_load(env: dict[str, str]) -> None:
    result = _run("import django; django.setup()", JIXIAO_PRODUCTION="1", **env)
    assert result.returncode != 0
    assert "JIXIAO_PRODUCTION=1" in result.stderr


def test_production_turns_on_https_only_cookies_redirect_and_hsts() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)"
    )
    result = _run(code, JIXIAO_PRODUCTION="1", DJANGO_SECRET_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "31536000"]


def test_check_deploy_is_clean_in_production_mode(tmp_path: Path) -> None:
    result = _run(
        "from django.core.management import execute_from_command_line as r; "
        "r(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        JIXIAO_PRODUCTION="1",
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_ALLOWED_HOSTS="jixiao.example.gov.cn",
        JIXIAO_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_demo_accounts_with_the_demo_password_fail_the_production_check(settings: object) -> None:
    User.objects.create_user(username="kaohe", password=DEMO_PASSWORD, role=Role.OFFICE)
    User.objects.create_user(username="shenji", password="a-changed-Password-2026", role=Role.AUDITOR)
    assert demo_usernames_with_demo_password() == ["kaohe"]
    settings.PRODUCTION = True  # type: ignore[attr-defined]
    errors = check_demo_accounts()
    assert [e.id for e in errors] == ["jixiao.E001"] and "kaohe" in errors[0].msg
    settings.PRODUCTION = False  # type: ignore[attr-defined]
    assert check_demo_accounts() == []


def test_every_page_carries_a_policy_that_forbids_inline_script(client: Client) -> None:
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";")[0]
