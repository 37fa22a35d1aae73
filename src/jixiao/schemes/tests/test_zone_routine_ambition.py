"""Function-zone weights (a grid on the scheme's tree page, checked per zone), the routine
component's points per monthly grade (a form with one number per grade) and the 目标偏低降等
grading rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import AuditLog, Role, User
from jixiao.declarations.models import Declaration
from jixiao.organisation.models import FunctionZone
from jixiao.organisation.tests.factories import FunctionZoneFactory, UnitFactory, UserFactory
from jixiao.schemes import services
from jixiao.schemes.lifecycle import StageClosed
from jixiao.schemes.models import (
    Component,
    CycleStage,
    CycleStatus,
    GradeLevel,
    GradingPolicy,
    GradingRule,
    IndicatorNode,
    Scheme,
    Subject,
    ZoneWeight,
)
from jixiao.schemes.selectors import weight_problems
from jixiao.schemes.templatetags.scheme_labels import grading_params_text
from jixiao.schemes.tests.factories import ComponentFactory, CycleFactory, IndicatorFactory, SchemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office() -> User:
    user: User = UserFactory(role=Role.OFFICE)
    return user


@pytest.fixture
def tree() -> dict[str, object]:
    """A scheme with economy 60 / ecology 40 at level 1, and economy split 50/50 at level 2."""
    scheme = SchemeFactory(cycle=CycleFactory(year=2026, status=CycleStatus.OPEN))
    component = ComponentFactory(scheme=scheme, weight=Decimal("100"))
    economy = IndicatorFactory(scheme=scheme, component=component, name="经济发展", weight=Decimal("60"))
    ecology = IndicatorFactory(scheme=scheme, component=component, name="生态保护", weight=Decimal("40"))
    tax = IndicatorFactory(
        scheme=scheme, component=component, parent=economy, name="税收", weight=Decimal("50")
    )
    output = IndicatorFactory(
        scheme=scheme, component=component, parent=economy, name="产值", weight=Decimal("50")
    )
    eco_zone = FunctionZoneFactory(code="eco", name="生态保护区")
    FunctionZoneFactory(code="ind", name="工业转型区")
    return {"scheme": scheme, "component": component, "economy": economy, "ecology": ecology,
            "tax": tax, "output": output, "eco": eco_zone}  # fmt: skip


def _node(tree: dict[str, object], key: str) -> IndicatorNode:
    node = tree[key]
    assert isinstance(node, IndicatorNode)
    return node


def _scheme(tree: dict[str, object]) -> Scheme:
    scheme = tree["scheme"]
    assert isinstance(scheme, Scheme)
    return scheme


def _zone(tree: dict[str, object]) -> FunctionZone:
    zone = tree["eco"]
    assert isinstance(zone, FunctionZone)
    return zone


# --- zone weights ------------------------------------------------------------------------------


def test_zone_weights_that_sum_to_100_in_their_zone_pass_the_weight_check(
    office: User, tree: dict[str, object]
) -> None:
    eco = _zone(tree)
    services.zone_weights_save(
        actor=office,
        scheme=_scheme(tree),
        weights={(_node(tree, "economy").pk, eco.pk): Decimal("75"), (_node(tree, "ecology").pk, eco.pk): Decimal("25")},
    )  # fmt: skip
    assert weight_problems(scheme=_scheme(tree)) == []
    audit = AuditLog.objects.filter(object_id=str(_scheme(tree).pk)).latest("id").changes
    assert len(audit["zone_weights"]) == 2


def test_a_zone_weight_alone_makes_its_siblings_sum_wrong_in_that_zone(
    office: User, tree: dict[str, object]
) -> None:
    eco = _zone(tree)
    services.zone_weights_save(
        actor=office, scheme=_scheme(tree), weights={(_node(tree, "ecology").pk, eco.pk): Decimal("25")}
    )
    problems = weight_problems(scheme=_scheme(tree))
    component = tree["component"]
    assert isinstance(component, Component)
    assert [(p.where, p.total) for p in problems] == [(f"{component.name}（生态保护区）", Decimal("85"))]


def test_level_two_zone_weights_are_checked_among_their_siblings(
    office: User, tree: dict[str, object]
) -> None:
    eco = _zone(tree)
    services.zone_weights_save(
        actor=office, scheme=_scheme(tree), weights={(_node(tree, "tax").pk, eco.pk): Decimal("30")}
    )
    assert [p.where for p in weight_problems(scheme=_scheme(tree))] == ["经济发展（生态保护区）"]


def test_an_empty_cell_removes_the_zone_weight(office: User, tree: dict[str, object]) -> None:
    eco = _zone(tree)
    key = (_node(tree, "ecology").pk, eco.pk)
    services.zone_weights_save(actor=office, scheme=_scheme(tree), weights={key: Decimal("25")})
    services.zone_weights_save(actor=office, scheme=_scheme(tree), weights={key: None})
    assert not ZoneWeight.objects.exists()


def test_zone_weights_only_on_the_schemes_framework_nodes(office: User, tree: dict[str, object]) -> None:
    other = IndicatorFactory()
    level3 = IndicatorFactory(scheme=_scheme(tree), component=tree["component"], parent=_node(tree, "tax"))
    for node in (other, level3):
        with pytest.raises(Exception, match="只能设置在本方案的一、二级指标上"):
            services.zone_weights_save(
                actor=office, scheme=_scheme(tree), weights={(node.pk, _zone(tree).pk): Decimal("1")}
            )


def test_zone_weights_freeze_once_targets_are_published(office: User, tree: dict[str, object]) -> None:
    scheme = _scheme(tree)
    scheme.cycle.stage = CycleStage.TRACKING
    scheme.cycle.save()
    Declaration.objects.create(
        cycle=scheme.cycle, unit=UnitFactory(category=scheme.category), published_version=1
    )
    with pytest.raises(StageClosed):
        services.zone_weights_save(
            actor=office, scheme=scheme, weights={(_node(tree, "tax").pk, _zone(tree).pk): Decimal("1")}
        )


def test_the_zone_grid_saves_numbers_and_a_bad_cell_is_named_and_kept(
    client: Client, office: User, tree: dict[str, object]
) -> None:
    client.force_login(office)
    scheme, eco = _scheme(tree), _zone(tree)
    url = reverse("schemes:scheme_zone_weights", args=[scheme.pk])
    page = client.get(url).content.decode()
    assert "生态保护区" in page and "工业转型区" in page and 'placeholder="60"' in page
    economy, ecology = _node(tree, "economy"), _node(tree, "ecology")
    response = client.post(url, {f"zw__{economy.pk}__{eco.pk}": "75", f"zw__{ecology.pk}__{eco.pk}": "abc"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "“生态保护”在生态保护区的权重须为数字" in text
    assert 'value="75"' in text and 'value="abc"' in text
    assert not ZoneWeight.objects.exists()
    response = client.post(url, {f"zw__{economy.pk}__{eco.pk}": "75", f"zw__{ecology.pk}__{eco.pk}": "25"})
    assert response.status_code == 302
    assert {(z.node_id, z.weight) for z in ZoneWeight.objects.all()} == {
        (economy.pk, Decimal("75")),
        (ecology.pk, Decimal("25")),
    }
    assert "功能区权重检查通过" in client.get(url).content.decode()


def test_a_liaison_reads_the_zone_grid_of_its_category_but_cannot_save(
    client: Client, tree: dict[str, object]
) -> None:
    scheme = _scheme(tree)
    client.force_login(UserFactory(role=Role.LIAISON, unit=UnitFactory(category=scheme.category)))
    url = reverse("schemes:scheme_zone_weights", args=[scheme.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 403
    client.force_login(UserFactory(role=Role.LIAISON, unit=UnitFactory()))
    assert client.get(url).status_code == 404


def test_the_scheme_page_links_the_zone_grid(client: Client, office: User, tree: dict[str, object]) -> None:
    client.force_login(office)
    text = client.get(reverse("schemes:scheme_detail", args=[_scheme(tree).pk])).content.decode()
    assert reverse("schemes:scheme_zone_weights", args=[_scheme(tree).pk]) in text


# --- routine component -------------------------------------------------------------------------


def _routine_post(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"code": "routine", "name": "平时实绩", "weight": "20", "order": "1",
                               "subject": "team", "source": "routine"}  # fmt: skip
    data.update(overrides)
    return data


def test_a_new_routine_component_offers_default_points_per_monthly_grade(
    client: Client, office: User, tree: dict[str, object]
) -> None:
    client.force_login(office)
    text = client.get(reverse("schemes:component_create", args=[_scheme(tree).pk])).content.decode()
    assert "月度评定“已完成”计分" in text and "月度评定“进度滞后”计分" in text
    assert 'name="gpt__completed" value="100"' in text
    assert 'name="gpt__behind" value="60"' in text


def test_the_routine_points_are_stored_on_the_component_as_numbers(
    client: Client, office: User, tree: dict[str, object]
) -> None:
    client.force_login(office)
    response = client.post(
        reverse("schemes:component_create", args=[_scheme(tree).pk]),
        _routine_post(gpt__completed="100", gpt__on_schedule="85", gpt__behind="50.5"),
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    component = Component.objects.get(code="routine")
    assert component.grade_points == {"completed": 100, "on_schedule": 85, "behind": 50.5}
    page = client.get(reverse("schemes:scheme_detail", args=[_scheme(tree).pk])).content.decode()
    assert "按进度推进 85 分；进度滞后 50.5 分；已完成 100 分" in page


def test_a_missing_or_bad_routine_point_is_named_and_the_form_kept(
    client: Client, office: User, tree: dict[str, object]
) -> None:
    client.force_login(office)
    response = client.post(
        reverse("schemes:component_create", args=[_scheme(tree).pk]),
        _routine_post(gpt__completed="", gpt__on_schedule="九十", gpt__behind="60"),
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "请填写月度评定“已完成”的计分" in text
    assert "“月度评定“按进度推进”计分”须为数字" in text
    assert 'value="九十"' in text
    assert not Component.objects.filter(code="routine").exists()


def test_other_sources_store_no_routine_points(client: Client, office: User, tree: dict[str, object]) -> None:
    client.force_login(office)
    response = client.post(
        reverse("schemes:component_create", args=[_scheme(tree).pk]),
        _routine_post(code="annual2", source="indicators", gpt__completed="100"),
    )
    assert response.status_code == 302
    assert Component.objects.get(code="annual2").grade_points == {}


# --- the low-ambition grading rule ------------------------------------------------------------


@pytest.fixture
def policy(tree: dict[str, object]) -> GradingPolicy:
    policy = GradingPolicy.objects.create(scheme=_scheme(tree), subject=Subject.TEAM)
    for order, label in enumerate(["优秀", "良好", "一般"], start=1):
        GradeLevel.objects.create(policy=policy, code=f"g{order}", label=label, order=order)
    return policy


def test_the_low_ambition_rule_takes_a_count_and_the_best_grade_allowed(
    client: Client, office: User, policy: GradingPolicy
) -> None:
    client.force_login(office)
    url = reverse("schemes:rule_create", args=[policy.pk])
    assert "目标偏低降等" in client.get(url).content.decode()
    response = client.post(
        url,
        {"rule_type": "low_ambition", "enabled": "on", "gp__low_ambition__min_count": "2",
         "gp__low_ambition__grade": "良好"},
    )  # fmt: skip
    assert response.status_code == 302, response.context and response.context["form"].errors
    rule = GradingRule.objects.get()
    assert rule.params == {"min_count": 2, "grade": "良好"}
    assert grading_params_text(rule.params, {}) == "目标偏低指标达到 2 项；最高为良好"


def test_the_low_ambition_rule_refuses_a_fraction_and_a_missing_grade(
    client: Client, office: User, policy: GradingPolicy
) -> None:
    client.force_login(office)
    response = client.post(
        reverse("schemes:rule_create", args=[policy.pk]),
        {"rule_type": "low_ambition", "enabled": "on", "gp__low_ambition__min_count": "1.5"},
    )
    text = response.content.decode()
    assert "“目标偏低的指标达到”须为整数项" in text and "请选择“最高等次”" in text
    assert 'value="1.5"' in text
    assert not GradingRule.objects.exists()
