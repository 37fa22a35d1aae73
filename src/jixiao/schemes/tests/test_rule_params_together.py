"""Rule parameters are validated together, not only one by one; the message names the field."""

from __future__ import annotations

import pytest

from jixiao.facts.models import IndicatorResult
from jixiao.organisation.tests.factories import UnitFactory
from jixiao.schemes.forms import IndicatorForm, param_field_name
from jixiao.schemes.rule_types import RuleParamError, rule_param_problems, validate_rule_params
from jixiao.schemes.tests.factories import CycleFactory, IndicatorFactory


@pytest.mark.parametrize(
    ("rule", "params", "field", "message"),
    [
        ("completion", {"cap": 0.5, "floor": 0.8}, "cap", "“封顶完成率”不能低于“下限完成率”"),
        ("completion", {"target": 0}, "target", "“默认目标值”必须大于 0"),
        ("steps", {"steps": [[100, 1], [90, 0.4], [80, 0.8]]}, "steps", "不能先升后降"),
        (
            "steps",
            {"steps": [[100, 1], [90, 0.8]], "below": 0.9},
            "below",
            "“未达最低档得分率”不能高于最低一档",
        ),
        (
            "bonus_deduction",
            {"per_unit": 1, "min_rate": 0.8, "max_rate": 0.5},
            "min_rate",
            "不能高于“最高得分率”",
        ),
        (
            "yoy_improvement",
            {"min_rate": 0.9, "max_rate": 0.5},
            "min_rate",
            "“最低得分率”不能高于“最高得分率”",
        ),
        ("rank_points", {"points": [50, 60]}, "points", "“各名次分数”应从第 1 名起逐名不增"),
        (
            "rank_points",
            {"points": [60, 50], "floor": 55},
            "floor",
            "“其余名次分数”不能高于最后一个名次的分数",
        ),
    ],
)
def test_parameters_that_cannot_work_together_are_refused_naming_the_field(
    rule: str, params: dict, field: str, message: str
) -> None:
    with pytest.raises(RuleParamError, match=message) as refused:
        validate_rule_params(rule, params)
    assert refused.value.param == field


def test_steps_that_fall_steadily_are_a_valid_lower_is_better_scale() -> None:
    assert validate_rule_params("steps", {"steps": [[0, 1], [3, 0.6], [5, 0.2]]})


@pytest.mark.django_db
def test_a_grade_map_must_score_the_grades_already_entered() -> None:
    leaf = IndicatorFactory(rule_type="grade_map", rule_params={"map": {"好": 1}})
    IndicatorResult.objects.create(cycle=CycleFactory(), unit=UnitFactory(), indicator=leaf, grade="较差")
    assert rule_param_problems("grade_map", {"map": {"好": 1}}, node=leaf) == [
        ("map", "“等次→得分率”缺少已录入的等次：较差")
    ]
    assert rule_param_problems("grade_map", {"map": {"好": 1, "较差": 0.5}}, node=leaf) == []


@pytest.mark.django_db
def test_the_indicator_form_puts_the_joint_error_on_the_field_it_names() -> None:
    leaf = IndicatorFactory(rule_type="completion", rule_params={})
    data = {
        "name": leaf.name,
        "weight": "100",
        "kind": leaf.kind,
        "rule_type": "completion",
        param_field_name("completion", "cap"): "0.5",
        param_field_name("completion", "floor"): "0.8",
    }
    form = IndicatorForm(data=data, node=leaf)
    assert not form.is_valid()
    assert form.errors[param_field_name("completion", "cap")] == ["“封顶完成率”不能低于“下限完成率”"]
    data[param_field_name("completion", "cap")] = "1.2"
    assert IndicatorForm(data=data, node=leaf).is_valid()
