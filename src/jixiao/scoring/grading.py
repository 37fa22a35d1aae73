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

The deciding code names what fixed the grade. When a constraint *binds* (without it the entity
would have had a better grade, all else equal), the code is that constraint's: ``ceiling.veto``,
``ceiling.sanction``, ``ceiling.team_head`` (the heaviest ceiling; the first recorded among equal
ones, in the order sanction, veto, team head) or ``ceiling.team_cap`` (the team's share of the top
level was used up). A ceiling binds when it is worse than the forced or the fill grade, or when
it (or the team cap) kept a quota level from the entity while that level still had room for it.
The decision's params then hold ``binding`` (the constraint), ``denied`` (the label of the grade
the entity would have had) and ``outcome`` (how the grade it got was reached: ``quota.top``,
``fill`` or ``ceiling``). A constraint that did not bind is listed in ``constraints`` only.
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
from jixiao.scoring.rules import RULE_TYPES
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
    leaf_rule: I64  # rule type per leaf row (index into RULE_TYPES)
    leaf_node: I64  # node per leaf row (index into node_code)
    node_code: pl.Series
    leaf_rate: F64
    leaf_veto: BoolArr
    votes: pl.DataFrame
    previous: pl.DataFrame
    adjustments: EntityAdjustments
    low_ambition: Mapping[int, list[str]]  # entity → its declared leaves flagged 目标偏低

    def code(self, i: int) -> str:
        """Return the leaf code of leaf row ``i``."""
        return str(self.node_code[int(self.leaf_node[i])])


@dataclass(frozen=True)
class Grades:
    """Grade index per entity (-1: no grade), the deciding code, sparse params, and flags."""

    grade: I64
    decided_by: I64  # index into DECISION_CODES
    graded_count: I64  # n of the entity's category (entities that get a grade)
    places: I64  # places of the quota level that decided the grade, -1 otherwise
    decisions: dict[int, dict[str, Any]]  # entity index → params, when more than the code is needed
    flags: dict[str, BoolArr]  # FLAGS → per entity


DECISION_CODES = (
    "quota.top", "quota.bottom", "fill", "ceiling.sanction", "ceiling.veto", "ceiling.team_head",
    "ceiling.team_cap", "no_grade.adjustment", "no_grade.sanction",
    "forced.sanction", "forced.falsification", "forced.hard_rule.bottom_share",
    "forced.hard_rule.target_below", "forced.hard_rule.vote_share", "forced.hard_rule.last_place_twice",
    "ceiling.low_ambition",
)  # fmt: skip
# The grades a decision by proportion alone gives: a rank-1 entity graded otherwise was held down.
PROPORTIONAL = (DECISION_CODES.index("quota.top"), DECISION_CODES.index("fill"))
FLAGS = ("last_place", "last_place_twice", "top_twice")


