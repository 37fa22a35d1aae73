"""The slow oracle's grading, written plainly (see grading.py and docs/scoring.md)."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from jixiao.scoring.errors import FactsError
from jixiao.scoring.reference import _round
from jixiao.scoring.scheme import Scheme

if TYPE_CHECKING:
    from jixiao.scoring.reference import RefEntity
    from jixiao.scoring.types import CycleInput


def _quota(ratio: Fraction, n: int, rounding: str) -> int:
    exact = ratio * n
    if rounding == "ceil":
        return -(-exact.numerator // exact.denominator)
    if rounding == "round_half_up":
        return int((exact + Fraction(1, 2)).__floor__())
    return exact.numerator // exact.denominator


def grade_reference(
    scheme: Scheme, ents: dict[str, RefEntity], inp: CycleInput, rates: dict[tuple[str, str], float],
    veto: set[str], adj: list[dict[str, Any]], rule_of: dict[str, str],
) -> None:  # fmt: skip
    """Set grade, decided_by and flags on every entity, category by category (units first)."""
    previous = {r["entity"]: r for r in inp.facts.previous.to_dicts()}
    votes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in inp.facts.votes.to_dicts():
        votes[r["entity"]][r["label"]] += int(r["count"] or 0)
    flagged: dict[str, int] = defaultdict(int)
    for d in inp.declared.to_dicts():
        if d.get("low_ambition"):
            flagged[d["entity"]] += 1
    by_entity: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in adj:
        by_entity[a["entity"]].append(a)
    leaf_rates: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (ent, leaf), rate in sorted(rates.items()):
        leaf_rates[ent].append((leaf, rate))
    cats_in_order = [c for c in scheme.categories if c.subject == "unit"]
    cats_in_order += [c for c in scheme.categories if c.subject != "unit"]
    for cat in cats_in_order:
        pol = cat.grading
        labels = [lv.label for lv in pol.levels]
        members = sorted((e for e in ents.values() if e.category == cat.code), key=lambda e: e.rank)
        if not members:
            continue
        forced: dict[str, tuple[int, str]] = {}
        ceiling: dict[str, int] = defaultdict(int)
        caps: dict[str, list[tuple[int, str]]] = defaultdict(list)  # in the order they were set

        def cap(e: RefEntity, level: int, code: str, ceiling: dict[str, int] = ceiling,
                caps: dict[str, list[tuple[int, str]]] = caps) -> None:  # fmt: skip
            ceiling[e.id] = max(ceiling[e.id], level)
            caps[e.id].append((level, code))

        no_grade: set[str] = set()
        reasons: dict[str, str] = {}

        def force(e: RefEntity, level: int, code: str, forced: dict[str, tuple[int, str]] = forced) -> None:
            if level > forced.get(e.id, (-1, ""))[0]:
                forced[e.id] = (level, code)

        for e in members:
            rows = by_entity[e.id]
            if any(a["kind"] == "no_grade" for a in rows):
                no_grade.add(e.id)
                reasons[e.id] = "no_grade.adjustment"
            levels = [s.level for s in pol.sanctions]
            heaviest = -1
            for a in rows:
                if a["kind"] == "sanction":
                    if a["level"] not in levels:
                        raise FactsError("adjustments.level", f"unknown sanction level {a['level']!r}")
                    heaviest = max(heaviest, levels.index(a["level"]))
            if heaviest >= 0:
                s = pol.sanctions[heaviest]
                if s.effect == "no_grade" and e.id not in no_grade:
                    no_grade.add(e.id)
                    reasons[e.id] = "no_grade.sanction"
                elif s.effect == "forced" and s.grade is not None:
                    force(e, labels.index(s.grade), "forced.sanction")
                elif s.effect == "ceiling" and s.grade is not None:
                    cap(e, labels.index(s.grade), "ceiling.sanction")
            fals = any(a["kind"] == "falsification" for a in rows) and cat.adjustments.falsification_enabled
            if fals and pol.falsification_grade is not None:
                force(e, labels.index(pol.falsification_grade), "forced.falsification")
        n_all = len(members)
        last = [e for e in members if e.rank == e.size]
        twice: list[RefEntity] = []
        for e in last:
            e.flags.add("last_place")
            prev = previous.get(e.id)
            if (
                prev
                and (prev.get("category_size") or 0) > 0
                and prev.get("rank") == prev.get("category_size")
            ):
                e.flags.add("last_place_twice")
                twice.append(e)
        for rule in pol.hard_rules:
            level = -1 if rule.grade is None else labels.index(rule.grade)
            code = f"forced.hard_rule.{rule.type}"
            if rule.type == "bottom_share":
                count = _quota(rule.share, n_all, pol.rounding)
                ordered = list(members)
                if rule.component is not None:
                    comp = rule.component
                    ordered.sort(key=lambda e: (-_round(e.components[comp], scheme.score_decimals), e.id))
                for e in ordered[n_all - count :] if count else []:
                    force(e, level, code)
            elif rule.type == "target_below":
                for e in members:
                    if any(rule_of[leaf] in rule.rule_types and rate < rule.threshold
                           for leaf, rate in leaf_rates[e.id]):  # fmt: skip
                        force(e, level, code)
            elif rule.type == "vote_share":
                for e in members:
                    counts = votes.get(e.id, {})
                    total = sum(counts.values())
                    chosen = sum(v for k, v in counts.items() if k in rule.labels)
                    if total > 0 and Fraction(chosen, total) > rule.share:
                        force(e, level, code)
            elif rule.type == "last_place_twice" and level >= 0:
                for e in twice:
                    force(e, level, code)
            elif rule.type == "low_ambition":
                for e in members:
                    if flagged[e.id] >= rule.min_count:
                        cap(e, level, "ceiling.low_ambition")
        if pol.veto_ceiling is not None:
            for e in members:
                if e.id in veto or any(a["kind"] == "veto_excellent" for a in by_entity[e.id]):
                    cap(e, labels.index(pol.veto_ceiling), "ceiling.veto")
        graded = [e for e in members if e.id not in no_grade]
        team_cap: dict[str, int] = {}
        if pol.team_caps and cat.subject == "official":
            graded_per_team: dict[str, int] = defaultdict(int)
            for o in graded:
                graded_per_team[str(o.unit)] += 1
            for e in members:
                team = ents[str(e.unit)]
                if team.grade is None or team.grade not in pol.team_caps:
                    continue
                tc = pol.team_caps[team.grade]
                if tc.member_share is not None:
                    team_cap[team.id] = _quota(tc.member_share, graded_per_team[team.id], pol.rounding)
                if tc.head_ceiling is not None and e.layer == "head":
                    cap(e, labels.index(tc.head_ceiling), "ceiling.team_head")
        binding = {e: next(code for level, code in rows if level == ceiling[e]) for e, rows in caps.items()}
        _assign(pol, labels, graded, forced, ceiling, binding, team_cap)
        for e in members:
            if e.id in no_grade:
                e.grade, e.decided_by = None, reasons[e.id]
        prev_top = {k for k, r in previous.items() if r.get("rank") == 1 or r.get("grade") == labels[0]}
        for e in members:
            first = e.rank == 1 and e.decided_by in ("quota.top", "fill")  # not held down
            if (first or e.grade == labels[0]) and e.id in prev_top:
                e.flags.add("top_twice")


def _assign(
    pol: Any, labels: list[str], graded: list[RefEntity], forced: dict[str, tuple[int, str]],
    ceiling: dict[str, int], binding: dict[str, str], team_cap: dict[str, int],
) -> None:  # fmt: skip
    """Grade ``graded``; a constraint that keeps an entity from a grade it would have had is named
    as the decision, and that grade is ``e.denied``."""
    n = len(graded)
    kept_from: dict[str, tuple[str, int]] = {}  # entity → (constraint code, level it was kept from)
    fill = next(i for i, lv in enumerate(pol.levels) if lv.ratio is None)
    places = [0 if lv.ratio is None else _quota(lv.ratio, n, pol.rounding) for lv in pol.levels]
    used = [0] * len(labels)
    free: list[RefEntity] = []
    for e in graded:
        if e.id in forced:
            level, code = forced[e.id]
            final = max(level, ceiling[e.id])
            e.grade, e.decided_by = labels[final], code if final == level else binding[e.id]
            if final != level:
                e.denied = labels[level]
            used[final] += 1
        else:
            free.append(e)
    for lv in range(len(labels) - 1, fill, -1):
        if not pol.levels[lv].by_rank:
            continue
        room = max(places[lv] - used[lv], 0)
        for _ in range(min(room, len(free))):
            e = free.pop()  # the lowest-ranked remaining
            e.grade, e.decided_by = labels[lv], "quota.bottom"
            used[lv] += 1
    for lv in range(fill):
        room = max(places[lv] - used[lv], 0)
        taken_by_team: dict[str, int] = defaultdict(int)
        keep: list[RefEntity] = []
        for e in free:
            under_ceiling = ceiling[e.id] <= lv
            eligible = under_ceiling
            if eligible and lv == 0 and e.unit in team_cap:
                taken_by_team[str(e.unit)] += 1
                eligible = taken_by_team[str(e.unit)] <= team_cap[str(e.unit)]
            if eligible and room > 0:
                code, _ = kept_from.get(e.id, ("quota.top", lv))
                e.grade, e.decided_by = labels[lv], code
                used[lv] += 1
                room -= 1
            else:
                if not eligible and room > 0 and e.id not in kept_from:
                    kept_from[e.id] = (binding[e.id] if not under_ceiling else "ceiling.team_cap", lv)
                keep.append(e)
        free = keep
    for e in free:
        final = max(fill, ceiling[e.id])
        if final == fill:
            code, _ = kept_from.get(e.id, ("fill", fill))
        else:
            code = binding[e.id]
        e.grade, e.decided_by = labels[final], code
    for e in graded:
        if e.id in kept_from:
            e.denied = labels[kept_from[e.id][1]]
        elif e.decided_by.startswith("ceiling.") and e.denied is None:
            e.denied = labels[fill]
