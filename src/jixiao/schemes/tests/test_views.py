from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import Role, User
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.models import (
    Cycle,
    GradeLevel,
    GradingPolicy,
    GradingRule,
    IndicatorNode,
    LibraryEntry,
    Scheme,
    Subject,
)
from jixiao.schemes.tests.factories import (
    ComponentFactory,
    CycleFactory,
    IndicatorFactory,
    LibraryEntryFactory,
    SchemeFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def tree() -> dict[str, object]:
    """A scheme with one component, a level-1 node and two level-2 children (60 + 40)."""
    scheme = SchemeFactory(cycle=CycleFactory(year=2025))
    component = ComponentFactory(scheme=scheme, name="年度实绩", weight=Decimal("100"))
    root = IndicatorFactory(component=component, scheme=scheme, name="经济发展", order=1)
    a = IndicatorFactory(parent=root, component=component, scheme=scheme, name="财政收入", weight=60, order=1)
    b = IndicatorFactory(
        parent=root, component=component, scheme=scheme, name="固定资产投资", weight=40, order=2
    )
    policy = GradingPolicy.objects.create(scheme=scheme, subject=Subject.TEAM)
    level = GradeLevel.objects.create(policy=policy, code="first", label="一等", quota_percent=15, order=1)
    rule = GradingRule.objects.create(policy=policy, rule_type="bottom_share", params={"share": 0.05})
    entry = LibraryEntryFactory(name="政治素质")
    return {
        "scheme": scheme,
        "component": component,
        "root": root,
        "a": a,
        "b": b,
        "policy": policy,
        "level": level,
        "rule": rule,
        "entry": entry,
    }


def _login(client: Client, role: Role, **kwargs: object) -> User:
    user: User = UserFactory(role=role, **kwargs)
    client.force_login(user)
    return user


# --- permissions: every view --------------------------------------------------------------------

Url = Callable[[dict[str, object]], str]


def _pk(t: dict[str, object], key: str) -> int:
    obj = t[key]
    assert hasattr(obj, "pk")
    return int(obj.pk)


READ_URLS: list[Url] = [
    lambda t: reverse("schemes:cycle_list"),
    lambda t: reverse("schemes:cycle_detail", args=[t["scheme"].cycle_id]),  # type: ignore[attr-defined]
    lambda t: reverse("schemes:scheme_detail", args=[_pk(t, "scheme")]),
    lambda t: reverse("schemes:scheme_tree", args=[_pk(t, "scheme")]),
    lambda t: reverse("schemes:library_list"),
]

CONFIG_URLS: list[Url] = [
    lambda t: reverse("schemes:cycle_create"),
    lambda t: reverse("schemes:cycle_edit", args=[t["scheme"].cycle_id]),  # type: ignore[attr-defined]
    lambda t: reverse("schemes:cycle_copy", args=[t["scheme"].cycle_id]),  # type: ignore[attr-defined]
    lambda t: reverse("schemes:scheme_create", args=[t["scheme"].cycle_id]),  # type: ignore[attr-defined]
    lambda t: reverse("schemes:scheme_edit", args=[_pk(t, "scheme")]),
    lambda t: reverse("schemes:scheme_delete", args=[_pk(t, "scheme")]),
    lambda t: reverse("schemes:component_create", args=[_pk(t, "scheme")]),
    lambda t: reverse("schemes:component_edit", args=[_pk(t, "component")]),
    lambda t: reverse("schemes:component_delete", args=[_pk(t, "component")]),
    lambda t: reverse("schemes:policy_create", args=[_pk(t, "scheme")]),
    lambda t: reverse("schemes:policy_delete", args=[_pk(t, "policy")]),
    lambda t: reverse("schemes:level_create", args=[_pk(t, "policy")]),
    lambda t: reverse("schemes:level_edit", args=[_pk(t, "level")]),
    lambda t: reverse("schemes:level_delete", args=[_pk(t, "level")]),
    lambda t: reverse("schemes:rule_create", args=[_pk(t, "policy")]),
    lambda t: reverse("schemes:rule_edit", args=[_pk(t, "rule")]),
    lambda t: reverse("schemes:rule_toggle", args=[_pk(t, "rule")]),
    lambda t: reverse("schemes:rule_delete", args=[_pk(t, "rule")]),
    lambda t: reverse("schemes:indicator_add", args=[_pk(t, "scheme")]) + f"?parent={_pk(t, 'root')}",
    lambda t: reverse("schemes:indicator_library", args=[_pk(t, "scheme")]) + f"?parent={_pk(t, 'root')}",
    lambda t: reverse("schemes:indicator_edit", args=[_pk(t, "a")]),
    lambda t: reverse("schemes:indicator_move", args=[_pk(t, "a")]),
    lambda t: reverse("schemes:indicator_delete", args=[_pk(t, "a")]),
    lambda t: reverse("schemes:library_create"),
    lambda t: reverse("schemes:library_edit", args=[_pk(t, "entry")]),
    lambda t: reverse("schemes:library_delete", args=[_pk(t, "entry")]),
]
POST_ONLY = {"cycle_copy", "rule_toggle", "indicator_move"}


@pytest.mark.parametrize("url", READ_URLS + CONFIG_URLS)
def test_anonymous_users_are_sent_to_the_login_page(
    client: Client, tree: dict[str, object], url: Url
) -> None:
    for method in (client.get, client.post):
        response = method(url(tree))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("url", READ_URLS)
def test_auditor_and_office_read_every_scheme_page(client: Client, tree: dict[str, object], url: Url) -> None:
    for role in (Role.AUDITOR, Role.OFFICE):
        _login(client, role)
        assert client.get(url(tree)).status_code == 200, role


@pytest.mark.parametrize("url", CONFIG_URLS)
@pytest.mark.parametrize("role", [Role.AUDITOR, Role.LIAISON, Role.LEADER, Role.LEAD_DEPT])
def test_only_the_office_configures_schemes(
    client: Client, tree: dict[str, object], url: Url, role: Role
) -> None:
    _login(client, role, unit=UnitFactory(category=tree["scheme"].category))  # type: ignore[attr-defined]
    assert client.get(url(tree)).status_code == 403
    assert client.post(url(tree), {"name": "x", "weight": "1"}).status_code == 403
    assert IndicatorNode.objects.count() == 3
    assert Scheme.objects.count() == 1


@pytest.mark.parametrize("url", CONFIG_URLS)
def test_the_office_opens_every_configuration_form(client: Client, tree: dict[str, object], url: Url) -> None:
    _login(client, Role.OFFICE)
    response = client.get(url(tree))
    expected = 405 if any(name in url(tree) for name in ("/copy/", "/toggle/", "/move/")) else 200
    assert response.status_code == expected


def test_liaison_reads_their_categorys_scheme_but_gets_404_for_another_category(
    client: Client, tree: dict[str, object]
) -> None:
    scheme = tree["scheme"]
    assert isinstance(scheme, Scheme)
    other = SchemeFactory(cycle=scheme.cycle)
    _login(client, Role.LIAISON, unit=UnitFactory(category=scheme.category))
    assert client.get(reverse("schemes:scheme_detail", args=[scheme.pk])).status_code == 200
    assert client.get(reverse("schemes:scheme_detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("schemes:scheme_tree", args=[other.pk])).status_code == 404
    listed = client.get(reverse("schemes:cycle_detail", args=[scheme.cycle_id])).context["rows"]
    assert [row["scheme"] for row in listed] == [scheme]


def test_lead_department_reads_a_scheme_where_it_leads_an_indicator(client: Client) -> None:
    lead = UnitFactory()
    node = IndicatorFactory(lead_unit=lead)
    _login(client, Role.LEAD_DEPT, unit=lead)
    assert client.get(reverse("schemes:scheme_detail", args=[node.scheme_id])).status_code == 200


def test_liaison_sees_the_tree_without_edit_buttons(client: Client, tree: dict[str, object]) -> None:
    scheme = tree["scheme"]
    assert isinstance(scheme, Scheme)
    _login(client, Role.LIAISON, unit=UnitFactory(category=scheme.category))
    body = client.get(reverse("schemes:scheme_detail", args=[scheme.pk])).content.decode()
    assert "财政收入" in body
    assert reverse("schemes:indicator_edit", args=[_pk(tree, "a")]) not in body


# --- cycles and schemes ------------------------------------------------------------------------


def test_office_creates_a_cycle(client: Client) -> None:
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("schemes:cycle_create"), {"year": 2026, "name": "2026年度", "status": "draft"}
    )
    assert response.status_code == 302
    assert Cycle.objects.filter(year=2026).exists()


def test_a_duplicate_cycle_year_is_redisplayed_with_an_error(client: Client) -> None:
    CycleFactory(year=2026)
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("schemes:cycle_create"), {"year": 2026, "name": "又一个", "status": "draft"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["year"]


def test_cycle_detail_shows_component_weights_and_the_weight_check_badge(
    client: Client, tree: dict[str, object]
) -> None:
    IndicatorFactory(
        parent=tree["root"], component=tree["component"], scheme=tree["scheme"], name="多余", weight=10
    )
    _login(client, Role.OFFICE)
    response = client.get(reverse("schemes:cycle_detail", args=[tree["scheme"].cycle_id]))  # type: ignore[attr-defined]
    body = response.content.decode()
    assert "年度实绩 <b>100</b>" in body
    assert "tag bad" in body
    assert [p.where for p in response.context["rows"][0]["problems"]] == ["经济发展"]


def test_copy_last_years_schemes_into_a_cycle(client: Client, tree: dict[str, object]) -> None:
    new_cycle = CycleFactory(year=2026)
    _login(client, Role.OFFICE)
    response = client.post(reverse("schemes:cycle_copy", args=[new_cycle.pk]))
    assert response.status_code == 302
    copy = Scheme.objects.get(cycle=new_cycle)
    assert copy.indicators.count() == 3
    assert copy.grading_policies.get().rules.count() == 1


def test_office_creates_a_scheme_in_a_cycle(client: Client) -> None:
    cycle = CycleFactory()
    category = UnitFactory().category
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("schemes:scheme_create", args=[cycle.pk]),
        {"category": category.pk, "name": "县市方案", "notes": ""},
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert Scheme.objects.get(cycle=cycle).category == category


def test_office_edits_a_component_weight(client: Client, tree: dict[str, object]) -> None:
    component = tree["component"]
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("schemes:component_edit", args=[_pk(tree, "component")]),
        {
            "code": "annual",
            "name": "年度实绩",
            "weight": "45",
            "order": 1,
            "subject": "team",
            "source": "indicators",
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    component.refresh_from_db()  # type: ignore[attr-defined]
    assert component.weight == Decimal("45")  # type: ignore[attr-defined]


def test_grading_rule_with_a_bad_share_is_redisplayed_with_the_field_named_and_not_saved(
    client: Client, tree: dict[str, object]
) -> None:
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("schemes:rule_edit", args=[_pk(tree, "rule")]),
        {
            "rule_type": "bottom_share",
            "enabled": "on",
            "gp__bottom_share__share": "五",
            "gp__bottom_share__grade": "一等",
        },
    )
    assert response.status_code == 200
    assert "“比例”须为数字" in str(response.context["form"].errors["gp__bottom_share__share"])
    body = response.content.decode()
    assert 'value="五"' in body and "未保存" in body
    rule = tree["rule"]
    rule.refresh_from_db()  # type: ignore[attr-defined]
    assert rule.params == {"share": 0.05}  # type: ignore[attr-defined]


def test_grading_rule_params_are_saved_from_the_percent_and_grade_inputs_and_the_rule_can_be_switched_off(
    client: Client, tree: dict[str, object]
) -> None:
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("schemes:rule_edit", args=[_pk(tree, "rule")]),
        {
            "rule_type": "bottom_share",
            "enabled": "on",
            "gp__bottom_share__share": "2",
            "gp__bottom_share__grade": "一等",
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    client.post(reverse("schemes:rule_toggle", args=[_pk(tree, "rule")]))
    rule = GradingRule.objects.get()
    assert (rule.params, rule.enabled) == ({"share": 0.02, "grade": "一等"}, False)


def test_office_adds_a_grade_level_with_a_quota(client: Client, tree: dict[str, object]) -> None:
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("schemes:level_create", args=[_pk(tree, "policy")]),
        {"code": "second", "label": "二等", "quota_percent": "80", "order": 2},
    )
    assert response.status_code == 302
    assert GradeLevel.objects.get(code="second").quota_percent == Decimal("80")


# --- the indicator tree editor ------------------------------------------------------------------


def _node_post(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"name": "新指标", "code": "", "weight": "20", "kind": "base", "rule_type": ""}
    data.update(overrides)
    return data


def test_adding_a_child_over_htmx_returns_the_re_rendered_tree(
    client: Client, tree: dict[str, object]
) -> None:
    _login(client, Role.OFFICE)
    url = reverse("schemes:indicator_add", args=[_pk(tree, "scheme")]) + f"?parent={_pk(tree, 'root')}"
    response = client.post(url, _node_post(name="科技创新"), **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="tree-editor"')
    assert "科技创新" in body
    assert "120 / 100" in body and "sum-bad" in body
    node = IndicatorNode.objects.get(name="科技创新")
    assert (node.level, node.parent_id) == (2, _pk(tree, "root"))


def test_adding_a_child_with_a_plain_post_redirects_to_the_node(
    client: Client, tree: dict[str, object]
) -> None:
    _login(client, Role.OFFICE)
    url = reverse("schemes:indicator_add", args=[_pk(tree, "scheme")]) + f"?parent={_pk(tree, 'root')}"
    response = client.post(url, _node_post(name="科技创新"))
    node = IndicatorNode.objects.get(name="科技创新")
    assert response.status_code == 302
    assert response["Location"].endswith(f"#node-{node.pk}")


def test_adding_a_level_one_indicator_to_a_component(client: Client, tree: dict[str, object]) -> None:
    _login(client, Role.OFFICE)
    url = (
        reverse("schemes:indicator_add", args=[_pk(tree, "scheme")]) + f"?component={_pk(tree, 'component')}"
    )
    client.post(url, _node_post(name="社会事业", kind="dynamic", is_long_term="on"), **HTMX)
    node = IndicatorNode.objects.get(name="社会事业")
    assert (node.level, node.parent, node.kind, node.is_long_term) == (1, None, "dynamic", True)


def test_the_add_form_opens_inside_the_nodes_slot_for_htmx(client: Client, tree: dict[str, object]) -> None:
    _login(client, Role.OFFICE)
    url = reverse("schemes:indicator_add", args=[_pk(tree, "scheme")]) + f"?parent={_pk(tree, 'root')}"
    fragment = client.get(url, **HTMX).content.decode()
    assert fragment.lstrip().startswith("<form")
    assert 'hx-target="#tree-editor"' in fragment
    page = client.get(url).content.decode()
    assert "<html" in page and "hx-post" not in page


def test_editing_weight_and_rule_saves_the_params_from_labelled_inputs(
    client: Client, tree: dict[str, object]
) -> None:
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("schemes:indicator_edit", args=[_pk(tree, "a")]),
        _node_post(
            name="财政收入",
            weight="70",
            rule_type="steps",
            rp__steps__steps__min=["100", "80", ""],
            rp__steps__steps__rate=["1", "0.8", ""],
            rp__steps__on="ratio",
            rp__completion__cap="9",  # another rule's input is ignored
        ),
        **HTMX,
    )
    assert response.status_code == 200
    node = IndicatorNode.objects.get(pk=_pk(tree, "a"))
    assert node.weight == Decimal("70")
    assert node.rule_type == "steps"
    assert node.rule_params == {"steps": [[100.0, 1.0], [80.0, 0.8]], "on": "ratio"}


def test_bad_rule_params_show_the_error_next_to_the_form_and_save_nothing(
    client: Client, tree: dict[str, object]
) -> None:
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("schemes:indicator_edit", args=[_pk(tree, "a")]),
        _node_post(
            name="财政收入",
            weight="99",
            rule_type="threshold_deduction",
            rp__threshold_deduction__per_unit="abc",
        ),
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#slot-n-{_pk(tree, 'a')}"
    assert response["HX-Reswap"] == "innerHTML"
    body = response.content.decode()
    assert "form-errors" in body and "财政收入" in body
    node = IndicatorNode.objects.get(pk=_pk(tree, "a"))
    assert (node.weight, node.rule_type) == (Decimal("60"), "")


def test_bad_rule_params_on_a_plain_post_redisplay_the_form_page(
    client: Client, tree: dict[str, object]
) -> None:
    _login(client, Role.OFFICE)
    url = reverse("schemes:indicator_add", args=[_pk(tree, "scheme")]) + f"?parent={_pk(tree, 'root')}"
    response = client.post(url, _node_post(name="招商引资", rule_type="grade_map"))
    assert response.status_code == 200
    assert "等次→得分率" in str(response.context["form"].errors)
    assert not IndicatorNode.objects.filter(name="招商引资").exists()


def test_a_level_four_node_has_no_add_child_button_and_a_fifth_level_is_refused(client: Client) -> None:
    nodes = [IndicatorFactory(name="L1")]
    for level in (2, 3, 4):
        nodes.append(IndicatorFactory(parent=nodes[-1], component=nodes[-1].component, name=f"L{level}"))
    scheme_pk, leaf = nodes[0].scheme_id, nodes[-1]
    _login(client, Role.OFFICE)
    body = client.get(reverse("schemes:scheme_detail", args=[scheme_pk])).content.decode()
    assert f"?parent={nodes[2].pk}" in body
    assert f"?parent={leaf.pk}" not in body
    url = reverse("schemes:indicator_add", args=[scheme_pk]) + f"?parent={leaf.pk}"
    response = client.post(url, _node_post(name="L5"), **HTMX)
    assert "最多四级" in response.content.decode()
    assert not IndicatorNode.objects.filter(name="L5").exists()


def test_moving_a_node_up_over_htmx_reorders_the_siblings(client: Client, tree: dict[str, object]) -> None:
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("schemes:indicator_move", args=[_pk(tree, "b")]), {"direction": "up"}, **HTMX
    )
    body = response.content.decode()
    assert body.index("固定资产投资") < body.index("财政收入")
    root = tree["root"]
    assert isinstance(root, IndicatorNode)
    assert list(root.children.order_by("order").values_list("name", flat=True)) == [
        "固定资产投资",
        "财政收入",
    ]


def test_deleting_a_node_removes_its_subtree(client: Client, tree: dict[str, object]) -> None:
    _login(client, Role.OFFICE)
    confirm = client.get(reverse("schemes:indicator_delete", args=[_pk(tree, "root")]))
    assert confirm.status_code == 200 and IndicatorNode.objects.count() == 3
    response = client.post(reverse("schemes:indicator_delete", args=[_pk(tree, "root")]))
    assert response.status_code == 302
    assert IndicatorNode.objects.count() == 0


def test_adding_from_the_library_copies_its_name_and_rule(client: Client, tree: dict[str, object]) -> None:
    entry = tree["entry"]
    assert isinstance(entry, LibraryEntry)
    _login(client, Role.OFFICE)
    url = reverse("schemes:indicator_library", args=[_pk(tree, "scheme")]) + f"?parent={_pk(tree, 'root')}"
    response = client.post(url, {"entry": entry.pk, "weight": "10"}, **HTMX)
    assert response.status_code == 200
    node = IndicatorNode.objects.get(name="政治素质")
    assert (node.library_entry, node.rule_type, node.level) == (entry, entry.rule_type, 2)


def test_tree_page_renders_in_a_bounded_number_of_queries(
    client: Client, tree: dict[str, object], django_assert_max_num_queries: Callable[..., object]
) -> None:
    for i in range(20):
        IndicatorFactory(
            parent=tree["a"], component=tree["component"], scheme=tree["scheme"], name=f"细项{i}", weight=5
        )
    _login(client, Role.OFFICE)
    with django_assert_max_num_queries(25):  # type: ignore[operator]
        assert client.get(reverse("schemes:scheme_detail", args=[_pk(tree, "scheme")])).status_code == 200


# --- the library --------------------------------------------------------------------------------


def test_library_lists_the_three_kinds(client: Client) -> None:
    LibraryEntryFactory(kind="regional", name="亩均税收")
    _login(client, Role.LIAISON, unit=UnitFactory())
    response = client.get(reverse("schemes:library_list"))
    assert [kind for kind, _label, _entries in response.context["groups"]] == [
        "basic",
        "regional",
        "position",
    ]
    assert "亩均税收" in response.content.decode()


def test_office_creates_a_library_entry_with_rule_params(client: Client) -> None:
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("schemes:library_create"),
        {
            "kind": "basic",
            "code": "integrity",
            "name": "廉洁自律",
            "description": "",
            "layer": "",
            "rule_type": "grade_map",
            "rp__grade_map__map__label": ["好", "较好"],
            "rp__grade_map__map__rate": ["1", "0.85"],
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert LibraryEntry.objects.get(code="integrity").rule_params == {"map": {"好": 1.0, "较好": 0.85}}


def test_a_library_entry_with_bad_params_is_not_saved(client: Client) -> None:
    _login(client, Role.OFFICE)
    response = client.post(
        reverse("schemes:library_create"),
        {
            "kind": "basic",
            "code": "x1",
            "name": "廉洁自律",
            "rule_type": "grade_map",
            "rp__grade_map__map": "",
        },
    )
    assert response.status_code == 200
    assert "廉洁自律" in str(response.context["form"].non_field_errors())
    assert not LibraryEntry.objects.filter(code="x1").exists()
