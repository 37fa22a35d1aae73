"""What ``JIXIAO_PRODUCTION=1`` refuses at start.

A production server that starts with DEBUG on, a guessable secret key or the demo's accounts is
worse than one that does not start: each is a way in (DEBUG pages leak settings and SQL, the secret
key signs sessions and password-reset links, the demo passwords are printed in the README). So the
settings module raises :class:`ConfigError` with every problem at once, in Chinese and English, and
the WSGI entry point refuses demo accounts before serving the first request.
"""

from __future__ import annotations

from collections.abc import Iterable

from jixiao.config.env import ConfigError

MIN_SECRET_KEY_LENGTH = 50
# Keys that appear in our repository or in Django's own project template: never secret.
KNOWN_SECRET_KEYS = frozenset(
    {
        "jixiao-demo-only-not-secret-set-DJANGO_SECRET_KEY-in-production",
        "changeme",
        "secret",
        "django-insecure",
    }
)


def settings_problems(*, debug: bool, secret_key: str) -> list[str]:
    """Every reason the settings are unsafe for production, each as one bilingual sentence."""
    problems: list[str] = []
    if debug:
        problems.append("生产模式不允许开启调试（DJANGO_DEBUG）。DEBUG must be off in production.")
    if secret_key in KNOWN_SECRET_KEYS or secret_key.startswith("django-insecure"):
        problems.append(
            "DJANGO_SECRET_KEY 是公开的演示或默认密钥，请生成新的随机密钥。"
            "DJANGO_SECRET_KEY is a published demo/default key: generate a random one."
        )
    elif len(secret_key) < MIN_SECRET_KEY_LENGTH or len(set(secret_key)) < 5:
        problems.append(
            f"DJANGO_SECRET_KEY 太短或过于简单（至少 {MIN_SECRET_KEY_LENGTH} 个字符）。"
            f"DJANGO_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} varied characters."
        )
    return problems


def demo_account_problems(usernames_with_demo_password: Iterable[str]) -> list[str]:
    names = sorted(usernames_with_demo_password)
    if not names:
        return []
    return [
        f"存在使用演示密码的账号：{'、'.join(names)}。请删除演示账号或修改其密码。"
        f"Accounts with the published demo password exist ({', '.join(names)}): delete them or "
        "change their passwords."
    ]


def refuse(problems: list[str]) -> None:
    """Raise one error that lists every problem (fix them all in one go, not one per restart)."""
    if problems:
        raise ConfigError(
            "JIXIAO_PRODUCTION=1：以下问题须先解决 / must be fixed first:\n- " + "\n- ".join(problems)
        )
