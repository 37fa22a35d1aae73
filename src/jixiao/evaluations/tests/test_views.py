from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import AuditAction, AuditLog, Role
from jixiao.evaluations import ballots
from jixiao.evaluations.closing import event_close
from jixiao.evaluations.models import BallotCode, BallotForm, EvaluationEvent, EventRatee, EventStatus
from jixiao.evaluations.tests.helpers import World, full_ballot, issue, make_world
from jixiao.organisation.tests.factories import UserFactory
from jixiao.schemes.models import RaterGroup

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client: Client, world: World) -> Client:
    client.force_login(world.office)
    return client


@pytest.mark.parametrize("role", [Role.LIAISON, Role.LEADER, Role.OFFICIAL, Role.AUDITOR])
def test_event_pages_are_for_the_office_only(client: Client, world: World, role: str) -> None:
    client.force_login(UserFactory(role=role, unit=world.unit))
    pk = world.event.pk
    for name, args in [("event_list", []), ("event_create", []), ("event_detail", [pk]), ("event_edit", [pk]),
                       ("event_progress", [pk]), ("form_list", [])]:  # fmt: skip
        assert client.get(reverse(f"evaluations:{name}", args=args)).status_code == 403, name
    assert client.post(reverse("evaluations:event_close", args=[pk])).status_code == 403
    url = reverse("evaluations:codes_issue", args=[pk, world.peers.pk])
    assert client.post(url, {"count": 3}).status_code == 403
    assert not BallotCode.objects.exists()


