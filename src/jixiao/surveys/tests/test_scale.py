from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jixiao.surveys.models import DEFAULT_SCALE
from jixiao.surveys.scale import parse_questions, parse_scale_text, parse_tags, scale_text, validate_scale


def test_default_scale_is_the_national_satisfaction_scale() -> None:
    assert [(o["label"], o["points"]) for o in DEFAULT_SCALE] == [
        ("很满意", 100),
        ("满意", 80),
        ("基本满意", 60),
        ("不太满意", 30),
        ("不满意", 0),
    ]


def test_scale_text_round_trips_including_an_uncounted_option() -> None:
    text = "很满意=100\n满意=80\n不了解="
    parsed = parse_scale_text(text)
    assert parsed[-1] == {"label": "不了解", "points": None}
    assert scale_text(parsed) == text


def test_scale_accepts_full_width_equals_sign() -> None:
    assert parse_scale_text("好＝90\n差＝10")[0] == {"label": "好", "points": 90}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("很满意=100", "2 至"),
        ("很满意=120\n满意=80", "0–100"),
        ("很满意=100\n很满意=80", "重复"),
        ("很满意=高\n满意=80", "不是整数"),
        ("很满意\n满意=80", "选项=分值"),
        ("不了解=\n满意=80", "至少两个选项须计分"),
    ],
)
def test_bad_scales_are_refused_with_a_chinese_reason(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_scale_text(text)
    assert any(fragment in m for m in info.value.messages)


def test_validate_scale_refuses_booleans_as_points() -> None:
    with pytest.raises(ValidationError):
        validate_scale([{"label": "a", "points": True}, {"label": "b", "points": 0}])


def test_questions_need_an_item_code_of_lowercase_letters() -> None:
    assert parse_questions("overall|总体满意度\nspeed｜办事效率") == [
        ("overall", "总体满意度"),
        ("speed", "办事效率"),
    ]
    with pytest.raises(ValidationError):
        parse_questions("Overall|总体")
    with pytest.raises(ValidationError):
        parse_questions("overall|a\noverall|b")
    with pytest.raises(ValidationError):
        parse_questions("")


def test_tags_split_on_lines_and_chinese_commas_without_duplicates() -> None:
    assert parse_tags("热情，高效\n热情、专业") == ["热情", "高效", "专业"]
    with pytest.raises(ValidationError):
        parse_tags("很" * 21)
