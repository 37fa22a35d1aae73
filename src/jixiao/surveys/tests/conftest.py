from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jixiao.surveys.antiabuse import Limiters
from jixiao.surveys.submit import forget_snapshots


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """These tests make many users and never check a password: skip PBKDF2's deliberate slowness."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_worker_state() -> Iterator[None]:
    """Each test starts with empty rate-limit buckets and no cached survey links, as a new worker."""
    Limiters.reset()
    forget_snapshots()
    yield
    Limiters.reset()
    forget_snapshots()
