"""Repository-wide pytest set-up: Debian Chromium for browser tests, never a downloaded browser;
Hypothesis without its per-example deadline."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

# Hypothesis fails an example that takes over 200 ms by default: on a shared 2-core machine under
# load 10 a plain example can, and the test then fails for the machine, not for the code. Timings
# are never assertions here; a test that needs a bound sets it itself.
hypothesis_settings.register_profile("jixiao", deadline=None)
hypothesis_settings.load_profile("jixiao")

# Playwright's sync API runs an event loop in the test thread; Django's live_server ORM calls
# from that thread would otherwise raise SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("JIXIAO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_configure(config: pytest.Config) -> None:
    # Hashed (manifest) static URLs need collectstatic; tests and live_server use plain storage.
    # pytest-django has loaded settings by now, but no storage has been touched yet.
    if not config.pluginmanager.hasplugin("django"):
        return  # `make test-engine` runs the pure scoring tests without Django
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Tests log in with ``client.force_login``, which gives no second factor: the requirement
    # (on for the privileged roles by default, JIXIAO_OTP_REQUIRED_ROLES) is off for the whole
    # run, before any session-scoped fixture builds the demo. The accounts tests turn it back on
    # with the default configuration's value to prove it holds.
    settings.JIXIAO_OTP_REQUIRED_ROLES = []


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which(CHROMIUM) is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if chromium_available():
        return
    browser_items = [item for item in items if item.get_closest_marker("browser")]
    if browser_items and os.environ.get("CI"):
        # In CI a missing browser is a failure, not a skip: the browser tests are mandatory.
        raise pytest.UsageError(f"CI=true but no Chromium at {CHROMIUM}: install Debian's chromium")
    skip = pytest.mark.skip(
        reason=f"browser tests need Debian Chromium at {CHROMIUM} (apt-get install chromium)"
    )
    for item in browser_items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _chinese_by_default(request: pytest.FixtureRequest) -> Any:
    """Each test starts in the default language: a request made in English activates English for
    the whole thread (LocaleMiddleware never deactivates), which would leak into later tests."""
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
