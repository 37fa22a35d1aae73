"""A rater votes on a phone (390×844, touch) through a printed link with the code in the fragment."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from jixiao.evaluations.models import Ballot, BallotCode, PendingBallot
from jixiao.evaluations.tests.helpers import issue, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/ballot-mobile.png"


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "locale": "zh-CN",
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    }


def test_rater_fills_in_the_ballot_on_a_phone_and_cannot_use_the_code_again(
    live_server: object, page: Page
) -> None:
    world = make_world(flush_batch=1)
    [code] = issue(world, world.peers, 1)
    link = f"{live_server}/evaluations/b/#{code}"

    page.goto(link)
    expect(page.locator("h1")).to_contain_text("民主测评")
    assert code not in page.url  # the script moved the code out of the address bar
    cards = page.locator("section.card")
    expect(cards).to_have_count(4)
    expect(cards.nth(1)).to_contain_text("张局长")

    # Submitting too early: a clear message, the unanswered questions marked, nothing stored.
    page.get_by_role("button", name="提交测评票").tap()
    expect(page.locator("#error")).to_contain_text("未填写")
    assert PendingBallot.objects.count() + Ballot.objects.count() == 0

    questions = page.locator("fieldset.q")
    count = questions.count()
    assert count == 5 + 3 * 6  # team: 5 items; head and members: 德能勤绩廉 + overall vote
    for n in range(count):
        options = questions.nth(n).locator("label")
        # mostly 较好 / 称职, one 不了解 (the last option)
        (options.last if n == 3 else options.nth(1)).tap()
    target = questions.first.locator("label").nth(1)
    box = target.bounding_box()
    assert box is not None and box["height"] >= 44  # a thumb-sized target
    page.locator("details summary").nth(1).tap()
    page.locator("textarea").nth(1).fill("希望多下基层调研")
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.get_by_role("button", name="提交测评票").tap()

    expect(page.locator("#thanks")).to_contain_text("提交成功")
    assert Ballot.objects.count() == 1 and BallotCode.objects.get().used

    page.goto(link)  # the same printed link again
    expect(page.locator("#problem")).to_contain_text("已经使用过")
    assert Ballot.objects.count() == 1
