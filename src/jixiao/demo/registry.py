"""Step ``registry``: regions, categories, function zones, units, teams, officials, posts, tenures.

Officials are planned first as plain tuples (cheap even for 100,000 people) and written in bulk
afterwards. Some posts get a predecessor whose tenure ended — a retired official or one who has
moved on to a post in another unit — so that tenure history (and the roll-over of long-term
results to a successor) exists in the demo.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import zip_longest

from jixiao.demo import catalog
from jixiao.demo.pipeline import REFERENCE_DATE, Context, OfficialRow, UnitRow
from jixiao.organisation.models import (
    FunctionZone,
    Gender,
    Layer,
    LeadershipTeam,
    Official,
    Position,
    Region,
    Tenure,
    Unit,
    UnitCategory,
)

RETIRED_SHARE = 0.02  # of all official rows: predecessors who have left the service
TRANSFER_SHARE = 0.06  # of all posts: the previous holder now serves in another unit
MEMBERS_RANGE = (3, 8)  # team members per unit
# Relative number of "other" officials per unit kind (a county has far more than a department).
OTHERS_WEIGHT = {"county": 6.0, "prefecture_dept": 2.0, "county_dept": 1.0}
FIRST_START = date(2016, 1, 1)
BIRTH_YEARS: dict[str, tuple[int, int]] = {
    Layer.HEAD: (1965, 1978),
    Layer.MEMBER: (1967, 1986),
    Layer.OTHER: (1965, 1990),
}


@dataclass
class _Post:
    unit_index: int
    title: str  # unique within the unit
    official_title: str
    layer: str
    portfolio: str
    rank: str
    start: date
    official_index: int = -1


@dataclass
class _Person:
    name: str
    gender: str
    birth: date
    unit_index: int
    layer: str
    rank: str
    title: str
    active: bool


def _round_robin_departments() -> list[tuple[str, str]]:
    """Return (category, department) pairs alternating over categories, so any prefix covers them all."""
    columns = [[(code, name) for name in names] for code, names in catalog.DEPARTMENTS.items()]
    return [pair for row in zip_longest(*columns) for pair in row if pair is not None]


def _county_department_name(county: str, department: str) -> str:
    if department == "团市委":
        return f"共青团{county}委"
    base = catalog.COUNTY_RENAMES.get(department, department.removeprefix("市"))
    return f"{county}{base}"


def _prefecture_department_name(prefecture: str, department: str, single: bool) -> str:
    if single:
        return department  # one prefecture: 市财政局, as the sources write it
    city = prefecture.removesuffix("市")
    return f"共青团{city}市委" if department == "团市委" else f"{city}{department}"


def _titles(unit_name: str) -> tuple[str, str]:
    for suffix, head, member in catalog.TITLES_BY_SUFFIX:
        if unit_name.endswith(suffix):
            return head, member
    raise AssertionError("the catalogue ends with a catch-all suffix")


def _unique(base: str, used: set[str]) -> str:
    title, n = base, 1
    while title in used:
        n += 1
        title = f"{base}（{n}）"
    used.add(title)
    return title


def _name(rng: random.Random, gender: str) -> str:
    given = catalog.GIVEN_MALE if gender == Gender.MALE else catalog.GIVEN_FEMALE
    length = 1 if rng.random() < 0.3 else 2
    return rng.choice(catalog.SURNAMES) + "".join(rng.choice(given) for _ in range(length))


def _birth(rng: random.Random, first_year: int, last_year: int) -> date:
    return date(first_year, 1, 1) + timedelta(days=rng.randrange((last_year - first_year + 1) * 365))


def _split(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """Split ``total`` proportionally to jittered ``weights`` (largest remainder, exact total)."""
    jittered = [w * rng.uniform(0.6, 1.4) for w in weights]
    scale = total / sum(jittered)
    shares = [w * scale for w in jittered]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def run(ctx: Context) -> None:
    rng = ctx.rng("registry")
    scale = ctx.scale

    # Categories and function zones.
    cat_ids = ctx.id_map("category")
    rows_c: list[UnitCategory] = []
    for (code, name, description), pk in zip(catalog.CATEGORIES, ctx.allocate(UnitCategory, 8), strict=True):
        cat_ids[code] = pk
        rows_c.append(
            UnitCategory(id=pk, code=code, name=name, order=len(rows_c) + 1, description=description)
        )
    ctx.insert(UnitCategory, rows_c)
    zone_ids = ctx.id_map("zone")
    zones = catalog.FUNCTION_ZONES
    for (code, _name, _description), pk in zip(zones, ctx.allocate(FunctionZone, len(zones)), strict=True):
        zone_ids[code] = pk
    ctx.insert(
        FunctionZone,
        [FunctionZone(id=zone_ids[c], code=c, name=n, description=d) for c, n, d in zones],
    )

    # Regions: the province (only at province scale), prefectures, counties.
    regions: list[Region] = []
    region_ids = ctx.id_map("region")
    single = scale.prefectures == 1
    n_counties = scale.prefectures * scale.counties_per_prefecture
    region_pks = iter(ctx.allocate(Region, (0 if single else 1) + scale.prefectures + n_counties))
    province_id = None
    if not single:
        province_id = next(region_pks)
        regions.append(Region(id=province_id, code="R00", name=catalog.PROVINCE_NAME))
    combos = [
        a + b
        for a in catalog.COUNTY_FIRST
        for b in catalog.COUNTY_SECOND
        if a != b and a + b not in catalog.COUNTY_EXCLUDED
    ]
    county_names = iter(rng.sample(combos, n_counties))
    # Plan units: (code, name, short, category, kind, region_id, zone code)
    plans: list[tuple[str, str, str, str, str, int, str]] = []
    departments = _round_robin_departments()
    n_fixed = scale.prefectures * (scale.counties_per_prefecture + scale.departments_per_prefecture)
    county_dept_counts = _even_split(scale.units - n_fixed, n_counties)
    county_no = 0
    for p in range(scale.prefectures):
        pref_name = catalog.PREFECTURE_NAMES[p]
        pref_id = next(region_pks)
        regions.append(Region(id=pref_id, code=f"R{p + 1:02d}", name=pref_name, parent_id=province_id))
        region_ids[f"R{p + 1:02d}"] = pref_id
        zone_cycle = [zones[i % len(zones)][0] for i in range(scale.counties_per_prefecture)]
        rng.shuffle(zone_cycle)
        counties: list[tuple[str, int, str]] = []
        for c in range(scale.counties_per_prefecture):
            # The first county of each prefecture is a county-level city (县级市).
            county = next(county_names) + ("市" if c == 0 else "县")
            county_id = next(region_pks)
            code = f"R{p + 1:02d}{c + 1:02d}"
            regions.append(Region(id=county_id, code=code, name=county, parent_id=pref_id))
            region_ids[code] = county_id
            counties.append((county, county_id, zone_cycle[c]))
            plans.append(("", f"{county}人民政府", county, "county", "county", county_id, zone_cycle[c]))
        chosen = sorted(
            departments[: scale.departments_per_prefecture],
            key=lambda cd: [c[0] for c in catalog.CATEGORIES].index(cd[0]),
        )
        for category, department in chosen:
            name = _prefecture_department_name(pref_name, department, single)
            plans.append(("", name, department, category, "prefecture_dept", pref_id, ""))
        for county, county_id, _zone in counties:
            for category, department in departments[: county_dept_counts[county_no]]:
                name = _county_department_name(county, department)
                short = _county_department_name("县", department)  # 县财政局, 县人民法院
                plans.append(("", name, short, category, "county_dept", county_id, ""))
            county_no += 1
    ctx.insert(Region, regions)

    unit_pks = ctx.allocate(Unit, len(plans))
    unit_ids = ctx.id_map("unit")
    lead_ids = ctx.id_map("lead")
    units: list[Unit] = []
    for (_, name, short, category, kind, region_id, zone), pk in zip(plans, unit_pks, strict=True):
        code = f"U{len(units) + 1:05d}"
        units.append(
            Unit(
                id=pk,
                code=code,
                name=name,
                short_name=short[:50],
                category_id=cat_ids[category],
                region_id=region_id,
                function_zone_id=zone_ids[zone] if zone else None,
            )
        )
        unit_ids[code] = pk
        ctx.units.append(UnitRow(pk, code, name, category, kind, region_id))
        # Lead departments are the first prefecture's departments, found by their catalogue name.
        if kind == "prefecture_dept" and region_id == region_ids["R01"]:
            lead_ids[short] = pk
    ctx.insert(Unit, units)
    team_pks = ctx.allocate(LeadershipTeam, len(units))
    ctx.insert(
        LeadershipTeam,
        (
            LeadershipTeam(id=pk, unit_id=u.id, name=f"{u.name}领导班子")
            for u, pk in zip(units, team_pks, strict=True)
        ),
    )
    _officials(ctx, rng)


def _even_split(total: int, parts: int) -> list[int]:
    if parts == 0:
        return []
    base, extra = divmod(max(total, 0), parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _plan_posts(rng: random.Random, ctx: Context) -> list[_Post]:
    scale = ctx.scale
    members = [rng.randint(*MEMBERS_RANGE) for _ in ctx.units]
    retired = round(scale.officials * RETIRED_SHARE)
    others_total = scale.officials - retired - len(ctx.units) - sum(members)
    if others_total < 0:
        raise ValueError(f"scale {scale.name}: too few officials for its units")
    others = _split(rng, others_total, [OTHERS_WEIGHT[u.kind] for u in ctx.units])
    posts: list[_Post] = []
    for index, unit in enumerate(ctx.units):
        posts += _unit_posts(rng, index, unit, members[index], others[index])
    return posts


def _unit_posts(rng: random.Random, index: int, unit: UnitRow, members: int, others: int) -> list[_Post]:
    """Plan one unit's posts: its team head, ``members`` team members and ``others`` other officials."""
    span = (REFERENCE_DATE - FIRST_START).days
    used: set[str] = set()
    county = unit.kind == "county"
    ranks = catalog.COUNTY_RANKS if county else catalog.RANKS
    head, member = (catalog.COUNTY_HEAD_TITLE, "副县长") if county else _titles(unit.name)
    # A county-level city (县级市) has a 市委书记 and 市长 where a county has 县委书记 and 县长.
    city = county and unit.name.removesuffix("人民政府").endswith("市")

    def local(title: str) -> str:
        return title.replace("县", "市") if city else title

    posts: list[_Post] = []

    def add(title: str, official_title: str, layer: str, portfolio: str) -> None:
        start = FIRST_START + timedelta(days=rng.randrange(span))
        rank = rng.choice(ranks[layer])
        rank = (
            official_title if official_title in catalog.SENIOR_RANK_POSTS else rank
        )  # a rank held as a post
        posts.append(_Post(index, _unique(title, used), official_title, layer, portfolio, rank, start))

    portfolios = rng.sample(catalog.PORTFOLIOS, len(catalog.PORTFOLIOS))
    add(local(head), local(head), Layer.HEAD, "主持全面工作")
    for m in range(members):
        portfolio = portfolios[m % len(portfolios)]
        if county and m < len(catalog.COUNTY_MEMBER_TITLES) - 1:
            title = local(catalog.COUNTY_MEMBER_TITLES[m])
            add(title, title, Layer.MEMBER, portfolio)
        else:
            add(f"{local(member)}（分管{portfolio}）", local(member), Layer.MEMBER, portfolio)
    pool = catalog.COUNTY_OTHER_TITLES if county else catalog.OTHER_POSTS
    for o in range(others):
        title = local(pool[o] if o < len(pool) else rng.choice(catalog.SENIOR_RANK_POSTS))
        add(title, title, Layer.OTHER, "")
    return posts


