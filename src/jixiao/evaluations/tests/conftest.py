from __future__ import annotations

import pytest

from jixiao.evaluations.tests.helpers import World, make_world


@pytest.fixture
def world(db: None) -> World:
    """An open event: one unit's team, its head and two members; peers and staff rate everyone."""
    return make_world()
