from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import AuditAction, AuditLog, Role, User
from jixiao.organisation.models import FunctionZone, Layer, Official, Position, Region, Tenure, Unit
from jixiao.organisation.tests.factories import (
    CategoryFactory,
    FunctionZoneFactory,
    OfficialFactory,
    PositionFactory,
    RegionFactory,
    TeamFactory,
    TenureFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

World = dict[str, object]


@pytest.fixture
def world() -> World:
    """Two units A and B, each with an official, a post and a tenure."""
    unit_a, unit_b = UnitFactory(name="甲局"), UnitFactory(name="乙局")
    TeamFactory(unit=unit_a)
    official_a = OfficialFactory(unit=unit_a, name="张三")
    official_b = OfficialFactory(unit=unit_b, name="李四")
    position_a = PositionFactory(unit=unit_a, title="局长")
    position_b = PositionFactory(unit=unit_b, title="局长")
    tenure_a = TenureFactory(position=position_a, official=official_a, start=date(2022, 1, 1))
    tenure_b = TenureFactory(position=position_b, official=official_b, start=date(2022, 1, 1))
    return {
        "unit_a": unit_a,
        "unit_b": unit_b,
        "official_a": official_a,
        "official_b": official_b,
        "position_b": position_b,
        "tenure_b": tenure_b,
        "tenure_a": tenure_a,
        "region": unit_b.region,
        "category": unit_b.category,
        "zone": FunctionZoneFactory(),
    }


def _login(client: Client, role: Role, **kwargs: object) -> User:
    user: User = UserFactory(role=role, **kwargs)
    client.force_login(user)
    return user


def _pk(w: World, key: str) -> int:
    obj = w[key]
    assert hasattr(obj, "pk")
    return int(obj.pk)


Url = Callable[[World], str]

# Pages that read one of unit B's records.
UNIT_B_READS: list[Url] = [
    lambda w: reverse("organisation:unit_detail", args=[_pk(w, "unit_b")]),
    lambda w: reverse("organisation:official_detail", args=[_pk(w, "official_b")]),
]
LIST_READS: list[Url] = [
    lambda w: reverse("organisation:unit_list"),
    lambda w: reverse("organisation:official_list"),
]
CONFIG_URLS: list[Url] = [
    lambda w: reverse("organisation:unit_create"),
    lambda w: reverse("organisation:unit_edit", args=[_pk(w, "unit_b")]),
    lambda w: reverse("organisation:unit_delete", args=[_pk(w, "unit_b")]),
    lambda w: reverse("organisation:team_edit", args=[_pk(w, "unit_b")]),
    lambda w: reverse("organisation:position_create", args=[_pk(w, "unit_b")]),
    lambda w: reverse("organisation:position_edit", args=[_pk(w, "position_b")]),
    lambda w: reverse("organisation:position_delete", args=[_pk(w, "position_b")]),
    lambda w: reverse("organisation:tenure_appoint", args=[_pk(w, "position_b")]),
    lambda w: reverse("organisation:tenure_end", args=[_pk(w, "tenure_b")]),
    lambda w: reverse("organisation:tenure_delete", args=[_pk(w, "tenure_b")]),
    lambda w: reverse("organisation:official_create"),
    lambda w: reverse("organisation:official_edit", args=[_pk(w, "official_b")]),
    lambda w: reverse("organisation:official_delete", args=[_pk(w, "official_b")]),
    lambda w: reverse("organisation:region_create"),
    lambda w: reverse("organisation:region_edit", args=[_pk(w, "region")]),
    lambda w: reverse("organisation:region_delete", args=[_pk(w, "region")]),
    lambda w: reverse("organisation:category_create"),
    lambda w: reverse("organisation:category_edit", args=[_pk(w, "category")]),
    lambda w: reverse("organisation:category_delete", args=[_pk(w, "category")]),
    lambda w: reverse("organisation:zone_create"),
    lambda w: reverse("organisation:zone_edit", args=[_pk(w, "zone")]),
    lambda w: reverse("organisation:zone_delete", args=[_pk(w, "zone")]),
]
ALL_URLS = [*UNIT_B_READS, *LIST_READS, lambda w: reverse("organisation:registry"), *CONFIG_URLS]


# --- permissions: every view --------------------------------------------------------------------


@pytest.mark.parametrize("url", ALL_URLS)
def test_anonymous_users_are_sent_to_the_login_page(client: Client, world: World, url: Url) -> None:
    for method in (client.get, client.post):
        response = method(url(world))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("url", [*UNIT_B_READS, *LIST_READS, lambda w: reverse("organisation:registry")])
def test_auditor_and_office_read_every_registry_page(client: Client, world: World, url: Url) -> None:
    for role in (Role.AUDITOR, Role.OFFICE):
        _login(client, role)
        assert client.get(url(world)).status_code == 200, role


@pytest.mark.parametrize("url", UNIT_B_READS)
def test_liaison_of_unit_a_gets_404_for_unit_bs_records(client: Client, world: World, url: Url) -> None:
    _login(client, Role.LIAISON, unit=world["unit_a"])
    assert client.get(url(world)).status_code == 404


def test_liaison_reads_their_own_unit_and_officials(client: Client, world: World) -> None:
    _login(client, Role.LIAISON, unit=world["unit_a"])
    assert client.get(reverse("organisation:unit_detail", args=[_pk(world, "unit_a")])).status_code == 200
    assert (
        client.get(reverse("organisation:official_detail", args=[_pk(world, "official_a")])).status_code
        == 200
    )


def test_liaison_lists_show_only_their_unit(client: Client, world: World) -> None:
    _login(client, Role.LIAISON, unit=world["unit_a"])
    units = client.get(reverse("organisation:unit_list")).context["page"]
    officials = client.get(reverse("organisation:official_list")).context["page"]
    assert [u.name for u in units] == ["甲局"]
    assert [o.name for o in officials] == ["张三"]


def test_the_registry_page_is_refused_to_liaisons(client: Client, world: World) -> None:
    _login(client, Role.LIAISON, unit=world["unit_a"])
    assert client.get(reverse("organisation:registry")).status_code == 403


@pytest.mark.parametrize("url", CONFIG_URLS)
@pytest.mark.parametrize("role", [Role.AUDITOR, Role.LIAISON, Role.LEADER])
def test_only_the_office_configures_the_registry(client: Client, world: World, url: Url, role: Role) -> None:
    # Even a liaison's own unit is configured by the office only.
    _login(client, role, unit=world["unit_b"])
    assert client.get(url(world)).status_code == 403
    assert client.post(url(world), {"name": "改名", "code": "X"}).status_code == 403
    assert Unit.objects.count() == 2 and Tenure.objects.count() == 2
    assert not AuditLog.objects.filter(
        action__in=[AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE]
    ).exists()


@pytest.mark.parametrize("url", CONFIG_URLS)
def test_the_office_opens_every_registry_form(client: Client, world: World, url: Url) -> None:
    _login(client, Role.OFFICE)
    assert client.get(url(world)).status_code == 200


# --- lists ---------------------------------------------------------------------------------------


def test_unit_list_searches_name_and_code_and_filters_by_category_and_region(client: Client) -> None:
    county = CategoryFactory(name="县市")
    north = RegionFactory(name="北区")
    UnitFactory(name="吉首市人民政府", code="JS01", category=county, region=north)
    UnitFactory(name="州财政局", code="CZ01")
    _login(client, Role.OFFICE)

    def names(**params: object) -> list[str]:
        return [u.name for u in client.get(reverse("organisation:unit_list"), params).context["page"]]

    assert names(q="吉首") == ["吉首市人民政府"]
    assert names(q="cz01") == ["州财政局"]
    assert names(category=county.pk) == ["吉首市人民政府"]
    assert names(region=north.pk) == ["吉首市人民政府"]
    assert len(names(category="junk")) == 2  # a junk filter value is ignored


def test_official_list_filters_by_layer_and_category(client: Client) -> None:
    head = OfficialFactory(name="王五", layer=Layer.HEAD)
    OfficialFactory(name="赵六", layer=Layer.MEMBER)
    _login(client, Role.OFFICE)
    page = client.get(reverse("organisation:official_list"), {"layer": "head"}).context["page"]
    assert [o.name for o in page] == ["王五"]
    page = client.get(reverse("organisation:official_list"), {"category": head.unit.category_id}).context[
        "page"
    ]
    assert [o.name for o in page] == ["王五"]


def test_lists_paginate_25_per_page_keeping_the_filters(client: Client) -> None:
    category = CategoryFactory()
    UnitFactory.create_batch(30, category=category)
    _login(client, Role.OFFICE)
    response = client.get(reverse("organisation:unit_list"), {"category": category.pk, "page": 2})
    assert len(response.context["page"]) == 5
    assert f"?category={category.pk}&page=1" in response.content.decode()


def test_unit_list_does_not_query_per_row(
    client: Client, django_assert_max_num_queries: Callable[..., object]
) -> None:
    for _ in range(25):
        OfficialFactory(unit=UnitFactory(function_zone=FunctionZoneFactory()))
    _login(client, Role.OFFICE)
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert client.get(reverse("organisation:unit_list")).status_code == 200


def test_official_list_does_not_query_per_row(
    client: Client, django_assert_max_num_queries: Callable[..., object]
) -> None:
    OfficialFactory.create_batch(25)
    _login(client, Role.OFFICE)
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert client.get(reverse("organisation:official_list")).status_code == 200


def test_unit_detail_shows_team_officials_and_tenure_history_in_few_queries(
    client: Client, world: World, django_assert_max_num_queries: Callable[..., object]
) -> None:
    position = Position.objects.get(unit=world["unit_a"])
    Tenure.objects.filter(position=position).update(end=date(2023, 6, 30))
    TenureFactory(
        position=position,
        official=OfficialFactory(unit=world["unit_a"], name="继任者"),
        start=date(2023, 7, 1),
    )
    for i in range(5):
        TenureFactory(position=PositionFactory(unit=world["unit_a"], title=f"副局长{i}"))
    _login(client, Role.OFFICE)
    with django_assert_max_num_queries(14):  # type: ignore[operator]
        response = client.get(reverse("organisation:unit_detail", args=[_pk(world, "unit_a")]))
    body = response.content.decode()
    assert "甲局领导班子" in body
    history = body[body.index('id="positions"') :]
    assert history.index("继任者") < history.index("张三")  # newest tenure first, predecessor below
    assert "前任" in body and "现任" in body


def test_registry_page_counts_units_and_links_to_excel_pages_that_exist(client: Client, world: World) -> None:
    _login(client, Role.OFFICE)
    response = client.get(reverse("organisation:registry"))
    overview = response.context["overview"]
    assert {c.unit_count for c in overview.categories} == {1}
    for url, _label in response.context["io_links"]:
        assert url in response.content.decode()


# --- writes --------------------------------------------------------------------------------------


def test_office_creates_a_region_and_it_is_audited(client: Client) -> None:
    user = _login(client, Role.OFFICE)
    response = client.post(reverse("organisation:region_create"), {"code": "433101", "name": "吉首市"})
    assert response.status_code == 302
    region = Region.objects.get(code="433101")
    assert AuditLog.objects.filter(action=AuditAction.CREATE, object_id=str(region.pk), actor=user).exists()


def test_an_invalid_form_is_redisplayed_with_errors_and_a_message(client: Client, world: World) -> None:
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("organisation:category_edit", args=[_pk(world, "category")]), {"code": "", "name": ""}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert "保存失败" in response.content.decode()


def test_office_edits_a_unit_and_only_the_change_is_audited(client: Client, world: World) -> None:
    unit = world["unit_b"]
    assert isinstance(unit, Unit)
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("organisation:unit_edit", args=[unit.pk]),
        {
            "code": unit.code,
            "name": "乙局（新）",
            "category": unit.category_id,
            "region": unit.region_id,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    entry = AuditLog.objects.get(action=AuditAction.UPDATE)
    assert entry.changes == {"name": ["乙局", "乙局（新）"]}


def test_deleting_a_region_that_units_use_is_refused_with_a_message(client: Client, world: World) -> None:
    _login(client, Role.OFFICE)
    response = client.post(reverse("organisation:region_delete", args=[_pk(world, "region")]), follow=True)
    assert Region.objects.filter(pk=_pk(world, "region")).exists()
    assert "不能删除" in response.content.decode()


def test_office_deletes_an_unused_function_zone(client: Client, world: World) -> None:
    _login(client, Role.OFFICE)
    assert client.get(reverse("organisation:zone_delete", args=[_pk(world, "zone")])).status_code == 200
    client.post(reverse("organisation:zone_delete", args=[_pk(world, "zone")]))
    assert not FunctionZone.objects.filter(pk=_pk(world, "zone")).exists()
    assert AuditLog.objects.filter(action=AuditAction.DELETE).count() == 1


def test_office_creates_an_official_in_a_unit(client: Client, world: World) -> None:
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("organisation:official_create"),
        {"code": "G9", "name": "钱七", "unit": _pk(world, "unit_a"), "layer": "member", "is_active": "on"},
    )
    assert response.status_code == 302
    assert Official.objects.get(code="G9").unit_id == _pk(world, "unit_a")


def test_office_adds_a_position_to_a_unit(client: Client, world: World) -> None:
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("organisation:position_create", args=[_pk(world, "unit_a")]),
        {"title": "副局长", "layer": "member", "portfolio": "财务"},
    )
    assert response.status_code == 302
    assert Position.objects.get(unit=world["unit_a"], title="副局长").portfolio == "财务"


