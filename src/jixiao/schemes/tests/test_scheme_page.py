"""The scheme page stays usable with hundreds of indicators: paged by level-1 node, a constant
number of queries, saving keeps the reader in place, and its weight check means what the cycle
page's does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.organisation.tests.factories import UserFactory
from jixiao.schemes.models import IndicatorNode, Scheme, Subject
from jixiao.schemes.selectors import TREE_PAGE_ABOVE
from jixiao.schemes.tests.factories import ComponentFactory, CycleFactory, IndicatorFactory, SchemeFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
CHILDREN = 45


def _big_scheme() -> tuple[Scheme, list[IndicatorNode]]:
    """Two level-1 nodes with 45 leaves each: more nodes than one page shows."""
    scheme: Scheme = SchemeFactory(cycle=CycleFactory(year=2025))
    component = ComponentFactory(scheme=scheme, name="年度实绩", weight=Decimal("100"))
    roots = [
        IndicatorFactory(component=component, scheme=scheme, name=name, weight=50, order=n)
        for n, name in enumerate(["经济发展", "社会事业"])
    ]
    for root in roots:
        IndicatorNode.objects.bulk_create(
            IndicatorNode(
                scheme=scheme,
                component=component,
                parent=root,
                level=2,
                name=f"{root.name}细项{i}",
                weight=Decimal("100") / CHILDREN
                if i
                else Decimal("100") - Decimal("100") / CHILDREN * (CHILDREN - 1),
                order=i,
            )
            for i in range(CHILDREN)
        )
    assert 2 + 2 * CHILDREN > TREE_PAGE_ABOVE
    return scheme, roots


@pytest.fixture
def office(client: Client) -> Client:
    client.force_login(UserFactory(role=Role.OFFICE))
    return client


def test_a_large_tree_shows_one_level1_subtree_at_a_time_with_a_jump_list(office: Client) -> None:
    scheme, (first, second) = _big_scheme()
    url = reverse("schemes:scheme_detail", args=[scheme.pk])
    body = office.get(url).content.decode()
    assert (
        f'href="?node={first.pk}#node-{first.pk}"' in body
        and f'href="?node={second.pk}#node-{second.pk}"' in body
    )
    assert "经济发展细项3" not in body and "社会事业细项3" not in body
    body = office.get(url + f"?node={second.pk}").content.decode()
    assert "社会事业细项3" in body and "经济发展细项3" not in body
    assert 'aria-current="true"' in body


def test_the_scheme_page_runs_a_bounded_number_of_queries_whatever_the_tree_size(office: Client) -> None:
    scheme, (first, _second) = _big_scheme()
    url = reverse("schemes:scheme_detail", args=[scheme.pk]) + f"?node={first.pk}"
    office.get(url)  # warm the session and the caches
    with CaptureQueriesContext(connection) as small:
        office.get(url)
    IndicatorNode.objects.bulk_create(
        IndicatorNode(
            scheme=scheme,
            component=first.component,
            parent=first,
            level=2,
            name=f"追加{i}",
            weight=0,
            order=100 + i,
        )
        for i in range(60)
    )
    with CaptureQueriesContext(connection) as large:
        response = office.get(url)
    assert "追加59" in response.content.decode()
    assert len(large.captured_queries) == len(small.captured_queries) <= 16


def test_saving_an_indicator_over_htmx_swaps_only_its_row_and_the_sums(office: Client) -> None:
    scheme, (first, _second) = _big_scheme()
    leaf = first.children.order_by("order").first()
    assert leaf is not None
    edit = reverse("schemes:indicator_edit", args=[leaf.pk])
    form = office.get(edit, **HTMX).content.decode()
    assert f'hx-target="#node-{leaf.pk}"' in form and "row=1" in form
    response = office.post(
        edit + "?row=1",
        {"name": "改名细项", "code": "", "weight": "1", "kind": "base", "rule_type": ""},
        **HTMX,
        HTTP_HX_CURRENT_URL=f"http://testserver/schemes/s/{scheme.pk}/?node={first.pk}",
    )
    body = response.content.decode()
    assert body.lstrip().startswith(f'<li id="node-{leaf.pk}"')
    assert 'id="weight-check" hx-swap-oob="true"' in body
    assert f'id="sum-n-{first.pk}" hx-swap-oob="true"' in body and "sum-bad" in body
    assert '<div id="tree-editor"' not in body  # not the whole tree


def test_a_plain_post_returns_to_the_nodes_page_and_anchor(office: Client) -> None:
    _scheme, (_first, second) = _big_scheme()
    leaf = second.children.order_by("order").first()
    assert leaf is not None
    response = office.post(
        reverse("schemes:indicator_edit", args=[leaf.pk]),
        {"name": leaf.name, "code": "", "weight": str(leaf.weight), "kind": "base", "rule_type": ""},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"?node={second.pk}#node-{leaf.pk}")


def test_team_and_official_components_are_checked_separately_on_both_pages(office: Client) -> None:
    scheme: Scheme = SchemeFactory(cycle=CycleFactory(year=2025))
    ComponentFactory(scheme=scheme, code="annual", weight=Decimal("100"), subject=Subject.TEAM)
    ComponentFactory(scheme=scheme, code="duty", weight=Decimal("100"), subject=Subject.OFFICIAL)
    detail = office.get(reverse("schemes:scheme_detail", args=[scheme.pk]))
    checks = detail.context["component_checks"]
    assert [c.total for c in checks] == [Decimal("100")] * 4  # team + three layers of officials
    assert all(c.ok for c in checks)
    assert "200" not in "".join(str(c.total) for c in checks)
    cycle_page = office.get(reverse("schemes:cycle_detail", args=[scheme.cycle_id]))
    assert cycle_page.context["rows"][0]["problems"] == []
    assert detail.context["problems"] == []
