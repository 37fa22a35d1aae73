"""Fixtures shared by the results tests."""

from __future__ import annotations

from jixiao.results.tests.test_compute import cycle_with_facts  # noqa: F401  # re-exported fixture
from jixiao.results.tests.test_presentation import scored  # noqa: F401  # re-exported fixture