def _officials(ctx: Context, rng: random.Random) -> None:
    posts = _plan_posts(rng, ctx)
    people: list[_Person] = []
    for post in posts:
        gender = Gender.MALE if rng.random() < 0.78 else Gender.FEMALE
        years = BIRTH_YEARS[post.layer]
        post.official_index = len(people)
        people.append(
            _Person(
                _name(rng, gender),
                gender,
                _birth(rng, *years),
                post.unit_index,
                post.layer,
                post.rank,
                post.official_title,
                True,
            )
        )
    # Predecessors: retired people, and officials now serving elsewhere (transfers).
    retired = round(ctx.scale.officials * RETIRED_SHARE)
    n_transfer = round(len(posts) * TRANSFER_SHARE)
    chosen = rng.sample(range(len(posts)), min(len(posts), retired + n_transfer))
    retired_posts, transfer_posts = chosen[:retired], chosen[retired:]
    busy = set(chosen)
    movers = [i for i in range(len(posts)) if i not in busy]
    rng.shuffle(movers)
    history: list[tuple[int, int, date, date]] = []  # (post index, person index, start, end)
    for p in retired_posts:
        post = posts[p]
        gender = Gender.MALE if rng.random() < 0.85 else Gender.FEMALE
        end = post.start - timedelta(days=1 + rng.randrange(90))
        people.append(
            _Person(
                _name(rng, gender),
                gender,
                _birth(rng, 1956, 1964),
                post.unit_index,
                post.layer,
                post.rank,
                post.official_title,
                False,
            )
        )
        history.append((p, len(people) - 1, end - timedelta(days=rng.randint(700, 3000)), end))
    for p, mover in zip(transfer_posts, movers, strict=False):
        post, moved_to = posts[p], posts[mover]
        if moved_to.unit_index == post.unit_index:
            continue
        end = post.start - timedelta(days=1)
        # The mover took up their current post after leaving this one.
        moved_to.start = max(moved_to.start, post.start + timedelta(days=rng.randrange(60)))
        history.append((p, moved_to.official_index, end - timedelta(days=rng.randint(365, 2000)), end))

    official_pks = ctx.allocate(Official, len(people))
    unit_pk = [u.id for u in ctx.units]
    ctx.insert(
        Official,
        (
            Official(
                id=pk,
                code=f"G{n + 1:06d}",
                name=person.name,
                gender=person.gender,
                birth_date=person.birth,
                unit_id=unit_pk[person.unit_index],
                layer=person.layer,
                rank=person.rank,
                title=person.title,
                is_active=person.active,
            )
            for n, (person, pk) in enumerate(zip(people, official_pks, strict=True))
        ),
    )
    ctx.officials.extend(
        OfficialRow(pk, unit_pk[p.unit_index], p.layer, p.active)
        for p, pk in zip(people, official_pks, strict=True)
    )
    position_pks = ctx.allocate(Position, len(posts))
    ctx.insert(
        Position,
        (
            Position(
                id=pk,
                unit_id=unit_pk[post.unit_index],
                title=post.title,
                layer=post.layer,
                portfolio=post.portfolio,
            )
            for post, pk in zip(posts, position_pks, strict=True)
        ),
    )
    tenure_pks = iter(ctx.allocate(Tenure, len(posts) + len(history)))
    tenures = [
        Tenure(
            id=next(tenure_pks),
            position_id=position_pks[i],
            official_id=official_pks[post.official_index],
            start=post.start,
        )
        for i, post in enumerate(posts)
    ]
    tenures += [
        Tenure(id=next(tenure_pks), position_id=position_pks[p], official_id=official_pks[o], start=s, end=e)
        for p, o, s, e in history
    ]
    ctx.insert(Tenure, tenures)
