from __future__ import annotations

from jixiao.evaluations.tests.conftest import world  # noqa: F401  # re-exported fixture
from jixiao.results.tests.test_compute import cycle_with_facts  # noqa: F401  # re-exported fixture