def test_anonymous_users_are_sent_to_log_in(client: Client, world: World) -> None:
    response = client.get(reverse("evaluations:event_list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_office_creates_an_event_sets_ratees_groups_and_opens_it(client: Client, db: None) -> None:
    world = make_world()
    client.force_login(world.office)
    response = client.post(
        reverse("evaluations:event_create"),
        {"cycle": world.cycle.pk, "name": "班子测评", "closes_at": "2030-01-01T18:00", "flush_batch": 10,
         "votes_mode": "replace"},
    )  # fmt: skip
    event = EvaluationEvent.objects.get(name="班子测评")
    assert response.status_code == 302 and response["Location"] == reverse(
        "evaluations:event_edit", args=[event.pk]
    )
    assert event.groups.count() == 2  # every rater group of the cycle, to start with
    edit = reverse("evaluations:event_edit", args=[event.pk])
    assert client.get(edit).status_code == 200
    forms = {f.kind: f.pk for f in BallotForm.objects.all()}
    client.post(
        edit,
        {"section": "ratees", "units": [world.unit.pk], "kinds": ["team", "head"],
         **{f"form_{k}": v for k, v in forms.items()}},
    )  # fmt: skip
    assert event.ratees.count() == 2
    peers = RaterGroup.objects.get(cycle=world.cycle, code="peers")
    client.post(edit, {"section": "groups", f"g-{peers.pk}-on": "on", f"g-{peers.pk}-expected": "25"})
    assert [(g.rater_group.code, g.expected_ballots) for g in event.groups.all()] == [("peers", 25)]
    team = event.ratees.get(unit=world.unit)
    group = event.groups.get()
    client.post(edit, {"section": "matrix", f"m-{team.pk}-{group.pk}": "on"})
    assert list(EventRatee.objects.filter(event=event, groups__isnull=False)) == [team]
    response = client.post(reverse("evaluations:event_open", args=[event.pk]), follow=True)
    assert "有被测评对象没有任何评价主体" in response.content.decode()
    client.post(edit, {"section": "matrix", **{f"m-{r.pk}-{group.pk}": "on" for r in event.ratees.all()}})
    client.post(reverse("evaluations:event_open", args=[event.pk]))
    event.refresh_from_db()
    assert event.status == EventStatus.OPEN


def test_codes_pdf_is_a_real_pdf_issued_once_and_audited_as_an_export(office: Client, world: World) -> None:
    url = reverse("evaluations:codes_issue", args=[world.event.pk, world.peers.pk])
    response = office.post(url, {"count": 3})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert BallotCode.objects.filter(group=world.peers).count() == 3
    export = AuditLog.objects.get(action=AuditAction.EXPORT)
    assert export.changes == {"file": "codes.pdf", "group": "peers", "codes": 3}
    response = office.post(url, {"names": "张三\n李四\n"})
    assert BallotCode.objects.filter(group=world.peers).count() == 5


def test_progress_shows_received_against_expected_and_no_content(office: Client, world: World) -> None:
    codes = issue(world, world.peers, 3)
    ballots.ballot_submit(code=codes[0], data=full_ballot(world.peers, opinion="非常机密的意见"))
    response = office.get(reverse("evaluations:event_progress", args=[world.event.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and 'hx-trigger="every 5s"' in html
    assert '<td class="num received">1</td>' in html and "非常机密的意见" not in html
    assert office.get(reverse("evaluations:event_detail", args=[world.event.pk])).status_code == 200


def test_results_withhold_groups_under_their_minimum_ballots(client: Client, db: None) -> None:
    world = make_world(min_ballots=3)
    client.force_login(world.office)
    for code in issue(world, world.peers, 3):
        ballots.ballot_submit(code=code, data=full_ballot(world.peers, choice="0", opinion="作风扎实"))
    for code in issue(world, world.staff, 2):
        ballots.ballot_submit(code=code, data=full_ballot(world.staff, choice="3", opinion="员工意见"))
    url = reverse("evaluations:event_results", args=[world.event.pk])
    assert client.get(url).status_code == 404  # not before closing
    client.post(reverse("evaluations:event_close", args=[world.event.pk]))
    html = client.get(url).content.decode()
    assert "95.00" in html and "65.00" not in html
    assert "不足 3 票，不予显示" in html
    assert world.event.tally_digest == "" and EvaluationEvent.objects.get().tally_digest in html


def test_the_ballot_pages_walk_a_rater_from_the_link_to_the_thanks(client: Client, world: World) -> None:
    [code] = issue(world, world.peers, 1)
    start = client.get(reverse("evaluations:ballot_start"))
    assert start.status_code == 200 and "evaluations/ballot_start.js" in start.content.decode()
    opened = client.post(reverse("evaluations:ballot_open"), {"code": code})
    assert "张局长" in opened.content.decode() and "不了解" in opened.content.decode()
    data = {"code": code, **full_ballot(world.peers)}
    incomplete = dict(data)
    incomplete.pop(next(k for k in data if k.startswith("v-")))
    refused = client.post(reverse("evaluations:ballot_submit"), incomplete)
    assert refused.status_code == 422 and "未填写" in refused.content.decode()
    assert "checked" in refused.content.decode()  # the rater's answers are kept
    done = client.post(reverse("evaluations:ballot_submit"), data)
    assert done.status_code == 302 and done["Location"] == reverse("evaluations:ballot_thanks")
    assert "提交成功" in client.get(done["Location"]).content.decode()
    again = client.post(reverse("evaluations:ballot_open"), {"code": code})
    assert again.status_code == 409 and "已经使用过" in again.content.decode()


def test_the_ballot_page_is_small_enough_for_a_slow_phone(client: Client, world: World) -> None:
    [code] = issue(world, world.peers, 1)
    start = client.get(reverse("evaluations:ballot_start"))
    form = client.post(reverse("evaluations:ballot_open"), {"code": code})
    assert len(start.content) < 6_000
    assert len(form.content) < 40_000  # four ratees, no stylesheet, one small script of ours
    # Scripts are static files (the CSP forbids inline ones): one per page, about 1 KB.
    assert form.content.count(b"<script") == 1 and b'rel="stylesheet"' not in form.content
    static = Path(__file__).resolve().parents[1] / "static" / "evaluations"
    assert (static / "ballot_form.js").stat().st_size < 2_000
    start_js = (static / "ballot_start.js").read_text(encoding="utf-8")
    assert "location.hash" in start_js and "history.replaceState" in start_js


def test_a_closed_event_cannot_be_edited(office: Client, world: World) -> None:
    event_close(actor=world.office, event=world.event)
    response = office.get(reverse("evaluations:event_edit", args=[world.event.pk]))
    assert response.status_code == 302


def test_office_edits_a_ballot_form_scale_as_data_unless_an_open_event_uses_it(
    office: Client, world: World
) -> None:
    in_use = BallotForm.objects.get(kind="member")
    post = {"name": "新班子成员测评表", "kind": "member", "unknown_label": "不了解", "has_vote": "on",
            "is_active": "on", "scale_text": "优秀=100, 良好=80, 一般=60", "items_text": "de 德\nji 绩 工作实绩"}  # fmt: skip
    refused = office.post(reverse("evaluations:form_edit", args=[in_use.pk]), post)
    assert refused.status_code == 200 and "不能修改" in refused.content.decode()
    assert office.post(reverse("evaluations:form_create"), post).status_code == 302
    form = BallotForm.objects.get(name="新班子成员测评表")
    assert form.scale == [
        {"label": "优秀", "points": 100},
        {"label": "良好", "points": 80},
        {"label": "一般", "points": 60},
    ]
    assert [i.code for i in form.items.all()] == ["de", "ji"]
    bad = office.post(reverse("evaluations:form_edit", args=[form.pk]), {**post, "scale_text": "好"})
    assert bad.status_code == 200 and "评价档次格式" in bad.content.decode()


def test_event_page_does_not_query_per_ratee_or_group(
    office: Client, world: World, django_assert_max_num_queries: Any
) -> None:
    url = reverse("evaluations:event_detail", args=[world.event.pk])
    office.get(url)  # warm per-process caches
    with django_assert_max_num_queries(30):
        assert office.get(url).status_code == 200
