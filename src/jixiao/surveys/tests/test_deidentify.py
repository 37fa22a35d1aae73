from __future__ import annotations

import pytest

from jixiao.surveys.deidentify import (
    EMAIL_PLACEHOLDER,
    ID_PLACEHOLDER,
    MAX_OPINION_CHARS,
    PHONE_PLACEHOLDER,
    deidentify,
)


@pytest.mark.parametrize(
    "phone",
    [
        "13812345678",
        "+8613812345678",
        "86 138 1234 5678",
        "138-1234-5678",
        "０１３８１２３４５６７８"[1:],
        "0731-84567890",
        "(010)12345678",
    ],
)
def test_phone_numbers_are_replaced(phone: str) -> None:
    out = deidentify(f"请联系我{phone}谢谢")
    assert out == f"请联系我{PHONE_PLACEHOLDER}谢谢"


@pytest.mark.parametrize("number", ["43310119900307123X", "433101199003071234", "433101900307123"])
def test_resident_id_numbers_are_replaced_whole_not_as_a_phone(number: str) -> None:
    assert deidentify(f"身份证{number}。") == f"身份证{ID_PLACEHOLDER}。"


def test_email_addresses_are_replaced() -> None:
    assert deidentify("邮箱 zhang.san+x@example.com.cn 可回复") == f"邮箱 {EMAIL_PLACEHOLDER} 可回复"


def test_ordinary_numbers_and_text_are_kept_verbatim() -> None:
    text = "等了 45 分钟，窗口 3 号，2025年6月办的营业执照，材料要 12 份。"
    assert deidentify(text) == text


def test_several_identifiers_in_one_opinion_are_all_removed() -> None:
    out = deidentify("我叫张三 13912345678，身份证 430102198001011234，邮件 a@b.cn")
    assert "13912345678" not in out and "430102198001011234" not in out and "a@b.cn" not in out
    assert out.count(PHONE_PLACEHOLDER) == 1 and out.count(ID_PLACEHOLDER) == 1


def test_opinions_are_trimmed_and_cut_to_the_maximum_length() -> None:
    assert deidentify("  好  ") == "好"
    assert len(deidentify("很" * 2000)) == MAX_OPINION_CHARS
