"""Attack: single out the ballot of a small rater group from a copy of the database.

    uv run python bench/attack_ballot_linkage.py [--rounds 10] [--k 5] [--flush 4]

Each round is one open evaluation event with three rater groups of 1, 2 and k voters (every
group's ``min_ballots`` is k; a group of one is e.g. the superior leader). The voters submit in
interleaved order; around every submit the counters (``pg_stat_user_tables.n_tup_ins`` of the
ballot tables, every sequence) are read; then the attacks of
``jixiao.evaluations.tests.attacks`` read the raw rows — group columns, used codes, ``xmin``,
``ctid`` — before closing and again after closing, plus a search for the small groups' opinions
in every evaluations, facts and audit row after closing. An attack *succeeds* on a group below
k when it finds its stored content or a batch of fewer than k of its ballots; on the group of k
when it finds a batch of fewer than k (a group at k is shown, so its content is not a success).

Runs in a throwaway PostgreSQL database ``<name>_attack_<pid>`` on 127.0.0.1 (created and
dropped here; DATABASE_URL, default postgres://postgres@127.0.0.1:5432/jixiao_dev). Prints
``attack X: N successes / M tries`` per group size. Bounded: rounds × (3 + k) submits.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jixiao_dev"


def _create_database() -> tuple[str, str, str]:
    import psycopg

    url = os.environ.get("DATABASE_URL", "") or DEFAULT_URL
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres") or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("this attack needs a loopback PostgreSQL (DATABASE_URL=postgres://…@127.0.0.1/…)")
    name = f"{parts.path.lstrip('/') or 'jixiao'}_attack_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), admin, name


def _round(n: int, k: int, flush: int, tally: dict[str, list[int]]) -> None:
    """One event; adds [successes, tries] per attack name and group size to ``tally``."""

    from jixiao.accounts.models import Role
    from jixiao.evaluations import ballots, services
    from jixiao.evaluations.closing import event_close
    from jixiao.evaluations.tests import attacks
    from jixiao.evaluations.tests.helpers import full_ballot, open_event
    from jixiao.organisation.models import Layer, Official, Region, Unit, UnitCategory
    from jixiao.schemes.models import Cycle, RaterGroup

    def add(name: str, size: str, hit: bool) -> None:
        entry = tally.setdefault(f"{name} | group of {size}", [0, 0])
        entry[0] += int(hit)
        entry[1] += 1

    from jixiao.accounts.models import User

    office = User.objects.create(username=f"office{n}", role=Role.OFFICE)
    cycle = Cycle.objects.create(year=2000 + n, name=f"{2000 + n}年度考核")
    sizes = {"1": 1, "2": 2, "k": k}
    for order, size in enumerate(sizes, 1):
        RaterGroup.objects.create(
            cycle=cycle, code=f"g{size}", name=f"评价主体{order}", min_ballots=k, order=order
        )
    category, _c = UnitCategory.objects.get_or_create(code="dept", defaults={"name": "政务部门"})
    region, _r = Region.objects.get_or_create(code="P", defaults={"name": "示范省"})
    unit = Unit.objects.create(code=f"U{n}", name=f"单位{n}", category=category, region=region)
    Official.objects.create(code=f"G{n}", name=f"干部{n}", unit=unit, layer=Layer.HEAD)
    event, by_code = open_event(office=office, cycle=cycle, unit=unit, flush_batch=flush)
    groups = {code[1:]: group for code, group in by_code.items()}  # "g1" → "1"
    codes = {
        s: [p.code for p in services.codes_issue(actor=office, group=groups[s], count=c)]
        for s, c in sizes.items()
    }
    for i in range(k):
        for size, group in groups.items():
            if i < len(codes[size]):
                before = attacks.counters()
                data = full_ballot(group, choice=str(i % 4), opinion=f"意见-{n}-{size}-{i}")
                ballots.ballot_submit(code=codes[size][i], data=data)
                after = attacks.counters()
                add("n_tup_ins around a submit", size, attacks.insert_counters_moved(before, after, group))
                add("sequences around a submit", size, attacks.sequences_moved(before, after))
    for moment in ("before closing", "after closing"):
        if moment == "after closing":
            event_close(actor=None, event=event)
        for size, group in groups.items():
            for name, run in attacks.STATIC_ATTACKS.items():
                add(f"{name} ({moment})", size, run(group))
            if moment == "after closing" and size != "k":
                add(
                    "answers anywhere (after closing)",
                    size,
                    attacks.answers_anywhere(group, f"意见-{n}-{size}-"),
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--k", type=int, default=5, help="min_ballots of every group (and the size of the third)"
    )
    parser.add_argument("--flush", type=int, default=4, help="the event's flush_batch")
    args = parser.parse_args()
    url, admin, name = _create_database()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        tally: dict[str, list[int]] = {}
        for n in range(args.rounds):
            _round(n, args.k, args.flush, tally)
        print(
            f"database {name}: {args.rounds} events, groups of 1, 2 and k={args.k}, flush_batch={args.flush}"
        )
        total = 0
        for key in sorted(tally):
            hits, tries = tally[key]
            total += hits
            print(f"attack {key}: {hits} successes / {tries} tries")
        print("RESULT:", "OK (no attack succeeded)" if total == 0 else f"FAILED ({total} successes)")
        connections.close_all()
    finally:
        import psycopg

        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
