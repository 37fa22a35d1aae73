"""Rate-any-time: a one-time link valid for 7 days, used once, with clear messages otherwise."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import HttpResponse
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


RATE = "/surveys/r/"


def _token(link: str | None) -> str:
    """The token of a rating link: after the ``#`` (the fragment the browser never sends)."""
    assert link is not None and "#" in link
    return link.split("#", 1)[1]


def _open(client: Client, link: str | None) -> HttpResponse:
    """What the start page's script does: post the fragment's token to the token-free page."""
    return client.post(RATE, {"token": _token(link)})  # type: ignore[return-value]


def test_the_link_rates_once_and_then_says_it_was_used() -> None:
    recorded = _event()
    client = Client(enforce_csrf_checks=True)
    page = _open(client, recorded.link)
    assert page.status_code == 200 and "请为本次服务打分" in page.content.decode()
    done = client.post(
        RATE,
        {
            "token": _token(recorded.link),
            "score": "9",
            "tag": ["高效", "乱写的标签"],
            "opinion": "身份证430102198001011234",
        },
    )
    assert "感谢您的评价" in done.content.decode()
    rating = ServiceRating.objects.get()
    assert (rating.score, rating.tags, rating.official_id) == (9, ["高效"], recorded.event.official_id)
    assert "430102198001011234" not in rating.opinion
    again = client.post(RATE, {"token": _token(recorded.link), "score": "1"})
    assert again.status_code == 200 and "已经评价过" in again.content.decode()
    assert ServiceRating.objects.count() == 1


def test_the_link_expires_after_seven_days() -> None:
    recorded = _event()
    event = recorded.event
    assert event.expires_at - event.created_at >= timedelta(days=7) - timedelta(seconds=5)
    token = _token(recorded.link)
    later = timezone.now() + timedelta(days=7, seconds=1)
    assert (
        ratetime.rating_submit(token=token, score=5, tags=[], opinion="", now=later)
        == ratetime.LinkStatus.EXPIRED
    )
    ServiceEvent.objects.filter(pk=event.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    page = _open(Client(), recorded.link)
    assert (
        page.status_code == 200 and "链接已过期" in page.content.decode() and "7 天" in page.content.decode()
    )
    assert not ServiceRating.objects.exists()


def test_only_the_hash_of_the_token_is_stored() -> None:
    recorded = _event()
    token = _token(recorded.link)
    assert len(token) >= 32
    assert not ServiceEvent.objects.filter(token_hash=token).exists()
    assert ServiceEvent.objects.filter(token_hash=ratetime.token_hash(token)).exists()


def test_an_unknown_link_gets_a_friendly_page() -> None:
    response = Client().post(RATE, {"token": "not-a-real-token"})
    assert response.status_code == 404 and "没有找到这条评价链接" in response.content.decode()


def test_a_score_outside_one_to_ten_asks_again_without_using_the_link() -> None:
    recorded = _event()
    response = Client().post(RATE, {"token": _token(recorded.link), "score": "11"})
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


def test_the_link_carries_its_token_in_the_fragment_never_in_the_path() -> None:
    recorded = _event()
    assert recorded.link is not None
    path, _hash, token = recorded.link.partition("#")
    assert path.endswith(RATE) and token and token not in path


def test_the_start_page_loads_its_script_from_a_static_file_not_inline() -> None:
    page = Client().get(RATE).content.decode()
    assert "surveys/rate_open.js" in page
    assert "<script>" not in page and " onload=" not in page


def test_no_request_of_a_rating_holds_the_token_in_its_path_or_query() -> None:
    recorded = _event()
    token = _token(recorded.link)
    client = Client()
    seen: list[str] = []
    for response in (
        client.get(RATE),  # the browser opens /surveys/r/#<token>: the fragment is not sent
        _open(client, recorded.link),
        client.post(RATE, {"token": token, "score": "7"}),
    ):
        seen.append(response.wsgi_request.get_full_path())
        assert response.status_code == 200
        if "rate-open" in (page := response.content.decode()) or 'name="score"' in page:
            assert response["Referrer-Policy"] == "no-referrer"  # the token page sends no Referer
    assert all(token not in line for line in seen), seen
    assert ServiceRating.objects.get().score == 7


def test_an_old_form_link_still_works_once_by_exchanging_the_token_for_a_session() -> None:
    recorded = _event()
    token = _token(recorded.link)
    client = Client()
    old = client.get(f"{RATE}{token}/")
    assert old.status_code == 302 and old["Location"] == RATE and token not in old["Location"]
    page = client.get(RATE)
    assert page.status_code == 200 and "请为本次服务打分" in page.content.decode()
    assert token in page.content.decode()  # carried on in the form's body, not in a URL
    assert client.get(RATE).content.decode().count("请为本次服务打分") == 0  # the session forgot it
    done = client.post(RATE, {"token": token, "score": "8"})
    assert "感谢您的评价" in done.content.decode()
