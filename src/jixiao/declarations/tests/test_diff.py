"""Diffs between versions (by uid) and against last year's published targets (by uid, library
entry or name), in words: labels, numbers without trailing zeros, rule names."""

from __future__ import annotations

from typing import Any

from jixiao.declarations.diff import COMPARED, diff_last_year, diff_versions, number_text
from jixiao.declarations.snapshot import COMPARED_FIELDS


def _item(uid: str, name: str, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "uid": uid,
        "name": name,
        "parent_name": "经济发展",
        "measure": "%",
        "target": "8.0000",
        "rule_type": "completion",
        "rule_params": {"cap": 1.2},
        "weight": "50.00",
        "lead_department_name": "发改委",
        "kind": "base",
        "is_core": True,
        "is_long_term": False,
        "library_entry_id": None,
        "milestones": [],
    }
    return {**base, **kw}


def test_the_diff_compares_the_fields_the_snapshot_names() -> None:
    assert set(COMPARED) == set(COMPARED_FIELDS)


def test_versions_diff_shows_added_removed_and_changed_fields_in_words() -> None:
    v1 = [_item("a", "工业增速"), _item("b", "招商引资")]
    v2 = [_item("a", "工业增速", target="8.5000", rule_params={"cap": 1.5}), _item("c", "新增指标")]
    diff = diff_versions(v1, v2)
    assert [i["name"] for i in diff.added] == ["新增指标"]
    assert [i["name"] for i in diff.removed] == ["招商引资"]
    (change,) = diff.changed
    assert change.name == "工业增速"
    fields = {c.field: (c.label, c.before, c.after) for c in change.changes}
    assert fields["target"] == ("目标值", "8", "8.5")
    assert fields["rule_params"][0] == "规则参数" and "1.5" in fields["rule_params"][2]
    assert diff.changed_uids() == {"a", "c"}


def test_equal_numbers_written_differently_are_no_change() -> None:
    assert diff_versions([_item("a", "x", target="8")], [_item("a", "x", target="8.0000")]).empty


def test_last_year_matches_by_uid_then_library_entry_then_name() -> None:
    last = [
        _item("old-1", "工业增速", target="7"),
        _item("old-2", "基础指标甲", library_entry_id=5, target="1"),
        _item("old-3", "招商引资", target="10"),
        _item("old-4", "已取消指标"),
    ]
    now = [
        _item("old-1", "工业增速（改名）", target="8"),
        _item("new-2", "基础指标甲·新表述", library_entry_id=5, target="1"),
        _item("new-3", "招商引资", target="12"),
        _item("new-4", "全新指标"),
    ]
    diff = diff_last_year(last, now)
    assert [i["name"] for i in diff.added] == ["全新指标"]
    assert [i["name"] for i in diff.removed] == ["已取消指标"]
    assert {c.name: c.changes[0].after for c in diff.changed} == {"工业增速（改名）": "8", "招商引资": "12"}


def test_number_text_drops_trailing_zeros() -> None:
    assert (number_text("8.5000"), number_text("20.00"), number_text(None), number_text("100")) == (
        "8.5",
        "20",
        "",
        "100",
    )
