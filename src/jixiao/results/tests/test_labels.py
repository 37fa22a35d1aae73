"""grade_text: one Chinese sentence per grade decision, naming the binding constraint."""

from __future__ import annotations

from typing import Any

from jixiao.results.labels import grade_text


def _x(label: str, decision: dict[str, Any], rank: int = 3) -> dict[str, Any]:
    return {"rank": {"rank": rank, "of": 20}, "grade": {"label": label, "decision": decision}}


def test_a_team_capped_official_reads_which_team_grade_and_how_many_places() -> None:
    binding = {"code": "ceiling.team_cap", "ceiling_index": 1, "team": "U1", "team_grade": "一等", "cap": 4}
    decision = {"code": "ceiling.team_cap", "binding": binding, "denied": "优秀", "outcome": "fill"}
    assert grade_text(_x("称职", decision, 29), {}) == (
        "排名第29，但所在班子等次为一等，其成员评为优秀的名额（4 名）已满，按比例评为称职"
    )


def test_a_forced_grade_held_down_by_a_sanction_ceiling_names_both() -> None:
    binding = {"code": "ceiling.sanction", "ceiling_index": 2, "level": "warning"}
    decision = {
        "code": "ceiling.sanction", "binding": binding, "denied": "称职", "outcome": "ceiling",
        "forced": "forced.falsification",
    }  # fmt: skip
    assert grade_text(_x("基本称职", decision), {}) == (
        "排名第3，但因处分（警告）不得评为称职，按等次上限评为基本称职（弄虚作假）"
    )


def test_a_veto_that_did_not_bind_is_mentioned_as_not_affecting_the_grade() -> None:
    decision = {"code": "fill", "of": 20, "constraints": [{"code": "ceiling.veto", "indicators": ["I9"]}]}
    assert grade_text(_x("二等", decision, 12), {"I9": "安全生产"}) == (
        "排名第12，未触发任何规则，按比例评为二等（另有一票否优项“安全生产”，未影响等次）"
    )


def test_an_ungraded_entity_reads_the_reason() -> None:
    decision = {"code": "no_grade.adjustment", "reason": "试用期"}
    assert grade_text(_x("", decision), {}) == "不确定等次：试用期"
