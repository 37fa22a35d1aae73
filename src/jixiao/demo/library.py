"""Step ``library``: the "3+3+3" indicator library (3 basic, 3 regional per function zone,
3 per position layer), each entry with a validated scoring rule."""

from __future__ import annotations

from jixiao.demo import catalog
from jixiao.demo.pipeline import Context
from jixiao.schemes.models import LibraryEntry
from jixiao.schemes.rule_types import validate_rule_params


def run(ctx: Context) -> None:
    zone_ids = ctx.id_map("zone")
    library_ids = ctx.id_map("library")
    entries = []
    pks = ctx.allocate(LibraryEntry, len(catalog.LIBRARY))
    for (kind, code, name, description, zone, layer, rule_type, params), pk in zip(
        catalog.LIBRARY, pks, strict=True
    ):
        library_ids[code] = pk
        entries.append(
            LibraryEntry(
                id=pk,
                kind=kind,
                code=code,
                name=name,
                description=description,
                rule_type=rule_type,
                rule_params=validate_rule_params(rule_type, params, indicator=name),
                function_zone_id=zone_ids[zone] if zone else None,
                layer=layer,
            )
        )
    ctx.insert(LibraryEntry, entries)
