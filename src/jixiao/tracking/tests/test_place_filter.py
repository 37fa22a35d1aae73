from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from jixiao.tracking.templatetags.tracking import place


def test_a_photos_place_reads_as_latitude_and_longitude_to_four_decimals() -> None:
    photo = SimpleNamespace(latitude=Decimal("28.164843"), longitude=Decimal("-109.626551"))
    assert place(photo) == "北纬 28.1648°，西经 109.6266°"


def test_a_file_without_a_place_shows_nothing() -> None:
    assert place(SimpleNamespace(latitude=None, longitude=None)) == ""
