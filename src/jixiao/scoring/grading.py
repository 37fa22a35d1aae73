"""Grading (M12): quotas per category, hard rules, vetoes, sanctions and team caps.

Precedence, heaviest first: no grade (不确定等次: a ``no_grade`` adjustment or a sanction whose
effect is no_grade) > forced grades (sanctions, falsification, hard rules; the worst wins) >
ceilings (veto of excellence, sanctions, the team head ceiling; the worst wins) > quotas.

Quotas: ``n`` = entities of the category that get a grade. Every level with a ratio gets
``rounding(ratio × n)`` places (floor by default, so 15:80:5 of 20 gives 3/16/1). Forced
grades are placed first and use up their level's places (they may exceed them). Levels below
the fill level with ``by_rank`` take the lowest-ranked remaining entities; levels above it take
the highest-ranked remaining entities their ceiling allows (for the top level, at most the
team cap of each team); everyone else gets the fill level, or their ceiling if that is worse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from jixiao.scoring.adjustments import EntityAdjustments
from jixiao.scoring.frames import OFFICIAL, EntityTable, encode, require
from jixiao.scoring.ranking import round_scores
from jixiao.scoring.scheme import LAYERS, GradingPolicy, Scheme

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
BoolArr = NDArray[np.bool_]
Obj = NDArray[np.object_]
HEAD = LAYERS.index("head")


def quota(ratio: Fraction, n: int, rounding: str) -> int:
    """Return the number of places ``ratio`` of ``n`` gives under ``rounding``."""
    num, den = ratio.numerator * n, ratio.denominator
    if rounding == "ceil":
        return -(-num // den)
    if rounding == "round_half_up":
        return (2 * num + den) // (2 * den)
    return num // den


@dataclass(frozen=True)
class GradingFacts:
    """What grading reads besides scores: leaf rates, votes, last year, adjustments."""

    leaf_entity: I64
    leaf_rule: Obj  # rule type per leaf row
    leaf_code: Obj
    leaf_rate: F64
    leaf_veto: BoolArr
    votes: pl.DataFrame
    previous: pl.DataFrame
    adjustments: EntityAdjustments


@dataclass(frozen=True)
class Grades:
    """Grade index per entity (-1: no grade), the deciding code and params, and flags."""

    grade: I64
    decided_by: Obj
    decision: Obj  # dict per entity
    flags: Obj  # list[str] per entity


class _Decider:
    """Per-entity forced grade / ceiling with the reason of each, heaviest wins."""

    def __init__(self, n: int) -> None:
        self.forced = np.full(n, -1, dtype=np.int64)
        self.forced_why: list[tuple[str, dict[str, Any]] | None] = [None] * n
        self.ceiling = np.zeros(n, dtype=np.int64)
        self.constraints: list[list[dict[str, Any]]] = [[] for _ in range(n)]

    def force(self, entities: I64, level: int, code: str, params: Params = None) -> None:
        for e in entities.tolist():
            if level > self.forced[e]:
                self.forced[e], self.forced_why[e] = level, (code, _params(params, e))

    def cap(self, entities: I64, level: int, code: str, params: Params = None) -> None:
        for e in entities.tolist():
            self.constraints[e].append({"code": code, "ceiling_index": level, **_params(params, e)})
            self.ceiling[e] = max(int(self.ceiling[e]), level)


Params = dict[str, Any] | Mapping[int, dict[str, Any]] | None


def _params(params: Params, e: int) -> dict[str, Any]:
    """Shared params (a dict with str keys) or per-entity params (keyed by entity index)."""
    if params is None:
        return {}
    if e in params:
        return dict(params[e])  # type: ignore[index]  # per-entity mapping keyed by int
    return {str(k): v for k, v in params.items() if isinstance(k, str)}


def _previous(ents: EntityTable, frame: pl.DataFrame) -> tuple[I64, I64, Obj]:
    rank = np.zeros(ents.size, dtype=np.int64)
    size = np.zeros(ents.size, dtype=np.int64)
    grade = np.full(ents.size, None, dtype=np.object_)
    if frame.height:
        require(frame, ["entity"], "previous")
        e = encode(frame.get_column("entity"), list(ents.ids), "previous.entity")
        for name, target in (("rank", rank), ("category_size", size)):
            if name in frame.columns:
                target[e] = frame.get_column(name).cast(pl.Int64).fill_null(0).to_numpy()
        if "grade" in frame.columns:
            grade[e] = np.asarray(frame.get_column("grade").cast(pl.String).to_numpy(), dtype=np.object_)
    return rank, size, grade


def _votes(ents: EntityTable, frame: pl.DataFrame) -> tuple[tuple[str, ...], I64]:
    if frame.height == 0:
        return (), np.zeros((ents.size, 0), dtype=np.int64)
    require(frame, ["entity", "label", "count"], "votes")
    labels = tuple(
        sorted(x for x in frame.get_column("label").cast(pl.String).unique().to_list() if x is not None)
    )
    e = encode(frame.get_column("entity"), list(ents.ids), "votes.entity")
    lab = encode(frame.get_column("label"), labels, "votes.label")
    count = frame.get_column("count").cast(pl.Int64).fill_null(0).to_numpy()
    table = np.zeros((ents.size, len(labels)), dtype=np.int64)
    np.add.at(table, (e, lab), count)
    return labels, table


def grade_all(
    scheme: Scheme, ents: EntityTable, comps: F64, rank: I64, size: I64, facts: GradingFacts
) -> Grades:
    """Grade every category: unit categories first, then officials (who read their team's grade)."""
    n = ents.size
    grade = np.full(n, -1, dtype=np.int64)
    decided_by = np.full(n, None, dtype=np.object_)
    decision = np.full(n, None, dtype=np.object_)
    flags: list[list[str]] = [[] for _ in range(n)]
    prev_rank, prev_size, prev_grade = _previous(ents, facts.previous)
    vote_labels, vote_table = _votes(ents, facts.votes)
    adj = facts.adjustments
    order = sorted(range(len(scheme.categories)), key=lambda i: scheme.categories[i].subject != "unit")
    for ci in order:
        category = scheme.categories[ci]
        policy = category.grading
        labels = [lv.label for lv in policy.levels]
        members = np.flatnonzero(ents.category == ci)
        if members.size == 0:
            continue
        members = members[np.argsort(rank[members])]  # rank order
        d = _Decider(n)
        no_grade = adj.no_grade.copy()
        why_none: dict[int, dict[str, Any]] = {
            int(e): {"code": "no_grade.adjustment", "reason": adj.no_grade_reason[e]}
            for e in members[adj.no_grade[members]].tolist()
        }
        for e in members[adj.sanction[members] >= 0].tolist():
            s = policy.sanctions[int(adj.sanction[e])]
            if s.effect == "no_grade" and not no_grade[e]:
                no_grade[e] = True
                why_none[e] = {"code": "no_grade.sanction", "level": s.level}
            elif s.effect == "forced" and s.grade is not None:
                d.force(np.array([e]), policy.index(s.grade), "forced.sanction", {"level": s.level})
            elif s.effect == "ceiling" and s.grade is not None:
                d.cap(np.array([e]), policy.index(s.grade), "ceiling.sanction", {"level": s.level})
        if policy.falsification_grade is not None:
            d.force(members[adj.falsified[members]], policy.index(policy.falsification_grade),
                    "forced.falsification")  # fmt: skip
        _hard_rules(scheme, policy, ents, members, comps, rank, size, d, facts, vote_labels, vote_table,
                    prev_rank, prev_size, flags)  # fmt: skip
        if policy.veto_ceiling is not None:
            leaf_veto = np.zeros(n, dtype=np.bool_)
            leaf_veto[facts.leaf_entity[facts.leaf_veto]] = True
            vetoed = members[(adj.veto | leaf_veto)[members]]
            d.cap(vetoed, policy.index(policy.veto_ceiling), "ceiling.veto")
        team_cap = _team_caps(policy, ents, members, no_grade, grade, scheme, d)
        graded = members[~no_grade[members]]
        _assign(policy, graded, d, team_cap, ents, grade, decided_by, decision)
        for e in members[no_grade[members]].tolist():
            decided_by[e], decision[e] = why_none[e]["code"], why_none[e]
        top = members[(rank[members] == 1) | (grade[members] == 0)]
        prev_top = (prev_rank == 1) | (prev_grade == labels[0])
        for e in top[prev_top[top]].tolist():
            flags[e].append("top_twice")
    flag_arr = np.empty(n, dtype=np.object_)
    for i in range(n):
        flag_arr[i] = sorted(flags[i])
    return Grades(grade, decided_by, decision, flag_arr)


def _hard_rules(
    scheme: Scheme, policy: GradingPolicy, ents: EntityTable, members: I64, comps: F64, rank: I64, size: I64,
    d: _Decider, facts: GradingFacts, vote_labels: tuple[str, ...], vote_table: I64,
    prev_rank: I64, prev_size: I64, flags: list[list[str]],
) -> None:  # fmt: skip
    category = scheme.categories[int(ents.category[members[0]])]
    n = members.size
    last = members[rank[members] == size[members]]
    for e in last.tolist():
        flags[e].append("last_place")
    twice = last[(prev_size[last] > 0) & (prev_rank[last] == prev_size[last])]
    for e in twice.tolist():
        flags[e].append("last_place_twice")
    for rule in policy.hard_rules:
        level = -1 if rule.grade is None else policy.index(rule.grade)
        code = f"forced.hard_rule.{rule.type}"
        if rule.type == "bottom_share":
            count = quota(rule.share, n, policy.rounding)
            if rule.component is None:
                ordered = members  # already in rank order
            else:
                j = category.component_codes().index(rule.component)
                ordered = members[
                    np.lexsort((members, -round_scores(comps[members, j], scheme.score_decimals)))
                ]
            bottom = ordered[n - count :] if count else ordered[:0]
            params = {"share": str(rule.share), "count": count, "of": n, "component": rule.component}
            d.force(bottom, level, code, params)
        elif rule.type == "target_below":
            hit = np.isin(facts.leaf_rule, list(rule.rule_types)) & (facts.leaf_rate < rule.threshold)
            first: dict[int, int] = {}
            for i in np.flatnonzero(hit).tolist():
                first.setdefault(int(facts.leaf_entity[i]), i)
            sel = members[np.isin(members, np.array(list(first), dtype=np.int64))]
            per = {
                e: {
                    "threshold": rule.threshold,
                    "indicator": facts.leaf_code[i],
                    "rate": float(facts.leaf_rate[i]),
                }
                for e, i in first.items()
            }
            d.force(sel, level, code, per)
        elif rule.type == "vote_share":
            cols = [vote_labels.index(x) for x in rule.labels if x in vote_labels]
            chosen = vote_table[:, cols].sum(axis=1) if cols else np.zeros(ents.size, dtype=np.int64)
            all_votes = vote_table.sum(axis=1) if vote_labels else np.zeros(ents.size, dtype=np.int64)
            over = chosen * rule.share.denominator > rule.share.numerator * all_votes
            sel = members[over[members] & (all_votes[members] > 0)]
            per = {
                e: {"more_than": str(rule.share), "votes": int(chosen[e]), "of": int(all_votes[e])}
                for e in sel.tolist()
            }
            d.force(sel, level, code, per)
        elif rule.type == "last_place_twice" and level >= 0:
            d.force(twice, level, code)


def _team_caps(
    policy: GradingPolicy,
    ents: EntityTable,
    members: I64,
    no_grade: BoolArr,
    grade: I64,
    scheme: Scheme,
    d: _Decider,
) -> dict[int, int]:
    """Apply head ceilings; return the top-level cap per team (team entity index → places)."""
    caps: dict[int, int] = {}
    if not policy.team_caps or ents.kind[members[0]] != OFFICIAL:
        return caps
    team = ents.team[members]
    graded = members[~no_grade[members]]
    counts = np.bincount(ents.team[graded], minlength=ents.size)
    for t in np.unique(team).tolist():
        if grade[t] < 0:
            continue
        team_policy = scheme.categories[int(ents.category[t])].grading
        label = team_policy.levels[int(grade[t])].label
        cap = policy.team_caps.get(label)
        if cap is None:
            continue
        if cap.member_share is not None:
            caps[t] = quota(cap.member_share, int(counts[t]), policy.rounding)
        if cap.head_ceiling is not None:
            heads = members[(team == t) & (ents.layer[members] == HEAD)]
            params = {"team": str(ents.ids[t]), "team_grade": label}
            d.cap(heads, policy.index(cap.head_ceiling), "ceiling.team_head", params)
    return caps


def _assign(
    policy: GradingPolicy, graded: I64, d: _Decider, team_cap: dict[int, int], ents: EntityTable,
    grade: I64, decided_by: Obj, decision: Obj,
) -> None:  # fmt: skip
    """Place forced grades, then bottom quotas, then top quotas, then the fill level."""
    n = graded.size
    levels = policy.levels
    fill = next(i for i, lv in enumerate(levels) if lv.ratio is None)
    places = [0 if lv.ratio is None else quota(lv.ratio, n, policy.rounding) for lv in levels]

    def base(e: int) -> dict[str, Any]:
        return {"of": n, "constraints": d.constraints[e]}

    forced = graded[d.forced[graded] >= 0]
    for e in forced.tolist():
        level = max(int(d.forced[e]), int(d.ceiling[e]))
        why = d.forced_why[e]
        assert why is not None
        grade[e] = level
        code = why[0] if level == d.forced[e] else "ceiling"
        decided_by[e], decision[e] = code, {**base(e), **why[1], "grade": levels[level].label}
    free = graded[d.forced[graded] < 0]
    for lv in range(len(levels) - 1, fill, -1):
        if not levels[lv].by_rank:
            continue
        room = max(places[lv] - int(np.sum(grade[graded] == lv)), 0)
        take = free[free.size - room :] if room else free[:0]
        grade[take] = lv
        for e in take.tolist():
            decided_by[e] = "quota.bottom"
            decision[e] = {
                **base(e),
                "grade": levels[lv].label,
                "ratio": str(levels[lv].ratio),
                "places": places[lv],
            }
        free = free[: free.size - take.size]
    for lv in range(fill):
        room = max(places[lv] - int(np.sum(grade[graded] == lv)), 0)
        eligible = d.ceiling[free] <= lv
        if lv == 0 and team_cap:
            eligible &= _within_team_cap(free, eligible, ents, team_cap)
        take = free[eligible][:room]
        grade[take] = lv
        for e in take.tolist():
            decided_by[e] = "quota.top"
            decision[e] = {
                **base(e),
                "grade": levels[lv].label,
                "ratio": str(levels[lv].ratio),
                "places": places[lv],
            }
        free = free[~np.isin(free, take)]
    for e in free.tolist():
        level = max(fill, int(d.ceiling[e]))
        grade[e] = level
        decided_by[e] = "fill" if level == fill else "ceiling"
        decision[e] = {**base(e), "grade": levels[level].label}


def _within_team_cap(free: I64, eligible: BoolArr, ents: EntityTable, team_cap: dict[int, int]) -> BoolArr:
    """Return which eligible entities (in rank order) stay within their team's top-level cap."""
    team = ents.team[free]
    ok = np.ones(free.size, dtype=np.bool_)
    seen: dict[int, int] = {}
    for i in np.flatnonzero(eligible).tolist():
        t = int(team[i])
        if t in team_cap:
            seen[t] = seen.get(t, 0) + 1
            ok[i] = seen[t] <= team_cap[t]
    return ok
