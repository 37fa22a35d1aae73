"""Every staff page per role: office configures, liaisons see their unit, auditors only read."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import AuditLog, Role
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.surveys import ratetime, services
from jixiao.surveys.models import (
    EventChannel,
    ServiceEvent,
    ServiceRating,
    Survey,
    SurveyResponse,
    SurveyTarget,
)
from jixiao.surveys.tests.factories import RaterGroupFactory, TargetFactory, survey_with_questions

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, object]:
    mine, theirs = UnitFactory(name="本单位"), UnitFactory(name="别的单位")
    target = TargetFactory(survey=survey_with_questions().survey, unit=mine)
    other = TargetFactory(survey=target.survey, unit=theirs)
    SurveyResponse.objects.create(
        survey=target.survey,
        target=target,
        points={"overall": 100},
        opinion="本单位的意见",
        created_at="2025-03-01T00:00:00Z",
    )
    SurveyResponse.objects.create(
        survey=target.survey,
        target=other,
        points={"overall": 0},
        opinion="别的单位的意见",
        created_at="2025-03-01T00:00:00Z",
    )
    users = {
        role: UserFactory(
            role=role, unit=mine if role in {Role.LIAISON, Role.OFFICIAL, Role.LEAD_DEPT} else None
        )
        for role in Role
    }
    return {
        "mine": mine,
        "theirs": theirs,
        "target": target,
        "other": other,
        "survey": target.survey,
        "users": users,
    }


def _client(world: dict[str, object], role: Role) -> Client:
    client = Client()
    client.force_login(world["users"][role])  # type: ignore[index]
    return client


def _pages(world: dict[str, object]) -> dict[str, str]:
    survey: Survey = world["survey"]  # type: ignore[assignment]
    target: SurveyTarget = world["target"]  # type: ignore[assignment]
    return {
        "list": reverse("surveys:survey_list"),
        "create": reverse("surveys:survey_create"),
        "detail": reverse("surveys:survey_detail", args=[survey.pk]),
        "edit": reverse("surveys:survey_edit", args=[survey.pk]),
        "qr": reverse("surveys:target_qr", args=[target.pk]),
        "events": reverse("surveys:event_list"),
        "event_new": reverse("surveys:event_create"),
        "tokens": reverse("surveys:token_list"),
        "monitor": reverse("surveys:monitor"),
        "thirdparty": reverse("surveys:thirdparty"),
        "inbox": reverse("surveys:inbox"),
    }


# GET status per role and page: 200 allowed, 403 refused, 404 out of scope.
EXPECTED: dict[Role, dict[str, int]] = {
    Role.OFFICE: dict.fromkeys(
        [
            "list",
            "create",
            "detail",
            "edit",
            "qr",
            "events",
            "event_new",
            "tokens",
            "monitor",
            "thirdparty",
            "inbox",
        ],
        200,
    ),
    Role.AUDITOR: {
        "list": 200,
        "create": 403,
        "detail": 200,
        "edit": 403,
        "qr": 200,
        "events": 200,
        "event_new": 403,
        "tokens": 200,
        "monitor": 200,
        "thirdparty": 200,
        "inbox": 200,
    },
    Role.LEADER: {
        "list": 200,
        "create": 403,
        "detail": 200,
        "edit": 403,
        "qr": 200,
        "events": 200,
        "event_new": 403,
        "tokens": 403,
        "monitor": 200,
        "thirdparty": 403,
        "inbox": 200,
    },
    Role.LIAISON: {
        "list": 200,
        "create": 403,
        "detail": 200,
        "edit": 403,
        "qr": 200,
        "events": 200,
        "event_new": 200,
        "tokens": 403,
        "monitor": 403,
        "thirdparty": 403,
        "inbox": 200,
    },
    Role.LEAD_DEPT: {
        "list": 200,
        "create": 403,
        "detail": 200,
        "edit": 403,
        "qr": 200,
        "events": 200,
        "event_new": 403,
        "tokens": 403,
        "monitor": 403,
        "thirdparty": 403,
        "inbox": 403,
    },
    Role.OFFICIAL: {
        "list": 200,
        "create": 403,
        "detail": 200,
        "edit": 403,
        "qr": 200,
        "events": 200,
        "event_new": 403,
        "tokens": 403,
        "monitor": 403,
        "thirdparty": 403,
        "inbox": 403,
    },
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_gets_exactly_the_pages_it_should(world: dict[str, object], role: Role) -> None:
    client = _client(world, role)
    got = {name: client.get(url).status_code for name, url in _pages(world).items()}
    assert got == EXPECTED[role]


def test_anonymous_users_are_sent_to_log_in(world: dict[str, object]) -> None:
    for url in _pages(world).values():
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_a_liaison_sees_only_their_units_link_and_opinions(world: dict[str, object]) -> None:
    client = _client(world, Role.LIAISON)
    detail = client.get(_pages(world)["detail"])
    assert [row[0] for row in detail.context["rows"]] == [world["target"]]
    assert detail.context["stats"].responses == 1
    inbox = client.get(_pages(world)["inbox"]).content.decode()
    assert "本单位的意见" in inbox and "别的单位的意见" not in inbox
    other_qr = reverse("surveys:target_qr", args=[world["other"].pk])  # type: ignore[attr-defined]
    assert client.get(other_qr).status_code == 404


def test_the_office_sees_every_opinion_and_can_filter_by_unit(world: dict[str, object]) -> None:
    client = _client(world, Role.OFFICE)
    body = client.get(_pages(world)["inbox"]).content.decode()
    assert "本单位的意见" in body and "别的单位的意见" in body
    only = client.get(_pages(world)["inbox"], {"unit": world["theirs"].pk}).content.decode()  # type: ignore[attr-defined]
    assert "本单位的意见" not in only and "别的单位的意见" in only


def test_the_office_creates_a_survey_with_links_for_chosen_units_and_it_is_audited(
    world: dict[str, object],
) -> None:
    client = _client(world, Role.OFFICE)
    response = client.post(
        reverse("surveys:survey_create"),
        {
            "cycle": world["survey"].cycle_id,  # type: ignore[attr-defined]
            "title": "2025年政务服务满意度",
            "questions": "overall|总体满意度\nspeed|办事效率",
            "scale": "很满意=100\n满意=80\n基本满意=60\n不太满意=30\n不满意=0",
            "tags": "热情",
            "allow_opinion": "on",
            "rater_group": "public",
            "dedupe_hours": "24",
            "limit_hours": "24",
            "address_limit": "5",
            "device_limit": "20",
            "is_open": "on",
            "units": [world["mine"].pk, world["theirs"].pk],  # type: ignore[attr-defined]
        },
    )
    assert response.status_code == 302
    survey = Survey.objects.get(title="2025年政务服务满意度")
    assert SurveyTarget.objects.filter(survey=survey).count() == 2
    assert list(survey.questions.values_list("item", flat=True)) == ["overall", "speed"]
    assert AuditLog.objects.filter(action="create", object_type="surveys.survey").count() == 1


def test_a_bad_scale_is_shown_back_on_the_form(world: dict[str, object]) -> None:
    client = _client(world, Role.OFFICE)
    response = client.post(reverse("surveys:survey_edit", args=[world["survey"].pk]), {"scale": "很满意=200"})  # type: ignore[attr-defined]
    assert response.status_code == 200 and "0–100" in response.content.decode()


def test_questions_with_answers_cannot_be_removed(world: dict[str, object]) -> None:
    survey: Survey = world["survey"]  # type: ignore[assignment]
    client = _client(world, Role.OFFICE)
    response = client.post(
        reverse("surveys:survey_edit", args=[survey.pk]),
        {
            "cycle": survey.cycle_id,
            "title": "t",
            "questions": "newonly|新题",
            "scale": "好=100\n差=0",
            "rater_group": "public",
            "dedupe_hours": "1",
        },
    )
    assert response.status_code == 200 and "不能删除题目" in response.content.decode()
    assert survey.questions.filter(item="overall").exists()


def test_the_poster_is_an_a4_pdf_and_its_export_is_audited(world: dict[str, object]) -> None:
    client = _client(world, Role.LIAISON)
    response = client.get(reverse("surveys:target_poster", args=[world["target"].pk]))  # type: ignore[attr-defined]
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditLog.objects.filter(action="export", object_type="surveys.surveytarget").count() == 1


def test_the_qr_code_is_an_svg_of_the_public_link(world: dict[str, object]) -> None:
    response = _client(world, Role.OFFICE).get(_pages(world)["qr"])
    assert response["Content-Type"] == "image/svg+xml" and b"<svg" in response.content


def test_auditors_cannot_write_anything(world: dict[str, object]) -> None:
    client = _client(world, Role.AUDITOR)
    target: SurveyTarget = world["target"]  # type: ignore[assignment]
    posts = [
        reverse("surveys:survey_create"),
        reverse("surveys:target_add", args=[target.survey_id]),
        reverse("surveys:target_toggle", args=[target.pk]),
        reverse("surveys:push_to_facts"),
        reverse("surveys:event_create"),
        reverse("surveys:token_create"),
        reverse("surveys:policy_edit"),
        reverse("surveys:thirdparty"),
    ]
    assert {url: client.post(url, {}).status_code for url in posts} == dict.fromkeys(posts, 403)


def test_a_liaison_records_an_event_for_their_own_unit_only(world: dict[str, object]) -> None:
    client = _client(world, Role.LIAISON)
    mine, theirs = world["mine"], world["theirs"]
    ok = client.post(
        reverse("surveys:event_create"),
        {"unit": mine.pk, "service": "现场咨询", "channel": EventChannel.NONE},
    )  # type: ignore[attr-defined]
    assert ok.status_code == 200 and "/surveys/r/" in ok.content.decode()
    refused = client.post(
        reverse("surveys:event_create"), {"unit": theirs.pk, "service": "x", "channel": EventChannel.NONE}
    )  # type: ignore[attr-defined]
    assert refused.status_code == 200 and "form" in refused.context
    assert list(ServiceEvent.objects.values_list("unit_id", flat=True)) == [mine.pk]  # type: ignore[attr-defined]
    assert AuditLog.objects.filter(object_type="surveys.serviceevent").count() == 1


def test_a_link_sent_by_sms_is_never_shown_to_the_rated_unit(world: dict[str, object]) -> None:
    client = _client(world, Role.LIAISON)
    response = client.post(
        reverse("surveys:event_create"),
        {
            "unit": world["mine"].pk,
            "service": "办理营业执照",
            "channel": EventChannel.SMS,
            "contact": "13812345678",
        },  # type: ignore[attr-defined]
    )
    assert response.status_code == 200
    assert ServiceEvent.objects.count() == 1
    assert "/surveys/r/" not in response.content.decode()


def test_the_event_list_is_scoped_to_the_liaisons_unit(world: dict[str, object]) -> None:
    for unit in (world["mine"], world["theirs"]):
        ratetime.event_record(unit=unit, official=None, service=f"{unit}服务", channel=EventChannel.NONE)  # type: ignore[arg-type]
    body = _client(world, Role.LIAISON).get(reverse("surveys:event_list")).content.decode()
    assert "本单位服务" in body and "别的单位服务" not in body


def test_event_list_does_not_query_per_row(
    world: dict[str, object], django_assert_max_num_queries: object
) -> None:
    for i in range(15):
        recorded = ratetime.event_record(
            unit=world["mine"], official=None, service=f"s{i}", channel=EventChannel.NONE
        )  # type: ignore[arg-type]
        ServiceRating.objects.create(
            event=recorded.event, unit=recorded.event.unit, score=8, created_at=recorded.event.occurred_at
        )
    client = _client(world, Role.OFFICE)
    with django_assert_max_num_queries(8):  # type: ignore[operator]
        assert client.get(reverse("surveys:event_list")).status_code == 200


def test_the_office_creates_and_revokes_a_token_and_sees_the_raw_value_once(world: dict[str, object]) -> None:
    client = _client(world, Role.OFFICE)
    response = client.post(reverse("surveys:token_create"), {"name": "窗口系统", "unit": world["mine"].pk})  # type: ignore[attr-defined]
    raw = response.context["raw"]
    assert raw.startswith("jxs_") and raw in response.content.decode()
    assert raw not in client.get(reverse("surveys:token_list")).content.decode()
    token = response.context["token"]
    client.post(reverse("surveys:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.service_token_authenticate(raw) is None


def test_the_office_pushes_a_cycle_into_the_facts(world: dict[str, object]) -> None:
    survey: Survey = world["survey"]  # type: ignore[assignment]
    RaterGroupFactory(cycle=survey.cycle, code="public")
    response = _client(world, Role.OFFICE).post(
        reverse("surveys:push_to_facts"), {"cycle": survey.cycle_id}, follow=True
    )
    assert "已计入测评得分" in response.content.decode()


def test_the_office_edits_the_monitor_threshold_as_data(world: dict[str, object]) -> None:
    client = _client(world, Role.OFFICE)
    data = {
        "link_valid_days": 7,
        "monitor_threshold": 10,
        "monitor_window_days": 90,
        "count_survey_answers": "on",
        "rater_group": "public",
        "unit_item": "overall",
        "official_item": "overall",
        "tags_text": "热情\n高效",
    }
    client.post(reverse("surveys:policy_edit"), data)
    policy = ratetime.rating_policy()
    assert (policy.monitor_threshold, policy.monitor_window_days, policy.tags) == (10, 90, ["热情", "高效"])
    assert AuditLog.objects.filter(object_type="surveys.ratingpolicy").count() == 1


@pytest.mark.parametrize("role", [Role.LIAISON, Role.OFFICIAL, Role.LEADER, Role.LEAD_DEPT])
def test_a_unit_never_reads_the_citizens_ratings_of_itself_or_its_leaders(
    world: dict[str, object], role: Role
) -> None:
    recorded = ratetime.event_record(
        unit=world["mine"],
        official=None,
        service="办证",
        channel=EventChannel.NONE,  # type: ignore[arg-type]
    )
    ServiceRating.objects.create(
        event=recorded.event, unit=recorded.event.unit, score=3, created_at=recorded.event.occurred_at
    )
    ServiceEvent.objects.filter(pk=recorded.event.pk).update(rated_at=recorded.event.occurred_at)
    client = _client(world, role)
    detail = client.get(_pages(world)["detail"]).content.decode()
    assert 'id="ratings-withheld"' in detail and "100.0" not in detail
    events = client.get(reverse("surveys:event_list")).content.decode()
    assert "已评价" in events and "3 分" not in events


@pytest.mark.parametrize("role", [Role.OFFICE, Role.AUDITOR])
def test_the_office_and_the_auditor_read_the_citizens_ratings(world: dict[str, object], role: Role) -> None:
    detail = _client(world, role).get(_pages(world)["detail"]).content.decode()
    assert 'id="ratings-withheld"' not in detail and "平均分" in detail


def test_a_liaison_picks_the_rated_official_from_their_own_units_officials_not_by_typing_a_code(
    world: dict[str, object],
) -> None:
    from jixiao.organisation.tests.factories import OfficialFactory

    client = _client(world, Role.LIAISON)
    mine, theirs = world["mine"], world["theirs"]
    own, stranger = OfficialFactory(unit=mine), OfficialFactory(unit=theirs)
    page = client.get(reverse("surveys:event_create")).content.decode()
    assert 'name="official_code"' not in page
    assert f'value="{own.pk}"' in page and f'value="{stranger.pk}"' not in page
    ok = client.post(
        reverse("surveys:event_create"),
        {"unit": mine.pk, "official": own.pk, "service": "窗口咨询", "channel": EventChannel.NONE},
    )  # type: ignore[attr-defined]
    assert ok.status_code == 200
    refused = client.post(
        reverse("surveys:event_create"),
        {"unit": mine.pk, "official": stranger.pk, "service": "x", "channel": EventChannel.NONE},
    )  # type: ignore[attr-defined]
    assert "official" in refused.context["form"].errors
    assert list(ServiceEvent.objects.values_list("official_id", flat=True)) == [own.pk]  # type: ignore[attr-defined]
