"""Officials' scores (M11): the team part and the layer weights.

An official's components are scheme data like a unit's, with weights per layer (head / member /
other). A component with ``source = "team"`` takes the official's team (their unit): its final
total, or its final ``team_component`` (e.g. the annual component). Typical Xiangxi-style data:
head = 70 team + 30 personal quality; member = 50 team + 30 portfolio (分管工作) + 20 quality.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from jixiao.scoring.errors import FactsError
from jixiao.scoring.frames import OFFICIAL, EntityTable
from jixiao.scoring.scheme import Scheme

F64 = NDArray[np.float64]
BoolArr = NDArray[np.bool_]


def fill_team_components(
    scheme: Scheme, ents: EntityTable, raw: F64, has: BoolArr, final: F64, total: F64
) -> None:
    """Write the team part of every official into ``raw``/``has`` (in place) from unit results."""
    officials = np.flatnonzero(ents.kind == OFFICIAL)
    if officials.size == 0:
        return
    team = ents.team[officials]
    for ci, category in enumerate(scheme.categories):
        in_cat = ents.category[officials] == ci
        if not np.any(in_cat):
            continue
        for j, comp in enumerate(category.components):
            if comp.source != "team":
                continue
            sel, teams = officials[in_cat], team[in_cat]
            if comp.team_component is None:
                raw[sel, j] = total[teams]
            else:
                value = np.full(sel.size, np.nan)
                for tci, team_cat in enumerate(scheme.categories):
                    codes = team_cat.component_codes()
                    if comp.team_component in codes:
                        here = ents.category[teams] == tci
                        value[here] = final[teams[here], codes.index(comp.team_component)]
                if np.any(np.isnan(value)):
                    bad = sel[np.flatnonzero(np.isnan(value))[0]]
                    raise FactsError(
                        f"official {ents.ids[bad]}",
                        f"the team's category has no component {comp.team_component!r}",
                    )
                raw[sel, j] = value
            has[sel, j] = True