def test_appointing_a_successor_ends_the_predecessors_tenure(client: Client, world: World) -> None:
    position = Position.objects.get(unit=world["unit_b"])
    successor = OfficialFactory(unit=world["unit_b"], name="周八")
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("organisation:tenure_appoint", args=[position.pk]),
        {"official": successor.pk, "start": "2025-03-01"},
    )
    assert response.status_code == 302
    tenures = list(position.tenures.order_by("start").values_list("official__name", "end"))
    assert tenures == [("李四", date(2025, 3, 1)), ("周八", None)]


def test_a_successor_cannot_start_before_the_predecessor(client: Client, world: World) -> None:
    position = Position.objects.get(unit=world["unit_b"])
    successor = OfficialFactory(unit=world["unit_b"])
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("organisation:tenure_appoint", args=[position.pk]),
        {"official": successor.pk, "start": "2020-01-01"},
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert position.tenures.count() == 1 and position.tenures.get().end is None


def test_ending_a_tenure_sets_its_end_date_and_rejects_an_end_before_the_start(
    client: Client, world: World
) -> None:
    tenure = world["tenure_b"]
    assert isinstance(tenure, Tenure)
    _login(client, Role.OFFICE)
    bad = client.post(reverse("organisation:tenure_end", args=[tenure.pk]), {"end": "2000-01-01"})
    assert bad.status_code == 200 and bad.context["form"].errors["end"]
    client.post(reverse("organisation:tenure_end", args=[tenure.pk]), {"end": "2024-12-31"})
    tenure.refresh_from_db()
    assert tenure.end == date(2024, 12, 31)


def test_official_detail_lists_tenures(client: Client, world: World) -> None:
    _login(client, Role.AUDITOR)
    response = client.get(reverse("organisation:official_detail", args=[_pk(world, "official_a")]))
    assert [t.position.title for t in response.context["tenures"]] == ["局长"]