class _Decider:
    """Forced grades and ceilings of one category, with the reason of each; heaviest wins."""

    def __init__(self, n: int) -> None:
        self.forced = np.full(n, -1, dtype=np.int64)
        self.forced_why: dict[int, tuple[str, dict[str, Any]]] = {}
        self.ceiling = np.zeros(n, dtype=np.int64)
        self.constraints: dict[int, list[dict[str, Any]]] = {}

    def force(self, entities: I64, level: int, code: str, params: Params = None) -> None:
        for e in entities[level > self.forced[entities]].tolist():
            self.forced[e], self.forced_why[e] = level, (code, _params(params, e))

    def cap(self, entities: I64, level: int, code: str, params: Params = None) -> None:
        for e in entities.tolist():
            self.constraints.setdefault(e, []).append(
                {"code": code, "ceiling_index": level, **_params(params, e)}
            )
        self.ceiling[entities] = np.maximum(self.ceiling[entities], level)

    def binding(self, e: int) -> dict[str, Any]:
        """The ceiling constraint of ``e`` that sets its ceiling (the first of the heaviest)."""
        return next(c for c in self.constraints[e] if c["ceiling_index"] == self.ceiling[e])


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
        e = encode(frame.get_column("entity"), ents.id_enum, "previous.entity")
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
    e = encode(frame.get_column("entity"), ents.id_enum, "votes.entity")
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
    out = Grades(
        grade=np.full(n, -1, dtype=np.int64), decided_by=np.full(n, -1, dtype=np.int64),
        graded_count=np.zeros(n, dtype=np.int64), places=np.full(n, -1, dtype=np.int64), decisions={},
        flags={f: np.zeros(n, dtype=np.bool_) for f in FLAGS},
    )  # fmt: skip
    prev_rank, prev_size, prev_grade = _previous(ents, facts.previous)
    vote_labels, vote_table = _votes(ents, facts.votes)
    adj = facts.adjustments
    leaf_veto = np.zeros(n, dtype=np.bool_)
    leaf_veto[facts.leaf_entity[facts.leaf_veto]] = True
    veto_why = _veto_params(facts, adj)
    order = sorted(range(len(scheme.categories)), key=lambda i: scheme.categories[i].subject != "unit")
    below: _BelowCache = {}
    for ci in order:
        policy = scheme.categories[ci].grading
        members = np.flatnonzero(ents.category == ci)
        if members.size == 0:
            continue
        members = members[np.argsort(rank[members])]  # rank order
        d = _Decider(n)
        no_grade = adj.no_grade.copy()
        why_none: dict[int, tuple[str, dict[str, Any]]] = {
            int(e): ("no_grade.adjustment", {"reason": adj.no_grade_reason[e]})
            for e in members[adj.no_grade[members]].tolist()
        }
        for e in members[adj.sanction[members] >= 0].tolist():
            s = policy.sanctions[int(adj.sanction[e])]
            if s.effect == "no_grade" and not no_grade[e]:
                no_grade[e] = True
                why_none[e] = ("no_grade.sanction", {"level": s.level})
            elif s.effect == "forced" and s.grade is not None:
                d.force(np.array([e]), policy.index(s.grade), "forced.sanction", {"level": s.level})
            elif s.effect == "ceiling" and s.grade is not None:
                d.cap(np.array([e]), policy.index(s.grade), "ceiling.sanction", {"level": s.level})
        if policy.falsification_grade is not None:
            d.force(members[adj.falsified[members]], policy.index(policy.falsification_grade),
                    "forced.falsification")  # fmt: skip
        _hard_rules(scheme, policy, ents, members, comps, rank, size, d, facts, vote_labels, vote_table,
                    prev_rank, prev_size, out.flags, below)  # fmt: skip
        if policy.veto_ceiling is not None:
            vetoed = members[(adj.veto | leaf_veto)[members]]
            d.cap(vetoed, policy.index(policy.veto_ceiling), "ceiling.veto", veto_why)
        team_cap, team_why = _team_caps(policy, ents, members, no_grade, out.grade, scheme, d)
        graded = members[~no_grade[members]]
        out.graded_count[members] = graded.size
        _assign(policy, graded, d, team_cap, team_why, ents, out)
        for e in members[no_grade[members]].tolist():
            code, params = why_none[e]
            out.decided_by[e] = DECISION_CODES.index(code)
            out.decisions[e] = params
        # Rank 1 counts only when proportion alone graded it: a rank-1 entity held down by a veto,
        # a sanction or a forced grade is not "first or excellent" and is not recommended.
        first = (rank[members] == 1) & np.isin(out.decided_by[members], PROPORTIONAL)
        top = members[first | (out.grade[members] == 0)]
        prev_top = (prev_rank == 1) | (prev_grade == policy.levels[0].label)
        out.flags["top_twice"][top[prev_top[top]]] = True
    return out


def _veto_params(facts: GradingFacts, adj: EntityAdjustments) -> dict[int, dict[str, Any]]:
    """Per vetoed entity: the veto indicators (codes) and the reasons of veto adjustments."""
    per: dict[int, dict[str, Any]] = {}
    for i in np.flatnonzero(facts.leaf_veto).tolist():
        item = per.setdefault(int(facts.leaf_entity[i]), {"indicators": [], "reasons": []})
        if facts.code(i) not in item["indicators"]:
            item["indicators"].append(facts.code(i))
    rows = adj.detail.filter(pl.col("kind") == "veto_excellent")
    for e, reason in rows.select("entity", "reason").iter_rows():
        item = per.setdefault(int(e), {"indicators": [], "reasons": []})
        item["reasons"].append(str(reason))
    return per


# target_below hits shared by the categories with the same rule: (rule kinds, threshold) →
# (entities with a hit in entity order, their first hit row).
_BelowCache = dict[tuple[tuple[int, ...], float], tuple[I64, I64]]


