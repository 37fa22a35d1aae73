"""The pre-flight check lists what would break a scoring run, in Chinese and with where to fix it;
``jixiao compute --cycle`` refuses on the same errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from jixiao.facts.models import IndicatorResult
from jixiao.organisation.tests.factories import CategoryFactory, UnitFactory
from jixiao.results.models import ScoringRun
from jixiao.results.preflight import ERROR, WARNING, describe_scoring_error, preflight
from jixiao.schemes.models import Component, CycleStatus, IndicatorNode
from jixiao.schemes.tests.factories import IndicatorFactory, SchemeFactory
from jixiao.scoring.errors import FactsError, SchemeError

pytestmark = pytest.mark.django_db


def _codes(problems: list, severity: str) -> list[str]:
    return [p.code for p in problems if p.severity == severity]


def test_a_sound_cycle_passes_without_errors_or_warnings(cycle_with_facts: dict) -> None:
    assert preflight(cycle_with_facts["cycle"]) == []


def test_weights_that_do_not_sum_to_100_are_an_error_linking_to_the_scheme(cycle_with_facts: dict) -> None:
    Component.objects.filter(code="annual").update(weight=Decimal("70"))
    problems = preflight(cycle_with_facts["cycle"])
    [weights] = [p for p in problems if p.code == "weights"]
    assert weights.severity == ERROR
    assert "权重合计为 90" in weights.message and "应为 100" in weights.message
    assert weights.link == f"/schemes/s/{cycle_with_facts['leaf'].scheme_id}/"


def test_a_leaf_without_a_rule_is_named_by_category_component_and_path(cycle_with_facts: dict) -> None:
    leaf = cycle_with_facts["leaf"]
    IndicatorNode.objects.filter(pk=leaf.pk).update(rule_type="", name="营商环境")
    [problem] = preflight(cycle_with_facts["cycle"])
    assert problem.code == "no_rule" and problem.severity == ERROR
    assert "年度实绩" in problem.message and "营商环境" in problem.message and "计分规则" in problem.message
    assert f"I{leaf.pk}" not in problem.message
    assert problem.link == f"/schemes/indicators/{leaf.pk}/edit/"


def test_a_cap_below_the_floor_is_refused_naming_both_fields(cycle_with_facts: dict) -> None:
    IndicatorNode.objects.filter(pk=cycle_with_facts["leaf"].pk).update(
        rule_params={"cap": 0.5, "floor": 0.8}
    )
    [problem] = preflight(cycle_with_facts["cycle"])
    assert problem.code == "rule_params"
    assert "“封顶完成率”不能低于“下限完成率”" in problem.message


def test_a_zero_target_names_the_units_the_indicator_and_the_field(cycle_with_facts: dict) -> None:
    first = cycle_with_facts["units"][0]
    IndicatorResult.objects.filter(unit=first).update(target=0)
    [problem] = preflight(cycle_with_facts["cycle"])
    assert problem.code == "target" and problem.severity == ERROR
    assert first.name in problem.message and "“目标值”" in problem.message
    assert cycle_with_facts["leaf"].name in problem.message
    assert problem.link == f"/facts/indicators/{cycle_with_facts['leaf'].pk}/"


def test_compute_command_refuses_with_chinese_messages_instead_of_internal_ids(
    cycle_with_facts: dict,
) -> None:
    IndicatorResult.objects.filter(unit=cycle_with_facts["units"][0]).update(target=0)
    leaf = cycle_with_facts["leaf"]
    with pytest.raises(CommandError) as refused:
        call_command("compute", cycle=2025)
    text = str(refused.value)
    assert "计分前检查未通过" in text and leaf.name in text and "目标值" in text
    assert f"I{leaf.pk}" not in text and "targets must be" not in text
    assert not ScoringRun.objects.exists()


def test_a_grade_map_without_a_label_in_use_names_the_missing_label(cycle_with_facts: dict) -> None:
    leaf = cycle_with_facts["leaf"]
    IndicatorNode.objects.filter(pk=leaf.pk).update(
        rule_type="grade_map", rule_params={"map": {"好": 1, "一般": 0.7}}
    )
    IndicatorResult.objects.filter(indicator=leaf).update(value=None, grade="好")
    IndicatorResult.objects.filter(unit=cycle_with_facts["units"][3]).update(grade="较差")
    [problem] = preflight(cycle_with_facts["cycle"])
    assert problem.code == "grade_map"
    assert "“等次→得分率”缺少已录入的等次：较差" in problem.message


def test_a_category_without_units_and_facts_about_unassessed_units_are_warnings(
    cycle_with_facts: dict,
) -> None:
    cycle = cycle_with_facts["cycle"]
    empty = SchemeFactory(cycle=cycle, category=CategoryFactory(code="empty", name="空类别"))
    comp = Component.objects.create(scheme=empty, code="c", name="实绩", weight=Decimal("100"))
    IndicatorFactory(component=comp, rule_type="completion", rule_params={})
    stray = UnitFactory(category=CategoryFactory(code="stray"), name="未参考单位")
    IndicatorResult.objects.create(
        cycle=cycle, unit=stray, indicator=cycle_with_facts["leaf"], value=1, target=1
    )
    problems = preflight(cycle)
    assert _codes(problems, ERROR) == []
    assert sorted(_codes(problems, WARNING)) == ["no_entities", "unknown_entities"]
    stray_warning = next(p for p in problems if p.code == "unknown_entities")
    assert "未参考单位" in stray_warning.message and "计分时将忽略" in stray_warning.message


def test_a_closed_cycle_is_an_error(cycle_with_facts: dict) -> None:
    cycle = cycle_with_facts["cycle"]
    type(cycle).objects.filter(pk=cycle.pk).update(status=CycleStatus.CLOSED)
    [problem] = preflight(cycle)
    assert problem.code == "closed" and "已结束" in problem.message


def test_an_engine_refusal_names_the_indicator_path_and_the_field_not_the_internal_id(
    cycle_with_facts: dict,
) -> None:
    leaf = cycle_with_facts["leaf"]
    facts = describe_scoring_error(FactsError(f"indicator I{leaf.pk}", "targets must be > 0"))
    assert leaf.name in facts and "年度实绩" in facts and f"I{leaf.pk}" not in facts
    scheme = describe_scoring_error(
        SchemeError(f"indicator I{leaf.pk}", "parameter 'cap' must not be below 'floor'", param="cap")
    )
    assert "参数“封顶完成率”有误" in scheme and f"I{leaf.pk}" not in scheme
