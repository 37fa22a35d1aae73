"""Running the engine on a cycle and storing an immutable scoring run (M11–M13)."""

from __future__ import annotations

import time
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import Max

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.results import engine_io
from jixiao.results.models import EntityResult, ResultSubject, ScoringRun
from jixiao.schemes.models import Cycle
from jixiao.scoring.bundle import FORMAT, VERSION, compute_bundle

WRITE_BATCH = 5_000


def _columns(frame: pl.DataFrame) -> dict[str, list[Any]]:
    return {name: frame.get_column(name).to_list() for name in frame.columns}


def cycle_bundle(cycle: Cycle) -> dict[str, Any]:
    """Return the self-contained cycle bundle (docs/bundle.schema.json) built from the database.

    ``jixiao export-bundle`` writes exactly this dict, and a run's input digest is its SHA-256,
    so an auditor can recompute published results from published inputs.
    """
    scheme, units, officials, facts = engine_io.load_cycle_input(cycle)
    return {
        "format": FORMAT,
        "version": VERSION,
        "cycle": {"year": cycle.year, "name": cycle.name},
        "scheme": scheme,
        "units": {"id": units.id.tolist(), "category": units.category.tolist()},
        "officials": {
            "id": officials.id.tolist(),
            "unit": officials.unit.tolist(),
            "layer": officials.layer.tolist(),
            "category": officials.category.tolist(),
        },
        "facts": {
            "indicator_results": _columns(facts.indicator_results),
            "ratings": _columns(facts.ratings),
            "votes": _columns(facts.votes),
            "adjustments": _columns(facts.adjustments),
            "previous": _columns(facts.previous),
        },
    }


def _indicator_names(bundle: dict[str, Any]) -> dict[str, str]:
    return {
        node["code"]: node.get("name", node["code"])
        for category in bundle["scheme"]["categories"]
        for node in category.get("indicators", [])
    }


def _result_rows(run: ScoringRun, out: dict[str, Any], names: dict[str, str]) -> list[EntityResult]:
    entities = out["entities"]
    components: dict[str, dict[str, float]] = {}
    comp = out["components"]
    for entity, code, score in zip(comp["entity"], comp["component"], comp["score"], strict=True):
        components.setdefault(entity, {})[code] = score
    explanations = out.get("explanations", {})
    rows: list[EntityResult] = []
    columns = ("entity", "kind", "category", "unit", "total", "rank", "grade")
    for entity, kind, category, unit, total, rank, grade in zip(*(entities[c] for c in columns), strict=True):
        prefix, pk = engine_io.parse_key(entity)
        explanation = explanations.get(entity, {})
        for indicator in explanation.get("indicators", []):
            # Names are for people; the digest covers the codes they stand for.
            indicator["name"] = names.get(indicator["indicator"], indicator["indicator"])
        rows.append(
            EntityResult(
                run=run,
                subject=ResultSubject.OFFICIAL if kind == "official" else ResultSubject.UNIT,
                unit_id=engine_io.parse_key(unit)[1] if prefix == "O" else pk,
                official_id=pk if prefix == "O" else None,
                category=category,
                total=total,
                components=components.get(entity, {}),
                rank=rank,
                grade=grade or "",
                flags=list(explanation.get("flags", [])),
                explanation=explanation,
            )
        )
    return rows


@transaction.atomic
def run_compute(*, cycle: Cycle, actor: User | None, note: str = "") -> ScoringRun:
    """Score ``cycle`` from the database and store a new run; earlier runs are never touched."""
    started = time.perf_counter()
    bundle = cycle_bundle(cycle)
    out = compute_bundle(bundle)
    # Lock the cycle row so two concurrent runs cannot take the same number.
    Cycle.objects.select_for_update().filter(pk=cycle.pk).first()
    number = (ScoringRun.objects.filter(cycle=cycle).aggregate(m=Max("number"))["m"] or 0) + 1
    run = ScoringRun.objects.create(
        cycle=cycle,
        number=number,
        engine_version=out["engine_version"],
        created_by=actor if actor is not None and actor.pk else None,
        created_by_name=actor.get_username() if actor is not None else "cli",
        input_digest=out["bundle_digest"],
        output_digest=out["results_digest"],
        parameters={
            "score_decimals": out["score_decimals"],
            "bundle_format": FORMAT,
            "bundle_version": VERSION,
        },
        note=note,
        entity_count=len(out["entities"]["entity"]),
    )
    EntityResult.objects.bulk_create(_result_rows(run, out, _indicator_names(bundle)), batch_size=WRITE_BATCH)
    run.seconds = time.perf_counter() - started
    run.save(update_fields=["seconds"])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=run,
        changes={
            "input_digest": run.input_digest,
            "output_digest": run.output_digest,
            "entities": run.entity_count,
        },
    )
    return run