def _hard_rules(
    scheme: Scheme, policy: GradingPolicy, ents: EntityTable, members: I64, comps: F64, rank: I64, size: I64,
    d: _Decider, facts: GradingFacts, vote_labels: tuple[str, ...], vote_table: I64,
    prev_rank: I64, prev_size: I64, flags: dict[str, BoolArr], below: _BelowCache,
) -> None:  # fmt: skip
    category = scheme.categories[int(ents.category[members[0]])]
    n = members.size
    last = members[rank[members] == size[members]]
    flags["last_place"][last] = True
    twice = last[(prev_size[last] > 0) & (prev_rank[last] == prev_size[last])]
    flags["last_place_twice"][twice] = True
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
            kinds = tuple(RULE_TYPES.index(t) for t in rule.rule_types if t in RULE_TYPES)
            if (kinds, rule.threshold) not in below:  # a pass over every leaf row, once per rule
                hit = np.flatnonzero(np.isin(facts.leaf_rule, kinds) & (facts.leaf_rate < rule.threshold))
                hit_entity, at = np.unique(facts.leaf_entity[hit], return_index=True)  # first row per entity
                below[kinds, rule.threshold] = hit_entity, hit[at]
            hit_entity, hit_first = below[kinds, rule.threshold]
            mine = np.isin(hit_entity, members)
            first = dict(zip(hit_entity[mine].tolist(), hit_first[mine].tolist(), strict=True))
            sel = members[np.isin(members, hit_entity[mine])]
            per = {
                e: {
                    "threshold": rule.threshold,
                    "indicator": facts.code(i),
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
        elif rule.type == "low_ambition":
            flagged = {e: codes for e, codes in facts.low_ambition.items() if len(codes) >= rule.min_count}
            sel = members[np.isin(members, np.array(sorted(flagged), dtype=np.int64))]
            per = {e: {"indicators": flagged[e], "count": len(flagged[e]), "min_count": rule.min_count}
                   for e in sel.tolist()}  # fmt: skip
            d.cap(sel, level, "ceiling.low_ambition", per)


def _team_caps(
    policy: GradingPolicy,
    ents: EntityTable,
    members: I64,
    no_grade: BoolArr,
    grade: I64,
    scheme: Scheme,
    d: _Decider,
) -> tuple[I64, dict[int, dict[str, Any]]]:
    """Apply head ceilings; return the top-level places per team (indexed by entity, -1 = no cap)
    and, per capped team, the params a ``ceiling.team_cap`` decision names."""
    caps = np.full(ents.size, -1, dtype=np.int64)
    why: dict[int, dict[str, Any]] = {}
    if not policy.team_caps or ents.kind[members[0]] != OFFICIAL:
        return caps, why
    team = ents.team[members]
    graded = members[~no_grade[members]]
    counts = np.bincount(ents.team[graded], minlength=ents.size)
    # The team's grade label (its own category's labels), per member.
    labels_by_cat = [[lv.label for lv in c.grading.levels] for c in scheme.categories]
    team_grade = grade[team]
    for label, cap in policy.team_caps.items():
        hit_cat = np.array([label in labels for labels in labels_by_cat], dtype=np.bool_)
        level_of = np.array([labels.index(label) if label in labels else -2 for labels in labels_by_cat])
        here = (
            hit_cat[ents.category[team]] & (team_grade == level_of[ents.category[team]]) & (team_grade >= 0)
        )
        if not np.any(here):
            continue
        teams = np.unique(team[here])
        if cap.member_share is not None:
            num, den = cap.member_share.numerator, cap.member_share.denominator
            c = counts[teams] * num
            if policy.rounding == "ceil":
                caps[teams] = -(-c // den)
            elif policy.rounding == "round_half_up":
                caps[teams] = (2 * c + den) // (2 * den)
            else:
                caps[teams] = c // den
            for t in teams.tolist():
                why[t] = {"team": str(ents.ids[t]), "team_grade": label, "cap": int(caps[t])}
        if cap.head_ceiling is not None:
            heads = members[here & (ents.layer[members] == HEAD)]
            per = {e: {"team": str(ents.ids[ents.team[e]]), "team_grade": label} for e in heads.tolist()}
            d.cap(heads, policy.index(cap.head_ceiling), "ceiling.team_head", per)
    return caps, why


def _assign(
    policy: GradingPolicy, graded: I64, d: _Decider, team_cap: I64, team_why: dict[int, dict[str, Any]],
    ents: EntityTable, out: Grades,
) -> None:  # fmt: skip
    """Place forced grades, then bottom quotas, then top quotas, then the fill level."""
    n = graded.size
    levels = policy.levels
    fill = next(i for i, lv in enumerate(levels) if lv.ratio is None)
    places = [0 if lv.ratio is None else quota(lv.ratio, n, policy.rounding) for lv in levels]
    grade = out.grade
    denied: dict[int, tuple[dict[str, Any], int]] = {}  # entity → (binding constraint, level kept from it)

    def decide(entities: I64, code: str) -> None:
        out.decided_by[entities] = DECISION_CODES.index(code)
        for e in entities.tolist():
            if e in d.constraints:
                out.decisions.setdefault(e, {})["constraints"] = d.constraints[e]

    def bound(e: int, constraint: dict[str, Any], level: int, outcome: str) -> None:
        """``e`` got its grade because of ``constraint``; without it, it would have had ``level``."""
        out.decided_by[e] = DECISION_CODES.index(constraint["code"])
        params = out.decisions.setdefault(e, {})
        params.update(binding=constraint, denied=levels[level].label, outcome=outcome)
        if constraint not in d.constraints.get(e, []):
            params["constraints"] = [*d.constraints.get(e, []), constraint]

    forced = graded[d.forced[graded] >= 0]
    for e in forced.tolist():
        level = max(int(d.forced[e]), int(d.ceiling[e]))
        code, params = d.forced_why[e]
        grade[e] = level
        out.decisions[e] = dict(params)
        decide(np.array([e]), code)
        if level != d.forced[e]:
            out.decisions[e]["forced"] = code
            bound(e, d.binding(e), int(d.forced[e]), "ceiling")
    free = graded[d.forced[graded] < 0]
    for lv in range(len(levels) - 1, fill, -1):
        if not levels[lv].by_rank:
            continue
        room = max(places[lv] - int(np.sum(grade[graded] == lv)), 0)
        take = free[free.size - room :] if room else free[:0]
        grade[take], out.places[take] = lv, places[lv]
        decide(take, "quota.bottom")
        free = free[: free.size - take.size]
    for lv in range(fill):
        room = max(places[lv] - int(np.sum(grade[graded] == lv)), 0)
        under_ceiling = d.ceiling[free] <= lv
        eligible = under_ceiling.copy()
        if lv == 0:
            eligible &= _within_team_cap(free, eligible, ents, team_cap)
        # Kept from this level by a constraint while it still had room for them (rank order).
        ahead: I64 = np.cumsum(eligible, dtype=np.int64) - eligible
        kept = np.flatnonzero(~eligible & (ahead < room))
        # Python ints and bools in one conversion each, not a NumPy scalar per entity.
        for e, under, t in zip(free[kept].tolist(), under_ceiling[kept].tolist(),
                                ents.team[free[kept]].tolist(), strict=True):  # fmt: skip
            if e not in denied:
                why = d.binding(e) if not under else _team_cap_constraint(team_why[t])
                denied[e] = (why, lv)
        take = free[eligible][:room]
        grade[take], out.places[take] = lv, places[lv]
        decide(take, "quota.top")
        for e in take.tolist():
            if e in denied:
                bound(e, *denied[e], "quota.top")
        free = free[~np.isin(free, take)]
    final = np.maximum(fill, d.ceiling[free])
    grade[free] = final
    decide(free, "fill")
    for e in free[final == fill].tolist():
        if e in denied:
            bound(e, *denied[e], "fill")
    for e in free[final != fill].tolist():
        bound(e, d.binding(e), denied[e][1] if e in denied else fill, "ceiling")


def _team_cap_constraint(why: dict[str, Any]) -> dict[str, Any]:
    """The ``ceiling.team_cap`` constraint of a member of the team whose cap params are ``why``."""
    return {"code": "ceiling.team_cap", "ceiling_index": 1, **why}


def _within_team_cap(free: I64, eligible: BoolArr, ents: EntityTable, team_cap: I64) -> BoolArr:
    """Return which eligible entities (in rank order) stay within their team's top-level cap."""
    team = ents.team[free]
    capped = eligible & (team >= 0)
    capped[capped] = team_cap[team[capped]] >= 0
    idx = np.flatnonzero(capped)
    ok = np.ones(free.size, dtype=np.bool_)
    if idx.size == 0:
        return ok
    # Position of each capped candidate among its team's candidates, in rank order.
    t = team[idx]
    order = np.argsort(t, kind="stable")
    t_sorted = t[order]
    first = np.searchsorted(t_sorted, t_sorted, side="left")
    position = np.empty(idx.size, dtype=np.int64)
    position[order] = np.arange(idx.size) - first
    ok[idx] = position < team_cap[t]
    return ok
