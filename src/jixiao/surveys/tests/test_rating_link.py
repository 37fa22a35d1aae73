"""Rate-any-time: a one-time link valid for 7 days, used once, with clear messages otherwise."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from jixiao.organisation.tests.factories import OfficialFactory
from jixiao.surveys import ratetime
from jixiao.surveys.models import EventChannel, ServiceEvent, ServiceRating

pytestmark = pytest.mark.django_db


def _event(**kwargs: object) -> ratetime.RecordedEvent:
    official = OfficialFactory()
    defaults: dict[str, object] = {
        "unit": official.unit,
        "official": official,
        "service": "营业执照办理",
        "channel": EventChannel.NONE,
    }
    return ratetime.event_record(**{**defaults, **kwargs})  # type: ignore[arg-type]


def _path(link: str) -> str:
    return link.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_the_link_rates_once_and_then_says_it_was_used() -> None:
    recorded = _event()
    assert recorded.link is not None
    client = Client(enforce_csrf_checks=True)
    page = client.get(_path(recorded.link))
    assert page.status_code == 200 and "请为本次服务打分" in page.content.decode()
    done = client.post(
        _path(recorded.link),
        {"score": "9", "tag": ["高效", "乱写的标签"], "opinion": "身份证430102198001011234"},
    )
    assert "感谢您的评价" in done.content.decode()
    rating = ServiceRating.objects.get()
    assert (rating.score, rating.tags, rating.official_id) == (9, ["高效"], recorded.event.official_id)
    assert "430102198001011234" not in rating.opinion
    again = client.post(_path(recorded.link), {"score": "1"})
    assert again.status_code == 200 and "已经评价过" in again.content.decode()
    assert ServiceRating.objects.count() == 1


def test_the_link_expires_after_seven_days() -> None:
    recorded = _event()
    event = recorded.event
    assert event.expires_at - event.created_at >= timedelta(days=7) - timedelta(seconds=5)
    token = recorded.link.rstrip("/").rsplit("/", 1)[1]  # type: ignore[union-attr]
    later = timezone.now() + timedelta(days=7, seconds=1)
    assert (
        ratetime.rating_submit(token=token, score=5, tags=[], opinion="", now=later)
        == ratetime.LinkStatus.EXPIRED
    )
    ServiceEvent.objects.filter(pk=event.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    page = Client().get(_path(recorded.link))  # type: ignore[arg-type]
    assert (
        page.status_code == 200 and "链接已过期" in page.content.decode() and "7 天" in page.content.decode()
    )
    assert not ServiceRating.objects.exists()


def test_only_the_hash_of_the_token_is_stored() -> None:
    recorded = _event()
    token = recorded.link.rstrip("/").rsplit("/", 1)[1]  # type: ignore[union-attr]
    assert len(token) >= 32
    assert not ServiceEvent.objects.filter(token_hash=token).exists()
    assert ServiceEvent.objects.filter(token_hash=ratetime.token_hash(token)).exists()


def test_an_unknown_link_gets_a_friendly_page() -> None:
    response = Client().get("/surveys/r/not-a-real-token/")
    assert response.status_code == 404 and "没有找到这条评价链接" in response.content.decode()


def test_a_score_outside_one_to_ten_asks_again_without_using_the_link() -> None:
    recorded = _event()
    response = Client().post(_path(recorded.link), {"score": "11"})  # type: ignore[arg-type]
    assert response.status_code == 200 and "请先选择 1–10 分" in response.content.decode()
    assert ServiceEvent.objects.get().rated_at is None


def test_an_official_of_another_unit_cannot_be_named() -> None:
    from django.core.exceptions import ValidationError

    other = OfficialFactory()
    with pytest.raises(ValidationError):
        _event(official=other, unit=OfficialFactory().unit)


def test_the_same_external_reference_returns_the_existing_event() -> None:
    first = _event(external_ref="BJ-2025-1")
    second = ratetime.event_record(
        unit=first.event.unit, official=None, service="x", channel=EventChannel.NONE, external_ref="BJ-2025-1"
    )
    assert second.duplicate and second.link is None and second.event.pk == first.event.pk
