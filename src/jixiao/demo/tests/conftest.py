"""Fixtures for the demo generator tests: fast password hashing, a private static root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Registered here rather than in pyproject.toml, which this package does not own.
    config.addinivalue_line("markers", "prefecture: generates the full demo prefecture (a few seconds)")


@pytest.fixture(autouse=True)
def _fast_demo_settings(settings: Any, tmp_path: Path) -> None:
    # PBKDF2 would spend most of a demo run hashing the seven demo passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STATIC_ROOT = tmp_path / "static"
