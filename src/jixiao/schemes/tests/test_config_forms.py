"""The configuration forms take ordinary fields and store the JSON the engine reads; a bad value
re-displays the form with the field named in Chinese."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.organisation.tests.factories import UserFactory
from jixiao.schemes.models import (
    Component,
    GradeLevel,
    GradingPolicy,
    GradingRule,
    RaterGroup,
    Scheme,
    Subject,
)
from jixiao.schemes.tests.factories import ComponentFactory, CycleFactory, IndicatorFactory, SchemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme() -> Scheme:
    scheme: Scheme = SchemeFactory(cycle=CycleFactory(year=2025))
    RaterGroup.objects.create(cycle=scheme.cycle, code="public", name="群众", order=1)
    RaterGroup.objects.create(cycle=scheme.cycle, code="leaders", name="领导", order=2)
    ComponentFactory(scheme=scheme, code="annual", name="年度实绩", weight=Decimal("80"))
    ComponentFactory(scheme=scheme, code="public", name="社会公认度", weight=Decimal("20"))
    return scheme


@pytest.fixture
def office(client: Client) -> Client:
    client.force_login(UserFactory(role=Role.OFFICE))
    return client


def _component_post(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "code": "quality",
        "name": "德能勤绩廉",
        "weight": "30",
        "order": "3",
        "subject": "official",
        "source": "ratings",
    }
    data.update(overrides)
    return data


def test_a_component_stores_layer_group_and_item_weights_typed_as_numbers(
    office: Client, scheme: Scheme
) -> None:
    response = office.post(
        reverse("schemes:component_create", args=[scheme.pk]),
        _component_post(
            lw__head="30",
            lw__member="20",
            gw__public="35",
            gw__leaders="65",
            item_weights_rows__item=["de", "ji", ""],
            item_weights_rows__weight=["20", "30", ""],
        ),
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    comp = Component.objects.get(scheme=scheme, code="quality")
    assert comp.layer_weights == {"head": 30, "member": 20}
    assert comp.group_weights == {"public": 35, "leaders": 65}
    assert comp.item_weights == {"de": 20, "ji": 30}


def test_an_official_component_takes_its_team_component_from_a_select(office: Client, scheme: Scheme) -> None:
    response = office.post(
        reverse("schemes:component_create", args=[scheme.pk]),
        _component_post(code="duty", source="team", team_component="annual", lw__head="70"),
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    comp = Component.objects.get(code="duty")
    assert (comp.team_component, comp.layer_weights, comp.group_weights) == ("annual", {"head": 70}, {})
    form = office.get(reverse("schemes:component_edit", args=[comp.pk])).context["form"]
    assert ("annual", "年度实绩") in form.fields["team_component"].choices


def test_a_bad_layer_weight_redisplays_everything_typed_with_the_field_named(
    office: Client, scheme: Scheme
) -> None:
    response = office.post(
        reverse("schemes:component_create", args=[scheme.pk]),
        _component_post(lw__head="七十", gw__public="35"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "“班子正职的权重”须为数字" in body
    assert 'value="七十"' in body and 'value="35"' in body and 'value="德能勤绩廉"' in body
    assert not Component.objects.filter(code="quality").exists()


def test_scheme_options_are_built_from_selects_and_numbers_and_unknown_keys_are_kept(
    office: Client, scheme: Scheme
) -> None:
    scheme.options = {"custom": 1}
    scheme.save()
    response = office.post(
        reverse("schemes:scheme_edit", args=[scheme.pk]),
        {
            "category": scheme.category_id,
            "name": scheme.name,
            "notes": "",
            "opt__team__missing_indicator": "exclude",
            "opt__team__tie_break__component": ["annual", ""],
            "opt__team__deduction_component": "annual",
            "opt__team__deduction_cap": "10",
            "opt__team__debt_enabled": "on",
            "opt__team__debt_rate_per_point": "2",
            "opt__team__falsification_enabled": "on",
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    scheme.refresh_from_db()
    assert scheme.options == {
        "custom": 1,
        "missing_indicator": "exclude",
        "tie_break": ["annual"],
        "adjustments": {
            "deduction_component": "annual",
            "deduction_cap": 10,
            "debt_enabled": True,
            "debt_rate_per_point": 0.02,
            "falsification_enabled": True,
        },
        "official_adjustments": {"debt_enabled": False, "falsification_enabled": False},
    }


def test_a_scheme_option_with_a_bad_number_names_the_field(office: Client, scheme: Scheme) -> None:
    response = office.post(
        reverse("schemes:scheme_edit", args=[scheme.pk]),
        {"category": scheme.category_id, "name": scheme.name, "opt__team__deduction_cap": "十分"},
    )
    assert response.status_code == 200
    assert "“领导班子：扣分上限”须为数字" in response.content.decode()


@pytest.fixture
def policy(scheme: Scheme) -> GradingPolicy:
    policy = GradingPolicy.objects.create(scheme=scheme, subject=Subject.OFFICIAL)
    for order, label in enumerate(["优秀", "称职", "基本称职", "不称职"], start=1):
        GradeLevel.objects.create(policy=policy, code=f"l{order}", label=label, order=order)
    team = GradingPolicy.objects.create(scheme=scheme, subject=Subject.TEAM)
    for order, label in enumerate(["一等", "二等", "三等"], start=1):
        GradeLevel.objects.create(policy=team, code=f"t{order}", label=label, order=order)
    return policy


def test_policy_options_are_chosen_from_the_policys_own_grades(office: Client, policy: GradingPolicy) -> None:
    response = office.post(
        reverse("schemes:policy_edit", args=[policy.pk]),
        {"rounding": "round_half_up", "veto_ceiling": "称职", "falsification_grade": "不称职"},
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    policy.refresh_from_db()
    assert policy.options == {
        "rounding": "round_half_up",
        "veto_ceiling": "称职",
        "falsification_grade": "不称职",
    }


def test_sanctions_and_team_caps_are_entered_as_table_rows(office: Client, policy: GradingPolicy) -> None:
    url = reverse("schemes:rule_create", args=[policy.pk])
    response = office.post(
        url,
        {
            "rule_type": "sanctions",
            "enabled": "on",
            "gp__sanctions__sanctions__level": ["admonish", "serious_warning", ""],
            "gp__sanctions__sanctions__effect": ["ceiling", "no_grade", ""],
            "gp__sanctions__sanctions__grade": ["称职", "", ""],
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    response = office.post(
        url,
        {
            "rule_type": "team_cap",
            "enabled": "on",
            "gp__team_cap__team_caps__team": ["一等", "三等"],
            "gp__team_cap__team_caps__member": ["30", "15"],
            "gp__team_cap__team_caps__head": ["", "基本称职"],
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert GradingRule.objects.get(rule_type="sanctions").params == {
        "sanctions": [
            {"level": "admonish", "effect": "ceiling", "grade": "称职"},
            {"level": "serious_warning", "effect": "no_grade"},
        ]
    }
    assert GradingRule.objects.get(rule_type="team_cap").params == {
        "team_caps": {
            "一等": {"member_share": 0.3},
            "三等": {"member_share": 0.15, "head_ceiling": "基本称职"},
        }
    }


def test_a_vote_share_rule_keeps_one_third_exact(office: Client, policy: GradingPolicy) -> None:
    response = office.post(
        reverse("schemes:rule_create", args=[policy.pk]),
        {
            "rule_type": "negative_votes",
            "enabled": "on",
            "gp__negative_votes__labels": ["基本称职", "不称职"],
            "gp__negative_votes__more_than": "1/3",
            "gp__negative_votes__grade": "基本称职",
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert GradingRule.objects.get().params == {
        "labels": ["基本称职", "不称职"],
        "more_than": "1/3",
        "grade": "基本称职",
    }


def test_a_rule_without_its_grade_is_refused_with_the_field_named(
    office: Client, policy: GradingPolicy
) -> None:
    response = office.post(
        reverse("schemes:rule_create", args=[policy.pk]),
        {"rule_type": "bottom_share", "enabled": "on", "gp__bottom_share__share": "5"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "请选择“确定的等次”" in body and 'value="5"' in body
    assert not GradingRule.objects.exists()


def test_indicator_steps_come_from_the_rows_of_a_table_and_a_bad_cell_names_row_and_column(
    office: Client, scheme: Scheme
) -> None:
    node = IndicatorFactory(component=scheme.components.get(code="annual"), name="财政收入")
    url = reverse("schemes:indicator_edit", args=[node.pk])
    post = {"name": "财政收入", "code": "", "weight": "100", "kind": "base", "rule_type": "steps"}
    bad = office.post(
        url, {**post, "rp__steps__steps__min": ["100", "八十"], "rp__steps__steps__rate": ["1", "0.8"]}
    )
    assert bad.status_code == 200
    body = bad.content.decode()
    assert "第 2 行“门槛”：“门槛”须为数字" in body and 'value="八十"' in body
    node.refresh_from_db()
    assert node.rule_type == ""
    good = office.post(
        url, {**post, "rp__steps__steps__min": ["100", "80"], "rp__steps__steps__rate": ["1", "0.8"]}
    )
    assert good.status_code == 302
    node.refresh_from_db()
    assert node.rule_params == {"steps": [[100.0, 1.0], [80.0, 0.8]]}
    page = office.get(url).content.decode()
    assert 'name="rp__steps__steps__min" value="80"' in page
