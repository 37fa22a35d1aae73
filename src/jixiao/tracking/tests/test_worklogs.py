"""Weekly work logs: an official writes one a week about the own unit's indicators; the official,
the head of the team and the office read it; nobody else does."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jixiao.accounts.models import AuditLog, Role
from jixiao.organisation.models import Layer
from jixiao.organisation.tests.factories import UserFactory
from jixiao.schemes.models import CycleStatus
from jixiao.tracking import worklogs
from jixiao.tracking.models import Evidence, WorkLog
from jixiao.tracking.tests import race_world
from jixiao.tracking.tests.race_world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return race_world.build(units=2)


def _this_week() -> date:
    return worklogs.monday(timezone.localdate())


def test_an_official_writes_one_log_a_week_and_writing_again_edits_it(world: World) -> None:
    unit = world.units[0]
    _official, user = race_world.official_user(unit)
    first = worklogs.worklog_save(
        actor=user,
        week=timezone.localdate(),
        text="走访企业三家",
        indicator_ids=[world.indicators[unit.pk][0].pk],
    )
    assert first.week == _this_week() and first.week.weekday() == 0
    again = worklogs.worklog_save(actor=user, week=_this_week() + timedelta(days=2), text="改写")
    assert again.pk == first.pk and WorkLog.objects.count() == 1
    assert again.text == "改写" and list(again.indicators.all()) == []
    assert AuditLog.objects.filter(object_type="tracking.worklog").count() == 2


def test_a_log_names_only_the_own_units_indicators(world: World) -> None:
    _official, user = race_world.official_user(world.units[0])
    with pytest.raises(ValidationError, match="本单位"):
        worklogs.worklog_save(
            actor=user, week=_this_week(), text="x", indicator_ids=[world.indicators[world.units[1].pk][0].pk]
        )


def test_a_future_week_an_empty_text_or_a_closed_cycle_is_refused(world: World) -> None:
    _official, user = race_world.official_user(world.units[0])
    with pytest.raises(ValidationError):
        worklogs.worklog_save(actor=user, week=_this_week() + timedelta(days=7), text="x")
    with pytest.raises(ValidationError):
        worklogs.worklog_save(actor=user, week=_this_week(), text="   ")
    world.cycle.status = CycleStatus.CLOSED
    world.cycle.save()
    with pytest.raises(ValidationError):
        worklogs.worklog_save(actor=user, week=_this_week(), text="x")


def test_only_officials_linked_to_an_official_write(world: World) -> None:
    liaison = world.liaisons[world.units[0].pk]
    with pytest.raises(PermissionDenied):
        worklogs.worklog_save(actor=liaison, week=_this_week(), text="x")
    unlinked = UserFactory(role=Role.OFFICIAL, unit=world.units[0])
    with pytest.raises(PermissionDenied):
        worklogs.worklog_save(actor=unlinked, week=_this_week(), text="x")


def test_the_official_the_head_of_the_team_and_the_office_read_a_log_nobody_else(
    world: World, client: Client
) -> None:
    unit, other = world.units
    _member, author = race_world.official_user(unit)
    log = worklogs.worklog_save(actor=author, week=_this_week(), text="本周推进重点项目")
    _head, head = race_world.official_user(unit, layer=Layer.HEAD)
    _colleague, colleague = race_world.official_user(unit)
    _other_head, other_head = race_world.official_user(other, layer=Layer.HEAD)
    url = reverse("worklogs:log_detail", args=[log.pk])
    readers = {author: 200, head: 200, world.office: 200}
    others = {
        colleague: 404,  # a fellow member is not the superior
        other_head: 404,  # another unit's head
        world.liaisons[unit.pk]: 403,  # the unit's own liaison
        world.leader: 403,
        world.auditor: 403,
        UserFactory(role=Role.LEAD_DEPT, unit=unit): 403,
    }
    for user, status in {**readers, **others}.items():
        client.force_login(user)
        assert client.get(url).status_code == status, user.role
        listing = client.get(reverse("worklogs:log_list"))
        shown = listing.status_code == 200 and "本周推进重点项目" in listing.content.decode()
        assert shown == (user in readers), user.role


def test_a_head_does_not_read_other_units_logs_and_a_heads_own_log_stays_with_the_head(world: World) -> None:
    unit = world.units[0]
    _head, head = race_world.official_user(unit, layer=Layer.HEAD)
    own = worklogs.worklog_save(actor=head, week=_this_week(), text="班子正职的纪实")
    _member, member = race_world.official_user(unit)
    assert own not in worklogs.visible_logs(user=member)
    assert own in worklogs.visible_logs(user=head)


def test_the_official_writes_through_the_page_and_a_bad_form_keeps_the_text(
    world: World, client: Client
) -> None:
    unit = world.units[0]
    _official, user = race_world.official_user(unit)
    client.force_login(user)
    url = reverse("worklogs:log_write")
    page = client.get(url).content.decode()
    assert world.indicators[unit.pk][0].name in page
    assert world.indicators[world.units[1].pk][0].name not in page
    week = _this_week().isoformat()
    bad = client.post(url, {"week": week, "text": "保留的文字", "indicators": ["999999"]})
    assert bad.status_code == 200 and "保留的文字" in bad.content.decode()
    good = client.post(
        url, {"week": week, "text": "本周纪实", "indicators": [world.indicators[unit.pk][1].pk]}
    )
    assert good.status_code == 302
    assert WorkLog.objects.get().indicators.get() == world.indicators[unit.pk][1]


def test_the_navigation_shows_work_logs_to_officials_and_the_office_only(world: World) -> None:
    from jixiao.web.context_processors import nav_links

    _official, user = race_world.official_user(world.units[0])
    assert "/worklogs/" in {u for u, _l in nav_links(user)}
    assert "/worklogs/" in {u for u, _l in nav_links(world.office)}
    assert "/worklogs/" not in {u for u, _l in nav_links(world.liaisons[world.units[0].pk])}
    assert "/worklogs/" not in {u for u, _l in nav_links(world.auditor)}


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_log_keeps_photos_through_the_evidence_store_and_a_bad_file_saves_nothing(
    world: World, client: Client, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    unit = world.units[0]
    _official, user = race_world.official_user(unit)
    client.force_login(user)
    url = reverse("worklogs:log_write")
    week = _this_week().isoformat()
    bad = client.post(
        url, {"week": week, "text": "带照片", "photos": [SimpleUploadedFile("a.png", b"not an image at all")]}
    )
    assert bad.status_code == 200 and "带照片" in bad.content.decode()
    assert not WorkLog.objects.exists() and not Evidence.objects.exists()
    photo = SimpleUploadedFile("site.png", _png(), content_type="image/png")
    assert client.post(url, {"week": week, "text": "现场照片", "photos": [photo]}).status_code == 302
    log = WorkLog.objects.get()
    shot = log.evidence.get()
    assert shot.unit == unit and shot.uploaded_by == user and shot.original_name == "site.png"
    assert client.post(url, {"week": week, "text": "改写后照片仍在"}).status_code == 302
    assert list(WorkLog.objects.get().evidence.all()) == [shot]
    page = client.get(reverse("worklogs:log_detail", args=[log.pk])).content.decode()
    assert "site.png" in page


def test_a_log_only_photo_stays_out_of_the_units_evidence_library(world: World) -> None:
    from jixiao.tracking import selectors
    from jixiao.tracking.tests.factories import EvidenceFactory, ProgressReportFactory

    unit = world.units[0]
    official, _user = race_world.official_user(unit)
    plain, log_only, both = (EvidenceFactory(cycle=world.cycle, unit=unit) for _ in range(3))
    log = WorkLog.objects.create(cycle=world.cycle, official=official, week=_this_week(), text="现场")
    log.evidence.set([log_only, both])
    report = ProgressReportFactory(indicator=world.indicators[unit.pk][0])
    report.evidence.add(both)
    assert set(selectors.unit_evidence(world.cycle, unit)) == {plain, both}


def test_a_log_only_photo_opens_for_its_author_and_the_office_but_not_for_the_liaison_by_its_link(
    world: World,
) -> None:
    from jixiao.tracking import selectors
    from jixiao.tracking.tests.factories import EvidenceFactory

    unit = world.units[0]
    official, author = race_world.official_user(unit)
    photo = EvidenceFactory(cycle=world.cycle, unit=unit)
    log = WorkLog.objects.create(cycle=world.cycle, official=official, week=_this_week(), text="现场")
    log.evidence.add(photo)
    liaison = world.liaisons[unit.pk]
    office = UserFactory(role=Role.OFFICE)
    auditor = UserFactory(role=Role.AUDITOR)
    assert photo in selectors.visible_evidence(author)
    assert photo in selectors.visible_evidence(office)
    assert photo not in selectors.visible_evidence(liaison)
    assert photo not in selectors.visible_evidence(auditor)
    client = Client()
    client.force_login(liaison)
    assert client.get(reverse("tracking:evidence_download", args=[photo.pk])).status_code == 404
