"""The review pages: queues scoped to the reviewer, the review page's ambition check and decision
form, the office's stage settings, and who may POST."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from tests.test_no_raw_codes import code_list, problems, visible_text

from jixiao.declarations.models import DeclarationStatus, ReviewStage
from jixiao.declarations.snapshot import snapshot_of
from jixiao.declarations.tests.factories import (
    DeclarationFactory,
    DeclarationVersionFactory,
    DeclaredIndicatorFactory,
    OpenCycleFactory,
)
from jixiao.declarations.tests.review_setup import Review, review_setup, submit
from jixiao.organisation.tests.factories import UnitFactory

pytestmark = pytest.mark.django_db

REASON = "企业外迁，就业目标按实际下调"
# session, user, declaration, versions, decisions, comments, last year's cycle, stages, the
# EXISTS of may_decide, the lead departments still to approve: the same however many indicators,
# versions and comments.
REVIEW_PAGE_QUERIES = 10


def _own(queries: list[dict[str, Any]]) -> int:
    return sum(1 for q in queries if "notifications_notification" not in q["sql"])


@pytest.fixture
def r() -> Review:
    setup = review_setup()
    submit(setup.declaration, by=setup.liaison)
    return setup


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _decide_post(r: Review, **extra: str) -> dict[str, str]:
    r.declaration.refresh_from_db()
    return {"stage": str(r.declaration.stage_id), "version": str(r.declaration.version), **extra}


def test_the_lead_department_queue_lists_only_declarations_it_leads(r: Review) -> None:
    page = _client(r.lead).get(reverse("review:queue"))
    assert page.status_code == 200 and "城关镇" in page.content.decode()
    other = _client(r.other_lead).get(reverse("review:queue"))
    assert "城关镇" not in other.content.decode()
    # The office's stage comes later: nothing waits for it yet.
    assert "城关镇" not in _client(r.office).get(reverse("review:queue")).content.decode()
    assert _client(r.liaison).get(reverse("review:queue")).status_code == 403


def test_the_queue_searches_by_unit(r: Review) -> None:
    c = _client(r.lead)
    assert "城关镇" in c.get(reverse("review:queue"), {"q": "城关"}).content.decode()
    assert "城关镇" not in c.get(reverse("review:queue"), {"q": "河西"}).content.decode()


def test_the_queue_runs_a_constant_number_of_queries(r: Review, django_assert_num_queries: Any) -> None:
    c = _client(r.lead)
    c.get(reverse("review:queue"))
    with django_assert_num_queries(5) as first:
        c.get(reverse("review:queue"))
    for i in range(5):
        d = DeclarationFactory(cycle=r.cycle, unit=UnitFactory(name=f"乡镇{i}"))
        DeclaredIndicatorFactory(declaration=d, parent=r.growth.parent, lead_department=r.dept)
        submit(d)
    with django_assert_num_queries(len(first.captured_queries)):
        page = c.get(reverse("review:queue"))
    assert page.content.decode().count(reverse("review:declaration", args=[d.pk])) == 1


def test_the_review_page_shows_the_ambition_check_and_flags_the_low_target(r: Review) -> None:
    page = _client(r.lead).get(reverse("review:declaration", args=[r.declaration.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "目标低于上年实际" in html and "7.6" in html  # growth of 8.5 over 7.9
    assert 'name="r_' in html and "提交审核结论" in html


def test_another_lead_department_cannot_open_or_decide_the_declaration(r: Review) -> None:
    c = _client(r.other_lead)
    assert c.get(reverse("review:declaration", args=[r.declaration.pk])).status_code == 404
    post = c.post(reverse("review:decide", args=[r.declaration.pk]), _decide_post(r, outcome="approve"))
    assert post.status_code == 404
    office = _client(r.office).post(
        reverse("review:decide", args=[r.declaration.pk]), _decide_post(r, outcome="approve")
    )
    assert office.status_code == 403  # not the office's stage
    assert _client(r.liaison).get(reverse("review:declaration", args=[r.declaration.pk])).status_code == 403


def test_the_auditor_reads_the_review_but_cannot_post(r: Review) -> None:
    c = _client(r.auditor)
    page = c.get(reverse("review:declaration", args=[r.declaration.pk]))
    assert page.status_code == 200 and "提交审核结论" not in page.content.decode()
    assert (
        c.post(
            reverse("review:decide", args=[r.declaration.pk]), _decide_post(r, outcome="approve")
        ).status_code
        == 403
    )
    assert (
        c.post(reverse("review:stage_add", args=[r.cycle.pk]), {"name": "x", "role": "office"}).status_code
        == 403
    )


def test_approving_a_flagged_target_without_a_reason_redisplays_the_form_and_keeps_the_input(
    r: Review,
) -> None:
    c = _client(r.lead)
    url = reverse("review:decide", args=[r.declaration.pk])
    comment_field = f"c_{r.growth.uid}"
    page = c.post(url, _decide_post(r, outcome="approve", **{comment_field: "增速目标合理"}))
    html = page.content.decode()
    assert page.status_code == 200 and "通过须说明理由" in html and "增速目标合理" in html
    r.declaration.refresh_from_db()
    assert r.declaration.stage == r.stages[0]
    done = c.post(url, _decide_post(r, outcome="approve", **{f"r_{r.jobs.uid}": REASON}))
    assert done.status_code == 302
    r.declaration.refresh_from_db()
    assert r.declaration.stage == r.stages[1]


def test_a_return_shows_the_comment_in_the_history_and_the_liaison_is_told(r: Review) -> None:
    c = _client(r.lead)
    url = reverse("review:decide", args=[r.declaration.pk])
    c.post(url, _decide_post(r, outcome="return", **{f"c_{r.jobs.uid}": "就业目标不得低于上年"}))
    r.declaration.refresh_from_db()
    assert r.declaration.status == DeclarationStatus.RETURNED
    html = _client(r.office).get(reverse("review:declaration", args=[r.declaration.pk])).content.decode()
    assert "就业目标不得低于上年" in html and "退回修改" in html
    home = _client(r.liaison).get(reverse("web:home")).content.decode()
    assert "退回修改" in home


def test_reviewers_see_their_pending_reviews_on_the_home_page(r: Review) -> None:
    html = _client(r.lead).get(reverse("web:home")).content.decode()
    assert "待审核目标 1" in html and "城关镇" in html
    other = _client(r.other_lead).get(reverse("web:home")).content.decode()
    assert "待审核目标 0" in other and "城关镇" not in other


def test_the_office_configures_stages_from_a_preset_and_by_hand(r: Review) -> None:
    c = _client(r.office)
    page = c.get(reverse("review:stages"), {"year": r.cycle.year})
    assert page.status_code == 200 and "业务部门初审" in page.content.decode()
    add = c.post(reverse("review:stage_add", args=[r.cycle.pk]), {"name": "领导小组审定", "role": "office"})
    assert add.status_code == 302
    assert (
        list(ReviewStage.objects.filter(cycle=r.cycle).values_list("name", flat=True))[-1] == "领导小组审定"
    )
    bad = c.post(reverse("review:stage_add", args=[r.cycle.pk]), {"name": "", "role": "office"})
    assert bad.status_code == 200 and "这个字段是必填项" in bad.content.decode()
    # The preset cannot replace stages a declaration is already at.
    c.post(reverse("review:stage_preset", args=[r.cycle.pk]), {"preset": "xiangxi"})
    assert ReviewStage.objects.filter(cycle=r.cycle, name="初审").count() == 0
    assert _client(r.lead).get(reverse("review:stages")).status_code == 403


def test_a_target_without_last_year_figures_raises_no_flag(r: Review) -> None:
    r.jobs.last_year_actual = None
    r.jobs.save()
    r.declaration.status = DeclarationStatus.RETURNED
    r.declaration.save()
    r.growth.target = Decimal("9")
    r.growth.save()
    submit(r.declaration)
    html = _client(r.lead).get(reverse("review:declaration", args=[r.declaration.pk])).content.decode()
    assert "目标低于上年实际" not in html and "本版修改" in html


ASCII_WORD = re.compile(r"[A-Za-z]{4,}")


def test_review_pages_show_names_not_codes_and_last_years_targets_are_compared(r: Review) -> None:
    last = OpenCycleFactory(year=2025)
    old = DeclarationFactory(cycle=last, unit=r.unit, status=DeclarationStatus.PUBLISHED, published_version=1)
    DeclarationVersionFactory(
        declaration=old,
        number=1,
        snapshot=[
            {**snapshot_of(r.declaration)[0], "target": "7.5000"},
            {"uid": "gone", "name": "已取消的指标"},
        ],
    )
    c = _client(r.lead)
    c.post(
        reverse("review:decide", args=[r.declaration.pk]),
        _decide_post(r, outcome="return", comment="请提高目标", **{f"c_{r.jobs.uid}": "偏低"}),
    )
    pages = [
        _client(r.office).get(reverse("review:declaration", args=[r.declaration.pk])).content.decode(),
        _client(r.office).get(reverse("review:stages"), {"year": r.cycle.year}).content.decode(),
        _client(r.office).get(reverse("review:queue")).content.decode(),
    ]
    assert "已取消的指标" in pages[0] and "7.5" in pages[0]  # the diff against last year
    for page in pages:
        text = visible_text(page)
        assert not ASCII_WORD.findall(text), ASCII_WORD.findall(text)
        assert not problems(text, text, code_list(), 2)


def test_the_review_page_runs_a_constant_number_of_queries(
    r: Review, django_assert_max_num_queries: Any
) -> None:
    c = _client(r.lead)
    url = reverse("review:declaration", args=[r.declaration.pk])
    c.get(url)
    with django_assert_max_num_queries(50) as first:
        c.get(url)
    c.post(
        reverse("review:decide", args=[r.declaration.pk]), _decide_post(r, outcome="return", comment="再议")
    )
    for i in range(4):
        DeclaredIndicatorFactory(declaration=r.declaration, parent=r.jobs.parent, name=f"新增{i}", weight=0)
    submit(r.declaration)
    with django_assert_max_num_queries(50) as second:
        assert c.get(url).status_code == 200
    # The navigation's unread count is cached per session for a while: left out of the comparison.
    assert _own(second.captured_queries) == _own(first.captured_queries) == REVIEW_PAGE_QUERIES
